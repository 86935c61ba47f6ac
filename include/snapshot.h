/* SPDX-License-Identifier: GPL-3.0-or-later */
/* snapshot.h - named copies of the live set, kept for compare, blocks and show after the process ends. */
#ifndef MLZ_SNAPSHOT_H
#define MLZ_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blocks.h"
#include "err.h"

struct liveset;

/* A live block only the heap walk knows: no stack, and its usable size (its chunk less the header). */
struct wblock {
	uint64_t addr;
	uint32_t units; /* chunk bytes / 16, WBLOCK_MMAPPED for a chunk of its own mmap */
} __attribute__((packed));
#define WBLOCK_MMAPPED 0x80000000u
static inline uint64_t wblock_size(const struct wblock *w)
{
	uint64_t chunk = (uint64_t)(w->units & ~WBLOCK_MMAPPED) << 4;
	return chunk - ((w->units & WBLOCK_MMAPPED) ? 16 : 8);
}

/*
 * glibc's heap at one walk, as mallinfo2() inside the process would give it:
 * in_use is uordblks + hblkhd (chunks in use in the arenas and mmapped ones),
 * free fordblks (free chunks and the tops), mmapped hblkhd.
 */
struct heap_use {
	bool known; /* false: the heap was not walked */
	uint64_t in_use, free, mmapped;
};

/* The untraced blocks of one heap walk, in address order, in a mapping of their own. */
struct untraced {
	struct wblock *v;
	size_t n, alloc;
	size_t map_bytes;
	bool walked;     /* false: the heap was not walked, note says why */
	double stopped_ms; /* how long the process was stopped for the walk and the copy */
	struct heap_use heap; /* the heap's own figures at the walk */
	char note[512];
};
/*
 * Append a block. The array grows by mremap in a mapping that asks for huge
 * pages: filling it is what the process waits for during a walk, and faulting
 * 2 MiB at a time is several times faster than 4 KiB at a time.
 */
void untraced_push(struct untraced *u, uint64_t addr, uint32_t units);
/* Give back the unused tail once the walk is over. */
void untraced_trim(struct untraced *u);
/* Add u's blocks to by, per size class and to the totals. */
void untraced_add(const struct untraced *u, struct by_stack *by);
void untraced_release(struct untraced *u);

struct jv;
/* Where a loaded snapshot was taken, as its file says (strings owned, NULL when unknown). */
struct snap_source {
	char *kind;       /* "process", "core file" */
	int64_t pid;      /* 0 when unknown */
	char *exe, *core_file, *host;
	int64_t saved_at; /* when the file was written, Unix seconds */
};

struct snapshot {
	char *name;
	uint32_t tick;        /* when, in clock ticks since attach */
	int64_t rss;          /* the process's RSS then, -1 if unknown */
	uint64_t seq;         /* events seen by then */
	struct block *blocks; /* the traced live blocks, by address */
	size_t n;
	struct untraced walked; /* the live blocks only the heap walk found, why not, how long it took */
	struct by_stack by;   /* the same, added up per stack */
	/*
	 * A loaded snapshot (`load`, `mlyze open`): the file it came from, where
	 * it was taken, the session that took it (origin: stacks of one origin
	 * share PCs), and the clock its blocks' times read from. NULL, 0 and an
	 * empty clock for this session's own, which read the live set's.
	 */
	char *file;
	struct snap_source *src;
	uint64_t origin;
	struct clockidx clock;
	struct jv *by_type;   /* with snapshot --types: the blocks by type at the same stop (owned), else NULL */
};

struct snapshots {
	struct snapshot *v;
	size_t n, alloc;
	unsigned auto_names;  /* for unnamed snapshots: s1, s2, ... */
	uint64_t origin;      /* this session's id in the files it saves (random, made on first use) */
};

/*
 * Copy the live set (synced first) as a snapshot called name (NULL: the next
 * sN), the last of ss. A snapshot of that name already there is an error, or
 * with replace is dropped once the new one is taken. Returns it, or NULL.
 */
struct snapshot *snapshot_take(struct snapshots *ss, struct liveset *ls, const char *name, bool replace, int64_t rss,
			       struct mlz_err *err);
/* Add the untraced blocks of the heap walk made at the same stop (they move into s). */
void snapshot_add_untraced(struct snapshot *s, struct untraced *u);
const struct snapshot *snapshot_find(const struct snapshots *ss, const char *name);
/* Append s (moved in; s is left empty) as the last of ss; its name must be free. Returns it. */
struct snapshot *snapshots_add(struct snapshots *ss, struct snapshot *s);
/* This session's origin id (made on first use). */
uint64_t snapshots_origin(struct snapshots *ss);
void snapshot_release(struct snapshot *s);
void snap_source_release(struct snap_source *src);
/* Mark the stacks the snapshots hold (for a sweep of the stacks). */
void snapshots_hold(const struct snapshots *ss, struct stack_holds *h);
/* Bytes the snapshots hold: blocks, per-stack figures, the heap walks' untraced blocks. */
size_t snapshots_memory(const struct snapshots *ss);
void snapshots_release(struct snapshots *ss);

#endif
