// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * dump.c - write a stopped live process as an ELF core that gdb and
 * `mlyze core` read: NT_PRPSINFO, one NT_PRSTATUS per thread, mlyze's note
 * of thread names, NT_AUXV and NT_FILE in a PT_NOTE, then one PT_LOAD per mapping with the contents of
 * every readable one (pages that cannot be read are written as zeros).
 * Ranges the caller says are not the program's (mlyze's own areas) get no
 * segment: the kernel may have merged them with the program's anonymous
 * mappings, so a mapping is cut around them.
 * The core holds the process's memory, so it goes to a temporary file of
 * mode 0600 next to FILE that takes FILE's name only once it is whole.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cancel.h"
#include "core.h"
#include "memsrc.h"
#include "proc.h"
#include "ranges.h"
#include "savefile.h"
#include "strbuf.h"
#include "target.h"
#include "xalloc.h"

#define PAGE 4096u
#define CHUNK (1u << 20)

/* One note: its owner's name and its desc, each NUL-padded to 4 bytes. */
static void note_of(struct strbuf *sb, const char *owner, uint32_t type, const void *desc, size_t len)
{
	uint32_t namesz = (uint32_t)strlen(owner) + 1;
	uint32_t hdr[3] = { namesz, (uint32_t)len, type };
	static const char pad[4];
	strbuf_add(sb, hdr, sizeof(hdr));
	strbuf_add(sb, owner, namesz);
	strbuf_add(sb, pad, (4 - namesz % 4) % 4);
	strbuf_add(sb, desc, len);
	strbuf_add(sb, pad, (4 - len % 4) % 4);
}

static void note(struct strbuf *sb, uint32_t type, const void *desc, size_t len)
{
	note_of(sb, "CORE", type, desc, len);
}

static char *read_proc(pid_t pid, const char *what, size_t *len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n;
	if (fd < 0)
		return NULL;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(fd);
	*len = sb.len;
	return strbuf_detach(&sb);
}

static void build_notes(struct target *t, const struct maps *m, struct strbuf *sb)
{
	struct elf_prpsinfo ps = { 0 };
	ps.pr_pid = t->pid;
	ps.pr_state = 0;
	ps.pr_sname = 'R';
	proc_comm(t->pid, 0, ps.pr_fname, sizeof(ps.pr_fname));
	size_t len = 0;
	char *cmdline = read_proc(target_proc_pid(t), "cmdline", &len);
	for (size_t i = 0; cmdline && i < len && i + 1 < sizeof(ps.pr_psargs); i++)
		ps.pr_psargs[i] = cmdline[i] ? cmdline[i] : ' ';
	free(cmdline);
	note(sb, NT_PRPSINFO, &ps, sizeof(ps));

	for (size_t i = 0; i < t->nthreads; i++) {
		struct elf_prstatus st = { 0 };
		struct user_regs_struct regs;
		struct mlz_err ignored;
		if (target_regs(t, t->threads[i].tid, &regs, &ignored) < 0)
			continue;
		st.pr_pid = t->threads[i].tid;
		st.pr_ppid = 0;
		memcpy(st.pr_reg, &regs, sizeof(regs));
		note(sb, NT_PRSTATUS, &st, sizeof(st));
	}

	/* Each thread's name, which a Linux core has no note for, so a core shows the names live does. */
	struct strbuf tnames = STRBUF_INIT;
	for (size_t i = 0; i < t->nthreads; i++) {
		char rec[MLYZE_THREAD_RECORD] = { 0 }, comm[16]; /* TASK_COMM_LEN */
		int32_t tid = t->threads[i].tid;
		proc_comm(t->pid, tid, comm, sizeof(comm));
		if (!comm[0])
			continue;
		memcpy(rec, &tid, 4);
		memcpy(rec + 4, comm, strnlen(comm, 15));
		strbuf_add(&tnames, rec, sizeof(rec));
	}
	if (tnames.len)
		note_of(sb, MLYZE_NOTE_OWNER, NT_MLYZE_THREADS, tnames.buf, tnames.len);
	strbuf_release(&tnames);

	char *auxv = read_proc(target_proc_pid(t), "auxv", &len);
	if (auxv)
		note(sb, NT_AUXV, auxv, len);
	free(auxv);

	/* NT_FILE: count, page size, {start, end, page offset} per file mapping, then the names. */
	struct strbuf files = STRBUF_INIT, names = STRBUF_INIT;
	uint64_t count = 0, page = PAGE;
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].path[0] != '/')
			continue;
		uint64_t v[3] = { m->v[i].start, m->v[i].end, m->v[i].offset / PAGE };
		strbuf_add(&files, v, sizeof(v));
		strbuf_add(&names, m->v[i].path, strlen(m->v[i].path) + 1);
		count++;
	}
	struct strbuf desc = STRBUF_INIT;
	strbuf_add(&desc, &count, 8);
	strbuf_add(&desc, &page, 8);
	strbuf_add(&desc, files.buf, files.len);
	strbuf_add(&desc, names.buf, names.len);
	note(sb, NT_FILE, desc.buf, desc.len);
	strbuf_release(&desc);
	strbuf_release(&files);
	strbuf_release(&names);
}

/*
 * Contents of a mapping: what reads, page by page where a larger read fails;
 * zeros for the rest. -1 with errno on a write error, -2 when cancelled.
 */
static int write_mapping(struct target *t, int fd, uint64_t start, uint64_t end, off_t off, uint8_t *buf,
			 struct cancel *cancel)
{
	for (uint64_t a = start; a < end;) {
		if (cancel_poll(cancel, CANCEL_BATCH)) /* a megabyte read and written: the clock each time */
			return -2;
		size_t n = end - a < CHUNK ? (size_t)(end - a) : CHUNK;
		ssize_t got = target_read(t, a, buf, n);
		if (got < (ssize_t)n) {
			/* a page that faults (beyond a file's end, a guard): read the rest one page at a time */
			size_t have = got > 0 ? (size_t)got & ~(size_t)(PAGE - 1) : 0;
			for (size_t p = have; p < n; p += PAGE) {
				size_t want = n - p < PAGE ? n - p : PAGE;
				if (target_read(t, a + p, buf + p, want) != (ssize_t)want)
					memset(buf + p, 0, want);
			}
		}
		/* mlyze's breakpoints are not the program's: the core gets the original bytes */
		for (size_t i = 0; i < t->cleanup.n; i++) {
			const struct cleanup_entry *ce = &t->cleanup.v[i];
			if (!ce->active || ce->kind != CLEANUP_BYTES)
				continue;
			for (size_t b = 0; b < ce->len; b++)
				if (ce->addr + b >= a && ce->addr + b < a + n)
					buf[ce->addr + b - a] = ce->orig[b];
		}
		if (savefile_pwrite_all(fd, buf, n, off) < 0)
			return -1;
		a += n;
		off += (off_t)n;
	}
	return 0;
}

/* A PT_LOAD to be: a mapping, or the part of it outside every skipped range. */
struct seg {
	uint64_t start, end;
	const struct map_entry *e;
};

/*
 * Private memory no file backs: a page never touched holds zeros (a shared
 * one may hold what another process wrote, unseen in this one's pagemap).
 */
static bool anonymous(const struct map_entry *e)
{
	return e->perms[3] != 's' && (!e->path[0] || !strcmp(e->path, "[heap]") || !strcmp(e->path, "[stack]") ||
	       !strncmp(e->path, "[anon:", 6));
}

/*
 * A segment's contents at off. Of anonymous memory only the pages that hold
 * data (present or swapped out) are read, the rest left a hole of the file,
 * zeros as they read: reading a page never touched makes some kernels give
 * the process a page for it, megabytes of idle thread stacks and reserved
 * pools. What the target cannot tell about is read whole.
 */
static int write_segment(struct target *t, int fd, const struct seg *sg, off_t off, uint8_t *buf,
			 struct cancel *cancel)
{
	struct range_list runs = { 0 };
	struct memsrc m = target_memsrc(t);
	if (anonymous(sg->e))
		mem_runs(&m, sg->start, sg->end, &runs);
	else
		range_list_add(&runs, sg->start, sg->end);
	int w = 0;
	for (size_t k = 0; k < runs.n && w == 0; k++)
		w = write_mapping(t, fd, runs.v[k][0], runs.v[k][1], off + (off_t)(runs.v[k][0] - sg->start), buf,
				  cancel);
	free(runs.v);
	return w;
}

/* m's mappings less the ranges in o->skip, in address order; *n gets how many. */
static struct seg *segments(const struct maps *m, const struct target_dump_opts *o, size_t *n)
{
	uint64_t (*skip)[2] = NULL;
	if (o->nskip) {
		skip = xmalloc(o->nskip * sizeof(*skip));
		memcpy(skip, o->skip, o->nskip * sizeof(*skip));
		qsort(skip, o->nskip, sizeof(*skip), range_by_start);
	}
	struct seg *v = NULL;
	size_t nv = 0, alloc = 0;
	for (size_t i = 0; i < m->n; i++) {
		uint64_t at = m->v[i].start, end = m->v[i].end;
		for (size_t k = 0; k < o->nskip && at < end; k++) {
			if (skip[k][1] <= at || skip[k][0] >= end)
				continue;
			if (skip[k][0] > at) {
				ALLOC_GROW(v, nv + 1, alloc);
				v[nv++] = (struct seg){ at, skip[k][0], &m->v[i] };
			}
			at = skip[k][1];
		}
		if (at < end) {
			ALLOC_GROW(v, nv + 1, alloc);
			v[nv++] = (struct seg){ at, end, &m->v[i] };
		}
	}
	free(skip);
	*n = nv;
	return v;
}

static bool dumpable(const struct map_entry *e)
{
	/* [vvar] is kernel data no read reaches; --- mappings (guards, reserved heap space) hold nothing. */
	return e->perms[0] == 'r' && strcmp(e->path, "[vvar]") != 0 && strcmp(e->path, "[vvar_vclock]") != 0;
}

/* The whole core into fd: headers, notes, then each mapping; *bytes is where it ends. */
static int write_core(struct target *t, int fd, const struct seg *sv, size_t nseg, const struct strbuf *notes,
		      const char *path, uint64_t *bytes, struct cancel *cancel, struct mlz_err *err)
{
	size_t phnum = 1 + nseg;
	uint64_t off = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
	Elf64_Phdr *ph = xcalloc(phnum, sizeof(*ph));
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = off, .p_filesz = notes->len, .p_align = 4 };
	off = (off + notes->len + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	for (size_t i = 0; i < nseg; i++) {
		const struct map_entry *e = sv[i].e;
		uint64_t size = sv[i].end - sv[i].start;
		ph[1 + i] = (Elf64_Phdr){
			.p_type = PT_LOAD, .p_offset = off, .p_vaddr = sv[i].start, .p_memsz = size,
			.p_filesz = dumpable(e) ? size : 0, .p_align = PAGE,
			.p_flags = (e->perms[0] == 'r' ? PF_R : 0) | (e->perms[1] == 'w' ? PF_W : 0) |
				   (e->perms[2] == 'x' ? PF_X : 0),
		};
		off += ph[1 + i].p_filesz;
	}
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE },
		.e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT, .e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = (Elf64_Half)phnum,
	};

	int ret = -1;
	uint8_t *buf = NULL;
	if (savefile_pwrite_all(fd, &eh, sizeof(eh), 0) < 0 || savefile_pwrite_all(fd, ph, phnum * sizeof(*ph), sizeof(eh)) < 0 ||
	    savefile_pwrite_all(fd, notes->buf, notes->len, (off_t)ph[0].p_offset) < 0)
		goto out;
	buf = xmalloc(CHUNK);
	for (size_t i = 0; i < nseg; i++) {
		int w = ph[1 + i].p_filesz ? write_segment(t, fd, &sv[i], (off_t)ph[1 + i].p_offset, buf, cancel) : 0;
		if (w == -2) {
			free(buf);
			free(ph);
			return cancel_error(err);
		}
		if (w < 0)
			goto out;
	}
	if (ftruncate(fd, (off_t)off) < 0)
		goto out;
	*bytes = off;
	ret = 0;
out:
	if (ret < 0)
		mlz_error_errno(err, errno, "cannot write '%s'", path);
	free(buf);
	free(ph);
	return ret;
}

int target_dump(struct target *t, const char *path, const struct target_dump_opts *o, uint64_t *bytes,
		struct mlz_err *err)
{
	if (savefile_check(path, o->force, "dump", err) < 0)
		return -1;
	struct maps m = { 0 };
	if (target_maps(t, &m, err) < 0)
		return -1;
	struct strbuf notes = STRBUF_INIT;
	build_notes(t, &m, &notes);
	size_t nseg;
	struct seg *sv = segments(&m, o, &nseg);

	int ret = -1;
	char *tmp = NULL;
	int fd = savefile_create_temp(path, 0600, &tmp, err); /* it holds the process's memory */
	if (fd < 0)
		goto out;
	if (write_core(t, fd, sv, nseg, &notes, path, bytes, o->cancel, err) < 0) {
		close(fd);
	} else if (close(fd) < 0) {
		mlz_error_errno(err, errno, "cannot write '%s'", path);
	} else if (savefile_put_in_place(tmp, path, o->force) < 0) {
		if (errno == EEXIST)
			mlz_error(err, "'%s' exists already; --force replaces it", path);
		else
			mlz_error_errno(err, errno, "cannot write '%s'", path);
	} else {
		ret = 0;
	}
	/* a partial core is no core: never leave one behind, least of all on a full disk */
	if (ret < 0)
		unlink(tmp);
out:
	free(tmp);
	free(sv);
	strbuf_release(&notes);
	maps_release(&m);
	return ret;
}
