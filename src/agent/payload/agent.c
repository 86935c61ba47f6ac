// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * agent.c - the recorder mlyze injects into a process: it runs on the
 * process's threads inside malloc, free and their kin, so it calls nothing
 * of the process (no libc: no locks, no allocation, no errno) and makes a
 * system call only when the ring is full. It is built freestanding into a
 * flat image (payload.lds) that mlyze writes into the process.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_abi.h"
#include "offsets.h"
#include "sample.h"
#include "unwtab.h"

#define HIDDEN __attribute__((visibility("hidden")))

/* The control block: first in the data part (payload.lds puts .bss.agent_ctl there). */
HIDDEN struct agent_ctl agent_ctl __attribute__((section(".bss.agent_ctl")));

/* What agent_thunk saved: its %rsp at the calls into C. */
struct agent_frame {
	uint64_t rdi, rsi, rdx, rcx;
	uint64_t idx;
	uint64_t result;
	uint64_t rbx, r12, r13, r14, r15;
	struct agent_slot *slot;
	uint64_t rbp;  /* pushed by the thunk */
	uint64_t ret;  /* the caller's return address: the entry %rsp points here */
};

_Static_assert(offsetof(struct agent_frame, rbp) == 96, "thunk.S frame layout");
_Static_assert(offsetof(struct agent_ctl, orig) == CTL_ORIG && offsetof(struct agent_ctl, sample) == CTL_SAMPLE &&
		       offsetof(struct agent_ctl, set) == CTL_SET && offsetof(struct agent_ctl, set_mask) == CTL_SET_MASK &&
		       offsetof(struct agent_ctl, set_hint) == CTL_SET_HINT &&
		       offsetof(struct agent_ctl, hint_mask) == CTL_HINT_MASK && offsetof(struct agent_ctl, slots) == CTL_SLOTS,
	       "offsets.h: struct agent_ctl");
_Static_assert(offsetof(struct agent_slot, key) == SLOT_KEY && offsetof(struct agent_slot, countdown) == SLOT_COUNTDOWN &&
		       offsetof(struct agent_slot, unsampled) == SLOT_UNSAMPLED &&
		       offsetof(struct agent_slot, short_way) == SLOT_SHORT_WAY &&
		       sizeof(struct agent_slot) == 1u << SLOT_SHIFT && AGENT_SLOTS == 1u << SLOTS_LOG2,
	       "offsets.h: struct agent_slot");
_Static_assert(SET_HASH_MUL == AGENT_HASH_MUL && AGENT_SET_WAYS * sizeof(uint64_t) == 1u << SET_BUCKET_SHIFT,
	       "offsets.h: agent_set_hash's multiplier, the set's bucket");
_Static_assert(AGENT_THUNK_MALLOC_OFF == THUNK_MALLOC_OFF && AGENT_THUNK_FREE_OFF == THUNK_FREE_OFF &&
		       AGENT_THUNK_REALLOC_OFF == THUNK_REALLOC_OFF && AGENT_THUNK_TAIL_OFF == THUNK_TAIL_OFF &&
		       AGENT_TAIL_SIZE == THUNK_TAIL_SIZE && offsetof(struct agent_ctl, fast_hook) == CTL_FAST_HOOK,
	       "offsets.h: the thunk's entries");

/*
 * What agent_enter decided before the original runs, in agent_frame.idx above
 * the hook's index (the thunk stores the index alone).
 */
#define FR_DECIDED (1u << 8) /* sampling and the set were done here: agent_leave follows FR_TAKEN, FR_HAD */
#define FR_TAKEN (1u << 9)   /* an allocation drawn for sampling: recorded if it succeeds and fits the set */
#define FR_HAD (1u << 10)    /* a free of a recorded block, taken out of the set before the block is */
#define FR_GEN_SHIFT 16      /* FR_TAKEN: the generation of ctl.sample it was drawn at, in bits 16-23 */

/* agent_enter's answer, in %rax:%rdx: where the original runs, and whether to come back after it. */
struct agent_go {
	uint64_t orig;
	uint64_t framed; /* 0: the thunk jumps to the original, which returns to the caller: nothing to record */
};

struct agent_go agent_enter(struct agent_frame *f) HIDDEN;
void agent_leave(struct agent_frame *f) HIDDEN;

/* The compiler may call these for copies and clears even in freestanding code. */
HIDDEN void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

HIDDEN void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

static long sys2(long nr, long a, long b)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return r;
}

static long sys0(long nr)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(nr) : "rcx", "r11", "memory");
	return r;
}

enum { SYS_nanosleep_ = 35, SYS_gettid_ = 186, SYS_clock_gettime_ = 228 };

static uint64_t now_ns(void)
{
	struct { long s, ns; } ts = { 0, 0 };
	sys2(SYS_clock_gettime_, 1 /* CLOCK_MONOTONIC */, (long)&ts);
	return (uint64_t)ts.s * 1000000000u + (uint64_t)ts.ns;
}

static uint64_t thread_pointer(void)
{
	uint64_t tp;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return tp;
}

/* Where the slot of the thread whose thread pointer is tp is looked for first (thunk.S's SLOT_OF). */
static inline uint32_t slot_hash(uint64_t tp)
{
	return (uint32_t)((tp * AGENT_HASH_MUL) >> (64 - SLOTS_LOG2));
}

/* The slot of the thread whose thread pointer is tp, claimed on its first call; NULL when all are taken. */
static struct agent_slot *slot_of(uint64_t tp)
{
	struct agent_ctl *c = &agent_ctl;
	uint32_t h = slot_hash(tp);
	for (uint32_t i = 0; i < AGENT_SLOTS; i++) {
		struct agent_slot *s = &c->slots[(h + i) & (AGENT_SLOTS - 1)];
		uint64_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
		if (k == tp)
			return s;
		if (k == 0) {
			uint64_t zero = 0;
			if (__atomic_compare_exchange_n(&s->key, &zero, tp, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return s;
			if (zero == tp)
				return s;
		}
	}
	return NULL;
}

/*
 * Before an outermost call: whether it needs agent_leave. Under sampling an
 * allocation's size is known from its arguments and a free's block from its
 * first, so the countdown and the set decide here, and a call that will not
 * be recorded (nearly all of them) runs the original with nothing of the
 * agent's left on its stack. realloc always comes back here (thunk.S's short
 * way settles the plain ones before this): whether it frees its
 * block is known only after it, and a realloc may call malloc or free
 * through their hooked entries (glibc's realloc(p, 0) calls free), which
 * must see it in progress (a second draw would change the sampling law).
 */
static bool framed(struct agent_ctl *c, struct agent_frame *f, struct agent_slot *s, uint32_t idx)
{
	if (!__atomic_load_n(&c->armed, __ATOMIC_ACQUIRE))
		return false; /* nothing is recorded: as agent_leave would find */
	uint64_t smp = __atomic_load_n(&c->sample, __ATOMIC_RELAXED), size;
	/* glibc's memalign family hands an alignment of 16 or less to malloc's own (hooked) entry */
	bool nests = false;
	switch (c->kind[idx]) {
	case AGENT_KIND_FREE:
		if (!c->set_used)
			return true; /* exact, the set never used: every free, as it is */
		/* Out of the set before the block is free, so a block handed out again is a new entry. */
		if (f->rdi && set_remove(c, f->rdi))
			f->idx |= FR_DECIDED | FR_HAD;
		else
			f->idx |= FR_DECIDED;
		return (f->idx & FR_HAD) || !smp;
	case AGENT_KIND_REALLOC:
	case AGENT_KIND_REALLOCARRAY:
		return true;
	case AGENT_KIND_CALLOC:
		if (__builtin_mul_overflow(f->rdi, f->rsi, &size))
			size = UINT64_MAX;
		break;
	case AGENT_KIND_ALIGNED_ALLOC:
	case AGENT_KIND_MEMALIGN:
		size = f->rsi;
		nests = f->rdi <= 16;
		break;
	case AGENT_KIND_POSIX_MEMALIGN:
		size = f->rdx;
		nests = f->rsi <= 16;
		break;
	default: /* malloc, valloc, pvalloc */
		size = f->rdi;
		break;
	}
	if (!smp)
		return true;
	if (sample_take(c, s, smp, size)) {
		f->idx |= FR_DECIDED | FR_TAKEN | (smp & 0xff) << FR_GEN_SHIFT;
		return true;
	}
	/*
	 * Left out; a call whose malloc nests stays in progress, not to be
	 * recorded, so that malloc is not drawn a second time. Any other leaves
	 * now, as a malloc does: no frame, no agent_leave.
	 */
	if (nests)
		f->idx |= FR_DECIDED;
	return nests;
}

/* For every call thunk.S's short ways do not settle (they decide malloc and free as framed() does). */
struct agent_go agent_enter(struct agent_frame *f)
{
	struct agent_ctl *c = &agent_ctl;
	uint64_t entry_rsp = (uint64_t)&f->ret;
	uint32_t idx = (uint32_t)f->idx & (AGENT_MAXHOOKS - 1);
	struct agent_slot *s = slot_of(thread_pointer());
	struct agent_go go = { c->orig[idx], 1 };
	f->slot = s;
	if (!s) {
		__atomic_fetch_add(&c->noslot, 1, __ATOMIC_RELAXED);
		return go;
	}
	/* A call in progress whose frame is at or below ours was left by longjmp. */
	if (s->depth && entry_rsp >= s->outer_rsp) {
		s->depth = 0;
		s->short_way = s->sample_seen;
		__atomic_fetch_add(&c->abandoned, 1, __ATOMIC_RELAXED);
	}
	if (s->depth == 0 && !framed(c, f, s, idx)) {
		go.framed = 0; /* no depth taken: the thunk does not come back to give it back */
		return go;
	}
	if (s->depth++ == 0) {
		s->outer_rsp = entry_rsp;
		/* Closed before the call runs: a signal handler's malloc inside it must nest. */
		s->short_way = 0;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	} else {
		__atomic_fetch_add(&c->nested[idx], 1, __ATOMIC_RELAXED);
	}
	return go;
}


/* Where the stack holding sp certainly ends (mapped up to there); *known false: only sp's page is sure. */
static uint64_t stack_end(const struct agent_ctl *c, uint64_t sp, uint64_t tp, bool *known)
{
	*known = true;
	if (sp >= c->main_stack_lo && sp < c->main_stack_hi)
		return c->main_stack_hi;
	if (sp < tp && tp - sp < (1ull << 30))
		return tp; /* glibc puts a thread's descriptor at the top of its own stack mapping */
	*known = false;
	return (sp | 4095) + 1;
}

/*
 * Reserve len bytes of the ring (several threads at once), padding to its end
 * when a record would not fit before it. Returns the record's position, or
 * (uint64_t)-1 when the ring stays full.
 */
static uint64_t reserve(struct agent_ctl *c, uint32_t len)
{
	uint64_t size = c->ring_size, t0 = 0, seen = 0;
	for (;;) {
		uint64_t head = __atomic_load_n(&c->head, __ATOMIC_RELAXED);
		uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
		if (tail != seen)
			t0 = 0; /* mlyze is reading: keep waiting, exactness first */
		seen = tail;
		uint64_t off = head & (size - 1), pad = off + len > size ? size - off : 0;
		if (head + pad + len - tail <= size) {
			if (!__atomic_compare_exchange_n(&c->head, &head, head + pad + len, true, __ATOMIC_ACQ_REL,
							 __ATOMIC_RELAXED))
				continue;
			if (pad) {
				struct agent_rec *p = (struct agent_rec *)(c->ring + off);
				p->len = (uint32_t)pad;
				p->kind = AREC_PAD;
				__atomic_store_n(&p->pos, head, __ATOMIC_RELEASE);
			}
			if (__atomic_load_n(&c->dropping, __ATOMIC_RELAXED))
				__atomic_store_n(&c->dropping, 0, __ATOMIC_RELAXED);
			return head + pad;
		}
		/* Full: wait while mlyze makes room; a bounded moment without progress, and drop. */
		if (__atomic_load_n(&c->dropping, __ATOMIC_RELAXED))
			return (uint64_t)-1;
		uint64_t now = now_ns();
		if (!t0)
			t0 = now;
		if (now - t0 > c->wait_ns) {
			__atomic_store_n(&c->dropping, 1, __ATOMIC_RELAXED);
			return (uint64_t)-1;
		}
		struct { long s, ns; } nap = { 0, 20000 };
		sys2(SYS_nanosleep_, (long)&nap, 0);
	}
}

/* FNV-1a over the frames, with a final mix: the stack table's key. */
static uint64_t hash_frames(const uint64_t *pcs, int n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < n; i++) {
		h ^= pcs[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return (h ^ (h >> 32)) | 1; /* never 0 */
}

static bool same_frames(const struct agent_ctl *c, const struct agent_stack *e, const uint64_t *pcs, int n)
{
	if (e->n != (uint32_t)n || (uint64_t)e->off + (uint64_t)n > c->frames_cap)
		return false;
	const uint64_t *f = (const uint64_t *)c->frames + e->off;
	for (int i = 0; i < n; i++)
		if (f[i] != pcs[i])
			return false;
	return true;
}

/* Post a stack record for a new id; false when the ring stays full. */
static bool post_stack(struct agent_ctl *c, uint32_t id, int32_t tid, const uint64_t *pcs, int n)
{
	uint32_t len = (uint32_t)((sizeof(struct agent_rec) + (size_t)n * 8 + 15) & ~15ull);
	uint64_t pos = reserve(c, len);
	if (pos == (uint64_t)-1)
		return false;
	struct agent_rec *r = (struct agent_rec *)(c->ring + (pos & (c->ring_size - 1)));
	r->len = len;
	r->kind = AREC_STACK;
	r->flags = 0;
	r->tid = tid;
	r->stack = id;
	r->a0 = (uint64_t)n;
	memcpy(r + 1, pcs, (size_t)n * 8);
	__atomic_store_n(&r->pos, pos, __ATOMIC_RELEASE);
	return true;
}

/*
 * The id of this stack, posting it first if it is new; 0 when it could not
 * be posted or kept (the event then carries a copy). Every id names a kept
 * stack, so mlyze's map of them is as bounded as the table. Several threads may post the same new stack under two ids: mlyze
 * keys stacks by their frames, so that costs a record, not a figure.
 */
static uint32_t stack_id(struct agent_ctl *c, int32_t tid, const uint64_t *pcs, int n)
{
	uint64_t h = hash_frames(pcs, n);
	struct agent_stack *tab = (struct agent_stack *)c->stacks;
	for (uint64_t i = 0; i <= c->stacks_mask; i++) {
		struct agent_stack *e = &tab[(h + i) & c->stacks_mask];
		uint32_t st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
		if (st == 2) {
			if (e->hash == h && same_frames(c, e, pcs, n))
				return e->id;
			continue;
		}
		if (st == 1)
			continue; /* being posted by another thread */
		uint32_t zero = 0;
		if (!__atomic_compare_exchange_n(&e->state, &zero, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		uint64_t off = __atomic_fetch_add(&c->frames_used, (uint64_t)n, __ATOMIC_RELAXED);
		if (off + (uint64_t)n > c->frames_cap) {
			/* No room to keep its frames: mlyze unwinds this one from a copy, and no id is spent. */
			__atomic_store_n(&e->state, 0, __ATOMIC_RELEASE);
			return 0;
		}
		uint32_t id = __atomic_add_fetch(&c->next_stack, 1, __ATOMIC_RELAXED);
		if (!post_stack(c, id, tid, pcs, n)) {
			__atomic_store_n(&e->state, 0, __ATOMIC_RELEASE);
			return 0;
		}
		memcpy((uint64_t *)c->frames + off, pcs, (size_t)n * 8);
		e->hash = h;
		e->id = id;
		e->off = (uint32_t)off;
		e->n = (uint32_t)n;
		__atomic_store_n(&e->state, 2, __ATOMIC_RELEASE);
		return id;
	}
	return 0; /* a full table: mlyze unwinds this one from a copy */
}

/* The unwind tables in use, or NULL; a thread's row cache is emptied when they change. */
static const struct unw_modules *tables(struct agent_ctl *c, struct agent_slot *s, struct unw_cache *cache)
{
	uint8_t w = __atomic_load_n(&c->unw_which, __ATOMIC_ACQUIRE);
	if (w != 1 && w != 2)
		return NULL;
	if (s) {
		uint64_t i = (uint64_t)(s - c->slots);
		cache->slots = (struct unw_cache_slot *)(c->caches + i * AGENT_CACHE_SLOTS * sizeof(struct unw_cache_slot));
		cache->mask = AGENT_CACHE_SLOTS - 1;
		if (s->unw_seen != w) {
			memset(cache->slots, 0, AGENT_CACHE_SLOTS * sizeof(struct unw_cache_slot));
			s->unw_seen = w;
		}
	}
	return (const struct unw_modules *)c->unw[w - 1];
}

/*
 * The stack of this call, unwound here, as an id; 0 when mlyze must unwind it
 * from a copy (no tables, or the walk met code they do not cover).
 */
static uint32_t own_stack(struct agent_ctl *c, struct agent_frame *f, int32_t tid, uint64_t pc, uint64_t sp,
			  uint64_t end, uint32_t *flags)
{
	struct unw_cache cache = { 0, 0 };
	const struct unw_modules *m = tables(c, f->slot, &cache);
	if (!m)
		return 0;
	uint64_t pcs[AGENT_MAX_DEPTH];
	int max = c->max_depth && c->max_depth <= AGENT_MAX_DEPTH ? (int)c->max_depth : AGENT_MAX_DEPTH;
	int n = unw_walk_ex(m, cache.slots ? &cache : NULL, pc, sp, f->rbp, sp, end, 0, pcs, max);
	if (n <= 0)
		return 0;
	/* A walk that ended in code no table covers (a library loaded since): mlyze does this one. */
	if (n < max && !unw_find_module(m, n == 1 ? pcs[0] : pcs[n - 1] - 1)) {
		__atomic_fetch_add(&c->unknown_pcs, 1, __ATOMIC_RELAXED);
		*flags |= AREC_UNKNOWN_PC;
		return 0;
	}
	return stack_id(c, tid, pcs, n);
}

/* The bytes an allocating call asked for (saturated), and in *addr the block it returned (0: it failed). */
static uint64_t call_size(const struct agent_frame *f, uint32_t kind, uint64_t *addr)
{
	uint64_t n;
	*addr = f->result;
	switch (kind) {
	case AGENT_KIND_CALLOC:
		return __builtin_mul_overflow(f->rdi, f->rsi, &n) ? UINT64_MAX : n;
	case AGENT_KIND_REALLOC:
	case AGENT_KIND_ALIGNED_ALLOC:
	case AGENT_KIND_MEMALIGN:
		return f->rsi;
	case AGENT_KIND_REALLOCARRAY:
		return __builtin_mul_overflow(f->rsi, f->rdx, &n) ? UINT64_MAX : n;
	case AGENT_KIND_POSIX_MEMALIGN:
		*addr = (int)f->result == 0 ? *(const uint64_t *)f->rdi : 0;
		return f->rdx;
	default: /* malloc, valloc, pvalloc */
		return f->rdi;
	}
}

/*
 * Byte sampling, and the address set once it was used: whether this call is
 * recorded, and as what (*kind may become a free: a realloc that freed a
 * recorded block into an unrecorded one; *old is 0 when the realloc's old
 * block was not recorded). The fast path of an unrecorded call ends here.
 */
static bool decide(struct agent_ctl *c, struct agent_frame *f, uint64_t smp, uint32_t *kind, uint64_t *old)
{
	*old = f->rdi;
	if (f->idx & FR_DECIDED) { /* agent_enter drew or looked already */
		if (*kind == AGENT_KIND_FREE)
			return (f->idx & FR_HAD) || !smp;
		if (!(f->idx & FR_TAKEN))
			return false; /* left out, kept in progress only (framed()) */
		uint64_t addr;
		call_size(f, *kind, &addr);
		return addr && set_add(c, addr);
	}
	if (*kind == AGENT_KIND_FREE) {
		bool had = f->rdi && set_remove(c, f->rdi);
		return had || !smp; /* exactly: every free; sampled: those of recorded blocks */
	}
	uint64_t addr, size = call_size(f, *kind, &addr);
	bool re = *kind == AGENT_KIND_REALLOC || *kind == AGENT_KIND_REALLOCARRAY;
	/* realloc frees its old block when it returns another, or when asked for 0 bytes. */
	bool had = re && f->rdi && (addr || !size) && set_remove(c, f->rdi);
	if (!smp)
		return true;
	if (addr && sample_take(c, f->slot, smp, size) && set_add(c, addr)) {
		if (re && !had)
			*old = 0; /* its old block was never recorded: nothing to free */
		return true;
	}
	if (had) { /* the recorded old block is gone, its successor not recorded */
		*kind = AGENT_KIND_FREE;
		return true;
	}
	return false;
}

static void record(struct agent_ctl *c, struct agent_frame *f, uint32_t idx, uint32_t kind, uint64_t smp,
		   uint64_t old);

void agent_leave(struct agent_frame *f)
{
	struct agent_ctl *c = &agent_ctl;
	struct agent_slot *s = f->slot;
	if (s && --s->depth)
		return; /* inside another hooked call: the outermost one is recorded */
	if (s)
		s->short_way = s->sample_seen; /* reopened: decide() below may draw afresh, and updates it */
	if (!__atomic_load_n(&c->armed, __ATOMIC_ACQUIRE))
		return;
	uint32_t idx = (uint32_t)f->idx & (AGENT_MAXHOOKS - 1), kind = c->kind[idx];
	uint64_t smp = __atomic_load_n(&c->sample, __ATOMIC_RELAXED), old = f->rdi;
	if ((smp || c->set_used || (f->idx & FR_DECIDED)) && !decide(c, f, smp, &kind, &old))
		return; /* not recorded after all: no record, no unwinding */
	/* Drawn before the call: weighed at the mean it was drawn at, should `set sample` have come since. */
	if (f->idx & FR_TAKEN)
		smp = (f->idx >> FR_GEN_SHIFT) & 0xff;
	record(c, f, idx, kind, smp, old);
}

/* Unwind (or copy the stack), reserve and write the record of this call. Out of line: the fast path above saves less. */
static __attribute__((noinline)) void record(struct agent_ctl *c, struct agent_frame *f, uint32_t idx, uint32_t kind,
					     uint64_t smp, uint64_t old)
{
	/*
	 * Dropping (mlyze gone or stuck) with no room for the largest record: lost
	 * before any unwinding, so a process whose mlyze was killed pays a few loads.
	 */
	if (__atomic_load_n(&c->dropping, __ATOMIC_RELAXED) &&
	    __atomic_load_n(&c->head, __ATOMIC_RELAXED) - __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE) +
			    2 * (sizeof(struct agent_rec) + sizeof(struct agent_ctx) + AGENT_STACK_COPY) >
		    c->ring_size) {
		__atomic_fetch_add(&c->lost, 1, __ATOMIC_RELAXED);
		return;
	}
	uint64_t tp = thread_pointer(), sp = (uint64_t)&f->ret, pc = c->entry[idx];
	int32_t tid = c->tid_off ? *(const int32_t *)(tp + (uint64_t)c->tid_off) : (int32_t)sys0(SYS_gettid_);
	uint32_t flags = 0, stack = 0;
	uint64_t copy = 0;
	if (kind != AGENT_KIND_FREE) { /* mlyze keeps no stack for a free */
		bool known;
		uint64_t end = stack_end(c, sp, tp, &known);
		if (!known)
			flags |= AREC_STACK_CUT;
		stack = own_stack(c, f, tid, pc, sp, end, &flags);
		if (!stack) {
			flags |= AREC_CTX;
			copy = end - sp < AGENT_STACK_COPY ? (end - sp) & ~7ull : AGENT_STACK_COPY;
		}
	}
	size_t extra = flags & AREC_CTX ? sizeof(struct agent_ctx) + copy : 0;
	uint32_t len = (uint32_t)((sizeof(struct agent_rec) + extra + 15) & ~15ull);
	uint64_t pos = reserve(c, len);
	if (pos == (uint64_t)-1) {
		__atomic_fetch_add(&c->lost, 1, __ATOMIC_RELAXED);
		return;
	}
	struct agent_rec *r = (struct agent_rec *)(c->ring + (pos & (c->ring_size - 1)));
	r->len = len;
	r->kind = (uint16_t)kind;
	r->flags = (uint16_t)(flags | (smp & 0xff) << 8);
	r->tid = tid;
	r->stack = stack;
	r->a0 = old, r->a1 = f->rsi, r->a2 = f->rdx;
	r->result = f->result;
	/* posix_memalign's block is where its first argument points. */
	r->result2 = kind == AGENT_KIND_POSIX_MEMALIGN && (int)f->result == 0 ? *(const uint64_t *)f->rdi : 0;
	r->ret = f->ret;
	if (flags & AREC_CTX) {
		struct agent_ctx *x = (struct agent_ctx *)(r + 1);
		x->pc = pc;
		x->rsp = sp;
		x->rbp = f->rbp, x->rbx = f->rbx, x->r12 = f->r12, x->r13 = f->r13, x->r14 = f->r14, x->r15 = f->r15;
		x->stack_len = (uint32_t)copy;
		memcpy(x + 1, (const void *)sp, copy);
	}
	__atomic_store_n(&r->pos, pos, __ATOMIC_RELEASE);
}
