// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * live-set.c - the live set as snapshots and 'now' see it: the traced blocks,
 * and the blocks only a heap walk finds (allocated before attach, or with
 * tracing off), taken at one moment with every thread stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grouping.h"
#include "heap.h"
#include "session.h"
#include "snapshot.h"
#include "target.h"
#include "liveset.h"
#include "xalloc.h"

struct collect {
	const struct blocktab *traced;
	struct untraced *u;
};

static void collect_untraced(void *arg, uint64_t chunk, uint64_t size, enum chunk_kind kind, size_t arena)
{
	(void)arena;
	struct collect *c = arg;
	if (kind != CK_INUSE && kind != CK_MMAPPED)
		return;
	uint64_t addr = chunk + 16;
	if (c->traced && c->traced->n && blocktab_get(c->traced, addr))
		return;
	uint64_t units = size >> 4;
	if (units >= WBLOCK_MMAPPED)
		units = WBLOCK_MMAPPED - 1; /* 32 GiB and more: clamped */
	untraced_push(c->u, addr, (uint32_t)units | (kind == CK_MMAPPED ? WBLOCK_MMAPPED : 0));
}

int live_set_take(struct session *s, struct untraced *u, void (*take)(void *arg), void *arg, struct mlz_err *err)
{
	memset(u, 0, sizeof(*u));
	/*
	 * Under byte sampling the estimates stand for every block allocated since
	 * attach; a walk cannot tell the unsampled ones from those allocated
	 * before, so its untraced blocks would count them twice.
	 */
	if (liveset_estimated(&s->live)) {
		snprintf(u->note, sizeof(u->note), "byte sampling: blocks from before attach are not told apart from "
			 "unsampled ones, so only the estimates are shown");
		liveset_sync(&s->live);
		take(arg);
		return 0;
	}
	if (!target_readable(s->target)) {
		snprintf(u->note, sizeof(u->note), "the process has ended: only traced blocks are known");
		take(arg);
		return 0;
	}
	session_prepare_walk(s);
	if (session_pause_image(s, err) < 0)
		return -1;
	struct heap_report r;
	struct heap_take h;
	struct mlz_err werr = { 0 };
	struct collect c = { &s->live.blocks, u };
	struct heap_take_opts o = { session_cancel(s) };
	if (heap_walk_target(s->target, s->sym, &o, collect_untraced, &c, &r, &h, &werr) < 0) {
		if (werr.kind == MLZ_E_INTERRUPTED) { /* the user ended the command, not just the walk */
			heap_report_release(&r);
			heap_take_release(&h);
			untraced_release(u);
			struct mlz_err e2;
			session_unpause(s, NULL, &e2);
			*err = werr;
			return -1;
		}
		u->n = 0;
		untraced_trim(u);
		snprintf(u->note, sizeof(u->note), "%s", werr.msg);
	} else {
		u->walked = true;
		u->heap = (struct heap_use){ true, r.mi.uordblks + r.mi.hblkhd, r.mi.fordblks, r.mi.hblkhd };
		if (r.nproblems)
			snprintf(u->note, sizeof(u->note), "the heap walk stopped early: %s at 0x%llx", r.problems[0].what,
				 (unsigned long long)r.problems[0].addr);
	}
	take(arg);
	heap_report_release(&r);
	heap_take_release(&h);
	int ret = session_unpause(s, &u->stopped_ms, err);
	untraced_trim(u); /* 12 bytes per block from here on */
	return ret;
}
