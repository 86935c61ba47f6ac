// SPDX-License-Identifier: GPL-3.0-or-later
/* test-seccomp.c - the seccomp filter interpreter on hand-written programs, then against the kernel's own verdicts. */
#include <errno.h>
#include <linux/audit.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "seccomp.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define STMT(code, k) BPF_STMT(code, k)
#define JUMP(code, k, jt, jf) BPF_JUMP(code, k, jt, jf)
#define LD(field) STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RET(v) STMT(BPF_RET | BPF_K, v)

static struct seccomp_data call(long nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return (struct seccomp_data){ .nr = (int)nr, .arch = AUDIT_ARCH_X86_64, .instruction_pointer = 0x401002,
				      .args = { a0, a1, a2 } };
}

/* One program's value on d, failing the test if it does not run. */
static uint32_t run1(const struct sock_filter *p, size_t n, struct seccomp_data d)
{
	uint32_t ret = 0xdeadbeef;
	uint16_t loaded = 0;
	assert_int_equal(seccomp_run(p, n, &d, &ret, &loaded), 0);
	return ret;
}

#define RUN(p, d) run1(p, N(p), d)

static void allow_and_arch(void **state)
{
	(void)state;
	static const struct sock_filter p[] = {
		LD(arch),
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),
		RET(SECCOMP_RET_ALLOW),
	};
	assert_int_equal(RUN(p, call(SYS_mmap, 0, 0, 0)), SECCOMP_RET_ALLOW);
	struct seccomp_data d = call(SYS_mmap, 0, 0, 0);
	d.arch = AUDIT_ARCH_I386;
	assert_int_equal(RUN(p, d), SECCOMP_RET_KILL_PROCESS);
}

static void by_number_and_argument(void **state)
{
	(void)state;
	/* mmap -> EPERM; mprotect with PROT_EXEC (4) in args[2] -> EACCES; anything else allowed */
	static const struct sock_filter p[] = {
		LD(nr),
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 1),
		RET(SECCOMP_RET_ERRNO | EPERM),
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 0, 3),
		LD(args[2]),
		JUMP(BPF_JMP | BPF_JSET | BPF_K, 4, 0, 1),
		RET(SECCOMP_RET_ERRNO | EACCES),
		RET(SECCOMP_RET_ALLOW),
	};
	assert_int_equal(RUN(p, call(SYS_mmap, 0, 4096, 3)), SECCOMP_RET_ERRNO | EPERM);
	assert_int_equal(RUN(p, call(SYS_mprotect, 0, 4096, 5)), SECCOMP_RET_ERRNO | EACCES);
	assert_int_equal(RUN(p, call(SYS_mprotect, 0, 4096, 3)), SECCOMP_RET_ALLOW);
	assert_int_equal(RUN(p, call(SYS_munmap, 0, 4096, 5)), SECCOMP_RET_ALLOW);
}

/* A 64-bit argument is two words, low first: a filter must look at both. */
static void high_word_of_argument(void **state)
{
	(void)state;
	static const struct sock_filter p[] = {
		STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]) + 4),
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x7fff, 0, 3),
		LD(args[0]),
		JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x10000000, 0, 1),
		RET(SECCOMP_RET_TRAP | 7),
		RET(SECCOMP_RET_ALLOW),
	};
	assert_int_equal(RUN(p, call(SYS_munmap, 0x7fff20000000ull, 0, 0)), SECCOMP_RET_TRAP | 7);
	assert_int_equal(RUN(p, call(SYS_munmap, 0x7fff00001000ull, 0, 0)), SECCOMP_RET_ALLOW);
	assert_int_equal(RUN(p, call(SYS_munmap, 0x20000000ull, 0, 0)), SECCOMP_RET_ALLOW);
}

/* Arithmetic, X, scratch memory, RET A: nr * 3 + 1 stored and compared by way of X. */
static void alu_memory_and_x(void **state)
{
	(void)state;
	static const struct sock_filter p[] = {
		LD(nr),
		STMT(BPF_ALU | BPF_MUL | BPF_K, 3),
		STMT(BPF_ALU | BPF_ADD | BPF_K, 1),
		STMT(BPF_ST, 5),
		STMT(BPF_LDX | BPF_MEM, 5),
		STMT(BPF_LD | BPF_IMM, 3 * SYS_munmap + 1),
		JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1),
		RET(SECCOMP_RET_ERRNO | 99),
		STMT(BPF_MISC | BPF_TXA, 0),
		STMT(BPF_ALU | BPF_XOR | BPF_K, 0xffffffff),
		STMT(BPF_ALU | BPF_NEG, 0), /* -(~v) == v + 1 */
		STMT(BPF_ALU | BPF_AND | BPF_K, 0xffff),
		STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
		STMT(BPF_RET | BPF_A, 0),
	};
	assert_int_equal(RUN(p, call(SYS_munmap, 0, 0, 0)), SECCOMP_RET_ERRNO | 99);
	assert_int_equal(RUN(p, call(SYS_mmap, 0, 0, 0)), SECCOMP_RET_ERRNO | (3 * SYS_mmap + 2));
}

/* The kernel's conversion: a zero divisor in X returns 0 (KILL_THREAD); shifts by X count modulo 32. */
static void division_by_zero_and_shifts(void **state)
{
	(void)state;
	static const struct sock_filter div[] = {
		STMT(BPF_LD | BPF_IMM, 100),
		LD(args[0]), /* X comes from args[0] by way of A */
		STMT(BPF_MISC | BPF_TAX, 0),
		STMT(BPF_LD | BPF_IMM, 100),
		STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
		STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
		STMT(BPF_RET | BPF_A, 0),
	};
	assert_int_equal(RUN(div, call(1, 7, 0, 0)), SECCOMP_RET_ERRNO | 14);
	assert_int_equal(RUN(div, call(1, 0, 0, 0)), 0);
	static const struct sock_filter shl[] = {
		LD(args[0]),
		STMT(BPF_MISC | BPF_TAX, 0),
		STMT(BPF_LD | BPF_IMM, 1),
		STMT(BPF_ALU | BPF_LSH | BPF_X, 0),
		STMT(BPF_ALU | BPF_RSH | BPF_K, 1),
		STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
		STMT(BPF_RET | BPF_A, 0),
	};
	assert_int_equal(RUN(shl, call(1, 4, 0, 0)), SECCOMP_RET_ERRNO | 8);
	assert_int_equal(RUN(shl, call(1, 36, 0, 0)), SECCOMP_RET_ERRNO | 8);
	static const struct sock_filter len[] = {
		STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		STMT(BPF_ALU | BPF_SUB | BPF_K, 4),
		STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
		STMT(BPF_RET | BPF_A, 0),
	};
	assert_int_equal(RUN(len, call(1, 0, 0, 0)), SECCOMP_RET_ERRNO | 60);
}

static void jumps(void **state)
{
	(void)state;
	static const struct sock_filter p[] = {
		LD(args[1]),
		JUMP(BPF_JMP | BPF_JGT | BPF_K, 10, 2, 0),
		JUMP(BPF_JMP | BPF_JGE | BPF_K, 10, 3, 0),
		STMT(BPF_JMP | BPF_JA, 3),
		RET(SECCOMP_RET_ERRNO | 1), /* > 10 */
		RET(SECCOMP_RET_ERRNO | 2),
		RET(SECCOMP_RET_ERRNO | 3), /* == 10 */
		RET(SECCOMP_RET_ERRNO | 4), /* < 10 */
	};
	assert_int_equal(RUN(p, call(1, 0, 11, 0)), SECCOMP_RET_ERRNO | 1);
	assert_int_equal(RUN(p, call(1, 0, 10, 0)), SECCOMP_RET_ERRNO | 3);
	assert_int_equal(RUN(p, call(1, 0, 9, 0)), SECCOMP_RET_ERRNO | 4);
	assert_int_equal(RUN(p, call(1, 0, 0xffffffff, 0)), SECCOMP_RET_ERRNO | 1); /* unsigned */
}

/* What the kernel would refuse to install, the interpreter refuses to run. */
static void bad_programs(void **state)
{
	(void)state;
	static const struct sock_filter ok[] = { RET(SECCOMP_RET_ALLOW) };
	assert_true(seccomp_prog_valid(ok, 1));
	assert_false(seccomp_prog_valid(ok, 0));
	assert_false(seccomp_prog_valid(NULL, 1));
	static struct sock_filter big[4097];
	for (size_t i = 0; i < N(big); i++)
		big[i] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
	assert_true(seccomp_prog_valid(big, 4096));
	assert_false(seccomp_prog_valid(big, 4097));
	const struct sock_filter bad[][2] = {
		{ LD(nr), LD(nr) },                                            /* no final return */
		{ STMT(BPF_LD | BPF_W | BPF_ABS, 2), RET(0) },                 /* unaligned */
		{ STMT(BPF_LD | BPF_W | BPF_ABS, 64), RET(0) },                /* past seccomp_data */
		{ STMT(BPF_LD | BPF_H | BPF_ABS, 0), RET(0) },                 /* half words */
		{ STMT(BPF_LD | BPF_B | BPF_ABS, 0), RET(0) },                 /* bytes */
		{ STMT(BPF_LD | BPF_W | BPF_IND, 0), RET(0) },                 /* indirect */
		{ STMT(BPF_LDX | BPF_B | BPF_MSH, 0), RET(0) },                /* the IP header idiom */
		{ STMT(BPF_LDX | BPF_W | BPF_ABS, 0), RET(0) },                /* the kernel's own internal code */
		{ STMT(BPF_ALU | BPF_MOD | BPF_K, 3), RET(0) },                /* no MOD for seccomp */
		{ STMT(BPF_ALU | BPF_DIV | BPF_K, 0), RET(0) },                /* division by a zero constant */
		{ STMT(BPF_ALU | BPF_LSH | BPF_K, 32), RET(0) },               /* shift too far */
		{ STMT(BPF_ST, 16), RET(0) },                                  /* no slot 16 */
		{ STMT(BPF_LD | BPF_MEM, 0), RET(0) },                         /* loaded before stored */
		{ STMT(BPF_JMP | BPF_JA, 1), RET(0) },                         /* jumps past the end */
		{ JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), RET(0) },          /* so does this */
		{ STMT(BPF_RET | BPF_X, 0), RET(0) },                          /* not a return */
		{ STMT(0xffff, 0), RET(0) },
	};
	for (size_t i = 0; i < N(bad); i++) {
		uint32_t ret;
		uint16_t loaded = 0;
		struct seccomp_data d = call(1, 0, 0, 0);
		if (seccomp_prog_valid(bad[i], 2))
			fail_msg("bad program %zu passes", i);
		assert_int_equal(seccomp_run(bad[i], 2, &d, &ret, &loaded), -1);
	}
	/* A slot stored on one path only may not be loaded where the paths join. */
	static const struct sock_filter half[] = {
		LD(nr),
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
		STMT(BPF_ST, 3),
		STMT(BPF_LD | BPF_MEM, 3),
		RET(SECCOMP_RET_ALLOW),
	};
	assert_false(seccomp_prog_valid(half, N(half)));
	static const struct sock_filter both[] = {
		LD(nr),
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 2),
		STMT(BPF_ST, 3),
		STMT(BPF_JMP | BPF_JA, 1),
		STMT(BPF_ST, 3),
		STMT(BPF_LD | BPF_MEM, 3),
		RET(SECCOMP_RET_ALLOW),
	};
	assert_true(seccomp_prog_valid(both, N(both)));
}

static struct seccomp_filters filters(size_t n, const struct sock_filter *const *progs, const size_t *lens)
{
	struct seccomp_filters f = { .mode = SECCOMP_MODE_FILTER };
	for (size_t i = 0; i < n; i++)
		seccomp_filters_add(&f, progs[i], lens[i]);
	return f;
}

/* Several filters: the most restrictive action, and among equals the newest filter's data. */
static void combining(void **state)
{
	(void)state;
	static const struct sock_filter e1[] = { RET(SECCOMP_RET_ERRNO | 1) };
	static const struct sock_filter e2[] = { RET(SECCOMP_RET_ERRNO | 2) };
	static const struct sock_filter trap[] = { RET(SECCOMP_RET_TRAP) };
	static const struct sock_filter kill_thread[] = { RET(SECCOMP_RET_KILL_THREAD) };
	static const struct sock_filter kill_process[] = { RET(SECCOMP_RET_KILL_PROCESS) };
	static const struct sock_filter log[] = { RET(SECCOMP_RET_LOG) };
	static const struct sock_filter trace[] = { RET(SECCOMP_RET_TRACE | 5) };
	static const struct sock_filter notif[] = { RET(SECCOMP_RET_USER_NOTIF) };
	static const struct sock_filter unknown[] = { RET(0x00010000) };
	static const struct sock_filter allow[] = { RET(SECCOMP_RET_ALLOW) };
	const struct {
		const struct sock_filter *a, *b; /* a older, b newer */
		uint32_t want;
	} cases[] = {
		{ e1, e2, SECCOMP_RET_ERRNO | 2 },
		{ e2, e1, SECCOMP_RET_ERRNO | 1 },
		{ e1, trap, SECCOMP_RET_TRAP },
		{ trap, kill_thread, SECCOMP_RET_KILL_THREAD },
		{ kill_process, kill_thread, SECCOMP_RET_KILL_PROCESS },
		{ log, allow, SECCOMP_RET_LOG },
		{ trace, log, SECCOMP_RET_TRACE | 5 },
		{ notif, trace, SECCOMP_RET_USER_NOTIF },
		{ notif, e1, SECCOMP_RET_ERRNO | 1 },
		{ unknown, trap, 0x00010000 }, /* below TRAP as a signed number */
	};
	for (size_t i = 0; i < N(cases); i++) {
		const struct sock_filter *progs[] = { allow, cases[i].a, cases[i].b };
		const size_t lens[] = { 1, 1, 1 };
		struct seccomp_filters f = filters(3, progs, lens);
		struct seccomp_verdict v;
		struct seccomp_data d = call(SYS_mmap, 0, 0, 0);
		seccomp_eval(&f, &d, &v);
		assert_false(v.bad);
		if (v.ret != cases[i].want)
			fail_msg("case %zu: 0x%x, want 0x%x", i, v.ret, cases[i].want);
		seccomp_filters_release(&f);
	}
	assert_int_equal(seccomp_action_of(0x00010000), SC_KILL_PROCESS);
	assert_int_equal(seccomp_action_of(SECCOMP_RET_KILL_PROCESS | 3), SC_KILL_PROCESS);
	assert_int_equal(seccomp_action_of(SECCOMP_RET_KILL_THREAD), SC_KILL_THREAD);
	assert_true(seccomp_allows(SECCOMP_RET_LOG));
	assert_false(seccomp_allows(SECCOMP_RET_TRACE));
}

static void modes_and_words_read(void **state)
{
	(void)state;
	struct seccomp_verdict v;
	struct seccomp_filters none = { .mode = SECCOMP_MODE_DISABLED };
	struct seccomp_data d = call(SYS_mmap, 0, 0, 0);
	seccomp_eval(&none, &d, &v);
	assert_int_equal(v.ret, SECCOMP_RET_ALLOW);
	struct seccomp_filters strict = { .mode = SECCOMP_MODE_STRICT };
	seccomp_eval(&strict, &d, &v);
	assert_int_equal(v.ret, SECCOMP_RET_KILL_THREAD);
	const long fine[] = { SYS_read, SYS_write, SYS_exit, SYS_rt_sigreturn };
	for (size_t i = 0; i < N(fine); i++) {
		d.nr = (int)fine[i];
		seccomp_eval(&strict, &d, &v);
		assert_int_equal(v.ret, SECCOMP_RET_ALLOW);
	}
	d.nr = SYS_exit_group; /* not in strict mode's list: a strict process ends by exit(2) */
	seccomp_eval(&strict, &d, &v);
	assert_int_equal(v.ret, SECCOMP_RET_KILL_THREAD);

	/* The words read are those of the path taken, in every filter. */
	static const struct sock_filter p[] = {
		LD(nr),
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 2),
		LD(args[2]),
		RET(SECCOMP_RET_ALLOW),
		LD(instruction_pointer),
		RET(SECCOMP_RET_ALLOW),
	};
	const struct sock_filter *progs[] = { p };
	const size_t lens[] = { N(p) };
	struct seccomp_filters f = filters(1, progs, lens);
	d = call(SYS_mmap, 0, 0, 0);
	seccomp_eval(&f, &d, &v);
	assert_int_equal(v.loaded, 1 | 1 << 8); /* nr, and the low word of args[2] */
	assert_true(v.loaded & SECCOMP_WORDS_ARG(2));
	assert_false(v.loaded & ~(SECCOMP_WORDS_NR_ARCH | SECCOMP_WORDS_ARG(2)));
	d = call(SYS_munmap, 0, 0, 0);
	seccomp_eval(&f, &d, &v);
	assert_int_equal(v.loaded, 1 | 4);
	assert_true(v.loaded & SECCOMP_WORDS_IP);
	seccomp_filters_release(&f);

	/* One program the kernel would refuse spoils the verdict. */
	static const struct sock_filter broken[] = { LD(nr) };
	const struct sock_filter *two[] = { p, broken };
	const size_t two_lens[] = { N(p), 1 };
	f = filters(2, two, two_lens);
	seccomp_eval(&f, &d, &v);
	assert_true(v.bad);
	seccomp_filters_release(&f);
}

static void descriptions(void **state)
{
	(void)state;
	char buf[128];
	const struct {
		uint32_t ret;
		const char *want;
	} cases[] = {
		{ SECCOMP_RET_KILL_PROCESS, "kills mmap" },
		{ SECCOMP_RET_KILL_THREAD, "kills mmap" },
		{ SECCOMP_RET_TRAP | 1, "traps mmap (SIGSYS)" },
		{ SECCOMP_RET_ERRNO | EPERM, "fails mmap with EPERM" },
		{ SECCOMP_RET_ERRNO, "skips mmap (it returns 0)" },
		{ SECCOMP_RET_ERRNO | 0xffff, "fails mmap with errno 4095" },
		{ SECCOMP_RET_TRACE, "hands mmap to a tracer (under mlyze it fails with ENOSYS)" },
		{ SECCOMP_RET_USER_NOTIF, "hands mmap to a supervisor process" },
		{ SECCOMP_RET_LOG, "allows mmap (and logs it)" },
		{ SECCOMP_RET_ALLOW, "allows mmap" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		seccomp_describe(cases[i].ret, "mmap", buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
	assert_string_equal(seccomp_syscall_name(SYS_munmap, buf, sizeof(buf)), "munmap");
	assert_string_equal(seccomp_syscall_name(4242, buf, sizeof(buf)), "system call 4242");
}

/* --- the kernel's verdicts ---
 *
 * A child process installs the filters in one thread and makes one system
 * call there; what happens (its result, SIGSYS, the thread's or the process's
 * death) must be what the interpreter's verdict says. Each filter is wrapped
 * so it judges only calls made from raw_syscall() (by the instruction
 * pointer: a register could keep a marker argument into the calls that
 * follow): everything else the thread does (the SIGSYS handler's return,
 * reporting, exiting) is allowed.
 */
#define MAX_PROG 48
#define WRAP 5 /* instructions the wrapper puts first */

/* The address after raw_syscall()'s syscall instruction, learnt before any child is made. */
static uint64_t probe_ip;

/* p behind the wrapper that lets every call not from probe_ip through; returns the length. */
static size_t wrap(struct sock_filter *out, const struct sock_filter *p, size_t len)
{
	const struct sock_filter w[WRAP] = {
		LD(instruction_pointer),
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)probe_ip, 0, 2),
		STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(probe_ip >> 32), 1, 0),
		RET(SECCOMP_RET_ALLOW),
	};
	memcpy(out, w, sizeof(w));
	memcpy(out + WRAP, p, len * sizeof(*p));
	return WRAP + len;
}

/* The system call at a known address: ip gets the address after the syscall instruction. */
static __attribute__((noinline, noclone)) long raw_syscall(long nr, const uint64_t a[6], uint64_t *ip)
{
	long ret;
	uint64_t after;
	register uint64_t r10 __asm__("r10") = a[3], r8 __asm__("r8") = a[4], r9 __asm__("r9") = a[5];
	__asm__ volatile("lea 1f(%%rip), %1\n\tsyscall\n1:"
			 : "=a"(ret), "=&r"(after)
			 : "0"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	*ip = after;
	return ret;
}

/* Harmless whatever their arguments, and never 0: a skipped call (ERRNO 0) returns 0. */
static const long probe_nrs[] = { SYS_getpid, SYS_getppid, SYS_gettid };

struct report {
	int install_errno; /* seccomp() refused filter install_index */
	int install_index;
	long ret;          /* the raw return value */
	long expect_ran;   /* what the call returns when it runs */
	int trapped;       /* SIGSYS arrived, with this si_errno */
	int trap_errno;
	int done;
};

static volatile sig_atomic_t trapped, trap_errno;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	trapped = 1;
	trap_errno = si->si_errno;
}

struct job {
	const struct seccomp_filters *f;
	long nr;
	const uint64_t *args;
	struct report *r;
};

static void *prober(void *arg)
{
	struct job *j = arg;
	uint64_t ip;
	if (j->nr != SYS_exit_group) /* what it returns unfiltered: one call to learn it */
		j->r->expect_ran = raw_syscall(j->nr, j->args, &ip);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (j->f->mode == SECCOMP_MODE_STRICT) {
		/* this thread only; its exit after the report is its own business */
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) < 0) {
			j->r->install_errno = errno;
			j->r->done = 1;
			return NULL;
		}
	}
	for (size_t i = 0; i < j->f->n; i++) {
		struct sock_filter prog[WRAP + 4096];
		struct sock_fprog fp = { .len = (unsigned short)wrap(prog, j->f->v[i].insns, j->f->v[i].len),
					 .filter = prog };
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0) {
			j->r->install_errno = errno;
			j->r->install_index = (int)i;
			j->r->done = 1;
			return NULL;
		}
	}
	j->r->ret = raw_syscall(j->nr, j->args, &ip);
	j->r->trapped = trapped;
	j->r->trap_errno = trap_errno;
	j->r->done = 1;
	return NULL;
}

enum outcome { RAN_OR_RETURNED, THREAD_KILLED, PROCESS_KILLED };

/* Run the probe in a child; *r gets the thread's report. */
static enum outcome kernel_verdict(const struct seccomp_filters *f, long nr, const uint64_t args[6],
				   struct report *r)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
		sigaction(SIGSYS, &sa, NULL);
		struct report rep = { 0 };
		struct job j = { f, nr, args, &rep };
		pthread_t th;
		if (pthread_create(&th, NULL, prober, &j) != 0)
			_exit(98);
		pthread_join(th, NULL);
		if (write(p[1], &rep, sizeof(rep)) != sizeof(rep))
			_exit(97);
		_exit(0);
	}
	close(p[1]);
	*r = (struct report){ 0 };
	ssize_t got = read(p[0], r, sizeof(*r));
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st)) {
		assert_int_equal(WTERMSIG(st), SIGSYS);
		return PROCESS_KILLED;
	}
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(got, sizeof(*r));
	return r->done ? RAN_OR_RETURNED : THREAD_KILLED;
}

/* What the comparisons met, so a generator gone dull fails the test instead of passing it. */
static unsigned met_refused, met_action[SC_KILL_PROCESS + 1];

/* Compare one case; returns 0 when the kernel agrees, else prints the difference. */
static int compare(const struct seccomp_filters *f, long nr, const uint64_t args[6], uint64_t ip, const char *what)
{
	struct seccomp_data d = { .nr = (int)nr, .arch = AUDIT_ARCH_X86_64, .instruction_pointer = ip };
	memcpy(d.args, args, sizeof(d.args));
	for (size_t i = 0; i < f->n; i++)
		if (!seccomp_prog_valid(f->v[i].insns, f->v[i].len)) {
			struct report r;
			enum outcome o = kernel_verdict(f, nr, args, &r);
			if (o == RAN_OR_RETURNED && r.install_errno == EINVAL && r.install_index == (int)i) {
				met_refused++;
				return 0;
			}
			print_error("%s: filter %zu refused here, the kernel: outcome %d errno %d at %d\n", what, i, o,
				    r.install_errno, r.install_index);
			return -1;
		}
	/* The interpreter runs the wrapped programs too, as the kernel will. */
	struct seccomp_filters wrapped = { .mode = f->mode };
	for (size_t i = 0; i < f->n; i++) {
		struct sock_filter prog[WRAP + 4096];
		seccomp_filters_add(&wrapped, prog, wrap(prog, f->v[i].insns, f->v[i].len));
	}
	struct seccomp_verdict v;
	seccomp_eval(&wrapped, &d, &v);
	seccomp_filters_release(&wrapped);
	if (v.bad) {
		print_error("%s: the wrapped filters do not run\n", what);
		return -1;
	}
	struct report r;
	enum outcome o = kernel_verdict(f, nr, args, &r);
	uint32_t data = v.ret & SECCOMP_RET_DATA;
	bool agree = false;
	met_action[seccomp_action_of(v.ret)]++;
	switch (seccomp_action_of(v.ret)) {
	case SC_ALLOW:
	case SC_LOG:
		agree = o == RAN_OR_RETURNED && !r.trapped && r.ret == r.expect_ran;
		break;
	case SC_ERRNO:
		agree = o == RAN_OR_RETURNED && !r.trapped && r.ret == -(long)(data > 4095 ? 4095 : data);
		break;
	case SC_TRACE:
	case SC_USER_NOTIF: /* no tracer with PTRACE_O_TRACESECCOMP, no listener: ENOSYS */
		agree = o == RAN_OR_RETURNED && !r.trapped && r.ret == -ENOSYS;
		break;
	case SC_TRAP:
		agree = o == RAN_OR_RETURNED && r.trapped && r.trap_errno == (int)data;
		break;
	case SC_KILL_THREAD:
		agree = o == THREAD_KILLED;
		break;
	case SC_KILL_PROCESS:
		agree = o == PROCESS_KILLED;
		break;
	}
	if (!agree)
		print_error("%s: interpreter 0x%08x, kernel: outcome %d ret %ld (runs: %ld) trapped %d/%d install %d\n",
			    what, v.ret, o, r.ret, r.expect_ran, r.trapped, r.trap_errno, r.install_errno);
	return agree ? 0 : -1;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* A value a filter returns: every action, data included, now and then one the kernel does not know. */
static uint32_t random_ret(void)
{
	static const uint32_t actions[] = {
		SECCOMP_RET_ALLOW, SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_USER_NOTIF, SECCOMP_RET_ERRNO,
		SECCOMP_RET_TRAP, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_KILL_PROCESS, 0x00010000, 0x7ffe0000,
	};
	uint32_t a = actions[rnd(N(actions))];
	uint32_t data = rnd(4) ? rnd(40) : rnd(0x10000);
	return a | (a == SECCOMP_RET_ALLOW && rnd(2) ? 0 : data);
}

/* Constants that meet the call's own values now and then, so branches go both ways. */
static uint32_t random_k(const struct seccomp_data *d)
{
	uint32_t w[16];
	memcpy(w, d, sizeof(w));
	switch (rnd(4)) {
	case 0: return w[rnd(16)];
	case 1: return w[rnd(16)] + rnd(3) - 1;
	case 2: return rnd(64);
	default: return (uint32_t)rng_state;
	}
}

/* A random program of seccomp's instructions: mostly valid, sometimes not, to compare refusals too. */
static size_t random_prog(struct sock_filter *p, const struct seccomp_data *d)
{
	size_t len = 2 + rnd(MAX_PROG - 2);
	bool sloppy = rnd(8) == 0; /* invalid operands allowed: the kernel must refuse the same ones */
	uint16_t stored = 0;       /* slots stored so far in program order: some path may still skip them */
	for (size_t pc = 0; pc + 1 < len; pc++) {
		size_t left = len - pc - 1; /* instructions after this one */
		uint32_t k = random_k(d);
		uint8_t jt = (uint8_t)rnd(left < 4 ? (uint32_t)left : 4), jf = (uint8_t)rnd(left < 4 ? (uint32_t)left : 4);
		static const uint16_t alu_ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR,
						    BPF_LSH, BPF_RSH };
		static const uint16_t jmp_ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
		switch (rnd(12)) {
		case 0:
		case 1:
		case 2:
			p[pc] = (struct sock_filter)STMT(BPF_LD | BPF_W | BPF_ABS, sloppy && !rnd(4) ? rnd(70) : 4 * rnd(16));
			break;
		case 3:
			p[pc] = (struct sock_filter)STMT(rnd(2) ? BPF_LD | BPF_IMM : BPF_LDX | BPF_IMM, k);
			break;
		case 4:
			p[pc] = (struct sock_filter)STMT(rnd(2) ? BPF_ST : BPF_STX, rnd(sloppy ? 18 : 4));
			if (p[pc].k < 16)
				stored |= (uint16_t)(1u << p[pc].k);
			break;
		case 5: {
			uint32_t slot = rnd(sloppy ? 18 : 4);
			if (!sloppy && !(stored & (1u << slot)))
				slot = stored ? (uint32_t)__builtin_ctz(stored) : slot;
			if (!sloppy && !stored) /* nothing to load yet */
				p[pc] = (struct sock_filter)STMT(BPF_ST, slot);
			else
				p[pc] = (struct sock_filter)STMT(rnd(2) ? BPF_LD | BPF_MEM : BPF_LDX | BPF_MEM, slot);
			stored |= (uint16_t)(1u << (slot & 15));
			break;
		}
		case 6:
		case 7: {
			uint16_t op = alu_ops[rnd(N(alu_ops))], src = rnd(2) ? BPF_X : BPF_K;
			if (src == BPF_K && (op == BPF_LSH || op == BPF_RSH))
				k = sloppy ? rnd(40) : rnd(32);
			if (src == BPF_K && op == BPF_DIV && !sloppy && !k)
				k = 3;
			if (src == BPF_X && rnd(3) == 0)
				k = rnd(64); /* X from here: shifts past 32, a zero divisor */
			p[pc] = (struct sock_filter)STMT(BPF_ALU | op | src, k);
			break;
		}
		case 8:
			p[pc] = (struct sock_filter)STMT(rnd(3) ? (BPF_MISC | (rnd(2) ? BPF_TAX : BPF_TXA)) : BPF_ALU | BPF_NEG, 0);
			break;
		case 9:
			p[pc] = (struct sock_filter)STMT(BPF_JMP | BPF_JA, sloppy ? rnd((uint32_t)left + 1) : rnd((uint32_t)left));
			break;
		case 10:
			p[pc] = (struct sock_filter)JUMP(BPF_JMP | jmp_ops[rnd(N(jmp_ops))] | (rnd(4) ? BPF_K : BPF_X), k,
							 sloppy && !rnd(3) ? (uint8_t)left : jt, jf);
			break;
		default:
			p[pc] = rnd(3) ? (struct sock_filter)RET(random_ret()) : (struct sock_filter)STMT(BPF_RET | BPF_A, 0);
		}
	}
	p[len - 1] = rnd(4) ? (struct sock_filter)RET(random_ret()) : (struct sock_filter)STMT(BPF_RET | BPF_A, 0);
	return len;
}

static bool can_filter(void)
{
	static const struct sock_filter allow[] = { RET(SECCOMP_RET_ALLOW) };
	struct seccomp_filters f = { .mode = SECCOMP_MODE_FILTER };
	seccomp_filters_add(&f, allow, 1);
	struct report r;
	uint64_t args[6] = { 0 };
	enum outcome o = kernel_verdict(&f, SYS_getpid, args, &r);
	seccomp_filters_release(&f);
	return o == RAN_OR_RETURNED && !r.install_errno;
}

/* Hand-made filters with every action and the instruction pointer, then random ones, alone and stacked. */
static void against_the_kernel(void **state)
{
	(void)state;
	uint64_t ip;
	uint64_t args[6] = { 1, 2, 3, 4, 5, 6 };
	raw_syscall(SYS_getpid, args, &ip); /* the same code, so the same address, in the child */
	probe_ip = ip;
	if (!can_filter())
		skip();
	int failures = 0;
	char what[96];

	uint32_t ip_lo = (uint32_t)ip, ip_hi = (uint32_t)(ip >> 32);
	const struct sock_filter by_ip[] = {
		LD(instruction_pointer),
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, ip_lo, 0, 3),
		STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, ip_hi, 0, 1),
		RET(SECCOMP_RET_ERRNO | 77),
		RET(SECCOMP_RET_ERRNO | 78),
	};
	const uint32_t rets[] = {
		SECCOMP_RET_ALLOW, SECCOMP_RET_LOG, SECCOMP_RET_TRACE | 3, SECCOMP_RET_USER_NOTIF, SECCOMP_RET_ERRNO,
		SECCOMP_RET_ERRNO | 13, SECCOMP_RET_ERRNO | 5000, SECCOMP_RET_TRAP | 9, SECCOMP_RET_KILL_THREAD,
		SECCOMP_RET_KILL_PROCESS, 0x00020000,
	};
	for (size_t i = 0; i <= N(rets); i++) {
		struct seccomp_filters f = { .mode = SECCOMP_MODE_FILTER };
		if (i < N(rets)) {
			const struct sock_filter one[] = { RET(rets[i]) };
			seccomp_filters_add(&f, one, 1);
		} else {
			seccomp_filters_add(&f, by_ip, N(by_ip));
		}
		snprintf(what, sizeof(what), "hand-made %zu", i);
		failures += compare(&f, SYS_getppid, args, ip, what) < 0;
		seccomp_filters_release(&f);
	}

	/*
	 * Strict mode, in the probing thread alone: read and write run (on a bad
	 * descriptor), anything else kills the thread, exit_group included (were
	 * it allowed, the whole child would end before it reports).
	 */
	const long strict_nrs[] = { SYS_read, SYS_write, SYS_getppid, SYS_mmap, SYS_exit_group };
	for (size_t i = 0; i < N(strict_nrs); i++) {
		struct seccomp_filters strict = { .mode = SECCOMP_MODE_STRICT };
		uint64_t bad_fd[6] = { (uint64_t)-1, 0, 0, 0, 0, 0 };
		snprintf(what, sizeof(what), "strict mode, system call %ld", strict_nrs[i]);
		failures += compare(&strict, strict_nrs[i], bad_fd, ip, what) < 0;
	}

	for (int round = 0; round < 1500; round++) {
		long nr = probe_nrs[rnd(N(probe_nrs))];
		for (int k = 0; k < 6; k++)
			args[k] = rnd(2) ? rnd(8) : ((uint64_t)rnd(0xffffffff) << 32 | rnd(0xffffffff));
		struct seccomp_data d = { .nr = (int)nr, .arch = AUDIT_ARCH_X86_64, .instruction_pointer = ip };
		memcpy(d.args, args, sizeof(d.args));
		struct seccomp_filters f = { .mode = SECCOMP_MODE_FILTER };
		size_t nf = rnd(4) ? 1 : 2 + rnd(2);
		for (size_t i = 0; i < nf; i++) {
			struct sock_filter prog[MAX_PROG];
			size_t len = random_prog(prog, &d);
			seccomp_filters_add(&f, prog, len);
		}
		snprintf(what, sizeof(what), "random round %d (%zu filters, nr %ld)", round, nf, nr);
		if (compare(&f, nr, args, ip, what) < 0) {
			failures++;
			for (size_t i = 0; i < f.n; i++)
				for (size_t pc = 0; pc < f.v[i].len; pc++)
					print_error("  filter %zu [%zu] code 0x%02x jt %u jf %u k 0x%x\n", i, pc,
						    f.v[i].insns[pc].code, f.v[i].insns[pc].jt, f.v[i].insns[pc].jf,
						    f.v[i].insns[pc].k);
		}
		seccomp_filters_release(&f);
	}
	print_message("kernel comparisons: %u refused programs; allow %u, log %u, trace %u, user_notif %u, errno %u, "
		      "trap %u, kill_thread %u, kill_process %u\n",
		      met_refused, met_action[SC_ALLOW], met_action[SC_LOG], met_action[SC_TRACE], met_action[SC_USER_NOTIF],
		      met_action[SC_ERRNO], met_action[SC_TRAP], met_action[SC_KILL_THREAD], met_action[SC_KILL_PROCESS]);
	assert_int_equal(failures, 0);
	assert_true(met_refused >= 10);
	for (int a = SC_ALLOW; a <= SC_KILL_PROCESS; a++)
		assert_true(met_action[a] >= 10);
}

/* --- arithmetic and comparisons, each result read back as an errno --- */

#define NCALLS 1200

/* Many calls under one set of filters in one child thread: each call's raw return value. */
struct batch {
	const struct seccomp_filters *f;
	const uint64_t (*args)[6];
	size_t n;
	long ret[NCALLS];
	int install_errno;
};

static void *batch_prober(void *arg)
{
	struct batch *b = arg;
	uint64_t ip;
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	for (size_t i = 0; i < b->f->n; i++) {
		struct sock_filter prog[WRAP + 4096];
		struct sock_fprog fp = { .len = (unsigned short)wrap(prog, b->f->v[i].insns, b->f->v[i].len),
					 .filter = prog };
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0) {
			b->install_errno = errno;
			return NULL;
		}
	}
	for (size_t i = 0; i < b->n; i++)
		b->ret[i] = raw_syscall(SYS_getppid, b->args[i], &ip);
	return NULL;
}

/* Run the calls in a child; every one must come back (the programs only ever return an errno). */
static void kernel_batch(struct batch *b)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		pthread_t th;
		if (pthread_create(&th, NULL, batch_prober, b) != 0)
			_exit(98);
		pthread_join(th, NULL);
		size_t off = offsetof(struct batch, ret);
		if (write(p[1], (char *)b + off, sizeof(*b) - off) != (ssize_t)(sizeof(*b) - off))
			_exit(97);
		_exit(0);
	}
	close(p[1]);
	size_t off = offsetof(struct batch, ret), got = 0;
	ssize_t n;
	while (got < sizeof(*b) - off && (n = read(p[0], (char *)b + off + got, sizeof(*b) - off - got)) > 0)
		got += (size_t)n;
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(got, sizeof(*b) - off);
	assert_int_equal(b->install_errno, 0);
}

static const uint32_t operands[] = {
	0, 1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 47, 63, 64, 0x7fffffff, 0x80000000, 0xffffffff, 0x12345678, 0xdeadbeef,
};

/* prog under the kernel and the interpreter for every operand pair; returns the disagreements. */
static int compare_batch(const struct sock_filter *prog, size_t len, bool pairs, bool shifts, const char *what)
{
	static uint64_t args[NCALLS][6];
	size_t n = 0;
	for (size_t i = 0; i < N(operands); i++)
		for (size_t j = 0; j < (pairs ? N(operands) : 1); j++)
			for (unsigned sh = 0; sh < (shifts ? 3u : 1u); sh++) {
				assert_true(n < NCALLS);
				args[n][0] = operands[i];
				args[n][1] = operands[j];
				args[n][2] = 12 * sh;
				n++;
			}
	struct seccomp_filters f = { .mode = SECCOMP_MODE_FILTER };
	seccomp_filters_add(&f, prog, len);
	static struct batch b;
	b = (struct batch){ .f = &f, .args = (const uint64_t(*)[6])args, .n = n };
	kernel_batch(&b);
	int failures = 0;
	for (size_t i = 0; i < n; i++) {
		struct seccomp_data d = { .nr = SYS_getppid, .arch = AUDIT_ARCH_X86_64 };
		memcpy(d.args, args[i], sizeof(d.args));
		uint32_t ret;
		uint16_t loaded = 0;
		assert_int_equal(seccomp_run(prog, len, &d, &ret, &loaded), 0);
		assert_int_equal(seccomp_action_of(ret), SC_ERRNO);
		if (-(long)(ret & SECCOMP_RET_DATA) != b.ret[i]) {
			print_error("%s: a 0x%x x 0x%x shift %u: interpreter %u, kernel %ld\n", what, (uint32_t)args[i][0],
				    (uint32_t)args[i][1], (unsigned)args[i][2], ret & SECCOMP_RET_DATA, -b.ret[i]);
			failures++;
		}
	}
	seccomp_filters_release(&f);
	return failures;
}

/*
 * Every ALU operation with K and with X, every conditional jump, on operands
 * at the edges (zero, shift counts past 31, the sign bit): the result's bits
 * come back 12 at a time as the errno of the call.
 */
static void arithmetic_against_the_kernel(void **state)
{
	(void)state;
	uint64_t ip;
	uint64_t args[6] = { 0 };
	raw_syscall(SYS_getpid, args, &ip);
	probe_ip = ip;
	if (!can_filter())
		skip();
	static const uint16_t ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH };
	int failures = 0;
	char what[64];
	/* A = args[0] OP (X = args[1] or K); then (A >> args[2]) & 0xfff as the errno */
	for (size_t o = 0; o <= N(ops); o++) {
		for (size_t ki = 0; ki <= N(operands); ki++) {
			bool x = ki == N(operands);
			uint16_t code = o < N(ops) ? (uint16_t)(BPF_ALU | ops[o] | (x ? BPF_X : BPF_K)) : BPF_ALU | BPF_NEG;
			uint32_t k = x ? 0 : operands[ki];
			if (o == N(ops) && !x)
				continue; /* NEG once */
			if (!x && ((ops[o] == BPF_DIV && k == 0) || ((ops[o] == BPF_LSH || ops[o] == BPF_RSH) && k >= 32)))
				continue; /* the kernel refuses these; bad_programs checks that */
			const struct sock_filter prog[] = {
				LD(args[1]),
				STMT(BPF_MISC | BPF_TAX, 0),
				LD(args[0]),
				STMT(code, k),
				STMT(BPF_ST, 0),
				LD(args[2]),
				STMT(BPF_MISC | BPF_TAX, 0),
				STMT(BPF_LD | BPF_MEM, 0),
				STMT(BPF_ALU | BPF_RSH | BPF_X, 0),
				STMT(BPF_ALU | BPF_AND | BPF_K, 0xfff),
				STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
				STMT(BPF_RET | BPF_A, 0),
			};
			if (x && o < N(ops) && ops[o] == BPF_DIV)
				continue; /* a zero X kills the thread: below, on its own */
			snprintf(what, sizeof(what), "alu code 0x%02x k 0x%x", code, k);
			failures += compare_batch(prog, N(prog), x, true, what);
		}
	}
	/* division by X, without a zero X: a zero ends the program with 0, which kills the thread */
	const struct sock_filter div[] = {
		LD(args[1]),
		JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		RET(SECCOMP_RET_ERRNO | 4000),
		STMT(BPF_MISC | BPF_TAX, 0),
		LD(args[0]),
		STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
		STMT(BPF_ST, 0),
		LD(args[2]),
		STMT(BPF_MISC | BPF_TAX, 0),
		STMT(BPF_LD | BPF_MEM, 0),
		STMT(BPF_ALU | BPF_RSH | BPF_X, 0),
		STMT(BPF_ALU | BPF_AND | BPF_K, 0xfff),
		STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
		STMT(BPF_RET | BPF_A, 0),
	};
	failures += compare_batch(div, N(div), true, true, "div x");
	/* each comparison, with K and with X: errno 1 taken, 2 not */
	static const uint16_t jops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
	for (size_t o = 0; o < N(jops); o++)
		for (size_t ki = 0; ki <= N(operands); ki++) {
			bool x = ki == N(operands);
			const struct sock_filter prog[] = {
				LD(args[1]),
				STMT(BPF_MISC | BPF_TAX, 0),
				LD(args[0]),
				JUMP(BPF_JMP | jops[o] | (x ? BPF_X : BPF_K), x ? 0 : operands[ki], 0, 1),
				RET(SECCOMP_RET_ERRNO | 1),
				RET(SECCOMP_RET_ERRNO | 2),
			};
			snprintf(what, sizeof(what), "jump op 0x%02x k 0x%x", jops[o] | (x ? BPF_X : BPF_K),
				 x ? 0 : operands[ki]);
			failures += compare_batch(prog, N(prog), x, false, what);
		}
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allow_and_arch),
		cmocka_unit_test(by_number_and_argument),
		cmocka_unit_test(high_word_of_argument),
		cmocka_unit_test(alu_memory_and_x),
		cmocka_unit_test(division_by_zero_and_shifts),
		cmocka_unit_test(jumps),
		cmocka_unit_test(bad_programs),
		cmocka_unit_test(combining),
		cmocka_unit_test(modes_and_words_read),
		cmocka_unit_test(descriptions),
		cmocka_unit_test(against_the_kernel),
		cmocka_unit_test(arithmetic_against_the_kernel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
