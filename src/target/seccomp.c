// SPDX-License-Identifier: GPL-3.0-or-later
/* seccomp.c - a classic BPF interpreter for seccomp filters, checking and running programs as the kernel does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "seccomp.h"
#include "xalloc.h"

/* The kernel's limits (BPF_MAXINSNS, BPF_MEMWORDS in linux/bpf_common.h). */
#define MAX_INSNS 4096
#define MEM_WORDS 16

/*
 * The instructions seccomp_check_filter() lets through (after
 * bpf_check_classic): no packet loads, no MOD, no IND/MSH addressing.
 */
static bool code_allowed(uint16_t code)
{
	switch (code) {
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_W | BPF_LEN:
	case BPF_RET | BPF_K:
	case BPF_RET | BPF_A:
	case BPF_ALU | BPF_ADD | BPF_K:
	case BPF_ALU | BPF_ADD | BPF_X:
	case BPF_ALU | BPF_SUB | BPF_K:
	case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_MUL | BPF_K:
	case BPF_ALU | BPF_MUL | BPF_X:
	case BPF_ALU | BPF_DIV | BPF_K:
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_AND | BPF_K:
	case BPF_ALU | BPF_AND | BPF_X:
	case BPF_ALU | BPF_OR | BPF_K:
	case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_XOR | BPF_K:
	case BPF_ALU | BPF_XOR | BPF_X:
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_X:
	case BPF_ALU | BPF_NEG:
	case BPF_LD | BPF_IMM:
	case BPF_LDX | BPF_IMM:
	case BPF_MISC | BPF_TAX:
	case BPF_MISC | BPF_TXA:
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
	case BPF_ST:
	case BPF_STX:
	case BPF_JMP | BPF_JA:
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_X:
		return true;
	}
	return false;
}

static bool is_cond_jump(uint16_t code)
{
	return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA;
}

/*
 * check_load_and_stores() of net/core/filter.c: a memory slot may be loaded
 * only if every path to the load stored it. Jumps go forward only, so one pass
 * in order sees every path into an instruction before the instruction.
 */
static bool stores_before_loads(const struct sock_filter *prog, size_t len)
{
	uint16_t masks[MAX_INSNS], valid = 0; /* one bit per slot */
	memset(masks, 0xff, len * sizeof(masks[0]));
	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &prog[pc];
		valid &= masks[pc];
		switch (f->code) {
		case BPF_ST:
		case BPF_STX:
			valid |= (uint16_t)(1u << f->k);
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
			if (!(valid & (1u << f->k)))
				return false;
			break;
		case BPF_JMP | BPF_JA:
			masks[pc + 1 + f->k] &= valid;
			valid = 0xffff; /* nothing falls through: the next instruction's mask alone decides */
			break;
		default:
			if (is_cond_jump(f->code)) {
				masks[pc + 1 + f->jt] &= valid;
				masks[pc + 1 + f->jf] &= valid;
				valid = 0xffff;
			}
		}
	}
	return true;
}

bool seccomp_prog_valid(const struct sock_filter *prog, size_t len)
{
	if (!prog || len == 0 || len > MAX_INSNS)
		return false;
	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &prog[pc];
		if (!code_allowed(f->code))
			return false;
		switch (f->code) {
		case BPF_ALU | BPF_DIV | BPF_K:
			if (f->k == 0)
				return false;
			break;
		case BPF_ALU | BPF_LSH | BPF_K:
		case BPF_ALU | BPF_RSH | BPF_K:
			if (f->k >= 32)
				return false;
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
			if (f->k >= MEM_WORDS)
				return false;
			break;
		case BPF_JMP | BPF_JA:
			if (f->k >= len - pc - 1)
				return false;
			break;
		case BPF_LD | BPF_W | BPF_ABS:
			if (f->k >= sizeof(struct seccomp_data) || (f->k & 3))
				return false;
			break;
		default:
			if (is_cond_jump(f->code) && (pc + f->jt + 1 >= len || pc + f->jf + 1 >= len))
				return false;
		}
	}
	uint16_t last = prog[len - 1].code;
	if (last != (BPF_RET | BPF_K) && last != (BPF_RET | BPF_A))
		return false;
	return stores_before_loads(prog, len);
}

int seccomp_run(const struct sock_filter *prog, size_t len, const struct seccomp_data *d, uint32_t *ret,
		uint16_t *loaded)
{
	if (!seccomp_prog_valid(prog, len))
		return -1;
	uint32_t a = 0, x = 0, mem[MEM_WORDS] = { 0 };
	/* Every jump goes forward, so len steps are enough; the bound holds even if that changed. */
	for (size_t pc = 0, steps = 0; pc < len && steps <= len; pc++, steps++) {
		const struct sock_filter *f = &prog[pc];
		uint32_t k = f->k, src = BPF_SRC(f->code) == BPF_X ? x : k;
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			/* seccomp turns these into native loads: no byte swapping, unlike a socket filter */
			memcpy(&a, (const char *)d + k, 4);
			*loaded |= (uint16_t)(1u << (k / 4));
			break;
		case BPF_LD | BPF_W | BPF_LEN: a = sizeof(struct seccomp_data); break;
		case BPF_LDX | BPF_W | BPF_LEN: x = sizeof(struct seccomp_data); break;
		case BPF_LD | BPF_IMM: a = k; break;
		case BPF_LDX | BPF_IMM: x = k; break;
		case BPF_LD | BPF_MEM: a = mem[k]; break;
		case BPF_LDX | BPF_MEM: x = mem[k]; break;
		case BPF_ST: mem[k] = a; break;
		case BPF_STX: mem[k] = x; break;
		case BPF_MISC | BPF_TAX: x = a; break;
		case BPF_MISC | BPF_TXA: a = x; break;
		case BPF_RET | BPF_K: *ret = k; return 0;
		case BPF_RET | BPF_A: *ret = a; return 0;
		case BPF_ALU | BPF_NEG: a = -a; break;
		case BPF_JMP | BPF_JA: pc += k; break;
		default:
			if (BPF_CLASS(f->code) == BPF_ALU) {
				switch (BPF_OP(f->code)) {
				case BPF_ADD: a += src; break;
				case BPF_SUB: a -= src; break;
				case BPF_MUL: a *= src; break;
				case BPF_DIV:
					if (!src) { /* the converted program's exit for a zero divisor: returns 0 */
						*ret = 0;
						return 0;
					}
					a /= src;
					break;
				case BPF_AND: a &= src; break;
				case BPF_OR: a |= src; break;
				case BPF_XOR: a ^= src; break;
				/* 32-bit eBPF shifts take the count modulo 32, in the interpreter and the JIT alike */
				case BPF_LSH: a <<= src & 31; break;
				case BPF_RSH: a >>= src & 31; break;
				}
				break;
			}
			bool taken = false;
			switch (BPF_OP(f->code)) {
			case BPF_JEQ: taken = a == src; break;
			case BPF_JGT: taken = a > src; break;
			case BPF_JGE: taken = a >= src; break;
			case BPF_JSET: taken = (a & src) != 0; break;
			}
			pc += taken ? f->jt : f->jf;
		}
	}
	return -1; /* fell off the end: the validity check makes this unreachable */
}

enum seccomp_action seccomp_action_of(uint32_t ret)
{
	switch (ret & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_ALLOW: return SC_ALLOW;
	case SECCOMP_RET_LOG: return SC_LOG;
	case SECCOMP_RET_TRACE: return SC_TRACE;
	case SECCOMP_RET_USER_NOTIF: return SC_USER_NOTIF;
	case SECCOMP_RET_ERRNO: return SC_ERRNO;
	case SECCOMP_RET_TRAP: return SC_TRAP;
	case SECCOMP_RET_KILL_THREAD: return SC_KILL_THREAD;
	default: return SC_KILL_PROCESS; /* __seccomp_filter()'s default case */
	}
}

bool seccomp_allows(uint32_t ret)
{
	enum seccomp_action a = seccomp_action_of(ret);
	return a == SC_ALLOW || a == SC_LOG;
}

/* The kernel orders actions by their value as a signed number: KILL_PROCESS (0x80000000) is the lowest. */
static int32_t precedence(uint32_t ret)
{
	return (int32_t)(ret & SECCOMP_RET_ACTION_FULL);
}

void seccomp_eval(const struct seccomp_filters *f, const struct seccomp_data *d, struct seccomp_verdict *v)
{
	*v = (struct seccomp_verdict){ .ret = SECCOMP_RET_ALLOW };
	if (f->mode == SECCOMP_MODE_STRICT) {
		v->loaded = 1; /* nr */
		if (d->nr != SYS_read && d->nr != SYS_write && d->nr != SYS_exit && d->nr != SYS_rt_sigreturn)
			v->ret = SECCOMP_RET_KILL_THREAD; /* __secure_computing_strict(): do_exit(SIGKILL) */
		return;
	}
	if (f->mode != SECCOMP_MODE_FILTER)
		return;
	/* seccomp_run_filters(): newest first, and a later one replaces only a strictly lower value. */
	for (size_t i = f->n; i-- > 0;) {
		uint32_t cur;
		if (seccomp_run(f->v[i].insns, f->v[i].len, d, &cur, &v->loaded) < 0) {
			v->bad = true;
			return;
		}
		if (precedence(cur) < precedence(v->ret))
			v->ret = cur;
	}
}

void seccomp_describe(uint32_t ret, const char *call, char *buf, size_t len)
{
	unsigned data = ret & SECCOMP_RET_DATA;
	switch (seccomp_action_of(ret)) {
	case SC_ALLOW:
		snprintf(buf, len, "allows %s", call);
		break;
	case SC_LOG:
		snprintf(buf, len, "allows %s (and logs it)", call);
		break;
	case SC_TRACE:
		snprintf(buf, len, "hands %s to a tracer (under mlyze it fails with ENOSYS)", call);
		break;
	case SC_USER_NOTIF:
		snprintf(buf, len, "hands %s to a supervisor process", call);
		break;
	case SC_ERRNO: {
		if (data > 4095)
			data = 4095; /* MAX_ERRNO, as the kernel clamps it */
		const char *name = data ? strerrorname_np((int)data) : NULL;
		if (!data)
			snprintf(buf, len, "skips %s (it returns 0)", call);
		else if (name)
			snprintf(buf, len, "fails %s with %s", call, name);
		else
			snprintf(buf, len, "fails %s with errno %u", call, data);
		break;
	}
	case SC_TRAP:
		snprintf(buf, len, "traps %s (SIGSYS)", call);
		break;
	case SC_KILL_THREAD:
	case SC_KILL_PROCESS:
		snprintf(buf, len, "kills %s", call);
		break;
	}
}

const char *seccomp_syscall_name(long nr, char *buf, size_t len)
{
	static const struct { long nr; const char *name; } names[] = {
		{ SYS_read, "read" }, { SYS_write, "write" }, { SYS_close, "close" }, { SYS_mmap, "mmap" },
		{ SYS_mprotect, "mprotect" }, { SYS_munmap, "munmap" }, { SYS_brk, "brk" },
		{ SYS_madvise, "madvise" }, { SYS_openat, "openat" }, { SYS_exit, "exit" },
		{ SYS_rt_sigreturn, "rt_sigreturn" }, { SYS_exit_group, "exit_group" },
		{ SYS_nanosleep, "nanosleep" }, { SYS_clock_gettime, "clock_gettime" }, { SYS_gettid, "gettid" },
		{ SYS_clone, "clone" }, { SYS_wait4, "wait4" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].nr == nr)
			return names[i].name;
	snprintf(buf, len, "system call %ld", nr);
	return buf;
}

void seccomp_filters_add(struct seccomp_filters *f, const struct sock_filter *insns, size_t len)
{
	ALLOC_GROW(f->v, f->n + 1, f->alloc);
	struct seccomp_prog *p = &f->v[f->n++];
	p->insns = xmalloc(len ? len * sizeof(*insns) : 1);
	memcpy(p->insns, insns, len * sizeof(*insns));
	p->len = len;
}

void seccomp_filters_release(struct seccomp_filters *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].insns);
	free(f->v);
	f->v = NULL;
	f->n = f->alloc = 0;
}
