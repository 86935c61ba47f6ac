// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * test-graph.c - the reference graph over a heap image in a buffer: every
 * pointer found (start and interior), graph_find against a linear search,
 * the incoming edges (graph_reverse) against the outgoing ones reversed by
 * hand, the same from words coded as the heap walk codes them (gspace), and
 * memcheck's classes on a heap whose answer is known.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graph.h"
#include "xalloc.h"

#define BASE 0x10000000ull

struct image {
	uint8_t *bytes;
	uint64_t base;
	size_t len;
};

static ssize_t image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct image *im = ctx;
	if (addr < im->base || addr >= im->base + im->len)
		return -1;
	size_t off = addr - im->base, n = im->len - off < len ? im->len - off : len;
	memcpy(buf, im->bytes + off, n);
	return (ssize_t)n;
}

static void put(struct image *im, uint64_t addr, uint64_t v)
{
	memcpy(im->bytes + (addr - im->base), &v, 8);
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A heap of n blocks of 16..512 bytes aligned on 16 (glibc's), or of 4..20
 * KiB (too few for their runs to get a start bitmap), or of 8 bytes on 8 (two
 * may share 16 bytes: no run gets a bitmap), with gaps, some of them a page
 * or more, each word random: a pointer or not.
 */
struct heap {
	struct image im;
	uint64_t *addr;
	uint32_t *size;
	size_t n;
	uint32_t *expect; /* per word of every block: the block it points at (start pointers only), or UINT32_MAX */
};

static void make_heap(struct heap *h, size_t n, uint64_t seed, uint64_t align, bool big)
{
	h->n = n;
	h->addr = xmalloc(n * sizeof(*h->addr));
	h->size = xmalloc(n * sizeof(*h->size));
	uint64_t at = BASE + 16;
	for (size_t i = 0; i < n; i++) {
		h->addr[i] = at;
		h->size[i] = (uint32_t)(align != 16 ? 8 : big ? 4096 + 8 * (rng(&seed) % 2048) : 16 + 8 * (rng(&seed) % 63));
		at += h->size[i] + align * (rng(&seed) % 4);
		if (rng(&seed) % (align == 16 && !big ? 400 : 20) == 0)
			at += 4096 * (1 + rng(&seed) % 3); /* a gap: a new run */
		at = (at + align - 1) & ~(align - 1);
	}
	h->im = (struct image){ xcalloc(1, at - BASE + 64), BASE, at - BASE + 64 };
	for (size_t i = 0; i < n; i++)
		for (uint64_t off = 0; off < h->size[i]; off += 8) {
			uint64_t r = rng(&seed), v;
			switch (r % 4) {
			case 0: v = h->addr[r / 4 % n]; break;                         /* a start pointer */
			case 1: /* any byte of a block or of the 16 after it (its end, the next header) */
				v = h->addr[r / 4 % n] + rng(&seed) % (h->size[r / 4 % n] + 16);
				break;
			case 2: v = BASE + rng(&seed) % (at - BASE); break;           /* anywhere: a block, a gap, a header */
			default: v = r;                                                 /* not a pointer */
			}
			put(&h->im, h->addr[i] + off, v);
		}
}

/* The block holding v, by the plainest search there is: the last block starting at or below it. */
static long block_of(const struct heap *h, uint64_t v)
{
	size_t lo = 0, hi = h->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (h->addr[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && v < h->addr[lo - 1] + h->size[lo - 1] ? (long)lo - 1 : -1;
}

static void build(struct heap *h, struct graph *g, const struct root_range *ranges, size_t nranges)
{
	struct memsrc m = { image_read, &h->im };
	uint64_t *addr = xmalloc(h->n * sizeof(*addr));
	uint32_t *size = xmalloc(h->n * sizeof(*size));
	memcpy(addr, h->addr, h->n * sizeof(*addr));
	memcpy(size, h->size, h->n * sizeof(*size));
	struct graph_input in = { .m = &m, .addr = addr, .size = size, .n = h->n, .ranges = ranges, .nranges = nranges };
	struct mlz_err err;
	assert_int_equal(graph_build(g, &in, &err), 0);
}

/*
 * The same graph from the blocks' words coded as a heap walk codes them
 * (gspace): every stretch of blocks a span of its own, so a code crosses
 * spans, and the edges resolved in place.
 */
static void build_coded(struct heap *h, struct graph *g)
{
	struct memsrc m = { image_read, &h->im };
	uint64_t(*spans)[2] = xmalloc(h->n * sizeof(*spans));
	size_t nspans = 0;
	for (size_t i = 0; i < h->n; i++) {
		uint64_t end = h->addr[i] + h->size[i];
		if (nspans && h->addr[i] < spans[nspans - 1][1] + 4096)
			spans[nspans - 1][1] = end;
		else
			spans[nspans][0] = h->addr[i], spans[nspans++][1] = end;
	}
	struct gspace sp;
	assert_true(gspace_init(&sp, (const uint64_t(*)[2])spans, nspans));
	assert_true(nspans > 2);
	uint32_t *off = xmalloc((h->n + 1) * sizeof(*off)), *cand = NULL;
	size_t ncand = 0, alloc = 0;
	uint64_t words = 0;
	for (size_t i = 0; i < h->n; i++) {
		off[i] = (uint32_t)ncand;
		ALLOC_GROW(cand, ncand + h->size[i] / 8 + 1, alloc);
		ncand += gspace_scan(&sp, h->im.bytes + (h->addr[i] - BASE), h->size[i], cand + ncand);
		words += h->size[i] / 8;
	}
	off[h->n] = (uint32_t)ncand;
	uint64_t *addr = xmalloc(h->n * sizeof(*addr));
	uint32_t *size = xmalloc(h->n * sizeof(*size));
	memcpy(addr, h->addr, h->n * sizeof(*addr));
	memcpy(size, h->size, h->n * sizeof(*size));
	struct graph_input in = { .m = &m, .addr = addr, .size = size, .n = h->n, .space = &sp,
				  .cand_off = off, .cand = cand, .words = words };
	struct mlz_err err;
	assert_int_equal(graph_build(g, &in, &err), 0);
	assert_int_equal(g->words_scanned, words);
	gspace_release(&sp);
	free(spans);
}

static void check_edges_and_find(uint64_t align, bool big, size_t n, bool coded)
{
	struct heap h;
	make_heap(&h, n, 0x1234567, align, big);
	struct graph g;
	if (coded)
		build_coded(&h, &g);
	else
		build(&h, &g, NULL, 0);
	assert_int_equal(g.n, h.n);
	/* small blocks on 16 bytes: their long runs indexed by a bitmap; the others: none */
	size_t indexed = 0;
	for (size_t r = 0; r < g.nruns; r++)
		indexed += g.runs[r].word0 != SIZE_MAX;
	assert_true(g.nruns > 1);
	if (align != 16 || big)
		assert_int_equal(indexed, 0);
	else
		assert_true(indexed > g.nruns / 2);
	/* graph_find against a linear search, at every block's edges and at random places */
	uint64_t seed = 99;
	for (size_t i = 0; i < h.n; i++) {
		uint64_t probes[] = { h.addr[i], h.addr[i] - 1, h.addr[i] + h.size[i] - 1, h.addr[i] + h.size[i],
				      BASE + rng(&seed) % h.im.len };
		for (size_t k = 0; k < sizeof(probes) / sizeof(*probes); k++)
			assert_int_equal(graph_find(&g, probes[k]), block_of(&h, probes[k]));
	}
	/* every word of every block: a start pointer is an out edge, an interior one an ifrom pair, in word order */
	size_t nout = 0, nint = 0;
	for (size_t i = 0; i < h.n; i++) {
		uint32_t e = g.out_off[i];
		for (uint64_t off = 0; off < h.size[i]; off += 8) {
			uint64_t v;
			memcpy(&v, h.im.bytes + (h.addr[i] + off - BASE), 8);
			long j = block_of(&h, v);
			if (j < 0 || (size_t)j == i)
				continue;
			if (v == h.addr[j]) {
				assert_true(e < g.out_off[i + 1]);
				assert_int_equal(g.out[e++], j);
				nout++;
			} else {
				nint++;
			}
		}
		assert_int_equal(e, g.out_off[i + 1]);
	}
	assert_int_equal(g.out_off[h.n], nout);
	assert_int_equal(g.ninterior, nint);
	for (size_t k = 1; k < g.ninterior; k++)
		assert_true(g.ifrom[k - 1].from <= g.ifrom[k].from);

	/* built on demand: each list of referrers is the sources in order, and as many as there are edges */
	assert_null(g.in_off);
	graph_reverse(&g);
	assert_non_null(g.in_off);
	uint32_t *count = xcalloc(h.n, sizeof(*count));
	for (size_t i = 0; i < h.n; i++)
		for (uint32_t e = g.out_off[i]; e < g.out_off[i + 1]; e++)
			count[g.out[e]]++;
	assert_int_equal(g.in_off[0], 0);
	assert_int_equal(g.in_off[h.n], nout);
	for (size_t j = 0; j < h.n; j++) {
		assert_int_equal(g.in_off[j + 1] - g.in_off[j], count[j]);
		for (uint32_t e = g.in_off[j]; e < g.in_off[j + 1]; e++) {
			uint32_t from = g.in[e];
			if (e > g.in_off[j])
				assert_true(g.in[e - 1] <= from);
			bool found = false;
			for (uint32_t f = g.out_off[from]; f < g.out_off[from + 1] && !found; f++)
				found = g.out[f] == j;
			assert_true(found);
		}
		size_t first, ni = graph_interior_in(&g, (uint32_t)j, &first);
		for (size_t k = first; k < first + ni; k++)
			assert_int_equal(g.ito[k].to, j);
	}
	graph_reverse(&g); /* a second call keeps what the first built */
	assert_int_equal(g.in_off[h.n], nout);
	free(count);
	graph_release(&g);
	free(h.im.bytes);
	free(h.addr);
	free(h.size);
}

static void edges_and_find(void **state)
{
	(void)state;
	check_edges_and_find(16, false, 3000, false);
}

/* 40 MB of blocks: scanned in parts by helper threads where there are processors for them */
static void edges_and_find_parts(void **state)
{
	(void)state;
	check_edges_and_find(16, false, 150000, false);
}

static void edges_and_find_large(void **state)
{
	(void)state;
	check_edges_and_find(16, true, 300, false);
}

/* The words coded by the walk and resolved in place: the same edges, in parts too, and in large blocks */
static void edges_and_find_coded(void **state)
{
	(void)state;
	check_edges_and_find(16, false, 3000, true);
	check_edges_and_find(16, false, 150000, true);
	check_edges_and_find(16, true, 300, true);
}

static void edges_and_find_unaligned(void **state)
{
	(void)state;
	check_edges_and_find(8, false, 3000, false);
}

/*
 * Eight blocks: a root reaches 0 -> 1 -> 2 by start pointers and 3 through
 * an interior pointer from 2 (possibly lost, and 4 with it, which 3 points
 * at); 5 -> 6 -> 7 nothing reaches (one definitely lost, two indirectly).
 */
static void classes(void **state)
{
	(void)state;
	struct heap h = { .n = 8 };
	h.addr = xmalloc(8 * sizeof(*h.addr));
	h.size = xmalloc(8 * sizeof(*h.size));
	for (size_t i = 0; i < 8; i++) {
		h.addr[i] = BASE + 16 + 64 * i;
		h.size[i] = 48;
	}
	uint64_t root = BASE + 16 + 64 * 8 + 16;
	h.im = (struct image){ xcalloc(1, 1024), BASE, 1024 };
	put(&h.im, root, h.addr[0]);
	put(&h.im, h.addr[0] + 8, h.addr[1]);
	put(&h.im, h.addr[1], h.addr[2]);
	put(&h.im, h.addr[2] + 16, h.addr[3] + 24);
	put(&h.im, h.addr[3], h.addr[4]);
	put(&h.im, h.addr[5], h.addr[6]);
	put(&h.im, h.addr[6] + 40, h.addr[7]);
	struct root_range r = { root, root + 8, ROOT_DATA, -1 };
	struct graph g;
	build(&h, &g, &r, 1);
	assert_int_equal(graph_classify(&g, NULL), 0);
	const enum leak_state want[8] = { LEAK_REACHABLE,  LEAK_REACHABLE,  LEAK_REACHABLE,  LEAK_POSSIBLY,
					  LEAK_POSSIBLY,   LEAK_DEFINITELY, LEAK_INDIRECTLY, LEAK_INDIRECTLY };
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(g.state[i], want[i]);
	/* the shortest chain to 4: the root, 0, 1, 2, 3 (an interior step), 4 */
	size_t rf;
	uint32_t *chain;
	assert_int_equal(graph_path(&g, 4, &rf, &chain), 5);
	for (uint32_t k = 0; k < 5; k++)
		assert_int_equal(chain[k], k);
	assert_int_equal(g.roots[rf].where, root);
	free(chain);
	assert_int_equal(graph_path(&g, 6, &rf, &chain), 0);
	graph_release(&g);
	free(h.im.bytes);
	free(h.addr);
	free(h.size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(edges_and_find),
		cmocka_unit_test(edges_and_find_large),
		cmocka_unit_test(edges_and_find_parts),
		cmocka_unit_test(edges_and_find_unaligned),
		cmocka_unit_test(edges_and_find_coded),
		cmocka_unit_test(classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
