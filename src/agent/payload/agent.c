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

uint64_t agent_enter(struct agent_frame *f) HIDDEN;
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

/* The slot of the thread whose thread pointer is tp, claimed on its first call; NULL when all are taken. */
static struct agent_slot *slot_of(uint64_t tp)
{
	struct agent_ctl *c = &agent_ctl;
	uint32_t h = (uint32_t)((tp >> 12) ^ (tp >> 24)) & (AGENT_SLOTS - 1);
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

uint64_t agent_enter(struct agent_frame *f)
{
	struct agent_ctl *c = &agent_ctl;
	uint64_t entry_rsp = (uint64_t)&f->ret;
	struct agent_slot *s = slot_of(thread_pointer());
	f->slot = s;
	if (!s) {
		__atomic_fetch_add(&c->noslot, 1, __ATOMIC_RELAXED);
	} else {
		/* A call in progress whose frame is at or below ours was left by longjmp. */
		if (s->depth && entry_rsp >= s->outer_rsp) {
			s->depth = 0;
			__atomic_fetch_add(&c->abandoned, 1, __ATOMIC_RELAXED);
		}
		if (s->depth++ == 0)
			s->outer_rsp = entry_rsp;
		else
			__atomic_fetch_add(&c->nested[f->idx & (AGENT_MAXHOOKS - 1)], 1, __ATOMIC_RELAXED);
	}
	return c->orig[f->idx & (AGENT_MAXHOOKS - 1)];
}

/* How far above sp the stack is certainly mapped, up to AGENT_STACK_COPY bytes. */
static uint64_t stack_room(const struct agent_ctl *c, uint64_t sp, uint64_t tp, uint32_t *flags)
{
	uint64_t end;
	if (sp >= c->main_stack_lo && sp < c->main_stack_hi)
		end = c->main_stack_hi;
	else if (sp < tp && tp - sp < (1ull << 30))
		end = tp; /* glibc puts a thread's descriptor at the top of its own stack mapping */
	else
		end = (sp | 4095) + 1; /* an unknown stack: its current page only */
	uint64_t room = end - sp;
	if (room >= AGENT_STACK_COPY)
		return AGENT_STACK_COPY;
	if (end != c->main_stack_hi && end != tp)
		*flags |= AREC_STACK_CUT; /* short of a known stack top: frames may be missing */
	return room & ~7ull;
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

void agent_leave(struct agent_frame *f)
{
	struct agent_ctl *c = &agent_ctl;
	struct agent_slot *s = f->slot;
	if (s && --s->depth)
		return; /* inside another hooked call: the outermost one is recorded */
	if (!__atomic_load_n(&c->armed, __ATOMIC_ACQUIRE))
		return;
	uint32_t kind = c->kind[f->idx & (AGENT_MAXHOOKS - 1)];
	uint64_t tp = thread_pointer(), sp = (uint64_t)&f->ret;
	uint32_t flags = 0;
	/* Frees need no stack: mlyze never keeps one for them. */
	uint64_t copy = kind == AGENT_KIND_FREE ? 0 : stack_room(c, sp, tp, &flags);
	uint32_t len = (uint32_t)((sizeof(struct agent_rec) + copy + 15) & ~15ull);
	uint64_t pos = reserve(c, len);
	if (pos == (uint64_t)-1) {
		__atomic_fetch_add(&c->lost, 1, __ATOMIC_RELAXED);
		return;
	}
	struct agent_rec *r = (struct agent_rec *)(c->ring + (pos & (c->ring_size - 1)));
	r->len = len;
	r->kind = (uint16_t)kind;
	r->stack_len = (uint16_t)copy;
	r->tid = c->tid_off ? *(const int32_t *)(tp + (uint64_t)c->tid_off) : (int32_t)sys0(SYS_gettid_);
	r->flags = flags;
	r->a0 = f->rdi, r->a1 = f->rsi, r->a2 = f->rdx;
	r->result = f->result;
	/* posix_memalign's block is where its first argument points. */
	r->result2 = kind == AGENT_KIND_POSIX_MEMALIGN && (int)f->result == 0 ? *(const uint64_t *)f->rdi : 0;
	r->pc = c->entry[f->idx & (AGENT_MAXHOOKS - 1)];
	r->rsp = sp;
	r->ret = f->ret;
	r->rbp = f->rbp, r->rbx = f->rbx, r->r12 = f->r12, r->r13 = f->r13, r->r14 = f->r14, r->r15 = f->r15;
	if (copy)
		memcpy(r + 1, (const void *)sp, copy);
	__atomic_store_n(&r->pos, pos, __ATOMIC_RELEASE);
}
