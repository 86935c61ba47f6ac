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
