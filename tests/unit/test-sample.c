// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * test-sample.c - byte sampling: the agent's fixed-point -ln against libm's, its countdown's
 * probability 1 - exp(-size/mean) and its mean, blocks of the mean or more, the address set
 * (insert, remove, reuse of removed slots, a full bucket pair), and the live set's weights.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "liveset.h"
/* The agent's code itself, built here with the host compiler: it calls nothing outside the header. */
#include "../../src/agent/payload/sample.h"

static void neg_ln_matches_libm(void **state)
{
	(void)state;
	/* Every power of two, and odd values between: 2^-31 absolute is the fixed point's own limit. */
	for (int e = 0; e < 64; e++) {
		for (uint64_t k = 0; k < 3; k++) {
			uint64_t x = (1ull << e) + (e > 2 ? k * ((1ull << e) / 3) : 0);
			double want = -log((double)(x | 1) / 18446744073709551616.0);
			double got = (double)neg_ln_q32(x) / 4294967296.0;
			assert_true(fabs(got - want) < 1e-8);
		}
	}
}

/* n draws from one thread: the share of countdowns below s is 1 - exp(-s/mean), their mean is mean. */
static void countdown_is_exponential(void **state)
{
	(void)state;
	struct agent_ctl c = { .sample_seed = 42 };
	struct agent_slot s = { 0 };
	const uint64_t mean = 65536;
	const int n = 400000;
	const uint64_t at[] = { 64, 4096, 32768, 65536, 200000 };
	int below[5] = { 0 };
	double sum = 0;
	for (int i = 0; i < n; i++) {
		draw(&c, &s, mean);
		sum += (double)s.countdown;
		for (int j = 0; j < 5; j++)
			below[j] += s.countdown < (int64_t)at[j];
	}
	/* Binomial standard deviations are under 0.0008 here: 0.004 is five of them. */
	for (int j = 0; j < 5; j++)
		assert_true(fabs((double)below[j] / n - (1 - exp(-(double)at[j] / mean))) < 0.004);
	assert_true(fabs(sum / n / mean - 1) < 0.01);
	assert_int_equal(c.seeded, 1);
}

/* sample_take over many allocations of one size: recorded with probability 1 - exp(-size/mean). */
static void take_probability(void **state)
{
	(void)state;
	const uint64_t mean = 65536, sizes[] = { 64, 8192, 32768 };
	for (int j = 0; j < 3; j++) {
		struct agent_ctl c = { .sample_seed = 7 + (uint64_t)j };
		struct agent_slot s = { 0 };
		uint64_t smp = mean << 8 | 1, taken = 0, n = 2000000 / (sizes[j] / 64 > 100 ? 100 : sizes[j] / 64);
		for (uint64_t i = 0; i < n; i++)
			taken += sample_take(&c, &s, smp, sizes[j]);
		double p = 1 - exp(-(double)sizes[j] / mean), sd = sqrt(n * p * (1 - p));
		assert_true(fabs((double)taken - n * p) < 5 * sd);
		assert_int_equal(s.unsampled, n - taken);
	}
	/* The mean or more: always, and the countdown is left alone. */
	struct agent_ctl c = { .sample_seed = 1 };
	struct agent_slot s = { 0 };
	sample_take(&c, &s, mean << 8 | 1, 1); /* draws the first countdown */
	int64_t left = s.countdown;
	assert_true(sample_take(&c, &s, mean << 8 | 1, mean));
	assert_true(sample_take(&c, &s, mean << 8 | 1, 10 * mean));
	assert_int_equal(s.countdown, left);
	/* No slot: only blocks of the mean or more. */
	assert_false(sample_take(&c, NULL, mean << 8 | 1, 100));
	assert_true(sample_take(&c, NULL, mean << 8 | 1, mean));
	assert_int_equal(c.unsampled_noslot, 1);
}

static void address_set(void **state)
{
	(void)state;
	enum { BUCKETS = 16, HINT = 64 };
	uint64_t *set = calloc(BUCKETS * AGENT_SET_WAYS, sizeof(uint64_t));
	uint8_t *hint = calloc(HINT, 1);
	struct agent_ctl c = { .set = (uint64_t)(uintptr_t)set, .set_mask = BUCKETS - 1,
			       .set_hint = (uint64_t)(uintptr_t)hint, .hint_mask = HINT - 1 };
	assert_false(set_remove(&c, 0x1000));
	assert_true(set_add(&c, 0x1000));
	assert_int_equal(hint[(agent_set_hash(0x1000) & (HINT - 1))], 1);
	/* The hint says no for an address whose byte nobody counts, without a look at the set. */
	uint64_t h = (agent_set_hash(0x1000) & (HINT - 1)), other = 0x2000;
	while ((agent_set_hash(other) & (HINT - 1)) == h)
		other += 0x10;
	set[(agent_set_hash(other) & (BUCKETS - 1)) * AGENT_SET_WAYS] = other; /* planted behind its back */
	assert_false(set_remove(&c, other));
	set[(agent_set_hash(other) & (BUCKETS - 1)) * AGENT_SET_WAYS] = 0;
	assert_true(set_remove(&c, 0x1000));
	assert_int_equal(hint[h], 0);
	assert_false(set_remove(&c, 0x1000)); /* gone: a removed slot is 1, not the address */
	/* Addresses of one bucket: AGENT_SET_PROBE buckets of them fit, the next is refused and counted. */
	enum { FIT = AGENT_SET_PROBE * AGENT_SET_WAYS };
	uint64_t same[FIT + 1];
	int n = 0;
	for (uint64_t a = 0x10; n < FIT + 1; a += 0x10)
		if ((agent_set_hash(a) & (BUCKETS - 1)) == 3)
			same[n++] = a;
	for (int i = 0; i < FIT; i++)
		assert_true(set_add(&c, same[i]));
	assert_false(set_add(&c, same[FIT]));
	assert_int_equal(c.set_full, 1);
	int counted = 0;
	for (int i = 0; i < HINT; i++)
		counted += hint[i];
	assert_int_equal(counted, FIT); /* the refused one's count given back */
	for (int i = 0; i < FIT; i++)
		assert_true(set_remove(&c, same[FIT - 1 - i]));
	for (int i = 0; i < FIT; i++)
		assert_int_equal(hint[(agent_set_hash(same[i]) & (HINT - 1))], 0);
	/* Removed slots are taken again, and lookups go past them. */
	for (int i = 0; i < FIT; i++)
		assert_true(set_add(&c, same[FIT - i]));
	assert_true(set_remove(&c, same[1]));
	assert_true(set_remove(&c, same[FIT]));
	free(set);
	free(hint);
}

/* A hint byte counts 255 addresses at most: the next is refused (a byte that wrapped to 0 would hide them all). */
static void hint_full(void **state)
{
	(void)state;
	enum { BUCKETS = 4096, HINT = 16, N = UINT8_MAX + 1 };
	uint64_t *set = calloc(BUCKETS * AGENT_SET_WAYS, sizeof(uint64_t));
	uint8_t *hint = calloc(HINT, 1);
	struct agent_ctl c = { .set = (uint64_t)(uintptr_t)set, .set_mask = BUCKETS - 1,
			       .set_hint = (uint64_t)(uintptr_t)hint, .hint_mask = HINT - 1 };
	uint64_t *same = calloc(N, sizeof(uint64_t));
	int n = 0;
	uint64_t h = (agent_set_hash(0x10) & (HINT - 1));
	for (uint64_t a = 0x10; n < N; a += 0x10)
		if ((agent_set_hash(a) & (HINT - 1)) == h)
			same[n++] = a;
	for (int i = 0; i < N - 1; i++)
		assert_true(set_add(&c, same[i]));
	assert_int_equal(hint[h], UINT8_MAX);
	assert_false(set_add(&c, same[N - 1]));
	assert_int_equal(c.set_full, 1);
	assert_int_equal(hint[h], UINT8_MAX);
	assert_true(set_remove(&c, same[0]));
	assert_true(set_add(&c, same[N - 1]));
	for (int i = 1; i < N; i++)
		assert_true(set_remove(&c, same[i]));
	assert_int_equal(hint[h], 0);
	free(same);
	free(set);
	free(hint);
}

static void weights(void **state)
{
	(void)state;
	uint64_t count, bytes;
	liveset_weigh(0x1000, 100, 0, &count, &bytes);
	assert_int_equal(count, 1);
	assert_int_equal(bytes, 100);
	liveset_weigh(0x1000, 65536, 65536, &count, &bytes); /* the mean or more: exact */
	assert_int_equal(count, 1);
	assert_int_equal(bytes, 65536);
	/* 32 KiB at 64 KiB: 1/p = 2.5415; bytes exact to the byte, counts 2 or 3 averaging 1/p. */
	double w = 1 / (1 - exp(-0.5));
	uint64_t total = 0;
	for (uint64_t a = 0; a < 100000; a++) {
		liveset_weigh(0x7f0000000000 + a * 48, 32768, 65536, &count, &bytes);
		assert_int_equal(bytes, (uint64_t)llround(32768 * w));
		assert_true(count == 2 || count == 3);
		total += count;
	}
	assert_true(fabs((double)total / 100000 - w) < 0.01);
	/* The same block weighs the same when it goes as when it came. */
	uint64_t c2, b2;
	liveset_weigh(0x55550010, 64, 65536, &count, &bytes);
	liveset_weigh(0x55550010, 64, 65536, &c2, &b2);
	assert_int_equal(count, c2);
	assert_int_equal(bytes, b2);
}

/* A live set fed sampled blocks: its totals are the weights' sums, and frees take them off. */
static void liveset_estimates(void **state)
{
	(void)state;
	struct liveset ls;
	liveset_init(&ls);
	uint64_t pc = 0x401000;
	uint32_t st = liveset_stack(&ls, liveset_thread(&ls, 1), &pc, 1);
	liveset_add(&ls, 0x1000, 100, st, 0, 0);
	liveset_add(&ls, 0x2000, 32768, st, 0, 65536);
	liveset_add(&ls, 0x3000, 100000, st, 0, 65536);
	uint64_t c, b;
	liveset_weigh(0x2000, 32768, 65536, &c, &b);
	assert_int_equal(ls.live_count, 1 + c + 1);
	assert_int_equal(ls.live_bytes, 100 + b + 100000);
	assert_true(liveset_estimated(&ls));
	assert_true(liveset_remove(&ls, 0x2000));
	assert_int_equal(ls.live_count, 2);
	assert_int_equal(ls.live_bytes, 100100);
	assert_true(liveset_remove(&ls, 0x1000));
	assert_true(liveset_remove(&ls, 0x3000));
	assert_int_equal(ls.live_count, 0);
	assert_int_equal(ls.live_bytes, 0);
	assert_int_equal(ls.live[st].count, 0);
	liveset_release(&ls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(neg_ln_matches_libm),
		cmocka_unit_test(countdown_is_exponential),
		cmocka_unit_test(take_probability),
		cmocka_unit_test(address_set),
		cmocka_unit_test(hint_full),
		cmocka_unit_test(weights),
		cmocka_unit_test(liveset_estimates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
