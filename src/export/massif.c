// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * massif.c - the session's timeline in valgrind massif's out format, for
 * ms_print and massif-visualizer: one massif snapshot per snapshot and mark,
 * and the live set's peak. A snapshot's heap tree lists its traced blocks by
 * allocation site and callers (massif's "detailed"), the peak's too ("peak");
 * a mark keeps no per-stack figures, so its tree is "empty".
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "strbuf.h"

/*
 * ms_print reads a line up to a '#' as a comment and a newline as the end of
 * a node: neither may be in a name.
 */
static void add_plain(struct strbuf *sb, const char *s)
{
	for (const char *p = s; *p; p++)
		strbuf_addch(sb, *p == '#' || (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
}

static void add_node(struct strbuf *out, const struct ftree *t, uint32_t i, int depth)
{
	uint32_t *kids;
	size_t nk = ftree_children(t, i, FTREE_BY_B, &kids);
	const struct ftree_node *n = &t->v[i];
	strbuf_addf(out, "%*sn%zu: %" PRId64, depth, "", nk, n->b);
	if (i == 0) {
		strbuf_addstr(out, " (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n");
	} else {
		strbuf_addf(out, " 0x%" PRIx64 ": ", n->pc);
		add_plain(out, n->name);
		strbuf_addstr(out, " (");
		add_plain(out, n->loc ? n->loc : "no line information");
		strbuf_addstr(out, ")\n");
	}
	for (size_t k = 0; k < nk; k++)
		add_node(out, t, kids[k], depth + 1);
	free(kids);
}

static void add_snapshot(struct strbuf *out, size_t num, const struct export_timeline *in, uint32_t tick,
			 int64_t bytes, const struct by_stack *by, const char *kind)
{
	strbuf_addf(out, "#-----------\nsnapshot=%zu\n#-----------\n", num);
	strbuf_addf(out, "time=%" PRIu64 "\nmem_heap_B=%" PRId64 "\nmem_heap_extra_B=0\nmem_stacks_B=0\n",
		    (uint64_t)tick * in->tick_ms, bytes);
	if (!by) {
		strbuf_addstr(out, "heap_tree=empty\n");
		return;
	}
	strbuf_addf(out, "heap_tree=%s\n", kind);
	struct export_set set = { in->sym, in->stacks, NULL, by, NULL };
	struct ftree_opts o = { .by_pc = true, .traced_only = true };
	struct ftree t;
	ftree_build(&set, &o, &t);
	add_node(out, &t, 0, 0);
	ftree_release(&t);
}

int export_massif(const struct export_timeline *in, struct strbuf *out, size_t *records)
{
	strbuf_addstr(out, "desc: ");
	add_plain(out, in->desc ? in->desc : "mlyze");
	strbuf_addstr(out, "\ncmd: ");
	add_plain(out, in->cmd ? in->cmd : "?");
	strbuf_addstr(out, "\ntime_unit: ms\n");
	size_t num = 0;
	bool peak_done = !in->peak;
	for (size_t i = 0; i <= in->n; i++) {
		/* the peak goes after the moments of its tick or before: it was reached by then */
		if (!peak_done && (i == in->n || in->points[i].tick > in->peak_tick)) {
			add_snapshot(out, num++, in, in->peak_tick, (int64_t)in->peak_bytes, in->peak, "peak");
			peak_done = true;
		}
		if (i == in->n)
			break;
		const struct tl_point *p = &in->points[i];
		add_snapshot(out, num++, in, p->tick, (int64_t)p->traced_bytes, p->by, "detailed");
	}
	*records = num;
	return 0;
}
