// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * twin.c - a copy-on-write twin of the stopped process: a raw clone without
 * CLONE_VM injected into one of its threads, held in its first ptrace-stop,
 * and read in place of the process while the process runs on.
 *
 * The twin is a child of the process with exit signal 0: the process gets no
 * SIGCHLD for it and its wait()/waitpid(-1) never see it (only __WALL or
 * __WCLONE waits do). It shares the process's file descriptor table
 * (CLONE_FILES), so it holds no extra reference to any open file: a socket or
 * pipe the process closes meanwhile is closed for its peer as before, and a
 * flock() it drops is dropped. It never runs user code: mlyze kills it in its
 * first stop. Should mlyze die first, PTRACE_O_EXITKILL kills it as the
 * kernel detaches it, and in case that ever failed its registers already
 * point at exit_group(0). Its zombie belongs to the process, not to mlyze:
 * once mlyze has reaped it as its tracer, a wait4(TWIN, __WALL) injected into
 * the process (stopped again for that one call) takes it away.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
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

/*
 * How long the twin may take to report its first stop, and its death after
 * SIGKILL (tearing down its copy of the page tables: about 0.1 s per GiB of
 * heap here). A twin that takes longer is left registered, SIGKILLed, and
 * waited for again at the next analysis or at detach: mlyze never waits long.
 */
#define TWIN_WAIT_MS 2000
#define TWIN_DEATH_MS 2000

struct twin_regs {
	pid_t tid;
	struct user_regs_struct regs;
};

struct twin {
	struct target *t;
	pid_t pid;                     /* the twin, 0 when there is none */
	uint64_t start;                /* its start time (/proc/PID/stat), 0 if unread: its pid may be reused */
	const struct target_ops *base; /* the live process's ops, which the twin stands in front of */
	struct twin_regs *regs;        /* every thread's registers at the fork */
	size_t nregs, alloc;
	int cleanup_id;
	int memfd;         /* /proc/TWIN/mem, which reads it */
	uint64_t insn;     /* a `syscall` instruction in the process's code */
	unsigned insn_gen; /* the address space insn was found in */
	uint64_t stub;     /* our page in the process: the clone's syscall, then exit_group(0); 0 if none */
	unsigned stub_gen; /* the address space stub was mapped in */
	int stub_cleanup;  /* its munmap in the cleanup registry */
	bool reading;      /* the target's ops are the twin's: it stands for the process */
	double clone_ms;   /* how long the last clone's injection took */
	bool died;         /* the event loop reaped it (its death event came to a wait for any child) */
	bool has_ev;       /* ...or took its first stop, kept in ev for wait_twin */
	struct pt_event ev;
};

static struct twin *twin_of(struct target *t)
{
	return t->twin;
}

/*
 * A wait for any child (the live event loop's) took an event of the twin:
 * keep it for the twin's own waits, so the twin is never taken for a thread
 * or a fork child of the process. Returns whether ev was the twin's.
 */
bool target_twin_claim(struct target *t, const struct pt_event *ev)
{
	struct twin *tw = t->twin;
	if (!tw || !tw->pid || ev->tid != tw->pid)
		return false;
	if (ev->kind == PT_EXITED || ev->kind == PT_KILLED) {
		tw->died = true;
	} else {
		tw->ev = *ev;
		tw->has_ev = true;
	}
	return true;
}

/* Wait up to ms for an event of the twin; 1 with *ev, 0 on time out, -1 on error. */
static int wait_twin(struct twin *tw, struct pt_event *ev, double ms)
{
	pid_t pid = tw->pid;
	double t0 = mono_ms();
	if (tw->died) {
		*ev = (struct pt_event){ .tid = pid, .kind = PT_KILLED, .sig = SIGKILL };
		return 1;
	}
	if (tw->has_ev) {
		*ev = tw->ev;
		tw->has_ev = false;
		return 1;
	}
	for (;;) {
		struct mlz_err e;
		int r = pt_wait(pid, WNOHANG, ev, &e);
		if (r != 0)
			return r;
		if (mono_ms() - t0 > ms)
			return 0;
		struct timespec nap = { 0, 100 * 1000 };
		nanosleep(&nap, NULL);
	}
}

/*
 * Kill the twin and reap it as its tracer: it becomes a zombie of the
 * process. Only system calls and waits bounded by TWIN_DEATH_MS in all, so
 * the crash handler's cleanup may use it. Returns 0 when the twin is gone,
 * -1 when it is not dead yet (SIGKILLed all the same: the caller keeps it
 * registered and tries again later).
 */
static int kill_twin(struct twin *tw)
{
	if (!tw->pid)
		return 0;
	/*
	 * Not when its death was seen already: the process may have reaped its
	 * zombie since, and the pid may name another process, or a thread of its own.
	 */
	if (!tw->died)
		kill(tw->pid, SIGKILL);
	double t0 = mono_ms();
	for (;;) {
		struct pt_event ev;
		double left = TWIN_DEATH_MS - (mono_ms() - t0);
		int r = left > 0 ? wait_twin(tw, &ev, left) : 0;
		if (r < 0)
			break; /* ECHILD: reaped already (someone's waitpid(-1, __WALL)) */
		if (r == 0)
			return -1;
		if (ev.kind == PT_EXITED || ev.kind == PT_KILLED)
			break;
		pt_cont(tw->pid, 0, NULL); /* an exit event stop (PTRACE_O_TRACEEXIT): on to its death */
	}
	tw->died = tw->has_ev = false;
	if (tw->memfd >= 0)
		close(tw->memfd);
	tw->memfd = -1;
	return 0;
}

/*
 * Take the twin's zombie away from the process: wait4(pid, NULL, __WALL |
 * WNOHANG, NULL) in its stopped thread tid, which no wait of the process's
 * own ever sees. Returns 0 when reaped.
 */
static int reap_zombie(struct target *t, struct twin *tw, pid_t pid, pid_t tid, struct mlz_err *err)
{
	long args[6] = { pid, 0, __WALL | WNOHANG, 0, 0, 0 }, ret;
	if (tw->insn_gen != t->generation) { /* it executed a new program while the twin was read */
		tw->insn = target_syscall_insn(t);
		tw->insn_gen = t->generation;
		if (!tw->insn)
			return mlz_error(err, "no system call instruction found in process %d's code", t->pid);
	}
	/*
	 * The tracer's wait saw the twin die before the kernel hands its zombie
	 * to its parent: a wait4 at once may find nothing yet (0). Ask again a
	 * few times, a millisecond apart, with the process still stopped.
	 */
	for (int tries = 0;; tries++) {
		/*
		 * Reaped already by the process itself (a __WALL wait), the pid may
		 * be a new child's, whose exit status is the process's to take: only
		 * the twin's own zombie is reaped. The process is stopped, so none
		 * of its waits or forks can come between this look and the wait4.
		 */
		if (tw->start && (proc_stat_field(pid, 22) != tw->start || proc_stat_field(pid, 4) != (uint64_t)t->pid))
			return 0;
		if (target_inject_syscall(t, tid, tw->insn, SYS_wait4, args, &ret, err) < 0)
			return -1;
		if (ret == -ECHILD)
			return 0; /* the process reaped it itself, with a __WALL wait of its own */
		if (ret == pid)
			return 0;
		if (ret != 0 || tries == 100)
			return mlz_error(err, "wait4 for the twin %d in process %d returned %ld", pid, t->pid, ret);
		struct timespec ms = { 0, 1000 * 1000 };
		nanosleep(&ms, NULL);
	}
}

/* The cleanup registry's undo: every thread is stopped; no allocation. */
static int undo_twin(void *arg)
{
	struct twin *tw = arg;
	struct target *t = tw->t;
	pid_t pid = tw->pid;
	if (t->twin == tw && tw->reading)
		t->ops = tw->base;
	tw->reading = false;
	if (kill_twin(tw) < 0)
		return -1; /* SIGKILLed, dying: target_twin_free() tries once more */
	tw->pid = 0;
	tw->cleanup_id = -1;
	pid_t tid = target_stopped_thread(t);
	/* From the crash handler nothing is injected: a zombie child, which runs nothing, stays */
	if (t->emergency || !tid)
		return 0;
	return reap_zombie(t, tw, pid, tid, NULL);
}

/*
 * The twin is read through /proc/TWIN/mem, not process_vm_readv: that pins
 * the pages it reads (FOLL_PIN), and pinning a copy-on-write shared anonymous
 * page, even to read it, makes the kernel unshare it first (gup_must_unshare()
 * in mm/internal.h): every page read would be copied into the twin, which
 * would end up holding the whole heap a second time. /proc/PID/mem takes a
 * plain reference (get_user_pages_remote() without FOLL_PIN): nothing copied.
 */
static ssize_t twin_read(struct target *t, uint64_t addr, void *buf, size_t len)
{
	struct twin *tw = twin_of(t);
	int fd = fd_opened(&tw->memfd);
	if (fd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", tw->pid);
		fd = fd_once(&tw->memfd, path, O_RDONLY | O_CLOEXEC);
	}
	return fd < 0 ? -1 : pread(fd, buf, len, (off_t)addr);
}

static ssize_t twin_read_pair(struct target *t, void *buf, size_t len, uint64_t addr)
{
	return twin_read(t, addr, buf, len);
}

static ssize_t twin_readv(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n)
{
	return target_by_pairs(t, local, remote, n, twin_read_pair);
}

static int twin_regs(struct target *t, pid_t tid, struct user_regs_struct *regs, struct mlz_err *err)
{
	struct twin *tw = twin_of(t);
	for (size_t i = 0; i < tw->nregs; i++) {
		if (tw->regs[i].tid == tid) {
			*regs = tw->regs[i].regs;
			return 0;
		}
	}
	return mlz_error_kind(err, MLZ_E_GONE, "thread %d is not in the twin of process %d", tid, t->pid);
}

static int twin_maps(struct target *t, struct maps *m, struct mlz_err *err)
{
	return proc_maps(twin_of(t)->pid, m, err);
}

static int64_t twin_resident(struct target *t, uint64_t lo, uint64_t hi)
{
	return proc_resident(twin_of(t)->pid, lo, hi);
}

static int twin_data_runs(struct target *t, uint64_t lo, uint64_t hi, void (*fn)(void *arg, uint64_t lo, uint64_t hi),
			  void *arg)
{
	return proc_data_runs(twin_of(t)->pid, lo, hi, fn, arg);
}

/* What the twin does not stand in for goes to the process itself. */
static int twin_poll(struct target *t)
{
	return twin_of(t)->base->poll(t);
}

static int twin_stop(struct target *t, struct mlz_err *err)
{
	return twin_of(t)->base->stop(t, err);
}

static int twin_resume(struct target *t, struct mlz_err *err)
{
	return twin_of(t)->base->resume(t, err);
}

/* Detaching: the process's own detach, whose cleanup run kills the twin (undo_twin). */
static int twin_detach(struct target *t, struct mlz_err *err)
{
	t->ops = twin_of(t)->base;
	return t->ops->detach(t, err);
}

static void twin_emergency_detach(struct target *t)
{
	t->ops = twin_of(t)->base;
	t->ops->emergency_detach(t);
}

static int twin_write(struct target *t, uint64_t addr, const void *buf, size_t len, struct mlz_err *err)
{
	return twin_of(t)->base->write(t, addr, buf, len, err);
}

static ssize_t twin_writev(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n)
{
	return twin_of(t)->base->writev(t, local, remote, n);
}

static int twin_setregs(struct target *t, pid_t tid, const struct user_regs_struct *regs, struct mlz_err *err)
{
	return twin_of(t)->base->setregs(t, tid, regs, err);
}

static bool twin_thread_name(struct target *t, pid_t tid, char *buf, size_t len)
{
	return twin_of(t)->base->thread_name(t, tid, buf, len);
}

static char twin_thread_state(struct target *t, pid_t tid)
{
	return twin_of(t)->base->thread_state(t, tid);
}

static void twin_facts(struct target *t, struct target_facts *f)
{
	twin_of(t)->base->facts(t, f);
}

static void twin_release(struct target *t)
{
	t->ops = twin_of(t)->base;
	t->ops->release(t);
}

static const struct target_ops target_twin_ops = {
	.kind = "process",
	.runs = true,
	.poll = twin_poll,
	.stop = twin_stop,
	.resume = twin_resume,
	.detach = twin_detach,
	.emergency_detach = twin_emergency_detach,
	.read = twin_read,
	.write = twin_write,
	.readv = twin_readv,
	.writev = twin_writev,
	.regs = twin_regs,
	.setregs = twin_setregs,
	.maps = twin_maps,
	.thread_name = twin_thread_name,
	.thread_state = twin_thread_state,
	.facts = twin_facts,
	.resident = twin_resident,
	.data_runs = twin_data_runs,
	.release = twin_release,
};

bool target_twin_active(const struct target *t)
{
	return t && t->twin && t->twin->pid && t->twin->reading;
}

double target_twin_clone_ms(const struct target *t)
{
	return t && t->twin ? t->twin->clone_ms : 0;
}

pid_t target_twin_pid(const struct target *t)
{
	return target_twin_active(t) ? t->twin->pid : 0;
}

/* Every thread's registers as they are now, for the graph's roots and the unwinder. */
static int save_regs(struct target *t, struct twin *tw, struct mlz_err *err)
{
	tw->nregs = 0;
	for (size_t i = 0; i < t->nthreads; i++) {
		if (!t->threads[i].stopped)
			continue;
		ALLOC_GROW(tw->regs, tw->nregs + 1, tw->alloc);
		struct twin_regs *r = &tw->regs[tw->nregs];
		if (pt_getregs(t->threads[i].tid, &r->regs, err) < 0)
			return -1;
		r->tid = t->threads[i].tid;
		tw->nregs++;
	}
	return 0;
}

/* The clone flags: a fork in all but the name, a copy of the memory with the fd table shared and no exit signal. */
#define TWIN_CLONE_FLAGS CLONE_FILES

/*
 * The calls the twin's life needs, asked before any is made: clone (the
 * injection checks it again, exactly), the twin's exit_group should it ever
 * run, and the wait4 that reaps its zombie.
 */
static int calls_allowed(struct target *t, pid_t tid, struct mlz_err *err)
{
	const struct syscall_spec calls[] = {
		{ SYS_clone, 0x1fu, { TWIN_CLONE_FLAGS, 0, 0, 0, 0 }, false },
		{ SYS_exit_group, 1u << 0, { 0 }, false },
		{ SYS_wait4, 0xeu, { 0, 0, __WALL | WNOHANG, 0 }, false },
	};
	return seccomp_check_calls(t, tid, calls, 3, err);
}

/* The twin's first stop has come: from here on, any resume of it is exit_group(0). */
static int arm_twin(struct twin *tw, struct mlz_err *err)
{
	struct user_regs_struct regs;
	if (pt_setoptions(tw->pid, PT_OPTIONS_DEFAULT | PTRACE_O_EXITKILL, err) < 0 ||
	    pt_getregs(tw->pid, &regs, err) < 0)
		return -1;
	regs.rip = tw->insn;
	regs.rax = SYS_exit_group;
	regs.rdi = 0;
	regs.orig_rax = -1; /* no system call restart applies */
	return pt_setregs(tw->pid, &regs, err);
}

/*
 * The clone failed in the kernel: say what refused it, in the words of
 * copy_process()'s failures a process can meet (`man 2 clone`).
 */
static int clone_refused(struct target *t, int errnum, struct mlz_err *err)
{
	switch (errnum) {
	case EAGAIN: /* the pids controller's pids.max, or the real user's RLIMIT_NPROC */
		return mlz_error(err, "a pids limit or RLIMIT_NPROC refused the fork of process %d", t->pid);
	case ENOMEM: /* vm.overcommit_memory=2 counts the copy's writable private memory at once */
		return mlz_error(err, "the kernel refused the memory to fork process %d (overcommit)", t->pid);
	default:
		return mlz_error_errno(err, errnum, "clone in process %d failed", t->pid);
	}
}

/*
 * The last twin did not die in time (target_twin_end): it was SIGKILLed and
 * stays registered; now that the process is stopped, wait for it once more
 * and take its zombie away. -1 if it still lives on.
 */
static int finish_last(struct target *t, struct twin *tw, pid_t tid, struct mlz_err *err)
{
	pid_t pid = tw->pid;
	if (kill_twin(tw) < 0)
		return mlz_error(err, "the twin %d of process %d from the last analysis is still dying", pid, t->pid);
	tw->pid = 0;
	if (tw->cleanup_id >= 0)
		cleanup_forget(&t->cleanup, tw->cleanup_id);
	tw->cleanup_id = -1;
	struct mlz_err e2;
	if (reap_zombie(t, tw, pid, tid, &e2) < 0)
		strbuf_addf(&t->notices, "the twin %d of process %d is left a zombie: %s\n", pid, t->pid, e2.msg);
	return 0;
}

/*
 * Where the clone's syscall instruction is followed by exit_group(0): the
 * twin resumes there, so if mlyze dies between the clone and the twin's
 * first stop (before PTRACE_O_EXITKILL is set on it: the kernel detaches it
 * and it runs), the twin exits before a single instruction of the process's
 * own. The process is single-stepped through the first syscall only.
 */
static const uint8_t stub_code[] = {
	0x0f, 0x05,                   /* syscall: the injected clone */
	0xb8, 0xe7, 0x00, 0x00, 0x00, /* mov $231 (exit_group), %eax */
	0x31, 0xff,                   /* xor %edi, %edi */
	0x0f, 0x05,                   /* syscall */
	0x0f, 0x0b,                   /* ud2: never reached */
};
#define STUB_SIZE 4096

/* The cleanup registry's undo: unmap the stub page (every thread is stopped). */
static int undo_stub(void *arg)
{
	struct twin *tw = arg;
	struct target *t = tw->t;
	pid_t tid = target_inject_thread(t);
	if (tw->stub && tw->stub_gen == t->generation && tw->insn_gen == t->generation && tid) {
		long args[6] = { (long)tw->stub, STUB_SIZE, 0, 0, 0, 0 }, ret;
		/* Kept, and registered, until it goes: the next clone uses it, the next undo tries again. */
		if (target_inject_syscall(t, tid, tw->insn, SYS_munmap, args, &ret, NULL) < 0 || ret != 0)
			return -1;
	} /* else gone with the address space it was in, or no thread can unmap it */
	tw->stub = 0;
	tw->stub_cleanup = -1;
	return 0;
}

/*
 * The process's stub goes as soon as the clone has returned: the twin has a
 * copy of its own, and the process keeps nothing of mlyze's between analyses
 * (with --no-trace, nothing at all).
 */
static void drop_stub(struct target *t, struct twin *tw)
{
	int id = tw->stub_cleanup;
	if (tw->stub && undo_stub(tw) == 0 && id >= 0)
		cleanup_forget(&t->cleanup, id);
}

/*
 * Map the stub page into the process, for one clone. 0 when it is there; -1
 * when it cannot be (a seccomp filter refusing mmap, no memory): the clone
 * then returns into the process's own syscall instruction.
 */
static int map_stub(struct target *t, struct twin *tw, pid_t tid)
{
	if (tw->stub && tw->stub_gen == t->generation)
		return 0;
	struct mlz_err e;
	/* nothing mapped that could not be unmapped: a filter refusing munmap would keep the page for good */
	const struct syscall_spec unmap = { SYS_munmap, 1u << 1, { 0, STUB_SIZE }, false };
	if (seccomp_check_calls(t, tid, &unmap, 1, &e) < 0)
		return -1;
	long args[6] = { 0, STUB_SIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0 }, ret;
	if (target_inject_syscall(t, tid, tw->insn, SYS_mmap, args, &ret, &e) < 0 || (ret < 0 && ret > -4096))
		return -1;
	tw->stub = (uint64_t)ret;
	tw->stub_gen = t->generation;
	/* Registered first, so it is undone after any twin's undo (which may inject through it). */
	tw->stub_cleanup = cleanup_add_func(&t->cleanup, undo_stub, tw);
	uint8_t page[STUB_SIZE];
	memset(page, 0xcc, sizeof(page)); /* int3 past the stub */
	memcpy(page, stub_code, sizeof(stub_code));
	/* /proc/PID/mem writes a read+execute page for its tracer */
	if (target_write(t, tw->stub, page, sizeof(page), &e) < 0) {
		if (tw->stub_cleanup >= 0)
			cleanup_forget(&t->cleanup, tw->stub_cleanup);
		undo_stub(tw);
		return -1;
	}
	return 0;
}

#define TWIN_KILLED_EARLY (-2)
static int start_once(struct target *t, struct twin *tw, pid_t tid, struct mlz_err *err);

int target_twin_start(struct target *t, struct mlz_err *err)
{
	if (t->ops != &target_live_ops || t->state != TARGET_STOPPED)
		return mlz_error(err, "the %s is not a stopped process", target_kind(t));
	pid_t tid = target_stopped_thread(t);
	if (!tid)
		return 1; /* stopped by a signal (SIGSTOP): it would not run meanwhile anyway */
	struct twin *tw = t->twin;
	if (!tw) {
		tw = t->twin = xcalloc(1, sizeof(*tw));
		tw->t = t;
		tw->memfd = -1;
		tw->cleanup_id = -1;
		tw->stub_cleanup = -1;
	}
	if (tw->pid && finish_last(t, tw, tid, err) < 0)
		return -1;
	if (!tw->insn || tw->insn_gen != t->generation) {
		tw->insn = target_syscall_insn(t);
		tw->insn_gen = t->generation;
	}
	if (!tw->insn)
		return mlz_error(err, "no system call instruction found in process %d's code", t->pid);
	if (calls_allowed(t, tid, err) < 0)
		return -1;
	/*
	 * A twin killed from outside before its first stop (someone killing the
	 * process's children) costs another clone, not this analysis's fork:
	 * the process is stopped all along, and the dead one was reaped.
	 */
	for (int tries = 1;; tries++) {
		int r = start_once(t, tw, tid, err);
		if (r != TWIN_KILLED_EARLY)
			return r;
		if (tries == 3)
			return -1;
	}
}

/* One clone of target_twin_start's: 0, -1, or TWIN_KILLED_EARLY (err filled) when a signal killed it before its first stop. */
static int start_once(struct target *t, struct twin *tw, pid_t tid, struct mlz_err *err)
{
	if (save_regs(t, tw, err) < 0)
		return -1;
	long args[6] = { TWIN_CLONE_FLAGS, 0, 0, 0, 0, 0 }, ret;
	uint64_t at = map_stub(t, tw, tid) == 0 ? tw->stub : tw->insn;
	double c0 = mono_ms();
	int cr = target_inject_syscall(t, tid, at, SYS_clone, args, &ret, err);
	tw->clone_ms = mono_ms() - c0;
	drop_stub(t, tw);
	if (cr < 0)
		return -1;
	if (ret < 0)
		return clone_refused(t, (int)-ret, err);
	tw->pid = (pid_t)ret;
	tw->start = proc_stat_field(tw->pid, 22);
	tw->base = t->ops;
	/* Registered before anything else can fail: from here every exit path kills it. */
	tw->cleanup_id = cleanup_add_func(&t->cleanup, undo_twin, tw);
	struct pt_event ev;
	int r = wait_twin(tw, &ev, TWIN_WAIT_MS);
	/* SIGKILLed before its first stop: its exit event (PTRACE_O_TRACEEXIT) comes first, then its death. */
	bool dying = r == 1 && ev.kind == PT_EXIT;
	if (r != 1 || dying || ev.kind == PT_EXITED || ev.kind == PT_KILLED) {
		struct mlz_err e2;
		if (dying) { /* kill_twin takes it again and lets it go on to its death */
			tw->ev = ev;
			tw->has_ev = true;
		}
		if ((r != 1 || dying) && kill_twin(tw) < 0) /* SIGKILLed; stays registered, finished at the next start */
			return mlz_error(err, "the twin %ld of process %d did not stop, nor die", ret, t->pid);
		tw->died = false;
		if (tw->cleanup_id >= 0)
			cleanup_forget(&t->cleanup, tw->cleanup_id);
		tw->cleanup_id = -1;
		tw->pid = 0; /* reaped; its zombie is the process's */
		if (reap_zombie(t, tw, (pid_t)ret, tid, &e2) < 0)
			strbuf_addf(&t->notices, "the twin %ld of process %d is left a zombie: %s\n", ret, t->pid, e2.msg);
		mlz_error(err, "the twin %ld of process %d %s", ret, t->pid,
			  r == 1 ? "died before its first stop" : "did not stop");
		return dying || (r == 1 && ev.kind == PT_KILLED) ? TWIN_KILLED_EARLY : -1;
	}
	if (arm_twin(tw, err) < 0) {
		int id = tw->cleanup_id;
		if (undo_twin(tw) == 0) /* kills it and reaps its zombie */
			cleanup_forget(&t->cleanup, id);
		return -1;
	}
	t->ops = &target_twin_ops;
	tw->reading = true;
	return 0;
}

int target_twin_end(struct target *t, double *stopped_ms, int64_t *alone, struct mlz_err *err)
{
	struct twin *tw = t->twin;
	*stopped_ms = 0;
	*alone = -1;
	if (!tw || !tw->pid || !tw->reading)
		return 0;
	pid_t pid = tw->pid;
	struct proc_mem m;
	struct mlz_err ignored;
	if (proc_memory(pid, &m, &ignored) == 0)
		*alone = m.private_bytes; /* it ran nothing: right after the clone it shared every page */
	t->ops = tw->base;
	tw->reading = false;
	/*
	 * Killed while the process runs: its exit tears down a copy of every page
	 * table, which takes as long as the heap is large. Only its zombie is
	 * left for the short stop after (a waitpid(-1, __WALL) of the process's
	 * own may take it first: then there is nothing left to do). One that
	 * does not die in time stays registered for the next start or the
	 * detach: the analysis read it whole, so its figures stand.
	 */
	if (kill_twin(tw) < 0) {
		strbuf_addf(&t->notices, "the twin %d of process %d is still dying after %d ms: reaped later\n", pid,
			    t->pid, TWIN_DEATH_MS);
		return 0;
	}
	if (tw->cleanup_id >= 0)
		cleanup_forget(&t->cleanup, tw->cleanup_id);
	tw->cleanup_id = -1;
	tw->pid = 0;
	int r = 0;
	if (t->state != TARGET_RUNNING && t->state != TARGET_STOPPED)
		return 0; /* it ended meanwhile; its children went to another reaper */
	double t0 = mono_ms();
	bool was_running = t->state == TARGET_RUNNING;
	if (was_running && target_stop(t, err) < 0)
		return -1;
	pid_t tid = target_stopped_thread(t);
	struct mlz_err e2;
	if (!tid || reap_zombie(t, tw, pid, tid, &e2) < 0)
		strbuf_addf(&t->notices, "the twin %d of process %d is left a zombie: %s\n", pid, t->pid,
			    tid ? e2.msg : "no thread can run a system call");
	if (was_running && target_resume(t, err) < 0)
		r = -1;
	*stopped_ms = mono_ms() - t0;
	return r;
}

void target_twin_free(struct target *t)
{
	struct twin *tw = t->twin;
	if (!tw)
		return;
	if (tw->pid)
		kill_twin(tw);
	free(tw->regs);
	free(tw);
	t->twin = NULL;
}
