/* SPDX-License-Identifier: GPL-3.0-or-later */
/* blocks.h - the live-block table (address -> size, stack, sequence) and the deduplicated stacks. */
#ifndef MLZ_BLOCKS_H
#define MLZ_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One live block in 24 bytes: the thread that allocated it is part of its
 * stack id (stacks are deduplicated per thread), and its time follows from its
 * sequence number through the clock index below.
 */
struct block {
	uint64_t addr;
	uint64_t size : 40;   /* requested bytes (blocks of 1 TiB and more are clamped) */
	uint64_t seq_hi : 24;
	uint32_t stack;       /* stack id, see struct stacktab */
	uint32_t seq_lo;
};

#define BLOCK_MAX_SIZE ((1ull << 40) - 1)

static inline uint64_t block_seq(const struct block *b) { return ((uint64_t)b->seq_hi << 32) | b->seq_lo; }

/*
 * Open addressing with Robin Hood linear probing and backward-shift deletion
 * (no tombstones), on a capacity that grows by an eighth, so the table stays
 * between 80 % and 90 % full: 26.7 to 30 bytes per live block.
 */
struct blocktab {
	struct block *v;
	size_t cap, n;
	uint64_t bytes; /* sum of live sizes */
};

/* Insert or replace (a missed free) the block at addr; returns true if it replaced one, then in *old. */
bool blocktab_put(struct blocktab *bt, uint64_t addr, uint64_t size, uint32_t stack, uint64_t seq,
		  struct block *old);
/* Remove the block at addr into *out (may be NULL); false if there was none. */
bool blocktab_del(struct blocktab *bt, uint64_t addr, struct block *out);
const struct block *blocktab_get(const struct blocktab *bt, uint64_t addr);
void blocktab_clear(struct blocktab *bt);
/* Bytes of memory the table itself holds. */
size_t blocktab_memory(const struct blocktab *bt);
/* Visit every block (order unspecified). */
#define BLOCKTAB_FOREACH(bt, b) \
	for (const struct block *b = (bt)->v; (bt)->v && b < (bt)->v + (bt)->cap; b++) \
		if (b->addr)

/*
 * Stacks: each distinct (thread index, PCs) gets an id. PCs are raw: pcs[0] is
 * the allocator entry, the others return addresses (looked up at pc - 1).
 *
 * A stack nothing refers to any more is released by a sweep and its id goes
 * on a free list for a new stack: whoever holds ids (live blocks, copies of
 * per-stack figures, calls in progress) must be marked in the holds given to
 * stacktab_sweep. Ids are never moved, so holders need no remapping; memos
 * keyed by id are stale when epoch changes.
 */
struct stack_rec {
	uint64_t off;   /* into pcs; STACK_FREE for a released id */
	uint32_t hash;
	uint16_t depth;
	uint16_t tidx;  /* index of the thread in struct stacktab.tids */
};
#define STACK_FREE UINT64_MAX
#define STACK_NONE UINT32_MAX /* stacktab_lookup: not there */

struct stacktab {
	uint64_t *pcs;
	size_t npcs, pcs_alloc;
	struct stack_rec *recs;
	size_t n, alloc;     /* ids 0 .. n - 1, the released ones among them */
	uint32_t *index;     /* open addressing over ids + 1 (0 = empty) */
	size_t index_cap;
	int *tids;           /* thread index -> tid */
	size_t ntids, tids_alloc;
	uint32_t *free_ids;  /* released ids, the next one to reuse last */
	size_t nfree, free_alloc;
	uint64_t made;       /* stacks ever made, reused ids included */
	uint64_t released;   /* stacks released by sweeps */
	uint64_t sweeps;
	uint32_t epoch;      /* changes whenever ids are released */
};

/* The id of the stack (deduplicated). */
uint32_t stacktab_intern(struct stacktab *st, uint16_t tidx, const uint64_t *pcs, int depth);
/* The id of the stack if it is there, else STACK_NONE. */
uint32_t stacktab_lookup(const struct stacktab *st, uint16_t tidx, const uint64_t *pcs, int depth);
/* A new id for a stack stacktab_lookup did not find (a released id first). */
uint32_t stacktab_add(struct stacktab *st, uint16_t tidx, const uint64_t *pcs, int depth);
/* Bytes the tables would grow by if stacktab_add made a stack of depth frames now. */
size_t stacktab_add_cost(const struct stacktab *st, int depth);
/* The id stacktab_add would give now (ids at n or above grow per-id arrays). */
static inline uint32_t stacktab_next_id(const struct stacktab *st)
{
	return st->nfree ? st->free_ids[st->nfree - 1] : (uint32_t)st->n;
}
/* The thread index of tid, allocated on first use. */
uint16_t stacktab_thread(struct stacktab *st, int tid);
static inline const uint64_t *stacktab_pcs(const struct stacktab *st, uint32_t id, int *depth)
{
	*depth = st->recs[id].depth;
	return st->pcs + st->recs[id].off;
}
/* Stacks in the table now (made less released). */
static inline size_t stacktab_count(const struct stacktab *st) { return st->n - st->nfree; }

/* The ids someone holds, as a bitmap over ids 0 .. n - 1. */
struct stack_holds {
	uint64_t *bits;
	size_t n;
};
static inline void stack_holds_set(struct stack_holds *h, uint32_t id)
{
	if (id < h->n)
		h->bits[id / 64] |= 1ull << (id % 64);
}
static inline bool stack_holds_has(const struct stack_holds *h, uint32_t id)
{
	return id < h->n && (h->bits[id / 64] >> (id % 64)) & 1;
}
struct by_stack;
/* Every stack b has live figures for. */
void stack_holds_by(struct stack_holds *h, const struct by_stack *b);
/*
 * Release every stack h does not hold: its id goes on the free list, its PCs
 * are dropped (the rest are packed). Returns how many were released.
 */
size_t stacktab_sweep(struct stacktab *st, const struct stack_holds *h);
size_t stacktab_memory(const struct stacktab *st);
void stacktab_release(struct stacktab *st);

/* Live count and bytes of one stack: the unit every grouping (site, function, file) adds up. */
struct stack_live {
	uint64_t bytes;
	uint64_t count;
};

/*
 * Blocks the heap walk found that tracing never saw (allocated before attach,
 * or with tracing off) have no stack: they are added up by size class, the
 * usable size's power of two: class c holds 2^(c+4)+1 .. 2^(c+5) bytes (c 0: 1..32).
 */
#define UNTRACED_CLASSES 40
unsigned untraced_class(uint64_t size);
/* "33-64" for class 1. */
void untraced_class_label(unsigned cls, char *buf, size_t len);

/* A copy of per-stack figures: one per snapshot, growth point, phase boundary and the peak. */
struct by_stack {
	struct stack_live *v;
	size_t n;           /* stacks known when it was taken */
	size_t alloc;       /* entries of v */
	uint64_t bytes, count; /* all of it, untraced included */
	struct stack_live untraced[UNTRACED_CLASSES];
	bool walked;        /* the untraced figures come from a heap walk */
};
void by_stack_copy(struct by_stack *dst, const struct stack_live *src, size_t n, uint64_t bytes, uint64_t count);
void by_stack_release(struct by_stack *b);
/* Bytes of memory a copy holds. */
static inline size_t by_stack_memory(const struct by_stack *b) { return b->alloc * sizeof(*b->v); }

/*
 * Time of events from their sequence numbers: one (seq, time) pair whenever a
 * new 100 ms tick sees an event, so the time of any event is exact to its tick.
 */
struct clockidx {
	struct { uint64_t seq; uint32_t tick; } *v;
	size_t n, alloc;
};
#define CLOCK_TICK_MS 100
void clockidx_note(struct clockidx *c, uint64_t seq, uint32_t tick);
/* The tick of the event with sequence number seq. */
uint32_t clockidx_tick(const struct clockidx *c, uint64_t seq);
void clockidx_release(struct clockidx *c);

#endif
