/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tracer.h - allocation tracing: breakpoints on the allocator, events into the live-block table. */
#ifndef MLZ_TRACER_H
#define MLZ_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "liveset.h"
#include "bp.h"
#include "err.h"

struct target;
struct sym;

/*
 * Usage:
 *	struct tracer *tr = tracer_new(t, sym, ls); // registers target hooks, feeds ls
 *	tracer_install(tr, &err);                  // target stopped: int3 on every entry point
 *	... target_poll() runs the traps ...
 *	tracer_drain(tr);                          // results trampolines stored since
 *	ls->blocks, ls->stacks                     // the live set it writes
 *	target_detach(t)                           // the cleanup registry undoes everything
 *	tracer_free(tr);
 */
/* Breakpoint kinds beyond the allocator entries (enum alloc_kind). */
enum {
	AK_DLSTATE = AK_NKINDS, /* the dynamic linker's _dl_debug_state: libraries were (un)loaded */
	AK_RETSITE,             /* a return site: where a traced call returns (shadow-stack mode) */
};

struct tracer_stats {
	uint64_t calls[AK_NKINDS];  /* traps at each entry, nested ones included */
	uint64_t nested;            /* entries inside another traced call (not counted twice) */
	uint64_t traps;             /* every trap handled (entries and return traps) */
	uint64_t return_traps;      /* returns caught by a trap (no trampoline left, or a return site) */
	uint64_t site_passes;       /* return-site traps by code not returning from a traced call */
	uint64_t uncaught;          /* traced calls whose return site could not take a breakpoint */
	uint64_t abandoned;         /* traced calls that never returned (longjmp out of an allocator) */
	uint64_t failed;            /* calls that returned NULL or an error */
	uint64_t ns_trap;           /* time spent in mlyze handling traps */
	uint64_t ns_unwind;         /* of which unwinding */
	uint64_t ns_tables;         /* of which the block and stack tables */
	uint64_t migrations;        /* times mlyze moved itself to a trapping thread's CPU */
};

struct tthread;

struct tracer {
	struct target *t;
	struct sym *sym;
	bool installed;
	bool want_install;   /* the dynamic linker finished loading: install at the next chance */
	unsigned execs;      /* programs the process exec'd since attach */
	char *module;        /* where the allocator lives, for messages */
	uint64_t alloc_lo, alloc_hi; /* its executable mappings: frees called from there are its own */
	uint64_t entry[AK_NKINDS];
	uint64_t r_debug;
	int64_t rseq_cpu_off;  /* thread pointer + this = rseq cpu_id, -1 without rseq */
	int my_cpu;            /* the CPU mlyze pinned itself to, -1 none */
	uint64_t syscall_insn;
	struct scratch sc;
	struct bptab bps;
	/*
	 * With a CET shadow stack a swapped return address kills the thread:
	 * returns are caught by an int3 at the return address instead, one more
	 * trap per call. MLYZE_ASSUME_SHADOW_STACK=1 forces it (for tests).
	 */
	bool return_sites;
	size_t nsites;       /* return-site breakpoints in bps */
	struct scratch *far; /* more areas for the out-of-line slots of return sites sc cannot reach */
	size_t nfar, far_alloc;
	uint64_t *no_site;   /* return sites where no breakpoint fits: not tried again */
	size_t nno_site, no_site_alloc;
	int cleanup_unmap, cleanup_fixup;
	size_t unfixed;      /* threads fixup_threads could not check: the scratch area must stay */

	/* Return trampolines: instance i at code tr_code + 32 i, its data at tr_data + 32 i. */
	uint64_t tr_code, tr_data, trap_ret;
	uint32_t ninst, next_inst;
	uint32_t *free_inst;
	size_t nfree, free_alloc;

	struct tthread *th;
	size_t nth, th_alloc;

	struct liveset *ls;  /* where events go; the session owns it */
	uint64_t (*areas)[2]; /* the mapped areas, for source_info */
	size_t nareas, areas_alloc;
	struct tracer_stats st;

	/* The process is about to end and its memory still exists: take the last snapshot. */
	void (*on_process_exit)(void *arg);
	void *exit_arg;
};

/* A tracer that writes into ls and registers as its event source; nothing is installed yet. */
struct tracer *tracer_new(struct target *t, struct sym *sym, struct liveset *ls);
/* Find the allocator and put breakpoints on it; the target must be stopped. */
int tracer_install(struct tracer *tr, struct mlz_err *err);
/* If the dynamic linker asked for it, stop, install and resume. */
int tracer_install_pending(struct tracer *tr, struct mlz_err *err);
/* Account for every call whose result a trampoline stored since the last look. */
void tracer_drain(struct tracer *tr);
void tracer_free(struct tracer *tr);

#endif
