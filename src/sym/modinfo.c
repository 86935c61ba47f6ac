// SPDX-License-Identifier: GPL-3.0-or-later
/* modinfo.c - the module behind an address: its range, file and build-id, for profiles' mappings. */
#include <stdio.h>

#include "sym_internal.h"

bool sym_module_at(struct sym *s, uint64_t addr, struct sym_module *m)
{
	if (sym_pc_is_saved(addr))
		return sym_saved_module_at(s, addr, m);
	Dwfl_Module *mod = s->dwfl ? dwfl_addrmodule(s->dwfl, addr) : NULL;
	if (!mod)
		return false;
	Dwarf_Addr start = 0, end = 0;
	const char *name = dwfl_module_info(mod, NULL, &start, &end, NULL, NULL, NULL, NULL);
	m->start = start;
	m->end = end;
	m->path = name ? name : "";
	m->build_id[0] = '\0';
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &bits, &vaddr);
	for (int i = 0; i < len && i < 20; i++)
		snprintf(m->build_id + 2 * i, 3, "%02x", bits[i]);
	return true;
}

struct each {
	void (*fn)(void *arg, const struct sym_module *m);
	void *arg;
};

static int each_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	(void)userdata;
	(void)start;
	struct each *e = arg;
	struct sym_module m = { .path = name ? name : "" };
	Dwarf_Addr lo = 0, hi = 0;
	dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
	m.start = lo;
	m.end = hi;
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &bits, &vaddr);
	for (int i = 0; i < len && i < 20; i++)
		snprintf(m.build_id + 2 * i, 3, "%02x", bits[i]);
	e->fn(e->arg, &m);
	return DWARF_CB_OK;
}

void sym_each_module(struct sym *s, void (*fn)(void *arg, const struct sym_module *m), void *arg)
{
	struct each e = { fn, arg };
	if (s->dwfl)
		dwfl_getmodules(s->dwfl, each_module, &e, 0);
}
