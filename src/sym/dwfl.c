// SPDX-License-Identifier: GPL-3.0-or-later
/* dwfl.c - the libdwfl session for a live target or a core: module reports and our own thread callbacks. */
#include <elf.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "strbuf.h"
#include "sym_internal.h"
#include "core.h"
#include "target.h"
#include "xalloc.h"

/* Thread callbacks: threads and registers come from the target, never from libdwfl's ptrace. */
static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	struct sym *s = arg;
	if (!*thread_argp)
		s->next_thread = 0;
	if (s->next_thread >= s->target->nthreads)
		return 0;
	*thread_argp = s;
	return s->target->threads[s->next_thread++].tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	(void)dwfl;
	struct sym *s = arg;
	/* A recorded stack: its thread may have ended since; its registers and copy are all there is. */
	if (s->copy_only && tid == s->regs_tid) {
		*thread_argp = s;
		return true;
	}
	for (size_t i = 0; i < s->target->nthreads; i++) {
		if (s->target->threads[i].tid == tid) {
			*thread_argp = s;
			return true;
		}
	}
	return false;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	(void)dwfl;
	struct sym *s = arg;
	/* Most reads of an unwind fall in the stack copy taken when the unwind began. */
	if (addr >= s->stack_base && addr + 8 <= s->stack_base + s->stack_len)
		memcpy(result, s->stack_copy + (addr - s->stack_base), 8);
	else if (s->copy_only || target_read(s->target, addr, result, 8) != 8)
		return false;
	if (s->word_filter) {
		uint64_t v = *result;
		if (s->word_filter(s->word_filter_arg, addr, &v))
			*result = v;
	}
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct sym *s = thread_arg;
	/* sym_unwind loaded the registers of the one thread it unwinds. */
	if (dwfl_thread_tid(thread) != s->regs_tid)
		return false;
	const struct user_regs_struct *r = &s->regs;
	/* DWARF register numbers of x86-64: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip. */
	Dwarf_Word regs[17] = {
		r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp,
		r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip,
	};
	return dwfl_thread_state_registers(thread, 0, 17, regs);
}

static void detach(Dwfl *dwfl, void *arg)
{
	(void)dwfl;
	(void)arg;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
	.detach = detach,
};

/*
 * The GNU build-id of the module mapped at base, read from the process's
 * memory: the ELF header there, its program headers, the PT_NOTE segments.
 * Returns its length (bits get up to 64 bytes), 0 if the image has none or
 * cannot be read.
 */
static size_t memory_build_id(struct target *t, uint64_t base, uint8_t bits[64])
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	if (target_read(t, base, &eh, sizeof(eh)) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || !eh.e_phnum ||
	    eh.e_phnum > 64)
		return 0;
	size_t len = eh.e_phnum * sizeof(Elf64_Phdr);
	if (target_read(t, base + eh.e_phoff, ph, len) != (ssize_t)len)
		return 0;
	/* base maps file offset 0: the segment that holds it gives the load bias. */
	uint64_t bias = 0;
	bool have_bias = false;
	for (int i = 0; i < eh.e_phnum && !have_bias; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
			bias = base - (ph[i].p_vaddr & ~0xfffull), have_bias = true;
	if (!have_bias)
		return 0;
	for (int i = 0; i < eh.e_phnum; i++) {
		uint8_t notes[4096];
		if (ph[i].p_type != PT_NOTE || !ph[i].p_filesz)
			continue;
		size_t n = ph[i].p_filesz < sizeof(notes) ? ph[i].p_filesz : sizeof(notes);
		if (target_read(t, bias + ph[i].p_vaddr, notes, n) != (ssize_t)n)
			continue;
		size_t align = ph[i].p_align == 8 ? 8 : 4;
		for (size_t at = 0; at + sizeof(Elf64_Nhdr) <= n;) {
			Elf64_Nhdr nh;
			memcpy(&nh, notes + at, sizeof(nh));
			size_t name = at + sizeof(nh);
			size_t desc = name + ((nh.n_namesz + align - 1) & ~(align - 1));
			size_t next = desc + ((nh.n_descsz + align - 1) & ~(align - 1));
			if (nh.n_namesz > n || nh.n_descsz > n || next > n || desc + nh.n_descsz > n)
				break;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && !memcmp(notes + name, "GNU", 4) &&
			    nh.n_descsz && nh.n_descsz <= 64) {
				memcpy(bits, notes + desc, nh.n_descsz);
				return nh.n_descsz;
			}
			at = next;
		}
	}
	return 0;
}

/* bits as hex into out[129]. */
static void hex(char *out, const uint8_t *bits, size_t len)
{
	for (size_t i = 0; i < len && i < 64; i++)
		snprintf(out + 2 * i, 3, "%02x", bits[i]);
	out[2 * (len < 64 ? len : 64)] = 0;
}

/* An ELF open on fd whose build-id is want (any, when want_len is 0), or NULL; got[129] gets the file's. */
static Elf *elf_matching(int fd, const uint8_t *want, size_t want_len, char *got)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return NULL;
	const void *bits;
	ssize_t len = dwelf_elf_gnu_build_id(elf, &bits);
	if (!want_len || (len == (ssize_t)want_len && !memcmp(bits, want, want_len)))
		return elf;
	if (got[0])
		; /* the first file refused, the process's own view, is the one to name */
	else if (len > 0)
		hex(got, bits, (size_t)len);
	else
		snprintf(got, 129, "none");
	elf_end(elf);
	return NULL;
}

/*
 * libdwfl's find_elf for a live process. The path in /proc/PID/maps is the
 * process's: in another mount namespace or root (a container, a chroot) the
 * same path in mlyze's own namespace may be another file, whose symbols would
 * put breakpoints in the wrong place. So the file is opened as the process
 * sees it (proc_open_mapped: the mapping itself, else the path under
 * /proc/PID/root); only then mlyze's own path. A file is taken only if
 * its build-id is the one in the process's memory. None matching, the module
 * has no file: its frames show module+offset, and no breakpoint goes there.
 */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base, char **file_name,
		    Elf **elfp)
{
	struct sym *s = *userdata;
	if (!s || name[0] != '/' || strstr(name, " (deleted)"))
		return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
	pid_t pid = s->target->pid;
	uint8_t want[64];
	size_t want_len = memory_build_id(s->target, base, want);
	char got[129] = "";
	for (int i = 0; i < 2; i++) {
		struct stat st;
		int fd = -1;
		struct maps m = { 0 };
		struct mlz_err ignored;
		if (i == 0 && proc_maps(pid, &m, &ignored) == 0) {
			const struct map_entry *e = maps_find(&m, base);
			if (e && e->start == base && !strcmp(e->path, name))
				fd = proc_open_mapped(pid, e);
			maps_release(&m);
		} else if (i == 1 && stat(name, &st) == 0 && S_ISREG(st.st_mode)) {
			fd = open(name, O_RDONLY | O_CLOEXEC); /* not a device: opening one may block */
		}
		Elf *elf = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? elf_matching(fd, want, want_len, got)
										    : NULL;
		if (!elf) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		/* The process's path names it, for debug files found beside it and in messages. */
		*file_name = xstrdup(name);
		*elfp = elf;
		return fd;
	}
	if (got[0]) {
		char have[129];
		hex(have, want, want_len);
		strbuf_addf(&s->target->notices, "process %d maps '", pid);
		strbuf_add_escaped(&s->target->notices, name);
		strbuf_addf(&s->target->notices,
			    "' with build-id %s, but the file mlyze can open there has build-id %s: its symbols are not used\n",
			    have, got);
	}
	return -1;
}

/*
 * libdwfl's find_elf for a core. The modules keep the names the core gives
 * them (NT_FILE's paths, as /proc/PID/maps had them), so a program started
 * through a symbolic link is named after the file it runs, as live; EXE from
 * the command line only supplies that file's bytes (core_open checked its
 * build-id), where libdwfl would have named the module after EXE.
 */
static int core_find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base, char **file_name,
			 Elf **elfp)
{
	struct sym *s = *userdata;
	const struct core *c = s ? target_core(s->target) : NULL;
	if (!c || !c->exe || !c->exe_path || strcmp(name, c->exe_path) != 0)
		return dwfl_build_id_find_elf(mod, userdata, name, base, file_name, elfp);
	int fd = open(c->exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	*file_name = xstrdup(c->exe); /* where its debug files are looked for */
	return fd;
}

/* Each module gets the sym, for find_elf, before anything asks for its ELF. */
static int set_userdata(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	(void)mod;
	(void)name;
	(void)start;
	if (!*userdata)
		*userdata = arg;
	return DWARF_CB_OK;
}

/*
 * The GNU build-id of the ELF file at path, in hex ("" without one): 0, 1
 * when the file is no ELF file (a mapped locale or cache), -1 with errno
 * when it cannot be opened.
 */
static int file_build_id(const char *path, char out[41])
{
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	int r = 1;
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		const void *bits;
		ssize_t len = dwelf_elf_gnu_build_id(elf, &bits);
		for (ssize_t i = 0; i < len && i < 20; i++)
			snprintf(out + 2 * i, 3, "%02x", ((const unsigned char *)bits)[i]);
		r = 0;
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return r;
}

/*
 * A recording's modules, from their files as they are now, at the addresses
 * they had. A file that cannot be read, or whose build-id is not the one
 * recorded, is left out (its PCs then show as addresses), and said so once;
 * mapped files that are not ELF (locales) never had frames and are passed over.
 */
static int report_recorded(struct sym *s, struct mlz_err *err)
{
	size_t n;
	const struct module_range *mods = target_recorded_modules(s->target, &n);
	dwfl_report_begin(s->dwfl);
	for (size_t i = 0; i < n; i++) {
		char now[41];
		if (mods[i].path[0] != '/')
			continue;
		int r = file_build_id(mods[i].path, now);
		if (r > 0)
			continue;
		if (r == 0 && mods[i].build_id[0] && strcmp(now, mods[i].build_id)) {
			strbuf_addstr(&s->target->notices, "the recording's module '");
			strbuf_add_escaped(&s->target->notices, mods[i].path);
			strbuf_addf(&s->target->notices, "' had build-id %s, the file there now has %s: "
				    "its frames show as addresses\n", mods[i].build_id, now[0] ? now : "none");
			continue;
		}
		if (r < 0 || !dwfl_report_elf(s->dwfl, mods[i].path, mods[i].path, -1, mods[i].start, false)) {
			strbuf_addstr(&s->target->notices, "the recording's module '");
			strbuf_add_escaped(&s->target->notices, mods[i].path);
			strbuf_addf(&s->target->notices, "' cannot be read now (%s): its frames show as addresses\n",
				    r < 0 ? strerror(errno) : dwfl_errmsg(-1));
		}
	}
	if (dwfl_report_end(s->dwfl, NULL, NULL) != 0)
		return mlz_error(err, "cannot report the recording's modules: %s", dwfl_errmsg(-1));
	dwfl_getmodules(s->dwfl, set_userdata, s, 0);
	return 0;
}

static int report(struct sym *s, struct mlz_err *err)
{
	size_t nrec;
	if (target_recorded_modules(s->target, &nrec))
		return report_recorded(s, err);
	dwfl_report_begin(s->dwfl);
	const struct core *c = target_core(s->target);
	if (c) {
		/* The modules from the core's NT_FILE note and link map; ELF files found by build-id or path. */
		int n = dwfl_core_file_report(s->dwfl, c->elf, NULL);
		if (dwfl_report_end(s->dwfl, NULL, NULL) != 0 || n < 0)
			return mlz_error(err, "cannot read the module list of core file '%s': %s", c->path, dwfl_errmsg(-1));
		dwfl_getmodules(s->dwfl, set_userdata, s, 0);
		return 0;
	}
	int r = dwfl_linux_proc_report(s->dwfl, target_proc_pid(s->target));
	if (dwfl_report_end(s->dwfl, NULL, NULL) != 0 || r != 0)
		return mlz_error(err, "cannot read the module list of process %d: %s", s->target->pid,
				 r > 0 ? strerror(r) : dwfl_errmsg(-1));
	dwfl_getmodules(s->dwfl, set_userdata, s, 0);
	return 0;
}

static int open_dwfl(struct sym *s, struct mlz_err *err)
{
	/* Per sym, since --debug-dir changes where separate debug files are looked for. */
	s->callbacks = (Dwfl_Callbacks){
		.find_elf = target_core(s->target) ? core_find_elf : find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.debuginfo_path = &s->debuginfo_path,
	};
	s->dwfl = dwfl_begin(&s->callbacks);
	if (!s->dwfl)
		return mlz_error(err, "libdwfl: %s", dwfl_errmsg(-1));
	if (report(s, err) < 0)
		return -1;
	size_t nrec;
	if (target_recorded_modules(s->target, &nrec))
		return 0; /* a recording has no threads to unwind */
	if (!dwfl_attach_state(s->dwfl, NULL, s->target->pid, &thread_callbacks, s))
		return mlz_error(err, "libdwfl cannot unwind process %d: %s", s->target->pid, dwfl_errmsg(-1));
	s->generation = s->target->generation;
	return 0;
}

/*
 * The lines of /proc/PID/maps that can hold modules (file mappings, the vDSO):
 * heap growth, thread stacks and anonymous mmaps change the maps all the time
 * and must not throw the symbol cache away. Returns NULL if unreadable; caller frees.
 */
static char *module_maps(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	char *text = read_text_file(path);
	if (!text)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, " /") || strstr(line, "[vdso]"))
			strbuf_addf(&sb, "%s\n", line);
	free(text);
	return strbuf_detach(&sb);
}

struct sym *sym_new(struct target *t, const char *debug_dir, struct mlz_err *err)
{
	struct sym *s = xcalloc(1, sizeof(*s));
	s->target = t;
	s->debuginfo_path = debug_dir ? xstrdup(debug_dir) : NULL;
	size_t nrec;
	if (!target_has_image(t) && !target_recorded_modules(t, &nrec))
		return s; /* saved snapshots only: their frames were resolved where they were saved */
	if (open_dwfl(s, err) < 0) {
		sym_free(s);
		return NULL;
	}
	s->maps_text = target_core(t) || target_recorded_modules(t, &nrec) ? NULL : module_maps(target_proc_pid(t));
	return s;
}

int sym_refresh(struct sym *s, struct mlz_err *err)
{
	size_t nrec;
	if (target_core(s->target) || target_recorded_modules(s->target, &nrec) || !target_has_image(s->target))
		return 0; /* a core's or a recording's modules never change; saved snapshots have none */
	if (s->generation != s->target->generation) {
		/* A new program image: nothing of the old modules or cache holds. */
		dwfl_end(s->dwfl);
		s->dwfl = NULL;
		symcache_clear(s);
		sym_cutab_release(s);
		free(s->maps_text);
		s->maps_text = NULL;
		if (open_dwfl(s, err) < 0)
			return -1;
	}
	char *now = module_maps(target_proc_pid(s->target));
	if (!now)
		return mlz_error_errno(err, errno, "cannot read the mappings of process %d", s->target->pid);
	if (s->maps_text && !strcmp(now, s->maps_text)) {
		free(now);
		return 0;
	}
	free(s->maps_text);
	s->maps_text = now;
	/* dwfl_report_begin keeps the modules reported again and drops the unmapped ones. */
	symcache_clear(s);
	sym_cutab_release(s);
	return report(s, err);
}

void sym_free(struct sym *s)
{
	if (!s)
		return;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	symcache_clear(s);
	sym_cutab_release(s);
	sym_saved_release(s);
	u64map_release(&s->cache[0]);
	u64map_release(&s->cache[1]);
	free(s->debuginfo_path);
	free(s->maps_text);
	free(s->stack_copy);
	free(s);
}

void sym_set_word_filter(struct sym *s, bool (*filter)(void *arg, uint64_t addr, uint64_t *val), void *arg)
{
	s->word_filter = filter;
	s->word_filter_arg = arg;
}
