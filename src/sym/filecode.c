// SPDX-License-Identifier: GPL-3.0-or-later
/* filecode.c - the bytes a module's file holds at an address of the process, to check code before patching it. */
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <string.h>

#include "sym_internal.h"
#include "target.h"

int sym_file_code(struct sym *s, uint64_t addr, uint8_t *buf, size_t len, const char **module, struct mlz_err *err)
{
	*module = NULL;
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, addr);
	if (!mod)
		return 0; /* not in any module: code the process made itself (a JIT), no file to compare with */
	const char *name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	*module = name;
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	if (!elf)
		return mlz_error(err, "mlyze has no file of module '%s' to check the code at 0x%llx against", name ? name : "?",
				 (unsigned long long)addr);
	size_t nph;
	if (elf_getphdrnum(elf, &nph) != 0)
		nph = 0;
	uint64_t vaddr = addr - bias;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || vaddr < ph.p_vaddr ||
		    vaddr >= ph.p_vaddr + ph.p_filesz)
			continue;
		size_t n = ph.p_vaddr + ph.p_filesz - vaddr;
		if (n > len)
			n = len;
		Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)(ph.p_offset + (vaddr - ph.p_vaddr)), n, ELF_T_BYTE);
		if (!d || d->d_size != n)
			break;
		memcpy(buf, d->d_buf, n);
		return (int)n;
	}
	return mlz_error(err, "0x%llx is not in the loaded part of module '%s''s file", (unsigned long long)addr,
			 name ? name : "?");
}

int sym_file_code_cb(void *sym, uint64_t addr, uint8_t *buf, size_t len, const char **module, struct mlz_err *err)
{
	return sym_file_code(sym, addr, buf, len, module, err);
}
