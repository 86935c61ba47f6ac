/* SPDX-License-Identifier: GPL-3.0-or-later */
/* proc.h - facts about a process read from /proc (no ptrace needed). */
#ifndef MLZ_PROC_H
#define MLZ_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* The whole of a (small) file as a NUL-terminated string, or NULL with errno set; caller frees. */
char *read_text_file(const char *path);

/*
 * Whether the process runs with a CET shadow stack, where a `ret` checks its
 * return address against a copy the program cannot write ("x86_Thread_features:
 * shstk" in its status). MLYZE_ASSUME_SHADOW_STACK=1 says yes, for tests on
 * machines without one.
 */
bool proc_has_shadow_stack(pid_t pid);

/* One state letter from /proc/PID/stat ('R', 'S', 'Z', ...), or 0 if the process is gone. */
char proc_state(pid_t pid, pid_t tid);
/* Thread tid of pid has ended: gone from /proc, a zombie or dead. */
bool proc_thread_ended(pid_t pid, pid_t tid);
/* Numeric field n (1-based, as in proc(5)) of /proc/PID/stat, 0 if unreadable. */
uint64_t proc_stat_field(pid_t pid, int n);
/* Whether pid is a kernel thread (PF_KTHREAD), which no one may trace. */
bool proc_is_kernel_thread(pid_t pid);
/* An integer field ("TracerPid", "Threads", ...) of /proc/PID/status, or -1. */
long proc_status_field(pid_t pid, const char *field);
/* The real uid (which=0) or effective uid (which=1) from /proc/PID/status, or -1. */
long proc_status_uid(pid_t pid, int which);
/* /proc/PID/task/TID/comm without the newline into buf; "" if unreadable. */
void proc_comm(pid_t pid, pid_t tid, char *buf, size_t len);
/* readlink of /proc/PID/exe; caller frees; NULL if unreadable. */
char *proc_exe(pid_t pid);
/*
 * A thread's seccomp mode (0 none, 1 strict, 2 filter) and its number of
 * filters (-1 when the kernel, before 5.9, does not say), from
 * /proc/PID/task/TID/status; 0, or -1 when the thread is gone. Allocates nothing.
 */
int proc_seccomp(pid_t pid, pid_t tid, int *mode, long *nfilters);
/* Thread ids of pid from /proc/PID/task, sorted; caller frees *tids. Returns count or -1. */
int proc_tids(pid_t pid, pid_t **tids);

/* Memory totals from /proc/PID/smaps_rollup, in bytes; -1 where unknown. */
struct proc_mem {
	int64_t rss, pss, swap, anon, file;
	int64_t private_bytes; /* Private_Clean + Private_Dirty: pages no other process maps */
};
int proc_memory(pid_t pid, struct proc_mem *m, struct mlz_err *err);
/*
 * The resident bytes from /proc/PID/statm: the kernel's counters, read in
 * constant time however large the process (smaps_rollup walks every page
 * table); -1 if unreadable. For samples taken often (watch).
 */
int64_t proc_rss(pid_t pid);

/*
 * Calls fn for each run of pages of [start, end) that hold data (present in
 * RAM or swapped out), from /proc/PID/pagemap; the others read as zeros.
 * Returns -1 if pagemap cannot be opened (fn not called) or read to the end.
 */
int proc_data_runs(pid_t pid, uint64_t start, uint64_t end, void (*fn)(void *arg, uint64_t lo, uint64_t hi), void *arg);
/* Bytes of [start, end) resident in RAM, from /proc/PID/pagemap's present bits; -1 if unreadable. */
int64_t proc_resident(pid_t pid, uint64_t start, uint64_t end);

/* One line of /proc/PID/maps. */
struct map_entry {
	uint64_t start, end, offset;
	char perms[5];
	uint64_t inode;
	char dev[16];
	char *path; /* "" for anonymous; owned */
};
struct maps {
	struct map_entry *v;
	size_t n, alloc;
};
/* Parse maps text (the format of /proc/PID/maps); returns 0, or -1 on a malformed line. */
int maps_parse(const char *text, struct maps *m, struct mlz_err *err);
int proc_maps(pid_t pid, struct maps *m, struct mlz_err *err);
/* The mapping that holds addr, or NULL. */
const struct map_entry *maps_find(const struct maps *m, uint64_t addr);
void maps_release(struct maps *m);
/*
 * Open (read-only) the file mapping e of process pid maps, as the process
 * sees it: the mapping itself through /proc/PID/map_files (needs
 * CAP_SYS_ADMIN), else e's path under /proc/PID/root, the process's own root
 * and mount namespace, where a container's path may name another file than
 * mlyze's. Returns the descriptor, or -1 with errno set.
 */
int proc_open_mapped(pid_t pid, const struct map_entry *e);

#endif
