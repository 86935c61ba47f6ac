// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * session_take.c - the analyses that hold the process still: a heap walk, and
 * the reference graph, kept while the live set has not changed since.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blocks.h"
#include "graph.h"
#include "group.h"
#include "heap.h"
#include "session.h"
#include "sym.h"
#include "target.h"
#include "types.h"
#include "u64map.h"
#include "xalloc.h"

void session_prepare_walk(struct session *s)
{
	struct mlz_err ignored;
	struct sym *sym = session_sym(s, &ignored);
	if (sym)
		glibc_prepare(sym);
}

int session_heap(struct session *s, heap_chunk_fn fn, void *arg, struct heap_report *r, struct heap_take *h,
		 struct mlz_err *err)
{
	session_prepare_walk(s);
	if (session_pause_image(s, err) < 0) {
		memset(r, 0, sizeof(*r));
		*h = (struct heap_take){ .rss = -1 };
		return -1;
	}
	struct heap_take_opts o = { session_cancel(s) };
	int ret = heap_walk_target(s->target, s->sym, &o, fn, arg, r, h, err);
	struct mlz_err e2;
	if (session_unpause(s, &h->stopped_ms, ret < 0 ? &e2 : err) < 0)
		ret = -1;
	if (ret == 0)
		heap_residency(s->target, r, h); /* -1 where unknown: a core has no residency */
	else
		h->rss = -1;
	return ret;
}

/* For typing by allocation site: the live set's stacks, each one's return address memoized. */
struct site_ctx {
	struct session *s;
	const struct graph *g;
	struct u64map by_stack; /* stack id -> return address into the allocator's caller (0: none) */
};

static bool take_ret(void *arg, const struct sym_pc *r, const struct sym_frame *f)
{
	(void)f;
	*(uint64_t *)arg = r->caller ? r->pc : 0;
	return false;
}

/* The return address into the function that called the allocator for block i, 0 when untraced. */
static uint64_t block_ret(void *arg, uint32_t i)
{
	struct site_ctx *c = arg;
	const struct block *b = c->s->live.blocks.n ? blocktab_get(&c->s->live.blocks, c->g->addr[i]) : NULL;
	uint64_t ret = 0;
	if (!b)
		return 0;
	if (!u64map_get(&c->by_stack, b->stack, &ret)) {
		/* the first frame outside the allocator, as a site is chosen (the alloc-fn list too) */
		stack_site_frames(c->s->sym, &c->s->live.stacks, b->stack, &c->s->keys.alloc_fns, take_ret, &ret);
		u64map_put(&c->by_stack, b->stack, ret);
	}
	return ret;
}

/* The blocks typed while the graph's classes are made beside (graph_take_opts.beside). */
struct typing {
	struct session *s;
	struct cancel *cancel;
	struct mlz_err *err;
};

static int type_blocks(void *arg, struct graph *g)
{
	struct typing *ty = arg;
	struct session *s = ty->s;
	struct site_ctx sc = { s, g };
	struct types_sites sites = { block_ret, &sc };
	s->types = types_new(s->sym);
	/* no traced block, no site to ask: not even a pass over the untyped */
	const struct types_sites *sp = s->live.blocks.n ? &sites : NULL;
	int r = types_infer(s->types, g, s->target, sp, ty->cancel, ty->err);
	u64map_release(&sc.by_stack);
	return r;
}

struct graph *session_graph(struct session *s, struct mlz_err *err)
{
	struct source_info si;
	liveset_sync(&s->live);
	liveset_source_info(&s->live, &si);
	/* A core never changes; a process's graph holds while no block came or went (and it was traced). */
	bool holds = s->graph && (!target_is_process(s->target) || (si.active && s->live.changes == s->graph_changes));
	s->graph_reused = holds;
	if (holds)
		return s->graph;
	if (s->graph)
		graph_release(s->graph);
	else
		s->graph = xcalloc(1, sizeof(*s->graph));
	types_free(s->types);
	s->types = NULL;
	struct typing ty = { s, session_cancel(s), err };
	/* typed while still stopped (the pointer fields read are the ones the graph saw), beside the classes */
	struct graph_take_opts o = { si.areas, si.nareas, ty.cancel, NULL, type_blocks, &ty };
	session_prepare_walk(s);
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	int ret = session_pause_image(s, err);
	if (ret == 0) {
		ret = graph_take(s->target, s->sym, &o, s->graph, err);
		struct mlz_err e2;
		if (session_unpause(s, &s->graph->stopped_ms, ret < 0 ? &e2 : err) < 0)
			ret = -1;
	}
	if (ret < 0) {
		free(s->graph);
		s->graph = NULL;
		types_free(s->types);
		s->types = NULL;
		return NULL;
	}
	s->graph_changes = s->live.changes;
	s->graph_wall = wall.tv_sec + wall.tv_nsec / 1e9;
	return s->graph;
}

void session_graph_forget(struct session *s)
{
	if (!s->graph)
		return;
	graph_release(s->graph);
	free(s->graph);
	s->graph = NULL;
}

struct types *session_types(struct session *s, struct mlz_err *err)
{
	return session_graph(s, err) ? s->types : NULL;
}
