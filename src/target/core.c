// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * core.c - an ELF core file as a target that never runs: threads and
 * registers from NT_PRSTATUS, the process from NT_PRPSINFO, file mappings
 * from NT_FILE, thread names from mlyze's own note, memory from PT_LOAD segments and, where the kernel did not
 * dump a file-backed page, from the mapped file itself (as gdb reads text).
 * Every size and offset in the file is checked before it is used.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "target.h"
#include "xalloc.h"

#define MAX_NOTE_FILES (1u << 20)

static void core_free(struct core *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->files[i].path);
		if (c->files[i].fd >= 0)
			close(c->files[i].fd);
	}
	free(c->files);
	free(c->loads);
	free(c->threads);
	free(c->auxv);
	if (c->elf)
		elf_end(c->elf);
	if (c->fd >= 0)
		close(c->fd);
	free(c->path);
	free(c->exe);
	free(c);
}

/* NT_FILE: count, page size, count x {start, end, page offset}, then count names. */
static int parse_nt_file(struct core *c, const uint8_t *d, size_t len, struct mlz_err *err)
{
	uint64_t count, page;
	if (len < 16)
		return mlz_error(err, "'%s': its NT_FILE note is truncated", c->path);
	memcpy(&count, d, 8);
	memcpy(&page, d + 8, 8);
	if (count > MAX_NOTE_FILES || 16 + count * 24 > len || !page || (page & (page - 1)))
		return mlz_error(err, "'%s': its NT_FILE note is malformed", c->path);
	const char *name = (const char *)d + 16 + count * 24, *end = (const char *)d + len;
	c->files = xcalloc(count ? count : 1, sizeof(*c->files));
	for (uint64_t i = 0; i < count; i++) {
		uint64_t v[3];
		memcpy(v, d + 16 + i * 24, 24);
		size_t n = strnlen(name, (size_t)(end - name));
		if (name + n >= end)
			return mlz_error(err, "'%s': its NT_FILE note is malformed", c->path);
		if (v[1] < v[0])
			v[1] = v[0]; /* an end below its start (damaged): an empty mapping, not one that wraps */
		c->files[c->nfiles++] = (struct core_file){ v[0], v[1], v[2] * page, xstrndup(name, n), -1 };
		name += n + 1;
	}
	return 0;
}

static int parse_notes(struct core *c, Elf_Data *data, struct mlz_err *err)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;
	size_t alloc = 0;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const uint8_t *desc = (const uint8_t *)data->d_buf + desc_off;
		const char *name = (const char *)data->d_buf + name_off;
		if (nh.n_namesz == sizeof(MLYZE_NOTE_OWNER) && !memcmp(name, MLYZE_NOTE_OWNER, sizeof(MLYZE_NOTE_OWNER)) &&
		    nh.n_type == NT_MLYZE_THREADS) {
			if (nh.n_descsz % MLYZE_THREAD_RECORD)
				return mlz_error(err, "'%s': its note of thread names is malformed", c->path);
			/* the threads' notes come first in a core `dump` wrote; names for unknown tids are dropped */
			for (size_t r = 0; r < nh.n_descsz; r += MLYZE_THREAD_RECORD) {
				int32_t tid;
				memcpy(&tid, desc + r, 4);
				for (size_t i = 0; i < c->nthreads; i++)
					if (c->threads[i].tid == tid) {
						memcpy(c->threads[i].name, desc + r + 4, 15);
						c->threads[i].name[15] = 0;
					}
			}
			continue;
		}
		if (nh.n_namesz != 5 || memcmp(name, "CORE", 5) != 0)
			continue; /* LINUX notes (xstate, siginfo's cousins) are not needed */
		if (nh.n_type == NT_PRSTATUS) {
			struct elf_prstatus st;
			if (nh.n_descsz < sizeof(st))
				return mlz_error(err, "'%s': an NT_PRSTATUS note is truncated", c->path);
			memcpy(&st, desc, sizeof(st));
			ALLOC_GROW(c->threads, c->nthreads + 1, alloc);
			struct core_thread *t = &c->threads[c->nthreads++];
			*t = (struct core_thread){ 0 }; /* ALLOC_GROW does not clear: no name until a note gives one */
			t->tid = st.pr_pid;
			t->cursig = st.pr_cursig;
			memcpy(&t->regs, st.pr_reg, sizeof(t->regs));
		} else if (nh.n_type == NT_PRPSINFO) {
			struct elf_prpsinfo ps;
			if (nh.n_descsz < sizeof(ps))
				return mlz_error(err, "'%s': its NT_PRPSINFO note is truncated", c->path);
			memcpy(&ps, desc, sizeof(ps));
			c->pid = ps.pr_pid;
			memcpy(c->name, ps.pr_fname, sizeof(ps.pr_fname));
			c->name[sizeof(ps.pr_fname)] = 0;
			memcpy(c->args, ps.pr_psargs, sizeof(ps.pr_psargs));
			c->args[sizeof(ps.pr_psargs)] = 0;
		} else if (nh.n_type == NT_FILE) {
			if (c->files)
				continue;
			if (parse_nt_file(c, desc, nh.n_descsz, err) < 0)
				return -1;
		} else if (nh.n_type == NT_AUXV && !c->auxv) {
			c->auxv = xmalloc(nh.n_descsz ? nh.n_descsz : 1);
			memcpy(c->auxv, desc, nh.n_descsz);
			c->auxv_len = nh.n_descsz;
		}
	}
	return 0;
}

/* Bytes the core itself holds at addr (no file fallback), or -1. */
static ssize_t dumped_read(const struct core *c, uint64_t addr, void *buf, size_t len)
{
	for (size_t i = 0; i < c->nloads; i++) {
		const struct core_load *l = &c->loads[i];
		if (addr < l->vaddr || addr - l->vaddr >= l->filesz)
			continue;
		size_t n = len < l->filesz - (addr - l->vaddr) ? len : (size_t)(l->filesz - (addr - l->vaddr));
		return pread(c->fd, buf, n, (off_t)(l->offset + (addr - l->vaddr)));
	}
	return -1;
}

/* The GNU build-id note in the first page of an ELF image, as hex; false if there is none. */
static bool page_build_id(const uint8_t *p, size_t len, char *hex, size_t hexlen)
{
	for (size_t off = 64; off + 16 <= len; off += 4) {
		uint32_t namesz, descsz, type;
		memcpy(&namesz, p + off, 4);
		memcpy(&descsz, p + off + 4, 4);
		memcpy(&type, p + off + 8, 4);
		if (namesz != 4 || type != NT_GNU_BUILD_ID || descsz < 8 || descsz > 64 || memcmp(p + off + 12, "GNU", 4) ||
		    off + 16 + descsz > len || 2 * descsz + 1 > hexlen)
			continue;
		for (uint32_t i = 0; i < descsz; i++)
			snprintf(hex + 2 * i, 3, "%02x", p[off + 16 + i]);
		return true;
	}
	return false;
}

/* EXE must be the program the core was made from: compare build-ids (when the core kept its headers). */
static int check_exe(struct core *c, struct mlz_err *err)
{
	uint64_t phdr = 0;
	for (size_t i = 0; i + 16 <= c->auxv_len; i += 16) {
		uint64_t kv[2];
		memcpy(kv, c->auxv + i, 16);
		if (kv[0] == AT_PHDR)
			phdr = kv[1];
	}
	uint64_t start = 0;
	const char *path = NULL;
	for (size_t k = 0; k < c->nfiles && phdr; k++)
		if (c->files[k].start <= phdr && phdr < c->files[k].end)
			path = c->files[k].path;
	for (size_t k = 0; k < c->nfiles && path; k++)
		if (!strcmp(c->files[k].path, path) && c->files[k].offset == 0 && (!start || c->files[k].start < start))
			start = c->files[k].start;
	c->exe_path = path;
	uint8_t page[4096], fpage[4096];
	char in_core[129], in_file[129];
	ssize_t n = start ? dumped_read(c, start, page, sizeof(page)) : -1;
	if (n <= 0 || !page_build_id(page, (size_t)n, in_core, sizeof(in_core)))
		return 0; /* the core did not keep the program's headers: nothing to compare */
	int fd = open(c->exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mlz_error_errno(err, errno, "cannot open '%s'", c->exe);
	n = pread(fd, fpage, sizeof(fpage), 0);
	close(fd);
	if (n <= 0 || !page_build_id(fpage, (size_t)n, in_file, sizeof(in_file)))
		return mlz_error(err, "'%s' has no build-id to compare with the core's (%s)", c->exe, in_core);
	if (strcmp(in_core, in_file) != 0)
		return mlz_error(err, "'%s' does not match the core: the core's program has build-id %s, the file %s",
				 c->exe, in_core, in_file);
	return 0;
}

struct core *core_open(const char *path, const char *exe, struct mlz_err *err)
{
	struct core *c = xcalloc(1, sizeof(*c));
	c->fd = -1;
	c->path = xstrdup(path);
	c->exe = exe ? xstrdup(exe) : NULL;
	struct stat st;
	unsigned char ident[EI_NIDENT];
	elf_version(EV_CURRENT);
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0 || fstat(c->fd, &st) < 0) {
		mlz_error_errno(err, errno, "cannot open core file '%s'", path);
		goto fail;
	}
	c->size = (uint64_t)st.st_size;
	if (pread(c->fd, ident, sizeof(ident), 0) != (ssize_t)sizeof(ident) || memcmp(ident, ELFMAG, SELFMAG) != 0) {
		mlz_error(err, "'%s' is not an ELF file", path);
		goto fail;
	}
	c->elf = elf_begin(c->fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	if (!c->elf || !gelf_getehdr(c->elf, &eh)) {
		mlz_error(err, "'%s' is a damaged ELF file: %s", path, elf_errmsg(-1));
		goto fail;
	}
	if (eh.e_type != ET_CORE) {
		mlz_error(err, "'%s' is an ELF %s, not a core file", path,
			  eh.e_type == ET_EXEC ? "executable" : eh.e_type == ET_DYN ? "shared object or PIE" : "file");
		goto fail;
	}
	if (ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		mlz_error(err, "'%s' is a core of another architecture (ELF machine %u, class %u); mlyze reads x86-64 cores",
			  path, eh.e_machine, ident[EI_CLASS]);
		goto fail;
	}
	size_t nph;
	if (elf_getphdrnum(c->elf, &nph) != 0) {
		mlz_error(err, "'%s' has no readable program headers: %s", path, elf_errmsg(-1));
		goto fail;
	}
	c->loads = xcalloc(nph ? nph : 1, sizeof(*c->loads));
	bool have_notes = false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(c->elf, (int)i, &ph)) {
			mlz_error(err, "'%s': program header %zu is unreadable", path, i);
			goto fail;
		}
		if (ph.p_offset > c->size || ph.p_filesz > c->size - ph.p_offset) {
			mlz_error(err,
				  "'%s' is truncated: segment %zu (at 0x%llx) needs bytes up to %llu, the file has %llu",
				  path, i, (unsigned long long)ph.p_vaddr, (unsigned long long)(ph.p_offset + ph.p_filesz),
				  (unsigned long long)c->size);
			goto fail;
		}
		if (ph.p_type == PT_LOAD) {
			/* a damaged size that runs past the top of the address space ends there: every end stays above its start */
			uint64_t memsz = ph.p_memsz > UINT64_MAX - ph.p_vaddr ? UINT64_MAX - ph.p_vaddr : ph.p_memsz;
			c->loads[c->nloads++] = (struct core_load){ ph.p_vaddr, memsz, ph.p_offset, ph.p_filesz, ph.p_flags };
		} else if (ph.p_type == PT_NOTE) {
			Elf_Data *d = elf_getdata_rawchunk(c->elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
			if (!d) {
				mlz_error(err, "'%s': its notes are unreadable: %s", path, elf_errmsg(-1));
				goto fail;
			}
			if (parse_notes(c, d, err) < 0)
				goto fail;
			have_notes = true;
		}
	}
	if (!have_notes || !c->nthreads) {
		mlz_error(err, "'%s' has no thread notes (NT_PRSTATUS): not a process core", path);
		goto fail;
	}
	if (!c->pid)
		c->pid = c->threads[0].tid;
	if (c->exe && check_exe(c, err) < 0)
		goto fail;
	return c;
fail:
	core_free(c);
	return NULL;
}

const char *core_thread_name(const struct core *c, pid_t tid)
{
	for (size_t i = 0; i < c->nthreads; i++)
		if (c->threads[i].tid == tid && c->threads[i].name[0])
			return c->threads[i].name;
	/* NT_PRPSINFO's pr_fname is the comm of the thread group's leader, the kernel's and gcore's alike */
	return tid == c->pid && c->name[0] ? c->name : NULL;
}

/*
 * Bytes of a file mapping that the core did not dump, read from the file
 * (text, read-only data). As mmap does, the page that holds the file's end is
 * filled with zeros and the pages past it cannot be read (SIGBUS in the
 * process): a damaged core's file mapping of 2^47 bytes is then as short as
 * its file, not 2^47 bytes of zeros to scan.
 */
static ssize_t read_from_file(struct core *c, uint64_t addr, void *buf, size_t len)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		struct core_file *f = &c->files[i];
		if (addr < f->start || addr >= f->end)
			continue;
		int fd = __atomic_load_n(&f->fd, __ATOMIC_ACQUIRE);
		if (fd == -1) {
			/*
			 * Opened on first use, perhaps by two threads at once (the graph's
			 * scan): each opens, the first to publish its result wins.
			 * The program may have been named on the command line (it moved, or is elsewhere).
			 */
			const char *p = c->exe && c->exe_path && !strcmp(f->path, c->exe_path) ? c->exe : f->path;
			int mine = open(p, O_RDONLY | O_CLOEXEC), none = -1;
			struct stat st;
			if (mine >= 0 && fstat(mine, &st) == 0)
				__atomic_store_n(&f->size, (uint64_t)st.st_size, __ATOMIC_RELAXED);
			else if (mine >= 0)
				close(mine), mine = -1;
			if (mine < 0)
				mine = -2; /* tried: missing */
			if (__atomic_compare_exchange_n(&f->fd, &none, mine, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				fd = mine;
			} else {
				if (mine >= 0)
					close(mine);
				fd = none;
			}
		}
		if (fd < 0)
			return -1;
		uint64_t size = __atomic_load_n(&f->size, __ATOMIC_RELAXED);
		uint64_t at = f->offset + (addr - f->start), mapped = (size + 4095) & ~4095ull;
		if (at >= mapped || at < f->offset)
			return -1; /* past the page of the file's end (or an offset that wrapped) */
		size_t n = len < f->end - addr ? len : (size_t)(f->end - addr);
		if (n > mapped - at)
			n = (size_t)(mapped - at);
		ssize_t got = pread(fd, buf, n, (off_t)at);
		if (got < (ssize_t)n && got >= 0)
			memset((char *)buf + got, 0, n - (size_t)got); /* past the end of the file: zeros, as mmap gives */
		return got < 0 ? -1 : (ssize_t)n;
	}
	return -1;
}

ssize_t core_read(struct core *c, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		ssize_t n = -1;
		for (size_t i = 0; i < c->nloads; i++) {
			const struct core_load *l = &c->loads[i];
			if (a < l->vaddr || a - l->vaddr >= l->memsz)
				continue;
			uint64_t in = a - l->vaddr, want = len - done;
			if (in < l->filesz) {
				n = (ssize_t)(want < l->filesz - in ? want : l->filesz - in);
				if (pread(c->fd, (char *)buf + done, (size_t)n, (off_t)(l->offset + in)) != n)
					n = -1;
			} else {
				/* not dumped: a file mapping's pages come from the file */
				size_t rest = (size_t)(want < l->memsz - in ? want : l->memsz - in);
				n = read_from_file(c, a, (char *)buf + done, rest);
			}
			break;
		}
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return done ? (ssize_t)done : -1;
}

static int by_start(const void *a, const void *b)
{
	uint64_t x = ((const struct map_entry *)a)->start, y = ((const struct map_entry *)b)->start;
	return x < y ? -1 : x > y;
}

static struct map_entry *add_entry(struct maps *m, uint64_t start, uint64_t end, const char *perms, uint64_t offset,
				   const char *path)
{
	ALLOC_GROW(m->v, m->n + 1, m->alloc);
	struct map_entry *e = &m->v[m->n++];
	memset(e, 0, sizeof(*e));
	e->start = start;
	e->end = end;
	e->offset = offset;
	snprintf(e->perms, sizeof(e->perms), "%s", perms);
	e->path = xstrdup(path);
	return e;
}

static void load_perms(const struct core_load *l, char perms[5])
{
	snprintf(perms, 5, "%c%c%cp", l->flags & PF_R ? 'r' : '-', l->flags & PF_W ? 'w' : '-', l->flags & PF_X ? 'x' : '-');
}

/*
 * The file mappings come from NT_FILE (a core may leave text out of its
 * segments altogether), with the permissions of the segment that covers them
 * when there is one; the other segments are anonymous memory.
 */
int core_maps(const struct core *c, struct maps *m)
{
	char perms[5];
	memset(m, 0, sizeof(*m));
	for (size_t k = 0; k < c->nfiles; k++) {
		const struct core_file *f = &c->files[k];
		snprintf(perms, sizeof(perms), "r--p");
		for (size_t i = 0; i < c->nloads; i++)
			if (c->loads[i].vaddr <= f->start && f->start < c->loads[i].vaddr + c->loads[i].memsz)
				load_perms(&c->loads[i], perms);
		add_entry(m, f->start, f->end, perms, f->offset, f->path);
	}
	for (size_t i = 0; i < c->nloads; i++) {
		const struct core_load *l = &c->loads[i];
		bool file = false;
		for (size_t k = 0; k < c->nfiles && !file; k++)
			file = c->files[k].start < l->vaddr + l->memsz && l->vaddr < c->files[k].end;
		if (file)
			continue;
		load_perms(l, perms);
		add_entry(m, l->vaddr, l->vaddr + l->memsz, perms, 0, "");
	}
	if (m->n)
		qsort(m->v, m->n, sizeof(*m->v), by_start);
	return 0;
}

size_t core_undumped_writable(const struct core *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nloads; i++)
		n += (c->loads[i].flags & PF_W) && c->loads[i].filesz < c->loads[i].memsz;
	return n;
}

void core_close(struct core *c)
{
	core_free(c);
}
