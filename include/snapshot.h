/* SPDX-License-Identifier: GPL-3.0-or-later */
/* snapshot.h - named copies of the live set, kept for compare, blocks and show after the process ends. */
#ifndef MLZ_SNAPSHOT_H
#define MLZ_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "blocks.h"
#include "err.h"

struct tracer;

struct snapshot {
	char *name;
	uint32_t tick;        /* when, in clock ticks since attach */
	int64_t rss;          /* the process's RSS then, -1 if unknown */
	uint64_t seq;         /* events seen by then */
	struct block *blocks; /* the live blocks, by address */
	size_t n;
	struct by_stack by;   /* the same, added up per stack */
};

struct snapshots {
	struct snapshot *v;
	size_t n, alloc;
	unsigned auto_names;  /* for unnamed snapshots: s1, s2, ... */
};

/* Copy the tracer's live set as a snapshot called name (NULL: the next sN). Returns it, or NULL. */
const struct snapshot *snapshot_take(struct snapshots *ss, struct tracer *tr, const char *name, int64_t rss,
				     struct mlz_err *err);
const struct snapshot *snapshot_find(const struct snapshots *ss, const char *name);
/* The block of snapshot s that contains addr, or NULL. */
const struct block *snapshot_block_at(const struct snapshot *s, uint64_t addr);
void snapshots_release(struct snapshots *ss);

#endif
