// SPDX-License-Identifier: GPL-3.0-or-later
/* symbolize.c - PC to module, function (demangled), file:line and inlined frames, cached. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "sym_internal.h"
#include "xalloc.h"

extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

char *sym_demangle(const char *name)
{
	if (!name || strncmp(name, "_Z", 2))
		return NULL;
	int status = -1;
	char *d = __cxa_demangle(name, NULL, NULL, &status);
	if (status != 0) {
		free(d);
		return NULL;
	}
	return d;
}

static char *nice_name(const char *name)
{
	char *d = sym_demangle(name);
	return d ? d : (name ? xstrdup(name) : NULL);
}

/* The name of a function DIE, following abstract origins and specifications. */
static char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = NULL;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
		name = dwarf_formstring(&attr);
	if (!name && dwarf_attr_integrate(die, DW_AT_name, &attr))
		name = dwarf_formstring(&attr);
	return nice_name(name);
}

static void push_frame(struct sym_pc *r, size_t *alloc, char *function, const char *file, int line, bool inlined)
{
	ALLOC_GROW(r->frames, r->nframes + 1, *alloc);
	r->frames[r->nframes++] = (struct sym_frame){
		.function = function, .file = file ? xstrdup(file) : NULL, .line = line, .inlined = inlined,
	};
}

/* Frames from DWARF scopes: the innermost function at the line table's file:line, then each caller of an inlined body at its call site. */
static bool dwarf_frames(Dwfl_Module *mod, Dwarf_Die *cudie, uint64_t bias, uint64_t addr, struct sym_pc *r,
			 size_t *alloc)
{
	if (!cudie)
		return false;
	Dwarf_Die *scopes = NULL;
	int n = dwarf_getscopes(cudie, addr - bias, &scopes);
	if (n <= 0)
		return false;
	/*
	 * dwarf_getscopes follows an inlined body into its abstract origin; the
	 * physical nesting (inlined body, then the function it was inlined into)
	 * comes from dwarf_getscopes_die on the innermost scope, as eu-stack does.
	 */
	Dwarf_Die inner = scopes[0];
	free(scopes);
	scopes = NULL;
	n = dwarf_getscopes_die(&inner, &scopes);
	if (n <= 0)
		return false;

	int line;
	const char *file = sym_src_line(mod, cudie, bias, addr, &line);
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	dwarf_getsrcfiles(cudie, &files, &nfiles);

	bool any = false;
	for (int i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine && tag != DW_TAG_entry_point)
			continue;
		push_frame(r, alloc, die_name(&scopes[i]), file, line, tag == DW_TAG_inlined_subroutine);
		any = true;
		if (tag != DW_TAG_inlined_subroutine)
			break;
		/* The caller of an inlined body is at that body's call site. */
		Dwarf_Attribute attr;
		Dwarf_Word v;
		file = NULL;
		line = 0;
		if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &v) == 0 && files && v < nfiles)
			file = dwarf_filesrc(files, v, NULL, NULL);
		if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &v) == 0)
			line = (int)v;
	}
	free(scopes);
	return any;
}

static struct sym_pc *resolve(struct sym *s, uint64_t pc, uint64_t addr)
{
	struct sym_pc *r = xcalloc(1, sizeof(*r));
	size_t alloc = 0;
	r->pc = pc;
	Dwfl_Module *mod = s->dwfl ? dwfl_addrmodule(s->dwfl, addr) : NULL;
	if (mod) {
		Dwarf_Addr low = 0;
		const char *name = dwfl_module_info(mod, NULL, &low, NULL, NULL, NULL, NULL, NULL);
		const char *base = name ? strrchr(name, '/') : NULL;
		r->module = name ? xstrdup(base ? base + 1 : name) : NULL;
		r->module_offset = pc - low;
		uint64_t bias;
		Dwarf_Die *cudie = sym_cu_die(s, mod, addr, &bias);
		if (!dwarf_frames(mod, cudie, bias, addr, r, &alloc)) {
			/* No DWARF: the ELF symbol table (.symtab, else .dynsym), with line info if any. */
			GElf_Off off;
			GElf_Sym esym;
			const char *fn = dwfl_module_addrinfo(mod, addr, &off, &esym, NULL, NULL, NULL);
			int line;
			const char *file = sym_src_line(mod, cudie, bias, addr, &line);
			push_frame(r, &alloc, nice_name(fn), file, line, false);
		}
	}
	if (!r->nframes)
		push_frame(r, &alloc, NULL, NULL, 0, false);
	return r;
}

static void free_pc(struct sym_pc *r)
{
	for (size_t i = 0; i < r->nframes; i++) {
		free((char *)r->frames[i].function);
		free((char *)r->frames[i].file);
	}
	free(r->frames);
	free((char *)r->module);
	free(r);
}

void symcache_clear(struct sym *s)
{
	for (int c = 0; c < 2; c++) {
		uint64_t pc, r;
		for (size_t it = 0; u64map_next(&s->cache[c], &it, &pc, &r);)
			free_pc((struct sym_pc *)(uintptr_t)r);
		u64map_clear(&s->cache[c]);
	}
}

const struct sym_pc *sym_lookup(struct sym *s, uint64_t pc, bool caller)
{
	uint64_t cached;
	if (sym_pc_is_saved(pc))
		return sym_saved_lookup(s, pc);
	if (u64map_get(&s->cache[caller], pc, &cached))
		return (const struct sym_pc *)(uintptr_t)cached;
	/* A return address may be the first byte of the next line or function: look up the call. */
	struct sym_pc *r = resolve(s, pc, caller && pc ? pc - 1 : pc);
	r->caller = caller;
	u64map_put(&s->cache[caller], pc, (uintptr_t)r);
	return r;
}

/* Whether addr lies in one of mod's PT_LOAD segments as loaded (up to memsz, .bss included). */
static bool in_segments(Dwfl_Module *mod, uint64_t addr, uint64_t *bias)
{
	Dwarf_Addr b;
	Elf *elf = dwfl_module_getelf(mod, &b);
	size_t n;
	if (!elf || elf_getphdrnum(elf, &n) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr mem, *ph = gelf_getphdr(elf, (int)i, &mem);
		if (ph && ph->p_type == PT_LOAD && addr >= ph->p_vaddr + b && addr < ph->p_vaddr + b + ph->p_memsz) {
			*bias = b;
			return true;
		}
	}
	return false;
}

struct seg_find {
	uint64_t addr, bias;
	Dwfl_Module *found;
};

static int seg_find_cb(Dwfl_Module *mod, void **user, const char *name, Dwarf_Addr start, void *arg)
{
	(void)user, (void)name, (void)start;
	struct seg_find *f = arg;
	if (in_segments(mod, f->addr, &f->bias)) {
		f->found = mod;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

/*
 * libdwfl's module range for a process ends with the file's last mapped page;
 * the kernel maps the rest of a large .bss as an anonymous mapping after it,
 * still within the PT_LOAD's memsz, so the segments decide.
 */
struct Dwfl_Module *sym_data_module(struct sym *s, uint64_t addr, uint64_t *bias)
{
	*bias = 0;
	if (!s->dwfl)
		return NULL;
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, addr);
	if (mod) {
		Dwarf_Addr b = 0;
		if (dwfl_module_getelf(mod, &b))
			*bias = b;
		return mod;
	}
	struct seg_find f = { addr, 0, NULL };
	dwfl_getmodules(s->dwfl, seg_find_cb, &f, 0);
	*bias = f.bias;
	return f.found;
}

const char *sym_data_symbol(struct sym *s, uint64_t addr, uint64_t *offset, const char **module)
{
	uint64_t bias;
	Dwfl_Module *mod = sym_data_module(s, addr, &bias);
	*offset = 0;
	*module = NULL;
	if (!mod)
		return NULL;
	const char *name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	const char *base = name ? strrchr(name, '/') : NULL;
	*module = base ? base + 1 : name;
	GElf_Off off;
	GElf_Sym esym;
	const char *sym = dwfl_module_addrinfo(mod, addr, &off, &esym, NULL, NULL, NULL);
	if (sym)
		*offset = off;
	return sym;
}
