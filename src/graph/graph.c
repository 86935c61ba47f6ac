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
#include "xalloc.h"

#define WINDOW (1u << 20)

const char *const leak_state_names[LEAK_NSTATES] = {
	[LEAK_REACHABLE] = "reachable", [LEAK_POSSIBLY] = "possibly lost",
	[LEAK_INDIRECTLY] = "indirectly lost", [LEAK_DEFINITELY] = "definitely lost",
};

long graph_find(const struct graph *g, uint64_t addr)
{
	size_t lo = 0, hi = g->n;
	while (lo < hi) { /* the last block starting at or below addr */
		size_t mid = lo + (hi - lo) / 2;
		if (g->addr[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	size_t i = lo - 1;
	return addr < g->addr[i] + (g->size[i] ? g->size[i] : 1) ? (long)i : -1;
}

/* Edges as they are found: pairs, turned into CSR arrays at the end. */
struct pairs {
	uint32_t *from, *to;
	size_t n, alloc;
};

static void pair_add(struct pairs *p, uint32_t from, uint32_t to)
{
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? p->alloc * 2 : 1024;
		p->from = xrealloc(p->from, p->alloc * sizeof(*p->from));
		p->to = xrealloc(p->to, p->alloc * sizeof(*p->to));
	}
	p->from[p->n] = from;
	p->to[p->n++] = to;
}

struct scan {
	struct graph *g;
	const struct memsrc *m;
	struct pairs start, interior;
	uint64_t lo, hi; /* the range every block lies in: a cheap first filter */
	size_t roots_alloc;
	uint8_t *win;
};

static void add_root(struct scan *s, uint64_t where, long j, bool interior, enum root_kind kind, int thread)
{
	struct graph *g = s->g;
	ALLOC_GROW(g->roots, g->nroots + 1, s->roots_alloc);
	g->roots[g->nroots++] = (struct root_ref){ where, (uint32_t)j, (uint8_t)kind, interior, (int16_t)thread };
}

/* One word at where (value v): a pointer into a block becomes an edge from `from`, or a root. */
static void word(struct scan *s, uint64_t where, uint64_t v, long from, const struct root_range *r)
{
	if (v < s->lo || v >= s->hi)
		return;
	long j = graph_find(s->g, v);
	if (j < 0 || j == from)
		return;
	bool interior = v != s->g->addr[j];
	if (r)
		add_root(s, where, j, interior, r->kind, r->thread);
	else
		pair_add(interior ? &s->interior : &s->start, (uint32_t)from, (uint32_t)j);
}

/* The words of [lo, hi), read a window at a time; unreadable parts are skipped. */
static void scan_range(struct scan *s, uint64_t lo, uint64_t hi, long from, const struct root_range *r)
{
	lo = (lo + 7) & ~7ull;
	while (lo < hi && hi - lo >= 8) {
		size_t want = hi - lo < WINDOW ? (size_t)(hi - lo) : WINDOW;
		ssize_t got = s->m->read(s->m->ctx, lo, s->win, want);
		if (got < 8) {
			lo = (lo | 4095) + 1; /* an unreadable page: on to the next */
			continue;
		}
		for (size_t off = 0; off + 8 <= (size_t)got; off += 8) {
			uint64_t v;
			memcpy(&v, s->win + off, 8);
			word(s, lo + off, v, from, r);
		}
		s->g->words_scanned += (uint64_t)got / 8;
		lo += (uint64_t)got & ~7ull;
	}
}

/* Blocks in address order: one read covers many neighbours. */
static void scan_blocks(struct scan *s)
{
	struct graph *g = s->g;
	uint64_t base = 0;
	size_t have = 0;
	for (size_t i = 0; i < g->n; i++) {
		uint64_t a = g->addr[i], len = g->size[i] & ~7ull;
		if (len > WINDOW / 2) {
			scan_range(s, a, a + len, (long)i, NULL);
			have = 0;
			continue;
		}
		if (!have || a < base || a + len > base + have) {
			ssize_t got = s->m->read(s->m->ctx, a, s->win, WINDOW);
			base = a;
			have = got > 0 ? (size_t)got : 0;
			if (a + len > base + have) { /* the window ends early (a mapping's end): this block alone */
				have = 0;
				scan_range(s, a, a + len, (long)i, NULL);
				continue;
			}
		}
		const uint8_t *p = s->win + (a - base);
		for (uint64_t off = 0; off < len; off += 8) {
			uint64_t v;
			memcpy(&v, p + off, 8);
			word(s, a + off, v, (long)i, NULL);
		}
		g->words_scanned += len / 8;
	}
}

/* CSR of pairs by their first member (by_from) or second: offsets n + 1, entries p->n. */
static void to_csr(const struct pairs *p, size_t n, bool by_from, uint32_t **off_out, uint32_t **ent_out)
{
	uint32_t *off = xcalloc(n + 1, sizeof(*off));
	uint32_t *ent = xmalloc((p->n ? p->n : 1) * sizeof(*ent));
	const uint32_t *key = by_from ? p->from : p->to, *val = by_from ? p->to : p->from;
	for (size_t k = 0; k < p->n; k++)
		off[key[k] + 1]++;
	for (size_t i = 0; i < n; i++)
		off[i + 1] += off[i];
	uint32_t *fill = xmalloc((n ? n : 1) * sizeof(*fill));
	memcpy(fill, off, n * sizeof(*fill));
	for (size_t k = 0; k < p->n; k++)
		ent[fill[key[k]]++] = val[k];
	free(fill);
	*off_out = off;
	*ent_out = ent;
}

int graph_build(struct graph *g, const struct graph_input *in, struct mlz_err *err)
{
	memset(g, 0, sizeof(*g));
	if (in->n > UINT32_MAX - 1)
		return mlz_error(err, "too many blocks for the graph (%zu)", in->n);
	g->n = in->n;
	g->addr = xmalloc((in->n ? in->n : 1) * sizeof(*g->addr));
	g->size = xmalloc((in->n ? in->n : 1) * sizeof(*g->size));
	if (in->n) {
		memcpy(g->addr, in->addr, in->n * sizeof(*g->addr));
		memcpy(g->size, in->size, in->n * sizeof(*g->size));
	}
	for (size_t i = 1; i < in->n; i++)
		if (g->addr[i] < g->addr[i - 1])
			return mlz_error(err, "the blocks are not sorted by address");
	struct scan s = { .g = g, .m = in->m, .win = xmalloc(WINDOW) };
	if (in->n) {
		s.lo = g->addr[0];
		s.hi = g->addr[in->n - 1] + g->size[in->n - 1];
	}
	scan_blocks(&s);
	for (size_t i = 0; i < in->nranges; i++)
		scan_range(&s, in->ranges[i].lo, in->ranges[i].hi, -1, &in->ranges[i]);
	for (size_t i = 0; i < in->nregs; i++) {
		struct root_range r = { 0, 0, ROOT_REGISTER, in->regs[i].thread };
		word(&s, (uint64_t)in->regs[i].reg, in->regs[i].value, -1, &r);
	}
	free(s.win);
	to_csr(&s.start, g->n, true, &g->out_off, &g->out);
	to_csr(&s.start, g->n, false, &g->in_off, &g->in);
	to_csr(&s.interior, g->n, true, &g->iout_off, &g->iout);
	to_csr(&s.interior, g->n, false, &g->iin_off, &g->iin);
	/* roots by the block they point into */
	g->root_off = xcalloc(g->n + 1, sizeof(*g->root_off));
	g->root_idx = xmalloc((g->nroots ? g->nroots : 1) * sizeof(*g->root_idx));
	for (size_t r = 0; r < g->nroots; r++)
		g->root_off[g->roots[r].block + 1]++;
	for (size_t i = 0; i < g->n; i++)
		g->root_off[i + 1] += g->root_off[i];
	uint32_t *fill = xmalloc((g->n ? g->n : 1) * sizeof(*fill));
	memcpy(fill, g->root_off, g->n * sizeof(*fill));
	for (size_t r = 0; r < g->nroots; r++)
		g->root_idx[fill[g->roots[r].block]++] = (uint32_t)r;
	free(fill);
	free(s.start.from);
	free(s.start.to);
	free(s.interior.from);
	free(s.interior.to);
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
void graph_classify(struct graph *g)
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
	while (sp) {
		uint32_t i = stack[--sp];
		bool definite = g->state[i] == LEAK_REACHABLE;
		for (uint32_t e = g->out_off[i]; e < g->out_off[i + 1]; e++)
			MARK(g->out[e], definite);
		for (uint32_t e = g->iout_off[i]; e < g->iout_off[i + 1]; e++)
			MARK(g->iout[e], false);
	}
#undef MARK
	for (size_t b = 0; b < g->n; b++) {
		if (g->state[b] != UNREACHED)
			continue;
		g->state[b] = LEAK_DEFINITELY; /* a leader, until another leader reaches it */
		sp = 0;
		stack[sp++] = (uint32_t)b;
		while (sp) {
			uint32_t i = stack[--sp];
			for (int pass = 0; pass < 2; pass++) {
				const uint32_t *off = pass ? g->iout_off : g->out_off, *ent = pass ? g->iout : g->out;
				for (uint32_t e = off[i]; e < off[i + 1]; e++) {
					uint32_t j = ent[e];
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
}

long graph_path(const struct graph *g, uint32_t target, size_t *root, uint32_t **chain)
{
	if (target >= g->n)
		return -1;
	/* Backwards from target, breadth first: the first block a root points at closes the shortest chain. */
	uint32_t *next = xmalloc(g->n * sizeof(*next)); /* towards target; UINT32_MAX: not seen */
	uint32_t *queue = xmalloc(g->n * sizeof(*queue));
	memset(next, 0xff, g->n * sizeof(*next));
	size_t head = 0, tail = 0;
	long found = -1;
	next[target] = target;
	queue[tail++] = target;
	while (head < tail && found < 0) {
		uint32_t i = queue[head++];
		if (g->root_off[i] != g->root_off[i + 1]) {
			/* a start pointer from a root beats an interior one */
			size_t best = g->root_idx[g->root_off[i]];
			for (uint32_t k = g->root_off[i]; k < g->root_off[i + 1]; k++)
				if (!g->roots[g->root_idx[k]].interior) {
					best = g->root_idx[k];
					break;
				}
			*root = best;
			found = i;
			break;
		}
		for (int pass = 0; pass < 2; pass++) {
			const uint32_t *off = pass ? g->iin_off : g->in_off, *ent = pass ? g->iin : g->in;
			for (uint32_t e = off[i]; e < off[i + 1]; e++) {
				uint32_t j = ent[e];
				if (next[j] != UINT32_MAX)
					continue;
				next[j] = i;
				queue[tail++] = j;
			}
		}
	}
	long len = 0;
	*chain = NULL;
	if (found >= 0) {
		for (uint32_t i = (uint32_t)found;; i = next[i]) {
			len++;
			if (i == target)
				break;
		}
		*chain = xmalloc((size_t)len * sizeof(**chain));
		long k = 0;
		for (uint32_t i = (uint32_t)found;; i = next[i]) {
			(*chain)[k++] = i;
			if (i == target)
				break;
		}
	}
	free(next);
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
	free(g->iout_off);
	free(g->iout);
	free(g->iin_off);
	free(g->iin);
	free(g->roots);
	free(g->root_off);
	free(g->root_idx);
	free(g->state);
	memset(g, 0, sizeof(*g));
}
