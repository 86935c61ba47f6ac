// SPDX-License-Identifier: GPL-3.0-or-later
/* seccomp_check.c - whether a call mlyze would make in a thread gets past the thread's seccomp filters. */
#include <errno.h>
#include <linux/audit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "ptrace.h"
#include "seccomp.h"
#include "target.h"
#include "target_ops.h"
#include "xalloc.h"

/*
 * The filters last read, with the thread and the count they were read for.
 * Filters are only ever added (to a thread, or by exec, which keeps them), so
 * an unchanged Seccomp_filters count of the same thread means the same
 * programs and the check allocates nothing: the check before unmapping the
 * scratch area runs on every detach path.
 */
struct seccomp_cache {
	pid_t tid;      /* 0: nothing read yet */
	long nfilters;  /* Seccomp_filters when read; -1 (kernel before 5.9): read each time */
	struct seccomp_filters f;
};

void seccomp_cache_free(struct target *t)
{
	if (!t->seccomp)
		return;
	seccomp_filters_release(&t->seccomp->f);
	free(t->seccomp);
	t->seccomp = NULL;
}

/*
 * Make t->seccomp->f hold what tid runs under now. Returns 0, or -1 with err:
 * a refusal (MLZ_E_REFUSED) naming call when the filters cannot be read,
 * MLZ_E_GONE when the thread is.
 */
static int load(struct target *t, pid_t tid, const char *call, struct mlz_err *err)
{
	int mode;
	long count;
	if (proc_seccomp(t->pid, tid, &mode, &count) < 0)
		return mlz_error_kind(err, MLZ_E_GONE, "thread %d is gone", tid);
	if (!t->seccomp)
		t->seccomp = xcalloc(1, sizeof(*t->seccomp));
	struct seccomp_cache *c = t->seccomp;
	if (mode == SECCOMP_MODE_FILTER && c->tid == tid && c->f.mode == mode && count >= 0 && count == c->nfilters)
		return 0;
	seccomp_filters_release(&c->f);
	c->tid = 0;
	c->f.mode = mode;
	if (mode != SECCOMP_MODE_FILTER)
		return 0;
	struct sock_filter *buf = NULL;
	for (unsigned long i = 0;; i++) {
		struct mlz_err e = { 0 };
		long len = pt_seccomp_filter(tid, i, NULL, &e);
		if (len >= 0) {
			buf = xrealloc(buf, (size_t)(len ? len : 1) * sizeof(*buf));
			len = pt_seccomp_filter(tid, i, buf, &e);
		}
		if (len >= 0) {
			seccomp_filters_add(&c->f, buf, (size_t)len);
			continue;
		}
		if (e.errnum == ENOENT && i > 0)
			break; /* past the newest */
		free(buf);
		seccomp_filters_release(&c->f);
		if (e.kind == MLZ_E_GONE)
			return mlz_error_kind(err, MLZ_E_GONE, "%s", e.msg);
		return mlz_error_kind(err, MLZ_E_REFUSED, "cannot read process %d's seccomp filter to check %s (%s%s)",
				      t->pid, call, e.msg,
				      e.errnum == EACCES ? "; reading it needs CAP_SYS_ADMIN, outside seccomp" : "");
	}
	free(buf);
	c->tid = tid;
	c->nfilters = count;
	return 0;
}

/* "process 1234's seccomp filter kills mmap" (or "strict mode") into err as a refusal. */
static int refuse(struct target *t, uint32_t ret, const char *call, struct mlz_err *err)
{
	char what[128];
	seccomp_describe(ret, call, what, sizeof(what));
	return mlz_error_kind(err, MLZ_E_REFUSED, "process %d's seccomp %s %s", t->pid,
			      t->seccomp->f.mode == SECCOMP_MODE_STRICT ? "strict mode" : "filter", what);
}

int seccomp_check_syscall(struct target *t, pid_t tid, long nr, const long args[6], uint64_t ip, struct mlz_err *err)
{
	char nbuf[32];
	const char *call = seccomp_syscall_name(nr, nbuf, sizeof(nbuf));
	if (load(t, tid, call, err) < 0)
		return -1;
	struct seccomp_data d = { .nr = (int)nr, .arch = AUDIT_ARCH_X86_64, .instruction_pointer = ip };
	for (int k = 0; k < 6; k++)
		d.args[k] = (uint64_t)args[k];
	struct seccomp_verdict v;
	seccomp_eval(&t->seccomp->f, &d, &v);
	if (v.bad)
		return mlz_error_kind(err, MLZ_E_REFUSED, "process %d's seccomp filter cannot be evaluated for %s", t->pid,
				      call);
	/*
	 * Anything but running the call is refused: a kill or a trap ends the
	 * thread or the process, and even an errno (or a supervisor's answer)
	 * leaves mlyze without what it asked for.
	 */
	return seccomp_allows(v.ret) ? 0 : refuse(t, v.ret, call, err);
}

int seccomp_check_calls(struct target *t, pid_t tid, const struct syscall_spec *calls, size_t n, struct mlz_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const struct syscall_spec *s = &calls[i];
		char nbuf[32];
		const char *call = seccomp_syscall_name(s->nr, nbuf, sizeof(nbuf));
		if (load(t, tid, call, err) < 0)
			return -1;
		struct seccomp_data d = { .nr = (int)s->nr, .arch = AUDIT_ARCH_X86_64 };
		uint16_t known = SECCOMP_WORDS_NR_ARCH; /* the instruction pointer is the function's business */
		for (int k = 0; k < 6; k++) {
			d.args[k] = (uint64_t)s->args[k];
			if (s->known & (1u << k))
				known |= SECCOMP_WORDS_ARG(k);
		}
		struct seccomp_verdict v;
		seccomp_eval(&t->seccomp->f, &d, &v);
		if (v.bad)
			return mlz_error_kind(err, MLZ_E_REFUSED, "process %d's seccomp filter cannot be evaluated for %s",
					      t->pid, call);
		if (v.loaded & ~known)
			return mlz_error_kind(err, MLZ_E_REFUSED,
					      "process %d's seccomp filter decides %s by arguments mlyze cannot know", t->pid,
					      call);
		if (!seccomp_allows(v.ret) && !(s->errno_ok && seccomp_action_of(v.ret) == SC_ERRNO))
			return refuse(t, v.ret, call, err);
	}
	return 0;
}
