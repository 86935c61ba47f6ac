/* SPDX-License-Identifier: GPL-3.0-or-later */
/* graph.h - who points at whom: live blocks, roots, a pointer scan, and memcheck's leak classes. */
#ifndef MLZ_GRAPH_H
#define MLZ_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cancel.h"
#include "err.h"
#include "memsrc.h"

/*
 * Usage:
 *	struct graph g = { 0 };
 *	graph_build(&g, &in, &err);    // every block and root scanned, word by word
 *	graph_classify(&g, cancel);    // reachable, possibly, indirectly, definitely lost
 *	... g.state[i], graph_find(&g, addr) ...
 *	graph_release(&g);
 * Edges are kept both ways (CSR arrays) so queries after the scan are instant.
 */

enum root_kind { ROOT_REGISTER, ROOT_STACK, ROOT_DATA, ROOT_TLS, ROOT_MAPPING };

/* Where roots are: a range of memory (a stack from its pointer, a module's data, TLS, another
   anonymous mapping) or a register. */
struct root_range {
	uint64_t lo, hi;
	enum root_kind kind;
	int thread;          /* index into the caller's thread list, -1 for data */
};
struct root_reg {
	uint64_t value;
	int thread;
	int reg;             /* index in struct user_regs_struct, by 8-byte words */
};

/*
 * A scan made as the heap is walked, so the heap is read once: each block's
 * words that fall where blocks lie (the spans) kept as 32-bit codes, resolved
 * to edges once every block is known. A code is the word's 16-byte grain,
 * counted across the spans, and where in its grain the word points (at its
 * start, below 8, at 8, above 8): blocks start on a grain and end on a
 * multiple of 8, so that decides as the word would whether it lands in a
 * block, and at its start.
 */
struct gspace {
	uint64_t (*span)[2]; /* sorted, disjoint; each span's start rounded down to a grain */
	uint64_t *base;      /* the first grain of each span, and the total after the last */
	size_t n;
	uint64_t lo, len;    /* every span in [lo, lo + len): the cheap first filter */
};
/* false (sp empty) when the spans hold more grains than a code can name (16 GiB). */
bool gspace_init(struct gspace *sp, const uint64_t (*v)[2], size_t n);
void gspace_release(struct gspace *sp);
/* The words of bytes[0, len) (len a multiple of 8) that fall in a span, coded into out (room for len / 8 codes). */
size_t gspace_scan(const struct gspace *sp, const uint8_t *bytes, size_t len, uint32_t *out);
/* A word that has code c, as far as the graph can tell. */
uint64_t gspace_word(const struct gspace *sp, uint32_t c, size_t *hint);

struct gfirst;

struct graph_input {
	const struct memsrc *m;
	uint64_t *addr;        /* live blocks, sorted by address (user pointers); the graph takes them over */
	uint32_t *size;        /* their usable sizes (clamped to 4 GiB), taken over too */
	size_t n;
	const struct root_range *ranges; /* each within one mapping: a range is read up to its first unreadable byte */
	size_t nranges;
	const struct root_reg *regs;
	size_t nregs;
	struct cancel *cancel; /* asked as the scan goes: NULL never ends it */
	/* sorted, disjoint: a block whose first word points into one is kept in graph.firsts (NULL: none) */
	const uint64_t (*first_in)[2];
	size_t nfirst_in;
	/*
	 * Blocks scanned as the heap was walked (space NULL: graph_build reads
	 * every block): block i's words coded in space are cand[cand_off[i] ..
	 * cand_off[i + 1]); firsts, by block, are the walk's first words in
	 * first_in, and words the words it scanned. cand_off, cand and firsts
	 * are taken over: the edges are resolved into the first two in place.
	 */
	const struct gspace *space;
	uint32_t *cand_off, *cand;
	struct gfirst *firsts;
	size_t nfirsts;
	uint64_t words;
};

/* A block whose first word points into one of graph_input's first_in ranges (a C++ object's vtable). */
struct gfirst {
	uint32_t block;
	uint64_t word;
};

/* A pointer from a root into a block. */
struct root_ref {
	uint64_t where;      /* the word's address, or the register's index */
	uint32_t block;
	uint8_t kind;        /* enum root_kind */
	bool interior;
	int16_t thread;
};

enum leak_state { LEAK_REACHABLE, LEAK_POSSIBLY, LEAK_INDIRECTLY, LEAK_DEFINITELY, LEAK_NSTATES };
extern const char *const leak_state_names[LEAK_NSTATES];

/* An interior pointer: rare, so kept as pairs (sorted both ways) rather than per-block offsets. */
struct gedge {
	uint32_t from, to;
};

/*
 * 17 bytes per block (address, size, the outgoing CSR's offset, state) and 4
 * per start pointer; the incoming edges, when a query asks for them, 4 more
 * per block and per start pointer.
 */
struct graph {
	size_t n;
	uint64_t *addr;
	uint32_t *size;
	uint32_t *out_off, *out;      /* start pointers from block i: out[out_off[i] .. out_off[i + 1]) */
	uint32_t *in_off, *in;        /* the same reversed: NULL until graph_reverse */
	struct gedge *ifrom, *ito;    /* interior pointers sorted by source, and by target (graph_reverse) */
	size_t ninterior;
	struct root_ref *roots;       /* sorted by block */
	size_t nroots;
	uint8_t *state;               /* enum leak_state, after graph_classify */
	struct gfirst *firsts;        /* by block */
	size_t nfirsts;
	uint64_t words_scanned;
	double stopped_ms;            /* graph_take: how long the process was stopped to build it */
	/* graph_take: where its time went (ms): the heap walk, the roots, the scan of blocks and roots, the classes */
	double walk_ms, roots_ms, scan_ms, classify_ms;
	size_t walk_parts, scan_parts; /* how many threads walked the heap, and scanned the blocks */
	/*
	 * Where blocks start, for graph_find: per run of small blocks, a bit for
	 * each 16 bytes, set where a block starts (starts), and per 64 bits the
	 * number of blocks that start before them (rank): a block's index is a
	 * popcount away.
	 */
	uint64_t *starts;
	uint32_t *rank;
	struct grun {
		uint64_t lo, hi;      /* a stretch of blocks without a gap of a page or more, page-aligned */
		size_t word0;         /* its first word in starts and rank; SIZE_MAX: none, binary search */
		uint32_t first, count; /* its blocks */
	} *runs;
	size_t nruns;
};

/* The roots that point into block i: roots[*first .. *first + count). */
size_t graph_roots_of(const struct graph *g, uint32_t i, size_t *first);
/*
 * The incoming edges (in_off, in, ito), built on the first call: a graph is
 * built with the outgoing ones only. path and backrefs_find call it.
 */
void graph_reverse(struct graph *g);
/* Interior pointers into block i: g->ito[*first .. *first + count) (after graph_reverse); out of it: g->ifrom[...]. */
size_t graph_interior_in(const struct graph *g, uint32_t i, size_t *first);
size_t graph_interior_out(const struct graph *g, uint32_t i, size_t *first);

/* On failure (a cancel ended it: MLZ_E_INTERRUPTED) g is released, the block arrays with it. */
int graph_build(struct graph *g, const struct graph_input *in, struct mlz_err *err);
/* memcheck's classes: reachable from roots by start pointers; possibly (an interior pointer on the
 * way); the rest in cliques, each led by a definitely lost block, the others indirectly lost.
 * Returns -1 when cancel ended it (g->state is then incomplete), else 0. */
int graph_classify(struct graph *g, struct cancel *cancel);
/* The block that holds addr (its start or inside it), or -1. */
long graph_find(const struct graph *g, uint64_t addr);
/* Whether one of the n sorted, disjoint ranges [lo, hi) in r holds v. */
bool graph_ranges_hold(const uint64_t (*r)[2], size_t n, uint64_t v);
void graph_release(struct graph *g);

/*
 * The shortest chain from a root to block target over start and interior
 * pointers: *root gets the root's index, chain the blocks from the first one
 * a root points at to target (caller frees). Returns the chain's length, 0
 * when no root reaches it, -1 for a bad target.
 */
long graph_path(struct graph *g, uint32_t target, size_t *root, uint32_t **chain);

struct target;
struct sym;
struct glibc_where;
/* What the graph of a target leaves out beyond the allocator's own memory. */
struct graph_take_opts {
	const uint64_t (*skip)[2]; /* areas that are not the program's: mlyze's scratch areas */
	size_t nskip;
	struct cancel *cancel;     /* asked through the walk, the scan and the classes; NULL never */
	const struct glibc_where *where; /* glibc's state when known (fuzzing): not located, sym unused */
	/*
	 * Work the caller has for the built graph that needs neither the
	 * classes nor what they write (typing): run on this thread while a
	 * helper classifies (on one processor the two take turns). Its failure
	 * (-1) fails graph_take, the graph released.
	 */
	int (*beside)(void *arg, struct graph *g);
	void *beside_arg;
};
/*
 * The graph of a target the caller holds still (or a core): its blocks from a
 * heap walk and its roots (registers, stacks, TLS, modules' data, anonymous
 * writable mappings), built and classified. -1 with MLZ_E_INTERRUPTED when
 * the cancel ended it; g is then released.
 */
int graph_take(struct target *t, struct sym *sym, const struct graph_take_opts *o, struct graph *g,
	       struct mlz_err *err);

#endif
