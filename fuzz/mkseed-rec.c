// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * mkseed-rec.c - the seed of fuzz-rec.c: a small recording with every kind of record (what was
 * recorded, modules, stacks, allocations, frees, a sample, a mark, a checkpoint, an exec's
 * forgetting, the peak, the end) over several chunks, written by mlyze's own writer. usage: mkseed-rec FILE
 */
#include <stdio.h>

#include "recfile.h"

int main(int argc, char **argv)
{
	struct recw w;
	struct mlz_err err;
	if (argc != 2 || recw_open(&w, argv[1], true, &err) < 0)
		return 1;
	recw_info(&w, 1234, "seed", "/usr/bin/seed", "agent", 1700000000000000000ull);
	struct module_range m[2] = { { 0x555555554000, 0x555555559000, "/usr/bin/seed", "0123456789abcdef" },
				     { 0x7ffff7c00000, 0x7ffff7e00000, "/lib/x86_64-linux-gnu/libc.so.6", "" } };
	recw_maps(&w, m, 2);
	uint64_t pcs[3] = { 0x7ffff7c12345, 0x555555555123, 0x555555555456 };
	uint32_t s0 = recw_stack(&w, 1234, pcs, 3);
	uint32_t s1 = recw_stack(&w, 1235, pcs + 1, 2);
	recw_flush(&w, &err);
	for (int i = 0; i < 40; i++)
		recw_alloc(&w, 0x5555555a0000 + 48 * i, 40 + i, i % 2 ? s1 : s0, (uint32_t)i / 10);
	for (int i = 0; i < 20; i++)
		recw_free(&w, 0x5555555a0000 + 96 * i);
	recw_sample(&w, 4, 1 << 20, 1000, 20, 0);
	recw_mark(&w, 4, "usr1-1", 1 << 20, 1000, 20);
	recw_flush(&w, &err);
	recw_ckpt_begin(&w, 5, 2, &err);
	recw_ckpt_block(&w, 0x5555555a0030, 41, s1, 3);
	recw_ckpt_block(&w, 0x5555555a0090, 43, s1, 2);
	recw_ckpt_end(&w);
	recw_alloc(&w, 0x5555555b0000, 100, s0, 6);
	recw_forget(&w);
	recw_alloc(&w, 0x5555555c0000, 200, s0, 7);
	recw_peak(&w, 2380, 40, 3); /* the 40 allocations, 40 to 79 bytes, before the frees */
	recw_end(&w, 8, REC_END_EXITED, 0, 0);
	return recw_close(&w, &err) < 0;
}
