// SPDX-License-Identifier: GPL-3.0-or-later
/* target.c - the one interface to what is inspected: each call goes to the live process's or the core's ops. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "target.h"
#include "target_ops.h"

bool target_readable(const struct target *t)
{
	return t && !t->ops->no_image && (!t->ops->runs || t->state == TARGET_RUNNING || t->state == TARGET_STOPPED ||
		     t->state == TARGET_HELD);
}

bool target_runs(const struct target *t)
{
	return t && t->ops->runs && (t->state == TARGET_RUNNING || t->state == TARGET_STOPPED);
}

bool target_is_process(const struct target *t)
{
	return t && t->ops->runs;
}

bool target_held(const struct target *t)
{
	return t && t->ops->runs && t->state == TARGET_HELD;
}

pid_t target_proc_pid(const struct target *t)
{
	return t->held_tid ? t->held_tid : t->pid;
}

const char *target_kind(const struct target *t)
{
	return t ? t->ops->kind : "process";
}

const char *target_state_name(const struct target *t)
{
	static const char *const states[] = {
		[TARGET_RUNNING] = "running", [TARGET_STOPPED] = "stopped", [TARGET_HELD] = "held at its exit",
		[TARGET_EXITED] = "exited", [TARGET_DETACHED] = "detached",
	};
	if (!t->ops->runs)
		return t->ops->kind;
	bool held = t->state == TARGET_RUNNING && t->nthreads;
	for (size_t i = 0; held && i < t->nthreads; i++)
		held = t->threads[i].held;
	return held ? "stopped by a signal" : states[t->state];
}

void target_describe_exit(const struct target *t, char *buf, size_t len)
{
	int st = t->exit_status;
	if (WIFSIGNALED(st))
		snprintf(buf, len, "was killed by signal %d (SIG%s)", WTERMSIG(st), sigabbrev_np(WTERMSIG(st)));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
}

int target_gone_error(const struct target *t, struct mlz_err *err)
{
	char how[96];
	if (!t)
		return mlz_error_kind(err, MLZ_E_GONE, "no process");
	if (t->ops->no_image)
		return mlz_error(err, "%s", t->ops->no_image_why);
	if (t->state == TARGET_DETACHED)
		return mlz_error_kind(err, MLZ_E_GONE, "detached from process %d", t->pid);
	target_describe_exit(t, how, sizeof(how));
	if (t->state == TARGET_HELD)
		return mlz_error_kind(err, MLZ_E_GONE, "process %d is held at its exit (it %s)", t->pid, how);
	return mlz_error_kind(err, MLZ_E_GONE, "process %d %s", t->pid, how);
}

int target_poll(struct target *t)
{
	return t->ops->poll(t);
}

int target_stop(struct target *t, struct mlz_err *err)
{
	return t->ops->stop(t, err);
}

int target_resume(struct target *t, struct mlz_err *err)
{
	return t->ops->resume(t, err);
}

int target_detach(struct target *t, struct mlz_err *err)
{
	return t->ops->detach(t, err);
}

void target_emergency_detach(struct target *t)
{
	t->ops->emergency_detach(t);
}

ssize_t target_read(struct target *t, uint64_t addr, void *buf, size_t len)
{
	return t->ops->read(t, addr, buf, len);
}

ssize_t target_readv(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n)
{
	return t->ops->readv(t, local, remote, n);
}

ssize_t target_writev(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n)
{
	return t->ops->writev(t, local, remote, n);
}

int target_write(struct target *t, uint64_t addr, const void *buf, size_t len, struct mlz_err *err)
{
	return t->ops->write(t, addr, buf, len, err);
}

int target_regs(struct target *t, pid_t tid, struct user_regs_struct *regs, struct mlz_err *err)
{
	return t->ops->regs(t, tid, regs, err);
}

int target_setregs(struct target *t, pid_t tid, const struct user_regs_struct *regs, struct mlz_err *err)
{
	return t->ops->setregs(t, tid, regs, err);
}

int target_maps(struct target *t, struct maps *m, struct mlz_err *err)
{
	return t->ops->maps(t, m, err);
}

bool target_thread_name(struct target *t, pid_t tid, char *buf, size_t len)
{
	return t->ops->thread_name(t, tid, buf, len);
}

char target_thread_state(struct target *t, pid_t tid)
{
	return t->ops->thread_state(t, tid);
}

void target_facts(struct target *t, struct target_facts *f)
{
	*f = (struct target_facts){ .rss = -1, .pss = -1, .swap = -1 };
	t->ops->facts(t, f);
}

void target_facts_release(struct target_facts *f)
{
	free(f->exe);
	f->exe = NULL;
}

int64_t target_resident(struct target *t, uint64_t lo, uint64_t hi)
{
	return t->ops->resident(t, lo, hi);
}

int target_data_runs(struct target *t, uint64_t lo, uint64_t hi, void (*fn)(void *arg, uint64_t lo, uint64_t hi),
		     void *arg)
{
	return t->ops->data_runs(t, lo, hi, fn, arg);
}

ssize_t target_by_pairs(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n,
			ssize_t (*io)(struct target *t, void *buf, size_t len, uint64_t addr))
{
	ssize_t total = 0;
	for (size_t i = 0; i < n; i++) {
		ssize_t k = io(t, local[i].iov_base, local[i].iov_len, (uint64_t)remote[i].iov_base);
		if (k < 0)
			return total ? total : -1;
		total += k;
		if ((size_t)k < local[i].iov_len)
			break;
	}
	return total;
}

static ssize_t memsrc_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return target_read(ctx, addr, buf, len);
}

static int memsrc_runs(void *ctx, uint64_t lo, uint64_t hi, void (*fn)(void *arg, uint64_t lo, uint64_t hi), void *arg)
{
	return target_data_runs(ctx, lo, hi, fn, arg);
}

struct memsrc target_memsrc(struct target *t)
{
	return (struct memsrc){ memsrc_read, t, memsrc_runs };
}

pid_t target_stopped_thread(const struct target *t)
{
	for (size_t i = 0; i < t->nthreads; i++)
		if (t->threads[i].stopped && !t->threads[i].exiting && !t->threads[i].group_stop && !t->threads[i].in_call)
			return t->threads[i].tid;
	return 0;
}

pid_t target_inject_thread(const struct target *t)
{
	pid_t tid = target_stopped_thread(t);
	for (size_t i = 0; !tid && i < t->nthreads; i++)
		if (t->threads[i].stopped && !t->threads[i].exiting && !t->threads[i].in_call)
			tid = t->threads[i].tid;
	return tid;
}

const struct core *target_core(const struct target *t)
{
	return t->core;
}

void target_free(struct target *t)
{
	if (!t)
		return;
	t->ops->release(t);
	target_twin_free(t);
	seccomp_cache_free(t);
	free(t->threads);
	strbuf_release(&t->notices);
	cleanup_release(&t->cleanup);
	free(t);
}

void target_module_text(struct target *t, uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	struct maps m = { 0 };
	struct mlz_err ignored;
	*lo = *hi = 0;
	if (target_maps(t, &m, &ignored) < 0)
		return;
	const struct map_entry *f = maps_find(&m, addr);
	for (size_t i = 0; f && f->path[0] && i < m.n; i++) {
		const struct map_entry *e = &m.v[i];
		if (e->perms[2] != 'x' || strcmp(e->path, f->path))
			continue;
		if (!*hi || e->start < *lo)
			*lo = e->start;
		if (e->end > *hi)
			*hi = e->end;
	}
	maps_release(&m);
}

int target_calls_allowed(struct target *t, pid_t tid, const struct syscall_spec *calls, size_t n, struct mlz_err *err)
{
	return seccomp_check_calls(t, tid, calls, n, err);
}
