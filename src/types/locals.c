// SPDX-License-Identifier: GPL-3.0-or-later
/* locals.c - a stack slot or register named as the local variable or parameter whose DWARF location is there at the frame's PC. */
#include <dwarf.h>
#include <stdlib.h>

#include "sym.h"
#include "types_internal.h"
#include "xalloc.h"

/* The psABI's DWARF number of each general register, by index in struct user_regs_struct (words); -1 for none. */
static const int dwarf_of_user[] = { 15, 14, 13, 12, 6, 3, 11, 10, 9, 8, 0, 2, 1, 4, 5 };

int types_dwarf_reg(int user_reg)
{
	return user_reg >= 0 && (size_t)user_reg < sizeof(dwarf_of_user) / sizeof(dwarf_of_user[0])
		       ? dwarf_of_user[user_reg]
		       : -1;
}

/* The value register r (DWARF: 6 rbp, 7 rsp) had in frame f, when the unwinder knew it. */
static bool frame_reg(const struct types_frame *f, unsigned r, uint64_t *v)
{
	*v = r == 6 ? f->bp : r == 7 ? f->sp : 0;
	return *v != 0;
}

/*
 * What DW_AT_frame_base of fn is in frame f at pc: the CFA (gcc's
 * DW_OP_call_frame_cfa), or rbp or rsp (clang's DW_OP_reg6, DW_OP_reg7), or
 * one of those plus an offset. Anything else (a register other frames do not
 * keep, an expression) gives no base.
 */
static bool frame_base(Dwarf_Die *fn, const struct types_frame *f, Dwarf_Addr pc, uint64_t *base)
{
	Dwarf_Attribute a;
	Dwarf_Op *e;
	size_t len;
	if (!dwarf_attr_integrate(fn, DW_AT_frame_base, &a) || dwarf_getlocation_addr(&a, pc, &e, &len, 1) != 1 ||
	    len != 1)
		return false;
	switch (e[0].atom) {
	case DW_OP_call_frame_cfa:
		*base = f->cfa;
		return f->cfa != 0;
	case DW_OP_reg6:
	case DW_OP_reg7:
		return frame_reg(f, e[0].atom - DW_OP_reg0, base);
	case DW_OP_breg6:
	case DW_OP_breg7:
		if (!frame_reg(f, e[0].atom - DW_OP_breg0, base))
			return false;
		*base += (uint64_t)(int64_t)e[0].number;
		return true;
	}
	return false;
}

/* What is sought: the variable whose memory holds addr, or (reg >= 0) the one living in DWARF register reg. */
struct want {
	const struct types_frame *f;
	Dwarf_Addr pc;       /* in the module's DWARF addresses */
	uint64_t addr;
	int reg;
	bool has_base;       /* the subprogram's frame base is known */
	uint64_t base;
	Dwarf_Die var;       /* found: the variable, and where its memory starts */
	uint64_t lo;
};

/* Whether variable c's location at w->pc is what w seeks. */
static bool matches(Dwarf_Die *c, struct want *w)
{
	Dwarf_Attribute a;
	Dwarf_Op *e;
	size_t len;
	Dwarf_Die ty;
	if (!dwarf_attr(c, DW_AT_location, &a) || dwarf_getlocation_addr(&a, w->pc, &e, &len, 1) != 1 || len != 1 ||
	    !type_of(c, &ty))
		return false;
	unsigned op = e[0].atom;
	if (w->reg >= 0)
		return op >= DW_OP_reg0 && op <= DW_OP_reg31 && (int)(op - DW_OP_reg0) == w->reg;
	uint64_t at;
	if (op == DW_OP_fbreg && w->has_base)
		at = w->base + (uint64_t)(int64_t)e[0].number;
	else if ((op == DW_OP_breg6 || op == DW_OP_breg7) && frame_reg(w->f, op - DW_OP_breg0, &at))
		at += (uint64_t)(int64_t)e[0].number;
	else
		return false;
	uint64_t size = type_size(&ty);
	if (w->addr < at || w->addr >= at + (size ? size : 1))
		return false;
	w->lo = at;
	return true;
}

/* Among the variables and parameters directly under scope: the one w seeks. */
static bool in_scope(Dwarf_Die *scope, struct want *w)
{
	Dwarf_Die c;
	if (dwarf_child(scope, &c) != 0)
		return false;
	do {
		int tag = dwarf_tag(&c);
		if ((tag == DW_TAG_variable || tag == DW_TAG_formal_parameter) && matches(&c, w)) {
			w->var = c;
			return true;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
	return false;
}

/* Scopes nest at most this deep: hostile DWARF may nest without end. */
#define MAX_NEST 64

/*
 * Below die, the chain of DIEs that hold pc, outermost first, appended to v
 * from n on; returns the new length. Functions may sit in namespaces, which
 * have no addresses of their own.
 */
static int chain(Dwarf_Die *die, Dwarf_Addr pc, Dwarf_Die *v, int n, int depth)
{
	Dwarf_Die c;
	/* depth bounds the recursion: namespaces add none to n, and a crafted file may nest them without end */
	if (n >= MAX_NEST || depth >= MAX_NEST || dwarf_child(die, &c) != 0)
		return n;
	do {
		int tag = dwarf_tag(&c);
		if (tag == DW_TAG_namespace) {
			int m = chain(&c, pc, v, n, depth + 1);
			if (m > n)
				return m;
		} else if ((tag == DW_TAG_subprogram || tag == DW_TAG_lexical_block ||
			    tag == DW_TAG_inlined_subroutine) && dwarf_haspc(&c, pc) > 0) {
			v[n] = c;
			return chain(&c, pc, v, n + 1, depth + 1);
		}
	} while (dwarf_siblingof(&c, &c) == 0);
	return n;
}

int types_scopes_at(struct types *t, uint64_t at, Dwarf_Addr *pc, Dwarf_Die **scopes)
{
	uint64_t bias;
	Dwfl_Module *mod = sym_data_module(t->sym, at, &bias);
	uint64_t cubias;
	Dwarf_Die *cu = mod ? sym_cu_die(t->sym, mod, at, &cubias) : NULL;
	*scopes = NULL;
	if (!cu)
		return 0;
	*pc = at - cubias;
	/*
	 * The DIEs that physically hold pc (dwarf_getscopes would follow an
	 * inlined body into its abstract definition, and leaks on bad DWARF):
	 * inlined bodies and blocks up to the innermost function, whose frame
	 * it is and whose frame base its locals are located against.
	 */
	Dwarf_Die v[MAX_NEST];
	int n = chain(cu, *pc, v, 0, 0), fn = n - 1;
	while (fn >= 0 && dwarf_tag(&v[fn]) != DW_TAG_subprogram)
		fn--;
	if (fn < 0)
		return 0;
	*scopes = xmalloc((size_t)(n - fn) * sizeof(**scopes));
	for (int i = n - 1; i >= fn; i--)
		(*scopes)[n - 1 - i] = v[i];
	return n - fn;
}

/*
 * The scopes at the frame's PC, innermost first, up to the function that
 * owns the frame (an inlined body's locals live in its frame too, located
 * against its frame base): the first variable there that w seeks.
 */
static bool find(struct types *t, struct want *w)
{
	const struct types_frame *f = w->f;
	Dwarf_Die *scopes;
	int n = types_scopes_at(t, f->caller && f->pc ? f->pc - 1 : f->pc, &w->pc, &scopes);
	bool found = false;
	if (n > 0) {
		w->has_base = frame_base(&scopes[n - 1], f, w->pc, &w->base);
		for (int i = 0; i < n && !found; i++)
			found = in_scope(&scopes[i], w);
	}
	free(scopes);
	return found;
}

bool types_local_slot(struct types *t, const struct types_frame *f, uint64_t addr, struct strbuf *name, Dwarf_Die *leaf,
		      uint64_t *rest)
{
	struct want w = { .f = f, .addr = addr, .reg = -1 };
	Dwarf_Die ty;
	if (!f->pc || !find(t, &w) || !type_of(&w.var, &ty))
		return false;
	const char *vn = dwarf_diename(&w.var);
	strbuf_addstr(name, vn ? vn : "?");
	type_field_path(&ty, addr - w.lo, name, leaf, rest);
	return true;
}

bool types_register_var(struct types *t, uint64_t pc, int user_reg, struct strbuf *name, Dwarf_Die *type)
{
	struct types_frame f = { .pc = pc };
	struct want w = { .f = &f, .reg = types_dwarf_reg(user_reg) };
	if (!pc || w.reg < 0 || !find(t, &w) || !type_of(&w.var, type))
		return false;
	const char *vn = dwarf_diename(&w.var);
	strbuf_addstr(name, vn ? vn : "?");
	return true;
}

char *types_local_name(struct types *t, const struct types_frame *f, uint64_t addr)
{
	struct strbuf sb = STRBUF_INIT;
	Dwarf_Die leaf;
	uint64_t rest;
	if (!types_local_slot(t, f, addr, &sb, &leaf, &rest)) {
		strbuf_release(&sb);
		return NULL;
	}
	if (rest)
		strbuf_addf(&sb, "+%llu", (unsigned long long)rest);
	return strbuf_detach(&sb);
}

char *types_register_name(struct types *t, uint64_t pc, int user_reg)
{
	struct strbuf sb = STRBUF_INIT;
	Dwarf_Die ty;
	if (!types_register_var(t, pc, user_reg, &sb, &ty)) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}
