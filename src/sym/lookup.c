// SPDX-License-Identifier: GPL-3.0-or-later
/* lookup.c - functions by name, searched in the dynamic linker's order (the link map), as it binds them. */
#include <elf.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "sym_internal.h"
#include "target.h"
#include "xalloc.h"

/* Offsets in glibc's struct r_debug and struct link_map (x86-64). */
#define R_MAP 8
#define LM_LD 16
#define LM_NEXT 24

struct mods {
	Dwfl_Module **v;
	size_t n, alloc;
};

static int collect(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	(void)userdata;
	(void)name;
	(void)start;
	struct mods *m = arg;
	ALLOC_GROW(m->v, m->n + 1, m->alloc);
	m->v[m->n++] = mod;
	return DWARF_CB_OK;
}

static void move_first(struct mods *m, size_t *placed, Dwfl_Module *mod)
{
	for (size_t i = *placed; i < m->n; i++) {
		if (m->v[i] == mod) {
			m->v[i] = m->v[*placed];
			m->v[(*placed)++] = mod;
			return;
		}
	}
}

/* Search one module's symbol table for every still-missing name. */
static void search_module(Dwfl_Module *mod, const char *const *names, size_t n, uint64_t *addrs,
			  const char **modules)
{
	int count = dwfl_module_getsymtab(mod);
	const char *modname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	const char *base = modname && strrchr(modname, '/') ? strrchr(modname, '/') + 1 : modname;
	for (int i = 1; i < count; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, NULL, NULL);
		if (!name || sym.st_shndx == SHN_UNDEF || !addr)
			continue;
		int bind = GELF_ST_BIND(sym.st_info), type = GELF_ST_TYPE(sym.st_info);
		if ((bind != STB_GLOBAL && bind != STB_WEAK) || (type != STT_FUNC && type != STT_OBJECT))
			continue;
		for (size_t k = 0; k < n; k++) {
			if (!addrs[k] && !strcmp(name, names[k])) {
				addrs[k] = addr;
				modules[k] = base;
			}
		}
	}
}

/* Every module, those in the link map first and in its order (the executable, preloads, dependencies). */
static void modules_in_link_order(struct sym *s, struct mods *m)
{
	dwfl_getmodules(s->dwfl, collect, m, 0);
	size_t placed = 0; /* modules moved to the front, in link-map order */
	uint64_t r_debug = 0;
	const char *rd_mod;
	const char *rd_name = "_r_debug";
	for (size_t i = 0; i < m->n && !r_debug; i++)
		search_module(m->v[i], &rd_name, 1, &r_debug, &rd_mod);
	uint64_t lm = 0;
	if (r_debug && target_read(s->target, r_debug + R_MAP, &lm, 8) == 8) {
		for (int guard = 0; lm && guard < 4096; guard++) {
			uint64_t ld = 0, next = 0;
			if (target_read(s->target, lm + LM_LD, &ld, 8) != 8 ||
			    target_read(s->target, lm + LM_NEXT, &next, 8) != 8)
				break;
			Dwfl_Module *mod = ld ? dwfl_addrmodule(s->dwfl, ld) : NULL;
			if (mod)
				move_first(m, &placed, mod);
			lm = next;
		}
	}
}

int sym_find_symbols(struct sym *s, const char *const *names, size_t n, uint64_t *addrs, const char **modules)
{
	struct mods m = { 0 };
	for (size_t k = 0; k < n; k++) {
		addrs[k] = 0;
		modules[k] = NULL;
	}
	/* Without a link map (a static program) the maps order serves: the executable is alone. */
	modules_in_link_order(s, &m);
	for (size_t i = 0; i < m.n; i++)
		search_module(m.v[i], names, n, addrs, modules);
	free(m.v);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

static Dwfl_Module *module_named(struct sym *s, const char *base)
{
	struct mods m = { 0 };
	Dwfl_Module *found = NULL;
	dwfl_getmodules(s->dwfl, collect, &m, 0);
	for (size_t i = 0; i < m.n && !found; i++) {
		const char *name = dwfl_module_info(m.v[i], NULL, NULL, NULL, NULL, NULL, NULL, NULL);
		if (name && !strcmp(base_name(name), base))
			found = m.v[i];
	}
	free(m.v);
	return found;
}

int sym_module_symbols(struct sym *s, const char *module, const char *const *names, size_t n, uint64_t *values)
{
	Dwfl_Module *mod = module_named(s, module);
	int found = 0;
	for (size_t k = 0; k < n; k++)
		values[k] = 0;
	if (!mod)
		return 0;
	int count = dwfl_module_getsymtab(mod);
	for (int i = 1; i < count; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (!name || sym.st_shndx == SHN_UNDEF)
			continue;
		for (size_t k = 0; k < n; k++) {
			if (!values[k] && !strcmp(name, names[k])) {
				/* A TLS symbol's value is its offset in the module's TLS block, not an address. */
				values[k] = GELF_ST_TYPE(sym.st_info) == STT_TLS ? sym.st_value : addr;
				found++;
			}
		}
	}
	return found;
}

static bool module_tls(Dwfl_Module *mod, uint64_t *memsz)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t nph;
	if (!elf || elf_getphdrnum(elf, &nph) != 0)
		return false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_TLS) {
			*memsz = ph.p_memsz;
			return true;
		}
	}
	return false;
}

int sym_module_tls(struct sym *s, const char *module, size_t *modid, uint64_t *memsz)
{
	/* The dynamic linker numbers the TLS of the objects loaded at startup in link-map order, from 1. */
	struct mods m = { 0 };
	int ret = -1;
	size_t id = 0;
	modules_in_link_order(s, &m);
	for (size_t i = 0; i < m.n; i++) {
		uint64_t sz;
		if (!module_tls(m.v[i], &sz))
			continue;
		id++;
		const char *name = dwfl_module_info(m.v[i], NULL, NULL, NULL, NULL, NULL, NULL, NULL);
		if (name && !strcmp(base_name(name), module)) {
			*modid = id;
			*memsz = sz;
			ret = 0;
			break;
		}
	}
	free(m.v);
	return ret;
}

bool sym_function_extent(struct sym *s, uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	Dwfl_Module *mod = s->dwfl ? dwfl_addrmodule(s->dwfl, addr) : NULL;
	GElf_Off off;
	GElf_Sym esym;
	if (!mod || !dwfl_module_addrinfo(mod, addr, &off, &esym, NULL, NULL, NULL) || !esym.st_size)
		return false;
	*lo = addr - off;
	*hi = *lo + esym.st_size;
	return true;
}
