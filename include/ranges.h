/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ranges.h - address ranges as uint64_t[2] pairs, [lo, hi): their order for qsort, a list to collect them in. */
#ifndef MLZ_RANGES_H
#define MLZ_RANGES_H

#include <stddef.h>
#include <stdint.h>

#include "xalloc.h"

/* qsort's comparison of two ranges (uint64_t[2]) by their start. */
static inline int range_by_start(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Ranges collected in order, as a walk over pages (target_data_runs) reports them. */
struct range_list {
	uint64_t (*v)[2];
	size_t n, alloc;
};

/* Append [lo, hi) to the range_list arg: target_data_runs's callback. */
static inline void range_list_add(void *arg, uint64_t lo, uint64_t hi)
{
	struct range_list *r = arg;
	ALLOC_GROW(r->v, r->n + 1, r->alloc);
	r->v[r->n][0] = lo;
	r->v[r->n++][1] = hi;
}

#endif
