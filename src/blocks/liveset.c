// SPDX-License-Identifier: GPL-3.0-or-later
/* liveset.c - the live set: blocks and stacks from an event source, with the peak, phases and clock. */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "liveset.h"
#include "xalloc.h"

#define DEFAULT_MAX_DEPTH 32

const char *const alloc_kind_names[AK_NKINDS] = {
	"malloc", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
	"memalign", "valloc", "pvalloc", "free",
};

void liveset_init(struct liveset *ls)
{
	memset(ls, 0, sizeof(*ls));
	ls->t0_ms = (int64_t)mono_ms();
	ls->max_depth = DEFAULT_MAX_DEPTH;
	liveset_mark(ls, "attach");
}

void liveset_release(struct liveset *ls)
{
	blocktab_clear(&ls->blocks);
	stacktab_release(&ls->stacks);
	clockidx_release(&ls->clock);
	free(ls->live);
	by_stack_release(&ls->peak);
	for (size_t i = 0; i < ls->nphases; i++) {
		free(ls->phases[i].name);
		by_stack_release(&ls->phases[i].start);
		by_stack_release(&ls->phases[i].end);
	}
	free(ls->phases);
	memset(ls, 0, sizeof(*ls));
}

void liveset_attach_source(struct liveset *ls, const struct source_ops *ops, void *arg)
{
	ls->src = ops;
	ls->src_arg = arg;
}

void liveset_detach_source(struct liveset *ls)
{
	ls->src = NULL;
	ls->src_arg = NULL;
}

bool liveset_source_info(const struct liveset *ls, struct source_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!ls->src)
		return false;
	ls->src->info(ls->src_arg, out);
	return true;
}

uint32_t liveset_tick_now(const struct liveset *ls)
{
	return (uint32_t)(((int64_t)mono_ms() - ls->t0_ms) / CLOCK_TICK_MS);
}

static struct stack_live *live_of(struct liveset *ls, uint32_t stack)
{
	if (stack >= ls->live_alloc) {
		size_t old = ls->live_alloc;
		ALLOC_GROW(ls->live, (size_t)stack + 1, ls->live_alloc);
		memset(ls->live + old, 0, (ls->live_alloc - old) * sizeof(*ls->live));
	}
	return &ls->live[stack];
}

void liveset_copy(struct liveset *ls, struct by_stack *out)
{
	size_t n = ls->stacks.n;
	if (n)
		live_of(ls, (uint32_t)(n - 1));
	by_stack_copy(out, ls->live, n, ls->blocks.bytes, ls->blocks.n);
}

/* The live set is about to shrink: if it stands at a new high, keep it as the peak first. */
static void before_decrease(struct liveset *ls)
{
	if (!ls->peak_pending)
		return;
	liveset_copy(ls, &ls->peak);
	ls->peak_pending = false;
}

static void after_increase(struct liveset *ls)
{
	uint64_t b = ls->blocks.bytes;
	if (b > ls->peak_bytes) {
		ls->peak_bytes = b;
		ls->peak_blocks = ls->blocks.n;
		ls->peak_tick = liveset_tick_now(ls);
		ls->peak_pending = true;
	}
	if (ls->nphases && b > ls->phases[ls->nphases - 1].peak_bytes)
		ls->phases[ls->nphases - 1].peak_bytes = b;
}

void liveset_sync_peak(struct liveset *ls)
{
	before_decrease(ls);
}

void liveset_reset_peak(struct liveset *ls)
{
	ls->peak_bytes = ls->blocks.bytes;
	ls->peak_blocks = ls->blocks.n;
	ls->peak_tick = liveset_tick_now(ls);
	liveset_copy(ls, &ls->peak);
	ls->peak_pending = false;
}

static void unlive(struct liveset *ls, const struct block *b)
{
	struct stack_live *l = live_of(ls, b->stack);
	l->bytes -= b->size;
	l->count--;
}

uint16_t liveset_thread(struct liveset *ls, int tid)
{
	return stacktab_thread(&ls->stacks, tid);
}

uint32_t liveset_stack(struct liveset *ls, uint16_t tidx, const uint64_t *pcs, int depth)
{
	return stacktab_intern(&ls->stacks, tidx, pcs, depth);
}

void liveset_add(struct liveset *ls, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick)
{
	uint64_t seq = ++ls->seq;
	struct block old;
	ls->changes++;
	clockidx_note(&ls->clock, seq, tick);
	if (blocktab_get(&ls->blocks, addr))
		before_decrease(ls);
	if (blocktab_put(&ls->blocks, addr, size, stack, seq, &old)) {
		ls->replaced++;
		unlive(ls, &old);
	}
	struct stack_live *l = live_of(ls, stack);
	l->bytes += size > BLOCK_MAX_SIZE ? BLOCK_MAX_SIZE : size;
	l->count++;
	after_increase(ls);
}

bool liveset_remove(struct liveset *ls, uint64_t addr)
{
	struct block b;
	if (!blocktab_get(&ls->blocks, addr))
		return false;
	ls->changes++;
	before_decrease(ls);
	blocktab_del(&ls->blocks, addr, &b);
	unlive(ls, &b);
	return true;
}

void liveset_unknown_free(struct liveset *ls, bool own)
{
	(*(own ? &ls->allocator_frees : &ls->unknown_frees))++;
}

bool liveset_apply(struct liveset *ls, const struct alloc_call *c, uint32_t stack, uint32_t tick)
{
	uint64_t size;
	switch (c->kind) {
	case AK_MALLOC:
	case AK_VALLOC:
	case AK_PVALLOC:
		if (!c->result)
			return false;
		liveset_add(ls, c->result, c->a0, stack, tick);
		return true;
	case AK_CALLOC:
		if (!c->result || __builtin_mul_overflow(c->a0, c->a1, &size))
			return false;
		liveset_add(ls, c->result, size, stack, tick);
		return true;
	case AK_ALIGNED_ALLOC:
	case AK_MEMALIGN:
		if (!c->result)
			return false;
		liveset_add(ls, c->result, c->a1, stack, tick);
		return true;
	case AK_POSIX_MEMALIGN:
		if ((int)c->result != 0)
			return false;
		liveset_add(ls, c->result2, c->a2, stack, tick);
		return true;
	case AK_REALLOC:
	case AK_REALLOCARRAY:
		if (c->kind == AK_REALLOC)
			size = c->a1;
		else if (__builtin_mul_overflow(c->a1, c->a2, &size))
			return false;
		if (c->result) {
			if (c->a0)
				liveset_remove(ls, c->a0); /* an unknown old block is not a free to count */
			liveset_add(ls, c->result, size, stack, tick);
			return true;
		}
		/* glibc's realloc(p, 0) frees p and returns NULL; other NULLs leave p alone. */
		if (size == 0 && c->a0) {
			if (!liveset_remove(ls, c->a0))
				liveset_unknown_free(ls, false);
			return true;
		}
		return false;
	default:
		return false;
	}
}

void liveset_forget_blocks(struct liveset *ls)
{
	blocktab_clear(&ls->blocks);
	if (ls->live)
		memset(ls->live, 0, ls->live_alloc * sizeof(*ls->live));
	ls->changes++;
}

void liveset_sync(struct liveset *ls)
{
	if (ls->src && ls->src->drain)
		ls->src->drain(ls->src_arg);
}

int liveset_block_tid(const struct liveset *ls, const struct block *b)
{
	return ls->stacks.tids[ls->stacks.recs[b->stack].tidx];
}

void liveset_mark(struct liveset *ls, const char *name)
{
	uint32_t now = liveset_tick_now(ls);
	liveset_sync(ls);
	if (ls->nphases && ls->phases[ls->nphases - 1].open) {
		struct phase *p = &ls->phases[ls->nphases - 1];
		liveset_copy(ls, &p->end);
		p->end_tick = now;
		p->open = false;
	}
	ALLOC_GROW(ls->phases, ls->nphases + 1, ls->phases_alloc);
	struct phase *p = &ls->phases[ls->nphases++];
	*p = (struct phase){ .name = xstrdup(name), .start_tick = now, .open = true, .peak_bytes = ls->blocks.bytes };
	liveset_copy(ls, &p->start);
}

size_t liveset_memory(const struct liveset *ls)
{
	return blocktab_memory(&ls->blocks) + stacktab_memory(&ls->stacks) + ls->clock.alloc * 16 +
	       ls->live_alloc * sizeof(*ls->live) + ls->peak.n * sizeof(*ls->peak.v);
}
