/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sample.h - the agent's byte sampling, as tcmalloc and heapprofd do it: a
 * per-thread countdown of bytes drawn from an exponential distribution, with
 * a per-thread xorshift generator and a fixed-point -ln(u) (the agent uses no
 * floating point); and the lock-free set of the addresses it recorded, so that
 * only their frees are recorded. Freestanding, like the rest of the agent;
 * static inline (as unwtab.h), so that the decision every call makes costs no
 * call of its own. The unit test builds it with the host compiler.
 *
 * Usage (in agent_enter, before the original runs, and agent_leave after):
 *	if (sample_take(c, slot, smp, size)) ... call it framed; after it: if (set_add(c, addr)) record it
 *	if (set_remove(c, freed)) ... record the free
 */
#ifndef MLZ_AGENT_SAMPLE_H
#define MLZ_AGENT_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent_abi.h"

/* splitmix64: spreads a seed and a thread's ordinal over the generator's state. */
static inline uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* xorshift64*: 64 bits per call, never 0 from a state that is not 0. */
static inline uint64_t next(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/*
 * -ln(u) in 32.32 fixed point for u = x / 2^64 (x >= 1), so 0 < u < 1:
 * log2(x) is its top bit's index plus the fraction found by squaring the
 * mantissa 32 times (one bit each), and -ln(u) = (64 - log2(x)) * ln 2.
 * Exact to about 2^-31, beyond what 2^64 values of u can tell apart.
 */
static inline uint64_t neg_ln_q32(uint64_t x)
{
	x |= 1;
	int e = 63 - __builtin_clzll(x);
	uint64_t m = e >= 62 ? x >> (e - 62) : x << (62 - e); /* [1, 2) in Q62 */
	uint64_t frac = 0;
	for (int i = 1; i <= 32; i++) {
		m = (uint64_t)(((unsigned __int128)m * m) >> 62); /* [1, 4) */
		if (m >= 1ull << 63) {
			m >>= 1;
			frac |= 1ull << (32 - i);
		}
	}
	uint64_t l2 = ((uint64_t)(64 - e) << 32) - frac;
	return (uint64_t)(((unsigned __int128)l2 * 0xb17217f7d1cf79abull) >> 64); /* ln 2 in Q64 */
}

/* A new countdown for s: exponential with mean bytes. */
static __attribute__((noinline)) void draw(struct agent_ctl *c, struct agent_slot *s, uint64_t mean)
{
	if (!s->rng) { /* the thread's first decision: seeded from mlyze's seed and its ordinal, so runs repeat */
		uint32_t k = __atomic_add_fetch(&c->seeded, 1, __ATOMIC_RELAXED);
		s->rng = mix(c->sample_seed + (uint64_t)k * 0xd1b54a32d192ed03ull) | 1;
	}
	unsigned __int128 v = (unsigned __int128)mean * neg_ln_q32(next(&s->rng));
	uint64_t n = (uint64_t)(v >> 32);
	s->countdown = n > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)n;
}

/*
 * Whether an allocation of size bytes is recorded under ctl.sample == smp
 * (mean smp >> 8): always when size >= mean, else when it exhausts thread
 * s's countdown (probability 1 - exp(-size/mean)). s may be NULL (no slot
 * left): then only blocks of mean bytes or more are.
 */
static inline bool sample_take(struct agent_ctl *c, struct agent_slot *s, uint64_t smp, uint64_t size)
{
	uint64_t mean = smp >> 8;
	if (size >= mean)
		return true;
	if (!s) {
		__atomic_fetch_add(&c->unsampled_noslot, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (s->sample_seen != smp) { /* the first decision, or a new mean: a fresh draw (memoryless) */
		draw(c, s, mean);
		s->sample_seen = smp;
		s->short_way = smp; /* called with no call in progress on s */
	}
	if ((int64_t)size >= s->countdown) {
		draw(c, s, mean);
		return true;
	}
	s->countdown -= (int64_t)size;
	s->unsampled++;
	return false;
}

static inline uint64_t *bucket(struct agent_ctl *c, uint64_t h, uint64_t i)
{
	return (uint64_t *)c->set + ((h + i) & c->set_mask) * AGENT_SET_WAYS;
}

/* The hint's count for the addresses whose hash h's is. */
static inline uint8_t *hint(struct agent_ctl *c, uint64_t h)
{
	return (uint8_t *)c->set_hint + (h & c->hint_mask);
}

/* Add addr to the address set; false when its buckets are full or its hint byte is (counted in ctl.set_full). */
static inline bool set_add(struct agent_ctl *c, uint64_t addr)
{
	uint64_t h = agent_set_hash(addr);
	uint8_t *hb = hint(c, h), v = __atomic_load_n(hb, __ATOMIC_RELAXED);
	/* Counted first, so before the block is handed out, so before anyone can free it. */
	do {
		if (v == UINT8_MAX) {
			__atomic_fetch_add(&c->set_full, 1, __ATOMIC_RELAXED);
			return false;
		}
	} while (!__atomic_compare_exchange_n(hb, &v, (uint8_t)(v + 1), false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	for (uint64_t i = 0; i < AGENT_SET_PROBE; i++) {
		uint64_t *b = bucket(c, h, i);
		for (int w = 0; w < AGENT_SET_WAYS; w++) {
			uint64_t k = __atomic_load_n(&b[w], __ATOMIC_RELAXED);
			while (k <= AGENT_SET_REMOVED)
				if (__atomic_compare_exchange_n(&b[w], &k, addr, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
					return true;
		}
	}
	__atomic_fetch_sub(hb, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&c->set_full, 1, __ATOMIC_RELAXED);
	return false;
}

/*
 * Remove addr from the address set; false when it was not there (a block not
 * recorded). Most frees end at the hint and touch no line of the set
 * (thunk.S's short way ends them before any call).
 */
static inline bool set_remove(struct agent_ctl *c, uint64_t addr)
{
	uint64_t h = agent_set_hash(addr);
	if (!__atomic_load_n(hint(c, h), __ATOMIC_ACQUIRE))
		return false;
	for (uint64_t i = 0; i < AGENT_SET_PROBE; i++) {
		uint64_t *b = bucket(c, h, i);
		for (int w = 0; w < AGENT_SET_WAYS; w++) {
			uint64_t k = __atomic_load_n(&b[w], __ATOMIC_ACQUIRE);
			if (!k)
				return false; /* a slot never used: nothing was put further on */
			if (k == addr && __atomic_compare_exchange_n(&b[w], &k, AGENT_SET_REMOVED, false, __ATOMIC_ACQ_REL,
								     __ATOMIC_RELAXED)) {
				__atomic_fetch_sub(hint(c, h), 1, __ATOMIC_RELEASE);
				return true;
			}
		}
	}
	return false;
}

#endif
