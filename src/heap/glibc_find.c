// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * glibc_find.c - glibc's malloc state found without debug symbols, by what
 * must hold of it: main_arena's empty bins point at themselves and its arena
 * list closes; mp_ agrees with main_arena; a thread's tcache pointer leads to
 * a 0x290-byte chunk. Each search reads libc's data once and checks every
 * candidate completely, so a stray match does not pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glibc_layout.h"
#include "heap.h"
#include "xalloc.h"

#define MAX_SCAN (16u << 20)

static uint8_t *read_range(const struct memsrc *m, uint64_t lo, uint64_t hi)
{
	if (hi <= lo || hi - lo > MAX_SCAN)
		return NULL;
	uint8_t *buf = xmalloc(hi - lo);
	if (!mem_read(m, lo, buf, hi - lo)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static uint64_t word_at(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t u32_at(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* A malloc_state at base: sane fields, every bin empty (pointing at itself) or holding aligned chunks. */
static bool valid_arena(const struct memsrc *m, uint64_t base, const uint8_t *ms)
{
	if (u32_at(ms + MS_MUTEX) > 2 || u32_at(ms + MS_FLAGS) > 3 || u32_at(ms + MS_HAVE_FASTCHUNKS) > 1)
		return false;
	uint64_t top = word_at(ms + MS_TOP), sys = word_at(ms + MS_SYSTEM_MEM), max = word_at(ms + MS_MAX_SYSTEM_MEM);
	if (!top || (top & ALIGN_MASK) || sys > max || (sys & 4095))
		return false;
	int empty = 0;
	for (int i = 1; i < NBINS; i++) {
		uint64_t head = base + MS_BINS + 16 * (i - 1) - 16;
		uint64_t fd = word_at(ms + MS_BINS + 16 * (i - 1)), bk = word_at(ms + MS_BINS + 16 * (i - 1) + 8);
		if (fd == head && bk == head)
			empty++;
		else if (fd == head || bk == head || !fd || !bk || (fd & ALIGN_MASK) || (bk & ALIGN_MASK))
			return false;
	}
	if (empty < NBINS / 2)
		return false;
	/* The arena list must come back to base. */
	uint64_t next = word_at(ms + MS_NEXT);
	for (int i = 0; i < 4096 && next != base; i++) {
		if (!next || (next & 7) || !mem_word(m, next + MS_NEXT, &next))
			return false;
	}
	return next == base;
}

uint64_t glibc_find_main_arena(const struct memsrc *m, uint64_t lo, uint64_t hi)
{
	lo = (lo + 7) & ~7ull;
	uint8_t *buf = read_range(m, lo, hi);
	uint64_t found = 0;
	if (!buf)
		return 0;
	/* An empty bin: fd == bk == the bin's own address less 16. */
	for (uint64_t off = 0; off + 16 <= hi - lo && !found; off += 8) {
		uint64_t self = lo + off - 16;
		if (word_at(buf + off) != self || word_at(buf + off + 8) != self)
			continue;
		for (uint64_t i = 0; i < NBINS - 1 && !found; i++) {
			/* in offsets from lo, so nothing wraps */
			if (off < MS_BINS + 16 * i || off - MS_BINS - 16 * i + MS_SIZE > hi - lo)
				continue;
			uint64_t boff = off - MS_BINS - 16 * i;
			if (valid_arena(m, lo + boff, buf + boff))
				found = lo + boff;
		}
	}
	free(buf);
	return found;
}

static bool valid_mp(const uint8_t *mp, const uint8_t *ms)
{
	int32_t n_mmaps = (int32_t)u32_at(mp + MP_N_MMAPS), max_n = (int32_t)u32_at(mp + MP_MAX_N_MMAPS);
	int32_t n_max = (int32_t)u32_at(mp + MP_N_MMAPS_MAX);
	uint64_t mem = word_at(mp + MP_MMAPPED_MEM), max_mem = word_at(mp + MP_MAX_MMAPPED_MEM);
	if (n_mmaps < 0 || n_mmaps > max_n || n_max < 0 || mem > max_mem || (mem & 4095) || (!n_mmaps != !mem))
		return false;
	if (word_at(mp + MP_TCACHE_BINS) > TCACHE_BINS || word_at(mp + MP_TCACHE_MAX_BYTES) > 1032 ||
	    word_at(mp + MP_TCACHE_COUNT) > 65535)
		return false;
	if (word_at(mp + MP_MMAP_THRESHOLD) > HEAP_MAX_SIZE / 2 || !word_at(mp + MP_ARENA_TEST) ||
	    word_at(mp + MP_ARENA_TEST) > (1u << 20) || u32_at(mp + MP_NO_DYN_THRESHOLD) > 1)
		return false;
	/* sbrk_base: where the main arena's memory begins, below its top and within its size. */
	uint64_t sbrk = word_at(mp + MP_SBRK_BASE), top = word_at(ms + MS_TOP), sys = word_at(ms + MS_SYSTEM_MEM);
	if (!sys)
		return sbrk == 0;
	return sbrk && sbrk <= top && top < sbrk + sys;
}

uint64_t glibc_find_mp(const struct memsrc *m, uint64_t lo, uint64_t hi, uint64_t main_arena)
{
	uint8_t ms[MS_SIZE];
	if (!mem_read(m, main_arena, ms, sizeof(ms)))
		return 0;
	lo = (lo + 7) & ~7ull;
	uint8_t *buf = read_range(m, lo, hi);
	uint64_t found = 0;
	int matches = 0;
	if (!buf)
		return 0;
	for (uint64_t off = 0; off + MP_SIZE <= hi - lo; off += 8) {
		if (valid_mp(buf + off, ms)) {
			matches++;
			found = lo + off;
		}
	}
	free(buf);
	return matches == 1 ? found : 0; /* two candidates: neither is trusted */
}

uint64_t glibc_find_tcache_slot(const struct memsrc *m, uint64_t lo, uint64_t hi)
{
	lo = (lo + 7) & ~7ull;
	uint8_t *buf = read_range(m, lo, hi);
	uint64_t found = 0;
	if (!buf)
		return 0;
	for (uint64_t off = 0; off + 8 <= hi - lo && !found; off += 8) {
		uint64_t v = word_at(buf + off), hdr;
		if (v < 0x10000 || (v & ALIGN_MASK) || !mem_word(m, v - 8, &hdr))
			continue;
		if ((hdr & ~SIZE_BITS) == TC_CHUNK && !(hdr & IS_MMAPPED))
			found = lo + off;
	}
	free(buf);
	return found;
}

bool glibc_version_supported(const char *version)
{
	int major, minor;
	if (sscanf(version, "%d.%d", &major, &minor) != 2)
		return false;
	return major == 2 && minor >= 35 && minor <= 40;
}
