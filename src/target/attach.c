// SPDX-License-Identifier: GPL-3.0-or-later
/* attach.c - getting hold of a process: seize every thread, or launch one; say exactly why not. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "ptrace.h"
#include "target.h"
#include "target_ops.h"
#include "xalloc.h"

void attach_explain_eperm(const struct eperm_facts *f, char *buf, size_t len)
{
	if (f->tracer_pid > 0) {
		snprintf(buf, len, "cannot attach to process %d: it is already traced by process %ld (%s)",
			 f->pid, f->tracer_pid, f->tracer_comm[0] ? f->tracer_comm : "?");
	} else if (!f->cap_sys_ptrace && f->target_uid >= 0 && f->target_uid != f->my_uid) {
		snprintf(buf, len,
			 "cannot attach to process %d: permission denied: it belongs to uid %ld and mlyze runs "
			 "as uid %ld without CAP_SYS_PTRACE (run mlyze as root or as uid %ld)",
			 f->pid, f->target_uid, f->my_uid, f->target_uid);
	} else if (!f->cap_sys_ptrace && f->yama_scope == 1) {
		snprintf(buf, len,
			 "cannot attach to process %d: permission denied by Yama: kernel.yama.ptrace_scope is 1, "
			 "so only a parent may trace its child (run mlyze as root, set "
			 "'sysctl kernel.yama.ptrace_scope=0', or start the target under 'mlyze run')",
			 f->pid);
	} else if (!f->cap_sys_ptrace && f->yama_scope == 2) {
		snprintf(buf, len,
			 "cannot attach to process %d: permission denied by Yama: kernel.yama.ptrace_scope is 2, "
			 "so only a process with CAP_SYS_PTRACE may attach (run mlyze as root)",
			 f->pid);
	} else if (f->yama_scope == 3) {
		snprintf(buf, len,
			 "cannot attach to process %d: permission denied by Yama: kernel.yama.ptrace_scope is 3, "
			 "so no process may attach until the next reboot",
			 f->pid);
	} else if (f->cap_sys_ptrace) {
		snprintf(buf, len,
			 "cannot attach to process %d: permission denied even with CAP_SYS_PTRACE (a security "
			 "module such as SELinux or AppArmor, or a seccomp filter, may forbid it)",
			 f->pid);
	} else {
		snprintf(buf, len,
			 "cannot attach to process %d: permission denied (it may be setuid or not dumpable; "
			 "run mlyze as root)",
			 f->pid);
	}
}

static bool have_cap_sys_ptrace(void)
{
	char *s = read_text_file("/proc/self/status");
	bool have = false;
	char *p = s ? strstr(s, "\nCapEff:") : NULL;
	if (p)
		have = (strtoull(p + 8, NULL, 16) >> 19) & 1; /* CAP_SYS_PTRACE is bit 19 */
	free(s);
	return have;
}

static int yama_scope(void)
{
	char *s = read_text_file("/proc/sys/kernel/yama/ptrace_scope");
	int v = s ? atoi(s) : -1;
	free(s);
	return v;
}

static int explain_eperm(pid_t pid, struct mlz_err *err)
{
	struct eperm_facts f = {
		.pid = pid,
		.tracer_pid = proc_status_field(pid, "TracerPid"),
		.target_uid = proc_status_uid(pid, 1),
		.my_uid = (long)geteuid(),
		.cap_sys_ptrace = have_cap_sys_ptrace(),
		.yama_scope = yama_scope(),
	};
	if (f.tracer_pid > 0)
		proc_comm((pid_t)f.tracer_pid, 0, f.tracer_comm, sizeof(f.tracer_comm));
	mlz_error(err, "x");
	err->errnum = EPERM;
	attach_explain_eperm(&f, err->msg, sizeof(err->msg));
	return -1;
}

static struct target *target_new(pid_t pid)
{
	struct target *t = xcalloc(1, sizeof(*t));
	t->pid = pid;
	t->memfd = -1;
	t->my_policy = -1;
	t->state = TARGET_RUNNING;
	t->ops = &target_live_ops;
	return t;
}

static void add_thread(struct target *t, pid_t tid)
{
	ALLOC_GROW(t->threads, t->nthreads + 1, t->alloc);
	t->threads[t->nthreads++] = (struct thread){ .tid = tid };
}

static bool has_thread(const struct target *t, pid_t tid)
{
	for (size_t i = 0; i < t->nthreads; i++)
		if (t->threads[i].tid == tid)
			return true;
	return false;
}

/* Seize threads until a pass over /proc/PID/task finds none new (threads may be born meanwhile). */
static int seize_all(struct target *t, struct mlz_err *err)
{
	for (int pass = 0; pass < 1000; pass++) {
		pid_t *tids;
		int n = proc_tids(t->pid, &tids);
		if (n < 0)
			return mlz_error_kind(err, MLZ_E_GONE, "process %d exited while mlyze attached", t->pid);
		int added = 0;
		for (int i = 0; i < n; i++) {
			if (has_thread(t, tids[i]))
				continue;
			struct mlz_err e;
			if (pt_seize(tids[i], PT_OPTIONS_DEFAULT, &e) < 0) {
				/* Exited meanwhile: ESRCH, or EPERM while the kernel still lists it. */
				if (e.errnum == ESRCH || (e.errnum == EPERM && proc_thread_ended(t->pid, tids[i])))
					continue;
				/*
				 * EPERM for one born of a thread seized already: ours from
				 * its birth (PTRACE_O_TRACECLONE); its first stop and its
				 * parent's clone event are on their way and find it listed.
				 */
				if (e.errnum != EPERM || proc_status_field(tids[i], "TracerPid") != getpid()) {
					free(tids);
					*err = e;
					return -1;
				}
			}
			add_thread(t, tids[i]);
			added++;
		}
		free(tids);
		if (!added)
			return 0;
	}
	return mlz_error(err, "process %d creates threads faster than mlyze can attach to them", t->pid);
}

struct target *target_attach(pid_t pid, struct mlz_err *err)
{
	if (pid == getpid()) {
		mlz_error(err, "cannot attach to process %d: it is mlyze itself", pid);
		return NULL;
	}
	char state = proc_state(pid, 0);
	if (!state) {
		mlz_error_kind(err, MLZ_E_GONE, "no process with pid %d", pid);
		return NULL;
	}
	/* A leader that exited leaves a 'Z' entry while its other threads run on: not a zombie. */
	long nthreads = proc_status_field(pid, "Threads");
	if ((state == 'Z' || state == 'X') && nthreads <= 1) {
		mlz_error(err, "cannot attach to process %d: it is a zombie (it has exited and waits for its "
			       "parent to reap it)", pid);
		return NULL;
	}
	/*
	 * Its main thread called pthread_exit. The kernel refuses to seize that
	 * thread (EPERM: it has no memory left), and the process's memory and
	 * mappings are no longer reachable through its pid: /proc/PID/maps is
	 * empty, /proc/PID/mem and process_vm_readv answer ESRCH. mlyze reaches a
	 * process through its pid throughout, so it says so instead of blaming a
	 * security module.
	 */
	if (state == 'Z' || state == 'X') {
		mlz_error(err, "cannot attach to process %d: its main thread has exited (pthread_exit) while %ld "
			       "other thread(s) run on; the kernel does not let an exited thread be traced, and the "
			       "process's memory and mappings cannot be read through its pid any more",
			  pid, nthreads - 1);
		return NULL;
	}
	if (proc_is_kernel_thread(pid)) {
		char comm[64];
		proc_comm(pid, 0, comm, sizeof(comm));
		mlz_error(err, "cannot attach to process %d: it is a kernel thread (%s)", pid, comm);
		return NULL;
	}
	if (pt_seize(pid, PT_OPTIONS_DEFAULT, err) < 0) {
		if (err->errnum == EPERM)
			explain_eperm(pid, err);
		else if (err->errnum == ESRCH)
			mlz_error_kind(err, MLZ_E_GONE, "no process with pid %d", pid);
		return NULL;
	}
	struct target *t = target_new(pid);
	add_thread(t, pid);
	if (seize_all(t, err) < 0) {
		struct mlz_err ignored;
		target_detach(t, &ignored);
		target_free(t);
		return NULL;
	}
	return t;
}

struct target *target_launch(char *const argv[], struct mlz_err *err)
{
	int go[2], report[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0) {
		mlz_error_errno(err, errno, "pipe");
		return NULL;
	}
	pid_t pid = fork();
	if (pid < 0) {
		mlz_error_errno(err, errno, "fork");
		return NULL;
	}
	if (pid == 0) {
		/* The program must start as if run by a shell: no mask or ignored signal of ours. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		int e = errno;
		if (write(report[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(report[1]);
	struct target *t = target_new(pid);
	t->launched = true;
	t->launching = true;
	if (pt_seize(pid, PT_OPTIONS_DEFAULT, err) < 0) {
		kill(pid, SIGKILL);
		close(go[1]);
		close(report[0]);
		target_free(t);
		return NULL;
	}
	add_thread(t, pid);
	/* Let the child exec; the report pipe closes on a successful exec. */
	if (write(go[1], "g", 1) != 1)
		kill(pid, SIGKILL);
	close(go[1]);
	int e = 0;
	ssize_t n;
	do
		n = read(report[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == sizeof(e)) {
		mlz_error_errno(err, e, "cannot run '%s'", argv[0]);
		/* The child is exiting with 127: reap it so no zombie stays behind. */
		while (target_runs(t))
			if (target_poll(t) == 0)
				usleep(1000);
		target_free(t);
		return NULL;
	}
	return t;
}
