// SPDX-License-Identifier: GPL-3.0-or-later
/* ptrace.c - every ptrace(2) call of mlyze, with errors named by request and ESRCH as "gone". */
#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "ptrace.h"

static int fail(struct mlz_err *err, const char *req, pid_t tid)
{
	int e = errno;
	if (e == ESRCH)
		return mlz_error_kind(err, MLZ_E_GONE, "thread %d is gone (%s)", tid, req);
	return mlz_error_errno(err, e, "%s on thread %d", req, tid);
}

int pt_seize(pid_t tid, unsigned long options, struct mlz_err *err)
{
	if (ptrace(PTRACE_SEIZE, tid, 0L, options) < 0) {
		int e = errno;
		return mlz_error_errno(err, e, "PTRACE_SEIZE on %d", tid);
	}
	return 0;
}

int pt_interrupt(pid_t tid, struct mlz_err *err)
{
	return ptrace(PTRACE_INTERRUPT, tid, 0L, 0L) < 0 ? fail(err, "PTRACE_INTERRUPT", tid) : 0;
}

int pt_cont(pid_t tid, int sig, struct mlz_err *err)
{
	return ptrace(PTRACE_CONT, tid, 0L, (long)sig) < 0 ? fail(err, "PTRACE_CONT", tid) : 0;
}

int pt_singlestep(pid_t tid, int sig, struct mlz_err *err)
{
	return ptrace(PTRACE_SINGLESTEP, tid, 0L, (long)sig) < 0 ? fail(err, "PTRACE_SINGLESTEP", tid) : 0;
}

int pt_listen(pid_t tid, struct mlz_err *err)
{
	return ptrace(PTRACE_LISTEN, tid, 0L, 0L) < 0 ? fail(err, "PTRACE_LISTEN", tid) : 0;
}

int pt_detach(pid_t tid, int sig, struct mlz_err *err)
{
	return ptrace(PTRACE_DETACH, tid, 0L, (long)sig) < 0 ? fail(err, "PTRACE_DETACH", tid) : 0;
}

int pt_getregs(pid_t tid, struct user_regs_struct *regs, struct mlz_err *err)
{
	return ptrace(PTRACE_GETREGS, tid, 0L, regs) < 0 ? fail(err, "PTRACE_GETREGS", tid) : 0;
}

int pt_getsigmask(pid_t tid, uint64_t *mask)
{
	return ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(*mask), mask) < 0 ? -1 : 0;
}

int pt_setsigmask(pid_t tid, uint64_t mask)
{
	return ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask) < 0 ? -1 : 0;
}

int pt_getsiginfo(pid_t tid, siginfo_t *si)
{
	return ptrace(PTRACE_GETSIGINFO, tid, 0L, si) < 0 ? -1 : 0;
}

int pt_setsiginfo(pid_t tid, const siginfo_t *si)
{
	return ptrace(PTRACE_SETSIGINFO, tid, 0L, si) < 0 ? -1 : 0;
}

int pt_setregs(pid_t tid, const struct user_regs_struct *regs, struct mlz_err *err)
{
	return ptrace(PTRACE_SETREGS, tid, 0L, regs) < 0 ? fail(err, "PTRACE_SETREGS", tid) : 0;
}

int pt_setoptions(pid_t tid, unsigned long options, struct mlz_err *err)
{
	return ptrace(PTRACE_SETOPTIONS, tid, 0L, options) < 0 ? fail(err, "PTRACE_SETOPTIONS", tid) : 0;
}

int pt_pokedata(pid_t tid, uint64_t addr, uint64_t word, struct mlz_err *err)
{
	return ptrace(PTRACE_POKEDATA, tid, (void *)addr, (void *)word) < 0 ? fail(err, "PTRACE_POKEDATA", tid) : 0;
}

long pt_seccomp_filter(pid_t tid, unsigned long index, struct sock_filter *buf, struct mlz_err *err)
{
	long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)index, buf);
	return n < 0 ? fail(err, "PTRACE_SECCOMP_GET_FILTER", tid) : n;
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

int pt_wait(pid_t tid, int flags, struct pt_event *ev, struct mlz_err *err)
{
	int status;
	pid_t r;

	do
		r = waitpid(tid, &status, __WALL | flags);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;
		return mlz_error_errno(err, e, "waitpid");
	}
	if (r == 0)
		return 0;

	*ev = (struct pt_event){ .tid = r, .status = status, .kind = PT_OTHER };
	if (WIFEXITED(status)) {
		ev->kind = PT_EXITED;
		ev->code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		ev->kind = PT_KILLED;
		ev->sig = WTERMSIG(status);
	} else if (WIFSTOPPED(status)) {
		int event = (unsigned)status >> 16;
		ev->sig = WSTOPSIG(status);
		switch (event) {
		case 0: ev->kind = PT_SIGNAL; break;
		/*
		 * With PTRACE_SEIZE a group-stop is an EVENT_STOP carrying the stop
		 * signal; our PTRACE_INTERRUPT (and a new thread's first stop)
		 * carries SIGTRAP, as does the re-trap after SIGCONT ends a group-stop.
		 */
		case PTRACE_EVENT_STOP: ev->kind = is_stop_signal(ev->sig) ? PT_GROUP_STOP : PT_INTERRUPT; break;
		case PTRACE_EVENT_CLONE: ev->kind = PT_CLONE; break;
		case PTRACE_EVENT_FORK: ev->kind = PT_FORK; break;
		case PTRACE_EVENT_VFORK: ev->kind = PT_VFORK; break;
		case PTRACE_EVENT_VFORK_DONE: ev->kind = PT_VFORK_DONE; break;
		case PTRACE_EVENT_EXEC: ev->kind = PT_EXEC; break;
		case PTRACE_EVENT_EXIT: ev->kind = PT_EXIT; break;
		default: ev->kind = PT_OTHER; break;
		}
		if (event && event != PTRACE_EVENT_STOP)
			ptrace(PTRACE_GETEVENTMSG, r, 0L, &ev->msg);
	}
	return 1;
}
