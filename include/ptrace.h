/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ptrace.h - the only door to ptrace(2): typed requests and decoded wait statuses. */
#ifndef MLZ_PTRACE_H
#define MLZ_PTRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include "err.h"

/* What a waitpid() status means for a seized thread. */
enum pt_kind {
	PT_EXITED,     /* exited normally: code */
	PT_KILLED,     /* killed by signal: sig */
	PT_SIGNAL,     /* signal-delivery-stop: sig must be passed on at resume */
	PT_GROUP_STOP, /* group-stop (SIGSTOP & co. from outside): resume with LISTEN */
	PT_INTERRUPT,  /* PTRACE_EVENT_STOP that is not a group-stop: ours, or a new thread's first stop */
	PT_CLONE,      /* PTRACE_EVENT_CLONE: msg is the new tid */
	PT_FORK,       /* PTRACE_EVENT_FORK: msg is the child pid */
	PT_VFORK,      /* PTRACE_EVENT_VFORK: msg is the child pid */
	PT_VFORK_DONE, /* PTRACE_EVENT_VFORK_DONE */
	PT_EXEC,       /* PTRACE_EVENT_EXEC: msg is the former tid */
	PT_EXIT,       /* PTRACE_EVENT_EXIT: msg is the wait status to come */
	PT_OTHER,
};

struct pt_event {
	pid_t tid;
	enum pt_kind kind;
	int sig;            /* PT_KILLED, PT_SIGNAL, PT_GROUP_STOP */
	int code;           /* PT_EXITED */
	unsigned long msg;  /* PTRACE_GETEVENTMSG for events */
	int status;         /* the raw wait status */
};

/* Options every seized thread gets (clone following, exec notice). */
/*
 * Options every seized thread gets: clones followed, exec and exit reported,
 * and fork/vfork children seized so no child ever runs with a breakpoint.
 */
#define PT_OPTIONS_DEFAULT (PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | \
			    PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK)

/* PTRACE_SEIZE tid with options; errno kept in err. */
int pt_seize(pid_t tid, unsigned long options, struct mlz_err *err);
int pt_interrupt(pid_t tid, struct mlz_err *err);
/* Resume tid, delivering sig (0 for none). ESRCH is "gone", returned as MLZ_E_GONE. */
int pt_cont(pid_t tid, int sig, struct mlz_err *err);
int pt_listen(pid_t tid, struct mlz_err *err);
/* Execute one instruction (used only to run an injected system call). */
int pt_singlestep(pid_t tid, int sig, struct mlz_err *err);
int pt_detach(pid_t tid, int sig, struct mlz_err *err);
int pt_getregs(pid_t tid, struct user_regs_struct *regs, struct mlz_err *err);
/* tid's blocked signals, as the kernel keeps them (a 64-bit mask). */
int pt_getsigmask(pid_t tid, uint64_t *mask);
int pt_setsigmask(pid_t tid, uint64_t mask);
/* The siginfo of tid's signal-delivery-stop; set: the one it will be delivered with. */
int pt_getsiginfo(pid_t tid, siginfo_t *si);
int pt_setsiginfo(pid_t tid, const siginfo_t *si);
int pt_setregs(pid_t tid, const struct user_regs_struct *regs, struct mlz_err *err);
/* Replace tid's ptrace options (PTRACE_O_EXITKILL for the twin). */
int pt_setoptions(pid_t tid, unsigned long options, struct mlz_err *err);
/* Write one aligned word of the tracee's memory (works on read-only text). */
int pt_pokedata(pid_t tid, uint64_t addr, uint64_t word, struct mlz_err *err);
/*
 * Filter number index (0: the oldest) of the stopped thread tid, as the
 * classic BPF it was installed as, into buf (NULL: only its length). Returns
 * the number of instructions, or -1 with err->errnum ENOENT past the newest,
 * EINVAL when the thread is not in filter mode, EACCES when mlyze lacks
 * CAP_SYS_ADMIN or runs under seccomp itself.
 */
struct sock_filter;
long pt_seccomp_filter(pid_t tid, unsigned long index, struct sock_filter *buf, struct mlz_err *err);

/*
 * Wait for an event of tid (-1: any) with waitpid(__WALL | flags) and decode it.
 * Returns 1 with *ev filled, 0 if WNOHANG found nothing, -1 on error (ECHILD: nothing traced).
 */
int pt_wait(pid_t tid, int flags, struct pt_event *ev, struct mlz_err *err);

#endif
