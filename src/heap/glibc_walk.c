// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * glibc_walk.c - every arena, heap, free list and mmapped chunk of a glibc heap,
 * read through a memsrc. Nothing in the image is trusted: lists are walked
 * with a step budget derived from the arena's size, chunks are checked before
 * they are stepped over, and a heap's walk ends at its first impossible chunk
 * with a problem that names it, keeping what was found before.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glibc_layout.h"
#include "heap.h"
#include "parts.h"
#include "proc.h"
#include "ranges.h"
#include "u64map.h"
#include "xalloc.h"

#define MAX_PROBLEMS 64
#define MAX_ARENAS 4096
#define MAX_HEAPS 4096
/*
 * 128 KiB: a window the CPU's cache holds while the kernel copies into it
 * and the scan reads it. /proc/PID/mem read 1 GiB of heap at 4.4 GB/s in
 * windows of 64-128 KiB, and at 1.25 GB/s in windows of 1 MiB.
 */
#define WINDOW (1u << 17)
#define PAGE 4096ull

static const char *const kind_names[CK_NKINDS] = {
	[CK_INUSE] = "in use", [CK_INTERNAL] = "allocator", [CK_TCACHE] = "tcache", [CK_FAST] = "fastbin",
	[CK_BIN] = "bin",      [CK_TOP] = "top",            [CK_MMAPPED] = "mmapped",
};

const char *chunk_kind_name(enum chunk_kind k)
{
	return k < CK_NKINDS ? kind_names[k] : "?";
}

struct walker {
	const struct memsrc *m;
	const struct maps *maps;
	const struct glibc_where *w;
	struct cancel *cancel; /* asked in every long loop; once it says stop, each loop ends */
	/*
	 * heap_walk_blocks: no counts, every chunk that looks in use given as
	 * such, and the fastbins read from what the chunk walk saw: chunk ->
	 * the next chunk its first word names (revealed) | size >> 4, for every
	 * small chunk whose first word could be a fastbin link in its arena.
	 */
	bool blocks;
	struct u64map fast;    /* a part's, as its chunk walk fills it */
	struct u64map parts_fast[PARTS_MAX]; /* every part's, for the fastbins' walk: a link is in one of them */
	size_t nparts_fast;
	uint64_t (*span)[2];   /* per arena: its heaps' lowest and highest address */
	/* a part of heap_walk_blocks's chunk walk: its problems and mmapped chunks (else r), its stop */
	struct heap_report *pr;
	int *halt;
	struct heap_report *r;
	heap_chunk_fn fn;
	const struct heap_blocks_fn *bfn; /* heap_walk_blocks's, instead of fn */
	bool bytes;            /* bfn wants the blocks' bytes (its spans said so) */
	void *arg;
	/* chunk address -> kind, of the chunks a free list names (a repeat is a cycle) and the tcache structs */
	struct u64map listed;
	/* The same sorted by address, met in step with the chunk walk (no random lookups). */
	struct listed_chunk {
		uint64_t addr;
		enum chunk_kind kind;
	} *sorted;
	size_t nsorted, cursor;
	uint8_t *win;          /* a window of the heap being walked */
	uint64_t win_base;
	size_t win_len;
};

__attribute__((format(printf, 3, 4))) static void problem(struct heap_report *r, uint64_t addr, const char *fmt, ...)
{
	if (r->nproblems >= MAX_PROBLEMS)
		return;
	ALLOC_GROW(r->problems, r->nproblems + 1, r->problems_alloc);
	struct heap_problem *p = &r->problems[r->nproblems++];
	p->addr = addr;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->what, sizeof(p->what), fmt, ap);
	va_end(ap);
}

/* heap_word's read of a new window at addr. */
static bool heap_window(struct walker *k, uint64_t addr, uint64_t end, uint64_t *val)
{
	if (addr > UINT64_MAX - 16)
		return false;
	if (addr + 8 > end)
		return false;
	size_t want = end - addr < WINDOW ? (size_t)(end - addr) : WINDOW;
	ssize_t n = k->m->read(k->m->ctx, addr, k->win, want);
	k->win_base = addr;
	k->win_len = n > 0 ? (size_t)n : 0;
	if (k->win_len < 8)
		return false;
	memcpy(val, k->win, 8);
	return true;
}

/*
 * [lo, hi) whole in the window, a new window read from lo if need be; NULL
 * when the heap ends or cannot be read before hi. For heap_walk_blocks: a
 * chunk's bytes given with it, so its consumer need not read them again.
 */
static const uint8_t *heap_hold(struct walker *k, uint64_t lo, uint64_t hi, uint64_t end)
{
	if (lo < k->win_base || hi - k->win_base > k->win_len) {
		uint64_t unused;
		if (!heap_window(k, lo, end, &unused) || hi - lo > k->win_len)
			return NULL;
	}
	return k->win + (lo - k->win_base);
}

/* A word of the heap, through the window: one read per window instead of one per chunk. */
static inline bool heap_word(struct walker *k, uint64_t addr, uint64_t end, uint64_t *val)
{
	if (addr >= k->win_base && addr - k->win_base + 8 <= k->win_len) {
		memcpy(val, k->win + (addr - k->win_base), 8);
		return true;
	}
	return heap_window(k, addr, end, val);
}

static int by_addr(const void *a, const void *b)
{
	uint64_t x = ((const struct listed_chunk *)a)->addr, y = ((const struct listed_chunk *)b)->addr;
	return x < y ? -1 : x > y;
}

static void sort_listed(struct walker *k)
{
	k->sorted = xmalloc((k->listed.n ? k->listed.n : 1) * sizeof(*k->sorted));
	uint64_t addr, kind;
	for (size_t it = 0; u64map_next(&k->listed, &it, &addr, &kind);)
		k->sorted[k->nsorted++] = (struct listed_chunk){ addr, (enum chunk_kind)kind };
	qsort(k->sorted, k->nsorted, sizeof(*k->sorted), by_addr);
}

/* Where a heap starting at start meets the sorted list: the walk then only moves forward. */
static void seek_listed(struct walker *k, uint64_t start)
{
	size_t lo = 0, hi = k->nsorted;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->sorted[mid].addr < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	k->cursor = lo;
}

static uint64_t chunk_size(uint64_t hdr)
{
	return hdr & ~SIZE_BITS;
}

/* What the chunk walk kept of chunk p for the fastbins (fast_candidate), in whichever part met it. */
static bool fast_seen(const struct walker *k, uint64_t p, uint64_t *seen)
{
	for (size_t i = 0; i < k->nparts_fast; i++)
		if (u64map_get(&k->parts_fast[i], p, seen))
			return true;
	return false;
}

/* Fastbin i holds chunks of 32 + 16 i bytes; the list is mangled (safe-linking). */
static void walk_fastbins(struct walker *k, struct heap_arena *a, const uint8_t *ms, uint64_t budget)
{
	for (int i = 0; i < NFASTBINS; i++) {
		uint64_t p;
		memcpy(&p, ms + MS_FASTBINS + 8 * i, 8);
		for (uint64_t steps = 0; p && !cancel_poll(k->cancel, 16); steps++) {
			uint64_t hdr_fd[2], hdr, fd;
			if (steps > budget) {
				problem(k->r, a->addr, "fastbin %d of arena 0x%llx does not end (a cycle)", i,
					(unsigned long long)a->addr);
				break;
			}
			uint64_t seen;
			if (k->blocks && fast_seen(k, p, &seen)) { /* the chunk walk read it: no system call */
				hdr_fd[0] = (seen & 15) << 4;
				hdr_fd[1] = (seen & ~15ull) ^ ((p + 16) >> 12); /* mangled again: revealed below */
			} else if ((p & ALIGN_MASK) || !mem_read(k->m, p + 8, hdr_fd, sizeof(hdr_fd))) {
				problem(k->r, p, "fastbin %d of arena 0x%llx leads to an unreadable or misaligned chunk", i,
					(unsigned long long)a->addr);
				break;
			}
			if (!u64map_add(&k->listed, p, CK_FAST)) { /* one probe: listed now, or already */
				problem(k->r, p, "chunk is in two free lists (fastbin %d)", i);
				break;
			}
			hdr = hdr_fd[0];
			fd = hdr_fd[1];
			a->fastbins.chunks++;
			a->fastbins.bytes += chunk_size(hdr);
			p = REVEAL_PTR(p + 16, fd);
		}
	}
}

/* Bins 1 (unsorted) to 127, walked backwards from their headers as mallinfo2 does. */
static void walk_bins(struct walker *k, struct heap_arena *a, const uint8_t *ms, uint64_t budget)
{
	for (int i = 1; i < NBINS; i++) {
		uint64_t head = a->addr + MS_BINS + 16 * (i - 1) - 16, p;
		memcpy(&p, ms + MS_BINS + 16 * (i - 1) + 8, 8); /* head->bk */
		struct heap_count *c = i == 1 ? &a->unsorted : i < 64 ? &a->smallbins : &a->largebins;
		for (uint64_t steps = 0; p != head && !cancel_poll(k->cancel, 16); steps++) {
			uint64_t w[3]; /* size, fd, bk */
			if (steps > budget) {
				problem(k->r, head, "bin %d of arena 0x%llx does not return to its head (a cycle)", i,
					(unsigned long long)a->addr);
				break;
			}
			if ((p & ALIGN_MASK) || !mem_read(k->m, p + 8, w, sizeof(w))) {
				problem(k->r, p, "bin %d of arena 0x%llx leads to an unreadable or misaligned chunk", i,
					(unsigned long long)a->addr);
				break;
			}
			if (!u64map_add(&k->listed, p, CK_BIN)) {
				problem(k->r, p, "chunk is in two free lists, or bin %d of arena 0x%llx loops", i,
					(unsigned long long)a->addr);
				break;
			}
			c->chunks++;
			c->bytes += chunk_size(w[0]);
			p = w[2];
		}
	}
}

/* Each thread's tcache: counts[i] chunks of 32 + 16 i bytes, next pointers mangled. */
static void walk_tcaches(struct walker *k)
{
	for (size_t t = 0; t < k->w->nthreads; t++) {
		const struct glibc_thread *th = &k->w->threads[t];
		uint8_t tc[TC_SIZE];
		uint64_t hdr;
		if (!th->tcache)
			continue;
		if (!mem_word(k->m, th->tcache - 8, &hdr) || chunk_size(hdr) != TC_CHUNK ||
		    !mem_read(k->m, th->tcache, tc, sizeof(tc))) {
			problem(k->r, th->tcache, "the tcache of thread %d is not a readable 0x%x-byte chunk", th->tid,
				TC_CHUNK);
			continue;
		}
		u64map_put(&k->listed, th->tcache - 16, CK_INTERNAL);
		for (int i = 0; i < TCACHE_BINS; i++) {
			uint16_t count;
			uint64_t e, n = 0;
			memcpy(&count, tc + 2 * i, 2);
			memcpy(&e, tc + TC_ENTRIES + 8 * i, 8);
			for (; e && n <= count; n++) {
				uint64_t c = e - 16, next;
				if ((e & ALIGN_MASK) || !mem_word(k->m, c + 8, &hdr) || !mem_word(k->m, e, &next)) {
					problem(k->r, e, "tcache bin %d of thread %d leads to an unreadable or misaligned entry",
						i, th->tid);
					break;
				}
				if (chunk_size(hdr) != MINSIZE + 16ull * i) {
					problem(k->r, c, "tcache bin %d of thread %d holds a chunk of 0x%llx bytes", i, th->tid,
						(unsigned long long)chunk_size(hdr));
					break;
				}
				if (!u64map_add(&k->listed, c, CK_TCACHE)) {
					problem(k->r, c, "chunk is in two free lists (tcache bin %d of thread %d)", i, th->tid);
					break;
				}
				e = REVEAL_PTR(e, next);
			}
			if (n != count)
				problem(k->r, th->tcache, "tcache bin %d of thread %d: its count says %u, its list holds %s%llu",
					i, th->tid, count, n > count ? "more than " : "", (unsigned long long)(n > count ? count : n));
		}
	}
}

/*
 * [addr, addr + len) into buf, the pages runs leaves out as the zeros they
 * hold, unread; the bytes had, short where a read came short. *next is the
 * first run that may still matter, kept from one window to the next.
 */
static ssize_t read_sparse(struct walker *k, uint64_t addr, uint8_t *buf, size_t len, const struct range_list *runs,
			   size_t *next)
{
	size_t done = 0;
	while (done < len) {
		uint64_t at = addr + done;
		while (*next < runs->n && runs->v[*next][1] <= at)
			(*next)++;
		bool in = *next < runs->n && runs->v[*next][0] <= at;
		/* up to the run's end inside one, up to the next run's start outside */
		uint64_t edge = *next == runs->n ? UINT64_MAX : in ? runs->v[*next][1] : runs->v[*next][0];
		size_t part = edge - at < len - done ? (size_t)(edge - at) : len - done;
		if (!in) {
			memset(buf + done, 0, part);
		} else {
			ssize_t got = k->m->read(k->m->ctx, at, buf + done, part);
			if (got < (ssize_t)part)
				return (ssize_t)done + (got > 0 ? got : 0);
		}
		done += part;
	}
	return (ssize_t)done;
}

/*
 * A block given without its bytes (larger than a window, or mmapped): they
 * follow through bfn->more, read into the window a window at a time, the
 * walk's stop asked between them (a block may be gigabytes). The window is
 * then emptied: the next header is read again. Live, only the pages that
 * hold data are read (mem_runs): a large block is often mostly pages never
 * touched, which read as zeros, and reading them gives the process a page
 * each on some kernels.
 */
static void give_bytes(struct walker *k, uint64_t chunk, uint64_t size, enum chunk_kind kind)
{
	if (!k->bytes || !k->bfn->more)
		return;
	uint64_t len = chunk_usable(size, kind) & ~7ull, start = chunk + 16;
	struct range_list runs = { 0 };
	mem_runs(k->m, start & ~(PAGE - 1), (start + len + PAGE - 1) & ~(PAGE - 1), &runs);
	size_t next = 0;
	for (uint64_t at = 0; at < len && !parts_stop(k->cancel, k->halt, WINDOW >> 9);) {
		size_t want = len - at < WINDOW ? (size_t)(len - at) : WINDOW;
		ssize_t got = read_sparse(k, start + at, k->win, want, &runs, &next);
		if (got < 8)
			break;
		k->win_len = 0;
		k->bfn->more(k->arg, k->win, (size_t)got & ~7ul);
		at += (uint64_t)got & ~7ull;
	}
	k->win_len = 0;
	free(runs.v);
}

static void emit(struct walker *k, struct heap_arena *a, size_t ai, uint64_t p, uint64_t size, enum chunk_kind kind,
		 const uint8_t *bytes)
{
	if (k->blocks) { /* heap_walk_blocks counts nothing (its parts may share an arena), and wants blocks */
		if (kind == CK_INUSE) {
			k->bfn->block(k->arg, p, size, kind, bytes);
			if (!bytes)
				give_bytes(k, p, size, kind);
		}
		return;
	}
	a->kind[kind].chunks++;
	a->kind[kind].bytes += size;
	if (k->fn)
		k->fn(k->arg, p, size, kind, ai);
}

/*
 * A small chunk that looks in use may be a fastbin's: its first word, revealed
 * (safe-linking), is then 0 or a chunk of the same arena. Kept for the
 * fastbins' walk after the chunks', which then reads nothing: about one
 * in-use chunk in a thousand whose first word is a pointer passes by chance,
 * and is only kept, never taken for free unless a fastbin leads to it.
 */
static void fast_candidate(struct walker *k, size_t ai, uint64_t p, uint64_t size, uint64_t fd)
{
	uint64_t next = REVEAL_PTR(p + 16, fd);
	if (next && ((next & ALIGN_MASK) || next < k->span[ai][0] || next >= k->span[ai][1]))
		return;
	u64map_put(&k->fast, p, next | size >> 4);
}

/*
 * Chunks from start up to top (the heap holding the arena's top) or to the
 * fencepost glibc leaves at the end of a heap it grew out of. Returns whether
 * the walk got there.
 */
static bool walk_heap(struct walker *k, struct heap_arena *a, size_t ai, uint64_t start, uint64_t end, uint64_t top)
{
	uint64_t p = start, limit = top ? top : end;
	seek_listed(k, start);
	while (p < limit) {
		if (parts_stop(k->cancel, k->halt, 1))
			return false;
		uint64_t hdr, next_hdr = 0, foot = 0;
		if (!heap_word(k, p + 8, end, &hdr)) {
			problem(k->pr, p, "cannot read the chunk header");
			return false;
		}
		uint64_t size = chunk_size(hdr);
		if (!top && (size == CHUNK_HDR || size == 0))
			return true; /* the fenceposts of a heap the arena grew out of (0 when its old top was tiny) */
		if (size < MINSIZE || (size & ALIGN_MASK) || size > limit - p) {
			problem(k->pr, p, "impossible chunk size 0x%llx (the heap ends at 0x%llx)", (unsigned long long)size,
				(unsigned long long)limit);
			return false;
		}
		if (hdr & IS_MMAPPED) {
			problem(k->pr, p, "a chunk inside an arena's heap has the mmapped bit");
			return false;
		}
		uint64_t next = p + size, fd = 0;
		/* the chunk's usable bytes and the next header with them, for heap_walk_blocks's consumer */
		const uint8_t *bytes = NULL;
		if (k->bytes && size <= HEAP_BYTES_MAX)
			bytes = heap_hold(k, p + 16, next + 16 < end ? next + 16 : end, end);
		/* read before the next chunk's header, so the window only moves forward */
		bool small = k->blocks && size <= MINSIZE + 16 * (NFASTBINS - 1) && heap_word(k, p + 16, end, &fd);
		bool in_use = true;
		if (next + 16 <= end) {
			if (!heap_word(k, next + 8, end, &next_hdr)) {
				problem(k->pr, next, "cannot read the chunk header");
				return false;
			}
			in_use = next_hdr & PREV_INUSE;
		}
		while (k->cursor < k->nsorted && k->sorted[k->cursor].addr < p)
			k->cursor++;
		bool listed = k->cursor < k->nsorted && k->sorted[k->cursor].addr == p;
		enum chunk_kind kind = in_use ? CK_INUSE : CK_BIN;
		if (listed && in_use)
			kind = k->sorted[k->cursor].kind; /* a tcache or fastbin chunk, or a tcache struct */
		else if (!top && in_use && size == 2 * CHUNK_HDR && next + 16 <= end && chunk_size(next_hdr) == 0)
			kind = CK_INTERNAL; /* sysmalloc's fencepost when the old top was too small to free */
		if (small && in_use)
			fast_candidate(k, ai, p, size, fd);
		if (!in_use) {
			if (!heap_word(k, next, end, &foot) || foot != size) {
				problem(k->pr, p, "free chunk of 0x%llx bytes, but the next chunk's prev_size says 0x%llx",
					(unsigned long long)size, (unsigned long long)foot);
				return false;
			}
		}
		emit(k, a, ai, p, size, kind, next + 8 <= end ? bytes : NULL);
		p = next;
	}
	if (top) {
		if (p != top) {
			problem(k->pr, p, "the walk passed the top chunk at 0x%llx", (unsigned long long)top);
			return false;
		}
		emit(k, a, ai, top, a->top_size, CK_TOP, NULL);
	}
	return true;
}

/* First chunk after a header of n bytes at base, as glibc aligns it (chunk2mem on 16). */
static uint64_t first_chunk(uint64_t after)
{
	uint64_t mis = (after + CHUNK_HDR) & ALIGN_MASK;
	return mis ? after + 16 - mis : after;
}

static void add_heap(struct heap_arena *a, uint64_t start, uint64_t end)
{
	a->heaps = xrealloc(a->heaps, (a->nheaps + 1) * sizeof(*a->heaps));
	a->heaps[a->nheaps++] = (struct heap_range){ start, end };
}

/* One stretch of chunks to walk: the main arena's brk heap, or one heap of a thread arena. */
struct segment {
	size_t arena;
	uint64_t start, end; /* first chunk; end of the heap */
	uint64_t top;        /* the arena's top if this heap holds it, else 0 */
};

struct plan {
	struct segment *v;
	size_t n, alloc;
	struct mchunk {
		uint64_t addr, size;
	} *mm;               /* mmapped chunks found */
	size_t nmm, mm_alloc;
};

static void plan_add(struct plan *pl, size_t arena, uint64_t start, uint64_t end, uint64_t top)
{
	ALLOC_GROW(pl->v, pl->n + 1, pl->alloc);
	pl->v[pl->n++] = (struct segment){ arena, start, end, top };
}

static void plan_main_heap(struct walker *k, struct plan *pl, struct heap_arena *a, size_t ai, uint64_t sbrk_base)
{
	if (!a->system_mem)
		return; /* nothing allocated from it yet */
	if (!sbrk_base || sbrk_base > a->top) {
		problem(k->r, a->addr, "the main arena's top (0x%llx) is not above sbrk_base (0x%llx)",
			(unsigned long long)a->top, (unsigned long long)sbrk_base);
		a->complete = false;
		return;
	}
	add_heap(a, sbrk_base, a->top + a->top_size);
	plan_add(pl, ai, first_chunk(sbrk_base), a->top + a->top_size, a->top);
}

/* A thread arena's heaps: 64 MiB-aligned, each with a heap_info, chained from the top's. */
static void plan_thread_heaps(struct walker *k, struct plan *pl, struct heap_arena *a, size_t ai)
{
	size_t n = 0;
	for (uint64_t h = a->top & ~(HEAP_MAX_SIZE - 1); h; n++) {
		uint64_t hi[3];
		if (n >= MAX_HEAPS || !mem_read(k->m, h, hi, sizeof(hi)) || hi[HI_AR_PTR / 8] != a->addr ||
		    hi[HI_SIZE / 8] > HEAP_MAX_SIZE || (hi[HI_PREV / 8] & (HEAP_MAX_SIZE - 1))) {
			problem(k->r, h, "no heap_info of arena 0x%llx here", (unsigned long long)a->addr);
			a->complete = false;
			return;
		}
		uint64_t start = h + HI_SIZEOF;
		if (a->addr == h + HI_SIZEOF)
			start = first_chunk(a->addr + MS_SIZE); /* the arena's first heap holds the arena */
		add_heap(a, h, h + hi[HI_SIZE / 8]);
		plan_add(pl, ai, start, h + hi[HI_SIZE / 8], n == 0 ? a->top : 0);
		h = hi[HI_PREV / 8];
	}
}

static bool in_heaps(const struct heap_report *r, uint64_t p, uint64_t *skip_to)
{
	for (size_t i = 0; i < r->narenas; i++) {
		const struct heap_arena *a = &r->arenas[i];
		for (size_t j = 0; j < a->nheaps; j++) {
			/* a thread heap reserves HEAP_MAX_SIZE; only its front is read-write */
			uint64_t end = a->main ? a->heaps[j].end : a->heaps[j].start + HEAP_MAX_SIZE;
			if (p >= a->heaps[j].start && p < end) {
				*skip_to = end;
				return true;
			}
		}
	}
	return false;
}

/*
 * mmapped chunks live in anonymous read-write mappings, each at the start of
 * its own mmap (glibc's alignment offset is 0 unless memalign asked for more):
 * a header with prev_size 0 and exactly IS_MMAPPED set, a page-multiple size.
 * The headers of [lo, hi), a run of mapping e; false when the rest of e
 * cannot be read.
 */
static bool find_mmapped_in(struct walker *k, struct plan *pl, const struct map_entry *e, uint64_t lo, uint64_t hi)
{
	for (uint64_t p = lo; p < hi && p >= lo;) { /* p >= lo: no wrap at the top */
		uint64_t hdr[2], skip;
		if (cancel_poll(k->cancel, 16))
			return false;
		if (in_heaps(k->r, p, &skip)) {
			p = skip;
			continue;
		}
		if (!mem_read(k->m, p, hdr, sizeof(hdr)))
			return false; /* the rest of the mapping is unreadable too (a core left it out): not 2^35 tries */
		if (hdr[0] == 0 && (hdr[1] & SIZE_BITS) == IS_MMAPPED && chunk_size(hdr[1]) >= PAGE &&
		    !(hdr[1] & (PAGE - 1) & ~SIZE_BITS) && chunk_size(hdr[1]) <= e->end - p) {
			ALLOC_GROW(pl->mm, pl->nmm + 1, pl->mm_alloc);
			pl->mm[pl->nmm++] = (struct mchunk){ p, chunk_size(hdr[1]) };
			p += chunk_size(hdr[1]);
		} else {
			p += PAGE;
		}
	}
	return true;
}

/*
 * Only in pages that hold data, where the memsrc knows them: a chunk's header
 * page was written, and a thread's stack or a reservation is mostly pages
 * never touched, which a read would make the process hold.
 */
static void find_mmapped(struct walker *k, struct plan *pl)
{
	struct range_list r = { 0 };
	for (size_t i = 0; i < k->maps->n; i++) {
		const struct map_entry *e = &k->maps->v[i];
		if (e->path[0] || e->perms[0] != 'r' || e->perms[1] != 'w')
			continue;
		mem_runs(k->m, e->start, e->end, &r);
		for (size_t j = 0; j < r.n; j++) {
			uint64_t lo = r.v[j][0];
			if (pl->nmm && pl->mm[pl->nmm - 1].addr + pl->mm[pl->nmm - 1].size > lo)
				lo = pl->mm[pl->nmm - 1].addr + pl->mm[pl->nmm - 1].size; /* inside the chunk found last */
			if (lo < r.v[j][1] && !find_mmapped_in(k, pl, e, lo, r.v[j][1]))
				break;
		}
		if (cancelled(k->cancel))
			break;
	}
	free(r.v);
}

static int by_start(const void *a, const void *b)
{
	uint64_t x = ((const struct segment *)a)->start, y = ((const struct segment *)b)->start;
	return x < y ? -1 : x > y;
}

static void emit_mmapped(struct walker *k, const struct plan *pl, size_t *next, uint64_t below)
{
	for (; *next < pl->nmm && pl->mm[*next].addr < below; (*next)++) {
		k->pr->mmapped.chunks++;
		k->pr->mmapped.bytes += pl->mm[*next].size;
		if (k->blocks) {
			k->bfn->block(k->arg, pl->mm[*next].addr, pl->mm[*next].size, CK_MMAPPED, NULL);
			give_bytes(k, pl->mm[*next].addr, pl->mm[*next].size, CK_MMAPPED);
		} else if (k->fn)
			k->fn(k->arg, pl->mm[*next].addr, pl->mm[*next].size, CK_MMAPPED, (size_t)-1);
	}
}

/* Segments [first, last) and the mmapped chunks below limit, in address order: one sorted stream. */
static void walk_segments(struct walker *k, const struct plan *pl, size_t first, size_t last, size_t mm, uint64_t limit)
{
	for (size_t i = first; i < last; i++) {
		const struct segment *sg = &pl->v[i];
		struct heap_arena *a = &k->r->arenas[sg->arena];
		emit_mmapped(k, pl, &mm, sg->start);
		if (!walk_heap(k, a, sg->arena, sg->start, sg->end, sg->top))
			__atomic_store_n(&a->complete, false, __ATOMIC_RELAXED); /* parts may share an arena */
	}
	emit_mmapped(k, pl, &mm, limit);
}

/* One part of heap_walk_blocks's chunk walk: a stretch of segments and mmapped chunks. */
struct walk_part {
	struct walker k;
	const struct plan *pl;
	size_t first, last, mm; /* its segments, its first mmapped chunk */
	uint64_t limit;         /* where the next part begins */
	struct heap_report pr;
};

static void walk_part(void *arg)
{
	struct walk_part *p = arg;
	p->k.win = xmalloc(WINDOW);
	walk_segments(&p->k, p->pl, p->first, p->last, p->mm, p->limit);
	free(p->k.win);
}

/*
 * Every segment and mmapped chunk, in address order, so a consumer gets one
 * sorted stream. heap_walk_blocks cuts them in parts of about equal bytes,
 * one per processor (parts_for), part k's chunks going to args[k]: the walk
 * reads through the kernel and steps chunk by chunk, as fast on any
 * processor. Each part has its own window, problems and fastbin map, merged
 * after in address order.
 */
static void walk_plan(struct walker *k, struct plan *pl, void *const *args)
{
	if (pl->n > 1)
		qsort(pl->v, pl->n, sizeof(*pl->v), by_start);
	uint64_t total = 0;
	for (size_t i = 0; i < pl->n; i++)
		total += pl->v[i].end - pl->v[i].start;
	size_t n = args ? parts_for(total) : 1;
	n = n > pl->n ? (pl->n ? pl->n : 1) : n;
	struct walk_part parts[PARTS_MAX];
	int halt = 0;
	uint64_t sum = 0;
	size_t seg = 0, mm = 0;
	for (size_t p = 0; p < n; p++) {
		struct walk_part *w = &parts[p];
		*w = (struct walk_part){ .k = *k, .pl = pl, .first = seg, .mm = mm };
		w->k.arg = args ? args[p] : k->arg;
		w->k.fast = (struct u64map){ 0 };
		w->k.pr = &w->pr;
		w->k.halt = &halt;
		w->k.cancel = p ? NULL : k->cancel;
		uint64_t want = total / n * (p + 1);
		while (seg < pl->n && (p + 1 == n || sum < want))
			sum += pl->v[seg].end - pl->v[seg].start, seg++;
		w->last = seg;
		w->limit = p + 1 == n || seg == pl->n ? UINT64_MAX : pl->v[seg].start;
		while (mm < pl->nmm && pl->mm[mm].addr < w->limit)
			mm++;
	}
	parts_run(walk_part, parts, sizeof(*parts), n, k->cancel, &halt);
	k->r->parts = n;
	for (size_t p = 0; p < n; p++) {
		struct heap_report *pr = &parts[p].pr;
		for (size_t i = 0; i < pr->nproblems; i++)
			problem(k->r, pr->problems[i].addr, "%s", pr->problems[i].what);
		free(pr->problems);
		k->r->mmapped.chunks += pr->mmapped.chunks;
		k->r->mmapped.bytes += pr->mmapped.bytes;
		/* kept apart, not merged: a map's keys in its slot order crowd into a smaller table's */
		k->parts_fast[k->nparts_fast++] = parts[p].k.fast;
	}
}

static void add_mallinfo(struct heap_mallinfo *to, const struct heap_mallinfo *a)
{
	to->arena += a->arena;
	to->ordblks += a->ordblks;
	to->smblks += a->smblks;
	to->fsmblks += a->fsmblks;
	to->uordblks += a->uordblks;
	to->fordblks += a->fordblks;
	to->hblks += a->hblks;
	to->hblkhd += a->hblkhd;
	to->keepcost += a->keepcost;
}

/* glibc's int_mallinfo for one arena, from the lists walked. */
static void arena_mallinfo(struct heap_arena *a, const struct heap_report *r)
{
	uint64_t bins = a->unsorted.bytes + a->smallbins.bytes + a->largebins.bytes;
	uint64_t avail = a->top_size + a->fastbins.bytes + bins;
	a->mi.smblks = a->fastbins.chunks;
	a->mi.ordblks = 1 + a->unsorted.chunks + a->smallbins.chunks + a->largebins.chunks;
	a->mi.fordblks = avail;
	a->mi.uordblks = a->system_mem - avail;
	a->mi.arena = a->system_mem;
	a->mi.fsmblks = a->fastbins.bytes;
	if (a->main) {
		a->mi.hblks = r->n_mmaps;
		a->mi.hblkhd = r->mmapped_mem;
		a->mi.keepcost = a->top_size;
	}
}

/*
 * The arena list from main_arena, in the order glibc links them: each
 * arena's malloc_state kept in states (MS_SIZE bytes each) for its lists.
 */
static int read_arenas(struct walker *k, uint8_t **states, struct mlz_err *err)
{
	struct heap_report *r = k->r;
	uint64_t addr = k->w->main_arena;
	uint8_t *ms = xmalloc(MS_SIZE);
	size_t alloc = 0;
	*states = NULL;
	while (r->narenas < MAX_ARENAS) {
		if (!mem_read(k->m, addr, ms, MS_SIZE)) {
			if (!r->narenas) {
				free(ms);
				return mlz_error(err, "cannot read main_arena at 0x%llx", (unsigned long long)addr);
			}
			problem(r, addr, "the arena list leads to unreadable memory");
			break;
		}
		*states = xrealloc(*states, (r->narenas + 1) * MS_SIZE);
		memcpy(*states + r->narenas * MS_SIZE, ms, MS_SIZE);
		ALLOC_GROW(r->arenas, r->narenas + 1, alloc);
		struct heap_arena *a = &r->arenas[r->narenas++];
		memset(a, 0, sizeof(*a));
		a->addr = addr;
		a->main = addr == k->w->main_arena;
		memcpy(&a->mutex, ms + MS_MUTEX, 4);
		memcpy(&a->top, ms + MS_TOP, 8);
		memcpy(&a->attached_threads, ms + MS_ATTACHED, 8);
		memcpy(&a->system_mem, ms + MS_SYSTEM_MEM, 8);
		memcpy(&a->max_system_mem, ms + MS_MAX_SYSTEM_MEM, 8);
		uint64_t hdr = 0;
		if (a->system_mem && !mem_word(k->m, a->top + 8, &hdr))
			problem(r, a->top, "cannot read the top chunk of arena 0x%llx", (unsigned long long)addr);
		a->top_size = chunk_size(hdr);
		memcpy(&addr, ms + MS_NEXT, 8);
		if (addr == k->w->main_arena)
			break;
		for (size_t i = 0; i < r->narenas; i++) {
			if (r->arenas[i].addr == addr) {
				problem(r, addr, "the arena list loops without returning to main_arena");
				addr = 0;
			}
		}
		if (!addr)
			break;
	}
	free(ms);
	return 0;
}

/* Every free list: each arena's fastbins and bins, each thread's tcache; then sorted by address. */
static void walk_lists(struct walker *k, const uint8_t *states)
{
	for (size_t i = 0; i < k->r->narenas; i++) {
		struct heap_arena *a = &k->r->arenas[i];
		uint64_t budget = a->system_mem / MINSIZE + 2; /* no list can hold more chunks than that */
		walk_fastbins(k, a, states + i * MS_SIZE, budget);
		if (!k->blocks) /* a bin's chunks look free to the chunk walk: never given as in use */
			walk_bins(k, a, states + i * MS_SIZE, budget);
	}
	walk_tcaches(k);
	sort_listed(k);
}

/* Per arena, the lowest and highest address of its heaps: where its fastbins' chunks can be. */
static void arena_spans(struct walker *k)
{
	k->span = xmalloc((k->r->narenas ? k->r->narenas : 1) * sizeof(*k->span));
	for (size_t i = 0; i < k->r->narenas; i++) {
		const struct heap_arena *a = &k->r->arenas[i];
		k->span[i][0] = UINT64_MAX;
		k->span[i][1] = 0;
		for (size_t h = 0; h < a->nheaps; h++) {
			k->span[i][0] = a->heaps[h].start < k->span[i][0] ? a->heaps[h].start : k->span[i][0];
			k->span[i][1] = a->heaps[h].end > k->span[i][1] ? a->heaps[h].end : k->span[i][1];
		}
	}
}

/* Where heap_walk_blocks's blocks can lie, for its consumer: the heaps and the mmapped chunks, sorted, merged. */
static void give_spans(struct walker *k, const struct plan *pl, void *arg)
{
	size_t n = 0;
	uint64_t (*v)[2] = xmalloc((pl->n + pl->nmm + 1) * sizeof(*v));
	for (size_t i = 0; i < k->r->narenas; i++)
		for (size_t h = 0; h < k->r->arenas[i].nheaps; h++) {
			v[n][0] = k->r->arenas[i].heaps[h].start;
			v[n++][1] = k->r->arenas[i].heaps[h].end;
		}
	for (size_t i = 0; i < pl->nmm; i++) {
		v[n][0] = pl->mm[i].addr;
		v[n++][1] = pl->mm[i].addr + pl->mm[i].size;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), range_by_start);
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		if (out && v[i][0] <= v[out - 1][1]) {
			v[out - 1][1] = v[i][1] > v[out - 1][1] ? v[i][1] : v[out - 1][1];
			continue;
		}
		memcpy(v[out++], v[i], sizeof(v[0]));
	}
	k->bytes = k->bfn->spans(arg, (const uint64_t(*)[2])v, out);
	free(v);
}

static int walk(const struct memsrc *m, const struct maps *maps, const struct glibc_where *w, struct cancel *cancel,
		heap_chunk_fn fn, const struct heap_blocks_fn *bfn, void *arg, void *const *parts, struct heap_report *r,
		struct mlz_err *err)
{
	bool blocks = parts != NULL;
	struct walker k = { .m = m, .maps = maps, .w = w, .cancel = cancel, .r = r, .fn = fn, .bfn = bfn, .arg = arg,
			    .blocks = blocks, .pr = r };
	uint8_t mp[MP_SIZE], *states = NULL;
	memset(r, 0, sizeof(*r));
	if (!mem_read(m, w->mp, mp, sizeof(mp)))
		return mlz_error(err, "cannot read glibc's malloc parameters (mp_) at 0x%llx", (unsigned long long)w->mp);
	int32_t n_mmaps;
	uint64_t sbrk_base;
	memcpy(&n_mmaps, mp + MP_N_MMAPS, 4);
	memcpy(&r->mmapped_mem, mp + MP_MMAPPED_MEM, 8);
	memcpy(&sbrk_base, mp + MP_SBRK_BASE, 8);
	r->n_mmaps = n_mmaps > 0 ? (uint64_t)n_mmaps : 0;
	if (read_arenas(&k, &states, err) < 0)
		return -1;
	if (!blocks) /* each chunk's kind is known as it comes */
		walk_lists(&k, states);

	struct plan pl = { 0 };
	for (size_t i = 0; i < r->narenas; i++) {
		struct heap_arena *a = &r->arenas[i];
		a->complete = true;
		if (a->main)
			plan_main_heap(&k, &pl, a, i, sbrk_base);
		else
			plan_thread_heaps(&k, &pl, a, i);
	}
	if (maps)
		find_mmapped(&k, &pl);
	if (blocks) {
		arena_spans(&k);
		give_spans(&k, &pl, parts[0]);
	}
	walk_plan(&k, &pl, parts);
	free(pl.v);
	free(pl.mm);
	if (blocks) {
		/* the lists now: the fastbins' chunks from the map the chunk walk left, which holds them all */
		walk_lists(&k, states);
		for (size_t i = 0; i < k.nparts_fast; i++)
			u64map_release(&k.parts_fast[i]);
		free(k.span);
		r->listed = xmalloc((k.nsorted ? k.nsorted : 1) * sizeof(*r->listed));
		for (size_t i = 0; i < k.nsorted; i++)
			r->listed[i] = k.sorted[i].addr;
		r->nlisted = k.nsorted;
		r->uncounted = true;
	}
	uint32_t flags;
	memcpy(&flags, states + MS_FLAGS, 4); /* main_arena's */
	free(states);
	for (size_t i = 0; i < r->narenas; i++) {
		struct heap_arena *a = &r->arenas[i];
		if (a->main && !a->complete && (flags & NONCONTIGUOUS_BIT))
			problem(r, a->addr, "the main arena is not contiguous: only its first region was walked");
		if (r->uncounted) {
			memset(a->kind, 0, sizeof(a->kind));
			continue;
		}
		arena_mallinfo(a, r);
		add_mallinfo(&r->mi, &a->mi);
		for (int c = 0; c < CK_NKINDS; c++) {
			r->total[c].chunks += a->kind[c].chunks;
			r->total[c].bytes += a->kind[c].bytes;
		}
	}
	r->total[CK_MMAPPED] = r->mmapped;
	if (maps && (r->mmapped.chunks != r->n_mmaps || r->mmapped.bytes != r->mmapped_mem))
		problem(r, 0, "found %llu mmapped chunks (%llu bytes) where glibc counts %llu (%llu bytes)",
			(unsigned long long)r->mmapped.chunks, (unsigned long long)r->mmapped.bytes,
			(unsigned long long)r->n_mmaps, (unsigned long long)r->mmapped_mem);
	u64map_release(&k.listed);
	free(k.sorted);
	if (cancelled(cancel)) {
		heap_report_release(r); /* figures of half a walk would only mislead */
		return cancel_error(err);
	}
	return 0;
}

int heap_walk(const struct memsrc *m, const struct maps *maps, const struct glibc_where *w, struct cancel *cancel,
	      heap_chunk_fn fn, void *arg, struct heap_report *r, struct mlz_err *err)
{
	return walk(m, maps, w, cancel, fn, NULL, arg, NULL, r, err);
}

int heap_walk_blocks(const struct memsrc *m, const struct maps *maps, const struct glibc_where *w, struct cancel *cancel,
		     const struct heap_blocks_fn *fn, void *const parts[PARTS_MAX], struct heap_report *r,
		     struct mlz_err *err)
{
	return walk(m, maps, w, cancel, NULL, fn, NULL, parts, r, err);
}

void heap_report_release(struct heap_report *r)
{
	for (size_t i = 0; i < r->narenas; i++)
		free(r->arenas[i].heaps);
	free(r->arenas);
	free(r->problems);
	free(r->listed);
	memset(r, 0, sizeof(*r));
}
