// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-trim.c - `trim`: call malloc_trim(0) inside the process and say how much RSS it gave back. */
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "cmd.h"
#include "heap.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "sym.h"
#include "target.h"

#define CALL_TIMEOUT_MS 10000

/*
 * What malloc_trim may ask of the kernel (glibc 2.35-2.40), for the seccomp
 * check: madvise(MADV_DONTNEED) on free pages (mtrim, shrink_heap), brk to
 * shrink the main heap (systrim), munmap of a thread arena's empty heap
 * (heap_trim), mmap(PROT_NONE, MAP_FIXED) where heaps shrink that way, and
 * the one look at /proc/sys/vm/overcommit_memory that decides it, whose
 * failure glibc takes in its stride.
 */
static const struct syscall_spec trim_syscalls[] = {
	{ SYS_madvise, 1u << 2, { 0, 0, MADV_DONTNEED } },
	{ SYS_brk },
	{ SYS_munmap },
	{ SYS_mmap, 0x3cu, { 0, 0, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0 } },
	{ SYS_openat, .errno_ok = true },
	{ SYS_read, .errno_ok = true },
	{ SYS_close, .errno_ok = true },
};

static int64_t rss_now(struct target *t)
{
	struct target_facts f;
	target_facts(t, &f);
	target_facts_release(&f);
	return f.rss;
}

/* Stopped: every arena unlocked, or an error naming the one a thread holds. */
static int arenas_unlocked(struct session *s, struct mlz_err *err)
{
	struct heap_report r;
	struct heap_take h;
	struct heap_take_opts o = { session_cancel(s) };
	int ret = heap_walk_target(s->target, s->sym, &o, NULL, NULL, &r, &h, err);
	for (size_t i = 0; ret == 0 && i < r.narenas; i++)
		if (r.arenas[i].mutex)
			ret = mlz_error(err,
					"arena 0x%llx is locked (a thread is inside malloc or free): trim not attempted; "
					"try again",
					(unsigned long long)r.arenas[i].addr);
	heap_report_release(&r);
	heap_take_release(&h);
	return ret;
}

static int cmd_trim_exec(struct cmd_ctx *c)
{
	struct session *s = c->s;
	struct target *t = s->target;
	struct sym *sym = session_sym(s, &c->err);
	if (!sym)
		return -1;
	const char *names[] = { "malloc_trim" }, *module;
	uint64_t fn;
	sym_find_symbols(sym, names, 1, &fn, &module);
	if (!fn)
		return mlz_error(&c->err, "no malloc_trim in this process");
	session_prepare_walk(s);
	int64_t before = rss_now(t);
	if (session_pause(s, &c->err) < 0)
		return -1;
	long ret = 0;
	pid_t tid = 0;
	/* a thread the call can run in: not held in a group-stop (SIGSTOP) or on its way out */
	for (size_t i = 0; i < t->nthreads && !tid; i++)
		if (!t->threads[i].group_stop && !t->threads[i].exiting)
			tid = t->threads[i].tid;
	int r = tid ? arenas_unlocked(s, &c->err) : mlz_error(&c->err, "no thread can run the call (all are stopped by a signal)");
	if (r == 0) {
		r = target_inject_call(t, tid, fn, (const long[6]){ 0 }, trim_syscalls,
				       sizeof(trim_syscalls) / sizeof(trim_syscalls[0]), &ret, CALL_TIMEOUT_MS, &c->err);
		if (r < 0 && c->err.kind == MLZ_E_REFUSED) {
			char why[sizeof(c->err.msg)];
			snprintf(why, sizeof(why), "%s", c->err.msg);
			mlz_error_kind(&c->err, MLZ_E_REFUSED, "%s, which malloc_trim may call: trim not attempted", why);
		}
	}
	struct mlz_err e2;
	if (session_unpause(s, NULL, r < 0 ? &e2 : &c->err) < 0)
		r = -1;
	if (r < 0)
		return -1;
	int64_t after = rss_now(t);
	struct jv *o = jv_object();
	jv_set(o, "released", jv_bool(ret != 0)); /* malloc_trim's own answer */
	jv_set(o, "rss_before", before >= 0 ? jv_int(before) : jv_null());
	jv_set(o, "rss_after", after >= 0 ? jv_int(after) : jv_null());
	jv_set(o, "rss_returned", before >= 0 && after >= 0 ? jv_int(before - after) : jv_null());
	jv_set(o, "thread", jv_int(tid));
	c->result = o;
	return 0;
}

static void cmd_trim_text(const struct jv *o, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	if (jv_get(o, "rss_returned")->kind == JV_INT)
		strbuf_addf(out, "malloc_trim(0) %s; RSS %" PRId64 " KiB -> %" PRId64 " KiB (%" PRId64 " KiB given back)\n",
			    jv_get(o, "released")->u.b ? "released memory" : "found nothing to release",
			    jv_get_int(o, "rss_before", 0) / 1024, jv_get_int(o, "rss_after", 0) / 1024,
			    jv_get_int(o, "rss_returned", 0) / 1024);
	else
		strbuf_addf(out, "malloc_trim(0) %s\n", jv_get(o, "released")->u.b ? "released memory" : "found nothing");
}

static const struct cmd_opt opts[] = { { NULL } };

const struct cmd_entry cmd_trim_entry = {
	.name = "trim",
	.usage = "trim",
	.summary = "call malloc_trim(0) in the process and show the RSS it gave back",
	.help = "Stops the process, checks that no thread holds an arena's lock (a thread inside malloc or "
		"free would make the call wait for ever; then trim is not attempted), and calls glibc's "
		"malloc_trim(0) in the first thread not stopped by a signal, which returns free memory in the middle of the heaps to "
		"the kernel as well as the top. Every register is restored after and the process resumes. "
		"Shows whether glibc released anything and the process's RSS before and after. In a process under "
		"seccomp, trim is refused unless the filter (strict mode never does) lets through, whatever their "
		"arguments, every system call malloc_trim may make: madvise, brk, munmap and mmap, and openat, "
		"read and close, which may fail but not kill.",
	.opts = opts,
	.max_args = 0,
	.flags = CMD_NEEDS_PROCESS,
	.exec = cmd_trim_exec,
	.text = cmd_trim_text,
};
