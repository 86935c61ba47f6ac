// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * test-blocktab.c - the live blocks' table against a plain array: random
 * insertions, replacements and removals through several growths, every
 * block found with its fields, every absent address missed, the byte sum
 * kept, and the load the table promises (80-90 % full once grown).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blocks.h"
#include "xalloc.h"

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The reference: slot k of the array holds address 0x10000 + 16 k when live[k]. */
#define SLOTS 200000
#define ADDR(k) (0x10000ull + 16 * (uint64_t)(k))

static void against_array(void **state)
{
	(void)state;
	struct blocktab bt = { 0 };
	bool *live = xcalloc(SLOTS, sizeof(*live));
	uint64_t *size = xcalloc(SLOTS, sizeof(*size));
	uint64_t seed = 0x9e3779b9, bytes = 0;
	size_t n = 0;
	for (int round = 0; round < 1500000; round++) {
		/* mostly insertions at first, then as many removals: the table grows, then runs long runs */
		size_t k = (size_t)(rng(&seed) % (round < 600000 ? SLOTS : SLOTS / 2));
		uint64_t r = rng(&seed);
		if (r % 3 || !live[k]) {
			uint64_t sz = r >> 44;
			struct block old;
			bool replaced = blocktab_put(&bt, ADDR(k), sz, (uint32_t)k, r >> 8, &old);
			assert_int_equal(replaced, live[k]);
			if (replaced) {
				assert_int_equal(old.addr, ADDR(k));
				assert_int_equal(old.size, size[k]);
				bytes -= size[k];
			} else {
				n++;
			}
			live[k] = true;
			size[k] = sz;
			bytes += sz;
		} else {
			struct block out;
			assert_true(blocktab_del(&bt, ADDR(k), &out));
			assert_int_equal(out.size, size[k]);
			assert_int_equal(out.stack, k);
			live[k] = false;
			bytes -= size[k];
			n--;
		}
		if (round % 100000 == 0 || round == 1499999) {
			assert_int_equal(bt.n, n);
			assert_int_equal(bt.bytes, bytes);
			for (size_t j = 0; j < SLOTS; j++) {
				const struct block *b = blocktab_get(&bt, ADDR(j));
				assert_int_equal(b != NULL, live[j]);
				if (b) {
					assert_int_equal(b->size, size[j]);
					assert_int_equal(b->stack, j);
				}
				assert_null(blocktab_get(&bt, ADDR(j) + 8)); /* never put */
			}
			size_t seen = 0;
			BLOCKTAB_FOREACH(&bt, b)
				seen++;
			assert_int_equal(seen, n);
		}
	}
	/* grown by an eighth past 90 %: at most 90 % full, and at least 80 % right after the last growth */
	assert_true(bt.n * 10 <= bt.cap * 9);
	blocktab_clear(&bt);
	for (size_t k = 0; k < 100000; k++)
		blocktab_put(&bt, ADDR(k), 1, 0, 0, NULL);
	assert_true(bt.n * 10 <= bt.cap * 9);
	assert_true(bt.n * 10 >= bt.cap * 8 - 10);
	blocktab_clear(&bt);
	free(live);
	free(size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(against_array),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
