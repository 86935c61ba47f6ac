/* SPDX-License-Identifier: GPL-3.0-or-later */
/* agent.h - agent mode: allocation events recorded inside the process by an injected agent, no traps. */
#ifndef MLZ_AGENT_H
#define MLZ_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_abi.h"
#include "bp.h"
#include "err.h"
#include "liveset.h"
#include "u64map.h"

struct target;
struct sym;
struct unw_modules;

/*
 * Usage:
 *	struct agent *a = agent_new(t, sym, ls);  // registers target hooks, feeds ls
 *	agent_install(a, &err);                   // every thread stopped: map, hook
 *	... agent_drain(a) from the event loop: the ring into ls, with stacks ...
 *	target_detach(t)                          // the cleanup registry unhooks and unmaps
 *	agent_free(a);
 *
 * Each allocator entry jumps to the agent (a stub, then agent_thunk), which
 * calls the original and writes a record with a copy of the caller's stack
 * into a ring in its own memory; mlyze reads the ring with
 * process_vm_readv and unwinds the copies with libdwfl as the breakpoint
 * tracer does, so both modes give the same stacks. No thread ever stops for
 * an allocation, and if mlyze dies the hooks only cost a full ring's drops.
 */
/*
 * How often the event loop reads the ring while the process runs
 * (agent.wait_ms, set by each drain): as often as keeps the ring under a
 * sixteenth full, and a read under AGENT_DRAIN_RECORDS records (under
 * sampling each may be a block for the address set, which grows between
 * reads), at the rate the last read found (what was written is still
 * in the cache as it is read: a quarter made churn's calls 10 % dearer in
 * the process), from AGENT_DRAIN_MS to
 * AGENT_DRAIN_IDLE_MS, and backing off twice as long after a read that found
 * nothing. So mlyze does not wake 200 times a second for a trickle (byte
 * sampling: its wakeups came out of the process's time on a busy machine),
 * and reads every 5 ms under a storm. A burst after a quiet spell waits at
 * most 40 ms: the 16 MiB ring holds more than that of churn's calls.
 */
#define AGENT_DRAIN_MS 5
#define AGENT_DRAIN_IDLE_MS 40
#define AGENT_DRAIN_RECORDS 1024 /* and as often as keeps a read under that many records */

struct agent_stats {
	uint64_t calls[AK_NKINDS]; /* records of each kind */
	uint64_t failed;           /* calls that returned NULL or an error */
	uint64_t cut;              /* records whose stack copy stopped at a bound */
	uint64_t bad;              /* records that made no sense (the ring was overwritten): reading stopped */
	uint64_t drains;
	uint64_t ns_drain, ns_unwind, ns_tables;
	uint64_t lost, nested, abandoned, noslot; /* the agent's own counts, as last read */
	uint64_t unwound_here;     /* stacks mlyze unwound from a copy (no table covered them) */
	uint64_t stack_records;    /* new stacks the agent posted */
	uint64_t table_bytes, table_builds; /* the unwind tables written into the process */
	double install_ms;         /* how long the process was stopped for the install */
	uint64_t nested_kind[AK_NKINDS];
	uint64_t set_full;         /* sampled allocations not recorded: the address set had no room */
	uint64_t unsampled_noslot; /* allocations sampling left out on threads without a slot */
	uint64_t set_overflow;     /* live blocks dropped when sampling began: no room in the set for them */
};

struct agent_hook {
	uint64_t entry;    /* the hooked function */
	uint64_t site;     /* where the jump is written: the entry, after an endbr64 */
	uint64_t to;       /* where it jumps: its thunk entry, or its stub */
	uint64_t orig;     /* the relocated entry instructions, then a jump back */
	int kind;
	int cleanup_id;
	uint8_t saved[5];  /* the bytes the jump replaced */
};

struct agent {
	struct target *t;
	struct sym *sym;
	struct liveset *ls;
	bool installed;
	bool broken;             /* a bad record was read: the ring is no longer trusted */
	bool want_install;       /* the dynamic linker finished loading: install at the next chance */
	bool breakpoints_too;    /* the last install failed for a reason that stops breakpoints as well */
	bool glibc_realloc;      /* realloc is glibc's libc's: its short way reads glibc's chunk header */
	bool own_calls_refused;  /* it failed on a system call the agent makes itself (seccomp) */
	unsigned execs;          /* programs the process exec'd since attach */
	uint64_t r_debug;        /* the dynamic linker's r_debug, while waiting for it */
	struct scratch ldsc;     /* the area of the breakpoint that waits for it */
	struct bptab bps;        /* that breakpoint, while waiting */
	char *module;            /* the allocator's module, for messages */
	uint64_t alloc_lo, alloc_hi; /* its code: frees called from there are its own */
	uint64_t syscall_insn;
	struct scratch area;     /* the agent's mapping: code, then data */
	uint64_t ctl, ring, ring_size, tail;
	uint8_t *buf;            /* what one drain reads */
	int64_t drained_ns;      /* when the last drain began */
	int wait_ms;             /* the event loop's next wait (above) */
	struct agent_hook hooks[AGENT_MAXHOOKS];
	int nhooks;
	int cleanup_unmap, cleanup_loader;
	int64_t tid_off;
	uint64_t unw[2];         /* the two regions for unwind tables */
	int unw_which;           /* the one in use (1, 2), 0 none */
	uint32_t max_depth;      /* what the agent was told */
	bool tables_stale;       /* the agent met a PC no table covers */
	struct unw_modules *ready_tables; /* made before the stop for the install (agent_prepare) */
	struct u64map stk;       /* agent stack id -> its frames: offset in stk_pcs << 16 | count */
	uint64_t *stk_pcs;
	size_t npcs, pcs_alloc;
	struct u64map stk_ls;    /* (agent stack id, thread index) -> the live set's stack id */
	uint64_t stk_ls_sweeps;  /* the live set's sweep count when stk_ls was filled */
	int last_tid;            /* liveset_thread of the last record's thread, cached */
	uint16_t last_tidx;
	size_t left_mapped;      /* bytes left in the process at detach (a thread was still inside) */
	struct agent_stats st;
	/* Byte sampling: the mean now (0: every call), the seed, and each generation's mean (agent_abi.h). */
	uint64_t sample_mean, sample_seed;
	unsigned sample_gen;
	uint64_t gen_mean[256];
	uint64_t set, set_hint, set_mask, hint_mask; /* the address set and its hint in the process */
	bool set_used;           /* sampling was on: the set holds recorded blocks, frees must look there */
	uint64_t unsampled_seen; /* the threads' unsampled counts as last read */
	uint64_t grow_after;     /* the set's growth failed: not before this time (mono_ms) */
	uint64_t (*areas)[2];
	/* The process is about to end and its memory still exists: take the last snapshot. */
	void (*on_process_exit)(void *arg);
	void *exit_arg;
};

/* An agent that writes into ls and registers as its event source; nothing is injected yet. */
struct agent *agent_new(struct target *t, struct sym *sym, struct liveset *ls);
/* Build what the install needs while the process still runs, so that its stop is shorter. */
void agent_prepare(struct agent *a);
/*
 * Inject the agent and hook the allocator; every thread must be stopped. On
 * failure nothing stays changed and err says why (a seccomp filter that
 * forbids mmap: MLZ_E_REFUSED).
 */
int agent_install(struct agent *a, struct mlz_err *err);
/* Rebuild the unwind tables (libraries loaded since) and hand them to the agent. 0 or -1. */
int agent_refresh_tables(struct agent *a);
/* If the dynamic linker said the libraries are loaded, stop, install and resume. */
int agent_install_pending(struct agent *a, struct mlz_err *err);
/*
 * Before detach: stop, read the last records, put the entries back, and let
 * the calls still inside the agent finish, so that detach can unmap it.
 * The target is left stopped (detach resumes it).
 */
int agent_remove(struct agent *a, struct mlz_err *err);
/*
 * Sample allocations with mean bytes (0: record every call), from now on for
 * new allocations. Every thread must be stopped when the agent is installed:
 * going from exact to sampled puts the blocks live now into the agent's
 * address set, so that their frees are still seen (those that find no room
 * leave the live set, counted in stats). Before the install it only says
 * what the install will do.
 */
int agent_set_sample(struct agent *a, uint64_t mean, struct mlz_err *err);
/* Whether the address set should grow: a quarter of it holds live recorded blocks. */
bool agent_set_wants_room(const struct agent *a);
/* Grow the address set (rebuilt fourfold, or more); every thread must be stopped. 0 or -1. */
int agent_grow_set(struct agent *a, struct mlz_err *err);
/* Allocations the threads' countdowns left out so far (read from the process). */
uint64_t agent_unsampled(struct agent *a);
/* Read what the agent recorded since the last drain into the live set. */
void agent_drain(struct agent *a);
void agent_free(struct agent *a);
/* Register as the live set's event source (agent_new does). */
void agent_attach_source(struct agent *a);

#endif
