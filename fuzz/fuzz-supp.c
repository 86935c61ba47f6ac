// SPDX-License-Identifier: GPL-3.0-or-later
/* fuzz-supp.c - libFuzzer target: any bytes as a valgrind suppression file, parsed, then matched. */
#include <stdint.h>

#include "suppress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A loss record's stack as leaks builds it: allocator, wrappers, the program, below main. */
	static const struct supp_frame stack[] = {
		{ "malloc", "/usr/lib/x86_64-linux-gnu/libc.so.6", "./malloc/malloc.c", 3281 },
		{ "xmalloc", "/work/fx", "/work/fx.c", 18 },
		{ "operator new(unsigned long)", "/usr/lib/libstdc++.so.6", NULL, 0 },
		{ NULL, NULL, NULL, 0 },
		{ "main", "/work/fx", "/work/fx.c", 40 },
		{ "__libc_start_call_main", "/usr/lib/x86_64-linux-gnu/libc.so.6", NULL, 0 },
	};
	struct suppressions s = { 0 };
	struct mlz_err err;
	suppressions_parse(&s, (const char *)data, size, "fuzz.supp", &err);
	for (unsigned k = SUPP_REACHABLE; k <= SUPP_DEFINITE; k <<= 1)
		for (size_t n = 0; n <= sizeof(stack) / sizeof(stack[0]); n++)
			suppressions_match(&s, k, stack, n);
	suppressions_release(&s);
	return 0;
}
