// SPDX-License-Identifier: GPL-3.0-or-later
/* infer.c - a type for each block of the reference graph: from typed globals through typed pointer fields, and C++ vtables. */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "graph.h"
#include "sym.h"
#include "target.h"
#include "types_internal.h"
#include "xalloc.h"

/* Blocks read at most this far for their pointer fields (a huge array of structs is typed by its start). */
#define MAX_SCAN (1u << 20)

/*
 * How much a type says: a named aggregate (a C++ class by its vtable most)
 * more than a pointer, a pointer more than a number, a number more than a
 * character (a char * is often a byte buffer of anything).
 */
static int rank(const struct types *t, uint32_t id)
{
	const struct ttype *y = &t->v[id];
	if (y->by_vtable)
		return 5;
	switch (y->tag) {
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type: return 4;
	case DW_TAG_pointer_type: return 3;
	default: return y->is_char ? 1 : 2;
	}
}

struct queue {
	uint32_t *v;
	size_t n, alloc;
};

/* Evidence that block j is of type id: the first kept, a more specific one replaces it; any disagreement is told. */
static void assign(struct types *t, struct queue *q, uint32_t j, uint32_t id)
{
	uint32_t old = t->block[j], cur = old & ID_MASK;
	if (cur == id || !id)
		return;
	/* counted as they change: a pass over every block at the end touched 4 bytes a block */
	bool was_conflict = old & CONFLICT_BIT;
	if (cur && rank(t, id) <= rank(t, cur)) {
		/* a class named by its vtable reached through a pointer to another class: a base, no conflict */
		if (!(t->v[cur].by_vtable && rank(t, id) == 4)) {
			t->block[j] |= CONFLICT_BIT;
			t->conflicts += !was_conflict;
		}
		return;
	}
	t->block[j] = id | (cur ? CONFLICT_BIT : 0);
	t->typed += !cur;
	t->conflicts += cur && !was_conflict;
	ALLOC_GROW(q->v, q->n + 1, q->alloc);
	q->v[q->n++] = j;
}

/* Roots in typed globals: the declared pointee of the field each root word sits in. */
static void from_globals(struct types *t, const struct graph *g, struct queue *q)
{
	for (size_t k = 0; k < g->nroots; k++) {
		const struct root_ref *r = &g->roots[k];
		if (r->kind != ROOT_DATA || r->interior)
			continue;
		struct strbuf sb = STRBUF_INIT;
		Dwarf_Die leaf, to;
		uint64_t rest;
		if (types_global_slot(t, r->where, &sb, &leaf, &rest) && !rest && dwarf_tag(&leaf) == DW_TAG_pointer_type &&
		    type_of(&leaf, &to))
			assign(t, q, r->block, type_id(t, &to));
		strbuf_release(&sb);
	}
}

#define MAX_FRAMES 64

/* One thread's frames: PCs, whether each is a return address, stack pointers, rbp. */
struct frames {
	bool done;
	int n;
	uint64_t pcs[MAX_FRAMES], sps[MAX_FRAMES], bps[MAX_FRAMES];
	bool caller[MAX_FRAMES];
};

/* The declared pointee of a local of pointer type, or 0. */
static uint32_t pointee(struct types *t, Dwarf_Die *ptr)
{
	Dwarf_Die to;
	return dwarf_tag(ptr) == DW_TAG_pointer_type && type_of(ptr, &to) ? type_id(t, &to) : 0;
}

/*
 * Roots in stack slots: the declared pointee of the local or parameter there.
 * The frame holding a slot is the innermost whose stack pointer is at or
 * below it (the red zone below the innermost frame is its own); its CFA is
 * the next frame's stack pointer. Roots in registers: the local the innermost
 * frame keeps in that register at its PC.
 */
static void from_locals(struct types *t, const struct graph *g, struct target *tg, struct queue *q)
{
	struct frames *fr = NULL;
	for (size_t k = 0; k < g->nroots; k++) {
		const struct root_ref *r = &g->roots[k];
		if ((r->kind != ROOT_STACK && r->kind != ROOT_REGISTER) || r->interior || r->thread < 0 ||
		    (size_t)r->thread >= tg->nthreads)
			continue;
		if (!fr)
			fr = xcalloc(tg->nthreads, sizeof(*fr));
		struct frames *f = &fr[r->thread];
		if (!f->done) {
			struct mlz_err e;
			f->done = true;
			f->n = sym_unwind_sps(t->sym, tg->threads[r->thread].tid, f->pcs, f->caller, f->sps, f->bps,
					      MAX_FRAMES, &e);
		}
		struct strbuf sb = STRBUF_INIT;
		Dwarf_Die leaf;
		uint64_t rest;
		if (r->kind == ROOT_REGISTER) {
			if (f->n > 0 && !f->caller[0] && types_register_var(t, f->pcs[0], (int)r->where, &sb, &leaf))
				assign(t, q, r->block, pointee(t, &leaf));
			strbuf_release(&sb);
			continue;
		}
		int fi = -1;
		for (int i = 0; i < f->n; i++)
			if (f->sps[i] && (f->sps[i] <= r->where || (i == 0 && f->sps[i] <= r->where + 128)))
				fi = i;
		if (fi < 0 || fi + 1 >= f->n || !f->sps[fi + 1]) {
			strbuf_release(&sb);
			continue;
		}
		struct types_frame tf = { f->pcs[fi], f->caller[fi], f->sps[fi + 1], f->sps[fi], f->bps[fi] };
		if (types_local_slot(t, &tf, r->where, &sb, &leaf, &rest) && !rest)
			assign(t, q, r->block, pointee(t, &leaf));
		strbuf_release(&sb);
	}
	free(fr);
}

/* Block i (its first got bytes in buf): each pointer field that holds a block's start types that block. */
static void fields_of(struct types *t, const struct graph *g, struct queue *q, uint32_t i, const uint8_t *buf,
		      uint64_t got)
{
	uint32_t id = t->block[i] & ID_MASK;
	size_t np;
	const struct tptr *p = type_ptrs(t, id, &np);
	uint64_t es = t->v[id].size;
	/* one element even when the block is smaller than its type (a struct with its tail cut off) */
	for (uint64_t base = 0; base == 0 || base + es <= got; base += es)
		for (size_t k = 0; k < np; k++) {
			uint64_t off = base + p[k].off, v;
			if (off + 8 > got)
				continue;
			memcpy(&v, buf + off, 8);
			long j = v ? graph_find(g, v) : -1;
			if (j >= 0 && g->addr[j] == v)
				assign(t, q, (uint32_t)j, p[k].to);
		}
}

/* The run of blocks (a stretch without a page-sized gap) that holds address a. */
static const struct grun *run_of(const struct graph *g, uint64_t a)
{
	size_t lo = 0, hi = g->nruns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a < g->runs[mid].lo)
			hi = mid;
		else if (a >= g->runs[mid].hi)
			lo = mid + 1;
		else
			return &g->runs[mid];
	}
	return NULL;
}

/*
 * Through the pointer fields of each typed block (those queued from from on),
 * element by element when it holds several. Blocks are read through a window of WINDOW bytes around
 * them, kept within their run of blocks (so the read never starts in
 * unmapped space): a list or tree allocated together is read a window at a
 * time whatever order its links go in, not one system call per block.
 */
static int propagate(struct types *t, const struct graph *g, struct target *tg, struct queue *q, size_t from,
		     struct cancel *c)
{
	enum { WINDOW = 1 << 20 };
	uint8_t *win = xmalloc(WINDOW), *one = NULL;
	uint64_t base = 0, have = 0;
	size_t cap = 0;
	for (size_t qi = from; qi < q->n && !cancel_poll(c, 1); qi++) {
		uint32_t i = q->v[qi], id = t->block[i] & ID_MASK;
		size_t np;
		if (!type_ptrs(t, id, &np) || !np || !t->v[id].size)
			continue;
		uint64_t a = g->addr[i], len = g->size[i] < MAX_SCAN ? g->size[i] : MAX_SCAN;
		if (have && a >= base && a + len <= base + have) {
			fields_of(t, g, q, i, win + (a - base), len);
			continue;
		}
		const struct grun *r = len <= WINDOW / 2 ? run_of(g, a) : NULL;
		if (r) {
			uint64_t lo = a > r->lo + WINDOW / 2 ? a - WINDOW / 2 : r->lo;
			uint64_t hi = r->hi - lo < WINDOW ? r->hi : lo + WINDOW;
			ssize_t got = target_read(tg, lo, win, hi - lo);
			base = lo;
			have = got > 0 ? (uint64_t)got : 0;
			if (a >= base && a + len <= base + have) {
				fields_of(t, g, q, i, win + (a - base), len);
				continue;
			}
		}
		/* a large block, or one the window could not read (a core's missing page): alone */
		if (len > cap) {
			cap = len;
			one = xrealloc(one, cap);
		}
		ssize_t got = target_read(tg, a, one, len);
		if (got > 0)
			fields_of(t, g, q, i, one, (uint64_t)got);
	}
	free(win);
	free(one);
	return cancelled(c) ? -1 : 0;
}

/*
 * Blocks nothing in the graph typed: the type their allocation's caller gives
 * them, the variable it assigns the result to. Weaker than any graph evidence,
 * so asked only where there was none.
 */
static void from_sites(struct types *t, const struct graph *g, struct target *tg, const struct types_sites *s,
		       struct queue *q, struct cancel *c)
{
	for (size_t i = 0; i < g->n && !cancel_poll(c, 1); i++) {
		if (t->block[i])
			continue;
		uint64_t ret = s->ret(s->arg, (uint32_t)i);
		uint32_t id = ret ? types_site_type(t, tg, ret) : 0;
		if (id) {
			assign(t, q, (uint32_t)i, id);
			t->block[i] |= SITE_BIT;
		}
	}
}

/* The definition of the class or struct named name ("ns::Outer::Inner") under die, into *out. */
static bool find_in(Dwarf_Die *die, const char *name, Dwarf_Die *out, int depth)
{
	Dwarf_Die c;
	const char *sep = strstr(name, "::");
	size_t len = sep ? (size_t)(sep - name) : strlen(name);
	if (depth > 8 || dwarf_child(die, &c) != 0)
		return false;
	do {
		int tag = dwarf_tag(&c);
		const char *n = dwarf_diename(&c);
		if (!n || strncmp(n, name, len) || n[len])
			continue;
		if (sep && (tag == DW_TAG_namespace || tag == DW_TAG_structure_type || tag == DW_TAG_class_type) &&
		    find_in(&c, sep + 2, out, depth + 1))
			return true;
		if (!sep && (tag == DW_TAG_structure_type || tag == DW_TAG_class_type) &&
		    !dwarf_hasattr(&c, DW_AT_declaration)) {
			*out = c;
			return true;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
	return false;
}

static bool find_class(Dwfl_Module *mod, const char *name, Dwarf_Die *out)
{
	Dwarf_Addr bias;
	for (Dwarf_Die *cu = NULL; (cu = dwfl_module_nextcu(mod, cu, &bias));)
		if (find_in(cu, name, out, 0))
			return true;
	return false;
}

/* The class whose vtable's address point is w, or 0. */
static uint32_t vtable_type(struct types *t, uint64_t w)
{
	uint64_t off;
	const char *mod;
	const char *name = sym_data_symbol(t->sym, w, &off, &mod);
	if (!name || strncmp(name, "_ZTV", 4) || off != 16)
		return 0;
	/* _ZTV<type> demangles as "vtable for <type>"; the type alone is _Z<type> */
	char *mangled = xmalloc(strlen(name) + 1);
	strcpy(mangled, "_Z");
	strcat(mangled, name + 4);
	char *d = sym_demangle(mangled);
	uint64_t bias;
	Dwarf_Die die;
	Dwfl_Module *dmod = sym_data_module(t->sym, w, &bias);
	/* the class's DWARF, where its vtable is defined, gives its fields; else the name alone */
	uint32_t id = d && dmod && find_class(dmod, d, &die) ? type_id(t, &die) : type_id_named(t, d ? d : name + 4);
	t->v[id].by_vtable = true;
	free(d);
	free(mangled);
	return id;
}

/*
 * A C++ object's first word points 16 bytes into its class's vtable
 * (_ZTV<class>: offset to top, typeinfo, then the virtual functions): the
 * most derived class, whatever pointer type reached it. Looked up once per
 * distinct first word.
 */
static void from_vtables(struct types *t, const struct graph *g, struct queue *q)
{
	/* the graph kept each block whose first word points into a module's file mapping */
	for (size_t k = 0; k < g->nfirsts; k++) {
		uint64_t w = g->firsts[k].word, id;
		if (w < 16 || (w & 7))
			continue;
		if (!u64map_get(&t->vtables, w, &id)) {
			id = vtable_type(t, w);
			u64map_put(&t->vtables, w, id);
		}
		if (id)
			assign(t, q, g->firsts[k].block, (uint32_t)id);
	}
}

int types_infer(struct types *t, const struct graph *g, struct target *tg, const struct types_sites *sites,
		struct cancel *cancel, struct mlz_err *err)
{
	double t0 = mono_ms();
	free(t->block);
	t->block = xcalloc(g->n ? g->n : 1, sizeof(*t->block));
	t->nblocks = g->n;
	t->typed = t->conflicts = 0;
	struct queue q = { 0 };
	from_vtables(t, g, &q);
	from_globals(t, g, &q);
	from_locals(t, g, tg, &q);
	int r = propagate(t, g, tg, &q, 0, cancel);
	if (r == 0 && sites) {
		size_t from = q.n;
		from_sites(t, g, tg, sites, &q, cancel);
		r = propagate(t, g, tg, &q, from, cancel);
	}
	free(q.v);
	t->ms = mono_ms() - t0;
	if (r < 0 || cancelled(cancel))
		return cancel_error(err);
	return 0;
}

uint32_t types_of_block(const struct types *t, uint32_t i, bool *conflict)
{
	uint32_t v = i < t->nblocks ? t->block[i] : 0;
	if (conflict)
		*conflict = (v & CONFLICT_BIT) != 0;
	return v & ID_MASK;
}

bool types_block_by_site(const struct types *t, uint32_t i)
{
	return i < t->nblocks && (t->block[i] & SITE_BIT);
}

void types_counts(const struct types *t, size_t *typed, size_t *conflicts, double *ms)
{
	*typed = t->typed;
	*conflicts = t->conflicts;
	*ms = t->ms;
}
