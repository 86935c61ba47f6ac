// SPDX-License-Identifier: GPL-3.0-or-later
/* heap_take.c - one walk of a target's heap: locate glibc, walk, say what a core lacks; the heaps' residency. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "proc.h"
#include "target.h"
#include "xalloc.h"

/* Resident bytes of each arena's heaps (pagemap), read while the process is running again. */
void heap_residency(struct target *t, const struct heap_report *r, struct heap_take *h)
{
	h->arena_rss = xcalloc(r->narenas ? r->narenas : 1, sizeof(*h->arena_rss));
	h->rss = 0;
	for (size_t i = 0; i < r->narenas; i++) {
		for (size_t j = 0; j < r->arenas[i].nheaps && h->arena_rss[i] >= 0; j++) {
			int64_t b = target_resident(t, r->arenas[i].heaps[j].start, r->arenas[i].heaps[j].end);
			h->arena_rss[i] = b < 0 ? -1 : h->arena_rss[i] + b;
		}
		h->rss = h->rss < 0 || h->arena_rss[i] < 0 ? -1 : h->rss + h->arena_rss[i];
	}
}

int heap_walk_target(struct target *t, struct sym *sym, const struct heap_take_opts *o, heap_chunk_fn fn, void *arg,
		     struct heap_report *r, struct heap_take *h, struct mlz_err *err)
{
	memset(h, 0, sizeof(*h));
	memset(r, 0, sizeof(*r));
	struct maps maps = { 0 };
	struct memsrc m = target_memsrc(t);
	int ret = target_maps(t, &maps, err);
	if (ret == 0 && o && o->where)
		glibc_where_copy(&h->where, o->where);
	else if (ret == 0)
		ret = glibc_locate(t, sym, &maps, &m, &h->where, err);
	if (ret == 0)
		ret = o && o->parts ? heap_walk_blocks(&m, &maps, &h->where, o->cancel, o->blocks, o->parts, r, err)
				    : heap_walk(&m, &maps, &h->where, o ? o->cancel : NULL, fn, arg, r, err);
	maps_release(&maps);
	struct target_facts f;
	target_facts(t, &f);
	target_facts_release(&f);
	size_t missing = f.missing_writable;
	if (missing && ((ret < 0 && err->kind != MLZ_E_INTERRUPTED) || r->nproblems)) {
		/* Say what the core lacks and how to get it next time. */
		char hint[160];
		snprintf(hint, sizeof(hint),
			 "the core lacks %zu writable mappings: coredump_filter must include bit 0 (anonymous private "
			 "memory; 0x33 is the default)", missing);
		if (ret < 0) {
			char was[300];
			snprintf(was, sizeof(was), "%.299s", err->msg);
			mlz_error(err, "%s; %s", was, hint);
		} else {
			ALLOC_GROW(r->problems, r->nproblems + 1, r->problems_alloc);
			r->problems[r->nproblems] = (struct heap_problem){ 0 };
			memcpy(r->problems[r->nproblems++].what, hint, sizeof(hint));
		}
	}
	return ret;
}

void heap_take_release(struct heap_take *h)
{
	glibc_where_release(&h->where);
	free(h->arena_rss);
	memset(h, 0, sizeof(*h));
}
