// SPDX-License-Identifier: GPL-3.0-or-later
/* target_live.c - a live traced process: its events, stop/resume of all threads, memory and detach. */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fd_once.h"
#include "proc.h"
#include "ptrace.h"
#include "target.h"
#include "target_ops.h"
#include "xalloc.h"

/* The process exists: it has not ended and we have not let go of it. */
static bool exists(const struct target *t)
{
	return t->state == TARGET_RUNNING || t->state == TARGET_STOPPED;
}

/* It exists, or is held at its exit: its events still come and its memory can be read. */
static bool present(const struct target *t)
{
	return exists(t) || t->state == TARGET_HELD;
}


struct thread *target_find_thread(struct target *t, pid_t tid)
{
	for (size_t i = 0; i < t->nthreads; i++)
		if (t->threads[i].tid == tid)
			return &t->threads[i];
	return NULL;
}

static struct thread *add_thread(struct target *t, pid_t tid)
{
	ALLOC_GROW(t->threads, t->nthreads + 1, t->alloc);
	t->threads[t->nthreads] = (struct thread){ .tid = tid };
	return &t->threads[t->nthreads++];
}

/* Drop requeued signals entry i, keeping the others in order. */
static void requeued_drop(struct target *t, size_t i)
{
	memmove(&t->requeued[i], &t->requeued[i + 1], (t->nrequeued - i - 1) * sizeof(t->requeued[0]));
	t->nrequeued--;
}

static void remove_thread(struct target *t, pid_t tid)
{
	for (size_t i = t->nrequeued; i-- > 0;)
		if (t->requeued[i].tid == tid)
			requeued_drop(t, i);
	for (size_t i = 0; i < t->nthreads; i++) {
		if (t->threads[i].tid == tid) {
			t->threads[i] = t->threads[--t->nthreads];
			return;
		}
	}
}

/*
 * One that mlyze held during its own code and sent again (inject.c) says so:
 * tgkill's, from mlyze. It takes the first kept for tid with that number, as
 * the kernel queues them; any other keeps its own.
 */
bool live_signal_info(struct target *t, pid_t tid, int sig, siginfo_t *si)
{
	if (pt_getsiginfo(tid, si) < 0 || si->si_signo != sig) {
		memset(si, 0, sizeof(*si));
		si->si_signo = sig;
	}
	if (si->si_code != SI_TKILL || si->si_pid != getpid())
		return false;
	for (size_t i = 0; i < t->nrequeued; i++) {
		if (t->requeued[i].tid == tid && t->requeued[i].info.si_signo == sig) {
			*si = t->requeued[i].info;
			requeued_drop(t, i);
			return true;
		}
	}
	return false;
}

/* th stopped to be given the process's signal sig: delivered when it resumes, with the siginfo it came with. */
static void take_signal(struct target *t, struct thread *th, int sig)
{
	th->pending_sig = sig;
	if (live_signal_info(t, th->tid, sig, &th->pending_info))
		pt_setsiginfo(th->tid, &th->pending_info);
}

static void process_ended(struct target *t, int status)
{
	char how[96];
	t->state = TARGET_EXITED;
	t->exit_status = status;
	t->nthreads = 0;
	target_describe_exit(t, how, sizeof(how));
	strbuf_addf(&t->notices, "process %d %s\n", t->pid, how);
}

/*
 * The scheduler places a woken thread on an idle CPU in preference to its
 * previous one if that is busy, and mlyze is running on it while it resumes
 * the thread. Counted as idle (SCHED_IDLE) for that one call, mlyze keeps the
 * thread on their shared CPU, where a trap round trip costs a tenth of one
 * across CPUs. But while idle, mlyze runs only when nothing else wants its
 * CPU: with other threads of the target running, or any other load, it would
 * be starved for as long as that lasts, and every trapped thread with it. So
 * the trick is used only when the machine runs nothing but mlyze (sampled
 * from /proc/loadavg every 100 ms) and every other thread of the target waits.
 */
static bool here_is_safe(struct target *t)
{
	double now = mono_ms();
	if (now - t->quiet_at >= 100) {
		char *s = read_text_file("/proc/loadavg");
		long running = 0;
		/* "0.20 0.18 0.12 1/80 11206": the fourth field counts runnable tasks, mlyze among them */
		t->quiet = s && sscanf(s, "%*s %*s %*s %ld/", &running) == 1 && running <= 1;
		free(s);
		t->quiet_at = now;
	}
	if (!t->quiet)
		return false; /* the usual answer under load: no need to look at every thread each trap */
	for (size_t i = 0; i < t->nthreads; i++)
		if (!t->threads[i].stopped)
			return false;
	return true;
}

static void cont_here(struct target *t, pid_t tid, int sig, struct mlz_err *e)
{
	struct sched_param sp = { 0 };
	if (t->my_policy < 0)
		t->my_policy = sched_getscheduler(0);
	if (t->my_policy < 0 || sched_setscheduler(0, SCHED_IDLE, &sp) < 0) {
		pt_cont(tid, sig, e);
		return;
	}
	pt_cont(tid, sig, e);
	sched_setscheduler(0, t->my_policy, &sp);
}

/* Resume one thread the way its stop asks: LISTEN keeps a group-stop a group-stop. */
static void resume_thread(struct target *t, struct thread *th)
{
	struct mlz_err e;
	th->held = th->group_stop;
	if (th->group_stop)
		pt_listen(th->tid, &e);
	else if (t->resume_here && here_is_safe(t))
		cont_here(t, th->tid, th->pending_sig, &e);
	else
		pt_cont(th->tid, th->pending_sig, &e);
	t->resume_here = false;
	th->stopped = false;
	th->group_stop = false;
	th->in_call = false;
	th->pending_sig = 0;
}

static struct child *find_child(struct target *t, pid_t pid)
{
	for (size_t i = 0; i < t->nchildren; i++)
		if (t->children[i].pid == pid)
			return &t->children[i];
	return NULL;
}

static struct child *add_child(struct target *t, pid_t pid)
{
	ALLOC_GROW(t->children, t->nchildren + 1, t->children_alloc);
	t->children[t->nchildren] = (struct child){ .pid = pid };
	return &t->children[t->nchildren++];
}

static void remove_child(struct target *t, pid_t pid)
{
	for (size_t i = 0; i < t->nchildren; i++) {
		if (t->children[i].pid == pid) {
			t->children[i] = t->children[--t->nchildren];
			return;
		}
	}
}

/*
 * A fork child is made safe (our breakpoints taken out of its copy of the
 * memory) and let go. A vfork child shares the target's memory, so it stays
 * ours, its traps served, until it execs or exits; so does a fork child that
 * could not be made safe.
 */
static void settle_child(struct target *t, struct child *c)
{
	struct mlz_err e;
	if (!c->known || !c->stopped)
		return;
	if (!c->vfork && (!t->hooks.on_fork_child || t->hooks.on_fork_child(t->hooks.arg, t, c->pid) == 0)) {
		pt_detach(c->pid, 0, &e);
		remove_child(t, c->pid);
		return;
	}
	c->stopped = false;
	pt_cont(c->pid, 0, &e);
}

/* An event of a process that is not one of the target's threads: a fork or vfork child. */
static void handle_child_event(struct target *t, struct child *c, const struct pt_event *ev)
{
	struct mlz_err e;
	switch (ev->kind) {
	case PT_EXITED:
	case PT_KILLED:
		remove_child(t, c->pid);
		return;
	case PT_EXEC: /* a new address space: none of ours in it */
		pt_detach(c->pid, 0, &e);
		remove_child(t, c->pid);
		return;
	case PT_SIGNAL:
		if (ev->sig == SIGTRAP && c->known && t->hooks.on_sigtrap) {
			struct user_regs_struct regs;
			if (pt_getregs(c->pid, &regs, &e) == 0 &&
			    t->hooks.on_sigtrap(t->hooks.arg, t, c->pid, &regs)) {
				pt_cont(c->pid, 0, &e);
				return;
			}
		}
		if (!c->stopped && c->known) {
			pt_cont(c->pid, ev->sig, &e);
			return;
		}
		break;
	case PT_GROUP_STOP:
		if (c->known && !c->stopped) {
			pt_listen(c->pid, &e);
			return;
		}
		break;
	default:
		if (c->known && c->stopped)
			break;
		if (c->known) {
			pt_cont(c->pid, 0, &e);
			return;
		}
		break;
	}
	/* Its first stop: hold it until we know whether it shares our memory. */
	c->stopped = true;
	settle_child(t, c);
}

static bool is_our_thread(const struct target *t, pid_t tid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d", t->pid, tid);
	return access(path, F_OK) == 0;
}

static bool sig_queued(pid_t pid, pid_t tid, int sig);

/*
 * A thread that will not report an exit stop of its own: gone, a zombie, or
 * with SIGKILL pending, as every other thread is once one calls exit_group
 * (a thread killed so may skip PTRACE_EVENT_EXIT).
 */
static bool thread_dying(const struct target *t, pid_t tid)
{
	return proc_thread_ended(t->pid, tid) || sig_queued(t->pid, tid, SIGKILL);
}

/* No thread will run user code again: the last chance to read the process's memory as it ends. */
static bool all_exiting(const struct target *t)
{
	for (size_t i = 0; i < t->nthreads; i++)
		if (!t->threads[i].exiting && !thread_dying(t, t->threads[i].tid))
			return false;
	return true;
}

/*
 * The last thread stopped at its exit, with the process's memory still there:
 * keep it stopped, so every command that reads the image still can, until
 * mlyze lets go (live_detach). status is what the process exits with (the
 * event's message: a wait status). A process killed by SIGKILL is not held:
 * whoever sent it (the OOM killer) wants the memory back now.
 */
static bool hold_at_exit(struct target *t, int status)
{
	char how[96];
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return false;
	t->state = TARGET_HELD;
	t->exit_status = status;
	target_describe_exit(t, how, sizeof(how));
	strbuf_addf(&t->notices, "process %d %s: held at its exit until mlyze detaches\n", t->pid, how);
	return true;
}

/*
 * A SIGTRAP stop: the tracer's, or the program's own. Returns 0 to deliver it,
 * 1 when there is nothing to deliver (ours, or the thread exited meanwhile),
 * 2 when it is ours and the thread must stay stopped until the event loop has
 * done what the handler asked. *th is found again, since the handler may
 * inject system calls and the thread list move.
 */
static int serve_trap(struct target *t, struct thread **th)
{
	struct user_regs_struct regs;
	struct mlz_err e;
	pid_t tid = (*th)->tid;
	/* Until handled, a crash of mlyze must rewind it to the int3's address (fixup). */
	(*th)->at_trap = true;
	int ours = pt_getregs(tid, &regs, &e) == 0 ? t->hooks.on_sigtrap(t->hooks.arg, t, tid, &regs) : 0;
	*th = target_find_thread(t, tid);
	if (!*th)
		return 1;
	(*th)->at_trap = false;
	return ours;
}

/*
 * Account for one wait event. While running (stopping == false) every stop is
 * resumed at once, with the signal passed on unchanged; while stopping, stops
 * are kept and signals saved to deliver at resume.
 */
void live_handle_event(struct target *t, const struct pt_event *ev, bool stopping)
{
	int hold = 0; /* 2: a trap whose handler wants the thread kept stopped */
	if (target_twin_claim(t, ev))
		return; /* the twin is neither a thread nor a fork child of the process */
	struct thread *th = target_find_thread(t, ev->tid);
	t->nevents++;

	if (!th) {
		struct child *c = find_child(t, ev->tid);
		if (!c && ev->kind != PT_EXITED && ev->kind != PT_KILLED && !is_our_thread(t, ev->tid))
			c = add_child(t, ev->tid); /* its parent's fork event is still to come */
		if (c) {
			handle_child_event(t, c, ev);
			return;
		}
	}
	if (ev->kind == PT_EXITED || ev->kind == PT_KILLED) {
		if (ev->tid == t->pid) /* the leader is reported last: the process is gone */
			process_ended(t, ev->status);
		else
			remove_thread(t, ev->tid);
		return;
	}
	if (!th) /* a new thread's first stop may come before its parent's clone event */
		th = add_thread(t, ev->tid);

	th->stopped = true;
	th->group_stop = false;
	th->held = false;
	th->in_call = ev->kind == PT_CLONE || ev->kind == PT_FORK || ev->kind == PT_VFORK || ev->kind == PT_VFORK_DONE;
	switch (ev->kind) {
	case PT_SIGNAL:
		if (ev->sig == SIGTRAP && t->hooks.on_sigtrap && (hold = serve_trap(t, &th)))
			break; /* ours, or the thread is gone: nothing to deliver */
		take_signal(t, th, ev->sig);
		break;
	case PT_GROUP_STOP:
		th->group_stop = true;
		break;
	case PT_CLONE:
		if (!target_find_thread(t, (pid_t)ev->msg)) {
			struct thread *child = add_thread(t, (pid_t)ev->msg);
			child->stopped = false; /* its first stop is on its way */
			th = target_find_thread(t, ev->tid);
		}
		break;
	case PT_FORK:
	case PT_VFORK: {
		struct child *c = find_child(t, (pid_t)ev->msg);
		if (!c)
			c = add_child(t, (pid_t)ev->msg);
		c->known = true;
		c->parent = ev->tid;
		c->vfork = ev->kind == PT_VFORK;
		settle_child(t, c);
		th = target_find_thread(t, ev->tid);
		break;
	}
	case PT_EXIT: {
		th->exiting = true;
		bool last = t->state != TARGET_HELD && all_exiting(t);
		if (last)
			t->held_tid = th->tid; /* read through it from now on, also for the exit snapshot */
		if (t->hooks.on_thread_exit)
			t->hooks.on_thread_exit(t->hooks.arg, t, th->tid, last);
		th = target_find_thread(t, ev->tid);
		if (last && th && hold_at_exit(t, (int)ev->msg))
			hold = 2;
		break;
	}
	case PT_EXEC:
		/* Every other thread died in the exec; the leader now runs the new program. */
		for (size_t i = 0; i < t->nthreads;) {
			if (t->threads[i].tid != t->pid && t->threads[i].tid != ev->tid)
				t->threads[i] = t->threads[--t->nthreads];
			else
				i++;
		}
		th = target_find_thread(t, ev->tid);
		t->generation++;
		cleanup_release(&t->cleanup); /* what it would restore is gone with the old image */
		if (t->memfd >= 0) { /* /proc/PID/mem opened before the exec still means the old memory */
			close(t->memfd);
			t->memfd = -1;
		}
		if (t->hooks.on_exec)
			t->hooks.on_exec(t->hooks.arg, t);
		th = target_find_thread(t, ev->tid);
		if (t->launching) {
			t->launching = false; /* the exec of `run` itself is no news */
		} else {
			char *exe = proc_exe(t->pid);
			strbuf_addf(&t->notices, "process %d executed a new program: %s\n", t->pid, exe ? exe : "?");
			free(exe);
		}
		break;
	default:
		break;
	}
	if (!stopping && th && hold != 2)
		resume_thread(t, th);
}

/*
 * Threads that trap without pause (several allocating on every CPU) keep the
 * queue from ever emptying: serve it in rounds of at most POLL_BUDGET_MS, so
 * the event loop gets back to signals, input and deadlines in between.
 */
#define POLL_BUDGET_MS 20

static int live_poll(struct target *t)
{
	struct pt_event ev;
	struct mlz_err err;
	double t0 = mono_ms();
	for (int n = 1; present(t) && pt_wait(-1, WNOHANG, &ev, &err) == 1; n++) {
		live_handle_event(t, &ev, t->state == TARGET_STOPPED);
		if (n % 32 == 0 && mono_ms() - t0 >= POLL_BUDGET_MS)
			return 1;
	}
	return 0;
}

static size_t count_running(const struct target *t)
{
	size_t k = 0;
	for (size_t i = 0; i < t->nthreads; i++)
		k += !t->threads[i].stopped;
	return k;
}

/* A thread we wait for that /proc no longer lists will never report: forget it. */
static void drop_vanished(struct target *t)
{
	char path[64];
	for (size_t i = 0; i < t->nthreads;) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d", t->pid, t->threads[i].tid);
		if (!t->threads[i].stopped && access(path, F_OK) != 0 && t->threads[i].tid != t->pid)
			t->threads[i] = t->threads[--t->nthreads];
		else
			i++;
	}
}

/* Decimal digits of v into buf, for building /proc paths where snprintf is off limits (crash handler). */
static char *put_num(char *buf, long v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (n)
		*buf++ = tmp[--n];
	return buf;
}

/*
 * Whether tid has signal sig queued that it has not reported yet: a SIGTRAP
 * from an int3 it hit just as we interrupted it (left queued, it would kill
 * the thread once detached), or the SIGKILL of a group exit. Only system
 * calls, so the crash handler may use it.
 */
static bool sig_queued(pid_t pid, pid_t tid, int sig)
{
	char path[64] = "/proc/", buf[2048], *p = path + 6;
	p = put_num(p, pid);
	memcpy(p, "/task/", 6);
	p = put_num(p + 6, tid);
	memcpy(p, "/status", 8);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *line = strstr(buf, "\nSigPnd:");
	if (!line)
		return false;
	unsigned long long mask = strtoull(line + 9, NULL, 16);
	return mask & (1ull << (sig - 1));
}

/* How long a thread may take to reach a stop (one stuck in uninterruptible sleep never does). */
#define STOP_TIMEOUT_S 10

/* Wait for events until every thread is stopped or the process is gone; -1 after STOP_TIMEOUT_S. */
static int wait_all_stopped(struct target *t, struct mlz_err *err)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	int64_t start_s = mono_ns() / 1000000000; /* compared in the clock's whole seconds (9 to 10 s), as it always was */
	while (exists(t) && count_running(t) > 0) {
		struct pt_event ev;
		struct mlz_err e;
		int r = pt_wait(-1, WNOHANG, &ev, &e);
		if (r == 1) {
			live_handle_event(t, &ev, true);
			continue;
		}
		if (r < 0) { /* ECHILD: nothing left to wait for */
			if (proc_state(t->pid, 0) == 0)
				process_ended(t, 0);
			break;
		}
		if (mono_ns() / 1000000000 - start_s >= STOP_TIMEOUT_S) {
			for (size_t i = 0; i < t->nthreads; i++)
				if (!t->threads[i].stopped)
					return mlz_error(err, "thread %d did not stop within %d s (state %c)",
							 t->threads[i].tid, STOP_TIMEOUT_S,
							 proc_state(t->pid, t->threads[i].tid));
		}
		/* SIGCHLD is blocked (the event loop reads it from a signalfd), so it can be waited for. */
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		if (sigtimedwait(&chld, NULL, &ts) < 0 && errno == EAGAIN)
			drop_vanished(t);
	}
	return 0;
}

/*
 * Let threads with a queued SIGTRAP report it (and the trap be handled) before
 * they count as stopped; and let threads stopped inside a clone or fork
 * (in_call) finish it and stop again on their way out, where their registers
 * are their own. A vfork parent stays: it goes on only when its child execs
 * or exits, and the child is held.
 */
static bool release_unsettled(struct target *t)
{
	bool any = false;
	for (size_t i = 0; i < t->nthreads; i++) {
		struct thread *th = &t->threads[i];
		struct mlz_err e;
		if (!th->stopped || th->group_stop || th->exiting)
			continue;
		if (th->in_call) {
			const struct child *c = NULL;
			for (size_t k = 0; k < t->nchildren && !c; k++)
				if (t->children[k].parent == th->tid && t->children[k].vfork)
					c = &t->children[k];
			if (c || pt_interrupt(th->tid, &e) < 0 || pt_cont(th->tid, th->pending_sig, &e) < 0)
				continue;
		} else if (!sig_queued(t->pid, th->tid, SIGTRAP) || pt_cont(th->tid, th->pending_sig, &e) < 0) {
			continue;
		}
		th->stopped = false;
		th->in_call = false;
		th->pending_sig = 0;
		any = true;
	}
	return any;
}

/* Interrupt every thread and wait until each is stopped with no trap in flight; -1 after the deadline. */
static int stop_all(struct target *t, struct mlz_err *err)
{
	for (size_t i = 0; i < t->nthreads; i++) {
		struct mlz_err e;
		if (!t->threads[i].stopped)
			pt_interrupt(t->threads[i].tid, &e); /* ESRCH: its exit event will tell */
	}
	int r = wait_all_stopped(t, err);
	for (int round = 0; r == 0 && round < 16 && exists(t) && release_unsettled(t); round++)
		r = wait_all_stopped(t, err);
	return r;
}

static int live_stop(struct target *t, struct mlz_err *err)
{
	if (t->state == TARGET_STOPPED || t->state == TARGET_HELD)
		return 0; /* held at its exit, nothing of it runs again */
	if (!exists(t))
		return target_gone_error(t, err);
	int r = stop_all(t, err);
	if (r < 0) {
		/* Let the ones that stopped go on; the late one's stop is resumed when it comes. */
		for (size_t i = 0; i < t->nthreads; i++)
			if (t->threads[i].stopped)
				resume_thread(t, &t->threads[i]);
		return -1;
	}
	if (t->state == TARGET_HELD)
		return 0; /* it reached its exit meanwhile: as still as stopped */
	if (!exists(t))
		return target_gone_error(t, err);
	t->state = TARGET_STOPPED;
	return 0;
}

static int live_resume(struct target *t, struct mlz_err *err)
{
	if (t->state == TARGET_RUNNING || t->state == TARGET_HELD)
		return 0; /* a held thread goes on only when mlyze lets go (live_detach) */
	if (!exists(t))
		return target_gone_error(t, err);
	t->state = TARGET_RUNNING;
	for (size_t i = 0; i < t->nthreads; i++)
		if (t->threads[i].stopped)
			resume_thread(t, &t->threads[i]);
	return 0;
}

/* Let go of fork/vfork children we still hold (their memory is restored by now). */
static void detach_children(struct target *t)
{
	for (size_t i = 0; i < t->nchildren; i++) {
		struct child *c = &t->children[i];
		struct mlz_err e;
		if (!c->stopped && pt_interrupt(c->pid, &e) == 0) {
			struct pt_event ev;
			for (int k = 0; k < 100; k++) {
				if (pt_wait(c->pid, WNOHANG, &ev, &e) == 1) {
					c->stopped = ev.kind != PT_EXITED && ev.kind != PT_KILLED;
					break;
				}
				usleep(1000);
			}
		}
		if (c->stopped && !c->vfork && t->hooks.on_fork_child)
			t->hooks.on_fork_child(t->hooks.arg, t, c->pid); /* a fork child held with our int3s: try again */
		if (c->stopped)
			pt_detach(c->pid, 0, &e);
	}
	t->nchildren = 0;
}

static int write_cb(void *ctx, uint64_t addr, const void *orig, const void *patched, size_t len)
{
	uint8_t now[16];
	if (len <= sizeof(now) && target_read(ctx, addr, now, len) == (ssize_t)len && memcmp(now, patched, len) != 0)
		return 0; /* not ours any more: the code was unloaded and something else lies there */
	return target_write(ctx, addr, orig, len, NULL);
}

/* How long a process let go at its exit may take to end. */
#define RELEASE_TIMEOUT_S 10

/*
 * Let a process held at its exit finish exiting, and wait for its end, so
 * that its wait status is ours (and, for `run`, mlyze's exit status) and its
 * parent's wait() returns it as it would have without mlyze. Nothing needs
 * restoring: no thread of it runs user code again.
 */
static int release_held(struct target *t, struct mlz_err *err)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	cleanup_release(&t->cleanup);
	detach_children(t);
	for (size_t i = 0; i < t->nthreads; i++) {
		struct mlz_err e;
		if (t->threads[i].stopped && pt_cont(t->threads[i].tid, 0, &e) == 0)
			t->threads[i].stopped = false;
	}
	double t0 = mono_ms();
	while (t->state == TARGET_HELD) {
		struct pt_event ev;
		struct mlz_err e;
		int r = pt_wait(-1, WNOHANG, &ev, &e);
		if (r == 1) {
			live_handle_event(t, &ev, false);
			continue;
		}
		if (r < 0) { /* ECHILD: reaped elsewhere; the status it exited with is the one held */
			process_ended(t, t->exit_status);
			break;
		}
		if (mono_ms() - t0 >= RELEASE_TIMEOUT_S * 1000) {
			for (size_t i = 0; i < t->nthreads; i++)
				pt_detach(t->threads[i].tid, 0, &e);
			t->nthreads = 0;
			t->state = TARGET_DETACHED;
			return mlz_error(err, "process %d did not finish exiting within %d s of being let go; detached",
					 t->pid, RELEASE_TIMEOUT_S);
		}
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		sigtimedwait(&chld, NULL, &ts);
	}
	return 0;
}

/*
 * Signals sent again while mlyze's code ran (inject.c), whose siginfo is
 * kept until their thread stops with them: collected before mlyze lets go,
 * or they would arrive with tgkill's. A thread stopped in an event stop (not
 * a group-stop) with no signal of its own reports one it does not block at
 * once, before any instruction of its own.
 */
static void collect_requeued(struct target *t)
{
	for (size_t i = 0; i < t->nthreads && t->nrequeued;) {
		struct thread *th = &t->threads[i++];
		uint64_t mask = 0;
		bool ours = false;
		if (pt_getsigmask(th->tid, &mask) < 0)
			mask = 0;
		for (size_t k = 0; k < t->nrequeued; k++)
			ours |= t->requeued[k].tid == th->tid && !(mask >> (t->requeued[k].info.si_signo - 1) & 1);
		if (!ours || !th->stopped || th->group_stop || th->pending_sig || pt_cont(th->tid, 0, NULL) < 0)
			continue;
		th->stopped = false;
		pid_t tid = th->tid;
		struct pt_event ev;
		/*
		 * Reported at once; should it not be, the thread is stopped as any
		 * other. An event may end a thread and move the others in the
		 * table: the thread is found again by its id.
		 */
		for (int ms = 0; ms < 200; ms++) {
			if (pt_wait(tid, WNOHANG, &ev, NULL) == 1) {
				live_handle_event(t, &ev, true);
				break;
			}
			struct timespec tick = { 0, 1000000 };
			nanosleep(&tick, NULL);
		}
		th = target_find_thread(t, tid);
		if (th && !th->stopped && pt_interrupt(tid, NULL) == 0 && pt_wait(tid, 0, &ev, NULL) == 1)
			live_handle_event(t, &ev, true);
		if (!target_find_thread(t, tid))
			i--; /* it ended: another thread moved into its place, which comes next */
	}
}

static int live_detach(struct target *t, struct mlz_err *err)
{
	if (t->state == TARGET_HELD)
		return release_held(t, err);
	if (!exists(t))
		return t->state == TARGET_DETACHED ? 0 : target_gone_error(t, err);
	/*
	 * A thread that will not stop (stuck in the kernel) must not keep the
	 * others from being restored: its code is written back all the same, and
	 * it finds the original bytes when it returns to user space.
	 */
	struct mlz_err stop_err = { 0 };
	bool all_stopped = t->state == TARGET_STOPPED || stop_all(t, &stop_err) == 0;
	/* It reached its exit while being stopped: nothing left to restore, let it finish. */
	if (t->state == TARGET_HELD)
		return release_held(t, err);
	if (!exists(t))
		return target_gone_error(t, err);
	int failed = cleanup_run(&t->cleanup, write_cb, t);
	collect_requeued(t);
	for (size_t i = 0; i < t->nthreads; i++) {
		struct thread *th = &t->threads[i];
		struct mlz_err e;
		/* A group-stopped thread stays stopped after detach; anything else gets its signal. */
		if (th->stopped)
			pt_detach(th->tid, th->group_stop ? 0 : th->pending_sig, &e);
	}
	detach_children(t);
	t->nthreads = 0;
	t->state = TARGET_DETACHED;
	if (failed)
		return mlz_error(err, "detached from process %d, but %d change(s) could not be undone", t->pid,
				 failed);
	if (!all_stopped)
		return mlz_error(err, "restored process %d, but %s: it stays traced until mlyze exits", t->pid,
				 stop_err.msg);
	return 0;
}

/* Runs in a fatal-signal handler: no allocation, no stdio, bounded waits. */
static void live_emergency_detach(struct target *t)
{
	if (t->state == TARGET_HELD) { /* nothing to restore: let it finish exiting */
		for (size_t i = 0; i < t->nthreads; i++)
			if (t->threads[i].stopped)
				pt_detach(t->threads[i].tid, 0, NULL);
		t->state = TARGET_DETACHED;
		return;
	}
	if (!exists(t))
		return;
	for (size_t i = 0; i < t->nthreads; i++)
		if (!t->threads[i].stopped)
			pt_interrupt(t->threads[i].tid, NULL);
	struct timespec tick = { 0, 1000 * 1000 };
	for (int ms = 0; ms < 2000 && count_running(t) > 0; ms++) {
		struct pt_event ev;
		int r;
		while ((r = pt_wait(-1, WNOHANG, &ev, NULL)) == 1) {
			struct thread *th = target_find_thread(t, ev.tid);
			if (!th) {
				target_twin_claim(t, &ev); /* the twin's death or exit stop, for its undo */
				continue;
			}
			if (ev.kind == PT_EXITED || ev.kind == PT_KILLED) {
				th->stopped = true; /* nothing left to detach */
				th->tid = -1;
				continue;
			}
			th->stopped = true;
			th->group_stop = ev.kind == PT_GROUP_STOP;
			if (ev.kind == PT_SIGNAL)
				th->pending_sig = ev.sig;
		}
		if (r < 0)
			break;
		nanosleep(&tick, NULL);
	}
	/* A trap still queued must be reported, so the cleanup sees the thread at it and rewinds it. */
	for (int round = 0; round < 4; round++) {
		bool any = false;
		for (size_t i = 0; i < t->nthreads; i++) {
			struct thread *th = &t->threads[i];
			if (th->tid <= 0 || th->pending_sig || !th->stopped || th->group_stop ||
			    !sig_queued(t->pid, th->tid, SIGTRAP) || pt_cont(th->tid, 0, NULL) < 0)
				continue;
			struct pt_event ev;
			for (int ms = 0; ms < 500; ms++) {
				if (pt_wait(th->tid, WNOHANG, &ev, NULL) == 1) {
					if (ev.kind == PT_SIGNAL)
						th->pending_sig = ev.sig;
					if (ev.kind == PT_EXITED || ev.kind == PT_KILLED)
						th->tid = -1;
					break;
				}
				nanosleep(&tick, NULL);
			}
			any = true;
		}
		if (!any)
			break;
	}
	t->emergency = true;
	cleanup_run(&t->cleanup, write_cb, t);
	for (size_t i = 0; i < t->nthreads; i++)
		if (t->threads[i].tid > 0)
			pt_detach(t->threads[i].tid, t->threads[i].group_stop ? 0 : t->threads[i].pending_sig, NULL);
	t->state = TARGET_DETACHED;
}

static int open_memfd(struct target *t)
{
	int fd = fd_opened(&t->memfd);
	if (fd >= 0)
		return fd;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", target_proc_pid(t));
	return fd_once(&t->memfd, path, O_RDWR | O_CLOEXEC);
}

static ssize_t live_read(struct target *t, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };
	ssize_t n = process_vm_readv(target_proc_pid(t), &local, 1, &remote, 1, 0);
	if (n >= 0 || (errno != EPERM && errno != ENOSYS))
		return n;
	/* Some kernels and sandboxes refuse process_vm_readv; /proc/PID/mem serves the tracer too. */
	int fd = open_memfd(t);
	return fd < 0 ? -1 : pread(fd, buf, len, (off_t)addr);
}

/* The pairs one at a time, for when process_vm_readv/writev is refused. */
static ssize_t memfd_read(struct target *t, void *buf, size_t len, uint64_t addr)
{
	int fd = open_memfd(t);
	return fd < 0 ? -1 : pread(fd, buf, len, (off_t)addr);
}

static ssize_t memfd_write(struct target *t, void *buf, size_t len, uint64_t addr)
{
	int fd = open_memfd(t);
	return fd < 0 ? -1 : pwrite(fd, buf, len, (off_t)addr);
}

static ssize_t live_readv(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n)
{
	ssize_t r = process_vm_readv(target_proc_pid(t), local, n, remote, n, 0);
	if (r >= 0 || (errno != EPERM && errno != ENOSYS))
		return r;
	return target_by_pairs(t, local, remote, n, memfd_read);
}

static ssize_t live_writev(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n)
{
	ssize_t r = process_vm_writev(target_proc_pid(t), local, n, remote, n, 0);
	if (r >= 0 || (errno != EPERM && errno != ENOSYS))
		return r;
	return target_by_pairs(t, local, remote, n, memfd_write);
}

ssize_t target_read_pid(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = pread(fd, buf, len, (off_t)addr);
	close(fd);
	return n;
}

/* Whole aligned words through POKEDATA, merging the bytes around the range. */
static int poke_bytes(pid_t tid, uint64_t addr, const void *buf, size_t len, struct mlz_err *err)
{
	const uint8_t *src = buf;
	uint64_t start = addr & ~7ull, end = (addr + len + 7) & ~7ull;
	for (uint64_t w = start; w < end; w += 8) {
		uint64_t word = 0;
		struct iovec local = { &word, 8 }, remote = { (void *)w, 8 };
		if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != 8)
			return mlz_error_errno(err, errno, "cannot read memory of %d at 0x%llx", tid, (unsigned long long)w);
		for (int b = 0; b < 8; b++)
			if (w + b >= addr && w + b < addr + len)
				((uint8_t *)&word)[b] = src[w + b - addr];
		if (pt_pokedata(tid, w, word, err) < 0)
			return -1;
	}
	return 0;
}

static int live_write(struct target *t, uint64_t addr, const void *buf, size_t len, struct mlz_err *err)
{
	/* /proc/PID/mem writes even read-only text for its tracer, in one call. */
	int fd = open_memfd(t);
	if (fd >= 0 && pwrite(fd, buf, len, (off_t)addr) == (ssize_t)len)
		return 0;
	return poke_bytes(t->nthreads ? t->threads[0].tid : t->pid, addr, buf, len, err);
}

int target_write_pid(pid_t pid, uint64_t addr, const void *buf, size_t len, struct mlz_err *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)addr);
		close(fd);
		if (n == (ssize_t)len)
			return 0;
	}
	return poke_bytes(pid, addr, buf, len, err);
}

static int live_setregs(struct target *t, pid_t tid, const struct user_regs_struct *regs, struct mlz_err *err)
{
	(void)t;
	return pt_setregs(tid, regs, err);
}

static int live_regs(struct target *t, pid_t tid, struct user_regs_struct *regs, struct mlz_err *err)
{
	if (!present(t))
		return target_gone_error(t, err);
	return pt_getregs(tid, regs, err);
}

static int live_maps(struct target *t, struct maps *m, struct mlz_err *err)
{
	return proc_maps(target_proc_pid(t), m, err);
}

static bool live_thread_name(struct target *t, pid_t tid, char *buf, size_t len)
{
	proc_comm(t->pid, tid, buf, len);
	return buf[0] != 0;
}

static char live_thread_state(struct target *t, pid_t tid)
{
	return present(t) ? proc_state(t->pid, tid) : 0;
}

static void live_facts(struct target *t, struct target_facts *f)
{
	if (!present(t))
		return;
	f->exe = proc_exe(target_proc_pid(t));
	proc_comm(t->pid, 0, f->name, sizeof(f->name));
	struct proc_mem m;
	struct mlz_err ignored;
	if (proc_memory(target_proc_pid(t), &m, &ignored) == 0) {
		f->rss = m.rss;
		f->pss = m.pss;
		f->swap = m.swap;
	}
}

static int64_t live_resident(struct target *t, uint64_t lo, uint64_t hi)
{
	return proc_resident(target_proc_pid(t), lo, hi);
}

static int live_data_runs(struct target *t, uint64_t lo, uint64_t hi, void (*fn)(void *arg, uint64_t lo, uint64_t hi),
			  void *arg)
{
	return proc_data_runs(target_proc_pid(t), lo, hi, fn, arg);
}

static void live_release(struct target *t)
{
	if (t->memfd >= 0)
		close(t->memfd);
	t->memfd = -1;
	free(t->children);
}

const struct target_ops target_live_ops = {
	.kind = "process",
	.runs = true,
	.poll = live_poll,
	.stop = live_stop,
	.resume = live_resume,
	.detach = live_detach,
	.emergency_detach = live_emergency_detach,
	.read = live_read,
	.write = live_write,
	.readv = live_readv,
	.writev = live_writev,
	.regs = live_regs,
	.setregs = live_setregs,
	.maps = live_maps,
	.thread_name = live_thread_name,
	.thread_state = live_thread_state,
	.facts = live_facts,
	.resident = live_resident,
	.data_runs = live_data_runs,
	.release = live_release,
};
