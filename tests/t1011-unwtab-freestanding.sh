#!/bin/bash
# include/unwtab.h is meant for code injected into a target: it must build and run with no C
# library at all (no calls, no floating point or vector registers), at any optimisation level.

test_description='the unwinder of unwtab.h without libc'
. "$(dirname "$0")/lib/test-lib.sh"

CC=${CC:-gcc}
FREE_FLAGS='-std=gnu11 -Wall -Wextra -Werror -ffreestanding -fno-builtin -fno-stack-protector
	-fno-asynchronous-unwind-tables -mgeneral-regs-only -fPIE'

# walk.c: a hand-made table (the one of the unit test), a stack with four frames and a window
# that holds them, and _start exiting with the number of frames unw_walk found.
test_expect_success 'setup: a program with its own _start' '
	cat >walk.c <<-\EOF
	#include "unwtab.h"

	struct table {
		struct unw_modules h;
		struct unw_module mods[2];
		struct unw_row rows[6];
		uint32_t index[8];
	};

	static const struct table tab = {
		.h = { .magic = UNW_MAGIC, .nmods = 2, .size = sizeof(struct table) },
		.mods = {
			{ .lo = 0x1000, .hi = 0x2000, .rows_off = __builtin_offsetof(struct table, rows),
			  .index_off = __builtin_offsetof(struct table, index), .nrows = 5, .nblocks = 4 },
			{ .lo = 0x5000, .hi = 0x6000,
			  .rows_off = __builtin_offsetof(struct table, rows) + 5 * sizeof(struct unw_row),
			  .index_off = __builtin_offsetof(struct table, index) + 16, .nrows = 1, .nblocks = 4 },
		},
		.rows = {
			{ .pc_off = 0x100, .cfa_off = 8, .flags = UNW_CFA_RSP },
			{ .pc_off = 0x180, .cfa_off = 32, .flags = UNW_CFA_RSP, .rbp_off = -2 },
			{ .pc_off = 0x200, .cfa_off = 16, .flags = UNW_CFA_RBP },
			{ .pc_off = 0x300, .flags = UNW_STOP },
			{ .pc_off = 0x400, .cfa_off = 16, .flags = UNW_CFA_RSP | UNW_RBP_LOST },
			{ .pc_off = 0, .cfa_off = 16, .flags = UNW_CFA_RSP },
		},
		.index = { 0, 4, 4, 4, 0, 0, 0, 0 },
	};

	int walk(uint64_t *pcs, int max)
	{
		uint64_t stk[16] = { 0 };
		uint64_t base = (uint64_t)(uintptr_t)stk;
		struct unw_cache_slot slots[4] = { { 0 } };
		struct unw_cache c = { slots, 3 };
		stk[2] = base + 40;
		stk[3] = 0x1201;
		stk[6] = 0x5010;
		stk[8] = 0x1400;
		stk[10] = 0x5020;
		int n = unw_walk(&tab.h, 0x1180, base, 0, base, base + sizeof(stk), pcs, max);
		/* Twice through the cache: cold, then warm. */
		for (int i = 0; i < 2; i++)
			if (unw_walk_ex(&tab.h, &c, 0x1180, base, 0, base, base + sizeof(stk), 0, pcs, max) != n)
				return -1;
		return n;
	}

	__attribute__((force_align_arg_pointer)) void _start(void)
	{
		uint64_t pcs[8];
		long n = walk(pcs, 8);
		if (pcs[0] != 0x1180 || pcs[1] != 0x1201 || pcs[2] != 0x5010 || pcs[3] != 0x1400)
			n = 99;
		__asm__ volatile("syscall" : : "a"(60), "D"(n) : "rcx", "r11", "memory");
		__builtin_unreachable();
	}
	EOF
'

for opt in -O0 -O2 -Os; do
	test_expect_success "$opt: no undefined symbol, no floating point, and the walk is right" '
		$CC $FREE_FLAGS '"$opt"' -I"$SRC_ROOT/include" -c walk.c -o walk.o &&
		nm -u walk.o >undefined &&
		test_must_be_empty undefined &&
		$CC -nostdlib -static-pie -o walk walk.o &&
		test_expect_code 4 ./walk
	'
done

test_done
