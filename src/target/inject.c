// SPDX-License-Identifier: GPL-3.0-or-later
/* inject.c - running a system call or a function call of mlyze's choosing in a stopped thread of the process. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "proc.h"
#include "ptrace.h"
#include "target.h"
#include "target_ops.h"
#include "xalloc.h"

/*
 * A thread running code of mlyze's choosing (an injected system call or
 * function call): its own registers and blocked signals are kept in the
 * cleanup registry while it does, so a crash of mlyze in the middle still puts
 * them back before detaching. Every signal is blocked meanwhile (but those a
 * fault or the single-step raises, which the kernel forces through): one sent
 * to the thread stays pending, with its siginfo, in its order, for the thread
 * to get once it runs its own code again, and none can keep an injected call
 * from ending.
 */
struct injection {
	pid_t tid;
	struct user_regs_struct saved;
	uint64_t mask;  /* its blocked signals */
	bool masked;    /* mask read, and every signal blocked */
	int cleanup_id;
};

static int restore_injected(void *arg)
{
	struct injection *in = arg;
	/* system calls only: safe from the crash handler */
	int r = pt_setregs(in->tid, &in->saved, NULL);
	if (in->masked && pt_setsigmask(in->tid, in->mask) < 0)
		r = -1;
	return r;
}

/*
 * Save tid's registers into *in, register their restore, and give it regs
 * (from the saved ones) with args set. No allocation: the undo path itself
 * injects system calls (unmapping the scratch area), from the crash handler too.
 */
static int inject_begin(struct target *t, struct injection *in, pid_t tid, struct user_regs_struct *regs,
			const long args[6], bool syscall_abi, struct mlz_err *err)
{
	in->tid = tid;
	in->cleanup_id = -1;
	if (pt_getregs(tid, &in->saved, err) < 0)
		return -1;
	*regs = in->saved;
	regs->rdi = args[0];
	regs->rsi = args[1];
	regs->rdx = args[2];
	*(syscall_abi ? &regs->r10 : &regs->rcx) = args[3]; /* the one register the two ABIs differ in */
	regs->r8 = args[4];
	regs->r9 = args[5];
	/* No syscall restart may apply to our state; the saved one restarts as it would have. */
	regs->orig_rax = -1;
	in->masked = pt_getsigmask(tid, &in->mask) == 0;
	in->cleanup_id = cleanup_add_func(&t->cleanup, restore_injected, in);
	if (in->masked)
		in->masked = pt_setsigmask(tid, ~0ull) == 0;
	return 0;
}

/* Put the thread's own registers back (its signals stay blocked until inject_finish). */
static int inject_end(struct injection *in, struct mlz_err *err)
{
	return pt_setregs(in->tid, &in->saved, err);
}

/*
 * Once the thread is parked: its own blocked signals back, and the registry
 * entry dropped. A thread park left running (it does not come back to a stop)
 * is stopped for it first: left with every signal blocked, it would never get
 * one again.
 */
static void inject_finish(struct target *t, struct injection *in)
{
	if (in->masked && pt_setsigmask(in->tid, in->mask) < 0 && target_find_thread(t, in->tid)) {
		struct pt_event ev;
		if (pt_interrupt(in->tid, NULL) < 0 || pt_wait(in->tid, 0, &ev, NULL) != 1 ||
		    (ev.kind != PT_EXITED && ev.kind != PT_KILLED && pt_setsigmask(in->tid, in->mask) < 0))
			strbuf_addf(&t->notices, "thread %d may keep every signal blocked: its mask could not be put back\n",
				    in->tid);
		else if (ev.kind == PT_EXITED || ev.kind == PT_KILLED || ev.kind == PT_SIGNAL)
			live_handle_event(t, &ev, true); /* a signal kept for the resume, as the event loop would */
	}
	if (in->cleanup_id >= 0)
		cleanup_forget(&t->cleanup, in->cleanup_id);
}

/*
 * A signal held back: pending again for tid, as it was; one that cannot be
 * is news, not a silent loss. tgkill makes mlyze its sender: the siginfo it
 * came with is kept (target.h's requeued), and put back when the thread
 * stops with it (target_live.c's take_signal), unless it can be sent with
 * it (below). No allocation: the crash handler's undo injects system calls
 * too.
 */
static void requeue_signal(struct target *t, pid_t tid, const siginfo_t *si)
{
	/*
	 * A siginfo whose si_code is below 0 but tgkill's (sigqueue's, a timer's,
	 * an AIO completion's) the kernel lets any process send as it is: sent
	 * so, it needs nothing kept, even past a detach.
	 */
	if (si->si_code < 0 && si->si_code != SI_TKILL &&
	    syscall(SYS_rt_tgsigqueueinfo, t->pid, tid, si->si_signo, si) == 0)
		return;
	if (syscall(SYS_tgkill, t->pid, tid, si->si_signo) < 0) {
		strbuf_addf(&t->notices, "signal %d for thread %d, held during a call, could not be sent again: %s\n",
			    si->si_signo, tid, strerror(errno));
		return;
	}
	if (t->nrequeued < TARGET_REQUEUED_MAX && (si->si_code || si->si_pid))
		t->requeued[t->nrequeued++] = (struct requeued_sig){ tid, *si };
}

/*
 * The signal tid stopped with before mlyze ran its code there, into *si: the
 * code runs with none, so it is held, to be sent again first. 0 if none.
 */
static int take_pending(struct target *t, pid_t tid, siginfo_t *si)
{
	struct thread *th = target_find_thread(t, tid);
	if (!th || !th->pending_sig)
		return 0;
	if (th->pending_info.si_signo == th->pending_sig) {
		*si = th->pending_info;
	} else {
		memset(si, 0, sizeof(*si));
		si->si_signo = th->pending_sig;
	}
	th->pending_sig = 0;
	return 1;
}

/*
 * Leave a thread that ran an injected call in an event stop, not the signal
 * stop the call ended in (the SIGTRAP of the single-step, the SIGSEGV at rip
 * 0): should mlyze die then, the kernel resumes a thread from a signal stop
 * with that signal, which would kill the process, and from an event stop with
 * none. PTRACE_INTERRUPT then CONT: the kernel checks the trap before running
 * any user code and reports PTRACE_EVENT_STOP. A thread that was in a
 * group-stop (SIGSTOP from outside) reports the group-stop again instead, as
 * the process is still stopped (nothing of the stop is consumed, so its parent
 * hears nothing new), and mlyze may resume it with LISTEN, which only a
 * group-stop takes; if SIGCONT came meanwhile, it reports an ordinary stop of
 * ours, and is resumed as one. A restart from an event stop ignores the
 * signal it is given, so no signal may wait in pending_sig for the resume:
 * the thread's own from a signal stop before the call (before, with those
 * held during it, in the order they came) and any that comes meanwhile are
 * queued to it again (tgkill) once it is parked, and it reports them afresh
 * when it runs (a group-stopped thread after SIGCONT, as untraced), when
 * each gets back the siginfo it first came with (requeue_signal).
 */
static int park(struct target *t, pid_t tid, const siginfo_t *before, size_t nbefore, struct mlz_err *err)
{
	struct thread *th = target_find_thread(t, tid);
	siginfo_t held[8];
	int nheld = 0, r = -1;
	if (pt_interrupt(tid, err) < 0 || pt_cont(tid, 0, err) < 0) {
		for (size_t k = 0; k < nbefore; k++)
			requeue_signal(t, tid, &before[k]);
		return -1;
	}
	for (int tries = 0; tries < 100; tries++) {
		struct pt_event ev;
		if (pt_wait(tid, 0, &ev, err) != 1)
			break;
		if (ev.kind == PT_EXITED || ev.kind == PT_KILLED) {
			live_handle_event(t, &ev, true);
			return target_gone_error(t, err);
		}
		if (ev.kind == PT_GROUP_STOP || ev.kind == PT_INTERRUPT) {
			if (th)
				th->group_stop = ev.kind == PT_GROUP_STOP;
			r = 0;
			break;
		}
		if (ev.kind == PT_SIGNAL) {
			siginfo_t si;
			live_signal_info(t, tid, ev.sig, &si);
			if (nheld < (int)(sizeof(held) / sizeof(held[0])))
				held[nheld++] = si;
			else
				requeue_signal(t, tid, &si);
		}
		if (pt_cont(tid, 0, err) < 0)
			break;
	}
	/* Once parked, so none comes back before the thread runs: the ones from before first, as they came first. */
	for (size_t k = 0; k < nbefore; k++)
		requeue_signal(t, tid, &before[k]);
	for (int k = 0; k < nheld; k++)
		requeue_signal(t, tid, &held[k]);
	if (r < 0 && err && err->kind == MLZ_E_NONE)
		mlz_error(err, "thread %d does not return to a stop of mlyze's", tid);
	return r;
}

int target_inject_syscall(struct target *t, pid_t tid, uint64_t insn, long nr, const long args[6], long *ret,
			  struct mlz_err *err)
{
	struct user_regs_struct regs;
	struct injection inj, *in = &inj;
	siginfo_t held[8];
	int nheld = 0;
	/* The kernel's seccomp_data holds the address after the instruction, as a real call's would. */
	if (seccomp_check_syscall(t, tid, nr, args, insn + 2, err) < 0)
		return -1;
	if (inject_begin(t, in, tid, &regs, args, true, err) < 0)
		return -1;
	regs.rip = insn;
	regs.rax = nr;
	if (pt_setregs(tid, &regs, err) < 0) {
		inject_end(in, NULL);
		inject_finish(t, in);
		return -1;
	}
	nheld = take_pending(t, tid, &held[0]);
	int r = -1;
	for (int tries = 0; tries < 100; tries++) {
		struct pt_event ev;
		if (pt_singlestep(tid, 0, err) < 0 || pt_wait(tid, 0, &ev, err) != 1)
			break;
		if (ev.kind == PT_EXITED || ev.kind == PT_KILLED) {
			live_handle_event(t, &ev, true);
			inject_end(in, NULL);
			inject_finish(t, in);
			return target_gone_error(t, err);
		}
		if (ev.kind == PT_SIGNAL && ev.sig != SIGTRAP) {
			/*
			 * A signal came first: queued to the thread again after the call
			 * (park says why not in pending_sig), and step again.
			 */
			siginfo_t si;
			live_signal_info(t, tid, ev.sig, &si);
			if (nheld < (int)(sizeof(held) / sizeof(held[0])))
				held[nheld++] = si;
			else
				requeue_signal(t, tid, &si);
			continue;
		}
		if (ev.kind != PT_SIGNAL)
			continue;
		if (pt_getregs(tid, &regs, err) < 0)
			break;
		if (regs.rip != insn + 2)
			continue;
		*ret = (long)regs.rax;
		r = 0;
		break;
	}
	struct mlz_err e;
	if (inject_end(in, r < 0 ? &e : err) < 0) {
		inject_finish(t, in);
		return -1;
	}
	if (r < 0 && err->kind == MLZ_E_NONE)
		mlz_error(err, "cannot run system call %ld in thread %d", nr, tid);
	int parked = park(t, tid, held, (size_t)nheld, r < 0 ? &e : err);
	inject_finish(t, in);
	return parked < 0 ? -1 : r;
}

/*
 * Call func(args) in the stopped thread tid, as gdb's inferior calls do but
 * without a dummy frame in its text: the return address is 0, so the return
 * faults, and that SIGSEGV at rip 0 (never delivered) marks the end. Other
 * threads stay stopped; signals for tid meanwhile are kept for later; a trap
 * of ours (a breakpoint inside the call) is served by the hooks. Every register
 * is restored after, and a call that does not return in time is abandoned.
 */
int target_inject_call(struct target *t, pid_t tid, uint64_t func, const long args[6], const struct syscall_spec *may,
		       size_t nmay, long *ret, int timeout_ms, struct mlz_err *err)
{
	struct user_regs_struct regs;
	if (!t->ops->runs)
		return mlz_error(err, "a %s cannot run code", t->ops->kind);
	/* The call returns to 0, an address its shadow stack does not hold: the thread would die. */
	if (proc_has_shadow_stack(t->pid))
		return mlz_error(err, "process %d runs with a CET shadow stack: mlyze cannot call into it", t->pid);
	if (seccomp_check_calls(t, tid, may, nmay, err) < 0)
		return -1;
	struct injection inj, *in = &inj;
	if (inject_begin(t, in, tid, &regs, args, false, err) < 0)
		return -1;
	/* below the red zone, 16-aligned, then the return address: rsp % 16 == 8 as after a call */
	uint64_t sp = ((in->saved.rsp - 1024) & ~15ull) - 8, zero = 0;
	regs.rip = func;
	regs.rsp = sp;
	regs.rax = 0;
	if (target_write(t, sp, &zero, 8, err) < 0 || pt_setregs(tid, &regs, err) < 0) {
		inject_end(in, NULL);
		inject_finish(t, in);
		return -1;
	}
	siginfo_t *requeue = NULL; /* the program's signals during the call, in arrival order */
	size_t nrequeue = 0, requeue_alloc = 0;
	ALLOC_GROW(requeue, 1, requeue_alloc);
	nrequeue = (size_t)take_pending(t, tid, &requeue[0]);
	int r = -1;
	int64_t t0 = mono_ns();
	int sig = 0;
	bool running = false;
	for (;;) {
		struct pt_event ev;
		if (!running) {
			if (pt_cont(tid, sig, err) < 0)
				break;
			running = true;
			sig = 0;
		}
		int w = pt_wait(tid, WNOHANG, &ev, err);
		if (w < 0)
			break;
		if (w == 0) {
			if ((mono_ns() - t0) / 1000000 > timeout_ms) {
				mlz_error(err, "the call in thread %d did not return within %d ms; abandoned", tid, timeout_ms);
				pt_interrupt(tid, NULL);
				struct mlz_err ignored;
				while (pt_wait(tid, 0, &ev, &ignored) == 1 && ev.kind != PT_INTERRUPT && ev.kind != PT_SIGNAL &&
				       ev.kind != PT_GROUP_STOP && ev.kind != PT_EXITED && ev.kind != PT_KILLED)
					pt_cont(tid, 0, &ignored);
				break;
			}
			struct timespec nap = { 0, 200000 };
			nanosleep(&nap, NULL);
			continue;
		}
		running = false;
		if (ev.kind == PT_EXITED || ev.kind == PT_KILLED) {
			live_handle_event(t, &ev, true);
			inject_end(in, NULL);
			inject_finish(t, in);
			free(requeue);
			return target_gone_error(t, err);
		}
		if (ev.kind != PT_SIGNAL)
			continue; /* event stops (clone, ...) of the call: resume */
		if (pt_getregs(tid, &regs, err) < 0)
			break;
		if (ev.sig == SIGSEGV && regs.rip == 0) {
			*ret = (long)regs.rax;
			r = 0;
			break;
		}
		if (ev.sig == SIGTRAP && t->hooks.on_sigtrap && t->hooks.on_sigtrap(t->hooks.arg, t, tid, &regs))
			continue; /* a breakpoint of ours, served */
		if (ev.sig == SIGSEGV || ev.sig == SIGBUS || ev.sig == SIGILL || ev.sig == SIGFPE) {
			mlz_error(err, "the call in thread %d faulted (signal %d at 0x%llx); abandoned", tid, ev.sig,
				  (unsigned long long)regs.rip);
			break;
		}
		/* the program's signal: queued to it again after the call (see park), none lost */
		ALLOC_GROW(requeue, nrequeue + 1, requeue_alloc);
		live_signal_info(t, tid, ev.sig, &requeue[nrequeue++]);
	}
	struct mlz_err e;
	if (inject_end(in, r < 0 ? &e : err) < 0)
		r = -1;
	/* Pending again, for the thread to get as it resumes. */
	if (park(t, tid, requeue, nrequeue, r < 0 ? &e : err) < 0)
		r = -1;
	inject_finish(t, in);
	free(requeue);
	return r;
}

uint64_t target_syscall_insn(struct target *t)
{
	struct maps m = { 0 };
	struct mlz_err err;
	uint64_t found = 0;
	if (proc_maps(t->pid, &m, &err) < 0)
		return 0;
	uint8_t *buf = xmalloc(1 << 20);
	for (size_t i = 0; i < m.n && !found; i++) {
		const struct map_entry *e = &m.v[i];
		if (e->perms[2] != 'x' || e->path[0] != '/')
			continue;
		size_t len = e->end - e->start < (1 << 20) ? e->end - e->start : (1 << 20);
		ssize_t got = target_read(t, e->start, buf, len);
		for (ssize_t k = 0; k + 1 < got; k++) {
			if (buf[k] == 0x0f && buf[k + 1] == 0x05) {
				found = e->start + k;
				break;
			}
		}
	}
	free(buf);
	maps_release(&m);
	return found;
}
