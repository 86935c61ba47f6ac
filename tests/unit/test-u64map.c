// SPDX-License-Identifier: GPL-3.0-or-later
/* test-u64map.c - the u64 hash map: insertion, overwriting, growth, the extreme keys, iteration, clearing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "u64map.h"

/* A bijection of the counter: distinct keys spread over all 64 bits, the same on every run. */
static uint64_t splitmix(uint64_t i)
{
	uint64_t z = i * 0x9E3779B97F4A7C15ull + 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t value_for(uint64_t key)
{
	return ~key ^ 0x5555;
}

static void empty(void **state)
{
	(void)state;
	struct u64map m;
	u64map_init(&m);
	uint64_t v = 7, k;
	size_t it = 0;
	assert_false(u64map_get(&m, 1, &v));
	assert_false(u64map_get(&m, 0, &v));
	assert_false(u64map_get(&m, UINT64_MAX, NULL));
	assert_int_equal(v, 7); /* untouched when absent */
	assert_false(u64map_next(&m, &it, &k, &v));
	assert_int_equal(m.n, 0);
	u64map_release(&m);
	u64map_release(&m); /* released twice: still empty, nothing freed twice */
}

static void put_get_overwrite(void **state)
{
	(void)state;
	struct u64map m;
	u64map_init(&m);
	uint64_t v;
	u64map_put(&m, 0x55d0c1000010, 3);
	u64map_put(&m, 42, UINT64_MAX);
	assert_int_equal(m.n, 2);
	assert_true(u64map_get(&m, 0x55d0c1000010, &v));
	assert_int_equal(v, 3);
	assert_true(u64map_get(&m, 42, &v));
	assert_true(v == UINT64_MAX);
	assert_true(u64map_get(&m, 42, NULL));
	assert_false(u64map_get(&m, 43, &v));

	u64map_put(&m, 42, 9); /* overwrites, no second entry */
	assert_int_equal(m.n, 2);
	assert_true(u64map_get(&m, 42, &v));
	assert_int_equal(v, 9);

	/* add keeps what is there and says so */
	assert_false(u64map_add(&m, 42, 100));
	assert_true(u64map_get(&m, 42, &v));
	assert_int_equal(v, 9);
	assert_true(u64map_add(&m, 44, 100));
	assert_true(u64map_get(&m, 44, &v));
	assert_int_equal(v, 100);
	assert_int_equal(m.n, 3);

	/* a pointer survives the trip through a value */
	static int target;
	u64map_put(&m, 7, (uintptr_t)&target);
	assert_true(u64map_get(&m, 7, &v));
	assert_ptr_equal((int *)(uintptr_t)v, &target);
	u64map_release(&m);
}

static void extreme_keys(void **state)
{
	(void)state;
	struct u64map m;
	u64map_init(&m);
	uint64_t v;
	/* 0 before anything else is in the table, and a value of 0 that must still count as present */
	assert_true(u64map_add(&m, 0, 0));
	assert_true(u64map_get(&m, 0, &v));
	assert_int_equal(v, 0);
	assert_false(u64map_add(&m, 0, 5));
	u64map_put(&m, 0, 11);
	u64map_put(&m, UINT64_MAX, 12);
	u64map_put(&m, 1ull << 63, 13);
	u64map_put(&m, 1, 14);
	assert_int_equal(m.n, 4);
	assert_true(u64map_get(&m, 0, &v));
	assert_int_equal(v, 11);
	assert_true(u64map_get(&m, UINT64_MAX, &v));
	assert_int_equal(v, 12);
	assert_true(u64map_get(&m, 1ull << 63, &v));
	assert_int_equal(v, 13);
	assert_true(u64map_get(&m, 1, &v));
	assert_int_equal(v, 14);
	assert_false(u64map_get(&m, UINT64_MAX - 1, &v));

	/* key 0 stays through growth */
	for (uint64_t k = 2; k < 5000; k++)
		u64map_put(&m, k, k);
	assert_true(u64map_get(&m, 0, &v));
	assert_int_equal(v, 11);
	assert_true(u64map_get(&m, UINT64_MAX, &v));
	assert_int_equal(v, 12);
	assert_int_equal(m.n, 4 + 4998);
	u64map_release(&m);
}

/* n keys made by key(i): all found with their values after every growth, none of the others. */
static void fill_and_check(uint64_t (*key)(uint64_t), uint64_t (*other)(uint64_t), size_t n)
{
	struct u64map m;
	u64map_init(&m);
	for (size_t i = 0; i < n; i++) {
		assert_true(u64map_add(&m, key(i), value_for(key(i))));
		assert_true(m.cap >= 2 * m.n); /* at most half full, whatever the growth did */
	}
	assert_int_equal(m.n, n);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		if (!u64map_get(&m, key(i), &v) || v != value_for(key(i)))
			fail_msg("key %zu (0x%llx) lost or wrong", i, (unsigned long long)key(i));
	}
	for (size_t i = 0; i < n; i++)
		if (u64map_get(&m, other(i), NULL))
			fail_msg("absent key 0x%llx found", (unsigned long long)other(i));
	/* overwrite every other key; the rest keep their values */
	for (size_t i = 0; i < n; i += 2)
		u64map_put(&m, key(i), i);
	assert_int_equal(m.n, n);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		assert_true(u64map_get(&m, key(i), &v));
		assert_true(v == (i % 2 ? value_for(key(i)) : i));
	}
	u64map_release(&m);
}

static uint64_t seq_key(uint64_t i) { return i + 1; }
static uint64_t seq_other(uint64_t i) { return i + 1 + (1ull << 40); }
/* chunk addresses: 16-aligned, close together, in one heap */
static uint64_t addr_key(uint64_t i) { return 0x55d0c1000010ull + 16 * i; }
static uint64_t addr_other(uint64_t i) { return 0x55d0c1000018ull + 16 * i; }
/* keys that differ only in their high bits */
static uint64_t high_key(uint64_t i) { return (i + 1) << 40; }
static uint64_t high_other(uint64_t i) { return ((i + 1) << 40) | 1; }
static uint64_t random_key(uint64_t i) { return splitmix(i) | 1; }
static uint64_t random_other(uint64_t i) { return splitmix(i) & ~1ull; }

static void growth(void **state)
{
	(void)state;
	fill_and_check(seq_key, seq_other, 1000000);
	fill_and_check(addr_key, addr_other, 500000);
	fill_and_check(high_key, high_other, 100000);
	fill_and_check(random_key, random_other, 500000);
}

static void iteration(void **state)
{
	(void)state;
	struct u64map m;
	u64map_init(&m);
	enum { N = 20000 };
	static uint8_t seen[N + 1];
	memset(seen, 0, sizeof(seen));
	for (uint64_t k = 0; k <= N; k++) /* key 0 among them */
		u64map_put(&m, k * 48, k);
	uint64_t key, val;
	size_t visits = 0;
	for (size_t it = 0; u64map_next(&m, &it, &key, &val);) {
		assert_int_equal(key, val * 48);
		assert_true(val <= N);
		assert_int_equal(seen[val], 0);
		seen[val] = 1;
		visits++;
	}
	assert_int_equal(visits, N + 1);
	assert_int_equal(visits, m.n);

	/* past the end it stays at the end */
	size_t it = 0;
	while (u64map_next(&m, &it, &key, &val))
		;
	assert_false(u64map_next(&m, &it, &key, &val));

	/* values may change while iterating; keys are seen once still */
	size_t changed = 0;
	for (size_t it2 = 0; u64map_next(&m, &it2, &key, &val); changed++)
		u64map_put(&m, key, val + 1);
	assert_int_equal(changed, N + 1);
	assert_true(u64map_get(&m, 48, &val));
	assert_int_equal(val, 2);

	/* only key 0 */
	u64map_release(&m);
	u64map_put(&m, 0, 99);
	it = 0;
	assert_true(u64map_next(&m, &it, &key, &val));
	assert_int_equal(key, 0);
	assert_int_equal(val, 99);
	assert_false(u64map_next(&m, &it, &key, &val));
	u64map_release(&m);
}

static void clear_keeps_table(void **state)
{
	(void)state;
	struct u64map m;
	u64map_init(&m);
	for (uint64_t k = 0; k < 3000; k++)
		u64map_put(&m, k, k);
	size_t cap = m.cap;
	u64map_clear(&m);
	assert_int_equal(m.n, 0);
	assert_int_equal(m.cap, cap);
	assert_false(u64map_get(&m, 0, NULL));
	assert_false(u64map_get(&m, 1, NULL));
	assert_false(u64map_get(&m, 2999, NULL));
	uint64_t key, val;
	size_t it = 0;
	assert_false(u64map_next(&m, &it, &key, &val));
	assert_true(u64map_add(&m, 2999, 5));
	assert_true(u64map_add(&m, 0, 6));
	assert_int_equal(m.n, 2);
	assert_true(u64map_get(&m, 2999, &val));
	assert_int_equal(val, 5);
	u64map_release(&m);
	u64map_clear(&m); /* a map without a table: nothing to clear */
	assert_int_equal(m.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty),
		cmocka_unit_test(put_get_overwrite),
		cmocka_unit_test(extreme_keys),
		cmocka_unit_test(growth),
		cmocka_unit_test(iteration),
		cmocka_unit_test(clear_keeps_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
