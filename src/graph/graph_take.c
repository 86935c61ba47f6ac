// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * graph_take.c - the graph of a process held still, or of a core: its live blocks from a
 * heap walk, and its roots: every thread's registers, its stack from the
 * stack pointer less the red zone to the end of the stack mapping, the main
 * thread's TLS mapping, every module's writable data less glibc's own
 * malloc state (main_arena, mp_), which is not a root, and every other
 * anonymous writable mapping that holds no heap.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/user.h>

#include "clock.h"
#include "graph.h"
#include "parts.h"
#include "heap.h"
#include "target.h"
#include "xalloc.h"

#define RED_ZONE 128

struct blocks {
	uint64_t *addr;
	uint32_t *size;
	size_t n, alloc;
	uint64_t (*mmapped)[2]; /* the extents of mmapped chunks, in address order */
	size_t nmmapped, mmapped_alloc;
};

static void collect(void *arg, uint64_t chunk, uint64_t size, enum chunk_kind kind, size_t arena)
{
	(void)arena;
	struct blocks *b = arg;
	if (kind != CK_INUSE && kind != CK_MMAPPED)
		return;
	if (b->n == b->alloc) {
		b->alloc = b->alloc ? b->alloc * 2 : 4096;
		b->addr = xrealloc(b->addr, b->alloc * sizeof(*b->addr));
		b->size = xrealloc(b->size, b->alloc * sizeof(*b->size));
	}
	b->addr[b->n] = chunk + 16;
	uint64_t usable = chunk_usable(size, kind);
	b->size[b->n++] = usable > UINT32_MAX ? UINT32_MAX : (uint32_t)usable; /* a block of 4 GiB+ is scanned in part */
	if (kind == CK_MMAPPED) {
		ALLOC_GROW(b->mmapped, b->nmmapped + 1, b->mmapped_alloc);
		b->mmapped[b->nmmapped][0] = chunk;
		b->mmapped[b->nmmapped++][1] = chunk + size;
	}
}

/* The parts' blocks one after the other: the heap in address order, in parts[0]. */
static void join_blocks(struct blocks *parts)
{
	struct blocks *b = &parts[0];
	for (size_t k = 1; k < PARTS_MAX; k++) {
		struct blocks *p = &parts[k];
		if (p->n) {
			b->addr = xrealloc(b->addr, (b->n + p->n) * sizeof(*b->addr));
			b->size = xrealloc(b->size, (b->n + p->n) * sizeof(*b->size));
			memcpy(b->addr + b->n, p->addr, p->n * sizeof(*b->addr));
			memcpy(b->size + b->n, p->size, p->n * sizeof(*b->size));
			b->n += p->n;
			b->alloc = b->n;
		}
		if (p->nmmapped) {
			ALLOC_GROW(b->mmapped, b->nmmapped + p->nmmapped, b->mmapped_alloc);
			memcpy(b->mmapped + b->nmmapped, p->mmapped, p->nmmapped * sizeof(*b->mmapped));
			b->nmmapped += p->nmmapped;
		}
		free(p->addr);
		free(p->size);
		free(p->mmapped);
	}
}

/* The chunks the free lists name (fastbin and tcache chunks look in use to the walk) leave the blocks. */
static void drop_listed(struct blocks *b, const struct heap_report *rep)
{
	size_t out = 0, l = 0;
	for (size_t i = 0; i < b->n; i++) {
		uint64_t chunk = b->addr[i] - 16;
		while (l < rep->nlisted && rep->listed[l] < chunk)
			l++;
		if (l < rep->nlisted && rep->listed[l] == chunk)
			continue;
		b->addr[out] = b->addr[i];
		b->size[out++] = b->size[i];
	}
	b->n = out;
}

struct ranges {
	struct root_range *v;
	size_t n, alloc;
};

/* Add [lo, hi) less the holes (sorted, disjoint) that fall in it. */
static void add_range(struct ranges *r, uint64_t lo, uint64_t hi, enum root_kind kind, int thread,
		      const uint64_t (*holes)[2], size_t nholes)
{
	for (size_t h = 0; h < nholes && lo < hi; h++) {
		if (holes[h][1] <= lo || holes[h][0] >= hi)
			continue;
		if (holes[h][0] > lo) {
			ALLOC_GROW(r->v, r->n + 1, r->alloc);
			r->v[r->n++] = (struct root_range){ lo, holes[h][0], kind, thread };
		}
		lo = holes[h][1];
	}
	if (lo < hi) {
		ALLOC_GROW(r->v, r->n + 1, r->alloc);
		r->v[r->n++] = (struct root_range){ lo, hi, kind, thread };
	}
}

static void module_data(const struct maps *m, const uint64_t (*holes)[2], size_t nholes, struct ranges *r)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct map_entry *e = &m->v[i];
		if (e->path[0] != '/' || e->perms[0] != 'r' || e->perms[1] != 'w')
			continue;
		add_range(r, e->start, e->end, ROOT_DATA, -1, holes, nholes);
		/* the module's .bss continues in the anonymous mapping right after its data */
		if (i + 1 < m->n && !m->v[i + 1].path[0] && m->v[i + 1].start == e->end && m->v[i + 1].perms[1] == 'w')
			add_range(r, m->v[i + 1].start, m->v[i + 1].end, ROOT_DATA, -1, holes, nholes);
	}
}

static bool overlaps(uint64_t lo, uint64_t hi, uint64_t a, uint64_t b)
{
	return lo < b && a < hi;
}

static int by_start(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/*
 * What root ranges leave out: glibc's malloc state (main_arena and mp_ in
 * libc's data), and what an anonymous root mapping may share with memory that
 * is not a root, since the kernel merges adjacent anonymous mappings: the
 * arenas' heaps, mmapped chunks (blocks, scanned as blocks) and mlyze's
 * scratch areas. Sorted by address.
 */
static uint64_t (*root_holes(const struct graph_take_opts *o, const struct blocks *b, const struct heap_report *rep,
			     const struct glibc_where *w, size_t *n))[2]
{
	uint64_t (*holes)[2] = NULL;
	size_t nholes = 0, halloc = 0;
	ALLOC_GROW(holes, 2, halloc);
	nholes = glibc_state_ranges(w, holes);
	for (size_t a = 0; a < rep->narenas; a++)
		for (size_t h = 0; h < rep->arenas[a].nheaps; h++) {
			ALLOC_GROW(holes, nholes + 1, halloc);
			holes[nholes][0] = rep->arenas[a].heaps[h].start;
			holes[nholes++][1] = rep->arenas[a].heaps[h].end;
		}
	for (size_t i = 0; i < b->nmmapped; i++) {
		ALLOC_GROW(holes, nholes + 1, halloc);
		memcpy(holes[nholes++], b->mmapped[i], sizeof(holes[0]));
	}
	for (size_t i = 0; i < o->nskip; i++) {
		ALLOC_GROW(holes, nholes + 1, halloc);
		memcpy(holes[nholes++], o->skip[i], sizeof(holes[0]));
	}
	if (nholes > 1)
		qsort(holes, nholes, sizeof(*holes), by_start);
	*n = nholes;
	return holes;
}

struct anon_scan {
	struct ranges *r;
	const uint64_t (*holes)[2];
	size_t nholes;
};

static void add_data_run(void *arg, uint64_t lo, uint64_t hi)
{
	struct anon_scan *a = arg;
	add_range(a->r, lo, hi, ROOT_MAPPING, -1, a->holes, a->nholes);
}

/*
 * The anonymous writable mappings no other root covers, as memcheck scans all
 * of a client's memory: a program's own mmap'd pools keep blocks alive, and so
 * does glibc's cache of exited threads' stacks (their thread control blocks).
 * Less the holes; a mapping that holds a thread's stack is left out whole
 * (below the stack pointer is dead). Live, only pages that hold data are read:
 * a large sparse reservation costs neither time nor the process's page tables.
 */
static void anon_mappings(struct target *t, const struct maps *m, const uint64_t (*holes)[2], size_t nholes,
			  struct ranges *r, struct cancel *cancel)
{
	size_t nfixed = r->n;
	struct anon_scan as = { r, holes, nholes };
	for (size_t i = 0; i < m->n && !cancel_poll(cancel, 64); i++) { /* 64: a mapping's pagemap is a read */
		const struct map_entry *e = &m->v[i];
		if (e->path[0] || e->perms[0] != 'r' || e->perms[1] != 'w')
			continue;
		bool skip = false;
		for (size_t k = 0; k < nfixed && !skip; k++)
			skip = overlaps(e->start, e->end, r->v[k].lo, r->v[k].hi);
		if (skip)
			continue;
		if (target_data_runs(t, e->start, e->end, add_data_run, &as) < 0)
			add_range(r, e->start, e->end, ROOT_MAPPING, -1, holes, nholes);
	}
}

/*
 * Every root range cut to the mappings it lies in, and split where it crosses
 * unmapped space, so graph_build's scan, which ends a range at its first
 * unreadable byte, goes on at the next mapping in one step. Maps are sorted by
 * start; where a damaged core's mappings overlap, the first one wins, so no
 * byte is scanned twice.
 */
static void clamp_to_maps(struct ranges *r, const struct maps *m)
{
	struct ranges out = { 0 };
	for (size_t i = 0; i < r->n; i++) {
		uint64_t at = r->v[i].lo, hi = r->v[i].hi;
		for (size_t k = 0; k < m->n && m->v[k].start < hi && at < hi; k++) {
			if (m->v[k].end <= at)
				continue;
			uint64_t lo = m->v[k].start > at ? m->v[k].start : at;
			uint64_t end = m->v[k].end < hi ? m->v[k].end : hi;
			ALLOC_GROW(out.v, out.n + 1, out.alloc);
			out.v[out.n] = r->v[i];
			out.v[out.n].lo = lo;
			out.v[out.n++].hi = end;
			at = end;
		}
	}
	free(r->v);
	*r = out;
}

/* One of the two jobs after the build: the classes on a helper thread, the caller's work on this one. */
struct job {
	struct graph *g;
	const struct graph_take_opts *o;
	struct cancel own;  /* the helper's: it reads halt, set when this thread's cancel says stop */
	int *halt, ret;
	double ms;
};

static bool halted(void *arg)
{
	return parts_stop(NULL, arg, 0);
}

static void job(void *arg)
{
	struct job *j = arg;
	if (j->own.check) { /* the helper: the classes */
		double t0 = mono_ms();
		j->ret = graph_classify(j->g, &j->own);
		j->ms = mono_ms() - t0;
		return;
	}
	j->ret = j->o->beside(j->o->beside_arg, j->g);
	if (j->ret < 0)
		__atomic_store_n(j->halt, 1, __ATOMIC_RELAXED);
}

/*
 * memcheck's classes, and beside them (o->beside) the caller's work, on two
 * threads (on one processor they take turns): they share only the graph's
 * blocks and edges, which neither writes.
 */
static int classify(struct graph *g, const struct graph_take_opts *o, struct mlz_err *err)
{
	int r;
	double t0 = mono_ms();
	if (!o->beside) {
		r = graph_classify(g, o->cancel);
		g->classify_ms = mono_ms() - t0;
	} else {
		/* the classes take as long as the graph is large: parts_run asks cancel meanwhile */
		int halt = 0;
		struct job jobs[2] = { { g, o, { 0 }, &halt, 0, 0 }, { g, o, { halted, &halt, 0, 0, false }, &halt, 0, 0 } };
		parts_run(job, jobs, sizeof(*jobs), 2, o->cancel, &halt);
		g->classify_ms = jobs[1].ms;
		r = jobs[0].ret < 0 ? -2 : jobs[1].ret < 0 || cancelled(o->cancel) ? -1 : 0;
	}
	if (r == 0)
		return 0;
	graph_release(g);
	return r == -2 ? -1 : cancel_error(err); /* the caller's work said why it failed */
}

int graph_take(struct target *t, struct sym *sym, const struct graph_take_opts *o, struct graph *g,
	       struct mlz_err *err)
{
	struct blocks parts[PARTS_MAX] = { { 0 } }, b;
	void *args[PARTS_MAX];
	for (size_t k = 0; k < PARTS_MAX; k++)
		args[k] = &parts[k];
	struct heap_report rep;
	struct heap_take h;
	struct maps maps = { 0 };
	struct ranges r = { 0 };
	struct root_reg *regs = NULL;
	size_t nregs = 0;
	struct memsrc m = target_memsrc(t);
	/* the chunks first, in parts, the free lists after: what they name is dropped below */
	struct heap_take_opts ho = { o->cancel, o->where, args };
	double t0 = mono_ms(), t1 = 0, t2 = 0, t3 = 0;
	int ret = heap_walk_target(t, sym, &ho, collect, NULL, &rep, &h, err);
	join_blocks(parts);
	b = parts[0];
	if (ret == 0)
		drop_listed(&b, &rep);
	t1 = mono_ms();
	if (ret == 0)
		ret = target_maps(t, &maps, err);
	if (ret == 0) {
		size_t nholes;
		uint64_t (*holes)[2] = root_holes(o, &b, &rep, &h.where, &nholes);
		module_data(&maps, (const uint64_t(*)[2])holes, nholes, &r);
		regs = xcalloc(t->nthreads * (sizeof(struct user_regs_struct) / 8) + 1, sizeof(*regs));
		for (size_t i = 0; i < t->nthreads; i++) {
			struct user_regs_struct ur;
			struct mlz_err ignored;
			if (target_regs(t, t->threads[i].tid, &ur, &ignored) < 0)
				continue;
			const uint64_t *w = (const uint64_t *)&ur;
			for (size_t k = 0; k < sizeof(ur) / 8; k++)
				regs[nregs++] = (struct root_reg){ w[k], (int)i, (int)k };
			const struct map_entry *st = maps_find(&maps, ur.rsp - RED_ZONE);
			if (st)
				add_range(&r, ur.rsp - RED_ZONE, st->end, ROOT_STACK, (int)i, NULL, 0);
			/* A thread's TLS lies at the top of its stack mapping; the main thread's is a mapping of its own. */
			const struct map_entry *tls = maps_find(&maps, ur.fs_base);
			if (tls && tls != st && !tls->path[0])
				add_range(&r, tls->start, tls->end, ROOT_TLS, (int)i, (const uint64_t(*)[2])holes, nholes);
		}
		anon_mappings(t, &maps, (const uint64_t(*)[2])holes, nholes, &r, o->cancel);
		free(holes);
		clamp_to_maps(&r, &maps);
		/* exact sizes before the graph takes the arrays over: they stay for its life */
		if (b.n) {
			b.addr = xrealloc(b.addr, b.n * sizeof(*b.addr));
			b.size = xrealloc(b.size, b.n * sizeof(*b.size));
		}
		/* a C++ object's first word points into its vtable, in a module's file mapping: kept for typing */
		uint64_t(*files)[2] = xmalloc((maps.n ? maps.n : 1) * sizeof(*files));
		size_t nfiles = 0;
		for (size_t k = 0; k < maps.n; k++) {
			/* a file's mapping (a core's NT_FILE has no inode numbers), not [heap] or [stack] */
			if (!maps.v[k].path || maps.v[k].path[0] != '/')
				continue;
			if (nfiles && files[nfiles - 1][1] == maps.v[k].start)
				files[nfiles - 1][1] = maps.v[k].end;
			else
				files[nfiles][0] = maps.v[k].start, files[nfiles++][1] = maps.v[k].end;
		}
		struct graph_input in = { &m, b.addr, b.size, b.n, r.v, r.n, regs, nregs, o->cancel,
					  (const uint64_t(*)[2])files, nfiles };
		t2 = mono_ms();
		ret = graph_build(g, &in, err);
		free(files);
		b.addr = NULL;
		b.size = NULL;
		t3 = mono_ms();
		if (ret == 0)
			ret = classify(g, o, err);
	}
	if (ret == 0) {
		g->walk_ms = t1 - t0;
		g->walk_parts = rep.parts;
		g->roots_ms = t2 - t1;
		g->scan_ms = t3 - t2;
	}
	heap_report_release(&rep);
	heap_take_release(&h);
	maps_release(&maps);
	free(r.v);
	free(regs);
	free(b.addr);
	free(b.size);
	free(b.mmapped);
	return ret;
}
