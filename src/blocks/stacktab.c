// SPDX-License-Identifier: GPL-3.0-or-later
/* stacktab.c - deduplicated allocation stacks (per thread) as raw PCs, and the event clock index. */
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "xalloc.h"

static uint32_t hash_stack(uint16_t tidx, const uint64_t *pcs, int depth)
{
	uint64_t h = 0xcbf29ce484222325ull ^ tidx ^ ((uint64_t)depth << 16);
	for (int i = 0; i < depth; i++) {
		h ^= pcs[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static void index_put(struct stacktab *st, uint32_t id)
{
	size_t i = st->recs[id].hash & (st->index_cap - 1);
	while (st->index[i])
		i = (i + 1) & (st->index_cap - 1);
	st->index[i] = id + 1;
}

static void index_grow(struct stacktab *st)
{
	free(st->index);
	st->index_cap = st->index_cap ? st->index_cap * 2 : 1024;
	st->index = xcalloc(st->index_cap, sizeof(*st->index));
	for (uint32_t id = 0; id < st->n; id++)
		index_put(st, id);
}

uint32_t stacktab_intern(struct stacktab *st, uint16_t tidx, const uint64_t *pcs, int depth)
{
	uint32_t h = hash_stack(tidx, pcs, depth);
	if (st->index_cap) {
		for (size_t i = h & (st->index_cap - 1); st->index[i]; i = (i + 1) & (st->index_cap - 1)) {
			const struct stack_rec *r = &st->recs[st->index[i] - 1];
			if (r->hash == h && r->tidx == tidx && r->depth == depth &&
			    !memcmp(st->pcs + r->off, pcs, depth * sizeof(*pcs)))
				return st->index[i] - 1;
		}
	}
	ALLOC_GROW(st->pcs, st->npcs + depth, st->pcs_alloc);
	memcpy(st->pcs + st->npcs, pcs, depth * sizeof(*pcs));
	ALLOC_GROW(st->recs, st->n + 1, st->alloc);
	uint32_t id = (uint32_t)st->n++;
	st->recs[id] = (struct stack_rec){ .off = st->npcs, .hash = h, .depth = (uint16_t)depth, .tidx = tidx };
	st->npcs += depth;
	if (st->n * 2 > st->index_cap)
		index_grow(st);
	else
		index_put(st, id);
	return id;
}

uint16_t stacktab_thread(struct stacktab *st, int tid)
{
	for (size_t i = st->ntids; i-- > 0;)
		if (st->tids[i] == tid)
			return (uint16_t)i;
	if (st->ntids == 0xffff)
		return 0xffff; /* so many threads: the last index is shared */
	ALLOC_GROW(st->tids, st->ntids + 1, st->tids_alloc);
	st->tids[st->ntids] = tid;
	return (uint16_t)st->ntids++;
}

size_t stacktab_memory(const struct stacktab *st)
{
	return st->pcs_alloc * sizeof(*st->pcs) + st->alloc * sizeof(*st->recs) +
	       st->index_cap * sizeof(*st->index) + st->tids_alloc * sizeof(*st->tids);
}

void stacktab_release(struct stacktab *st)
{
	free(st->pcs);
	free(st->recs);
	free(st->index);
	free(st->tids);
	*st = (struct stacktab){ 0 };
}

void clockidx_note(struct clockidx *c, uint64_t seq, uint32_t tick)
{
	if (c->n && c->v[c->n - 1].tick == tick)
		return;
	ALLOC_GROW(c->v, c->n + 1, c->alloc);
	c->v[c->n].seq = seq;
	c->v[c->n++].tick = tick;
}

uint32_t clockidx_tick(const struct clockidx *c, uint64_t seq)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) { /* the last entry whose seq <= seq */
		size_t mid = (lo + hi) / 2;
		if (c->v[mid].seq <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? c->v[lo - 1].tick : 0;
}

void clockidx_release(struct clockidx *c)
{
	free(c->v);
	*c = (struct clockidx){ 0 };
}
