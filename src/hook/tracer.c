// SPDX-License-Identifier: GPL-3.0-or-later
/* tracer.c - allocation traps: entries recorded with their stacks, results caught by return trampolines. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "blocks.h"
#include "clock.h"
#include "proc.h"
#include "bp.h"
#include "ool.h"
#include "sym.h"
#include "target.h"
#include "tracer.h"
#include "xalloc.h"


/* A trampoline's result slot holds this until the call returns: no pointer or errno looks like it. */
#define SENTINEL 0x5eed5eed5eed5eedull
#define INST_SIZE 32
#define NINST 1024
/* Bytes of stack copied at each traced allocation for the unwinder. */
#define TRAP_STACK_COPY 4096
#define MAX_MAX_DEPTH 256

/* A traced call in progress: its arguments, where it returns, and how its result comes back. */
struct pending {
	bool active;
	uint8_t kind;
	int inst;           /* trampoline instance, or -1: the return traps at trap_ret */
	uint64_t entry_rsp; /* rsp at entry: the slot holding the return address */
	uint64_t ret;       /* the original return address */
	uint64_t a0, a1, a2;
	uint32_t stack;
	uint32_t tick;
};

struct tthread {
	pid_t tid;
	uint16_t tidx;
	int inst;           /* its own trampoline instance (-1 before the first call) */
	struct pending p;
};


static struct tthread *tthread_find(struct tracer *tr, pid_t tid)
{
	for (size_t i = 0; i < tr->nth; i++)
		if (tr->th[i].tid == tid)
			return &tr->th[i];
	return NULL;
}

static struct tthread *tthread_get(struct tracer *tr, pid_t tid)
{
	struct tthread *tt = tthread_find(tr, tid);
	if (tt)
		return tt;
	ALLOC_GROW(tr->th, tr->nth + 1, tr->th_alloc);
	tt = &tr->th[tr->nth++];
	*tt = (struct tthread){ .tid = tid, .tidx = liveset_thread(tr->ls, tid), .inst = -1 };
	return tt;
}

static void tthread_forget(struct tracer *tr, pid_t tid)
{
	struct tthread *tt = tthread_find(tr, tid);
	if (!tt)
		return;
	if (tt->inst >= 0) {
		ALLOC_GROW(tr->free_inst, tr->nfree + 1, tr->free_alloc);
		tr->free_inst[tr->nfree++] = (uint32_t)tt->inst;
	}
	*tt = tr->th[--tr->nth];
}

static uint64_t inst_code(const struct tracer *tr, int i) { return tr->tr_code + (uint64_t)i * INST_SIZE; }
static uint64_t inst_data(const struct tracer *tr, int i) { return tr->tr_data + (uint64_t)i * INST_SIZE; }

/* --- into the live set --- */

/*
 * A free; rsp (0: unknown) is the free's own stack pointer. A free of a block
 * never seen allocated that returns into the allocator's own library is not
 * the program's (glibc emptying an exiting thread's tcache): it is counted
 * apart. Only then is the return address read, so known frees cost nothing more.
 */
static void del_block(struct tracer *tr, uint64_t addr, uint64_t rsp)
{
	uint64_t ret;
	if (liveset_remove(tr->ls, addr))
		return;
	bool own = rsp && tr->alloc_hi && target_read(tr->t, rsp, &ret, 8) == 8 && ret >= tr->alloc_lo &&
		   ret < tr->alloc_hi;
	liveset_unknown_free(tr->ls, own);
}

/* A traced call returned `result` (and, for posix_memalign, stored `result2`): apply it to the live set. */
static void complete(struct tracer *tr, struct tthread *tt, uint64_t result, uint64_t result2)
{
	struct pending *p = &tt->p;
	int64_t t0 = mono_ns();
	p->active = false;
	const struct alloc_call c = { p->kind, p->a0, p->a1, p->a2, result, result2 };
	if (!liveset_apply(tr->ls, &c, p->stack, p->tick))
		tr->st.failed++;
	tr->st.ns_tables += mono_ns() - t0;
}

/*
 * Read the result slots of every outstanding trampoline and apply the calls
 * that returned. On the trap path one more small read (extra, len bytes at
 * extra_addr) rides in the same process_vm_readv: each system call there is
 * paid by every allocation of the target. Returns whether extra was read.
 */
static bool drain_with(struct tracer *tr, uint64_t extra_addr, void *extra, size_t len)
{
	enum { BATCH = 256 };
	struct iovec local[BATCH + 1], remote[BATCH + 1];
	uint64_t buf[BATCH][4];
	struct tthread *who[BATCH];
	size_t i = 0;
	bool first = true, got_extra = false;
	while (i < tr->nth || (first && extra)) {
		size_t k = 0, x = first && extra ? 1 : 0;
		if (x) {
			local[0] = (struct iovec){ extra, len };
			remote[0] = (struct iovec){ (void *)extra_addr, len };
		}
		for (; i < tr->nth && k < BATCH; i++) {
			struct tthread *tt = &tr->th[i];
			if (!tt->p.active || tt->p.inst < 0)
				continue;
			local[x + k] = (struct iovec){ buf[k], sizeof(buf[k]) };
			remote[x + k] = (struct iovec){ (void *)inst_data(tr, tt->p.inst), sizeof(buf[k]) };
			who[k++] = tt;
		}
		first = false;
		if (!k && !x)
			break;
		ssize_t want = (ssize_t)(k * sizeof(buf[0]) + (x ? len : 0));
		if (target_readv(tr->t, local, remote, x + k) != want) {
			if (!x)
				return got_extra; /* the process is going away */
			/* The extra read failed (an unreadable address): drain without it. */
			drain_with(tr, 0, NULL, 0);
			return false;
		}
		got_extra |= x;
		/* The trampoline stores result2 before result, so a result seen means both are there. */
		for (size_t j = 0; j < k; j++)
			if (buf[j][0] != SENTINEL)
				complete(tr, who[j], buf[j][0], buf[j][3]);
	}
	return got_extra;
}

void tracer_drain(struct tracer *tr)
{
	drain_with(tr, 0, NULL, 0);
}

/* --- traps --- */

static int write2(struct tracer *tr, uint64_t a, const void *pa, size_t la, uint64_t b, const void *pb, size_t lb)
{
	struct iovec local[2] = { { (void *)pa, la }, { (void *)pb, lb } };
	struct iovec remote[2] = { { (void *)a, la }, { (void *)b, lb } };
	ssize_t n = target_writev(tr->t, local, remote, lb ? 2 : 1);
	return n == (ssize_t)(la + lb) ? 0 : -1;
}

/* Code bytes of an area mapped for return sites far from the allocator. */
#define FAR_AREA (64 * 1024)

/*
 * Shadow-stack mode: an int3 at the return address, inserted at the first call
 * that returns there and kept like the entries. Other code running through it
 * traps too, and goes on out of line. The displaced instruction's slot must
 * reach its RIP-relative operand: an area near the allocator serves libc, and
 * an executable mapped far from it gets an area of its own.
 */
static bool catch_at_site(struct tracer *tr, pid_t tid, uint64_t ret)
{
	struct mlz_err err;
	const struct bp *b = bp_find(&tr->bps, ret);
	if (b)
		return b->kind == AK_RETSITE; /* an entry right after a call: never seen, but not ours to move */
	for (size_t i = 0; i < tr->nno_site; i++)
		if (tr->no_site[i] == ret)
			return false;
	/* Whether it can run out of line at all (placed at itself, every operand reaches). */
	uint8_t code[16], out[OOL_SLOT];
	size_t outlen;
	if (target_read(tr->t, ret, code, sizeof(code)) != (ssize_t)sizeof(code) ||
	    ool_build(code, sizeof(code), ret, ret, out, &outlen, &err) < 0)
		goto no_site;
	for (size_t i = 0; i <= tr->nfar; i++) {
		struct scratch *a = i ? &tr->far[i - 1] : &tr->sc;
		if (scratch_reaches(a, ret, ret + 16) && bp_insert(tr->t, &tr->bps, a, ret, AK_RETSITE, &err) == 0)
			goto inserted;
	}
	ALLOC_GROW(tr->far, tr->nfar + 1, tr->far_alloc);
	if (scratch_map(tr->t, tid, tr->syscall_insn, ret, ret + 16, FAR_AREA, 0, &tr->far[tr->nfar], &err) == 0 &&
	    bp_insert(tr->t, &tr->bps, &tr->far[tr->nfar++], ret, AK_RETSITE, &err) == 0)
		goto inserted;
no_site:
	ALLOC_GROW(tr->no_site, tr->nno_site + 1, tr->no_site_alloc);
	tr->no_site[tr->nno_site++] = ret;
	return false;
inserted:
	tr->nsites++;
	return true;
}

/*
 * A call that never came back through its return site: if the code there is
 * gone (a library unloaded), the breakpoint is forgotten, to be set again when
 * a call returns there.
 */
static void recheck_site(struct tracer *tr, uint64_t ret)
{
	const struct bp *b = bp_find(&tr->bps, ret);
	uint8_t now;
	if (b && b->kind == AK_RETSITE && target_read(tr->t, ret, &now, 1) == 1 && now != 0xcc) {
		bp_drop(tr->t, &tr->bps, ret);
		tr->nsites--;
	}
}

/* Entry of an allocating call: record the call and its stack, and catch its return. */
static void capture(struct tracer *tr, struct tthread *tt, int kind, const struct user_regs_struct *regs, uint64_t at)
{
	uint64_t pcs[MAX_MAX_DEPTH];
	bool caller[MAX_MAX_DEPTH];
	struct user_regs_struct r = *regs;
	struct mlz_err err;
	int64_t t0 = mono_ns();
	r.rip = at; /* unwind from the entry as if the int3 were not there */
	int n = sym_unwind_regs(tr->sym, tt->tid, &r, TRAP_STACK_COPY, pcs, caller, liveset_depth(tr->ls), &err);
	if (n <= 0) {
		pcs[0] = at;
		n = 1;
	}
	/* A frame a signal interrupted is stored one byte on, so pc - 1 finds its instruction. */
	for (int i = 1; i < n; i++)
		if (!caller[i])
			pcs[i]++;
	int64_t t1 = mono_ns();
	tr->st.ns_unwind += t1 - t0;

	uint64_t ret;
	if (!sym_stack_word(tr->sym, regs->rsp, &ret) && target_read(tr->t, regs->rsp, &ret, 8) != 8)
		return; /* no stack to swap: let the call go unrecorded rather than harm it */
	if (ret >= tr->sc.base && ret < tr->sc.base + tr->sc.size)
		return; /* already one of ours: swapping again would loop */
	struct pending *p = &tt->p;
	*p = (struct pending){
		.active = true, .kind = (uint8_t)kind, .entry_rsp = regs->rsp, .ret = ret,
		.a0 = regs->rdi, .a1 = regs->rsi, .a2 = regs->rdx,
		.stack = liveset_stack(tr->ls, tt->tidx, pcs, n), .tick = liveset_tick_now(tr->ls),
	};
	tr->st.ns_tables += mono_ns() - t1;

	if (tr->return_sites) {
		p->inst = -1;
		if (catch_at_site(tr, tt->tid, ret))
			return;
		tr->st.uncaught++;
		p->active = false; /* no breakpoint fits there: the call runs untraced, and stats says so */
		return;
	}
	if (tt->inst < 0) {
		if (tr->nfree)
			tt->inst = (int)tr->free_inst[--tr->nfree];
		else if (tr->next_inst < tr->ninst)
			tt->inst = (int)tr->next_inst++;
	}
	p->inst = tt->inst;
	if (p->inst >= 0) {
		uint64_t d = inst_data(tr, p->inst), c = inst_code(tr, p->inst);
		/* memptr: where posix_memalign leaves the pointer; the others read their own result2 slot. */
		uint64_t data[4] = { SENTINEL, ret, kind == AK_POSIX_MEMALIGN ? regs->rdi : d + 24, 0 };
		if (write2(tr, d, data, sizeof(data), regs->rsp, &c, 8) == 0)
			return;
	} else if (write2(tr, regs->rsp, &tr->trap_ret, 8, 0, NULL, 0) == 0) {
		return;
	}
	p->active = false; /* the stack could not be written: the call runs untraced */
}

/*
 * A return caught by a trap: at trap_ret (no trampoline was free for this
 * thread) or at a return site (shadow-stack mode, site = its address). Only
 * the thread's own pending call returning to that frame counts.
 */
static int on_return_trap(struct tracer *tr, pid_t tid, struct user_regs_struct *regs, uint64_t site)
{
	struct tthread *tt = tthread_find(tr, tid);
	if (!tt || !tt->p.active || tt->p.inst >= 0 || regs->rsp != tt->p.entry_rsp + 8 || (site && site != tt->p.ret))
		return 0;
	uint64_t result2 = 0;
	if (tt->p.kind == AK_POSIX_MEMALIGN && (int)regs->rax == 0)
		target_read(tr->t, tt->p.a0, &result2, 8);
	uint64_t ret = tt->p.ret;
	complete(tr, tt, regs->rax, result2);
	if (!site)
		regs->rip = ret;
	tr->st.return_traps++;
	return 1;
}

/* The address a pending call's return was swapped for. */
static uint64_t swapped_ret(const struct tracer *tr, const struct pending *p)
{
	if (tr->return_sites)
		return p->ret; /* nothing was swapped */
	return p->inst >= 0 ? inst_code(tr, p->inst) : tr->trap_ret;
}

/*
 * Is this entry inside the thread's pending traced call? Deeper on the stack,
 * yes; at the very same stack slot only if that slot still holds our swapped
 * return address: a tail call (reallocarray jumping to realloc). A call at or
 * above the pending one's frame otherwise means that frame was left by longjmp.
 */
static bool is_nested(struct tracer *tr, const struct tthread *tt, const struct user_regs_struct *regs, int kind)
{
	if (tt->p.entry_rsp > regs->rsp)
		return true;
	if (tt->p.entry_rsp != regs->rsp)
		return false;
	/* Return sites swap nothing: a tail call enters another function, a new call the same one. */
	if (tr->return_sites && kind == tt->p.kind)
		return false;
	uint64_t slot;
	return target_read(tr->t, regs->rsp, &slot, 8) == 8 && slot == swapped_ret(tr, &tt->p);
}

/* For the unwinder: a swapped return address on a stack reads as the original one. */
static bool unswap_word(void *arg, uint64_t addr, uint64_t *val)
{
	struct tracer *tr = arg;
	if (*val < tr->sc.base || *val >= tr->sc.base + tr->sc.size)
		return false;
	for (size_t i = 0; i < tr->nth; i++) {
		const struct pending *p = &tr->th[i].p;
		if (p->active && p->entry_rsp == addr && *val == swapped_ret(tr, p)) {
			*val = p->ret;
			return true;
		}
	}
	return false;
}

/* A child mlyze holds: a vfork child, or a fork child whose breakpoints could not be taken out. */
static bool is_vfork_child(const struct target *t, pid_t tid)
{
	for (size_t i = 0; i < t->nchildren; i++)
		if (t->children[i].pid == tid)
			return true;
	return false;
}

/*
 * A trap costs 3-4 us when mlyze and the trapping thread share a CPU and
 * 30-55 us when they do not (wake-ups across CPUs). The target's affinity is
 * its own business, but mlyze may place itself: it moves to the CPU the
 * thread trapped on, read from the thread's rseq area, so the thread, resumed
 * from there, tends to stay there too.
 */
static void follow_cpu(struct tracer *tr, uint32_t cpu)
{
	if ((int)cpu == tr->my_cpu || cpu >= CPU_SETSIZE)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == 0) {
		tr->my_cpu = (int)cpu;
		tr->st.migrations++;
	}
}

static int on_sigtrap(void *arg, struct target *t, pid_t tid, struct user_regs_struct *regs)
{
	struct tracer *tr = arg;
	int64_t t0 = mono_ns();
	uint64_t at = regs->rip - 1;
	struct mlz_err err;
	int r = 1;

	if (tr->trap_ret && at == tr->trap_ret) {
		if (!on_return_trap(tr, tid, regs, 0))
			return 0;
		goto resume;
	}
	const struct bp *b = bp_find(&tr->bps, at);
	if (!b)
		return 0;
	regs->rip = b->ool;
	int kind = b->kind; /* b points into the table, which inserting a return site may move */
	if (is_vfork_child(t, tid))
		goto resume; /* it runs in our memory (or a fork child in a copy of it) but is not the process we trace */
	if (kind == AK_RETSITE) {
		tr->st.traps++;
		if (!on_return_trap(tr, tid, regs, at))
			tr->st.site_passes++;
		goto resume;
	}
	if (kind == AK_DLSTATE) {
		/* r_state RT_CONSISTENT (0): the libraries are in place; install before anything runs. */
		int32_t state = -1;
		if (!tr->installed && tr->r_debug && target_read(t, tr->r_debug + 24, &state, 4) == 4 && state == 0) {
			tr->want_install = true;
			r = 2;
		}
		goto resume;
	}
	tr->st.traps++;
	tr->st.calls[kind]++;
	/* Where the thread ran comes with the drain read: one system call for both. */
	uint32_t cpu;
	if (tr->rseq_cpu_off >= 0 && regs->fs_base) {
		if (drain_with(tr, regs->fs_base + (uint64_t)tr->rseq_cpu_off, &cpu, sizeof(cpu)))
			follow_cpu(tr, cpu);
	} else {
		tracer_drain(tr);
	}
	struct tthread *tt = tthread_get(tr, tid);
	if (tt->p.active) {
		if (is_nested(tr, tt, regs, kind)) {
			tr->st.nested++; /* realloc calling malloc, say: counted once */
			goto resume;
		}
		tt->p.active = false; /* its frame is gone: it never returned */
		tr->st.abandoned++;
		if (tr->return_sites)
			recheck_site(tr, tt->p.ret);
	}
	if (kind == AK_FREE) {
		int64_t t1 = mono_ns();
		if (regs->rdi)
			del_block(tr, regs->rdi, regs->rsp);
		tr->st.ns_tables += mono_ns() - t1;
	} else {
		capture(tr, tt, kind, regs, at);
	}
resume:
	if (target_setregs(t, tid, regs, &err) < 0)
		return 0;
	tr->st.ns_trap += mono_ns() - t0;
	t->resume_here = tr->my_cpu >= 0;
	return r;
}

/* --- process life --- */

static int on_fork_child(void *arg, struct target *t, pid_t child)
{
	struct tracer *tr = arg;
	struct mlz_err err;
	if (bp_restore_in(child, &tr->bps, &err) == 0)
		return 0;
	/* Let go with an int3 in it, it would die of SIGTRAP at its next allocation. */
	strbuf_addf(&t->notices, "fork child %d keeps breakpoints of mlyze (%s): mlyze serves its traps while attached\n",
		    child, err.msg);
	return -1;
}

static void on_thread_exit(void *arg, struct target *t, pid_t tid, bool last)
{
	(void)t;
	struct tracer *tr = arg;
	tracer_drain(tr);
	tthread_forget(tr, tid);
	if (last && tr->on_process_exit)
		tr->on_process_exit(tr->exit_arg);
}

static void reset(struct tracer *tr)
{
	bp_forget_all(&tr->bps);
	tr->nsites = 0;
	tr->nfar = 0;
	tr->nno_site = 0;
	tr->sc = (struct scratch){ 0 };
	tr->installed = false;
	tr->want_install = false;
	tr->nth = 0;
	tr->nfree = 0;
	tr->next_inst = tr->ninst = 0;
	tr->tr_code = tr->tr_data = tr->trap_ret = 0;
	tr->r_debug = 0;
	tr->syscall_insn = 0;
	/* The old image's heap is gone with it; snapshots keep what was recorded. */
	liveset_forget_blocks(tr->ls);
}

static int hook_dynamic_linker(struct tracer *tr, struct mlz_err *err);

static void on_exec(void *arg, struct target *t)
{
	struct tracer *tr = arg;
	struct mlz_err err;
	reset(tr);
	if (!t->launching)
		tr->execs++;
	if (tracer_install(tr, &err) == 0 || hook_dynamic_linker(tr, &err) == 0)
		return;
	strbuf_addf(&t->notices, "allocation tracing is off in the new program: %s\n", err.msg);
}

/* --- install --- */

/* Undo what the tracer changed beyond breakpoint bytes: threads mid-call, swapped return addresses. */
static int fixup_threads(void *arg)
{
	struct tracer *tr = arg;
	struct target *t = tr->t;
	int failed = 0;
	tr->unfixed = 0;
	for (size_t i = 0; i < t->nthreads; i++) {
		struct thread *th = &t->threads[i];
		struct user_regs_struct regs;
		if (th->tid <= 0)
			continue;
		/* A thread not stopped, or not read, may be in the scratch area: it must stay mapped. */
		if (!th->stopped || target_regs(t, th->tid, &regs, NULL) < 0) {
			tr->unfixed++;
			continue;
		}
		uint64_t rip = regs.rip, nrip = rip;
		for (size_t k = 0; k < tr->bps.n; k++) {
			const struct bp *b = &tr->bps.v[k];
			if (rip == b->addr + 1 && (th->pending_sig == SIGTRAP || th->at_trap)) {
				nrip = b->addr; /* at our int3, not yet handled: run the real instruction */
				th->pending_sig = 0;
			} else if (rip == b->ool) {
				nrip = b->addr;
			} else if (rip > b->ool && rip < b->ool + OOL_SLOT) {
				uint64_t dest; /* at one of the slot's absolute jumps: take it */
				if (target_read(t, rip + 6, &dest, 8) == 8)
					nrip = dest;
			}
		}
		if (tr->ninst && rip >= tr->tr_code && rip < inst_code(tr, (int)tr->ninst)) {
			/*
			 * Inside a trampoline: finish the return to where its data says. The call
			 * may be over for the tracer (its result drained) while the thread is still
			 * at the final jump, so this does not depend on a pending call.
			 */
			uint64_t ret;
			if (target_read(t, inst_data(tr, (int)((rip - tr->tr_code) / INST_SIZE)) + 8, &ret, 8) == 8)
				nrip = ret;
		}
		struct tthread *tt = tthread_find(tr, th->tid);
		if (tt && tt->p.active) {
			if (rip == tr->trap_ret + 1)
				nrip = tt->p.ret, th->pending_sig = 0;
			uint64_t slot, want = swapped_ret(tr, &tt->p);
			if (!tr->return_sites && target_read(t, tt->p.entry_rsp, &slot, 8) == 8 && slot == want &&
			    target_write(t, tt->p.entry_rsp, &tt->p.ret, 8, NULL) < 0)
				failed++;
		}
		if (nrip != rip) {
			regs.rip = nrip;
			if (target_setregs(t, th->tid, &regs, NULL) < 0)
				failed++;
		}
	}
	return failed ? -1 : 0;
}

/* Registered before fixup_threads, so it runs after it: no thread is left in a slot here. */
static int unmap_scratch(void *arg)
{
	struct tracer *tr = arg;
	struct mlz_err err;
	/*
	 * From the crash handler no call is injected (checking it against a seccomp
	 * filter may allocate): the area stays, harmless, with no thread in it.
	 */
	if (tr->t->emergency || !tr->sc.size)
		return 0;
	if (tr->unfixed) {
		strbuf_addf(&tr->t->notices, "%zu thread(s) could not be stopped or read: the scratch area 0x%llx-0x%llx "
			    "stays mapped, unused, in case one runs there\n", tr->unfixed, (unsigned long long)tr->sc.base,
			    (unsigned long long)(tr->sc.base + tr->sc.size));
		return 0;
	}
	/* A process stopped by SIGSTOP has only group-stopped threads: one of them serves, and stays stopped. */
	pid_t tid = target_inject_thread(tr->t);
	if (!tid) {
		strbuf_addf(&tr->t->notices, "no stopped thread to unmap the scratch area 0x%llx-0x%llx with: it stays mapped, unused\n",
			    (unsigned long long)tr->sc.base, (unsigned long long)(tr->sc.base + tr->sc.size));
		return -1;
	}
	int r = 0;
	for (size_t i = 0; i <= tr->nfar; i++) {
		struct scratch *sc = i < tr->nfar ? &tr->far[i] : &tr->sc; /* the main area last */
		if (!sc->size || scratch_unmap(tr->t, tid, tr->syscall_insn, sc, &err) == 0)
			continue;
		if (err.kind != MLZ_E_REFUSED) {
			r = -1;
			continue;
		}
		/*
		 * An munmap the process's seccomp filter would punish is not made:
		 * with the breakpoints out and every thread off our code, an
		 * unused mapping harms nothing, a killed process does.
		 */
		strbuf_addf(&tr->t->notices, "%s: the scratch area 0x%llx-0x%llx stays mapped, unused\n", err.msg,
			    (unsigned long long)sc->base, (unsigned long long)(sc->base + sc->size));
	}
	return r;
}

/* The trampoline of instance i: store where posix_memalign put the pointer, the result, and return. */
static void trampoline_code(uint8_t out[INST_SIZE], uint64_t c, uint64_t d)
{
	uint8_t *o = out;
	int32_t rel;
	memset(out, 0xcc, INST_SIZE);
	o[0] = 0x4c, o[1] = 0x8b, o[2] = 0x1d; /* mov D+16(%rip), %r11 */
	rel = (int32_t)(d + 16 - (c + 7));
	memcpy(o + 3, &rel, 4);
	o[7] = 0x4d, o[8] = 0x8b, o[9] = 0x1b; /* mov (%r11), %r11 */
	o[10] = 0x4c, o[11] = 0x89, o[12] = 0x1d; /* mov %r11, D+24(%rip) */
	rel = (int32_t)(d + 24 - (c + 17));
	memcpy(o + 13, &rel, 4);
	o[17] = 0x48, o[18] = 0x89, o[19] = 0x05; /* mov %rax, D+0(%rip): the result, last */
	rel = (int32_t)(d - (c + 24));
	memcpy(o + 20, &rel, 4);
	o[24] = 0xff, o[25] = 0x25; /* jmp *D+8(%rip) */
	rel = (int32_t)(d + 8 - (c + 30));
	memcpy(o + 26, &rel, 4);
}

static int make_scratch(struct tracer *tr, uint64_t near, struct mlz_err *err)
{
	if (tr->sc.size)
		return scratch_reaches(&tr->sc, near, near + 1) ? 0 : mlz_error(err, "the allocator is out of reach");
	pid_t tid = target_stopped_thread(tr->t);
	if (!tid)
		return mlz_error(err, "no stopped thread to map the scratch area with");
	if (!tr->syscall_insn && !(tr->syscall_insn = target_syscall_insn(tr->t)))
		return mlz_error(err, "no syscall instruction found in the process's code");
	size_t code = 4096 + NINST * INST_SIZE, data = NINST * INST_SIZE;
	if (scratch_map(tr->t, tid, tr->syscall_insn, near, near + 1, code, data, &tr->sc, err) < 0) {
		if (err->kind == MLZ_E_REFUSED) { /* the process's seccomp filter: say what still works */
			char why[sizeof(err->msg)];
			snprintf(why, sizeof(why), "%s", err->msg);
			mlz_error_kind(err, MLZ_E_REFUSED,
				       "%s: tracing needs it; heap walks, stacks and cores still work (as with --no-trace)",
				       why);
		}
		return -1;
	}
	tr->cleanup_unmap = cleanup_add_func(&tr->t->cleanup, unmap_scratch, tr);
	tr->cleanup_fixup = cleanup_add_func(&tr->t->cleanup, fixup_threads, tr);
	/* trap_ret is one of the int3 bytes the code part is filled with. */
	tr->trap_ret = scratch_take(&tr->sc, 16);
	tr->tr_code = scratch_take(&tr->sc, NINST * INST_SIZE);
	tr->tr_data = tr->sc.data;
	tr->ninst = NINST;
	uint8_t *code_bytes = xmalloc(NINST * INST_SIZE);
	for (int i = 0; i < NINST; i++)
		trampoline_code(code_bytes + i * INST_SIZE, inst_code(tr, i), inst_data(tr, i));
	int r = target_write(tr->t, tr->tr_code, code_bytes, NINST * INST_SIZE, err);
	free(code_bytes);
	return r;
}

static const char *const lookup_names[] = {
	"malloc", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
	"memalign", "valloc", "pvalloc", "free", "_r_debug", "_dl_debug_state", "__rseq_offset", "__rseq_size",
};

int tracer_install(struct tracer *tr, struct mlz_err *err)
{
	enum { N = sizeof(lookup_names) / sizeof(lookup_names[0]) };
	uint64_t addrs[N];
	const char *mods[N];
	tr->return_sites = proc_has_shadow_stack(tr->t->pid);
	if (sym_refresh(tr->sym, err) < 0)
		return -1;
	sym_find_symbols(tr->sym, lookup_names, N, addrs, mods);
	tr->r_debug = addrs[AK_NKINDS];
	/* glibc registers rseq for each thread: its cpu_id tells mlyze where a trapping thread runs. */
	int64_t off = 0;
	uint32_t size = 0;
	tr->rseq_cpu_off = -1;
	if (addrs[AK_NKINDS + 2] && addrs[AK_NKINDS + 3] && target_read(tr->t, addrs[AK_NKINDS + 2], &off, 8) == 8 &&
	    target_read(tr->t, addrs[AK_NKINDS + 3], &size, 4) == 4 && size >= 8)
		tr->rseq_cpu_off = off + 4;
	if (!addrs[AK_MALLOC] || !addrs[AK_FREE])
		return mlz_error(err, "no malloc and free in the process's symbols");
	free(tr->module);
	tr->module = xstrdup(mods[AK_MALLOC]);
	/* frees called from the allocator's own code are its own */
	target_module_text(tr->t, addrs[AK_FREE], &tr->alloc_lo, &tr->alloc_hi);
	/* Without malloc and free nothing is traced: their code is checked before anything is patched. */
	static const int needed[] = { AK_MALLOC, AK_FREE };
	for (size_t i = 0; i < 2; i++) {
		if (bp_find(&tr->bps, addrs[needed[i]]) || bp_check(tr->t, &tr->bps, addrs[needed[i]], err) == 0)
			continue;
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return mlz_error(err, "cannot hook %s: %s", alloc_kind_names[needed[i]], msg);
	}
	if (make_scratch(tr, addrs[AK_MALLOC], err) < 0)
		return -1;
	for (int k = 0; k < AK_NKINDS; k++) {
		tr->entry[k] = addrs[k];
		/* memalign and aligned_alloc may be one function: one breakpoint serves both. */
		if (!addrs[k] || bp_find(&tr->bps, addrs[k]) || bp_insert(tr->t, &tr->bps, &tr->sc, addrs[k], k, err) == 0)
			continue;
		if (k == AK_MALLOC || k == AK_FREE) {
			char msg[sizeof(err->msg)];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			return mlz_error(err, "cannot hook %s: %s", alloc_kind_names[k], msg);
		}
		/* As if the process had no such function: the others are traced, and the user is told. */
		tr->entry[k] = 0;
		strbuf_addf(&tr->t->notices, "%s is not traced: %s\n", alloc_kind_names[k], err->msg);
	}
	tr->installed = true;
	return 0;
}

/* Before libc is loaded (a program just exec'd): wait for the dynamic linker to finish loading. */
static int hook_dynamic_linker(struct tracer *tr, struct mlz_err *err)
{
	enum { N = sizeof(lookup_names) / sizeof(lookup_names[0]) };
	uint64_t addrs[N];
	const char *mods[N];
	if (sym_refresh(tr->sym, err) < 0)
		return -1;
	sym_find_symbols(tr->sym, lookup_names, N, addrs, mods);
	tr->r_debug = addrs[AK_NKINDS];
	uint64_t dl = addrs[AK_NKINDS + 1];
	if (!dl || !tr->r_debug)
		return mlz_error(err, "no dynamic linker breakpoint (_dl_debug_state) to wait for libraries with");
	if (make_scratch(tr, dl, err) < 0)
		return -1;
	return bp_insert(tr->t, &tr->bps, &tr->sc, dl, AK_DLSTATE, err);
}

int tracer_install_pending(struct tracer *tr, struct mlz_err *err)
{
	if (!tr->want_install || !target_runs(tr->t))
		return 0;
	tr->want_install = false;
	if (target_stop(tr->t, err) < 0)
		return -1;
	int r = tracer_install(tr, err);
	struct mlz_err e2;
	target_resume(tr->t, &e2);
	if (r == 0 && tr->execs)
		strbuf_addf(&tr->t->notices, "allocation tracing resumed in the new program (allocator in %s)\n",
			    tr->module);
	return r;
}

static void source_drain(void *arg)
{
	struct tracer *tr = arg;
	if (tr->installed && target_runs(tr->t))
		tracer_drain(tr);
}

static void source_info(void *arg, struct source_info *out)
{
	struct tracer *tr = arg;
	const struct tracer_stats *st = &tr->st;
	out->installed = tr->installed;
	out->active = tr->installed && target_runs(tr->t);
	out->mode = "breakpoints";
	out->allocator = tr->module;
	memcpy(out->calls, st->calls, sizeof(out->calls));
	out->nested = st->nested;
	out->traps = st->traps;
	out->return_traps = st->return_traps;
	out->returns_by = tr->return_sites ? "return-site breakpoints" : "trampolines";
	out->return_sites = tr->nsites;
	out->site_passes = st->site_passes;
	out->uncaught = st->uncaught;
	out->abandoned = st->abandoned;
	out->failed = st->failed;
	out->migrations = st->migrations;
	out->ns_trap = st->ns_trap;
	out->ns_unwind = st->ns_unwind;
	out->ns_tables = st->ns_tables;
	out->breakpoints = tr->bps.n;
	out->scratch = tr->sc.base;
	/* every area mapped into the process: the scratch area and the far ones */
	tr->nareas = 0;
	for (size_t i = 0; i <= tr->nfar; i++) {
		const struct scratch *sc = i ? &tr->far[i - 1] : &tr->sc;
		if (!sc->size)
			continue;
		ALLOC_GROW(tr->areas, tr->nareas + 1, tr->areas_alloc);
		tr->areas[tr->nareas][0] = sc->base;
		tr->areas[tr->nareas++][1] = sc->base + sc->size;
	}
	out->areas = (const uint64_t(*)[2])tr->areas;
	out->nareas = tr->nareas;
	out->memory = tr->th_alloc * sizeof(*tr->th) + tr->bps.alloc * sizeof(*tr->bps.v);
}

/* A call whose entry was seen holds its stack until its result is written into the live set. */
static void source_hold(void *arg, struct stack_holds *h)
{
	struct tracer *tr = arg;
	for (size_t i = 0; i < tr->nth; i++)
		if (tr->th[i].p.active)
			stack_holds_set(h, tr->th[i].p.stack);
}

static const struct source_ops tracer_source = { source_drain, source_info, source_hold };

struct tracer *tracer_new(struct target *t, struct sym *sym, struct liveset *ls)
{
	struct tracer *tr = xcalloc(1, sizeof(*tr));
	tr->t = t;
	tr->sym = sym;
	tr->bps.file_code = sym_file_code_cb;
	tr->bps.file_code_arg = sym;
	tr->ls = ls;
	tr->my_cpu = -1;
	tr->rseq_cpu_off = -1;
	sym_set_word_filter(sym, unswap_word, tr);
	t->hooks = (struct target_hooks){
		.arg = tr, .on_sigtrap = on_sigtrap, .on_fork_child = on_fork_child,
		.on_exec = on_exec, .on_thread_exit = on_thread_exit,
	};
	liveset_attach_source(ls, &tracer_source, tr);
	return tr;
}

void tracer_free(struct tracer *tr)
{
	if (!tr)
		return;
	if (tr->ls->src_arg == tr)
		liveset_detach_source(tr->ls);
	free(tr->bps.v);
	free(tr->far);
	free(tr->no_site);
	free(tr->th);
	free(tr->free_inst);
	free(tr->module);
	free(tr->areas);
	free(tr);
}
