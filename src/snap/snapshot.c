// SPDX-License-Identifier: GPL-3.0-or-later
/* snapshot.c - named copies of the live set: blocks sorted by address plus per-stack totals. */
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "jv.h"
#include "snapshot.h"
#include "liveset.h"
#include "xalloc.h"

static int cmp_addr(const void *a, const void *b)
{
	uint64_t x = ((const struct block *)a)->addr, y = ((const struct block *)b)->addr;
	return (x > y) - (x < y);
}

void untraced_add(const struct untraced *u, struct by_stack *by)
{
	for (size_t i = 0; i < u->n; i++) {
		uint64_t size = wblock_size(&u->v[i]);
		struct stack_live *l = &by->untraced[untraced_class(size)];
		l->count++;
		l->bytes += size;
		by->count++;
		by->bytes += size;
	}
	by->walked = u->walked;
}

#define HUGE_PAGE (2u << 20)

void untraced_push(struct untraced *u, uint64_t addr, uint32_t units)
{
	if (u->n == u->alloc) {
		size_t bytes = u->map_bytes ? u->map_bytes * 2 : HUGE_PAGE;
		void *p = u->v ? mremap(u->v, u->map_bytes, bytes, MREMAP_MAYMOVE)
			       : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			BUG("out of memory for %zu bytes of walked blocks", bytes);
		madvise(p, bytes, MADV_HUGEPAGE); /* a hint: without THP it is 4 KiB pages */
		u->v = p;
		u->map_bytes = bytes;
		u->alloc = bytes / sizeof(*u->v);
	}
	u->v[u->n++] = (struct wblock){ addr, units };
}

void untraced_trim(struct untraced *u)
{
	size_t need = (u->n * sizeof(*u->v) + 4095) & ~(size_t)4095;
	if (!u->v || need >= u->map_bytes)
		return;
	if (!need) {
		munmap(u->v, u->map_bytes);
		u->v = NULL;
		u->map_bytes = u->alloc = 0;
		return;
	}
	void *p = mremap(u->v, u->map_bytes, need, 0);
	if (p != MAP_FAILED) {
		u->map_bytes = need;
		u->alloc = need / sizeof(*u->v);
	}
}

void untraced_release(struct untraced *u)
{
	if (u->v)
		munmap(u->v, u->map_bytes);
	memset(u, 0, sizeof(*u));
}

void snap_source_release(struct snap_source *src)
{
	if (!src)
		return;
	free(src->kind);
	free(src->exe);
	free(src->core_file);
	free(src->host);
	memset(src, 0, sizeof(*src));
}

void snapshot_release(struct snapshot *s)
{
	free(s->name);
	free(s->blocks);
	untraced_release(&s->walked);
	by_stack_release(&s->by);
	jv_free(s->by_type);
	free(s->file);
	snap_source_release(s->src);
	free(s->src);
	clockidx_release(&s->clock);
	memset(s, 0, sizeof(*s));
}

struct snapshot *snapshots_add(struct snapshots *ss, struct snapshot *s)
{
	ALLOC_GROW(ss->v, ss->n + 1, ss->alloc);
	ss->v[ss->n] = *s;
	memset(s, 0, sizeof(*s));
	return &ss->v[ss->n++];
}

uint64_t snapshots_origin(struct snapshots *ss)
{
	while (!ss->origin) {
		if (getrandom(&ss->origin, sizeof(ss->origin), 0) != sizeof(ss->origin))
			ss->origin = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL); /* a fallback: unique enough */
	}
	return ss->origin;
}

struct snapshot *snapshot_take(struct snapshots *ss, struct liveset *ls, const char *name, bool replace, int64_t rss,
			       struct mlz_err *err)
{
	char autoname[32];
	const struct snapshot *old = name ? snapshot_find(ss, name) : NULL;
	if (!name) {
		do
			snprintf(autoname, sizeof(autoname), "s%u", ++ss->auto_names);
		while (snapshot_find(ss, autoname));
		name = autoname;
	} else if (old && !replace) {
		mlz_error_kind(err, MLZ_E_USAGE, "a snapshot named '%s' exists already", name);
		return NULL;
	} else if (!strcmp(name, "now")) {
		mlz_error_kind(err, MLZ_E_USAGE, "'now' names the live set, not a snapshot");
		return NULL;
	}
	size_t old_at = old ? (size_t)(old - ss->v) : 0;
	liveset_sync(ls);
	ALLOC_GROW(ss->v, ss->n + 1, ss->alloc);
	struct snapshot *s = &ss->v[ss->n++];
	*s = (struct snapshot){ .name = xstrdup(name), .tick = liveset_tick_now(ls), .rss = rss, .seq = ls->seq };
	s->blocks = xmalloc((ls->blocks.n ? ls->blocks.n : 1) * sizeof(*s->blocks));
	BLOCKTAB_FOREACH(&ls->blocks, b)
		s->blocks[s->n++] = *b;
	qsort(s->blocks, s->n, sizeof(*s->blocks), cmp_addr);
	liveset_copy(ls, &s->by);
	if (old) {
		/* the old one leaves the list; the new one stays last, as the newest always is */
		snapshot_release(&ss->v[old_at]);
		memmove(&ss->v[old_at], &ss->v[old_at + 1], (ss->n - old_at - 1) * sizeof(*ss->v));
		s = &ss->v[--ss->n - 1];
	}
	return s;
}

void snapshot_add_untraced(struct snapshot *s, struct untraced *u)
{
	untraced_add(u, &s->by);
	s->walked = *u;
	memset(u, 0, sizeof(*u));
}

const struct snapshot *snapshot_find(const struct snapshots *ss, const char *name)
{
	for (size_t i = 0; i < ss->n; i++)
		if (!strcmp(ss->v[i].name, name))
			return &ss->v[i];
	return NULL;
}

void snapshots_hold(const struct snapshots *ss, struct stack_holds *h)
{
	for (size_t i = 0; i < ss->n; i++)
		stack_holds_by(h, &ss->v[i].by); /* its blocks' stacks are those with a count */
}

size_t snapshots_memory(const struct snapshots *ss)
{
	size_t m = ss->alloc * sizeof(*ss->v);
	for (size_t i = 0; i < ss->n; i++) {
		const struct snapshot *s = &ss->v[i];
		m += strlen(s->name) + 1 + (s->n ? s->n : 1) * sizeof(*s->blocks) + s->walked.map_bytes +
		     by_stack_memory(&s->by) + s->clock.alloc * sizeof(*s->clock.v); /* a loaded one's clock */
	}
	return m;
}

void snapshots_release(struct snapshots *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		snapshot_release(&ss->v[i]);
	free(ss->v);
	memset(ss, 0, sizeof(*ss));
}
