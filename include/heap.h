/* SPDX-License-Identifier: GPL-3.0-or-later */
/* heap.h - glibc malloc (ptmalloc2) as it lies in memory: arenas, chunks, free lists, mallinfo2. */
#ifndef MLZ_HEAP_H
#define MLZ_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cancel.h"
#include "err.h"
#include "memsrc.h"
#include "parts.h"

struct maps;

/*
 * Usage:
 *	struct glibc_where w;            // from glibc_locate() or by hand
 *	struct heap_report r;
 *	heap_walk(&mem, &maps, &w, cancel, visit, arg, &r, &err);
 *	... r.arenas, r.mi, r.problems ...
 *	heap_report_release(&r);
 * The walk never trusts the image: every list is bounded, every chunk checked,
 * and the first impossible chunk of a heap ends that heap's walk with a problem.
 */

/* What a chunk is, told from the chunk headers and glibc's free lists. */
enum chunk_kind {
	CK_INUSE,    /* handed out by malloc and not freed */
	CK_INTERNAL, /* in use by the allocator itself: a tcache_perthread_struct, a heap's fencepost */
	CK_TCACHE,   /* freed into a thread's tcache (looks in use to the chunk headers) */
	CK_FAST,     /* freed into a fastbin (looks in use too) */
	CK_BIN,      /* free in the unsorted, a small or a large bin */
	CK_TOP,      /* an arena's top chunk */
	CK_MMAPPED,  /* a chunk of its own mmap, in use */
	CK_NKINDS
};
const char *chunk_kind_name(enum chunk_kind k);
/* What a chunk of size bytes gives its user: the next chunk's prev_size too, unless it is mmapped. */
static inline uint64_t chunk_usable(uint64_t size, enum chunk_kind kind)
{
	return size - (kind == CK_MMAPPED ? 16 : 8);
}

struct heap_count {
	uint64_t chunks, bytes; /* bytes are chunk sizes, headers included */
};

/* glibc's own mallinfo2 fields, with its definitions. */
struct heap_mallinfo {
	uint64_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
};

/* One address range the walk covered: the main heap (brk) or a heap of a thread arena. */
struct heap_range {
	uint64_t start, end;
};

struct heap_arena {
	uint64_t addr;
	bool main;
	uint32_t mutex;          /* non-zero: a thread holds the arena's lock (it is inside malloc) */
	uint64_t system_mem, max_system_mem, attached_threads;
	uint64_t top, top_size;
	struct heap_range *heaps;
	size_t nheaps;
	struct heap_count kind[CK_NKINDS]; /* from the chunk walk (no CK_MMAPPED here) */
	/* From the free lists, as mallinfo2 walks them. */
	struct heap_count fastbins, unsorted, smallbins, largebins;
	struct heap_mallinfo mi; /* this arena's share (hblks, hblkhd, keepcost only in the main arena) */
	bool complete;           /* every heap walked to its end */
};

struct heap_problem {
	uint64_t addr;
	char what[160];
};

/* Where glibc keeps its state, found by glibc_locate() from symbols or by the heuristics below. */
struct glibc_where {
	char version[16];      /* "2.36" */
	uint64_t main_arena;   /* &main_arena */
	uint64_t mp;           /* &mp_ (struct malloc_par) */
	const char *how;       /* "debug symbols" or "heuristic" (static strings) */
	size_t nthreads;
	struct glibc_thread {
		pid_t tid;
		uint64_t tcache; /* the thread's tcache_perthread_struct (user pointer), 0 if it has none */
	} *threads;
};

struct heap_report {
	struct heap_arena *arenas;
	size_t narenas;
	struct heap_count mmapped; /* mmapped chunks found in anonymous mappings */
	uint64_t n_mmaps, mmapped_mem; /* glibc's count of them (mp_) */
	struct heap_mallinfo mi;       /* what mallinfo2() returns */
	struct heap_count total[CK_NKINDS];
	struct heap_problem *problems;
	size_t nproblems, problems_alloc;
	/*
	 * heap_walk_blocks: the chunks the fastbins and tcaches name (and the
	 * tcache structs), sorted, which fn was given as in use and the caller
	 * drops. The counts by kind and mallinfo are then not made (uncounted):
	 * a chunk's kind was not known as it came.
	 */
	uint64_t *listed;
	size_t nlisted;
	bool uncounted;
	size_t parts;          /* how many parts (threads) walked the heaps at once */
};

/* Called for every chunk the walk finds (mmapped ones too), in address order. */
typedef void (*heap_chunk_fn)(void *arg, uint64_t chunk, uint64_t size, enum chunk_kind kind, size_t arena);

/*
 * Walk every arena, heap, free list and mmapped chunk. maps lists the image's
 * mappings (for mmapped chunks and bounds). Problems in the image are recorded
 * in r->problems and the walk goes on where it can; -1 when the arenas
 * themselves cannot be read, or when cancel ended the walk (MLZ_E_INTERRUPTED;
 * r is then empty). cancel may be NULL.
 */
int heap_walk(const struct memsrc *m, const struct maps *maps, const struct glibc_where *w, struct cancel *cancel,
	      heap_chunk_fn fn, void *arg, struct heap_report *r, struct mlz_err *err);
/*
 * The same for a consumer that only collects blocks: the chunks are walked
 * first, every one that looks in use given to fn->block as in use, and the free lists
 * after, the fastbins' chunks taken from what the chunk walk read (not one
 * system call each: 154,000 of them cost 0.4 s on bigheap); r->listed then
 * names the chunks the lists hold, for the caller to drop. The bins are not
 * walked (their chunks look free) and no counts are made. The heaps are
 * walked in up to PARTS_MAX parts at once (parts.h), in address order: part
 * k's chunks go to fn->block(parts[k], ...), so the parts' streams one after the
 * other are the heap in address order. m must bear reads from two threads.
 */
/*
 * heap_walk_blocks's consumer. spans: once, before any block, from the
 * calling thread, with parts[0]: where every block can lie (the heaps and the
 * mmapped chunks), sorted and disjoint; it says whether the consumer wants
 * the blocks' bytes (false: every block comes without, and more is not
 * called). block: a chunk that looks in use, or
 * an mmapped one, and its usable bytes when the walk holds them whole (chunks
 * of up to HEAP_BYTES_MAX bytes), else NULL; then more (if set): a block
 * given without them, its bytes a window at a time, up to its first
 * unreadable byte, the walk's cancel asked between windows. A consumer that
 * reads every block then reads the heap once, not twice.
 */
#define HEAP_BYTES_MAX (64u << 10)
struct heap_blocks_fn {
	bool (*spans)(void *arg, const uint64_t (*v)[2], size_t n);
	void (*block)(void *arg, uint64_t chunk, uint64_t size, enum chunk_kind kind, const uint8_t *bytes);
	void (*more)(void *arg, const uint8_t *bytes, size_t len);
};
int heap_walk_blocks(const struct memsrc *m, const struct maps *maps, const struct glibc_where *w, struct cancel *cancel,
		     const struct heap_blocks_fn *fn, void *const parts[PARTS_MAX], struct heap_report *r,
		     struct mlz_err *err);
void heap_report_release(struct heap_report *r);

/* Heuristics for an image without libc's debug symbols; each returns 0 when nothing valid is found. */
/* A struct malloc_state in [lo, hi) whose arena list closes and whose bins are sane. */
uint64_t glibc_find_main_arena(const struct memsrc *m, uint64_t lo, uint64_t hi);
/* A struct malloc_par in [lo, hi) consistent with main_arena. */
uint64_t glibc_find_mp(const struct memsrc *m, uint64_t lo, uint64_t hi, uint64_t main_arena);
/* In a thread's libc TLS block [lo, hi): the word that points at its tcache_perthread_struct, or 0. */
uint64_t glibc_find_tcache_slot(const struct memsrc *m, uint64_t lo, uint64_t hi);

/* Layouts this walker knows: glibc 2.35 to 2.40 on x86-64. */
bool glibc_version_supported(const char *version);

struct target;
struct sym;
/*
 * Find glibc's malloc state in a process held still (or a core): the module
 * malloc binds to must be glibc's (else an error naming the allocator), its
 * version supported, main_arena and mp_ from debug symbols or heuristics, and
 * each thread's tcache. Release with glibc_where_release.
 */
int glibc_locate(struct target *t, struct sym *sym, const struct maps *maps, const struct memsrc *m,
		 struct glibc_where *w, struct mlz_err *err);
void glibc_where_release(struct glibc_where *w);
/* A copy of w that glibc_where_release frees. */
void glibc_where_copy(struct glibc_where *to, const struct glibc_where *w);
/* Where glibc keeps its own malloc state (main_arena, mp_) into out[0..1]: not a root. Returns 2. */
size_t glibc_state_ranges(const struct glibc_where *w, uint64_t (*out)[2]);
/* Load what glibc_locate needs from files (libc's symbols) while the process still runs. */
void glibc_prepare(struct sym *sym);

/* What one heap walk of a target gives beyond the report. */
struct heap_take {
	struct glibc_where where;
	double stopped_ms;    /* how long the process was stopped for the walk */
	int64_t rss;          /* resident bytes of the arenas' heaps, -1 when unknown */
	int64_t *arena_rss;   /* per arena, -1 when unknown */
};
/* How a walk of a target is made. */
struct heap_take_opts {
	struct cancel *cancel; /* asked now and then: a walk it ends fails with MLZ_E_INTERRUPTED; NULL never */
	const struct glibc_where *where; /* glibc's state when the caller knows it (fuzzing): not located, sym unused */
	void *const *parts;    /* heap_walk_blocks (PARTS_MAX of them), arg unused; the caller drops what r->listed names */
	const struct heap_blocks_fn *blocks; /* with parts: heap_walk_blocks's consumer (fn unused) */
};
/* Locate and walk (fn per chunk) a target the caller holds still; o may be NULL. */
int heap_walk_target(struct target *t, struct sym *sym, const struct heap_take_opts *o, heap_chunk_fn fn, void *arg,
		     struct heap_report *r, struct heap_take *h, struct mlz_err *err);
/* The resident bytes of each arena's heaps into h (pagemap), read while the process runs again. */
void heap_residency(struct target *t, const struct heap_report *r, struct heap_take *h);
void heap_take_release(struct heap_take *h);

#endif
