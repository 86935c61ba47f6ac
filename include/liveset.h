/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * liveset.h - the live set: every traced block with its stack, the peak, the
 * phases and the clock, fed by an event source and read by every analysis.
 */
#ifndef MLZ_LIVESET_H
#define MLZ_LIVESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blocks.h"

/*
 * Usage:
 *	struct liveset ls;
 *	liveset_init(&ls);                           // empty; phase 'attach' open
 *	// an event source (the breakpoint tracer) writes:
 *	liveset_attach_source(&ls, &my_source_ops, me);
 *	uint32_t st = liveset_stack(&ls, liveset_thread(&ls, tid), pcs, depth);
 *	liveset_add(&ls, addr, size, st, tick, 0);  liveset_remove(&ls, addr);
 *	// readers first account for what the source still holds:
 *	liveset_sync(&ls);  ls.blocks, ls.stacks, liveset_copy(&ls, &by)
 *	liveset_release(&ls);
 * A core or a --no-trace session has a live set and no source.
 */

enum alloc_kind {
	AK_MALLOC, AK_CALLOC, AK_REALLOC, AK_REALLOCARRAY, AK_POSIX_MEMALIGN, AK_ALIGNED_ALLOC,
	AK_MEMALIGN, AK_VALLOC, AK_PVALLOC, AK_FREE,
	AK_NKINDS,
};

extern const char *const alloc_kind_names[AK_NKINDS];

/* What an event source says of itself, for `stats` and `info`; strings are borrowed from the source. */
struct source_info {
	bool installed;            /* its hooks are in place (the process may have ended since) */
	bool active;               /* events are being recorded now: installed, and the process runs */
	const char *mode;          /* how: "breakpoints" or "agent" */
	const char *allocator;     /* the module whose allocator is hooked, NULL before */
	uint64_t calls[AK_NKINDS]; /* calls seen at each entry, nested ones included */
	uint64_t nested;           /* entries inside another traced call (not counted twice) */
	uint64_t traps;            /* every trap handled (entries and return traps) */
	uint64_t return_traps;     /* returns caught by a trap */
	const char *returns_by;    /* how results come back */
	uint64_t return_sites;     /* return-site breakpoints in place */
	uint64_t site_passes;      /* return-site traps by code not returning from a traced call */
	uint64_t uncaught;         /* traced calls whose return could not be caught */
	uint64_t abandoned;        /* traced calls that never returned (longjmp out of an allocator) */
	uint64_t failed;           /* calls that returned NULL or an error */
	uint64_t lost;             /* events the source could not record (a full ring): figures miss them */
	uint64_t stacks_cut;       /* stacks whose copy ended at a bound (an unknown stack's page) */
	uint64_t unwound_by_mlyze; /* agent: stacks mlyze unwound from a copy, not the agent from its tables */
	uint64_t unwind_table_bytes; /* agent: the unwind tables written into the process */
	double install_ms;         /* agent: how long the process was stopped for its install (attach) */
	uint64_t ns_drain;         /* time in mlyze reading recorded events (agent) */
	uint64_t migrations;       /* times mlyze moved itself to a trapping thread's CPU */
	uint64_t ns_trap, ns_unwind, ns_tables; /* time in mlyze handling traps, of which unwinding, tables */
	uint64_t breakpoints;      /* breakpoints in place */
	uint64_t scratch;          /* the address of mlyze's scratch area, 0 none */
	const uint64_t (*areas)[2]; /* every area mlyze mapped into the process: not the program's memory */
	size_t nareas;
	size_t memory;             /* bytes the source itself holds */
	uint64_t sample_bytes;     /* agent: byte sampling's mean now, 0 when every call is recorded */
	uint64_t unsampled;        /* agent: allocations byte sampling left out */
	uint64_t sample_dropped;   /* agent: sampled blocks left out for want of room in its address set */
};

struct source_ops {
	/* Account for every event the source holds but has not written yet. */
	void (*drain)(void *arg);
	void (*info)(void *arg, struct source_info *out);
	/* Mark the stacks of the calls it has seen start and not yet written. */
	void (*hold)(void *arg, struct stack_holds *h);
};

/*
 * Whoever keeps per-stack figures outside the live set (snapshots, the growth
 * point) says which stacks they hold, so a sweep keeps those, and how many
 * bytes they take, which count against the memory limit.
 */
struct holder_ops {
	void (*hold)(void *arg, struct stack_holds *h);
	size_t (*memory)(void *arg);
};

/*
 * Whoever wants every change as it happens (the recorder): a new stack made
 * under id (an id a sweep released may come back for another stack), a block
 * added (a replaced one included), a block removed, the blocks forgotten at
 * exec. Called from inside the writing calls; must not write to the set.
 */
struct observer_ops {
	void (*stack)(void *arg, uint32_t id);
	void (*add)(void *arg, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick);
	void (*remove)(void *arg, uint64_t addr);
	void (*forget)(void *arg);
};

#define LIVESET_DEFAULT_LIMIT (256ull << 20)
/* A sweep runs once this many new stacks were made, or as many as it kept if more. */
#define LIVESET_SWEEP_MIN 1024

/* A phase from one `mark` to the next: its own peak counts from its own start. */
struct phase {
	char *name;
	uint32_t start_tick, end_tick;
	bool open;
	struct by_stack start, end;  /* end is filled when the phase closes */
	uint64_t peak_bytes;         /* highest live bytes during the phase */
};

struct liveset {
	struct blocktab blocks;
	struct stacktab stacks;
	struct stack_live *live;  /* per stack id: what of it is live now */
	size_t live_alloc;
	struct by_stack peak;     /* the live set at the high-water mark */
	bool peak_pending;        /* a new high since peak was copied: copy before the next decrease */
	uint32_t peak_tick;
	uint64_t peak_bytes, peak_blocks;
	struct phase *phases;
	size_t nphases, phases_alloc;
	struct clockidx clock;
	uint64_t seq;             /* allocations so far: each block's sequence number */
	uint64_t changes;         /* allocations, frees and forgettings: what was built at a count still holds */
	int64_t t0_ms;            /* monotonic ms at the start: ticks count from here */
	bool clock_stopped;       /* a recording's live set: the time is stopped_tick, its end */
	uint32_t stopped_tick;
	uint64_t replaced;        /* allocations at an address already live (a free we missed) */
	uint64_t unknown_frees;   /* frees of blocks not seen allocated (from before attach) */
	uint64_t allocator_frees; /* frees of blocks not seen allocated, by the allocator itself (tcache at thread exit) */
	int max_depth;            /* frames a source records per stack */
	const struct source_ops *src;
	void *src_arg;
	const struct holder_ops *holder;
	void *holder_arg;
	const struct observer_ops *observer;
	void *observer_arg;
	uint64_t made_since_sweep, sweep_after; /* new stacks since the last sweep, and how many start the next */
	size_t mem_limit;         /* bytes the tables may take before new stacks are made coarser */
	int coarse_depth;         /* 0, or new stacks are cut to this many frames: the tables reached mem_limit */
	uint32_t coarse_tick;     /* when that began */
	uint64_t coarse_stacks;   /* new stacks made since, cut short */
	/*
	 * The figures: blocks.n and blocks.bytes when every call is traced;
	 * under byte sampling, each recorded block counts as 1/p blocks and
	 * size/p bytes (p = 1 - exp(-size/mean), its chance to be recorded),
	 * and these are the sums, estimates (liveset_weigh).
	 */
	uint64_t live_count, live_bytes;
	/* The sampling mean of each block by its sequence number: from seq on, mean (0: exact). */
	struct sample_epoch { uint64_t seq, mean; } *epochs;
	size_t nepochs, epochs_alloc;
	uint64_t sample_mean;     /* the mean sampling uses now, 0 when every call is traced */
	uint64_t estimated_mean;  /* the last mean sampling used; not 0: the figures are estimates */
};

void liveset_init(struct liveset *ls);
void liveset_release(struct liveset *ls);

/* For an event source: from now on, readers drain it through ops. */
void liveset_attach_source(struct liveset *ls, const struct source_ops *ops, void *arg);
void liveset_detach_source(struct liveset *ls);
void liveset_attach_holder(struct liveset *ls, const struct holder_ops *ops, void *arg);
/* Tell ops of every change from now on (NULL: no more). */
void liveset_observe(struct liveset *ls, const struct observer_ops *ops, void *arg);
/* What the source says of itself; false (and *out zeroed) without one. */
bool liveset_source_info(const struct liveset *ls, struct source_info *out);

/* --- writing (event sources) --- */
/* The index of thread tid in the stacks (a source keeps it per thread: looking it up is a search). */
uint16_t liveset_thread(struct liveset *ls, int tid);
/*
 * The id of a stack of the thread with index tidx (deduplicated). Making a new
 * one may first sweep the stacks nothing holds; when the tables would grow
 * past mem_limit even so, new stacks are cut to fewer frames from then on
 * (coarse_depth: 8, then 2; the last level never refuses a stack).
 */
uint32_t liveset_stack(struct liveset *ls, uint16_t tidx, const uint64_t *pcs, int depth);
/*
 * The id of a stack of thread tid that comes from a saved snapshot (its PCs
 * are saved ones, see sym.h): made at its full depth, never cut coarser, and
 * never sweeping (the caller holds it through a snapshot before events run).
 */
uint32_t liveset_stack_saved(struct liveset *ls, int tid, const uint64_t *pcs, int depth);
/* Frames a source should record per stack now: max_depth, or fewer over the memory limit. */
int liveset_depth(const struct liveset *ls);
/* Release every stack no live block, copy of per-stack figures or call in progress holds; returns how many. */
size_t liveset_sweep(struct liveset *ls);
/* A new memory limit in bytes; stacks are made at full depth again until the tables reach it. */
void liveset_set_limit(struct liveset *ls, size_t bytes);
/*
 * A block of size bytes allocated at addr from stack at tick, recorded by
 * byte sampling of mean bytes (0: every call); replaces a live one (a missed free).
 */
void liveset_add(struct liveset *ls, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick, uint64_t mean);
/*
 * What one recorded block stands for, sampled with mean bytes: 1/p blocks and
 * size/p bytes for p = 1 - exp(-size/mean), or itself when mean is 0 or at
 * most size. Counts are whole: the fraction of 1/p becomes one more block for
 * a share of addresses equal to it (a hash of addr decides), so the sum stays
 * unbiased and a free takes off exactly what the allocation added.
 */
void liveset_weigh(uint64_t addr, uint64_t size, uint64_t mean, uint64_t *count, uint64_t *bytes);
/* Byte sampling's mean from now on (0: every call): the figures are estimates once it was not 0. */
void liveset_set_sampling(struct liveset *ls, uint64_t mean);
/* Whether the figures are estimates (byte sampling was on), and the mean it last used. */
static inline bool liveset_estimated(const struct liveset *ls) { return ls->estimated_mean != 0; }
/* The block at addr was freed; false if it was not live (the source then says whose free it was). */
bool liveset_remove(struct liveset *ls, uint64_t addr);
/* A free of a block never seen allocated: the program's (unknown), or the allocator's own (own). */
void liveset_unknown_free(struct liveset *ls, bool own);
/* An allocating call that returned: its kind, arguments and results (posix_memalign's block in result2). */
struct alloc_call {
	int kind; /* enum alloc_kind, not AK_FREE */
	uint64_t a0, a1, a2;
	uint64_t result, result2;
	uint64_t mean; /* byte sampling's mean when it was recorded; 0: every call is (exact) */
};
/* Apply a returned call to the set (its block, from stack at tick); false if it failed (NULL, an error). */
bool liveset_apply(struct liveset *ls, const struct alloc_call *c, uint32_t stack, uint32_t tick);
/* The program image was replaced (exec): its blocks are gone; snapshots keep what was recorded. */
void liveset_forget_blocks(struct liveset *ls);

/* --- reading --- */
/* Account for every event up to now (what the source still holds). */
void liveset_sync(struct liveset *ls);
/* Milliseconds since the start, in clock ticks. */
uint32_t liveset_tick_now(const struct liveset *ls);
/* From now on the time is tick (a recording's end): ages and durations count to it. */
void liveset_stop_clock(struct liveset *ls, uint32_t tick);
/* The per-stack live figures now (caller releases). */
void liveset_copy(struct liveset *ls, struct by_stack *out);
/* The tid that allocated the block (its stack's thread). */
int liveset_block_tid(const struct liveset *ls, const struct block *b);
/* Make ls->peak the live set at the high-water mark (it may still be now). */
void liveset_sync_peak(struct liveset *ls);
/* Forget the peak: the high-water mark starts again from now. */
void liveset_reset_peak(struct liveset *ls);
/* Close the open phase (if any) and start one named name. */
void liveset_mark(struct liveset *ls, const char *name);
/*
 * Forget the peak and every phase, and open phase 'attach' at tick with the
 * live set as it is (empty, for a history measured again from the start):
 * the state liveset_init leaves them in.
 */
void liveset_restart_history(struct liveset *ls, uint32_t tick);
/* Bytes the live set's own tables hold (blocks, stacks, per-stack figures, peak, phases, clock). */
size_t liveset_memory(const struct liveset *ls);
/* Those and the holders' (snapshots, the growth point): what mem_limit bounds. */
size_t liveset_table_bytes(const struct liveset *ls);

#endif
