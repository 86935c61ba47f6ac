/* SPDX-License-Identifier: GPL-3.0-or-later */
/* types.h - what a block is: C and C++ types from DWARF, globals named as variables, blocks typed through the reference graph. */
#ifndef MLZ_TYPES_H
#define MLZ_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cancel.h"
#include "err.h"

/*
 * Usage:
 *	struct types *t = types_new(sym);
 *	char *v = types_global_name(t, addr);        // "g_cache.buckets[17]", or NULL
 *	char *l = types_local_name(t, &frame, addr); // "req", or NULL
 *	types_infer(t, graph, target, &sites, cancel, &err); // a type id per block of the graph
 *	uint32_t id = types_of_block(t, i, &conflict);
 *	... types_name(t, id), types_field_name(t, id, size, off), types_fields_jv(...) ...
 *	types_free(t);
 * Type ids are small integers, 0 for untyped; one per distinct type (by name
 * and size), so blocks of one struct from several compilation units share it.
 * DWARF is read through the sym's libdwfl session: a types object is valid
 * while the modules it read are (mlyze keeps one per reference graph).
 */

struct types;
struct sym;
struct graph;
struct target;
struct jv;

/* A types object over sym's modules; caller frees with types_free. */
struct types *types_new(struct sym *sym);
void types_free(struct types *t);

/*
 * The global or static variable at addr, and the field inside it, as C
 * spells it ("g_cache.buckets[17]", "server.conn.fd"); caller frees; NULL
 * when no variable with DWARF covers addr.
 */
char *types_global_name(struct types *t, uint64_t addr);

/* A frame as the unwinder knows it: what DWARF locates a local against. */
struct types_frame {
	uint64_t pc;
	bool caller;         /* pc is a return address: looked up at pc - 1 */
	uint64_t cfa;        /* the canonical frame address: the caller's stack pointer */
	uint64_t sp, bp;     /* the frame's rsp and rbp */
};                           /* 0 where unknown */

/*
 * The local variable or parameter of frame f whose memory holds addr, with
 * the field inside it ("req", "args.fd"), where DWARF locates it at f's pc:
 * DW_OP_fbreg from a frame base that is the CFA, rbp or rsp, or DW_OP_breg
 * of rbp or rsp; location lists are read at the pc. Caller frees; NULL when
 * none does.
 */
char *types_local_name(struct types *t, const struct types_frame *f, uint64_t addr);
/*
 * The local or parameter of the innermost frame (running pc) that DWARF says
 * lives in register user_reg at pc (DW_OP_regN; user_reg is the index in
 * struct user_regs_struct by 8-byte words, as graph roots keep it). Caller
 * frees; NULL when none does.
 */
char *types_register_name(struct types *t, uint64_t pc, int user_reg);

/* Where each block of the graph was allocated, for types_infer: ret gives the
 * return address into the function that called the allocator (0: unknown, as
 * for an untraced block). */
struct types_sites {
	uint64_t (*ret)(void *arg, uint32_t block);
	void *arg;
};

/*
 * Types the blocks of g: the pointee of each typed global, local or
 * parameter a root word (or register) lies in (locals found by unwinding each
 * thread of tg), then through every typed block's pointer fields (a start
 * pointer only), and C++ objects by the vtable their first word points into.
 * Then, where sites (may be NULL) says, a block still untyped gets the pointee
 * of the variable its allocation's caller assigns the result to, and typing
 * goes on through its fields. Reads the blocks and that code from tg, which
 * the caller holds still. -1 when cancel ended it.
 */
int types_infer(struct types *t, const struct graph *g, struct target *tg, const struct types_sites *sites,
		struct cancel *cancel, struct mlz_err *err);

/* Block i's type id (0: untyped); *conflict (may be NULL) says whether other evidence named another type. */
uint32_t types_of_block(const struct types *t, uint32_t i, bool *conflict);
/* Whether block i's type came from its allocation site alone (nothing in the graph typed it). */
bool types_block_by_site(const struct types *t, uint32_t i);
/* How many blocks were typed, how many of those had conflicting evidence, and how long typing took. */
void types_counts(const struct types *t, size_t *typed, size_t *conflicts, double *ms);
/* A type's name as C or C++ spells it ("struct node", "char", "Shape"); owned by t. */
const char *types_name(const struct types *t, uint32_t id);
/* Its size in bytes (0 when unknown). */
uint64_t types_size(const struct types *t, uint32_t id);
/* The id of the type named name, or 0. */
uint32_t types_find(const struct types *t, const char *name);
/* How many ids there are (1 + the largest). */
uint32_t types_count(const struct types *t);

/*
 * The field at offset off of a block of type id and size size, as
 * "struct node.next" or "struct entry *[3]" (an element of a block holding an
 * array of them); caller frees; NULL for an untyped block.
 */
char *types_field_name(struct types *t, uint32_t id, uint64_t size, uint64_t off);

/*
 * The fields of block i of g, of type id, by name with their values as gdb
 * prints them, as a JSON array (caller frees): each {name, offset, type,
 * value} and for a pointer its target block (address, type, size) or string.
 * Reads the block and what it points at from tg.
 */
struct jv *types_fields_jv(struct types *t, const struct graph *g, struct target *tg, uint32_t i, uint32_t id);

#endif
