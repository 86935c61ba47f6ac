// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * session_take.c - the analyses that hold the process still: a heap walk, and
 * the reference graph, kept while the live set has not changed since.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph.h"
#include "heap.h"
#include "session.h"
#include "sym.h"
#include "target.h"
#include "types.h"
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
	struct graph_take_opts o = { si.areas, si.nareas, session_cancel(s) };
	session_prepare_walk(s);
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	int ret = session_pause_image(s, err);
	if (ret == 0) {
		ret = graph_take(s->target, s->sym, &o, s->graph, err);
		/* typed while still stopped: the pointer fields read are the ones the graph saw */
		if (ret == 0) {
			s->types = types_new(s->sym);
			if (types_infer(s->types, s->graph, s->target, o.cancel, err) < 0) {
				graph_release(s->graph);
				ret = -1;
			}
		}
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
