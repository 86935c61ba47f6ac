// SPDX-License-Identifier: GPL-3.0-or-later
/* sites.c - the type an allocation's caller gives its result: the pointer variable that takes rax at the return address. */
#include <dwarf.h>
#include <stdlib.h>

#include "target.h"
#include "types_internal.h"

/* What the caller does with rax at the return address. */
struct takes {
	Dwarf_Addr ret;      /* the return address, in the module's DWARF addresses */
	bool stores;         /* the instruction there stores rax to a frame slot */
	int64_t slot;        /* ... at this offset from the CFA */
	uint32_t id;         /* found: the pointee type, UINT32_MAX when variables disagree */
};

/*
 * -O0 code stores the result at once: "mov %rax, disp(%rbp)" (REX.W 89, ModRM
 * reg rax, r/m rbp, an 8- or 32-bit displacement).
 */
static bool stores_rax(const uint8_t *c, size_t n, int64_t *disp)
{
	if (n < 4 || c[0] != 0x48 || c[1] != 0x89)
		return false;
	if (c[2] == 0x45) {
		*disp = (int8_t)c[3];
		return true;
	}
	if (c[2] == 0x85 && n >= 7) {
		*disp = (int32_t)((uint32_t)c[3] | (uint32_t)c[4] << 8 | (uint32_t)c[5] << 16 | (uint32_t)c[6] << 24);
		return true;
	}
	return false;
}

/*
 * The DW_OP_fbreg offset of rbp + disp in function fn: rbp itself is the frame
 * base (clang), or the CFA is, which a function with a frame pointer keeps at
 * rbp + 16 (gcc). False for any other frame base.
 */
static bool slot_of(Dwarf_Die *fn, int64_t disp, int64_t *slot)
{
	Dwarf_Attribute a;
	Dwarf_Op *e;
	size_t len;
	if (!dwarf_attr_integrate(fn, DW_AT_frame_base, &a) || dwarf_getlocation(&a, &e, &len) != 0 || len != 1)
		return false;
	if (e[0].atom == DW_OP_call_frame_cfa)
		*slot = disp - 16;
	else if (e[0].atom == DW_OP_reg6)
		*slot = disp;
	else
		return false;
	return true;
}

/* Whether variable v takes rax at k->ret: a location-list entry that starts there in rax, or the slot k->ret stores to. */
static bool takes_rax(Dwarf_Die *v, const struct takes *k)
{
	Dwarf_Attribute a;
	Dwarf_Op *e;
	size_t len;
	if (!dwarf_attr(v, DW_AT_location, &a))
		return false;
	if (k->stores)
		return dwarf_getlocation(&a, &e, &len) == 0 && len == 1 && e[0].atom == DW_OP_fbreg &&
		       (int64_t)e[0].number == k->slot;
	Dwarf_Addr base, start, end;
	ptrdiff_t off = 0;
	int guard = 0;
	/* bounded: a hostile list has no end */
	while ((off = dwarf_getlocations(&a, off, &base, &start, &end, &e, &len)) > 0 && guard++ < 4096)
		if (start == k->ret)
			return len == 1 && e[0].atom == DW_OP_reg0;
	return false;
}

/* Each pointer variable directly under scope that takes rax: its pointee, or disagreement. */
static void in_scope(struct types *t, Dwarf_Die *scope, struct takes *k)
{
	Dwarf_Die c, ty, to;
	if (dwarf_child(scope, &c) != 0)
		return;
	do {
		int tag = dwarf_tag(&c);
		Dwarf_Die p;
		if ((tag != DW_TAG_variable && tag != DW_TAG_formal_parameter) || !type_of(&c, &ty) ||
		    dwarf_peel_type(&ty, &p) != 0 || dwarf_tag(&p) != DW_TAG_pointer_type || !takes_rax(&c, k))
			continue;
		uint32_t id = type_of(&p, &to) ? type_id(t, &to) : 0;
		if (k->id && id != k->id)
			k->id = UINT32_MAX;
		else if (!k->id)
			k->id = id ? id : UINT32_MAX; /* a void * takes it: nothing to say */
	} while (dwarf_siblingof(&c, &c) == 0);
}

uint32_t types_site_type(struct types *t, struct target *tg, uint64_t ret)
{
	uint64_t id;
	if (!ret)
		return 0;
	if (u64map_get(&t->sites, ret, &id))
		return (uint32_t)id;
	Dwarf_Die *scopes;
	Dwarf_Addr pc;
	/* the scopes of the call instruction, just before the return address */
	int n = types_scopes_at(t, ret - 1, &pc, &scopes);
	struct takes k = { .ret = pc + 1 };
	uint8_t code[8];
	ssize_t got = n > 0 ? target_read(tg, ret, code, sizeof(code)) : -1;
	int64_t disp;
	k.stores = got > 0 && stores_rax(code, (size_t)got, &disp);
	/* a store to a slot of a frame base we cannot relate it to says nothing */
	if (n > 0 && (!k.stores || slot_of(&scopes[n - 1], disp, &k.slot)))
		for (int i = 0; i < n; i++)
			in_scope(t, &scopes[i], &k);
	free(scopes);
	id = k.id == UINT32_MAX ? 0 : k.id;
	u64map_put(&t->sites, ret, id);
	return (uint32_t)id;
}
