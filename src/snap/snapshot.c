// SPDX-License-Identifier: GPL-3.0-or-later
/* snapshot.c - named copies of the live set: blocks sorted by address plus per-stack totals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "tracer.h"
#include "xalloc.h"

static int cmp_addr(const void *a, const void *b)
{
	uint64_t x = ((const struct block *)a)->addr, y = ((const struct block *)b)->addr;
	return (x > y) - (x < y);
}

const struct snapshot *snapshot_take(struct snapshots *ss, struct tracer *tr, const char *name, int64_t rss,
				     struct mlz_err *err)
{
	char autoname[32];
	if (!name) {
		do
			snprintf(autoname, sizeof(autoname), "s%u", ++ss->auto_names);
		while (snapshot_find(ss, autoname));
		name = autoname;
	} else if (snapshot_find(ss, name)) {
		mlz_error_kind(err, MLZ_E_USAGE, "a snapshot named '%s' exists already", name);
		return NULL;
	} else if (!strcmp(name, "now")) {
		mlz_error_kind(err, MLZ_E_USAGE, "'now' names the live set, not a snapshot");
		return NULL;
	}
	tracer_drain(tr);
	ALLOC_GROW(ss->v, ss->n + 1, ss->alloc);
	struct snapshot *s = &ss->v[ss->n++];
	*s = (struct snapshot){ .name = xstrdup(name), .tick = tracer_tick_now(tr), .rss = rss, .seq = tr->seq };
	s->blocks = xmalloc((tr->blocks.n ? tr->blocks.n : 1) * sizeof(*s->blocks));
	BLOCKTAB_FOREACH(&tr->blocks, b)
		s->blocks[s->n++] = *b;
	qsort(s->blocks, s->n, sizeof(*s->blocks), cmp_addr);
	tracer_live_copy(tr, &s->by);
	return s;
}

const struct snapshot *snapshot_find(const struct snapshots *ss, const char *name)
{
	for (size_t i = 0; i < ss->n; i++)
		if (!strcmp(ss->v[i].name, name))
			return &ss->v[i];
	return NULL;
}

const struct block *snapshot_block_at(const struct snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) { /* the last block starting at or below addr */
		size_t mid = (lo + hi) / 2;
		if (s->blocks[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	const struct block *b = &s->blocks[lo - 1];
	return addr < b->addr + (b->size ? b->size : 1) ? b : NULL;
}

void snapshots_release(struct snapshots *ss)
{
	for (size_t i = 0; i < ss->n; i++) {
		free(ss->v[i].name);
		free(ss->v[i].blocks);
		by_stack_release(&ss->v[i].by);
	}
	free(ss->v);
	memset(ss, 0, sizeof(*ss));
}
