// SPDX-License-Identifier: GPL-3.0-or-later
/* blocktab.c - live blocks by address: Robin Hood linear probing, backward-shift deletion, 24-byte entries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "xalloc.h"

static inline size_t slot_of(uint64_t addr, size_t cap)
{
	/* Blocks are 16-byte aligned: mix the rest, then map onto [0, cap) without a modulo. */
	uint64_t h = (addr >> 4) * 0x9E3779B97F4A7C15ull;
	return (size_t)(((unsigned __int128)h * cap) >> 64);
}

/* How far the block in slot i is from its home slot (the table is circular). */
static inline size_t dist(const struct block *v, size_t cap, size_t i)
{
	size_t home = slot_of(v[i].addr, cap);
	return i >= home ? i - home : i + cap - home;
}

/*
 * Robin Hood: an entry that has come further from its home than the one in
 * its way takes the slot, and the other goes on. Every run then holds its
 * entries in home order, a search stops at the first entry nearer its home
 * than the search is to its own, and the table can be 90 % full with short
 * probes where plain linear probing needs some 30 for a miss at that load.
 */
static void place_from(struct block *v, size_t cap, struct block cur, size_t i, size_t d)
{
	while (v[i].addr) {
		size_t di = dist(v, cap, i);
		if (di < d) {
			struct block t = v[i];
			v[i] = cur;
			cur = t;
			d = di;
		}
		i = i + 1 == cap ? 0 : i + 1;
		d++;
	}
	v[i] = cur;
}

static void place(struct block *v, size_t cap, const struct block *b)
{
	place_from(v, cap, *b, slot_of(b->addr, cap), 0);
}

/* Grown by an eighth past 90 % full: between 80 and 90 % full, 26.7 to 30 bytes per live block. */
static void grow(struct blocktab *bt)
{
	size_t ncap = bt->cap ? bt->cap + bt->cap / 8 : 1024;
	/* zeroed by writing: place() reads a slot before it writes it (u64map.c's grow says why) */
	struct block *nv = memset(xmalloc(ncap * sizeof(*nv)), 0, ncap * sizeof(*nv));
	for (size_t i = 0; i < bt->cap; i++)
		if (bt->v[i].addr)
			place(nv, ncap, &bt->v[i]);
	free(bt->v);
	bt->v = nv;
	bt->cap = ncap;
}

static struct block *find(const struct blocktab *bt, uint64_t addr)
{
	if (!bt->cap)
		return NULL;
	size_t i = slot_of(addr, bt->cap);
	for (size_t d = 0; bt->v[i].addr; d++) {
		if (bt->v[i].addr == addr)
			return &bt->v[i];
		if (dist(bt->v, bt->cap, i) < d)
			return NULL; /* it would have taken this slot */
		i = i + 1 == bt->cap ? 0 : i + 1;
	}
	return NULL;
}

bool blocktab_put(struct blocktab *bt, uint64_t addr, uint64_t size, uint32_t stack, uint64_t seq,
		  struct block *prev)
{
	if (size > BLOCK_MAX_SIZE)
		size = BLOCK_MAX_SIZE;
	struct block b = { .addr = addr, .size = size, .seq_hi = (uint32_t)(seq >> 32), .stack = stack,
			   .seq_lo = (uint32_t)seq };
	if ((bt->n + 1) * 10 > bt->cap * 9)
		grow(bt); /* before the search: a replacement then grew it early, harmlessly */
	/* one pass: the block at addr if there is one, else the slot it takes (place_from's rule) */
	size_t i = slot_of(addr, bt->cap), d = 0;
	for (;; d++) {
		struct block *e = &bt->v[i];
		if (e->addr == addr) {
			if (prev)
				*prev = *e;
			bt->bytes += size - e->size;
			*e = b;
			return true;
		}
		size_t de = e->addr ? dist(bt->v, bt->cap, i) : 0;
		if (!e->addr || de < d) {
			struct block carried = *e;
			*e = b;
			if (carried.addr)
				place_from(bt->v, bt->cap, carried, i + 1 == bt->cap ? 0 : i + 1, de + 1);
			break;
		}
		i = i + 1 == bt->cap ? 0 : i + 1;
	}
	bt->n++;
	bt->bytes += size;
	return false;
}

bool blocktab_del(struct blocktab *bt, uint64_t addr, struct block *out)
{
	struct block *b = find(bt, addr);
	if (!b)
		return false;
	if (out)
		*out = *b;
	bt->bytes -= b->size;
	bt->n--;
	/* Backward shift: the rest of the run, up to an entry at its home, one slot back (no tombstones). */
	size_t hole = (size_t)(b - bt->v), i = hole;
	for (;;) {
		i = i + 1 == bt->cap ? 0 : i + 1;
		if (!bt->v[i].addr || dist(bt->v, bt->cap, i) == 0)
			break;
		bt->v[hole] = bt->v[i];
		hole = i;
	}
	memset(&bt->v[hole], 0, sizeof(bt->v[hole]));
	return true;
}

const struct block *blocktab_get(const struct blocktab *bt, uint64_t addr)
{
	return find(bt, addr);
}

void blocktab_clear(struct blocktab *bt)
{
	free(bt->v);
	*bt = (struct blocktab){ 0 };
}

size_t blocktab_memory(const struct blocktab *bt)
{
	return bt->cap * sizeof(struct block);
}

void by_stack_copy(struct by_stack *dst, const struct stack_live *src, size_t n, uint64_t bytes, uint64_t count)
{
	if (dst->alloc < n || !dst->v) {
		free(dst->v);
		dst->alloc = n ? n : 1;
		dst->v = xcalloc(dst->alloc, sizeof(*dst->v));
	}
	if (n)
		memcpy(dst->v, src, n * sizeof(*src));
	dst->n = n;
	dst->bytes = bytes;
	dst->count = count;
	memset(dst->untraced, 0, sizeof(dst->untraced));
	dst->walked = false;
}

unsigned untraced_class(uint64_t size)
{
	unsigned c = 0;
	while (c + 1 < UNTRACED_CLASSES && size > (32ull << c))
		c++;
	return c;
}

void untraced_class_label(unsigned cls, char *buf, size_t len)
{
	snprintf(buf, len, "%llu-%llu", cls ? (16ull << cls) + 1 : 1ull, 32ull << cls);
}

void stack_holds_by(struct stack_holds *h, const struct by_stack *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].count)
			stack_holds_set(h, (uint32_t)i);
}

void by_stack_release(struct by_stack *b)
{
	free(b->v);
	*b = (struct by_stack){ 0 };
}
