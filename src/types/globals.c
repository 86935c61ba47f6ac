// SPDX-License-Identifier: GPL-3.0-or-later
/* globals.c - global and static variables by address, from each module's DWARF: a root word named as its variable and field. */
#include <dwarf.h>
#include <stdlib.h>

#include "sym.h"
#include "types_internal.h"
#include "xalloc.h"

/*
 * The fixed address expression e gives: DW_OP_addr, or DWARF 5's DW_OP_addrx
 * (clang's: an index into .debug_addr, which libdw resolves as an attribute).
 */
static bool fixed_addr(Dwarf_Attribute *a, Dwarf_Op *e, uint64_t *addr)
{
	Dwarf_Attribute res;
	Dwarf_Addr v;
	if (e->atom == DW_OP_addr) {
		*addr = e->number;
		return true;
	}
	if ((e->atom == DW_OP_addrx || e->atom == DW_OP_GNU_addr_index) && dwarf_getlocation_attr(a, e, &res) == 0 &&
	    dwarf_formaddr(&res, &v) == 0) {
		*addr = v;
		return true;
	}
	return false;
}

/* Variables at a fixed address (DW_OP_addr, DW_OP_addrx) under die: the CU's, and the static locals of its functions. */
static void collect(struct tmod *m, size_t *alloc, Dwarf_Die *die, uint64_t bias, int depth)
{
	Dwarf_Die c;
	if (depth > 8 || dwarf_child(die, &c) != 0)
		return;
	do {
		int tag = dwarf_tag(&c);
		if (tag == DW_TAG_variable) {
			Dwarf_Attribute a;
			Dwarf_Op *expr;
			size_t len;
			Dwarf_Die ty;
			uint64_t at;
			if (!dwarf_attr(&c, DW_AT_location, &a) || dwarf_getlocation(&a, &expr, &len) != 0 || len != 1 ||
			    !fixed_addr(&a, &expr[0], &at) || !type_of(&c, &ty))
				continue;
			uint64_t size = type_size(&ty);
			ALLOC_GROW(m->v, m->n + 1, *alloc);
			m->v[m->n++] = (struct tvar){ at + bias, at + bias + (size ? size : 1), c };
		} else if (tag == DW_TAG_subprogram || tag == DW_TAG_lexical_block || tag == DW_TAG_namespace) {
			collect(m, alloc, &c, bias, depth + 1);
		}
	} while (dwarf_siblingof(&c, &c) == 0);
}

static int by_lo(const void *a, const void *b)
{
	const struct tvar *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static struct tmod *module_vars(struct types *t, Dwfl_Module *mod)
{
	for (size_t i = 0; i < t->nmods; i++)
		if (t->mods[i].mod == mod)
			return &t->mods[i];
	ALLOC_GROW(t->mods, t->nmods + 1, t->amods);
	struct tmod *m = &t->mods[t->nmods++];
	*m = (struct tmod){ .mod = mod };
	size_t alloc = 0;
	Dwarf_Addr bias;
	for (Dwarf_Die *cu = NULL; (cu = dwfl_module_nextcu(mod, cu, &bias));)
		collect(m, &alloc, cu, bias, 0);
	if (m->n)
		qsort(m->v, m->n, sizeof(*m->v), by_lo);
	return m;
}

/* The variable covering addr (the last one starting at or below it that reaches it), or NULL. */
static struct tvar *var_at(struct types *t, uint64_t addr)
{
	uint64_t bias;
	Dwfl_Module *mod = sym_data_module(t->sym, addr, &bias);
	if (!mod)
		return NULL;
	struct tmod *m = module_vars(t, mod);
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && addr < m->v[lo - 1].hi ? &m->v[lo - 1] : NULL;
}

/* The variable at addr and the type of the innermost field there; false when none. */
bool types_global_slot(struct types *t, uint64_t addr, struct strbuf *name, Dwarf_Die *leaf, uint64_t *rest)
{
	struct tvar *v = var_at(t, addr);
	Dwarf_Die ty;
	if (!v || !type_of(&v->die, &ty))
		return false;
	Dwarf_Attribute a;
	const char *n = dwarf_attr_integrate(&v->die, DW_AT_name, &a) ? dwarf_formstring(&a) : NULL;
	strbuf_addstr(name, n ? n : "?");
	type_field_path(&ty, addr - v->lo, name, leaf, rest);
	return true;
}

char *types_global_name(struct types *t, uint64_t addr)
{
	struct strbuf sb = STRBUF_INIT;
	Dwarf_Die leaf;
	uint64_t rest;
	if (!types_global_slot(t, addr, &sb, &leaf, &rest)) {
		strbuf_release(&sb);
		return NULL;
	}
	if (rest)
		strbuf_addf(&sb, "+%llu", (unsigned long long)rest);
	return strbuf_detach(&sb);
}
