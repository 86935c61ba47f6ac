/* SPDX-License-Identifier: GPL-3.0-or-later */
/* seccomp.h - seccomp filters (classic BPF) run on a system call as the kernel runs them, to know its fate first. */
#ifndef MLZ_SECCOMP_H
#define MLZ_SECCOMP_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Usage:
 *	struct seccomp_filters f = { .mode = SECCOMP_MODE_FILTER };
 *	seccomp_filters_add(&f, insns, len);   // oldest first, as PTRACE_SECCOMP_GET_FILTER numbers them
 *	struct seccomp_data d = { .nr = SYS_mmap, .arch = AUDIT_ARCH_X86_64, .instruction_pointer = ip,
 *				  .args = { ... } };
 *	struct seccomp_verdict v;
 *	seccomp_eval(&f, &d, &v);
 *	if (!v.bad && !seccomp_allows(v.ret))
 *		seccomp_describe(v.ret, "mmap", buf, sizeof(buf));   // "kills mmap"
 *	seccomp_filters_release(&f);
 *
 * Nothing here reads a process: src/target/seccomp_check.c brings the filters.
 */

/* What the kernel does with a call, most restrictive last (the order filters are combined in). */
enum seccomp_action {
	SC_ALLOW,
	SC_LOG,        /* allowed, and logged */
	SC_TRACE,      /* handed to a tracer with PTRACE_O_TRACESECCOMP; without one it fails with ENOSYS */
	SC_USER_NOTIF, /* handed to a supervisor process, which answers for it */
	SC_ERRNO,      /* not run: fails with the errno in the data bits */
	SC_TRAP,       /* not run: SIGSYS */
	SC_KILL_THREAD,
	SC_KILL_PROCESS, /* also any action value the kernel does not know */
};

/* A process's filtering: its mode and, in filter mode, its programs. */
struct seccomp_filters {
	int mode; /* SECCOMP_MODE_DISABLED, _STRICT or _FILTER */
	struct seccomp_prog {
		struct sock_filter *insns; /* owned */
		size_t len;
	} *v;     /* oldest first */
	size_t n, alloc;
};

/* The outcome of a call on every filter. */
struct seccomp_verdict {
	uint32_t ret;    /* the kernel's SECCOMP_RET_* value, data bits included; unset when bad */
	bool bad;        /* some program is one the kernel would have refused: no verdict */
	/*
	 * Bit i: some program read bytes 4i..4i+3 of the seccomp_data (bit 0 nr,
	 * 1 arch, 2-3 the instruction pointer, 4 + 2k and 5 + 2k args[k]). A call
	 * whose arguments are not all known has a verdict only if no program read
	 * the unknown ones.
	 */
	uint16_t loaded;
};

/* The bits of seccomp_verdict.loaded for nr and arch, args[k], and the instruction pointer. */
#define SECCOMP_WORDS_NR_ARCH 0x0003u
#define SECCOMP_WORDS_IP 0x000cu
#define SECCOMP_WORDS_ARG(k) (0x0030u << (2 * (k)))

/*
 * Whether the kernel would accept prog as a seccomp filter: 1 to 4096
 * instructions of the classic BPF subset seccomp allows, loads of whole
 * aligned words of seccomp_data, forward jumps that land inside, memory slots
 * stored before they are loaded on every path, a return at the end.
 */
bool seccomp_prog_valid(const struct sock_filter *prog, size_t len);
/*
 * Run one program on d as the kernel does (A and X start at 0, loads are
 * native-endian, division by a zero X returns 0). Returns 0 with *ret the
 * program's value and the words it read added to *loaded, or -1 for a
 * program seccomp_prog_valid() refuses.
 */
int seccomp_run(const struct sock_filter *prog, size_t len, const struct seccomp_data *d, uint32_t *ret,
		uint16_t *loaded);
/*
 * Every filter on d, combined as the kernel does: the most restrictive action
 * wins, and among equal ones the newest filter's value. Strict mode allows
 * read, write, exit and rt_sigreturn and kills the thread on anything else;
 * no mode allows everything.
 */
void seccomp_eval(const struct seccomp_filters *f, const struct seccomp_data *d, struct seccomp_verdict *v);
/* The action of a filter's value (an action the kernel does not know kills the process, as there). */
enum seccomp_action seccomp_action_of(uint32_t ret);
/* Whether the call runs: allowed, or allowed and logged. */
bool seccomp_allows(uint32_t ret);
/* "kills mmap", "fails mmap with EPERM", "traps mmap (SIGSYS)", ...: the verdict on the call named call. */
void seccomp_describe(uint32_t ret, const char *call, char *buf, size_t len);
/* The name of an x86-64 system call mlyze makes or expects ("mmap"), else "system call N" in buf. */
const char *seccomp_syscall_name(long nr, char *buf, size_t len);

/* Append a copy of one program (the next newer filter). */
void seccomp_filters_add(struct seccomp_filters *f, const struct sock_filter *insns, size_t len);
void seccomp_filters_release(struct seccomp_filters *f);

#endif
