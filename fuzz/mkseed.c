// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * mkseed.c - starting inputs for the fuzz targets: seed-walk, this process's own glibc heap in the
 * format of fuzz-walk.c (libc's data, the brk heap, main_arena, mp_, the tcache); seed-core, a
 * small well-formed core (notes for one thread, the process, a mapped file; one dumped segment);
 * seed-leaks, glibc's state and a core of this process's heap in the format of fuzz-leaks.c (libc's
 * data, the used part of the brk heap, a stack whose words hold some blocks; the rest are lost);
 * seed-supp, a valgrind suppression file with every construct fuzz-supp.c's parser knows.
 *   mkseed DIR
 */
#include <elf.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* Appended with write(2) only: stdio would allocate on the heap being copied. */
struct out {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct out *o, const void *b, size_t n)
{
	if (o->n + n > o->cap)
		abort();
	memcpy(o->p + o->n, b, n);
	o->n += n;
}

static void put_note(struct out *o, uint32_t type, const void *desc, uint32_t len)
{
	uint32_t h[3] = { 5, len, type };
	char name[8] = "CORE", pad[4] = { 0 };
	put(o, h, 12);
	put(o, name, 8);
	put(o, desc, len);
	put(o, pad, (4 - len % 4) % 4);
}

/* The "stack" of the seed's one thread: its words hold some of the blocks, as locals would. */
static void *g_stack[512] __attribute__((aligned(4096)));

static void seed_leaks(const char *dir)
{
	/* glibc's state first: the searches allocate, and the heap must not change once copied */
	uint64_t lo = 0, hi = 0, hlo = 0, hhi = 0;
	static char text[1 << 16];
	int fd = open("/proc/self/maps", O_RDONLY);
	ssize_t len = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	text[len > 0 ? len : 0] = 0;
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		unsigned long s, e;
		char perms[5], path[256] = "";
		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %255s", &s, &e, perms, path) >= 3) {
			if (strstr(path, "libc.so") && perms[1] == 'w')
				lo = lo ? lo : s, hi = e;
			else if (!path[0] && hi == s && perms[1] == 'w')
				hi = e; /* libc's .bss */
			else if (!strcmp(path, "[heap]"))
				hlo = s, hhi = e;
		}
		line = nl ? nl + 1 : line + strlen(line);
	}
	struct memsrc m = { self_read, NULL };
	uint64_t hdr[3];
	hdr[0] = glibc_find_main_arena(&m, lo, hi);
	hdr[1] = hdr[0] ? glibc_find_mp(&m, lo, hi, hdr[0]) : 0;
	hdr[2] = hlo + 0x10; /* the main thread's tcache is the first chunk of the brk heap */

	/* 40 blocks: lists of 4 from the stack, one list from another block, and lost cliques */
	void *b[40];
	for (int i = 0; i < 40; i++) {
		b[i] = malloc(24 + 8 * (size_t)(i % 7));
		memset(b[i], 0, 24);
	}
	for (int i = 0; i < 40; i++)
		if (i % 4 != 3)
			*(void **)b[i] = b[i + 1];
	for (int i = 0; i < 16; i += 4)
		g_stack[8 + i] = b[i];
	*(void **)b[19] = b[16];         /* 16..19 only through block 3: reachable */
	((void **)b[3])[1] = b[16];
	((char **)b[7])[1] = (char *)b[24] + 8; /* an interior pointer: 24..27 possibly lost */
	/* 28..39 are lost: nothing outside them points in */
	uint64_t top = (uint64_t)sbrk(0) - mallinfo2().keepcost;
	uint64_t hused = ((top + 16 - hlo) + 4095) & ~4095ull;
	if (hused > hhi - hlo)
		hused = hhi - hlo;

	struct out o = { .cap = 4u << 20 };
	o.p = mmap(NULL, o.cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (o.p == MAP_FAILED)
		abort();
	uint64_t stack = (uint64_t)g_stack, stack_len = sizeof(g_stack);
	struct { uint64_t vaddr, memsz, filesz; } seg[3] = {
		{ lo, hi - lo, hi - lo }, { hlo, hhi - hlo, hused }, { stack, stack_len, stack_len },
	};
	uint8_t notes[2048];
	struct out n = { notes, 0, sizeof(notes) };
	struct elf_prpsinfo ps = { .pr_pid = getpid() };
	strcpy(ps.pr_fname, "seed-leaks");
	put_note(&n, NT_PRPSINFO, &ps, sizeof(ps));
	struct elf_prstatus st = { .pr_pid = getpid() };
	st.pr_reg[16] = (uint64_t)seed_leaks;  /* rip */
	st.pr_reg[19] = stack + 128;           /* rsp: the red zone below it is scanned too */
	st.pr_reg[12] = (uint64_t)b[32];       /* r12: one lost block held by a register after all */
	put_note(&n, NT_PRSTATUS, &st, sizeof(st));
	put(&o, hdr, sizeof(hdr));
	Elf64_Ehdr eh = { .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
			  .e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			  .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 4 };
	put(&o, &eh, sizeof(eh));
	uint64_t off = sizeof(eh) + 4 * sizeof(Elf64_Phdr);
	Elf64_Phdr ph = { .p_type = PT_NOTE, .p_offset = off, .p_filesz = n.n };
	put(&o, &ph, sizeof(ph));
	off += n.n;
	for (int i = 0; i < 3; i++) {
		ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_vaddr = seg[i].vaddr,
				   .p_memsz = seg[i].memsz, .p_filesz = seg[i].filesz, .p_offset = off };
		put(&o, &ph, sizeof(ph));
		off += seg[i].filesz;
	}
	put(&o, notes, n.n);
	for (int i = 0; i < 3; i++)
		put(&o, (const void *)seg[i].vaddr, seg[i].filesz);
	char path[256];
	snprintf(path, sizeof(path), "%s/seed-leaks", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, o.p, o.n) != (ssize_t)o.n)
		abort();
	close(fd);
	fprintf(stderr, "seed-leaks: %zu bytes, main_arena 0x%lx\n", o.n, (unsigned long)hdr[0]);
}

static void seed_supp(const char *dir)
{
	static const char text[] =
		"# valgrind --gen-suppressions=all writes these, and people edit them\n"
		"{\n   <insert_a_suppression_name_here>\n   Memcheck:Leak\n   match-leak-kinds: definite\n"
		"   fun:malloc\n   fun:xmalloc\n   ...\n   fun:main\n}\n"
		"{\n   any alloc\n   Memcheck:Leak\n   match-leak-kinds: indirect,possible\n   fun:*alloc\n"
		"   obj:*libc.so*\n   src:fx.c:40\n   fun:?ain\n}\n"
		"{\n   other kind\n   Memcheck:Param\n   write(buf)\n   fun:write\n}\n"
		"{\n   helgrind\n   Helgrind:Race\n   fun:f\n}\n"
		"{\n   all\n   Memcheck,Helgrind:Leak\n   match-leak-kinds: all\n   ...\n}\n";
	char path[4096];
	snprintf(path, sizeof(path), "%s/seed-supp", dir);
	FILE *f = fopen(path, "w");
	if (!f || fwrite(text, 1, sizeof(text) - 1, f) != sizeof(text) - 1 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseed DIR\n");
		return 2;
	}
	seed_walk(argv[1]);
	seed_core(argv[1]);
	seed_leaks(argv[1]);
	seed_supp(argv[1]);
	return 0;
}
