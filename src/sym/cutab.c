// SPDX-License-Identifier: GPL-3.0-or-later
/* cutab.c - the compile unit and source line of an address, also in files without .debug_aranges. */
#include <elfutils/libdw.h>
#include <stdlib.h>

#include "sym_internal.h"
#include "xalloc.h"

/*
 * libdw (0.188) maps an address to its CU through .debug_aranges only, and
 * clang does not emit them unless asked (-gdwarf-aranges): dwfl_module_addrdie,
 * and so dwfl_module_getsrc, find nothing in such a file, nor in the CUs whose
 * aranges a file leaves out (a gcc program linked with a clang object). Every
 * CU says its own ranges (DW_AT_low_pc/high_pc, or DW_AT_ranges); the first
 * miss in a module reads them all into one table sorted by address. It holds
 * one entry per contiguous piece of code in the DWARF, as .debug_aranges
 * would, and lives until the modules are reported again.
 */
struct cu_range {
	Dwarf_Addr lo, hi; /* [lo, hi) in DWARF addresses (before the module's bias) */
	size_t cu;         /* index in cus */
};

struct cu_table {
	struct cu_range *r;
	size_t n;
	Dwarf_Die *cus;    /* each unit's DIE, kept for sym_cu_die() to return */
	size_t ncus;
	Dwarf_Addr bias;
};

static int by_lo(const void *a, const void *b)
{
	const struct cu_range *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi > y->hi ? -1 : x->hi < y->hi; /* the longer first, so it wins an overlap */
}

/*
 * Every CU's ranges in mod, sorted, without overlaps. Never NULL (empty
 * without DWARF); caller frees. The units are walked with libdw rather than
 * dwfl_module_nextcu, which costs seven times as much (libdwfl records every
 * CU it hands out: 65 ms against 10 for libc's 2,000 CUs).
 */
static struct cu_table *cu_table_build(Dwfl_Module *mod)
{
	struct cu_table *t = xcalloc(1, sizeof(*t));
	size_t alloc = 0, cus_alloc = 0;
	Dwarf *dw = dwfl_module_getdwarf(mod, &t->bias);
	Dwarf_CU *unit = NULL;
	Dwarf_Die die;
	while (dw && dwarf_get_units(dw, unit, &unit, NULL, NULL, &die, NULL) == 0) {
		Dwarf_Addr base, lo, hi;
		bool any = false;
		for (ptrdiff_t off = 0; (off = dwarf_ranges(&die, off, &base, &lo, &hi)) > 0;) {
			/* lo 0 is where the linker leaves the code it dropped (--gc-sections, COMDAT copies) */
			if (!lo || lo >= hi)
				continue;
			ALLOC_GROW(t->r, t->n + 1, alloc);
			t->r[t->n++] = (struct cu_range){ lo, hi, t->ncus };
			any = true;
		}
		if (any) {
			ALLOC_GROW(t->cus, t->ncus + 1, cus_alloc);
			t->cus[t->ncus++] = die;
		}
	}
	if (t->n)
		qsort(t->r, t->n, sizeof(*t->r), by_lo);
	/*
	 * Ranges that overlap (bad DWARF) go to the one that starts first: the
	 * later is cut to what is left of it, so a binary search sees disjoint
	 * ranges. Adjacent ranges of one CU become one.
	 */
	size_t k = 0;
	Dwarf_Addr end = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct cu_range c = t->r[i];
		if (c.lo < end)
			c.lo = end;
		if (c.lo >= c.hi)
			continue;
		if (k && t->r[k - 1].cu == c.cu && t->r[k - 1].hi == c.lo)
			t->r[k - 1].hi = c.hi;
		else
			t->r[k++] = c;
		end = c.hi;
	}
	t->n = k;
	return t;
}

/* The CU whose range holds the DWARF address a, or NULL. */
static Dwarf_Die *cu_table_find(const struct cu_table *t, Dwarf_Addr a)
{
	size_t lo = 0, hi = t->n; /* the first range starting above a is in [lo, hi] */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->r[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && a < t->r[lo - 1].hi ? &t->cus[t->r[lo - 1].cu] : NULL;
}

Dwarf_Die *sym_cu_die(struct sym *s, struct Dwfl_Module *mod, uint64_t addr, uint64_t *bias)
{
	Dwarf_Addr b = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &b);
	*bias = b;
	if (cu)
		return cu;
	uint64_t v;
	struct cu_table *t;
	if (u64map_get(&s->cu_tables, (uintptr_t)mod, &v)) {
		t = (struct cu_table *)(uintptr_t)v;
	} else {
		t = cu_table_build(mod);
		u64map_put(&s->cu_tables, (uintptr_t)mod, (uintptr_t)t);
	}
	*bias = t->bias;
	return addr >= t->bias ? cu_table_find(t, addr - t->bias) : NULL;
}

const char *sym_src_line(Dwfl_Module *mod, Dwarf_Die *cu, uint64_t bias, uint64_t addr, int *line)
{
	*line = 0;
	Dwfl_Line *l = dwfl_module_getsrc(mod, addr);
	if (l)
		return dwfl_lineinfo(l, NULL, line, NULL, NULL, NULL);
	/* libdwfl found no CU (no aranges for it): the line table of the one we found */
	Dwarf_Line *dl = cu ? dwarf_getsrc_die(cu, addr - bias) : NULL;
	if (!dl || dwarf_lineno(dl, line) != 0) {
		*line = 0;
		return NULL;
	}
	return dwarf_linesrc(dl, NULL, NULL);
}

void sym_cutab_release(struct sym *s)
{
	uint64_t mod, v;
	for (size_t it = 0; u64map_next(&s->cu_tables, &it, &mod, &v);) {
		struct cu_table *t = (struct cu_table *)(uintptr_t)v;
		free(t->r);
		free(t->cus);
		free(t);
	}
	u64map_release(&s->cu_tables);
}
