// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * live-set.c - the live set as snapshots and 'now' see it: the traced blocks,
 * and the blocks only a heap walk finds (allocated before attach, or with
 * tracing off), taken at one moment with every thread stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "grouping.h"
#include "heap.h"
#include "session.h"
#include "snapshot.h"
#include "target.h"
#include "tracer.h"
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
	if (!target_readable(s->target)) {
		snprintf(u->note, sizeof(u->note), "the process has ended: only traced blocks are known");
		take(arg);
		return 0;
	}
	glibc_prepare(s);
	double t0 = mono_ms();
	if (session_stop(s, err) < 0)
		return -1;
	if (s->tracer)
		tracer_drain(s->tracer); /* so every block allocated by now counts as traced */
	struct heap_report r;
	struct heap_take h;
	struct mlz_err werr = { 0 };
	struct collect c = { s->tracer ? &s->tracer->blocks : NULL, u };
	if (heap_walk_stopped(s, collect_untraced, &c, &r, &h, &werr) < 0) {
		u->n = 0;
		untraced_trim(u);
		snprintf(u->note, sizeof(u->note), "%s", werr.msg);
	} else {
		u->walked = true;
		if (r.nproblems)
			snprintf(u->note, sizeof(u->note), "the heap walk stopped early: %s at 0x%llx", r.problems[0].what,
				 (unsigned long long)r.problems[0].addr);
	}
	/* the time so far, for the snapshot; resuming adds the same few microseconds to every take */
	u->stopped_ms = mono_ms() - t0;
	take(arg);
	heap_report_release(&r);
	heap_take_release(&h);
	int ret = session_resume(s, err);
	untraced_trim(u); /* 12 bytes per block from here on */
	return ret;
}
