/* SPDX-License-Identifier: GPL-3.0-or-later */
/* memsrc.h - where a process image's bytes come from: a live process or a core file, read alike. */
#ifndef MLZ_MEMSRC_H
#define MLZ_MEMSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ranges.h"

/*
 * The heap walker and its locators read memory only through this, so they run
 * the same on a live process, a core file and (for fuzzing) a bare buffer.
 * read returns the bytes read (short at an unmapped page) or -1. runs, when
 * there is one, calls fn for each run of pages in [lo, hi) that may hold
 * data (present or swapped out) and returns 0, or -1 when it cannot tell:
 * a search of a sparse mapping then reads none of the pages that were never
 * touched (reading one makes some kernels give the process a page for it).
 */
struct memsrc {
	ssize_t (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	void *ctx;
	int (*runs)(void *ctx, uint64_t lo, uint64_t hi, void (*fn)(void *arg, uint64_t lo, uint64_t hi), void *arg);
};

/*
 * Into r (emptied first): the runs of [lo, hi) that may hold data, or
 * [lo, hi) whole when m cannot tell.
 */
static inline void mem_runs(const struct memsrc *m, uint64_t lo, uint64_t hi, struct range_list *r)
{
	r->n = 0;
	if (!m->runs || m->runs(m->ctx, lo, hi, range_list_add, r) < 0) {
		r->n = 0;
		range_list_add(r, lo, hi);
	}
}

static inline bool mem_read(const struct memsrc *m, uint64_t addr, void *buf, size_t len)
{
	return m->read(m->ctx, addr, buf, len) == (ssize_t)len;
}

static inline bool mem_word(const struct memsrc *m, uint64_t addr, uint64_t *val)
{
	return mem_read(m, addr, val, 8);
}

#endif
