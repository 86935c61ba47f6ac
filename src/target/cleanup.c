// SPDX-License-Identifier: GPL-3.0-or-later
/* cleanup.c - the undo registry every exit path runs before detaching from the target. */
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "err.h"
#include "xalloc.h"

static int add(struct cleanup *c, struct cleanup_entry e)
{
	ALLOC_GROW(c->v, c->n + 1, c->alloc);
	e.active = true;
	c->v[c->n] = e;
	return (int)c->n++;
}

int cleanup_add_bytes(struct cleanup *c, uint64_t addr, const void *orig, const void *patched, size_t len)
{
	struct cleanup_entry e = { .kind = CLEANUP_BYTES, .addr = addr, .len = len };
	if (len > sizeof(e.orig))
		BUG("cleanup entry of %zu bytes", len);
	memcpy(e.orig, orig, len);
	memcpy(e.patched, patched, len);
	return add(c, e);
}

int cleanup_add_func(struct cleanup *c, int (*fn)(void *), void *arg)
{
	if (c->running)
		return -1;
	return add(c, (struct cleanup_entry){ .kind = CLEANUP_FUNC, .fn = fn, .arg = arg });
}

void cleanup_forget(struct cleanup *c, int id)
{
	if (id < 0 || (size_t)id >= c->n)
		BUG("cleanup id %d out of range", id);
	c->v[id].active = false;
	/* Trim the tail so a register/forget cycle does not grow the array. */
	while (c->n && !c->v[c->n - 1].active)
		c->n--;
}

size_t cleanup_pending(const struct cleanup *c)
{
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++)
		k += c->v[i].active;
	return k;
}

int cleanup_run(struct cleanup *c, cleanup_write_fn write, void *ctx)
{
	int failed = 0;
	c->running = true;
	for (size_t i = c->n; i-- > 0;) {
		struct cleanup_entry *e = &c->v[i];
		if (!e->active)
			continue;
		int r = e->kind == CLEANUP_BYTES ? write(ctx, e->addr, e->orig, e->patched, e->len) : e->fn(e->arg);
		if (r < 0)
			failed++;
		e->active = false;
	}
	c->n = 0;
	c->running = false;
	return failed;
}

void cleanup_release(struct cleanup *c)
{
	free(c->v);
	c->v = NULL;
	c->n = c->alloc = 0;
}
