// SPDX-License-Identifier: GPL-3.0-or-later
/* timeline.c - the marks, and the snapshots and marks merged in time order for `timeline` and the exports. */
#include <stdlib.h>
#include <string.h>

#include "timeline.h"
#include "xalloc.h"

void marks_push(struct marks *ms, struct mark *m)
{
	ALLOC_GROW(ms->v, ms->n + 1, ms->alloc);
	ms->v[ms->n++] = *m;
	memset(m, 0, sizeof(*m));
}

void marks_release(struct marks *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->v[i].name);
		free(ms->v[i].note);
	}
	free(ms->v);
	memset(ms, 0, sizeof(*ms));
}

static struct tl_point snapshot_point(const struct snapshot *s)
{
	uint64_t untraced = 0;
	for (int i = 0; i < UNTRACED_CLASSES; i++)
		untraced += s->by.untraced[i].bytes;
	return (struct tl_point){ s->name, TL_SNAPSHOT, s->tick, s->rss, s->by.count, s->by.bytes,
				  s->by.bytes - untraced, s->walked.heap, s->walked.note, &s->by };
}

struct tl_point timeline_mark_point(const struct mark *m)
{
	return (struct tl_point){ m->name, TL_MARK, m->tick, m->rss, m->blocks, m->bytes,
				  m->traced_bytes, m->heap, m->note, NULL };
}

static struct tl_point sample_point(const struct mark *m)
{
	struct tl_point p = timeline_mark_point(m);
	p.kind = TL_SAMPLE;
	return p;
}

static int cmp_tick(const void *pa, const void *pb)
{
	const struct tl_point *a = pa, *b = pb;
	return (a->tick > b->tick) - (a->tick < b->tick);
}

size_t timeline_points(const struct snapshots *ss, const struct marks *ms, const struct marks *samples,
		       struct tl_point **out)
{
	size_t n = ss->n + ms->n + samples->n, k = 0;
	struct tl_point *p = xcalloc(n ? n : 1, sizeof(*p));
	/*
	 * Each list is in the order it was taken, which is time order but for a
	 * snapshot replaced with --force (moved last, with its new time), and for
	 * snapshots of a recording taken --at any time: sort, keeping the order of
	 * equal ticks (snapshots, marks, samples), as qsort may not.
	 */
	for (size_t i = 0; i < ss->n; i++)
		p[k++] = snapshot_point(&ss->v[i]);
	for (size_t i = 0; i < ms->n; i++)
		p[k++] = timeline_mark_point(&ms->v[i]);
	for (size_t i = 0; i < samples->n; i++)
		p[k++] = sample_point(&samples->v[i]);
	for (size_t i = 1; i < n; i++) { /* insertion sort: stable, and the lists are nearly sorted */
		struct tl_point x = p[i];
		size_t j = i;
		while (j > 0 && cmp_tick(&p[j - 1], &x) > 0) {
			p[j] = p[j - 1];
			j--;
		}
		p[j] = x;
	}
	*out = p;
	return n;
}
