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
#include "heap.h"
#include "parts.h"
#include "ranges.h"
#include "target.h"
#include "xalloc.h"

#define RED_ZONE 128

/* What every part's walk shares: where blocks lie (coded words need it) and where first words are kept. */
struct walk_scan {
	struct gspace space;
	bool coded;                  /* space made: the walk scans the blocks it holds */
	const uint64_t (*first_in)[2];
	size_t nfirst_in;
};

/* A part's blocks, as its walk met them; with the walk's scan, their coded words. */
struct blocks {
	struct walk_scan *ws;
	uint64_t *addr;
	uint32_t *size;
	uint32_t *cand_off;          /* block i's codes start at cand[cand_off[i]] */
	size_t n, alloc;
	uint32_t *cand;
	size_t ncand, cand_alloc;
	bool first_pending;          /* the last block's first word is in the next window more gives */
	struct gfirst *firsts;
	size_t nfirsts, firsts_alloc;
	uint64_t words;
	uint64_t (*mmapped)[2]; /* the extents of mmapped chunks, in address order */
	size_t nmmapped, mmapped_alloc;
};

/* Coded only where the spans fit a code: else graph_build reads every block, and the walk hands none. */
static bool spans(void *arg, const uint64_t (*v)[2], size_t n)
{
	struct blocks *b = arg;
	b->ws->coded = gspace_init(&b->ws->space, v, n);
	return b->ws->coded;
}

/* Block i's first word, at bytes, kept when it points into a file's mapping (a C++ object's vtable). */
static void first_word(struct blocks *b, uint32_t i, const uint8_t *bytes)
{
	uint64_t v;
	memcpy(&v, bytes, 8);
	if (!graph_ranges_hold(b->ws->first_in, b->ws->nfirst_in, v))
		return;
	ALLOC_GROW(b->firsts, b->nfirsts + 1, b->firsts_alloc);
	b->firsts[b->nfirsts++] = (struct gfirst){ i, v };
}

/* The words of bytes[0, len) that may point into a block, coded after the part's codes. */
static void code(struct blocks *b, const uint8_t *bytes, uint64_t len)
{
	ALLOC_GROW(b->cand, b->ncand + len / 8, b->cand_alloc);
	b->ncand += gspace_scan(&b->ws->space, bytes, len, b->cand + b->ncand);
	b->words += len / 8;
}

static void collect(void *arg, uint64_t chunk, uint64_t size, enum chunk_kind kind, const uint8_t *bytes)
{
	struct blocks *b = arg;
	if (b->n == b->alloc) {
		b->alloc = b->alloc ? b->alloc * 2 : 4096;
		b->addr = xrealloc(b->addr, b->alloc * sizeof(*b->addr));
		b->size = xrealloc(b->size, b->alloc * sizeof(*b->size));
		if (b->ws->coded)
			b->cand_off = xrealloc(b->cand_off, (b->alloc + 1) * sizeof(*b->cand_off));
	}
	uint32_t i = (uint32_t)b->n;
	b->addr[b->n] = chunk + 16;
	uint64_t usable = chunk_usable(size, kind);
	/* a block of 4 GiB+ is kept as 4 GiB less 8 (a multiple of 8, as gspace's codes need): a pointer past that is not its */
	b->size[b->n++] = usable > UINT32_MAX ? UINT32_MAX & ~7u : (uint32_t)usable;
	if (kind == CK_MMAPPED) {
		ALLOC_GROW(b->mmapped, b->nmmapped + 1, b->mmapped_alloc);
		b->mmapped[b->nmmapped][0] = chunk;
		b->mmapped[b->nmmapped++][1] = chunk + size;
	}
	if (!b->ws->coded)
		return;
	b->cand_off[i] = (uint32_t)b->ncand;
	b->first_pending = !bytes; /* its bytes follow, a window at a time (more) */
	if (!bytes)
		return;
	uint64_t len = b->size[i] & ~7ull;
	code(b, bytes, len);
	if (b->ws->nfirst_in && len)
		first_word(b, i, bytes);
}

/* The next window of the last block's bytes, for one collect was given without them. */
static void more(void *arg, const uint8_t *bytes, size_t len)
{
	struct blocks *b = arg;
	code(b, bytes, len);
	if (b->first_pending && b->ws->nfirst_in && len)
		first_word(b, (uint32_t)(b->n - 1), bytes);
	b->first_pending = false;
}

/*
 * Settling one part of the walk's blocks: those the free lists name (fastbin
 * and tcache chunks look in use to the walk) found, then the rest moved with
 * their codes and first words to where they go in part 0's arrays, a run
 * between two dropped blocks at a time. Part 0 settles in place as the
 * others look (their places overlap what it has yet to read); then the
 * others move at once, an array after the other, each freed once moved, so
 * the peak holds one of them twice, not all.
 */
struct settle {
	struct blocks *src, *dst;
	const uint64_t *listed;      /* chunks, sorted */
	size_t nlisted;
	uint32_t *drops;             /* the part's blocks that go, by index */
	size_t ndrops, drops_alloc;
	size_t n, ncand, nfirsts;    /* what it keeps */
	uint64_t words;
	size_t at, cat, fat;         /* where its first kept block, code and first word go */
};

static void settle_look(struct settle *s)
{
	struct blocks *p = s->src;
	size_t l = 0, hi = s->nlisted, f = 0, dcand = 0;
	uint64_t dwords = 0;
	while (p->n && l < hi) { /* the first listed chunk at or above the part's first block */
		size_t mid = l + (hi - l) / 2;
		if (s->listed[mid] < p->addr[0] - 16)
			l = mid + 1;
		else
			hi = mid;
	}
	s->nfirsts = p->nfirsts;
	for (size_t i = 0; i < p->n && l < s->nlisted; i++) {
		uint64_t chunk = p->addr[i] - 16;
		while (l < s->nlisted && s->listed[l] < chunk)
			l++;
		if (l == s->nlisted || s->listed[l] != chunk)
			continue;
		ALLOC_GROW(s->drops, s->ndrops + 1, s->drops_alloc);
		s->drops[s->ndrops++] = (uint32_t)i;
		dcand += p->ws->coded ? p->cand_off[i + 1] - p->cand_off[i] : 0;
		dwords += p->ws->coded ? p->size[i] / 8 : 0; /* a free list's chunk is small: the walk held it */
		while (f < p->nfirsts && p->firsts[f].block < i)
			f++;
		s->nfirsts -= f < p->nfirsts && p->firsts[f].block == i;
	}
	s->n = p->n - s->ndrops;
	s->ncand = p->ncand - dcand;
	s->words = p->words - dwords;
}

/* src's elements of sz bytes but the dropped ones, to dst from index at (behind them when in place). */
static void move_runs(const struct settle *s, void *dst, const void *src, size_t sz, size_t n)
{
	size_t from = 0, out = s->at;
	for (size_t d = 0; d <= s->ndrops; d++) {
		size_t to = d < s->ndrops ? s->drops[d] : n;
		memmove((char *)dst + out * sz, (const char *)src + from * sz, (to - from) * sz);
		out += to - from;
		from = to + 1;
	}
}

static void settle_move(struct settle *s)
{
	struct blocks *p = s->src, *d = s->dst;
	bool own = p != d;
	if (!p->n)
		return; /* the arrays may be NULL: nothing to move, settle frees them */
	move_runs(s, d->addr, p->addr, sizeof(*d->addr), p->n);
	if (own)
		free(p->addr);
	move_runs(s, d->size, p->size, sizeof(*d->size), p->n);
	if (own)
		free(p->size);
	size_t f = 0, fo = s->fat, drop = 0;
	for (; f < p->nfirsts; f++) {
		while (drop < s->ndrops && s->drops[drop] < p->firsts[f].block)
			drop++;
		if (drop < s->ndrops && s->drops[drop] == p->firsts[f].block)
			continue;
		d->firsts[fo++] = (struct gfirst){ (uint32_t)(s->at + p->firsts[f].block - drop), p->firsts[f].word };
	}
	if (own)
		free(p->firsts);
	if (p->ws->coded) {
		size_t from = 0, out = s->at, c = s->cat;
		for (size_t k = 0; k <= s->ndrops; k++) { /* the codes first, while the offsets say where they are */
			size_t to = k < s->ndrops ? s->drops[k] : p->n;
			uint32_t lo = p->cand_off[from], hi = p->cand_off[to];
			memmove(d->cand + c, p->cand + lo, (hi - lo) * sizeof(*d->cand));
			for (size_t i = from; i < to; i++)
				d->cand_off[out++] = (uint32_t)(p->cand_off[i] - lo + c);
			c += hi - lo;
			from = to + 1;
		}
		if (own) {
			free(p->cand);
			free(p->cand_off);
		}
	}
	if (own)
		p->addr = NULL, p->size = NULL, p->firsts = NULL, p->cand = NULL, p->cand_off = NULL;
}

static void settle_part(void *arg)
{
	struct settle *s = arg;
	if (s->src != s->dst && s->at != SIZE_MAX) {
		settle_move(s);
		return;
	}
	settle_look(s);
	if (s->src == s->dst) /* part 0: its places are known, 0 on */
		settle_move(s);
}

/* Grow *v (of elements of sz bytes) to hold n, never shrinking it. */
static void hold(void **v, size_t have, size_t n, size_t sz)
{
	if (n > have || !*v)
		*v = xrealloc(*v, (n > have ? n : have) * sz);
}

/* The parts' blocks one after the other, less those listed: the heap's in address order, in parts[0]. */
static void settle(struct blocks *parts, const uint64_t *listed, size_t nlisted)
{
	struct blocks *b = &parts[0];
	bool coded = b->ws->coded;
	struct settle st[PARTS_MAX];
	size_t np = 0;
	for (size_t k = 0; k < PARTS_MAX; k++) {
		if (k && !parts[k].n && !parts[k].nmmapped)
			continue;
		if (coded && parts[k].n)
			parts[k].cand_off[parts[k].n] = (uint32_t)parts[k].ncand;
		st[np++] = (struct settle){ &parts[k], b, listed, nlisted, .at = k ? SIZE_MAX : 0 };
	}
	int halt = 0;
	parts_run(settle_part, st, sizeof(*st), np, NULL, &halt); /* part 0 settled, the others looked */
	size_t n = 0, ncand = 0, nfirsts = 0;
	uint64_t words = 0;
	for (size_t k = 0; k < np; k++) {
		st[k].at = n, st[k].cat = ncand, st[k].fat = nfirsts;
		n += st[k].n, ncand += st[k].ncand, nfirsts += st[k].nfirsts;
		words += st[k].words;
	}
	hold((void **)&b->addr, b->n, n, sizeof(*b->addr));
	hold((void **)&b->size, b->n, n, sizeof(*b->size));
	if (coded) {
		hold((void **)&b->cand_off, b->n + 1, n + 1, sizeof(*b->cand_off));
		hold((void **)&b->cand, b->ncand, ncand, sizeof(*b->cand));
	}
	hold((void **)&b->firsts, b->nfirsts, nfirsts, sizeof(*b->firsts));
	if (np > 1)
		parts_run(settle_part, st + 1, sizeof(*st), np - 1, NULL, &halt);
	for (size_t k = 0; k < np; k++)
		free(st[k].drops);
	for (size_t k = 1; k < np; k++) {
		struct blocks *p = st[k].src;
		if (p->nmmapped) {
			ALLOC_GROW(b->mmapped, b->nmmapped + p->nmmapped, b->mmapped_alloc);
			memcpy(b->mmapped + b->nmmapped, p->mmapped, p->nmmapped * sizeof(*b->mmapped));
			b->nmmapped += p->nmmapped;
		}
	}
	for (size_t k = 1; k < PARTS_MAX; k++) {
		struct blocks *p = &parts[k];
		free(p->addr);
		free(p->size);
		free(p->cand_off);
		free(p->cand);
		free(p->firsts);
		free(p->mmapped);
	}
	b->n = b->alloc = n;
	b->ncand = b->cand_alloc = ncand;
	b->nfirsts = b->firsts_alloc = nfirsts;
	b->words = words;
	if (coded)
		b->cand_off[n] = (uint32_t)ncand;
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

struct anon_scan {
	struct ranges *r;
	const uint64_t (*holes)[2];
	size_t nholes;
	enum root_kind kind;
};

static void add_data_run(void *arg, uint64_t lo, uint64_t hi)
{
	struct anon_scan *a = arg;
	add_range(a->r, lo, hi, a->kind, -1, a->holes, a->nholes);
}

/*
 * Each module's writable data, and its .bss where it continues in the
 * anonymous mapping right after: of that, live, only pages that hold data
 * (a page never touched is zeros, and reading it gives the process a page
 * on some kernels).
 */
static void module_data(struct target *t, const struct maps *m, const uint64_t (*holes)[2], size_t nholes,
			struct ranges *r)
{
	struct anon_scan as = { r, holes, nholes, ROOT_DATA };
	for (size_t i = 0; i < m->n; i++) {
		const struct map_entry *e = &m->v[i];
		if (e->path[0] != '/' || e->perms[0] != 'r' || e->perms[1] != 'w')
			continue;
		add_range(r, e->start, e->end, ROOT_DATA, -1, holes, nholes);
		const struct map_entry *bss = i + 1 < m->n ? &m->v[i + 1] : NULL;
		if (bss && !bss->path[0] && bss->start == e->end && bss->perms[1] == 'w' &&
		    target_data_runs(t, bss->start, bss->end, add_data_run, &as) < 0)
			add_range(r, bss->start, bss->end, ROOT_DATA, -1, holes, nholes);
	}
}

static bool overlaps(uint64_t lo, uint64_t hi, uint64_t a, uint64_t b)
{
	return lo < b && a < hi;
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
		qsort(holes, nholes, sizeof(*holes), range_by_start);
	*n = nholes;
	return holes;
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
	struct anon_scan as = { r, holes, nholes, ROOT_MAPPING };
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
	struct memsrc m = target_memsrc(t);
	struct walk_scan ws = { 0 };
	struct blocks parts[PARTS_MAX] = { { 0 } }, b;
	void *args[PARTS_MAX];
	for (size_t k = 0; k < PARTS_MAX; k++) {
		parts[k].ws = &ws;
		args[k] = &parts[k];
	}
	struct heap_report rep = { 0 };
	struct heap_take h = { 0 };
	struct maps maps = { 0 };
	struct ranges r = { 0 };
	struct root_reg *regs = NULL;
	size_t nregs = 0, nfiles = 0;
	uint64_t(*files)[2] = NULL;
	double t0 = mono_ms(), t1 = 0, t2 = 0, t3 = 0;
	int ret = target_maps(t, &maps, err);
	if (ret == 0) {
		/* a C++ object's first word points into its vtable, in a module's file mapping: kept for typing */
		files = xmalloc((maps.n ? maps.n : 1) * sizeof(*files));
		for (size_t k = 0; k < maps.n; k++) {
			/* a file's mapping (a core's NT_FILE has no inode numbers), not [heap] or [stack] */
			if (!maps.v[k].path || maps.v[k].path[0] != '/')
				continue;
			if (nfiles && files[nfiles - 1][1] == maps.v[k].start)
				files[nfiles - 1][1] = maps.v[k].end;
			else
				files[nfiles][0] = maps.v[k].start, files[nfiles++][1] = maps.v[k].end;
		}
		ws.first_in = (const uint64_t(*)[2])files;
		ws.nfirst_in = nfiles;
		/* the chunks first, in parts, each block scanned as the walk holds it; the free lists after */
		struct heap_blocks_fn fn = { spans, collect, more };
		struct heap_take_opts ho = { o->cancel, o->where, args, &fn };
		ret = heap_walk_target(t, sym, &ho, NULL, NULL, &rep, &h, err);
	}
	settle(parts, ret == 0 ? rep.listed : NULL, ret == 0 ? rep.nlisted : 0);
	b = parts[0];
	t1 = mono_ms();
	if (ret == 0) {
		size_t nholes;
		uint64_t (*holes)[2] = root_holes(o, &b, &rep, &h.where, &nholes);
		module_data(t, &maps, (const uint64_t(*)[2])holes, nholes, &r);
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
		struct graph_input in = { &m, b.addr, b.size, b.n, r.v, r.n, regs, nregs, o->cancel,
					  (const uint64_t(*)[2])files, nfiles };
		if (ws.coded) {
			in.space = &ws.space;
			in.cand_off = b.cand_off;
			in.cand = b.cand;
			in.firsts = b.firsts;
			in.nfirsts = b.nfirsts;
			in.words = b.words;
		}
		t2 = mono_ms();
		ret = graph_build(g, &in, err);
		b.addr = NULL;
		b.size = NULL;
		if (ws.coded) { /* taken over */
			b.cand_off = b.cand = NULL;
			b.firsts = NULL;
		}
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
	free(b.cand_off);
	free(b.cand);
	free(b.firsts);
	free(b.mmapped);
	free(files);
	gspace_release(&ws.space);
	return ret;
}
