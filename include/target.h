/* SPDX-License-Identifier: GPL-3.0-or-later */
/* target.h - the process under inspection: threads, stop/resume, memory, registers, detach. */
#ifndef MLZ_TARGET_H
#define MLZ_TARGET_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "cancel.h"
#include "cleanup.h"
#include "err.h"
#include "memsrc.h"
#include "proc.h"
#include "strbuf.h"

/*
 * Usage (live):
 *	struct target *t = target_attach(pid, &err);   // every thread seized, running
 *	target_poll(t);                 // on SIGCHLD: pass signals on, follow clones
 *	target_stop(t, &err);           // every thread in a ptrace-stop
 *	target_regs(t, tid, &regs, &err); target_read(t, addr, buf, len);
 *	target_resume(t, &err);
 *	target_detach(t, &err);         // cleanup registry run, every thread detached
 *	target_free(t);
 */
enum target_state {
	TARGET_RUNNING,  /* threads run; events are handled as they come */
	TARGET_STOPPED,  /* every thread is in a ptrace-stop of ours */
	TARGET_HELD,     /* its last thread is held at its exit event: memory intact, nothing runs again */
	TARGET_EXITED,   /* the process is gone; exit_status says how */
	TARGET_DETACHED, /* we let go of it; it runs on */
};

struct target;
struct target_ops;
struct core;
struct seccomp_cache;

struct thread {
	pid_t tid;
	bool stopped;    /* in a ptrace-stop right now */
	bool group_stop; /* that stop is a group-stop: resume with LISTEN, not CONT */
	bool exiting;    /* reported PTRACE_EVENT_EXIT */
	bool at_trap;    /* stopped at a SIGTRAP that mlyze is handling right now */
	bool held;       /* let go with LISTEN in a group-stop: stopped by a signal (SIGSTOP), not by us */
	/*
	 * Stopped at a clone, fork or vfork event: inside the system call, whose
	 * return value the kernel writes into rax only when the thread goes on.
	 * Registers saved here and put back later would lose it (a clone that
	 * "failed" with -ENOSYS after it made its thread, and glibc making the
	 * thread again on the same stack), so nothing is injected into such a
	 * thread; stopping lets it finish the call first. At an exec event rax
	 * already holds the 0 the call returns.
	 */
	bool in_call;
	int pending_sig; /* signal to deliver at resume (signal-delivery-stop) */
	siginfo_t pending_info; /* what it came with (si_signo 0: unknown), should it have to be sent again */
};

/*
 * A signal the process got while mlyze ran code in a thread, held, then sent
 * again (tgkill): when it stops the thread again, it gets back the siginfo it
 * first came with (its sender, si_code, a sigqueue's value).
 */
struct requeued_sig {
	pid_t tid;
	siginfo_t info;
};
#define TARGET_REQUEUED_MAX 64

/* A fork or vfork child of the target, held until it is safe to let go. */
struct child {
	pid_t pid;
	pid_t parent;   /* the thread that forked it, once its event came */
	bool vfork;     /* shares the target's memory until it execs or exits */
	bool known;     /* the parent's fork/vfork event has arrived */
	bool stopped;   /* its first stop has arrived (and it waits for us) */
};

/*
 * What the layers above want to hear about, called from the event handling
 * with the thread in a ptrace-stop. All optional.
 */
struct target_hooks {
	void *arg;
	/*
	 * A SIGTRAP stop of tid (a target thread or a vfork child) with its
	 * registers. Return 1 if the trap was ours (regs may have been changed
	 * with target_setregs), 0 to deliver SIGTRAP to the thread, 2 if ours and
	 * the thread must stay stopped until the layers above have acted (the
	 * tracer's install once the dynamic linker has loaded the libraries: the
	 * stop of every thread for it resumes this one too).
	 */
	int (*on_sigtrap)(void *arg, struct target *t, pid_t tid, struct user_regs_struct *regs);
	/*
	 * A fork child, stopped: undo in its memory what must not run there.
	 * Return 0 when it may be let go, -1 when that could not be done: it
	 * then stays traced, its traps served as a vfork child's, until it
	 * execs or exits (or mlyze detaches, which asks again first).
	 */
	int (*on_fork_child)(void *arg, struct target *t, pid_t child);
	/* The address space was replaced by exec: nothing patched survives. */
	void (*on_exec)(void *arg, struct target *t);
	/* tid stopped at its exit; last says no other thread will run again. */
	void (*on_thread_exit)(void *arg, struct target *t, pid_t tid, bool last);
};

struct target {
	pid_t pid;
	enum target_state state;
	bool launched;   /* we forked it (`run`): its exit status is ours to report */
	bool launching;  /* its first exec (that of `run`) is still to come */
	int exit_status; /* raw wait status once TARGET_EXITED; the status it exits with once TARGET_HELD */
	pid_t held_tid;  /* TARGET_HELD: the thread held at its exit, whose memory and /proc files are read */
	struct thread *threads;
	size_t nthreads, alloc;
	unsigned generation;   /* bumped when the address space is replaced (exec) */
	struct strbuf notices; /* news for the user (exit, exec), one per line; drained by the session */
	struct cleanup cleanup;
	int memfd;             /* /proc/PID/mem, for writes and when process_vm_readv is refused */
	struct child *children;
	size_t nchildren, children_alloc;
	struct target_hooks hooks;
	uint64_t nevents;      /* wait events handled, for stats */
	/* Resume the next thread on mlyze's own CPU (see resume_thread); reset after each resume. */
	bool resume_here;
	int my_policy;         /* mlyze's own scheduling policy, -1 until read */
	bool emergency;        /* detaching from the crash handler: nothing may allocate or inject */
	bool quiet;            /* the machine ran nothing but mlyze when last sampled */
	double quiet_at;       /* when that was (monotonic ms) */
	const struct target_ops *ops; /* a live process or a core file: private to src/target/ */
	struct core *core;     /* a core file's image (private to src/target/; see target_core()) */
	struct rec_target *rec; /* a recording's facts and modules (private to src/target/target_rec.c) */
	struct seccomp_cache *seccomp; /* the seccomp filters last read (private to src/target/seccomp_check.c) */
	struct twin *twin;     /* the copy-on-write twin and what it keeps (private to src/target/twin.c) */
	struct requeued_sig requeued[TARGET_REQUEUED_MAX]; /* oldest first */
	size_t nrequeued;
};

/* What `info` shows of the process; strings are borrowed from the target but exe, which is owned. */
struct target_facts {
	char name[64];           /* the program's name (comm) */
	char *exe;               /* its executable's path, live; NULL else */
	const char *core;        /* a core file's path, NULL live */
	const char *recording;   /* a recording's path, NULL else */
	const char *args;        /* a core's command line, NULL live */
	int signal;              /* the signal that ended a core's process, 0 none */
	size_t missing_writable; /* writable mappings a core lacks (coredump_filter) */
	int64_t rss, pss, swap;  /* bytes, -1 unknown */
};

/* Seize every thread of pid. Errors say why (no such process, zombie, EPERM reasons). */
struct target *target_attach(pid_t pid, struct mlz_err *err);
/* Fork and exec argv under tracing; the target is running (stopped at nothing) on return. */
struct target *target_launch(char *const argv[], struct mlz_err *err);

/* A module as a recording keeps it: its range, file and GNU build-id (hex, "" if none). */
struct module_range {
	uint64_t start, end;
	char *path;
	char build_id[41];
};

/* What a recording says of its process, for target_open_recording (copied). */
struct recording_facts {
	pid_t pid;
	const char *name;   /* its comm */
	const char *exe;    /* its executable's path */
	const char *file;   /* the recording's path */
	const struct module_range *mods; /* every module it mapped while recorded */
	size_t nmods;
};
/*
 * A recording as a target: no memory, registers or threads, never runs; its
 * modules (for symbols, from their files as they are now) and facts only.
 */
struct target *target_open_recording(const struct recording_facts *f, struct mlz_err *err);
/* A recording's modules (*n of them), NULL for any other target. */
const struct module_range *target_recorded_modules(const struct target *t, size_t *n);

struct core;
/* A core file as a stopped target: threads and registers from its notes, memory from its segments. */
struct target *target_open_core(const char *path, const char *exe, struct mlz_err *err);
/*
 * No target: a session that holds only saved snapshots (`mlyze open`). It
 * never runs and has no image (target_has_image() is false).
 */
struct target *target_open_none(void);
/* False for target_open_none()'s: nothing can be read, stopped or symbolized there. */
bool target_has_image(const struct target *t);
/* The mappings of the target (/proc/PID/maps, or a core's segments). */
int target_maps(struct target *t, struct maps *m, struct mlz_err *err);
/* The executable mappings [lo, hi) of the file mapped at addr (0, 0 if none): a module's code. */
void target_module_text(struct target *t, uint64_t addr, uint64_t *lo, uint64_t *hi);
/*
 * The name of a thread, its comm: from /proc/PID/task/TID/comm live, from the
 * note `dump` writes in a core, and for a core's leader from NT_PRPSINFO.
 * False, with buf "", where it is not known (a thread gone, another thread of
 * a kernel's or gcore's core, which record no thread names).
 */
bool target_thread_name(struct target *t, pid_t tid, char *buf, size_t len);
/* A thread's scheduler state ('R', 'S', 'D', 't', ...), 0 where unknown (a core, a thread gone). */
char target_thread_state(struct target *t, pid_t tid);
/* The process facts `info` shows; release with target_facts_release(). */
void target_facts(struct target *t, struct target_facts *f);
void target_facts_release(struct target_facts *f);
/* Resident bytes in [lo, hi) (pagemap), -1 unknown (a core). */
int64_t target_resident(struct target *t, uint64_t lo, uint64_t hi);
/* fn on each run of pages in [lo, hi) that hold data; -1 when unknown: then all of it may. */
int target_data_runs(struct target *t, uint64_t lo, uint64_t hi, void (*fn)(void *arg, uint64_t lo, uint64_t hi),
		     void *arg);
/* The core file behind t, NULL for a process: for libdwfl, which reports a core's modules from the file. */
const struct core *target_core(const struct target *t);

/* How target_dump writes: the ranges to leave out are mlyze's own areas in the process. */
struct target_dump_opts {
	bool force;                /* replace an existing file */
	const uint64_t (*skip)[2]; /* [start, end) ranges that are not the program's memory, in any order */
	size_t nskip;
	struct cancel *cancel;
};

/*
 * Write the stopped process as an ELF core at path (gdb and `mlyze core` read
 * it), with the original bytes where mlyze put breakpoints and no segment for
 * any part of a mapping in o->skip; *bytes gets its size.
 * The core is written to a temporary file of mode 0600 in path's directory and
 * renamed to path when whole; on failure nothing is left. A symbolic link at
 * path is refused, an existing file unless o->force. A dump cancel ends fails
 * with MLZ_E_INTERRUPTED and leaves no file.
 */
int target_dump(struct target *t, const char *path, const struct target_dump_opts *o, uint64_t *bytes,
		struct mlz_err *err);

/*
 * Handle pending events without blocking, for at most a few milliseconds.
 * Returns 1 when the time ran out with events perhaps still pending (poll
 * again soon), 0 when none is left.
 */
int target_poll(struct target *t);
int target_stop(struct target *t, struct mlz_err *err);
int target_resume(struct target *t, struct mlz_err *err);
/*
 * Undo every registered change and detach every thread; the process runs on as
 * before. A process held at its exit is let go instead: it finishes exiting,
 * and its end (exit_status, TARGET_EXITED) is waited for, so its parent and
 * `run` see the status it exits with.
 */
int target_detach(struct target *t, struct mlz_err *err);
/* From a fatal-signal handler: restore and detach using only system calls. */
void target_emergency_detach(struct target *t);
void target_free(struct target *t);

/* Read up to len bytes at addr; returns bytes read (short at an unmapped page) or -1. */
ssize_t target_read(struct target *t, uint64_t addr, void *buf, size_t len);
/*
 * Scattered reads in one call: remote[i] into local[i] (the two lists pair up
 * and each pair has one length). Returns the bytes read, which stop at the
 * first unreadable range, or -1.
 */
struct iovec;
ssize_t target_readv(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n);
/* Scattered writes in one call, the same way; returns the bytes written or -1. */
ssize_t target_writev(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n);
/* Read from another process of ours (a fork child) by its /proc/PID/mem. */
ssize_t target_read_pid(pid_t pid, uint64_t addr, void *buf, size_t len);
/* The same reads for code that takes any memory source (the heap walker). */
struct memsrc target_memsrc(struct target *t);
/* Write len bytes at addr, even into read-only text (word-wise PTRACE_POKEDATA). */
int target_write(struct target *t, uint64_t addr, const void *buf, size_t len, struct mlz_err *err);
/* Registers of a stopped thread. */
int target_regs(struct target *t, pid_t tid, struct user_regs_struct *regs, struct mlz_err *err);
int target_setregs(struct target *t, pid_t tid, const struct user_regs_struct *regs, struct mlz_err *err);
/* Write into another process of ours (a fork child) by its /proc/PID/mem. */
int target_write_pid(pid_t pid, uint64_t addr, const void *buf, size_t len, struct mlz_err *err);

/*
 * Run system call nr with args in the stopped thread tid, by pointing it at a
 * `syscall` instruction at insn and stepping once; every register is restored
 * after. *ret is the kernel's return value (-errno on failure). A call the
 * thread's seccomp filtering would not let through as asked (a kill, a trap,
 * an errno...), or that cannot be checked, is not made: the error is then of
 * kind MLZ_E_REFUSED and says why ("process N's seccomp filter kills mmap").
 */
int target_inject_syscall(struct target *t, pid_t tid, uint64_t insn, long nr, const long args[6], long *ret,
			  struct mlz_err *err);
/* An address of a `syscall` instruction in the target's code (a module's file mapping), or 0. */
uint64_t target_syscall_insn(struct target *t);
/*
 * A system call a function may make, for the seccomp check before mlyze calls
 * it: bit k of known says args[k] is what the function passes (the others and
 * the instruction pointer are unknown); errno_ok says it copes with the call
 * failing.
 */
struct syscall_spec {
	long nr;
	unsigned known;
	long args[6];
	bool errno_ok;
};

/*
 * Call the function at func with up to six integer args in the stopped thread
 * tid (the others stay stopped); *ret gets rax. Registers are restored after.
 * The caller must know the function cannot block on a lock a stopped thread holds,
 * and name in may the system calls it can make: unless the thread's seccomp
 * filtering lets each through whatever its unknown arguments, the call is not
 * made (MLZ_E_REFUSED).
 */
int target_inject_call(struct target *t, pid_t tid, uint64_t func, const long args[6], const struct syscall_spec *may,
		       size_t nmay, long *ret, int timeout_ms, struct mlz_err *err);
/*
 * Whether thread tid's seccomp filtering lets each of calls through, as
 * target_inject_call checks them: for code mlyze puts into the process that
 * makes system calls of its own (the agent). 0, or -1 with MLZ_E_REFUSED.
 */
int target_calls_allowed(struct target *t, pid_t tid, const struct syscall_spec *calls, size_t n, struct mlz_err *err);
/* Some stopped thread of the target to inject into, or 0. */
pid_t target_stopped_thread(const struct target *t);
/*
 * The same, or else a thread in a group-stop (the process stopped by SIGSTOP):
 * a system call injected there puts it back in its group-stop after. For
 * undoing what mlyze did (unmapping the scratch area at detach); 0 if none.
 */
pid_t target_inject_thread(const struct target *t);

/*
 * A copy-on-write twin of a stopped process, to read while the process runs
 * on. target_twin_start() (every thread stopped by target_stop) saves each
 * thread's registers, injects a raw clone without CLONE_VM and with exit
 * signal 0 into one thread, and holds the new process in its first
 * ptrace-stop: from then until target_twin_end(), memory, mappings,
 * residency and registers are read from the twin (the registers as they were
 * at the clone), while stop, resume, writes and events are the process's own:
 * the caller resumes it at once. The twin never runs user code; the cleanup
 * registry kills it on every exit path and the kernel (PTRACE_O_EXITKILL)
 * when mlyze dies. Fails, with nothing left behind, where the process cannot
 * fork: a seccomp filter (MLZ_E_REFUSED), clone's own error (EAGAIN under a
 * pids or process limit, ENOMEM). Returns 1, making none, when no thread of
 * the process could run meanwhile anyway (stopped by a signal: SIGSTOP).
 */
int target_twin_start(struct target *t, struct mlz_err *err);
/*
 * Kill and reap the twin, then take its zombie away from the process with a
 * wait4 injected in a stop of one system call; *stopped_ms says how long
 * that stop took, *alone how many bytes of memory the twin held alone at
 * its end: the pages the process wrote meanwhile (copy-on-write duplicated
 * them) or gave back, the memory the twin cost (-1 unknown). A twin that is
 * gone already is no error.
 */
int target_twin_end(struct target *t, double *stopped_ms, int64_t *alone, struct mlz_err *err);
bool target_twin_active(const struct target *t);
/* How long the last twin's injected clone took (ms): the kernel's copy of the page tables, mostly. */
double target_twin_clone_ms(const struct target *t);
/* The twin's pid while there is one, else 0. */
pid_t target_twin_pid(const struct target *t);

/*
 * The two questions callers ask. Readable: the image can be read now (a core,
 * or a process that has neither ended nor been let go: also one held at its
 * exit). Runs: it is a process that exists and runs (or is stopped by us): it
 * can be stopped, written, called into. target_is_process() says whether the
 * kind of target ever runs.
 */
bool target_readable(const struct target *t);
bool target_runs(const struct target *t);
bool target_is_process(const struct target *t);
/* A process held at its exit (TARGET_HELD): readable, not running; detaching lets it finish exiting. */
bool target_held(const struct target *t);
/*
 * The task whose memory and /proc files stand for the process: its pid, or
 * from its last thread's exit event on that thread, since a zombie leader has
 * no memory or mappings any more.
 */
pid_t target_proc_pid(const struct target *t);
/* "process" or "core file", for messages. */
const char *target_kind(const struct target *t);
/* "running", "stopped" (by mlyze), "stopped by a signal" (SIGSTOP), "held at its exit", "exited", "detached", or "core file". */
const char *target_state_name(const struct target *t);
/* An error of kind MLZ_E_GONE saying how the process ended (or that it is held at its exit); returns -1. */
int target_gone_error(const struct target *t, struct mlz_err *err);
/* "exited with status 3" / "was killed by signal 9 (SIGKILL)" into buf. */
void target_describe_exit(const struct target *t, char *buf, size_t len);

/* For attach diagnosis, exposed for unit tests: why PTRACE_SEIZE said EPERM. */
struct eperm_facts {
	pid_t pid;
	long tracer_pid;      /* TracerPid of the target, 0 if none */
	char tracer_comm[64];
	long target_uid, my_uid;
	bool cap_sys_ptrace;  /* mlyze has CAP_SYS_PTRACE */
	int yama_scope;       /* kernel.yama.ptrace_scope, -1 when Yama is absent */
};
void attach_explain_eperm(const struct eperm_facts *f, char *buf, size_t len);

#endif
