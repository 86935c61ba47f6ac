// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * fuzz-walk.c - libFuzzer target: the glibc heap walker and its searches over an arbitrary memory
 * image. Input: u64 main_arena, u64 mp, u64 tcache, u32 nregions, then per region u64 address,
 * u32 length and the bytes. Every walk must end, bounded, whatever the image says.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "proc.h"

struct image {
	struct {
		uint64_t addr;
		const uint8_t *bytes;
		uint32_t len;
	} r[8];
	int n;
};

static ssize_t image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct image *im = ctx;
	for (int i = 0; i < im->n; i++) {
		if (addr < im->r[i].addr || addr - im->r[i].addr >= im->r[i].len)
			continue;
		size_t have = im->r[i].len - (addr - im->r[i].addr), n = len < have ? len : have;
		memcpy(buf, im->r[i].bytes + (addr - im->r[i].addr), n);
		return (ssize_t)n;
	}
	return -1;
}

static void visit(void *arg, uint64_t chunk, uint64_t size, enum chunk_kind kind, size_t arena)
{
	(void)chunk, (void)size, (void)kind, (void)arena;
	(*(uint64_t *)arg)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image im = { 0 };
	uint64_t hdr[3];
	uint32_t nreg;
	if (size < 28)
		return 0;
	memcpy(hdr, data, 24);
	memcpy(&nreg, data + 24, 4);
	size_t off = 28;
	struct maps maps = { 0 };
	struct map_entry entries[8];
	for (uint32_t i = 0; i < nreg && im.n < 8 && off + 12 <= size; i++) {
		uint64_t addr;
		uint32_t len;
		memcpy(&addr, data + off, 8);
		memcpy(&len, data + off + 8, 4);
		off += 12;
		if (len > size - off)
			len = (uint32_t)(size - off);
		im.r[im.n].addr = addr;
		im.r[im.n].bytes = data + off;
		im.r[im.n].len = len;
		entries[im.n] = (struct map_entry){ .start = addr, .end = addr + len, .perms = "rw-p", .path = "" };
		im.n++;
		off += len;
	}
	maps.v = entries;
	maps.n = (size_t)im.n;
	struct memsrc m = { image_read, &im };
	struct glibc_thread th = { 1, hdr[2] };
	struct glibc_where w = { .version = "2.36", .main_arena = hdr[0], .mp = hdr[1], .how = "fuzz", .nthreads = 1,
				 .threads = &th };
	struct heap_report r;
	struct mlz_err err;
	uint64_t chunks = 0;
	if (heap_walk(&m, &maps, &w, NULL, visit, &chunks, &r, &err) == 0)
		heap_report_release(&r);
	if (im.n) {
		uint64_t lo = im.r[0].addr, hi = lo + im.r[0].len;
		uint64_t ma = glibc_find_main_arena(&m, lo, hi);
		if (ma)
			glibc_find_mp(&m, lo, hi, ma);
		glibc_find_tcache_slot(&m, lo, hi);
	}
	return 0;
}
