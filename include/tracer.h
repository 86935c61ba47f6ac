/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tracer.h - allocation tracing: breakpoints on the allocator, events into the live-block table. */
#ifndef MLZ_TRACER_H
#define MLZ_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "blocks.h"
#include "bp.h"
#include "err.h"

struct target;
struct sym;

/*
 * Usage:
 *	struct tracer *tr = tracer_new(t, sym);    // registers target hooks
 *	tracer_install(tr, &err);                  // target stopped: int3 on every entry point
 *	... target_poll() runs the traps ...
 *	tracer_drain(tr);                          // results trampolines stored since
 *	tr->blocks, tr->stacks                     // the live set
 *	target_detach(t)                           // the cleanup registry undoes everything
 *	tracer_free(tr);
 */
enum alloc_kind {
	AK_MALLOC, AK_CALLOC, AK_REALLOC, AK_REALLOCARRAY, AK_POSIX_MEMALIGN, AK_ALIGNED_ALLOC,
	AK_MEMALIGN, AK_VALLOC, AK_PVALLOC, AK_FREE,
	AK_NKINDS,
	AK_DLSTATE = AK_NKINDS, /* the dynamic linker's _dl_debug_state: libraries were (un)loaded */
	AK_RETSITE,             /* a return site: where a traced call returns (shadow-stack mode) */
};

extern const char *const alloc_kind_names[AK_NKINDS];

struct tracer_stats {
	uint64_t calls[AK_NKINDS];  /* traps at each entry, nested ones included */
	uint64_t nested;            /* entries inside another traced call (not counted twice) */
	uint64_t traps;             /* every trap handled (entries and return traps) */
	uint64_t return_traps;      /* returns caught by a trap (no trampoline left, or a return site) */
	uint64_t site_passes;       /* return-site traps by code not returning from a traced call */
	uint64_t uncaught;          /* traced calls whose return site could not take a breakpoint */
	uint64_t unknown_frees;     /* frees of blocks not seen allocated (from before attach) */
	uint64_t replaced;          /* allocations at an address already live (a free we missed) */
	uint64_t abandoned;         /* traced calls that never returned (longjmp out of an allocator) */
	uint64_t failed;            /* calls that returned NULL or an error */
	uint64_t ns_trap;           /* time spent in mlyze handling traps */
	uint64_t ns_unwind;         /* of which unwinding */
	uint64_t ns_tables;         /* of which the block and stack tables */
	uint64_t peak_bytes, peak_blocks;
	uint64_t migrations;        /* times mlyze moved itself to a trapping thread's CPU */
};

struct tthread;

/* A phase from one `mark` to the next: its own peak counts from its own start. */
struct phase {
	char *name;
	uint32_t start_tick, end_tick;
	bool open;
	struct by_stack start, end;  /* end is filled when the phase closes */
	uint64_t peak_bytes;         /* highest live bytes during the phase */
};

struct tracer {
	struct target *t;
	struct sym *sym;
	bool installed;
	bool want_install;   /* the dynamic linker finished loading: install at the next chance */
	unsigned execs;      /* programs the process exec'd since attach */
	char *module;        /* where the allocator lives, for messages */
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

	/* Return trampolines: instance i at code tr_code + 32 i, its data at tr_data + 32 i. */
	uint64_t tr_code, tr_data, trap_ret;
	uint32_t ninst, next_inst;
	uint32_t *free_inst;
	size_t nfree, free_alloc;

	struct tthread *th;
	size_t nth, th_alloc;

	struct blocktab blocks;
	struct stacktab stacks;
	struct stack_live *live;  /* per stack id: what of it is live now */
	size_t live_alloc;
	struct by_stack peak;     /* the live set at the high-water mark */
	bool peak_pending;        /* a new high since peak was copied: copy before the next decrease */
	uint32_t peak_tick;
	struct phase *phases;
	size_t nphases, phases_alloc;
	struct clockidx clock;
	uint64_t seq;
	int64_t t0_ms;       /* monotonic ms at attach: ticks count from here */
	int max_depth;
	struct tracer_stats st;

	/* The process is about to end and its memory still exists: take the last snapshot. */
	void (*on_process_exit)(void *arg);
	void *exit_arg;
	bool emergency;      /* cleanup runs from the crash handler: leave the scratch mapped */
};

struct tracer *tracer_new(struct target *t, struct sym *sym);
/* Find the allocator and put breakpoints on it; the target must be stopped. */
int tracer_install(struct tracer *tr, struct mlz_err *err);
/* If the dynamic linker asked for it, stop, install and resume. */
int tracer_install_pending(struct tracer *tr, struct mlz_err *err);
/* Account for every call whose result a trampoline stored since the last look. */
void tracer_drain(struct tracer *tr);
/* Milliseconds since tracing began, in clock ticks of the block table. */
uint32_t tracer_tick_now(const struct tracer *tr);
/* Make tr->peak the live set at the high-water mark (it may still be now). */
void tracer_sync_peak(struct tracer *tr);
/* Forget the peak: the high-water mark starts again from now. */
void tracer_reset_peak(struct tracer *tr);
/* Close the open phase (if any) and start one named name. */
void tracer_mark(struct tracer *tr, const char *name);
/* The per-stack live figures now, as a by_stack (caller releases). */
void tracer_live_copy(struct tracer *tr, struct by_stack *out);
/* Bytes mlyze holds for the tables. */
size_t tracer_memory(const struct tracer *tr);
void tracer_free(struct tracer *tr);

#endif
