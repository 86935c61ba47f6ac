// SPDX-License-Identifier: GPL-3.0-or-later
/* agent_drain.c - the agent's ring read into the live set, each allocation's stack unwound from its copy. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "agent.h"
#include "clock.h"
#include "sym.h"
#include "target.h"
#include "u64map.h"
#include "xalloc.h"

#define MAX_MAX_DEPTH 256

/* The counters the agent keeps, read in one piece. */
struct counters {
	uint64_t head, lost, abandoned, noslot, frames_used;
	uint32_t next_stack, unknown_pcs;
	uint32_t dropping, seeded;
	uint64_t nested[AGENT_MAXHOOKS];
	uint64_t set_full, unsampled_noslot;
};

_Static_assert(offsetof(struct agent_ctl, tail) - offsetof(struct agent_ctl, head) == sizeof(struct counters) &&
		       offsetof(struct agent_ctl, nested) - offsetof(struct agent_ctl, head) ==
			       offsetof(struct counters, nested),
	       "struct counters mirrors agent_ctl");

static uint16_t thread_index(struct agent *a, int tid)
{
	if (tid != a->last_tid) {
		a->last_tid = tid;
		a->last_tidx = liveset_thread(a->ls, tid);
	}
	return a->last_tidx;
}

static void apply_free(struct agent *a, const struct agent_rec *r)
{
	if (!r->a0 || liveset_remove(a->ls, r->a0))
		return;
	/* A free never seen allocated, called from the allocator's own code: glibc emptying a thread's cache. */
	liveset_unknown_free(a->ls, r->ret >= a->alloc_lo && r->ret < a->alloc_hi);
}

/* A new stack the agent posted: its frames, under its id (the agent keeps at most its table's worth). */
static void keep_stack(struct agent *a, const struct agent_rec *r)
{
	size_t n = (size_t)r->a0;
	ALLOC_GROW(a->stk_pcs, a->npcs + n, a->pcs_alloc);
	memcpy(a->stk_pcs + a->npcs, r + 1, n * 8);
	u64map_put(&a->stk, r->stack, (uint64_t)a->npcs << 16 | n); /* n <= AGENT_MAX_DEPTH */
	a->npcs += n;
	a->st.stack_records++;
}

/* The live set's id of the agent's stack id as this thread's; STACK_NONE if the agent never posted it. */
static uint32_t ls_stack(struct agent *a, uint32_t id, uint16_t tidx)
{
	/* Ids the live set released may be given to other stacks: forget what was looked up before. */
	if (a->stk_ls_sweeps != a->ls->stacks.epoch) {
		u64map_clear(&a->stk_ls);
		a->stk_ls_sweeps = a->ls->stacks.epoch;
	}
	uint64_t key = (uint64_t)id << 16 | tidx, v;
	if (u64map_get(&a->stk_ls, key, &v))
		return (uint32_t)v;
	if (!u64map_get(&a->stk, id, &v))
		return STACK_NONE;
	uint32_t st = liveset_stack(a->ls, tidx, a->stk_pcs + (v >> 16), (int)(v & 0xffff));
	/* A stack cut short for the memory limit is not the agent's stack: it is not remembered. */
	if (!a->ls->coarse_depth && a->ls->stacks.epoch == a->stk_ls_sweeps)
		u64map_put(&a->stk_ls, key, st);
	return st;
}

/* The stack of an event the agent could not unwind: from the registers and copy it carries. */
static uint32_t unwind_here(struct agent *a, const struct agent_rec *r, uint16_t tidx)
{
	uint64_t pcs[MAX_MAX_DEPTH];
	bool caller[MAX_MAX_DEPTH];
	struct mlz_err err;
	const struct agent_ctx *x = (const struct agent_ctx *)(r + 1);
	/* The registers at the entry of the hooked function, as a trap there would have seen them. */
	struct user_regs_struct regs = {
		.rip = x->pc, .rsp = x->rsp, .rbp = x->rbp, .rbx = x->rbx,
		.r12 = x->r12, .r13 = x->r13, .r14 = x->r14, .r15 = x->r15,
	};
	int max = a->ls->max_depth < MAX_MAX_DEPTH ? a->ls->max_depth : MAX_MAX_DEPTH;
	int n = sym_unwind_copy(a->sym, r->tid, &regs, x + 1, x->stack_len, pcs, caller, max, &err);
	if (n <= 0) {
		pcs[0] = x->pc;
		n = 1;
	}
	/* A frame a signal interrupted is stored one byte on, so pc - 1 finds its instruction. */
	for (int i = 1; i < n; i++)
		if (!caller[i])
			pcs[i]++;
	a->st.unwound_here++;
	return liveset_stack(a->ls, tidx, pcs, n);
}

static void apply_alloc(struct agent *a, const struct agent_rec *r, uint32_t tick)
{
	uint16_t tidx = thread_index(a, r->tid);
	uint32_t stack;
	if (r->flags & AREC_CTX) { /* rare, and costly: timed on its own */
		int64_t t0 = mono_ns();
		stack = unwind_here(a, r, tidx);
		a->st.ns_unwind += (uint64_t)(mono_ns() - t0);
	} else {
		stack = ls_stack(a, r->stack, tidx);
	}
	if (r->flags & AREC_UNKNOWN_PC)
		a->tables_stale = true;
	if (stack == STACK_NONE) { /* cannot be: the agent posts a stack before its events */
		a->st.bad++;
		return;
	}
	/* The mean it was sampled at (0: recorded as every call is), by the generation it carries. */
	const struct alloc_call c = { r->kind, r->a0, r->a1, r->a2, r->result, r->result2, a->gen_mean[AREC_GEN(r->flags)] };
	if (!liveset_apply(a->ls, &c, stack, tick))
		a->st.failed++;
}

/* Sizes come from the process: a record that cannot be right stops reading for good. */
static bool record_fits(const struct agent_rec *r, size_t left)
{
	if (r->len < 16 || r->len % 16 || r->len > left)
		return false;
	if (r->kind == AREC_PAD)
		return true;
	if (r->len < sizeof(*r))
		return false;
	size_t body = r->len - sizeof(*r);
	if (r->kind == AREC_STACK)
		return r->stack && r->a0 && r->a0 <= AGENT_MAX_DEPTH && r->a0 * 8 <= body && r->stack < (1u << 30);
	if (r->kind >= AK_NKINDS)
		return false;
	if (!(r->flags & AREC_CTX))
		return true;
	const struct agent_ctx *x = (const struct agent_ctx *)(r + 1);
	return body >= sizeof(*x) && x->stack_len <= body - sizeof(*x);
}

/*
 * A drain reads the ring a megabyte at a time: mlyze's buffer stays that
 * size (not the ring's 16 MiB, which a full ring would make resident), and
 * the writers get room back after each megabyte, not at the end.
 */
#define DRAIN_CHUNK ((size_t)1 << 20)
/* The longest record the agent writes: an allocation with its stack copy, or a stack's frames. */
#define REC_MAX_CTX (sizeof(struct agent_rec) + sizeof(struct agent_ctx) + AGENT_STACK_COPY)
#define REC_MAX_STACK (sizeof(struct agent_rec) + AGENT_MAX_DEPTH * 8)
#define REC_MAX (((REC_MAX_CTX > REC_MAX_STACK ? REC_MAX_CTX : REC_MAX_STACK) + 15) & ~(size_t)15)
_Static_assert(REC_MAX < DRAIN_CHUNK, "a chunk holds any record");

/*
 * Apply the complete records of buf (len bytes read from ring position
 * a->tail on) in order; returns the bytes consumed. A record not yet complete
 * (its writer is still at it), or cut by the end of a chunk with more to
 * come (more), ends the drain there; it is read next time.
 */
static size_t apply_records(struct agent *a, const uint8_t *buf, size_t len, bool more)
{
	/*
	 * The clock once per batch, not per event: a tick is 100 ms and a drain
	 * comes every 5 ms, and a clock read cost as much as the tables' work.
	 * What is not unwinding is the tables' time.
	 */
	int64_t t0 = mono_ns();
	uint64_t unwind0 = a->st.ns_unwind;
	uint32_t tick = liveset_tick_now(a->ls);
	size_t off = 0;
	while (len - off >= 16) {
		const struct agent_rec *r = (const struct agent_rec *)(buf + off);
		if (r->pos != a->tail + off)
			break;
		if (more && r->len > len - off && r->len <= REC_MAX && r->len % 16 == 0)
			break; /* the rest of it is in the next chunk */
		if (!record_fits(r, len - off)) {
			a->st.bad++;
			a->broken = true;
			break;
		}
		if (r->kind == AREC_STACK) {
			keep_stack(a, r);
		} else if (r->kind != AREC_PAD) {
			a->st.calls[r->kind]++;
			a->st.cut += !!(r->flags & AREC_STACK_CUT);
			if (r->kind == AK_FREE)
				apply_free(a, r);
			else
				apply_alloc(a, r, tick);
		}
		off += r->len;
	}
	a->st.ns_tables += (uint64_t)(mono_ns() - t0) - (a->st.ns_unwind - unwind0);
	return off;
}

/* Records the drain applied, of every kind. */
static uint64_t records(const struct agent *a)
{
	uint64_t n = 0;
	for (int k = 0; k < AK_NKINDS; k++)
		n += a->st.calls[k];
	return n;
}

/*
 * The next wait of the event loop (struct agent's comment in agent.h): got
 * bytes holding recs records came since the last drain. At most a sixteenth
 * of the ring, and at most AGENT_DRAIN_RECORDS records: under byte sampling
 * each is a block for the address set, which the event loop grows between
 * drains (at 40 ms, a fixture sampled at 1K filled it first).
 */
static void next_wait(struct agent *a, uint64_t got, uint64_t recs, int64_t now)
{
	double ms = a->drained_ns ? (double)(now - a->drained_ns) / 1e6 : AGENT_DRAIN_MS;
	a->drained_ns = now;
	ms = ms > 0 ? ms : AGENT_DRAIN_MS;
	double wait = 2.0 * (a->wait_ms ? a->wait_ms : AGENT_DRAIN_MS);
	if (got)
		wait = (double)(a->ring_size / 16) / (double)got * ms;
	if (recs && (double)AGENT_DRAIN_RECORDS / (double)recs * ms < wait)
		wait = (double)AGENT_DRAIN_RECORDS / (double)recs * ms;
	a->wait_ms = wait < AGENT_DRAIN_MS ? AGENT_DRAIN_MS : wait > AGENT_DRAIN_IDLE_MS ? AGENT_DRAIN_IDLE_MS : (int)wait;
}

void agent_drain(struct agent *a)
{
	if (!a->installed || a->broken || !target_readable(a->t))
		return;
	int64_t t0 = mono_ns();
	struct counters k;
	if (target_read(a->t, a->ctl + offsetof(struct agent_ctl, head), &k, sizeof(k)) != (ssize_t)sizeof(k))
		return;
	a->st.lost = k.lost, a->st.abandoned = k.abandoned, a->st.noslot = k.noslot;
	a->st.set_full = k.set_full, a->st.unsampled_noslot = k.unsampled_noslot;
	a->st.nested = 0;
	for (int i = 0; i < a->nhooks; i++) {
		a->st.nested_kind[a->hooks[i].kind] = k.nested[i];
		a->st.nested += k.nested[i];
	}
	uint64_t got = k.head - a->tail, recs = records(a);
	if (k.head == a->tail || k.head - a->tail > a->ring_size) {
		next_wait(a, 0, 0, t0);
		return;
	}
	if (!a->buf)
		a->buf = xmalloc(DRAIN_CHUNK);
	for (uint64_t left = k.head - a->tail; left && !a->broken;) {
		size_t want = left < DRAIN_CHUNK ? (size_t)left : DRAIN_CHUNK;
		size_t at = (size_t)(a->tail & (a->ring_size - 1));
		size_t first = want < a->ring_size - at ? want : a->ring_size - at;
		struct iovec local[2] = { { a->buf, first }, { a->buf + first, want - first } };
		struct iovec remote[2] = { { (void *)(a->ring + at), first }, { (void *)a->ring, want - first } };
		if (target_readv(a->t, local, remote, want > first ? 2 : 1) != (ssize_t)want)
			return;
		size_t used = apply_records(a, a->buf, want, want < left);
		if (!used)
			break;
		a->tail += used;
		left -= used;
		a->st.drains++;
		/* Room for the writers, and a sign of life. */
		uint64_t w[2] = { a->tail, a->st.drains };
		_Static_assert(offsetof(struct agent_ctl, heartbeat) == offsetof(struct agent_ctl, tail) + 8,
			       "tail, heartbeat");
		target_write(a->t, a->ctl + offsetof(struct agent_ctl, tail), w, sizeof(w), NULL);
	}
	next_wait(a, got, records(a) - recs, t0);
	/* Libraries loaded since the tables were made: make them again (the copies cover the meantime). */
	if (a->tables_stale) {
		a->tables_stale = false;
		agent_refresh_tables(a);
	}
	uint32_t depth = (uint32_t)(a->ls->max_depth < AGENT_MAX_DEPTH ? a->ls->max_depth : AGENT_MAX_DEPTH);
	if (depth != a->max_depth &&
	    target_write(a->t, a->ctl + offsetof(struct agent_ctl, max_depth), &depth, 4, NULL) == 0)
		a->max_depth = depth; /* set max-stack-depth */
	a->st.ns_drain += (uint64_t)(mono_ns() - t0);
}

/* --- the event source --- */

static void source_drain(void *arg)
{
	agent_drain(arg);
}

static void source_info(void *arg, struct source_info *out)
{
	struct agent *a = arg;
	const struct agent_stats *st = &a->st;
	out->installed = a->installed;
	out->active = a->installed && target_runs(a->t);
	out->mode = "agent";
	out->allocator = a->module;
	/* Calls at each entry, nested ones included, as the breakpoint tracer counts them. */
	for (int k = 0; k < AK_NKINDS; k++)
		out->calls[k] = st->calls[k] + st->nested_kind[k];
	out->nested = st->nested;
	out->abandoned = st->abandoned;
	out->failed = st->failed;
	out->lost = st->lost;
	out->stacks_cut = st->cut;
	out->unwound_by_mlyze = st->unwound_here;
	out->unwind_table_bytes = st->table_bytes;
	out->install_ms = st->install_ms;
	out->returns_by = "the agent";
	out->ns_unwind = st->ns_unwind;
	out->ns_tables = st->ns_tables;
	out->ns_drain = st->ns_drain;
	out->scratch = a->area.base;
	out->nareas = 0;
	if (a->area.size) {
		if (!a->areas)
			a->areas = xmalloc(sizeof(*a->areas));
		a->areas[0][0] = a->area.base;
		a->areas[0][1] = a->area.base + a->area.size;
		out->nareas = 1;
	}
	out->areas = (const uint64_t(*)[2])a->areas;
	out->sample_bytes = a->sample_mean;
	out->unsampled = agent_unsampled(a);
	out->sample_dropped = st->set_full + st->set_overflow;
	out->memory = (a->buf ? DRAIN_CHUNK : 0) + a->stk.cap * sizeof(*a->stk.slots) + a->pcs_alloc * 8 +
		      a->stk_ls.cap * sizeof(*a->stk_ls.slots);
}

static const struct source_ops agent_source = { source_drain, source_info };

void agent_attach_source(struct agent *a)
{
	liveset_attach_source(a->ls, &agent_source, a);
}
