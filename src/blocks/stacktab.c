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

static void index_rebuild(struct stacktab *st, size_t cap)
{
	free(st->index);
	st->index_cap = cap;
	st->index = xcalloc(st->index_cap, sizeof(*st->index));
	for (uint32_t id = 0; id < st->n; id++)
		if (st->recs[id].off != STACK_FREE)
			index_put(st, id);
}

/* The index holds at most half its capacity in stacks. */
static size_t index_cap_after_add(const struct stacktab *st)
{
	if ((stacktab_count(st) + 1) * 2 <= st->index_cap)
		return st->index_cap;
	return st->index_cap ? st->index_cap * 2 : 1024;
}

uint32_t stacktab_lookup(const struct stacktab *st, uint16_t tidx, const uint64_t *pcs, int depth)
{
	uint32_t h = hash_stack(tidx, pcs, depth);
	if (!st->index_cap)
		return STACK_NONE;
	for (size_t i = h & (st->index_cap - 1); st->index[i]; i = (i + 1) & (st->index_cap - 1)) {
		const struct stack_rec *r = &st->recs[st->index[i] - 1];
		if (r->hash == h && r->tidx == tidx && r->depth == depth &&
		    (!depth || !memcmp(st->pcs + r->off, pcs, depth * sizeof(*pcs))))
			return st->index[i] - 1;
	}
	return STACK_NONE;
}

size_t stacktab_add_cost(const struct stacktab *st, int depth)
{
	size_t c = (grow_alloc_nr(st->pcs_alloc, st->npcs + (size_t)depth) - st->pcs_alloc) * sizeof(*st->pcs);
	if (!st->nfree)
		c += (grow_alloc_nr(st->alloc, st->n + 1) - st->alloc) * sizeof(*st->recs);
	c += (index_cap_after_add(st) - st->index_cap) * sizeof(*st->index);
	return c;
}

uint32_t stacktab_add(struct stacktab *st, uint16_t tidx, const uint64_t *pcs, int depth)
{
	uint32_t id;
	size_t cap = index_cap_after_add(st);
	ALLOC_GROW(st->pcs, st->npcs + depth, st->pcs_alloc);
	if (depth) /* an empty first stack leaves pcs NULL: no arithmetic on it */
		memcpy(st->pcs + st->npcs, pcs, depth * sizeof(*pcs));
	if (st->nfree) {
		id = st->free_ids[--st->nfree];
	} else {
		ALLOC_GROW(st->recs, st->n + 1, st->alloc);
		id = (uint32_t)st->n++;
	}
	st->recs[id] = (struct stack_rec){ .off = st->npcs, .hash = hash_stack(tidx, pcs, depth),
					   .depth = (uint16_t)depth, .tidx = tidx };
	st->npcs += depth;
	st->made++;
	if (cap != st->index_cap)
		index_rebuild(st, cap);
	else
		index_put(st, id);
	return id;
}

uint32_t stacktab_intern(struct stacktab *st, uint16_t tidx, const uint64_t *pcs, int depth)
{
	uint32_t id = stacktab_lookup(st, tidx, pcs, depth);
	return id != STACK_NONE ? id : stacktab_add(st, tidx, pcs, depth);
}

size_t stacktab_sweep(struct stacktab *st, const struct stack_holds *h)
{
	size_t released = 0, kept_pcs = 0;
	/* Downwards, so the free list hands the lowest ids out first. */
	for (size_t id = st->n; id-- > 0;) {
		struct stack_rec *r = &st->recs[id];
		if (r->off == STACK_FREE)
			continue;
		if (stack_holds_has(h, (uint32_t)id)) {
			kept_pcs += r->depth;
			continue;
		}
		r->off = STACK_FREE;
		ALLOC_GROW(st->free_ids, st->nfree + 1, st->free_alloc);
		st->free_ids[st->nfree++] = (uint32_t)id;
		released++;
	}
	st->sweeps++;
	if (!released)
		return 0;
	st->released += released;
	st->epoch++;
	/* The PCs of the stacks kept, packed into a new array with room for as many again. */
	size_t alloc = kept_pcs + kept_pcs / 2 + 64;
	uint64_t *pcs = xmalloc(alloc * sizeof(*pcs));
	size_t npcs = 0;
	for (size_t id = 0; id < st->n; id++) {
		struct stack_rec *r = &st->recs[id];
		if (r->off == STACK_FREE)
			continue;
		if (r->depth)
			memcpy(pcs + npcs, st->pcs + r->off, r->depth * sizeof(*pcs));
		r->off = npcs;
		npcs += r->depth;
	}
	free(st->pcs);
	st->pcs = pcs;
	st->npcs = npcs;
	st->pcs_alloc = alloc;
	size_t cap = 1024;
	while (stacktab_count(st) * 4 > cap)
		cap *= 2;
	index_rebuild(st, cap);
	return released;
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
	       st->index_cap * sizeof(*st->index) + st->tids_alloc * sizeof(*st->tids) +
	       st->free_alloc * sizeof(*st->free_ids);
}

void stacktab_release(struct stacktab *st)
{
	free(st->pcs);
	free(st->recs);
	free(st->index);
	free(st->tids);
	free(st->free_ids);
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
