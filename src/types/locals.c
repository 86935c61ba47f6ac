// SPDX-License-Identifier: GPL-3.0-or-later
/* locals.c - a stack slot named as the local variable or parameter whose DWARF location is that slot at the frame's PC. */
#include <dwarf.h>
#include <stdlib.h>

#include "sym.h"
#include "types_internal.h"

/* The frame base of subprogram fn when it is the frame's CFA (DW_OP_call_frame_cfa, gcc's choice on x86-64). */
static bool base_is_cfa(Dwarf_Die *fn)
{
	Dwarf_Attribute a;
	Dwarf_Op *expr;
	size_t len;
	return dwarf_attr_integrate(fn, DW_AT_frame_base, &a) && dwarf_getlocation(&a, &expr, &len) == 0 && len == 1 &&
	       expr[0].atom == DW_OP_call_frame_cfa;
}

/* Under scope: the variable or parameter located at cfa + DW_OP_fbreg's offset at pc that holds addr. */
static bool in_scope(Dwarf_Die *scope, uint64_t pc, uint64_t cfa, uint64_t addr, Dwarf_Die *var, uint64_t *lo)
{
	Dwarf_Die c;
	if (dwarf_child(scope, &c) != 0)
		return false;
	do {
		int tag = dwarf_tag(&c);
		Dwarf_Attribute a;
		Dwarf_Op *expr;
		size_t len;
		Dwarf_Die ty;
		if ((tag != DW_TAG_variable && tag != DW_TAG_formal_parameter) || !dwarf_attr(&c, DW_AT_location, &a) ||
		    dwarf_getlocation_addr(&a, pc, &expr, &len, 1) != 1 || len != 1 || expr[0].atom != DW_OP_fbreg ||
		    !type_of(&c, &ty))
			continue;
		uint64_t at = cfa + (uint64_t)(int64_t)expr[0].number, size = type_size(&ty);
		if (addr >= at && addr < at + (size ? size : 1)) {
			*var = c;
			*lo = at;
			return true;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
	return false;
}

bool types_local_slot(struct types *t, uint64_t pc, bool caller, uint64_t cfa, uint64_t addr, struct strbuf *name,
		      Dwarf_Die *leaf, uint64_t *rest)
{
	uint64_t bias, at = caller && pc ? pc - 1 : pc;
	Dwfl_Module *mod = cfa ? sym_data_module(t->sym, at, &bias) : NULL;
	Dwarf_Addr cubias;
	Dwarf_Die *cu = mod ? dwfl_module_addrdie(mod, at, &cubias) : NULL;
	Dwarf_Die *scopes = NULL, var, ty;
	int n = cu ? dwarf_getscopes(cu, at - cubias, &scopes) : 0;
	bool found = false;
	uint64_t lo = 0;
	/* innermost block first, up to the function (an inlined body's locals have no frame of their own) */
	for (int i = 0; i < n && !found; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_inlined_subroutine)
			break;
		int k = i;
		while (k < n && dwarf_tag(&scopes[k]) != DW_TAG_subprogram)
			k++;
		if (k == n || !base_is_cfa(&scopes[k]))
			break;
		found = in_scope(&scopes[i], at - cubias, cfa, addr, &var, &lo);
		if (tag == DW_TAG_subprogram)
			break;
	}
	free(scopes);
	if (!found || !type_of(&var, &ty))
		return false;
	const char *vn = dwarf_diename(&var);
	strbuf_addstr(name, vn ? vn : "?");
	type_field_path(&ty, addr - lo, name, leaf, rest);
	return true;
}

char *types_local_name(struct types *t, uint64_t pc, bool caller, uint64_t cfa, uint64_t addr)
{
	struct strbuf sb = STRBUF_INIT;
	Dwarf_Die leaf;
	uint64_t rest;
	if (!types_local_slot(t, pc, caller, cfa, addr, &sb, &leaf, &rest)) {
		strbuf_release(&sb);
		return NULL;
	}
	if (rest)
		strbuf_addf(&sb, "+%llu", (unsigned long long)rest);
	return strbuf_detach(&sb);
}
