/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * target_ops.h - private to src/target/: what each kind of target (a live
 * process, a core file, a recording) implements behind the functions of target.h.
 */
#ifndef MLZ_TARGET_OPS_H
#define MLZ_TARGET_OPS_H

#include "ptrace.h"
#include "target.h"

struct target_ops {
	const char *kind; /* "process", "core file": for messages */
	bool runs;        /* a process: it runs, stops, and ends; a core never runs */
	bool no_image;    /* nothing to read (saved snapshots, a recording): no memory, registers, threads */
	const char *no_image_why; /* with no_image: what the session holds instead, for refusals */
	int (*poll)(struct target *t);
	int (*stop)(struct target *t, struct mlz_err *err);
	int (*resume)(struct target *t, struct mlz_err *err);
	int (*detach)(struct target *t, struct mlz_err *err);
	void (*emergency_detach)(struct target *t);
	ssize_t (*read)(struct target *t, uint64_t addr, void *buf, size_t len);
	int (*write)(struct target *t, uint64_t addr, const void *buf, size_t len, struct mlz_err *err);
	ssize_t (*readv)(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n);
	ssize_t (*writev)(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n);
	int (*regs)(struct target *t, pid_t tid, struct user_regs_struct *regs, struct mlz_err *err);
	int (*setregs)(struct target *t, pid_t tid, const struct user_regs_struct *regs, struct mlz_err *err);
	int (*maps)(struct target *t, struct maps *m, struct mlz_err *err);
	bool (*thread_name)(struct target *t, pid_t tid, char *buf, size_t len);
	char (*thread_state)(struct target *t, pid_t tid);
	void (*facts)(struct target *t, struct target_facts *f);
	int64_t (*resident)(struct target *t, uint64_t lo, uint64_t hi);
	int (*data_runs)(struct target *t, uint64_t lo, uint64_t hi, void (*fn)(void *arg, uint64_t lo, uint64_t hi),
			 void *arg);
	void (*release)(struct target *t);
};

extern const struct target_ops target_live_ops, target_core_ops, target_none_ops, target_rec_ops;

/*
 * Scattered I/O one pair at a time, for when it cannot be done in one call:
 * io moves len bytes between buf and addr. Stops at the first short transfer;
 * returns the bytes moved, or -1 if the first failed.
 */
ssize_t target_by_pairs(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n,
			ssize_t (*io)(struct target *t, void *buf, size_t len, uint64_t addr));

/* The thread tid of a live target, or NULL. */
struct thread *target_find_thread(struct target *t, pid_t tid);
/* Account for one wait event of a live target (see target_live.c). */
void live_handle_event(struct target *t, const struct pt_event *ev, bool stopping);
/*
 * The siginfo of the signal sig that thread tid stopped with, into *si; for
 * one mlyze sent again (t->requeued), the siginfo it first came with, taken
 * out of the list (true then); si_signo alone (the rest 0) if none can be read.
 */
bool live_signal_info(struct target *t, pid_t tid, int sig, siginfo_t *si);

/*
 * The seccomp checks before an injection (seccomp_check.c), on the stopped
 * thread tid: 0 when the call gets through, else -1 with err of kind
 * MLZ_E_REFUSED saying why (or MLZ_E_GONE). A system call is judged exactly,
 * ip being the address after its `syscall` instruction; a function's
 * possible calls whatever their unknown arguments.
 */
int seccomp_check_syscall(struct target *t, pid_t tid, long nr, const long args[6], uint64_t ip, struct mlz_err *err);
int seccomp_check_calls(struct target *t, pid_t tid, const struct syscall_spec *calls, size_t n, struct mlz_err *err);
/*
 * Whether ev, taken by a wait for any child, is the twin's (twin.c): then it
 * is kept for the twin's own waits and must not be handled as the process's.
 * No allocation: the crash handler's wait loop asks too.
 */
bool target_twin_claim(struct target *t, const struct pt_event *ev);
/* Kill the twin if one is left, and free what it kept (the target is freed). */
void target_twin_free(struct target *t);
/* Forget the filters read (the target is freed). */
void seccomp_cache_free(struct target *t);

#endif
