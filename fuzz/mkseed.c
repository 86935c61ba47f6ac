// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * mkseed.c - starting inputs for the fuzz targets: seed-walk, this process's own glibc heap in the
 * format of fuzz-walk.c (libc's data, the brk heap, main_arena, mp_, the tcache); seed-core, a
 * small well-formed core (notes for one thread, the process, a mapped file; one dumped segment).
 *   mkseed DIR
 */
#define _GNU_SOURCE
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "heap.h"

static ssize_t self_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	struct iovec l = { buf, len }, r = { (void *)addr, len };
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0);
}

static void region(FILE *f, uint64_t lo, uint64_t hi)
{
	uint32_t len = (uint32_t)(hi - lo);
	fwrite(&lo, 8, 1, f);
	fwrite(&len, 4, 1, f);
	fwrite((void *)lo, 1, len, f);
}

static void seed_walk(const char *dir)
{
	void *keep[64];
	for (int i = 0; i < 64; i++)
		keep[i] = malloc(16 + 24 * (size_t)i);
	for (int i = 0; i < 64; i += 3)
		free(keep[i]);
	uint64_t lo = 0, hi = 0, hlo = 0, hhi = 0;
	char line[512], path[256];
	FILE *maps = fopen("/proc/self/maps", "r");
	while (maps && fgets(line, sizeof(line), maps)) {
		unsigned long s, e;
		char perms[5];
		path[0] = 0;
		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %255s", &s, &e, perms, path) < 3)
			continue;
		if (strstr(path, "libc.so") && perms[1] == 'w')
			lo = lo ? lo : s, hi = e;
		else if (!path[0] && hi == s && perms[1] == 'w')
			hi = e; /* libc's .bss */
		else if (!strcmp(path, "[heap]"))
			hlo = s, hhi = e;
	}
	if (maps)
		fclose(maps);
	struct memsrc m = { self_read, NULL };
	uint64_t ma = glibc_find_main_arena(&m, lo, hi), mp = ma ? glibc_find_mp(&m, lo, hi, ma) : 0;
	uint64_t tc = hlo + 0x10; /* the main thread's tcache is the first chunk of the brk heap */
	snprintf(path, sizeof(path), "%s/seed-walk", dir);
	FILE *f = fopen(path, "w");
	uint32_t n = 2;
	fwrite(&ma, 8, 1, f);
	fwrite(&mp, 8, 1, f);
	fwrite(&tc, 8, 1, f);
	fwrite(&n, 4, 1, f);
	region(f, lo, hi);
	region(f, hlo, hhi);
	fclose(f);
	fprintf(stderr, "seed-walk: main_arena 0x%lx, mp_ 0x%lx\n", (unsigned long)ma, (unsigned long)mp);
}

static void add_note(FILE *f, uint32_t type, const void *desc, uint32_t len)
{
	uint32_t h[3] = { 5, len, type };
	char name[8] = "CORE", pad[4] = { 0 };
	fwrite(h, 4, 3, f);
	fwrite(name, 1, 8, f);
	fwrite(desc, 1, len, f);
	fwrite(pad, 1, (4 - len % 4) % 4, f);
}

static void seed_core(const char *dir)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/seed-core", dir);
	FILE *f = fopen(path, "w");
	/* notes first, in memory, to know their size */
	char *nb;
	size_t nlen;
	FILE *nf = open_memstream(&nb, &nlen);
	struct elf_prpsinfo ps = { .pr_pid = 42 };
	strcpy(ps.pr_fname, "seed");
	add_note(nf, NT_PRPSINFO, &ps, sizeof(ps));
	struct elf_prstatus st = { .pr_pid = 42 };
	st.pr_reg[16] = 0x400000; /* rip */
	st.pr_reg[19] = 0x7ff000; /* rsp */
	add_note(nf, NT_PRSTATUS, &st, sizeof(st));
	uint64_t file[2 + 3] = { 1, 4096, 0x400000, 0x401000, 0 };
	char names[] = "/bin/true";
	char fdesc[sizeof(file) + sizeof(names)];
	memcpy(fdesc, file, sizeof(file));
	memcpy(fdesc + sizeof(file), names, sizeof(names));
	add_note(nf, NT_FILE, fdesc, sizeof(fdesc));
	uint64_t auxv[4] = { AT_PHDR, 0x400040, AT_NULL, 0 };
	add_note(nf, NT_AUXV, auxv, sizeof(auxv));
	fclose(nf);
	Elf64_Ehdr eh = { .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
			  .e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			  .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 3 };
	uint64_t data_off = sizeof(eh) + 3 * sizeof(Elf64_Phdr) + nlen;
	Elf64_Phdr ph[3] = {
		{ .p_type = PT_NOTE, .p_offset = sizeof(eh) + 3 * sizeof(Elf64_Phdr), .p_filesz = nlen },
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_vaddr = 0x400000, .p_memsz = 0x1000, .p_offset = data_off },
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_vaddr = 0x7fe000, .p_memsz = 0x2000, .p_filesz = 0x1000,
		  .p_offset = data_off },
	};
	fwrite(&eh, sizeof(eh), 1, f);
	fwrite(ph, sizeof(ph), 1, f);
	fwrite(nb, 1, nlen, f);
	static char stack[4096] = "a stack";
	fwrite(stack, 1, sizeof(stack), f);
	fclose(f);
	free(nb);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseed DIR\n");
		return 2;
	}
	seed_walk(argv[1]);
	seed_core(argv[1]);
	return 0;
}
