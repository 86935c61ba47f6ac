/* SPDX-License-Identifier: GPL-3.0-or-later */
/* agent_abi.h - what mlyze and the agent it injects agree on: the memory layout, the control block, the records. */
#ifndef MLZ_AGENT_ABI_H
#define MLZ_AGENT_ABI_H

#include <stdint.h>

/*
 * The agent is one mapping in the target, placed within 2 GiB of the
 * allocator: a code part (read+execute) and a data part (read+write).
 *
 *	code + 0                 agent_thunk, the code every other hook's stub jumps to (the payload, built apart);
 *	                         agent_thunk_malloc, _free and _realloc at AGENT_THUNK_*_OFF,
 *	                         each with its hook's relocated entry at AGENT_THUNK_TAIL_OFF after it
 *	code + AGENT_STUBS_OFF   mlyze's stubs of the other hooks and their relocated entry instructions
 *	code + AGENT_DATA_OFF    struct agent_ctl, then the ring
 *
 * malloc's, free's and (glibc's) realloc's entries start with a jump to their
 * own thunk entry, which holds its hook's index in ctl.fast_hook and ends with
 * the displaced entry instructions and a jump back (its tail): the short way,
 * the call the sampling leaves out, runs straight into the tail. Every other
 * hooked entry starts with `jmp stub_k`; stub_k is `mov $k, %r11d; jmp
 * agent_thunk`. The thunk calls the original through ctl.orig[k] (the tail,
 * or the relocated instructions by the stub) and records after it
 * returns, or, for a call byte sampling leaves out, jumps to it with the
 * stack as at entry: no return address is swapped, so a shadow stack stays
 * valid.
 *
 * Data is private to the process (an anonymous mapping): a fork child gets
 * its own copy and never writes into its parent's ring. mlyze reads and
 * writes it with process_vm_readv/writev; nothing else is shared.
 */
#define AGENT_MAGIC 0x32746e6567617a6cull /* "lzagent2" */
#define AGENT_VERSION 5
#define AGENT_STUBS_OFF 0xc000u
#define AGENT_THUNK_MALLOC_OFF 0x300u /* agent_thunk_malloc: no branch on the kind */
#define AGENT_THUNK_FREE_OFF 0x480u   /* agent_thunk_free */
#define AGENT_THUNK_REALLOC_OFF 0x600u /* agent_thunk_realloc */
#define AGENT_THUNK_TAIL_OFF 0x100u  /* from each of the three: room for the relocated entry, AGENT_TAIL_SIZE */
#define AGENT_TAIL_SIZE 0x80u
#define AGENT_DATA_OFF 0x10000u
#define AGENT_MAXHOOKS 16
#define AGENT_SLOTS 1024         /* threads tracked by thread pointer, a power of two */
#define AGENT_STACK_COPY 4096    /* bytes of the caller's stack copied when mlyze must unwind it */
#define AGENT_MAX_DEPTH 256      /* frames of a stack the agent unwinds, at most */
#define AGENT_CACHE_SLOTS 256    /* a thread's cache of unwind rows by PC (unwtab.h) */

/* A thread's nesting and sampling state, found by its thread pointer (%fs:0). */
struct agent_slot { /* 64 bytes */
	uint64_t key;       /* the thread pointer, 0 free */
	uint64_t outer_rsp; /* the entry stack pointer of the outermost call in progress */
	uint32_t depth;     /* hooked calls in progress: only the outermost is recorded */
	uint32_t unw_seen;  /* the tables its row cache was filled from (ctl.unw_which) */
	/* Byte sampling: this thread's own countdown, so threads never share a line for it. */
	int64_t countdown;  /* bytes still to allocate before the next sample */
	uint64_t rng;       /* xorshift64* state, 0 until the thread's first sampled decision */
	uint64_t sample_seen; /* ctl.sample the countdown was drawn for: redrawn when it changes */
	uint64_t unsampled; /* allocations this thread made that sampling did not record */
	/*
	 * sample_seen while no hooked call is in progress, else 0: what
	 * thunk.S's short way compares with ctl.sample, one load for both.
	 */
	uint64_t short_way;
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct agent_slot) == 64, "a thread's slot is one cache line");

/*
 * Byte sampling (ctl.sample != 0): an allocation of size bytes is recorded
 * with probability 1 - exp(-size/mean), as tcmalloc, jemalloc, Go and
 * heapprofd sample: each thread counts down a number of bytes drawn from an
 * exponential distribution of that mean, and the allocation that exhausts it
 * is recorded (the exponential is memoryless, so that probability is exact
 * whatever came before). A block of mean bytes or more is always recorded and
 * touches no countdown (heapprofd's rule): its figures are exact.
 *
 * A free is recorded only for a block recorded allocated: the agent keeps
 * their addresses in the address set, open addressing in buckets of
 * AGENT_SET_WAYS slots (a cache line), probing AGENT_SET_PROBE buckets at
 * most; a slot holds an address, 0 (never used) or 1 (removed). A slot never
 * goes back to 0, so a lookup stops at the first 0. An allocation that finds
 * no room is not recorded (ctl.set_full counts it): mlyze could never see
 * its free.
 *
 * Beside it, the hint (ctl.set_hint): hint_mask + 1 bytes, each counting
 * the addresses in the set whose hash, masked by hint_mask, is its index. A
 * free whose byte counts 0 was not recorded, known from one byte without
 * touching the set: most frees are of unsampled blocks. A free whose byte
 * another block's address counts looks in the first bucket of its run too
 * (thunk.S), and takes the full way only when that bucket holds it or no
 * never-used slot; mlyze keeps 16 bytes or more per block the set holds,
 * from 4 KiB (small enough to stay in cache) up to 1 MiB. An address is counted before it is
 * in the set and until it is out, so the hint never says 0 for an address
 * the set holds; a byte at 255 takes no more (the sample is dropped, counted
 * as set_full).
 */
#define AGENT_SET_WAYS 8
#define AGENT_SET_PROBE 4
#define AGENT_SET_REMOVED 1ull

/*
 * Fibonacci hashing of the 16-byte grain: bits 32 and up of the product
 * depend on every bit of the address below 2^52. thunk.S repeats it
 * (offsets.h's SET_HASH_MUL, asserted equal in the agent).
 */
#define AGENT_HASH_MUL 0x9e3779b97f4a7c15ull
static inline uint64_t agent_set_hash(uint64_t addr)
{
	return ((addr >> 4) * AGENT_HASH_MUL) >> 32;
}
#define AGENT_HINT_MIN (4u << 10)
#define AGENT_HINT_MAX (1u << 20)

/*
 * The agent's stack table: the stacks it has posted, by hash, so an event
 * carries an id. An entry is claimed (BUSY), its stack posted to the ring,
 * then made READY; only a READY entry is used, so a stack record always
 * precedes the events that name it. Frames live in one array (frames).
 */
struct agent_stack {
	uint64_t hash;
	uint32_t id;
	uint32_t state;     /* 0 free, 1 BUSY, 2 READY */
	uint32_t off;       /* its frames: frames[off .. off + n) */
	uint32_t n;
};

struct agent_ctl {
	uint64_t magic;
	uint32_t version;
	uint32_t armed;             /* 0: every hook only calls the original */
	uint64_t orig[AGENT_MAXHOOKS];  /* where each hook's original runs: its relocated entry */
	uint64_t entry[AGENT_MAXHOOKS]; /* each hooked function's address: frame 0 of its stacks */
	uint32_t kind[AGENT_MAXHOOKS];  /* each hook's enum alloc_kind */
	uint64_t ring;              /* the ring's address and size (a power of two, bytes) */
	uint64_t ring_size;
	uint64_t main_stack_lo, main_stack_hi; /* the main thread's stack: copies never read past its end */
	int64_t tid_off;            /* thread pointer + tid_off holds the thread's id; 0: ask the kernel */
	uint64_t wait_ns;           /* a full ring not read for this long: drop rather than wait */
	/*
	 * Unwind tables (unwtab.h), in one of two regions of unw_size bytes at
	 * unw[0] and unw[1]: unw_which is 1 or 2 for the region in use, 0 for
	 * none (mlyze unwinds every stack from a copy). A byte, so that mlyze's
	 * write of it is never seen half done.
	 */
	uint64_t unw[2], unw_size;
	uint64_t caches;            /* AGENT_SLOTS caches of AGENT_CACHE_SLOTS rows, one per slot */
	uint64_t stacks, stacks_mask; /* the stack table: stacks_mask + 1 entries */
	uint64_t frames, frames_cap;  /* its frames (uint64_t each) */
	uint32_t max_depth;         /* frames per stack, at most AGENT_MAX_DEPTH */
	uint8_t unw_which;
	uint8_t fast_hook[3];       /* the hook index of agent_thunk_malloc's, _free's and _realloc's entry */
	/*
	 * Byte sampling: mean << 8 | generation, one word so a thread never
	 * reads half of a change; 0 records every call. Records carry the
	 * generation (AREC_GEN), so mlyze knows the mean each was sampled at.
	 */
	uint64_t sample;
	uint64_t sample_seed;       /* each thread's generator starts from it and the thread's ordinal */
	uint64_t set, set_mask;     /* the address set: (set_mask + 1) buckets of AGENT_SET_WAYS words */
	uint32_t set_used;          /* sampling was on once: exact frees must leave the set too */
	uint32_t pad2;
	uint64_t set_hint;          /* hint_mask + 1 bytes: per index, the addresses the set holds whose hash has it */
	uint64_t hint_mask;
	/*
	 * Written by the agent. A line of its own: every record moves head,
	 * and the fields above are read on every call by every thread.
	 */
	uint64_t head __attribute__((aligned(64))); /* bytes reserved in the ring, ever */
	uint64_t lost;              /* events dropped: the ring stayed full */
	uint64_t abandoned;         /* calls left by longjmp, found at the next call */
	uint64_t noslot;            /* calls by a thread with no slot left (recorded, nesting unknown) */
	uint64_t frames_used;       /* of the frames array */
	uint32_t next_stack;        /* the last stack id given */
	uint32_t unknown_pcs;       /* walks that met a PC of no module: mlyze refreshes the tables */
	uint32_t dropping;          /* a drop happened: drop at once until mlyze makes room */
	uint32_t seeded;            /* threads whose generator was seeded: the next one's ordinal */
	uint64_t nested[AGENT_MAXHOOKS]; /* per hook: calls inside another hooked call (recorded once, as it) */
	uint64_t set_full;          /* sampled allocations not recorded: no room in the address set */
	uint64_t unsampled_noslot;  /* allocations of threads with no slot that sampling left out */
	/* Written by mlyze. */
	uint64_t tail;              /* bytes consumed */
	uint64_t heartbeat;         /* drains so far */
	/* The agent's, per thread: a cache line each, so threads never share one. */
	struct agent_slot slots[AGENT_SLOTS] __attribute__((aligned(64)));
};

/* The alloc kinds (enum alloc_kind's values; mlyze asserts they agree): the agent reads each one's size. */
#define AGENT_KIND_MALLOC 0
#define AGENT_KIND_CALLOC 1
#define AGENT_KIND_REALLOC 2
#define AGENT_KIND_REALLOCARRAY 3
#define AGENT_KIND_POSIX_MEMALIGN 4
#define AGENT_KIND_ALIGNED_ALLOC 5
#define AGENT_KIND_MEMALIGN 6
#define AGENT_KIND_VALLOC 7
#define AGENT_KIND_PVALLOC 8
#define AGENT_KIND_FREE 9

enum agent_rec_kind {
	AREC_PAD = 0xffff, /* the rest of the ring up to its end: skip */
};

/*
 * One record in the ring, 16-byte aligned, never split at the ring's end (a
 * pad record fills it). pos is written last: a record is complete when its
 * pos equals its own position in the ring, so no slot needs clearing after
 * it is read.
 */
struct agent_rec {
	uint64_t pos;       /* the record's position (head when reserved) */
	uint32_t len;       /* bytes, header and what follows included */
	uint16_t kind;      /* enum alloc_kind, AREC_PAD or AREC_STACK */
	uint16_t flags;
	int32_t tid;
	uint32_t stack;     /* the id of its stack (AREC_STACK: the id it defines), 0 none */
	uint64_t a0, a1, a2;  /* AREC_STACK: a0 is the number of frames that follow */
	uint64_t result, result2;
	uint64_t ret;       /* the return address of the call */
};

/* With AREC_CTX: the registers at the hooked entry, then stack_len bytes of the stack from rsp. */
struct agent_ctx {
	uint64_t pc;        /* the hooked function */
	uint64_t rsp;       /* the stack pointer at its entry: the return address is there */
	uint64_t rbp, rbx, r12, r13, r14, r15;
	uint32_t stack_len, pad;
};

#define AREC_STACK 0xfffe   /* kind: a new stack: its id, its frames */
#define AREC_CTX 1u         /* an agent_ctx and a stack copy follow: mlyze unwinds this one */
#define AREC_STACK_CUT 2u   /* the stack ends at a bound short of where it may go on */
#define AREC_UNKNOWN_PC 4u  /* the agent's walk met a PC of no module: its tables are stale */
#define AREC_GEN(flags) ((unsigned)(flags) >> 8) /* the generation of ctl.sample the record was decided at */

#endif
