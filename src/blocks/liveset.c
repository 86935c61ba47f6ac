// SPDX-License-Identifier: GPL-3.0-or-later
/* liveset.c - the live set: blocks and stacks from an event source, with the peak, phases and clock. */
#include <math.h>
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
	ls->mem_limit = LIVESET_DEFAULT_LIMIT;
	ls->sweep_after = LIVESET_SWEEP_MIN;
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
	free(ls->epochs);
	memset(ls, 0, sizeof(*ls));
}

void liveset_attach_source(struct liveset *ls, const struct source_ops *ops, void *arg)
{
	ls->src = ops;
	ls->src_arg = arg;
}

void liveset_attach_holder(struct liveset *ls, const struct holder_ops *ops, void *arg)
{
	ls->holder = ops;
	ls->holder_arg = arg;
}

void liveset_observe(struct liveset *ls, const struct observer_ops *ops, void *arg)
{
	ls->observer = ops;
	ls->observer_arg = arg;
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

void liveset_stop_clock(struct liveset *ls, uint32_t tick)
{
	ls->clock_stopped = true;
	ls->stopped_tick = tick;
}

uint32_t liveset_tick_now(const struct liveset *ls)
{
	if (ls->clock_stopped)
		return ls->stopped_tick;
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
	by_stack_copy(out, ls->live, n, ls->live_bytes, ls->live_count);
}

/* The live set is about to shrink: if it stands at a new high, keep it as the peak first. */
static void before_decrease(struct liveset *ls)
{
	if (!ls->peak_pending)
		return;
	liveset_copy(ls, &ls->peak);
	ls->peak_pending = false;
}

/* tick: the event's, which the source read once for its batch (no clock read per new peak). */
static void after_increase(struct liveset *ls, uint32_t tick)
{
	uint64_t b = ls->live_bytes;
	if (b > ls->peak_bytes) {
		ls->peak_bytes = b;
		ls->peak_blocks = ls->live_count;
		ls->peak_tick = tick;
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
	ls->peak_bytes = ls->live_bytes;
	ls->peak_blocks = ls->live_count;
	ls->peak_tick = liveset_tick_now(ls);
	liveset_copy(ls, &ls->peak);
	ls->peak_pending = false;
}

void liveset_weigh(uint64_t addr, uint64_t size, uint64_t mean, uint64_t *count, uint64_t *bytes)
{
	if (!mean || !size || size >= mean) {
		*count = 1;
		*bytes = size;
		return;
	}
	double w = -1.0 / expm1(-(double)size / (double)mean), whole = floor(w);
	uint64_t h = (addr >> 4) * 0x9e3779b97f4a7c15ull;
	double u = (double)((h ^ (h >> 29)) >> 11) * 0x1p-53; /* uniform in [0, 1) over addresses */
	*count = (uint64_t)whole + (u < w - whole);
	*bytes = (uint64_t)llround((double)size * w);
}

void liveset_set_sampling(struct liveset *ls, uint64_t mean)
{
	ls->sample_mean = mean;
	if (mean)
		ls->estimated_mean = mean;
}

/* The mean the block with sequence number seq was sampled at (0: exact). */
static uint64_t mean_of(const struct liveset *ls, uint64_t seq)
{
	size_t lo = 0, hi = ls->nepochs; /* the last epoch starting at or before seq */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ls->epochs[mid].seq <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? ls->epochs[lo - 1].mean : 0;
}

static void unlive(struct liveset *ls, const struct block *b)
{
	struct stack_live *l = live_of(ls, b->stack);
	uint64_t count, bytes;
	liveset_weigh(b->addr, b->size, ls->nepochs ? mean_of(ls, block_seq(b)) : 0, &count, &bytes);
	l->bytes -= bytes;
	l->count -= count;
	ls->live_bytes -= bytes;
	ls->live_count -= count;
}

uint16_t liveset_thread(struct liveset *ls, int tid)
{
	return stacktab_thread(&ls->stacks, tid);
}

int liveset_depth(const struct liveset *ls)
{
	return ls->coarse_depth && ls->coarse_depth < ls->max_depth ? ls->coarse_depth : ls->max_depth;
}

size_t liveset_sweep(struct liveset *ls)
{
	struct stack_holds h = { .n = ls->stacks.n };
	h.bits = xcalloc(h.n / 64 + 1, sizeof(*h.bits));
	for (size_t id = 0; id < h.n && id < ls->live_alloc; id++)
		if (ls->live[id].count)
			stack_holds_set(&h, (uint32_t)id);
	stack_holds_by(&h, &ls->peak);
	for (size_t i = 0; i < ls->nphases; i++) {
		stack_holds_by(&h, &ls->phases[i].start);
		stack_holds_by(&h, &ls->phases[i].end);
	}
	if (ls->src && ls->src->hold)
		ls->src->hold(ls->src_arg, &h);
	if (ls->holder)
		ls->holder->hold(ls->holder_arg, &h);
	size_t released = stacktab_sweep(&ls->stacks, &h);
	free(h.bits);
	ls->made_since_sweep = 0;
	ls->sweep_after = stacktab_count(&ls->stacks);
	if (ls->sweep_after < LIVESET_SWEEP_MIN)
		ls->sweep_after = LIVESET_SWEEP_MIN;
	return released;
}

void liveset_set_limit(struct liveset *ls, size_t bytes)
{
	ls->mem_limit = bytes;
	ls->coarse_depth = 0;
	ls->coarse_stacks = 0;
}

/* Bytes the tables grow by if a stack of depth frames is made now: the stacks and the per-id arrays. */
static size_t add_cost(const struct liveset *ls, int depth)
{
	size_t c = stacktab_add_cost(&ls->stacks, depth);
	size_t id = stacktab_next_id(&ls->stacks);
	c += (grow_alloc_nr(ls->live_alloc, id + 1) - ls->live_alloc) * sizeof(*ls->live);
	if (ls->peak.v && id + 1 > ls->peak.alloc) /* the next copy of the peak takes one more entry */
		c += (id + 1 - ls->peak.alloc) * sizeof(*ls->peak.v);
	return c;
}

/* The next coarser depth below the one in force, 0 at the last. */
static int coarser(const struct liveset *ls)
{
	static const int levels[] = { 8, 2 };
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (levels[i] < liveset_depth(ls))
			return levels[i];
	return 0;
}

uint32_t liveset_stack_saved(struct liveset *ls, int tid, const uint64_t *pcs, int depth)
{
	uint16_t tidx = liveset_thread(ls, tid);
	uint32_t id = stacktab_lookup(&ls->stacks, tidx, pcs, depth);
	if (id == STACK_NONE) {
		id = stacktab_add(&ls->stacks, tidx, pcs, depth);
		live_of(ls, id);
	}
	return id;
}

uint32_t liveset_stack(struct liveset *ls, uint16_t tidx, const uint64_t *pcs, int depth)
{
	if (depth > liveset_depth(ls))
		depth = liveset_depth(ls);
	uint32_t id = stacktab_lookup(&ls->stacks, tidx, pcs, depth);
	if (id != STACK_NONE)
		return id;
	if (ls->made_since_sweep >= ls->sweep_after)
		liveset_sweep(ls);
	/*
	 * Past seven eighths of the limit (the last eighth is left to the live
	 * blocks, which are never dropped) a new stack that needs the tables to
	 * grow makes stacks coarser: a sweep first, then the next level whose
	 * stack is there already, else the last level, where it is made.
	 */
	while (ls->mem_limit) {
		size_t cost = add_cost(ls, depth);
		if (!cost || liveset_table_bytes(ls) + cost <= ls->mem_limit - ls->mem_limit / 8)
			break;
		if (ls->made_since_sweep) { /* what a sweep frees may be room enough */
			liveset_sweep(ls);
			continue;
		}
		int next = coarser(ls);
		if (!next)
			break; /* the last level: the stack is made anyway, and the tables grow */
		if (!ls->coarse_depth)
			ls->coarse_tick = liveset_tick_now(ls);
		ls->coarse_depth = next;
		if (depth > next) {
			depth = next;
			id = stacktab_lookup(&ls->stacks, tidx, pcs, depth);
			if (id != STACK_NONE)
				return id;
		}
	}
	id = stacktab_add(&ls->stacks, tidx, pcs, depth);
	ls->made_since_sweep++;
	if (ls->coarse_depth)
		ls->coarse_stacks++;
	live_of(ls, id); /* grown now, as add_cost counted */
	if (ls->observer)
		ls->observer->stack(ls->observer_arg, id);
	return id;
}

void liveset_add(struct liveset *ls, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick, uint64_t mean)
{
	uint64_t seq = ++ls->seq;
	struct block old;
	ls->changes++;
	clockidx_note(&ls->clock, seq, tick);
	if (size > BLOCK_MAX_SIZE)
		size = BLOCK_MAX_SIZE; /* as the table keeps it, so that a free takes off what this adds */
	/* A block recorded at another mean than the one before: an epoch starts (rare: `set sample`). */
	if (mean != (ls->nepochs ? ls->epochs[ls->nepochs - 1].mean : 0)) {
		ALLOC_GROW(ls->epochs, ls->nepochs + 1, ls->epochs_alloc);
		ls->epochs[ls->nepochs++] = (struct sample_epoch){ seq, mean };
		if (mean)
			ls->estimated_mean = mean;
	}
	/* one lookup: the peak's copy reads the per-stack figures, not the table, so it may follow the put */
	if (blocktab_put(&ls->blocks, addr, size, stack, seq, &old)) {
		before_decrease(ls);
		ls->replaced++;
		unlive(ls, &old);
	}
	struct stack_live *l = live_of(ls, stack);
	uint64_t count, bytes;
	liveset_weigh(addr, size, mean, &count, &bytes);
	l->bytes += bytes;
	l->count += count;
	ls->live_bytes += bytes;
	ls->live_count += count;
	after_increase(ls, tick);
	if (ls->observer)
		ls->observer->add(ls->observer_arg, addr, size, stack, tick);
}

bool liveset_remove(struct liveset *ls, uint64_t addr)
{
	struct block b;
	if (!blocktab_del(&ls->blocks, addr, &b)) /* one lookup, as in liveset_add */
		return false;
	ls->changes++;
	before_decrease(ls);
	unlive(ls, &b);
	if (ls->observer)
		ls->observer->remove(ls->observer_arg, addr);
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
		liveset_add(ls, c->result, c->a0, stack, tick, c->mean);
		return true;
	case AK_CALLOC:
		if (!c->result || __builtin_mul_overflow(c->a0, c->a1, &size))
			return false;
		liveset_add(ls, c->result, size, stack, tick, c->mean);
		return true;
	case AK_ALIGNED_ALLOC:
	case AK_MEMALIGN:
		if (!c->result)
			return false;
		liveset_add(ls, c->result, c->a1, stack, tick, c->mean);
		return true;
	case AK_POSIX_MEMALIGN:
		if ((int)c->result != 0)
			return false;
		liveset_add(ls, c->result2, c->a2, stack, tick, c->mean);
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
			liveset_add(ls, c->result, size, stack, tick, c->mean);
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
	ls->live_count = ls->live_bytes = 0;
	ls->changes++;
	if (ls->observer)
		ls->observer->forget(ls->observer_arg);
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
	*p = (struct phase){ .name = xstrdup(name), .start_tick = now, .open = true, .peak_bytes = ls->live_bytes };
	liveset_copy(ls, &p->start);
}

void liveset_restart_history(struct liveset *ls, uint32_t tick)
{
	by_stack_release(&ls->peak);
	ls->peak_bytes = ls->peak_blocks = 0;
	ls->peak_tick = 0;
	ls->peak_pending = false;
	for (size_t i = 0; i < ls->nphases; i++) {
		free(ls->phases[i].name);
		by_stack_release(&ls->phases[i].start);
		by_stack_release(&ls->phases[i].end);
	}
	ls->nphases = 0;
	/* the phase starts at tick, whatever the clock says now */
	bool stopped = ls->clock_stopped;
	uint32_t at = ls->stopped_tick;
	liveset_stop_clock(ls, tick);
	liveset_mark(ls, "attach");
	ls->clock_stopped = stopped;
	ls->stopped_tick = at;
}

size_t liveset_memory(const struct liveset *ls)
{
	size_t m = blocktab_memory(&ls->blocks) + stacktab_memory(&ls->stacks) + ls->epochs_alloc * sizeof(*ls->epochs) +
		   ls->clock.alloc * sizeof(*ls->clock.v) + ls->live_alloc * sizeof(*ls->live) +
		   by_stack_memory(&ls->peak) + ls->phases_alloc * sizeof(*ls->phases);
	for (size_t i = 0; i < ls->nphases; i++)
		m += strlen(ls->phases[i].name) + 1 + by_stack_memory(&ls->phases[i].start) +
		     by_stack_memory(&ls->phases[i].end);
	return m;
}

size_t liveset_table_bytes(const struct liveset *ls)
{
	return liveset_memory(ls) + (ls->holder ? ls->holder->memory(ls->holder_arg) : 0);
}
