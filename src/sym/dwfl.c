// SPDX-License-Identifier: GPL-3.0-or-later
/* dwfl.c - the libdwfl session for a live target: module reports and our own thread callbacks. */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int report(struct sym *s, struct mlz_err *err)
{
	dwfl_report_begin(s->dwfl);
	const struct core *c = target_core(s->target);
	if (c) {
		/* The modules from the core's NT_FILE note and link map; ELF files found by build-id or path. */
		int n = dwfl_core_file_report(s->dwfl, c->elf, c->exe);
		if (dwfl_report_end(s->dwfl, NULL, NULL) != 0 || n < 0)
			return mlz_error(err, "cannot read the module list of core file '%s': %s", c->path, dwfl_errmsg(-1));
		return 0;
	}
	int r = dwfl_linux_proc_report(s->dwfl, target_proc_pid(s->target));
	if (dwfl_report_end(s->dwfl, NULL, NULL) != 0 || r != 0)
		return mlz_error(err, "cannot read the module list of process %d: %s", s->target->pid,
				 r > 0 ? strerror(r) : dwfl_errmsg(-1));
	return 0;
}

static int open_dwfl(struct sym *s, struct mlz_err *err)
{
	/* Per sym, since --debug-dir changes where separate debug files are looked for. */
	s->callbacks = (Dwfl_Callbacks){
		.find_elf = target_core(s->target) ? dwfl_build_id_find_elf : dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.debuginfo_path = &s->debuginfo_path,
	};
	s->dwfl = dwfl_begin(&s->callbacks);
	if (!s->dwfl)
		return mlz_error(err, "libdwfl: %s", dwfl_errmsg(-1));
	if (report(s, err) < 0)
		return -1;
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
	if (open_dwfl(s, err) < 0) {
		sym_free(s);
		return NULL;
	}
	s->maps_text = target_core(t) ? NULL : module_maps(target_proc_pid(t));
	return s;
}

int sym_refresh(struct sym *s, struct mlz_err *err)
{
	if (target_core(s->target))
		return 0; /* a core's modules never change */
	if (s->generation != s->target->generation) {
		/* A new program image: nothing of the old modules or cache holds. */
		dwfl_end(s->dwfl);
		s->dwfl = NULL;
		symcache_clear(s);
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
	return report(s, err);
}

void sym_free(struct sym *s)
{
	if (!s)
		return;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	symcache_clear(s);
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
