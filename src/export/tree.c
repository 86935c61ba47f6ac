// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * tree.c - the export records as a tree of frames, outermost or innermost
 * first, with each node's bytes in the base and in the set: what a flame
 * graph draws and massif's heap trees list.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "group.h"
#include "sym.h"
#include "u64map.h"
#include "xalloc.h"

struct frame {
	char *name, *loc;
	uint64_t pc;
};

struct frames {
	struct frame *v;
	size_t n, alloc;
};

static bool push_frame(void *arg, const struct sym_pc *r, const struct sym_frame *f)
{
	struct frames *x = arg;
	char buf[64];
	ALLOC_GROW(x->v, x->n + 1, x->alloc);
	struct frame *fr = &x->v[x->n++];
	fr->name = xstrdup(export_frame_name(r, f, buf, sizeof(buf)));
	fr->loc = NULL;
	if (f->file)
		fr->loc = xasprintf("%s:%d", f->file, f->line);
	else if (r->module) /* massif's own words for code without lines: "(in libfoo.so.1)" */
		fr->loc = xasprintf("in %s", r->module);
	fr->pc = r->pc;
	return true;
}

/* FNV-1a over the parent, the pc when it counts, and the strings. */
static uint64_t node_hash(uint32_t parent, uint64_t pc, const char *name, const char *loc)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const unsigned char *parts[2] = { (const unsigned char *)name, (const unsigned char *)(loc ? loc : "") };
	uint64_t words[2] = { parent, pc };
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 8; k++)
			h = (h ^ ((words[i] >> (8 * k)) & 0xff)) * 0x100000001b3ull;
	for (int i = 0; i < 2; i++) {
		for (const unsigned char *p = parts[i]; *p; p++)
			h = (h ^ *p) * 0x100000001b3ull;
		h = (h ^ 0xff) * 0x100000001b3ull; /* "ab","c" differs from "a","bc" */
	}
	return h;
}

static bool same_node(const struct ftree_node *n, uint32_t parent, uint64_t pc, const char *name, const char *loc)
{
	return n->parent == parent && n->pc == pc && !strcmp(n->name, name) &&
	       !strcmp(n->loc ? n->loc : "", loc ? loc : "");
}

/* The child of parent for this frame, made if new (the strings move into it then). */
static uint32_t child(struct ftree *t, struct u64map *index, uint32_t parent, struct frame *f)
{
	uint64_t h = node_hash(parent, f->pc, f->name, f->loc), at;
	if (u64map_get(index, h, &at) && same_node(&t->v[at], parent, f->pc, f->name, f->loc))
		goto found;
	for (uint32_t c = t->v[parent].first_child; c; c = t->v[c].next_sibling) /* a hash collision: rare */
		if (same_node(&t->v[c], parent, f->pc, f->name, f->loc)) {
			at = c;
			goto found;
		}
	ALLOC_GROW(t->v, t->n + 1, t->alloc);
	at = t->n++;
	t->v[at] = (struct ftree_node){ .name = f->name, .loc = f->loc, .pc = f->pc, .parent = parent,
					.next_sibling = t->v[parent].first_child };
	t->v[parent].first_child = (uint32_t)at;
	u64map_add(index, h, at);
	return (uint32_t)at;
found:
	free(f->name);
	free(f->loc);
	return (uint32_t)at;
}

void ftree_build(const struct export_set *in, const struct ftree_opts *o, struct ftree *t)
{
	memset(t, 0, sizeof(*t));
	ALLOC_GROW(t->v, 1, t->alloc);
	t->v[0] = (struct ftree_node){ .name = xstrdup(o->root_name ? o->root_name : "all") };
	t->n = 1;
	struct u64map index;
	u64map_init(&index);
	size_t n = export_nrecords(in);
	for (size_t i = 0; i < n; i++) {
		struct export_value v;
		uint32_t stack;
		unsigned cls;
		if (!export_value(in, i, &v, &stack, &cls) || (!v.bytes_a && !v.bytes_b))
			continue;
		if (stack == EXPORT_UNTRACED && o->traced_only)
			continue;
		struct frames x = { 0 };
		if (stack == EXPORT_UNTRACED)
			push_frame(&x, &(struct sym_pc){ .pc = 0 }, &(struct sym_frame){ .function = UNTRACED_NAME });
		else
			stack_site_frames(in->sym, in->stacks, stack, in->alloc_fns, push_frame, &x);
		uint32_t at = 0;
		int64_t mag = v.bytes_b > v.bytes_a ? v.bytes_b - v.bytes_a : v.bytes_a - v.bytes_b;
		t->v[0].a += v.bytes_a;
		t->v[0].b += v.bytes_b;
		t->v[0].mag += mag;
		t->v[0].count_b += v.count_b;
		for (size_t k = 0; k < x.n; k++) {
			struct frame *f = &x.v[o->outermost_first ? x.n - 1 - k : k];
			if (!o->by_pc)
				f->pc = 0;
			at = child(t, &index, at, f);
			t->v[at].a += v.bytes_a;
			t->v[at].b += v.bytes_b;
			t->v[at].mag += mag;
			t->v[at].count_b += v.count_b;
		}
		free(x.v);
	}
	u64map_release(&index);
}

void ftree_release(struct ftree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].loc);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

struct order_ctx {
	const struct ftree *t;
	enum ftree_order order;
};

/* Biggest first (or by name), then by name, location and pc: a total order, so the output is stable. */
static int cmp_nodes(const void *pa, const void *pb, void *arg)
{
	const struct order_ctx *o = arg;
	const struct ftree_node *p = &o->t->v[*(const uint32_t *)pa], *q = &o->t->v[*(const uint32_t *)pb];
	if (o->order != FTREE_BY_NAME) {
		int64_t a = o->order == FTREE_BY_MAG ? p->mag : p->b, b = o->order == FTREE_BY_MAG ? q->mag : q->b;
		if (a != b)
			return a < b ? 1 : -1;
	}
	int c = strcmp(p->name, q->name);
	if (!c)
		c = strcmp(p->loc ? p->loc : "", q->loc ? q->loc : "");
	if (!c)
		c = (p->pc > q->pc) - (p->pc < q->pc);
	return c;
}

size_t ftree_children(const struct ftree *t, uint32_t node, enum ftree_order order, uint32_t **out)
{
	size_t n = 0, alloc = 0;
	uint32_t *v = NULL;
	for (uint32_t c = t->v[node].first_child; c; c = t->v[c].next_sibling) {
		ALLOC_GROW(v, n + 1, alloc);
		v[n++] = c;
	}
	struct order_ctx o = { t, order };
	if (n > 1)
		qsort_r(v, n, sizeof(*v), cmp_nodes, &o);
	*out = v;
	return n;
}
