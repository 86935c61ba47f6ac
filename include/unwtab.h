/* SPDX-License-Identifier: GPL-3.0-or-later */
/* unwtab.h - compact unwind tables made from CFI, and a freestanding unwinder over them. */
#ifndef MLZ_UNWTAB_H
#define MLZ_UNWTAB_H

/*
 * Usage:
 *	// in mlyze: sym_unwtab() or sym_unwtab_dwfl() (sym.h) build one blob
 *	n = unw_walk(blob, pc, sp, bp, stack_lo, stack_hi, pcs, MAX);
 *	// with a per-thread cache of 2^k slots the caller owns (zeroed):
 *	n = unw_walk_ex(blob, &cache, pc, sp, bp, stack_lo, stack_hi, 0, pcs, MAX);
 *
 * This header is the whole unwinder, for code injected into the target as
 * well as for mlyze: static inline functions that call nothing, allocate
 * nothing, keep no state of their own and use no floating point, so it
 * builds with -ffreestanding -nostdlib. It needs only these three headers.
 *
 * The format (x86-64; the return address is always at CFA - 8):
 *   struct unw_modules  a header, then nmods struct unw_module sorted by lo,
 *                       then each module's rows; one block of memory whose
 *                       only references are byte offsets from its start, so
 *                       it may be copied anywhere (into the target) as it is;
 *   each module's rows and its block index (below);
 *   struct unw_row      8 bytes: where a PC range's CFA is and where the
 *                       caller's rbp was saved. A row holds from its pc_off
 *                       to the next row's; rows are sorted by pc_off, and
 *                       adjacent rows never say the same thing.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UNW_MAGIC 0x31776e75u /* "unw1" little-endian */

/* How a row finds the CFA; UNW_STOP: no CFA this unwinder can compute, the stack ends here. */
enum unw_kind {
	UNW_STOP = 0,
	UNW_CFA_RSP = 1, /* CFA = rsp + cfa_off */
	UNW_CFA_RBP = 2, /* CFA = rbp + cfa_off */
};
#define UNW_KIND_MASK 3u
/* The caller's rbp cannot be recovered (its CFI rule is neither "unchanged" nor "saved at CFA+N"). */
#define UNW_RBP_LOST 4u

struct unw_row {
	uint32_t pc_off; /* from the module's lo */
	int16_t cfa_off;
	uint8_t flags;   /* enum unw_kind | UNW_RBP_LOST */
	int8_t rbp_off;  /* the caller's rbp is at CFA + 8 * rbp_off; 0: rbp is unchanged */
};

/*
 * The block index: index[b] is the last row at or before offset b << UNW_BLOCK_SHIFT
 * (0 before the first row), so a search looks only at the few rows of one
 * block: as the kernel's ORC lookup table does. 4 bytes per KiB of module.
 */
#define UNW_BLOCK_SHIFT 10

struct unw_module {
	uint64_t lo, hi;    /* the module's addresses at run time: [lo, hi) */
	uint64_t rows_off;  /* byte offset of its rows from the start of the struct unw_modules */
	uint64_t index_off; /* byte offset of its uint32_t block index */
	uint32_t nrows;
	uint32_t nblocks;   /* ((hi - lo - 1) >> UNW_BLOCK_SHIFT) + 1 */
};

struct unw_modules {
	uint32_t magic;   /* UNW_MAGIC */
	uint32_t nmods;
	uint64_t size;    /* bytes of the whole block */
	struct unw_module mods[];
};

/* A direct-mapped cache of rows by looked-up PC: memory the caller owns, zeroed, one per thread. */
struct unw_cache_slot {
	uint64_t pc; /* 0: empty */
	struct unw_row row;
};
struct unw_cache {
	struct unw_cache_slot *slots;
	uint32_t mask; /* number of slots - 1, a power of two minus one */
};

/* A word read without assuming alignment (and so without a call to memcpy). */
typedef uint64_t unw_u64_unaligned __attribute__((aligned(1), may_alias));

/* The module covering pc, or NULL. */
static inline const struct unw_module *unw_find_module(const struct unw_modules *m, uint64_t pc)
{
	uint32_t lo = 0, hi = m->nmods;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pc < m->mods[mid].lo)
			hi = mid;
		else if (pc >= m->mods[mid].hi)
			lo = mid + 1;
		else
			return &m->mods[mid];
	}
	return NULL;
}

/*
 * The row that holds at pc, copied to *row; false when no module covers pc
 * or pc lies before the module's first row. A STOP row is still found.
 */
static inline bool unw_find_row(const struct unw_modules *m, uint64_t pc, struct unw_row *row)
{
	const struct unw_module *mod = unw_find_module(m, pc);
	if (!mod || mod->nrows == 0 || pc - mod->lo > UINT32_MAX)
		return false;
	const struct unw_row *rows = (const struct unw_row *)((const char *)m + mod->rows_off);
	uint32_t off = (uint32_t)(pc - mod->lo);
	if (off < rows[0].pc_off)
		return false;
	/*
	 * The last row whose pc_off <= off. Written so that the compiler picks
	 * with a conditional move: the comparisons of a search are unpredictable,
	 * and mispredicted branches would cost more than the loads.
	 */
	const uint32_t *index = (const uint32_t *)((const char *)m + mod->index_off);
	uint32_t b = off >> UNW_BLOCK_SHIFT;
	uint32_t first = index[b], last = b + 1 < mod->nblocks ? index[b + 1] : mod->nrows - 1;
	const struct unw_row *r = rows + first;
	uint32_t len = last - first + 1;
	while (len > 1) {
		uint32_t half = len / 2;
		r = r[half].pc_off <= off ? r + half : r;
		len -= half;
	}
	*row = *r;
	return true;
}

static inline bool unw_cached_row(const struct unw_modules *m, struct unw_cache *c, uint64_t pc, struct unw_row *row)
{
	if (!c)
		return unw_find_row(m, pc, row);
	/* PCs of calls are spread out: fold the high bits into the index. */
	struct unw_cache_slot *s = &c->slots[(pc ^ (pc >> 12)) & c->mask];
	if (s->pc == pc) {
		*row = s->row;
		return true;
	}
	if (!unw_find_row(m, pc, row))
		return false;
	s->pc = pc;
	s->row = *row;
	return true;
}

/* Whether the 8 bytes at addr lie in [lo, hi), without overflow. */
static inline bool unw_in_window(uint64_t addr, uint64_t lo, uint64_t hi)
{
	return addr >= lo && hi >= 8 && addr <= hi - 8;
}

/*
 * Unwind from pc, sp, bp into pcs[0..max) (pcs[0] = pc, an exact PC; each
 * later one a return address, whose row is looked up at pc - 1). Memory is
 * read only inside the stack window [stack_lo, stack_hi), at address + delta
 * (0 for the live stack; a copy of the stack elsewhere needs its offset).
 * The walk ends, with the frames found so far, at a PC without a row (no
 * module, before the first row), at a STOP row, at a CFA outside the window
 * or not above the current sp, when rbp is needed but unknown, at a return
 * address of 0, or at max. cache may be NULL. Returns the number of frames.
 */
static inline int unw_walk_ex(const struct unw_modules *m, struct unw_cache *cache, uint64_t pc, uint64_t sp,
			      uint64_t bp, uint64_t stack_lo, uint64_t stack_hi, int64_t delta, uint64_t *pcs, int max)
{
	int n = 0;
	bool bp_known = true;
	if (max <= 0 || !m || m->magic != UNW_MAGIC)
		return 0;
	for (;;) {
		pcs[n++] = pc;
		if (n >= max)
			break;
		struct unw_row r;
		if (!unw_cached_row(m, cache, n == 1 ? pc : pc - 1, &r))
			break;
		uint64_t cfa;
		switch (r.flags & UNW_KIND_MASK) {
		case UNW_CFA_RSP:
			cfa = sp + (uint64_t)(int64_t)r.cfa_off;
			break;
		case UNW_CFA_RBP:
			if (!bp_known)
				return n;
			cfa = bp + (uint64_t)(int64_t)r.cfa_off;
			break;
		default:
			return n;
		}
		/* The CFA must grow, and the return address below it must be in the window. */
		if (cfa <= sp || cfa < 8 || !unw_in_window(cfa - 8, stack_lo, stack_hi))
			break;
		uint64_t ra = *(const unw_u64_unaligned *)(uintptr_t)(cfa - 8 + (uint64_t)delta);
		if (r.rbp_off) {
			uint64_t at = cfa + (uint64_t)((int64_t)r.rbp_off * 8);
			if (unw_in_window(at, stack_lo, stack_hi)) {
				bp = *(const unw_u64_unaligned *)(uintptr_t)(at + (uint64_t)delta);
				bp_known = true;
			} else {
				bp_known = false;
			}
		} else if (r.flags & UNW_RBP_LOST) {
			bp_known = false;
		}
		if (ra == 0)
			break;
		pc = ra;
		sp = cfa;
	}
	return n;
}

/* unw_walk_ex on the live stack, without a cache. */
static inline int unw_walk(const struct unw_modules *m, uint64_t pc, uint64_t sp, uint64_t bp, uint64_t stack_lo,
			   uint64_t stack_hi, uint64_t *pcs, int max)
{
	return unw_walk_ex(m, NULL, pc, sp, bp, stack_lo, stack_hi, 0, pcs, max);
}

#endif
