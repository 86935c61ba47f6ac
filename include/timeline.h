/* SPDX-License-Identifier: GPL-3.0-or-later */
/* timeline.h - the session's moments in time order: snapshots and marks, with the memory each recorded. */
#ifndef MLZ_TIMELINE_H
#define MLZ_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/*
 * Usage:
 *	struct mark m = { .name = xstrdup(name), .tick = ..., .rss = ..., ... };
 *	marks_push(&s->marks, &m);                    // m's strings move into the list
 *	struct tl_point *p;
 *	size_t n = timeline_points(&s->snaps, &s->marks, &s->samples, &p);
 *	... p[0 .. n-1], by time ...; free(p);         // the points borrow from both lists
 *	marks_release(&s->marks);
 */

/* What `mark` recorded: when, the live blocks, the heap and the RSS at that moment. */
struct mark {
	char *name;
	uint32_t tick;        /* clock ticks since attach */
	int64_t rss;          /* -1 if unknown */
	uint64_t blocks, bytes; /* live blocks: traced, and the untraced ones a heap walk found */
	uint64_t traced_bytes;
	struct heap_use heap;
	char *note;           /* why the heap is not known, or that its walk stopped early; NULL */
};

struct marks {
	struct mark *v;
	size_t n, alloc;
};
void marks_push(struct marks *ms, struct mark *m);
void marks_release(struct marks *ms);

enum tl_kind { TL_SNAPSHOT, TL_MARK, TL_SAMPLE /* a recording's, once a second */ };

/* One moment of the timeline; every pointer borrows from the snapshot or mark it comes from. */
struct tl_point {
	const char *name;
	enum tl_kind kind;
	uint32_t tick;
	int64_t rss;
	uint64_t blocks, bytes, traced_bytes;
	struct heap_use heap;
	const char *note;          /* NULL or "" when there is nothing to say */
	const struct by_stack *by; /* a snapshot's per-stack figures; NULL for a mark */
};

/* A mark as a point of the timeline. */
struct tl_point timeline_mark_point(const struct mark *m);
/*
 * Every snapshot, mark and sample (a recording's, as marks named "sample"), by
 * time (a snapshot, then a mark, then a sample of the same tick); caller frees *out.
 */
size_t timeline_points(const struct snapshots *ss, const struct marks *ms, const struct marks *samples,
		       struct tl_point **out);

#endif
