/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ranges.h - address ranges as uint64_t[2] pairs, [lo, hi): their order for qsort. */
#ifndef MLZ_RANGES_H
#define MLZ_RANGES_H

#include <stdint.h>

/* qsort's comparison of two ranges (uint64_t[2]) by their start. */
static inline int range_by_start(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

#endif
