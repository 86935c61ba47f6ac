/* SPDX-License-Identifier: GPL-3.0-or-later */
/* types_internal.h - the type table and variable indexes shared by the files of the types module. */
#ifndef MLZ_TYPES_INTERNAL_H
#define MLZ_TYPES_INTERNAL_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include "strbuf.h"
#include "types.h"
#include "u64map.h"

#define CONFLICT_BIT 0x80000000u
#define SITE_BIT 0x40000000u /* typed by its allocation site alone */
#define ID_MASK 0x3fffffffu

/* A pointer inside a type: its offset and the type it points at. */
struct tptr {
	uint64_t off;
	uint32_t to;
};

/* One distinct type: its DIE with typedefs and qualifiers peeled. */
struct ttype {
	char *name;
	uint64_t size;
	Dwarf_Die die;
	int tag;             /* DW_TAG_* of die; 0 for a class named by its vtable alone */
	bool by_vtable;      /* a C++ class some block's vtable names: the most derived, the surest */
	bool is_char;        /* a one-byte character type: a block of them is a string */
	bool ptrs_done;
	struct tptr *ptrs;   /* every pointer field, nested structs and arrays flattened */
	size_t nptrs;
};

/* A module's variables with a fixed address, sorted by address. */
struct tvar {
	uint64_t lo, hi;
	Dwarf_Die die;       /* the variable's DIE */
};
struct tmod {
	Dwfl_Module *mod;
	struct tvar *v;
	size_t n;
};

struct types {
	struct sym *sym;
	struct ttype *v;     /* v[0] is "untyped" */
	size_t n, alloc;
	struct u64map by_key; /* hash of name and size -> id */
	struct tmod *mods;
	size_t nmods, amods;
	uint32_t *block;     /* per graph block: type id, CONFLICT_BIT when evidence disagreed */
	size_t nblocks;
	size_t typed, conflicts;
	double ms;           /* how long types_infer took */
	struct u64map vtables; /* vtable address point -> type id (0: looked up, none) */
	struct u64map sites;   /* allocation's return address -> type id its caller gives (0: none) */
};

/* The id of type DIE die (typedefs and qualifiers peeled), interned; 0 for void or no type. */
uint32_t type_id(struct types *t, Dwarf_Die *die);
/* The DIE die's DW_AT_type refers to, into *out; false without one (void). */
bool type_of(Dwarf_Die *die, Dwarf_Die *out);
/* The type's name as C spells it, appended to sb. */
void type_name(Dwarf_Die *die, struct strbuf *sb);
/* The size of a type DIE in bytes (pointers 8); 0 when unknown. */
uint64_t type_size(Dwarf_Die *die);
/*
 * Walks from type die down to offset off: appends ".member" and "[index]" to
 * sb, and leaves in *leaf the (peeled) type of the innermost field starting
 * at or containing off, with what is left of off in *rest.
 */
void type_field_path(Dwarf_Die *die, uint64_t off, struct strbuf *sb, Dwarf_Die *leaf, uint64_t *rest);
/* The pointer fields of type id (computed once). */
const struct tptr *type_ptrs(struct types *t, uint32_t id, size_t *n);
/* An id for a C++ class named by its vtable symbol (no DIE), interned by name. */
uint32_t type_id_named(struct types *t, const char *name);

/* The global at addr: its name and field path into name, the field's peeled type, the offset left inside it. */
bool types_global_slot(struct types *t, uint64_t addr, struct strbuf *name, Dwarf_Die *leaf, uint64_t *rest);
/* The same for a stack slot: the local or parameter of frame f that holds addr. */
bool types_local_slot(struct types *t, const struct types_frame *f, uint64_t addr, struct strbuf *name, Dwarf_Die *leaf,
		      uint64_t *rest);
/* The local or parameter in register user_reg at pc of an innermost frame: its name into name, its declared type. */
bool types_register_var(struct types *t, uint64_t pc, int user_reg, struct strbuf *name, Dwarf_Die *type);
/*
 * The scopes that hold address at (a runtime address): innermost first, the
 * last the function that owns the frame; into *scopes (caller frees), with at
 * in the module's DWARF addresses in *pc. Returns how many, 0 for none.
 */
int types_scopes_at(struct types *t, uint64_t at, Dwarf_Addr *pc, Dwarf_Die **scopes);
/*
 * The type the function returned into at ret (a traced allocation's return
 * address in its caller) gives the allocation: the pointee of the one pointer
 * variable that takes rax there (memoized per ret). 0 when none does, or
 * several disagree.
 */
uint32_t types_site_type(struct types *t, struct target *tg, uint64_t ret);
/* The DWARF number of the register at index user_reg of struct user_regs_struct (words), -1 for none. */
int types_dwarf_reg(int user_reg);

#endif
