// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * graph.c - the reference graph: every live block and every root read word by
 * word, each word that lands in a block an edge (a start pointer, or an
 * interior one kept apart), stored both ways in CSR arrays; then memcheck's
 * leak classes over it.
 */
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "parts.h"
#include "u64map.h"
#include "xalloc.h"

/*
 * 128 KiB: a window the CPU's cache holds while the kernel copies into it
 * and the scan reads it. /proc/PID/mem read 1 GiB of heap at 4.4 GB/s in
 * windows of 64-128 KiB, and at 1.25 GB/s in windows of 1 MiB.
 */
#define WINDOW (1u << 17)

const char *const leak_state_names[LEAK_NSTATES] = {
	[LEAK_REACHABLE] = "reachable", [LEAK_POSSIBLY] = "possibly lost",
	[LEAK_INDIRECTLY] = "indirectly lost", [LEAK_DEFINITELY] = "definitely lost",
};

#define PAGE_SHIFT 12
#define GRAIN_SHIFT 4 /* a bit of the start bitmap: 16 bytes, glibc's alignment */
#define NO_BITMAP SIZE_MAX

/*
 * The bits set in v. Not __builtin_popcountll: without -mpopcnt (x86-64's
 * baseline has no POPCNT) that is a call into libgcc, which cost more than
 * the rest of graph_find.
 */
static inline unsigned bits_set(uint64_t v)
{
	v -= (v >> 1) & 0x5555555555555555ull;
	v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
	v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((v * 0x0101010101010101ull) >> 56);
}

/* Binary search over blocks [lo, hi) for the last one starting at or below addr. */
static long find_in(const struct graph *g, size_t lo, size_t hi, uint64_t addr)
{
	size_t first = lo;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->addr[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == first)
		return first ? (long)first - 1 : -1;
	return (long)lo - 1;
}

/*
 * The block that holds addr, or -1. *hint is the run the last search ended
 * in (a scan's pointers mostly stay in one run): asked first.
 */
static inline long find_block(const struct graph *g, uint64_t addr, size_t *hint)
{
	size_t lo = *hint;
	if (lo >= g->nruns || addr < g->runs[lo].lo || addr >= g->runs[lo].hi) {
		size_t hi = g->nruns;
		lo = 0;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (g->runs[mid].hi <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* every block lies in a run: an address between runs is in none */
		if (lo == g->nruns || addr < g->runs[lo].lo)
			return -1;
		*hint = lo;
	}
	const struct grun *r = &g->runs[lo];
	long i;
	if (r->word0 == NO_BITMAP) {
		i = find_in(g, r->first, r->first + r->count, addr);
	} else {
		uint64_t off = (addr - r->lo) >> GRAIN_SHIFT;
		size_t w = r->word0 + (off >> 6);
		/* the blocks that start in this word at or below addr; else the last one before the word */
		uint64_t bits = g->starts[w] & (~0ull >> (63 - (off & 63)));
		i = bits ? (long)g->rank[w] + bits_set(bits) - 1 : (long)g->rank[w] - 1;
	}
	if (i < (long)r->first)
		return -1;
	return addr < g->addr[i] + (g->size[i] ? g->size[i] : 1) ? i : -1;
}

long graph_find(const struct graph *g, uint64_t addr)
{
	size_t hint = SIZE_MAX;
	return find_block(g, addr, &hint);
}

/*
 * Runs: stretches of blocks with no gap of a page or more. A run gets its
 * share of the start bitmap and its ranks (12 bytes per KiB of run) when
 * that costs at most 4 bytes a block: bigheap's 10M blocks take 12 MB, and
 * a run of large blocks is searched by binary steps instead (a few blocks,
 * whose bitmap would have cost far more than they do). Blocks two of which
 * share a 16-byte grain (none of glibc's: its chunks are 16-aligned) leave
 * every run without one.
 */
static void build_index(struct graph *g)
{
	size_t alloc = 0, words = 0;
	bool shared = false;
	for (size_t i = 1; i < g->n && !shared; i++)
		shared = (g->addr[i] >> GRAIN_SHIFT) == (g->addr[i - 1] >> GRAIN_SHIFT);
	for (size_t i = 0; i < g->n;) {
		uint64_t lo = g->addr[i] & ~((1ull << PAGE_SHIFT) - 1), hi = g->addr[i] + g->size[i];
		size_t j = i + 1;
		while (j < g->n && g->addr[j] < hi + (1ull << PAGE_SHIFT)) {
			if (g->addr[j] + g->size[j] > hi)
				hi = g->addr[j] + g->size[j];
			j++;
		}
		hi = (hi + (1ull << PAGE_SHIFT) - 1) & ~((1ull << PAGE_SHIFT) - 1);
		size_t nw = (hi - lo) >> (GRAIN_SHIFT + 6);
		bool indexed = !shared && nw * (sizeof(*g->starts) + sizeof(*g->rank)) <= 4 * (j - i);
		ALLOC_GROW(g->runs, g->nruns + 1, alloc);
		g->runs[g->nruns++] = (struct grun){ lo, hi, indexed ? words : NO_BITMAP, (uint32_t)i, (uint32_t)(j - i) };
		if (indexed)
			words += nw;
		i = j;
	}
	/* every word is set with |=: zeroed by writing, so a page faults once (u64map.c's grow says why) */
	g->starts = memset(xmalloc((words ? words : 1) * sizeof(*g->starts)), 0, (words ? words : 1) * sizeof(*g->starts));
	g->rank = xmalloc((words ? words : 1) * sizeof(*g->rank));
	for (size_t r = 0; r < g->nruns; r++) {
		const struct grun *run = &g->runs[r];
		if (run->word0 == NO_BITMAP)
			continue;
		size_t b = run->first, end = b + run->count;
		for (size_t k = 0, nw = (run->hi - run->lo) >> (GRAIN_SHIFT + 6); k < nw; k++) {
			uint64_t word_lo = run->lo + ((uint64_t)k << (GRAIN_SHIFT + 6));
			uint64_t word_hi = word_lo + (1ull << (GRAIN_SHIFT + 6));
			g->rank[run->word0 + k] = (uint32_t)b;
			for (; b < end && g->addr[b] < word_hi; b++)
				g->starts[run->word0 + k] |= 1ull << ((g->addr[b] - word_lo) >> GRAIN_SHIFT);
		}
	}
}

struct scan {
	struct graph *g;
	const struct memsrc *m;
	uint32_t *out;              /* start pointers, in block order: the CSR entries as they come */
	size_t nout, out_alloc;
	struct gedge *interior;
	size_t ninterior, interior_alloc;
	uint64_t lo, hi;            /* the range every block lies in: a cheap first filter */
	size_t roots_alloc;
	uint8_t *win;
	uint32_t *cand;             /* the offsets in a block of the words that pass the range filter */
	struct cancel *cancel;      /* the main thread's; a helper thread has none and watches halt */
	int *halt;                  /* set when the main thread's cancel said stop */
	const uint64_t (*first_in)[2];
	size_t nfirst_in;
	struct gfirst *firsts;      /* first words kept, by block */
	size_t nfirsts, firsts_alloc;
	uint64_t words;             /* words read */
	size_t run;                 /* the run of blocks the last word found pointed into */
	size_t from, to;            /* the blocks this scan reads */
	const struct graph_input *in; /* with space: the blocks the walk scanned, their words to resolve */
	size_t span;                /* the span the last code decoded was in */
	bool in_place;              /* out is the part's stretch of in->cand: written behind the codes read */
	uint32_t base, end;         /* that stretch */
};

bool graph_ranges_hold(const uint64_t (*r)[2], size_t n, uint64_t v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v < r[mid][0])
			hi = mid;
		else if (v >= r[mid][1])
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Block i's first word v: kept when it points into one of the ranges asked for. */
static void first_word(struct scan *s, uint32_t i, uint64_t v)
{
	if (!graph_ranges_hold(s->first_in, s->nfirst_in, v))
		return;
	ALLOC_GROW(s->firsts, s->nfirsts + 1, s->firsts_alloc);
	s->firsts[s->nfirsts++] = (struct gfirst){ i, v };
}

static void add_root(struct scan *s, uint64_t where, long j, bool interior, enum root_kind kind, int thread)
{
	struct graph *g = s->g;
	ALLOC_GROW(g->roots, g->nroots + 1, s->roots_alloc);
	g->roots[g->nroots++] = (struct root_ref){ where, (uint32_t)j, (uint8_t)kind, interior, (int16_t)thread };
}

/*
 * Whether where is the dtv field of a glibc thread control block (tcbhead_t:
 * tcb, dtv, self, with tcb == self == the block's address). glibc keeps its
 * pointer 16 bytes into the dtv's block (dtv[-1] holds the length): counted as
 * a start pointer, where memcheck calls every thread's dtv possibly lost.
 */
static bool dtv_of_tcb(const struct memsrc *m, uint64_t where)
{
	uint64_t tcb, self;
	return mem_word(m, where - 8, &tcb) && tcb == where - 8 && mem_word(m, where + 8, &self) && self == where - 8;
}

/* One word at where (value v): a pointer into a block becomes an edge from `from`, or a root. */
static inline void word(struct scan *s, uint64_t where, uint64_t v, long from, const struct root_range *r)
{
	if (v < s->lo || v >= s->hi)
		return;
	long j = find_block(s->g, v, &s->run);
	if (j < 0 || j == from)
		return;
	bool interior = v != s->g->addr[j];
	if (r && interior && v == s->g->addr[j] + 16 && dtv_of_tcb(s->m, where))
		interior = false;
	if (r) {
		add_root(s, where, j, interior, r->kind, r->thread);
	} else if (interior) {
		ALLOC_GROW(s->interior, s->ninterior + 1, s->interior_alloc);
		s->interior[s->ninterior++] = (struct gedge){ (uint32_t)from, (uint32_t)j };
	} else {
		if (!s->in_place)
			ALLOC_GROW(s->out, s->nout + 1, s->out_alloc);
		s->out[s->nout++] = (uint32_t)j;
	}
}

/*
 * The words of [lo, hi), read a window at a time, up to the first unreadable
 * byte: what follows it in the same mapping is unreadable too (past a mapped
 * file's end, what a core left out), and the caller gives each mapping a range
 * of its own. Stepping page by page instead made a damaged core's bogus bound
 * (a segment of 2^47 bytes) cost 2^35 failed reads.
 */
static void scan_range(struct scan *s, uint64_t lo, uint64_t hi, long from, const struct root_range *r)
{
	lo = (lo + 7) & ~7ull;
	while (lo < hi && hi - lo >= 8) {
		size_t want = hi - lo < WINDOW ? (size_t)(hi - lo) : WINDOW;
		if (parts_stop(s->cancel, s->halt, CANCEL_BATCH)) /* a window: the clock each time */
			return;
		ssize_t got = s->m->read(s->m->ctx, lo, s->win, want);
		if (got < 8)
			return;
		for (size_t off = 0; off + 8 <= (size_t)got; off += 8) {
			uint64_t v;
			memcpy(&v, s->win + off, 8);
			word(s, lo + off, v, from, r);
		}
		s->words += (uint64_t)got / 8;
		lo += (uint64_t)got & ~7ull;
	}
}

/* Block i, read alone: a large one, or one the walk did not scan. */
static void scan_alone(struct scan *s, size_t i)
{
	uint64_t a = s->g->addr[i], len = s->g->size[i] & ~7ull, v0;
	if (s->nfirst_in && len && mem_word(s->m, a, &v0))
		first_word(s, (uint32_t)i, v0);
	scan_range(s, a, a + len, (long)i, NULL);
}

/*
 * Blocks from..to whose words the walk coded (graph_input.space), each code
 * resolved in place: out_off is cand_off (read at i + 1 before it is written
 * at i + 1) and out is the part's stretch of cand (an edge is written behind
 * the code it came from). Offsets are the part's until join_in_place.
 */
static void resolve_blocks(struct scan *s)
{
	uint32_t *off = s->g->out_off;
	const struct graph_input *in = s->in;
	for (size_t i = s->from; i < s->to; i++) {
		uint32_t lo = i == s->from ? s->base : off[i], hi = i + 1 < s->to ? off[i + 1] : s->end;
		off[i] = (uint32_t)s->nout;
		if (parts_stop(s->cancel, s->halt, 1 + (hi - lo) / 64))
			return;
		for (uint32_t k = lo; k < hi; k++)
			word(s, 0, gspace_word(in->space, in->cand[k], &s->span), (long)i, NULL);
	}
}

/*
 * Blocks from..to in address order: one read covers many neighbours.
 * out_off[i] is set as block i begins, counted from this scan's first edge.
 */
static void scan_blocks(struct scan *s)
{
	struct graph *g = s->g;
	uint64_t base = 0;
	size_t have = 0;
	if (s->in->space) {
		resolve_blocks(s);
		return;
	}
	for (size_t i = s->from; i < s->to; i++) {
		g->out_off[i] = (uint32_t)s->nout;
		uint64_t a = g->addr[i], len = g->size[i] & ~7ull;
		if (parts_stop(s->cancel, s->halt, 1 + (uint32_t)(len >> 9))) /* graph_build then drops it all */
			return;
		uint64_t v0;
		if (len > WINDOW / 2) {
			scan_alone(s, i);
			have = 0;
			continue;
		}
		if (!have || a < base || a + len > base + have) {
			ssize_t got = s->m->read(s->m->ctx, a, s->win, WINDOW);
			base = a;
			have = got > 0 ? (size_t)got : 0;
			if (a + len > base + have) { /* the window ends early (a mapping's end): this block alone */
				have = 0;
				scan_alone(s, i);
				continue;
			}
		}
		const uint8_t *p = s->win + (a - base);
		if (s->nfirst_in && len) {
			memcpy(&v0, p, 8);
			first_word(s, (uint32_t)i, v0);
		}
		/*
		 * The range filter without a branch, the words that pass it taken after:
		 * whether a word is a pointer is as good as random to the branch
		 * predictor, and its misses cost more than the rest of the loop.
		 */
		uint64_t span = s->hi - s->lo;
		uint32_t nc = 0;
		for (uint32_t off = 0; off < len; off += 8) {
			uint64_t v;
			memcpy(&v, p + off, 8);
			s->cand[nc] = off;
			nc += v - s->lo < span;
		}
		for (uint32_t k = 0; k < nc; k++) {
			uint64_t v;
			memcpy(&v, p + s->cand[k], 8);
			word(s, a + s->cand[k], v, (long)i, NULL);
		}
		s->words += len / 8;
	}
}

static int by_from(const void *a, const void *b)
{
	const struct gedge *x = a, *y = b;
	return x->from != y->from ? (x->from < y->from ? -1 : 1) : (x->to < y->to ? -1 : x->to > y->to);
}

static int by_to(const void *a, const void *b)
{
	const struct gedge *x = a, *y = b;
	return x->to != y->to ? (x->to < y->to ? -1 : 1) : (x->from < y->from ? -1 : x->from > y->from);
}

/*
 * The incoming edges, for the queries that walk them (path, backrefs, show):
 * the CSR reversed by a counting sort by target, and the interior pointers
 * sorted by target. Built on the first such query, not with the graph: a
 * `leaks` alone never needs them, and they are 12 bytes a block.
 */
void graph_reverse(struct graph *g)
{
	if (g->in_off)
		return;
	g->ito = xmalloc((g->ninterior ? g->ninterior : 1) * sizeof(*g->ito));
	if (g->ninterior) {
		memcpy(g->ito, g->ifrom, g->ninterior * sizeof(*g->ito));
		qsort(g->ito, g->ninterior, sizeof(*g->ito), by_to);
	}
	size_t ne = g->out_off[g->n];
	g->in_off = xcalloc(g->n + 1, sizeof(*g->in_off));
	g->in = xmalloc((ne ? ne : 1) * sizeof(*g->in));
	for (size_t e = 0; e < ne; e++)
		g->in_off[g->out[e] + 1]++;
	for (size_t i = 0; i < g->n; i++)
		g->in_off[i + 1] += g->in_off[i];
	/*
	 * in_off[t + 1] is where t's entries end: filled from there down, sources
	 * taken last to first so each list stays in address order, it ends as
	 * where they start, one place late. No cursor array as large as the graph.
	 */
	for (size_t i = g->n; i-- > 0;)
		for (uint32_t e = g->out_off[i + 1]; e-- > g->out_off[i];)
			g->in[--g->in_off[g->out[e] + 1]] = (uint32_t)i;
	if (g->n)
		memmove(g->in_off, g->in_off + 1, g->n * sizeof(*g->in_off));
	g->in_off[g->n] = (uint32_t)ne;
}

static int root_by_block(const void *a, const void *b)
{
	const struct root_ref *x = a, *y = b;
	if (x->block != y->block)
		return x->block < y->block ? -1 : 1;
	return x->interior - y->interior; /* start pointers first */
}

/* [first, first + count) of the entries of a sorted array whose key equals k. */
#define EQUAL_RANGE(arr, n, field, k, first)                                                      \
	({                                                                                         \
		size_t lo_ = 0, hi_ = (n);                                                         \
		while (lo_ < hi_) {                                                                \
			size_t mid_ = lo_ + (hi_ - lo_) / 2;                                       \
			if ((arr)[mid_].field < (k))                                               \
				lo_ = mid_ + 1;                                                    \
			else                                                                       \
				hi_ = mid_;                                                        \
		}                                                                                  \
		size_t end_ = lo_;                                                                 \
		while (end_ < (n) && (arr)[end_].field == (k))                                     \
			end_++;                                                                    \
		*(first) = lo_;                                                                    \
		end_ - lo_;                                                                        \
	})

size_t graph_roots_of(const struct graph *g, uint32_t i, size_t *first)
{
	return EQUAL_RANGE(g->roots, g->nroots, block, i, first);
}

size_t graph_interior_in(const struct graph *g, uint32_t i, size_t *first)
{
	return EQUAL_RANGE(g->ito, g->ninterior, to, i, first);
}

size_t graph_interior_out(const struct graph *g, uint32_t i, size_t *first)
{
	return EQUAL_RANGE(g->ifrom, g->ninterior, from, i, first);
}

/*
 * The blocks in stretches of about equal bytes, one per processor
 * (parts_for): the scan reads memory through the kernel and looks each word
 * up, and both go as fast on every processor.
 */
static size_t split(const struct graph *g, struct scan *parts)
{
	uint64_t total = 0;
	for (size_t i = 0; i < g->n; i++)
		total += g->size[i];
	size_t n = parts_for(total);
	uint64_t sum = 0;
	size_t at = 0;
	for (size_t k = 0; k < n; k++) {
		parts[k].from = at;
		uint64_t want = total / n * (k + 1);
		while (at < g->n && (k + 1 == n || sum < want))
			sum += g->size[at++];
		parts[k].to = at;
	}
	return n;
}

/* The walk's first words and the scan's (of the blocks it read), one list by block. */
static void merge_firsts(struct scan *s, struct gfirst *walk, size_t nwalk)
{
	if (!s->nfirsts) {
		free(s->firsts);
		s->firsts = walk;
		s->nfirsts = nwalk;
		return;
	}
	struct gfirst *v = xmalloc((nwalk + s->nfirsts) * sizeof(*v));
	size_t a = 0, b = 0, n = 0;
	while (a < nwalk || b < s->nfirsts)
		v[n++] = b == s->nfirsts || (a < nwalk && walk[a].block < s->firsts[b].block) ? walk[a++] : s->firsts[b++];
	free(walk);
	free(s->firsts);
	s->firsts = v;
	s->nfirsts = n;
}

static void scan_part(void *arg)
{
	struct scan *s = arg;
	if (!s->in_place) { /* resolving the walk's codes reads nothing */
		s->win = xmalloc(WINDOW);
		s->cand = xmalloc(WINDOW / 16 * sizeof(*s->cand));
	}
	scan_blocks(s);
}

/* The parts' edges resolved in place moved together, part after part, their offsets along. */
static void join_in_place(struct graph *g, struct scan *parts, size_t n)
{
	uint32_t at = 0;
	for (size_t k = 0; k < n; k++) {
		struct scan *p = &parts[k];
		memmove(g->out + at, g->out + p->base, p->nout * sizeof(*g->out));
		for (size_t i = p->from; i < p->to; i++)
			g->out_off[i] += at;
		at += (uint32_t)p->nout;
		p->out = NULL;
		p->nout = 0;
	}
	g->out_off[g->n] = at;
	parts[0].nout = at;
	parts[0].out = g->out;
}

/* The parts' edges after part 0's, in block order, its offsets moved along; part 0 keeps them all. */
static void join_parts(struct graph *g, struct scan *parts, size_t n)
{
	struct scan *s = &parts[0];
	for (size_t k = 1; k < n; k++) {
		struct scan *p = &parts[k];
		for (size_t i = p->from; i < p->to && !p->in_place; i++)
			g->out_off[i] += (uint32_t)s->nout;
		if (p->nout) {
			s->out = xrealloc(s->out, (s->nout + p->nout) * sizeof(*s->out));
			memcpy(s->out + s->nout, p->out, p->nout * sizeof(*s->out));
			s->nout += p->nout;
		}
		if (p->ninterior) {
			s->interior = xrealloc(s->interior, (s->ninterior + p->ninterior) * sizeof(*s->interior));
			memcpy(s->interior + s->ninterior, p->interior, p->ninterior * sizeof(*s->interior));
			s->ninterior += p->ninterior;
		}
		if (p->nfirsts) {
			s->firsts = xrealloc(s->firsts, (s->nfirsts + p->nfirsts) * sizeof(*s->firsts));
			memcpy(s->firsts + s->nfirsts, p->firsts, p->nfirsts * sizeof(*s->firsts));
			s->nfirsts += p->nfirsts;
		}
		s->words += p->words;
		free(p->out);
		free(p->interior);
		free(p->firsts);
	}
	if (!s->in_place)
		g->out_off[g->n] = (uint32_t)s->nout;
	for (size_t k = 0; k < n; k++) {
		free(parts[k].win);
		free(parts[k].cand);
	}
}

int graph_build(struct graph *g, const struct graph_input *in, struct mlz_err *err)
{
	memset(g, 0, sizeof(*g));
	g->n = in->n;
	g->addr = in->addr; /* taken over */
	g->size = in->size;
	int ret = 0;
	if (in->n > UINT32_MAX - 1)
		ret = mlz_error(err, "too many blocks for the graph (%zu)", in->n);
	for (size_t i = 1; i < in->n && !ret; i++)
		if (g->addr[i] < g->addr[i - 1])
			ret = mlz_error(err, "the blocks are not sorted by address");
	if (ret) {
		free(in->cand_off);
		free(in->cand);
		free(in->firsts);
		graph_release(g);
		return ret;
	}
	build_index(g);
	uint64_t lo = 0, hi = 0;
	if (in->n) {
		lo = g->addr[0];
		for (size_t r = 0; r < g->nruns; r++)
			hi = g->runs[r].hi > hi ? g->runs[r].hi : hi;
	}
	/* with the walk's codes, the edges take their place (resolve_blocks), else arrays of their own */
	g->out_off = in->space ? in->cand_off : xmalloc((g->n + 1) * sizeof(*g->out_off));
	g->out = in->space ? in->cand : NULL;
	int halt = 0;
	struct scan parts[PARTS_MAX];
	size_t nparts = split(g, parts);
	for (size_t k = 0; k < nparts; k++) {
		parts[k] = (struct scan){ .g = g, .m = in->m, .lo = lo, .hi = hi, .cancel = k ? NULL : in->cancel,
					  .halt = &halt, .first_in = in->first_in,
					  .nfirst_in = in->first_in ? in->nfirst_in : 0, .from = parts[k].from,
					  .to = parts[k].to, .in = in };
		if (in->space) {
			struct scan *p = &parts[k];
			p->in_place = true;
			p->base = in->cand_off[p->from];
			p->end = in->cand_off[p->to];
			p->out = g->out + p->base;
			p->nfirst_in = 0; /* the walk kept them */
		}
	}
	parts_run(scan_part, parts, sizeof(*parts), nparts, in->cancel, &halt);
	if (in->space)
		join_in_place(g, parts, nparts);
	g->scan_parts = nparts;
	struct scan *s = &parts[0];
	if (!s->win) /* the roots are read through part 0's window */
		s->win = xmalloc(WINDOW);
	for (size_t i = 0; i < in->nranges && !parts_stop(s->cancel, s->halt, 0); i++)
		scan_range(s, in->ranges[i].lo, in->ranges[i].hi, -1, &in->ranges[i]);
	for (size_t i = 0; i < in->nregs; i++) {
		struct root_range r = { 0, 0, ROOT_REGISTER, in->regs[i].thread };
		word(s, (uint64_t)in->regs[i].reg, in->regs[i].value, -1, &r);
	}
	join_parts(g, parts, nparts);
	if (in->space) {
		merge_firsts(s, in->firsts, in->nfirsts);
		s->words += in->words;
	}
	if (halt || cancelled(in->cancel)) {
		if (!s->in_place)
			free(s->out);
		free(s->interior);
		free(s->firsts);
		graph_release(g);
		return cancel_error(err);
	}
	g->out = s->nout ? xrealloc(s->out, s->nout * sizeof(*s->out)) : (free(s->out), xmalloc(sizeof(*g->out)));
	g->ninterior = s->ninterior;
	g->ifrom = s->interior ? s->interior : xmalloc(sizeof(*g->ifrom));
	if (s->ninterior)
		qsort(g->ifrom, s->ninterior, sizeof(*g->ifrom), by_from);
	g->firsts = s->firsts;
	g->nfirsts = s->nfirsts;
	g->words_scanned = s->words;
	if (g->nroots > 1)
		qsort(g->roots, g->nroots, sizeof(*g->roots), root_by_block);
	return 0;
}

/*
 * memcheck's marking: a start pointer from a root or a reachable block makes
 * its target reachable; any other pointer from those, or any pointer from a
 * possibly reachable block, makes an unreached target possibly reachable (and
 * a block may be upgraded later). Then the unreached blocks in address order
 * lead cliques: everything a leader reaches that is unreached joins its
 * clique as indirectly lost, a former leader included.
 */
int graph_classify(struct graph *g, struct cancel *cancel)
{
	enum { UNREACHED = 255 };
	free(g->state);
	g->state = xmalloc(g->n ? g->n : 1);
	memset(g->state, UNREACHED, g->n);
	/* each block is pushed at most twice: once possibly reachable, once reachable */
	uint32_t *stack = xmalloc((g->n ? g->n : 1) * sizeof(*stack) * 2);
	size_t sp = 0;
#define MARK(j, definite)                                                                          \
	do {                                                                                       \
		uint32_t j_ = (j);                                                                 \
		if ((definite) && g->state[j_] != LEAK_REACHABLE) {                                \
			g->state[j_] = LEAK_REACHABLE;                                             \
			stack[sp++] = j_;                                                          \
		} else if (g->state[j_] == UNREACHED) {                                            \
			g->state[j_] = LEAK_POSSIBLY;                                              \
			stack[sp++] = j_;                                                          \
		}                                                                                  \
	} while (0)
	for (size_t r = 0; r < g->nroots; r++)
		MARK(g->roots[r].block, !g->roots[r].interior);
	while (sp && !cancel_poll(cancel, 1)) {
		uint32_t i = stack[--sp];
		bool definite = g->state[i] == LEAK_REACHABLE;
		for (uint32_t e = g->out_off[i]; e < g->out_off[i + 1]; e++)
			MARK(g->out[e], definite);
		size_t f, k = graph_interior_out(g, i, &f);
		for (size_t e = f; e < f + k; e++)
			MARK(g->ifrom[e].to, false);
	}
#undef MARK
	for (size_t b = 0; b < g->n && !cancelled(cancel); b++) {
		if (g->state[b] != UNREACHED)
			continue;
		g->state[b] = LEAK_DEFINITELY; /* a leader, until another leader reaches it */
		sp = 0;
		stack[sp++] = (uint32_t)b;
		while (sp && !cancel_poll(cancel, 1)) {
			uint32_t i = stack[--sp];
			size_t f, k = graph_interior_out(g, i, &f);
			for (size_t e = g->out_off[i]; e < g->out_off[i + 1] + k; e++) {
				{
					/* start pointers, then the interior ones */
					uint32_t j = e < g->out_off[i + 1] ? g->out[e] : g->ifrom[f + (e - g->out_off[i + 1])].to;
					if (j == b)
						continue;
					if (g->state[j] == UNREACHED) {
						g->state[j] = LEAK_INDIRECTLY;
						stack[sp++] = j;
					} else if (g->state[j] == LEAK_DEFINITELY) {
						g->state[j] = LEAK_INDIRECTLY; /* its clique joins this one */
					}
				}
			}
		}
	}
	free(stack);
	return cancelled(cancel) ? -1 : 0;
}

/* The block the search reached block i from: one step towards the target. */
static uint32_t next_of(const struct u64map *seen, uint32_t i)
{
	uint64_t from = 0;
	u64map_get(seen, i, &from); /* every block on the chain was visited */
	return (uint32_t)from;
}

long graph_path(struct graph *g, uint32_t target, size_t *root, uint32_t **chain)
{
	if (target >= g->n)
		return -1;
	graph_reverse(g);
	/*
	 * Backwards from target, breadth first: the first block a root points at closes the shortest chain.
	 * seen maps each visited block to the block it was reached from; a hash map, sized to what the
	 * search visits: clearing an array as large as the graph (10M blocks) cost more than the search.
	 */
	struct u64map seen;
	u64map_init(&seen);
	uint32_t *queue = NULL;
	size_t head = 0, tail = 0, qalloc = 0;
	long found = -1;
	u64map_add(&seen, target, target);
	ALLOC_GROW(queue, tail + 1, qalloc);
	queue[tail++] = target;
	while (head < tail && found < 0) {
		uint32_t i = queue[head++];
		size_t rf;
		if (graph_roots_of(g, i, &rf)) {
			*root = rf; /* sorted with start pointers first: one of those if there is one */
			found = i;
			break;
		}
		size_t f, k = graph_interior_in(g, i, &f);
		for (size_t e = g->in_off[i]; e < g->in_off[i + 1] + k; e++) {
			uint32_t j = e < g->in_off[i + 1] ? g->in[e] : g->ito[f + (e - g->in_off[i + 1])].from;
			if (!u64map_add(&seen, j, i))
				continue;
			ALLOC_GROW(queue, tail + 1, qalloc);
			queue[tail++] = j;
		}
	}
	long len = 0;
	*chain = NULL;
	if (found >= 0) {
		for (uint32_t i = (uint32_t)found;; i = next_of(&seen, i)) {
			len++;
			if (i == target)
				break;
		}
		*chain = xmalloc((size_t)len * sizeof(**chain));
		long k = 0;
		for (uint32_t i = (uint32_t)found;; i = next_of(&seen, i)) {
			(*chain)[k++] = i;
			if (i == target)
				break;
		}
	}
	u64map_release(&seen);
	free(queue);
	return len;
}

void graph_release(struct graph *g)
{
	free(g->addr);
	free(g->size);
	free(g->out_off);
	free(g->out);
	free(g->in_off);
	free(g->in);
	free(g->ifrom);
	free(g->ito);
	free(g->roots);
	free(g->state);
	free(g->starts);
	free(g->rank);
	free(g->runs);
	free(g->firsts);
	memset(g, 0, sizeof(*g));
}
