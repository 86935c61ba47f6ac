// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * fuzz-dwarf.c - libFuzzer target: an ELF file with hostile DWARF, read by the type code as mlyze
 * reads a module's. The file is reported to libdwfl (offline, at its own addresses, no separate
 * debug file looked for), then every DIE is visited: each type built, named, its pointer fields
 * flattened and its fields named at each offset; each global with a fixed address named; at a few
 * PCs of each function, the locals of a frame looked up by slot and by register, and the type an
 * allocation returning there would get. Each must answer or refuse, never crash, loop, recurse
 * without bound or allocate without bound (types that point at themselves through typedefs and
 * pointers, arrays of themselves, location lists that never end). FUZZ_VERBOSE=1 prints what an
 * input reached (the seeds: some thousand DIEs, a few hundred types, the globals of the file).
 */
#include <dwarf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../src/sym/sym_internal.h"
#include "../src/types/types_internal.h"
#include "target.h"

/*
 * Visit at most this many DIEs, this deep, and look locals up in this many
 * functions: the cost of an input stays bounded whatever it holds, and small
 * enough for libFuzzer to run hundreds a second (a scope look-up reads the CU).
 */
#define MAX_DIES 1500
#define MAX_DEPTH 24
#define MAX_FUNCTIONS 24

static int no_elf(Dwfl_Module *m, void **u, const char *name, Dwarf_Addr base, char **file, Elf **elf)
{
	(void)m, (void)u, (void)name, (void)base, (void)file, (void)elf;
	return -1;
}

/* The file's own DWARF only: nothing of this machine's debug files. */
static int no_debuginfo(Dwfl_Module *m, void **u, const char *name, Dwarf_Addr base, const char *file,
			const char *link, GElf_Word crc, char **debug)
{
	(void)m, (void)u, (void)name, (void)base, (void)file, (void)link, (void)crc, (void)debug;
	return -1;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = no_elf,
	.find_debuginfo = no_debuginfo,
	.section_address = dwfl_offline_section_address,
};

struct walk {
	struct types *t;
	struct target *tg;
	Dwarf_Addr bias;
	size_t dies, functions;
};

static void type_die(struct walk *w, Dwarf_Die *die)
{
	uint32_t id = type_id(w->t, die);
	if (!id)
		return;
	size_t n;
	type_ptrs(w->t, id, &n);
	(void)types_name(w->t, id);
	uint64_t size = types_size(w->t, id);
	/* as a block of one and of two of them */
	uint64_t sizes[] = { size, 2 * size };
	for (size_t s = 0; s < 2; s++)
		for (uint64_t off = 0; off < (sizes[s] < 128 ? sizes[s] : 128) + 8; off += 8)
			free(types_field_name(w->t, id, sizes[s], off));
}

static void variable_die(struct walk *w, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Op *e;
	size_t len;
	if (dwarf_attr(die, DW_AT_location, &a) && dwarf_getlocation(&a, &e, &len) == 0 && len >= 1 &&
	    e[0].atom == DW_OP_addr)
		for (uint64_t off = 0; off < 64; off += 8)
			free(types_global_name(w->t, e[0].number + w->bias + off));
}

static void function_die(struct walk *w, Dwarf_Die *die)
{
	Dwarf_Addr lo, hi;
	if (w->functions >= MAX_FUNCTIONS || dwarf_lowpc(die, &lo) != 0 || dwarf_highpc(die, &hi) != 0)
		return;
	w->functions++;
	Dwarf_Addr pcs[] = { lo, lo + (hi - lo) / 2 };
	/* rax, rbx, rbp by their index in struct user_regs_struct */
	static const int regs[] = { 10, 5, 4 };
	for (size_t i = 0; i < sizeof(pcs) / sizeof(pcs[0]); i++) {
		uint64_t pc = pcs[i] + w->bias;
		struct types_frame f = { pc, i > 0, 0x7ffd0000, 0x7ffc0f00, 0x7ffcff00 };
		for (int64_t off = -32; off < 32; off += 16)
			free(types_local_name(w->t, &f, f.cfa + (uint64_t)off));
		free(types_local_name(w->t, &f, f.sp + 8));
		free(types_local_name(w->t, &f, f.bp - 8));
		for (size_t r = 0; r < sizeof(regs) / sizeof(regs[0]); r++)
			free(types_register_name(w->t, pc, regs[r]));
		types_site_type(w->t, w->tg, pc);
	}
}

static void visit(struct walk *w, Dwarf_Die *die, int depth)
{
	if (depth > MAX_DEPTH || w->dies++ > MAX_DIES)
		return;
	switch (dwarf_tag(die)) {
	case DW_TAG_base_type:
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_typedef:
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_array_type:
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type:
		type_die(w, die);
		break;
	case DW_TAG_variable:
		variable_die(w, die);
		break;
	case DW_TAG_subprogram:
		function_die(w, die);
		break;
	}
	Dwarf_Die c;
	if (dwarf_child(die, &c) != 0)
		return;
	do
		visit(w, &c, depth + 1);
	while (w->dies <= MAX_DIES && dwarf_siblingof(&c, &c) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("dwarf", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* a sym that is nothing but the module, as the type code reaches it */
	struct sym *s = calloc(1, sizeof(*s));
	s->dwfl = dwfl_begin(&callbacks);
	dwfl_report_begin(s->dwfl);
	Dwfl_Module *mod = dwfl_report_offline(s->dwfl, "fuzz", path, -1);
	dwfl_report_end(s->dwfl, NULL, NULL);
	struct walk w = { .tg = target_open_none() };
	Dwarf *dw = mod ? dwfl_module_getdwarf(mod, &w.bias) : NULL;
	if (dw) {
		w.t = types_new(s);
		Dwarf_Addr cubias;
		for (Dwarf_Die *cu = NULL; w.dies <= MAX_DIES && (cu = dwfl_module_nextcu(mod, cu, &cubias));)
			visit(&w, cu, 0);
		if (getenv("FUZZ_VERBOSE"))
			fprintf(stderr, "%zu DIEs visited, %u types, %zu globals\n", w.dies, types_count(w.t),
				w.t->nmods ? w.t->mods[0].n : 0);
		types_free(w.t);
	}
	target_free(w.tg);
	sym_free(s);
	close(fd);
	return 0;
}
