// SPDX-License-Identifier: GPL-3.0-or-later
/* group.c - adding per-stack figures up by site, function, file or stack, and comparing two sets. */
#include <fnmatch.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "group.h"
#include "jv.h"
#include "strbuf.h"
#include "sym.h"
#include "where.h"
#include "wildcard.h"
#include "blocks.h"
#include "xalloc.h"

const char *const group_by_names[BY_NKINDS + 1] = { "site", "function", "file", "stack", "stack" };

int group_by_parse(const char *word, enum group_by *by, struct mlz_err *err)
{
	for (int i = 0; i < BY_NKINDS; i++) {
		if (!strcmp(word, group_by_names[i])) {
			*by = (enum group_by)i;
			return 0;
		}
	}
	return mlz_error_kind(err, MLZ_E_USAGE, "--by takes site, function, file or stack, not '%s'", word);
}

/* valgrind's own defaults are malloc's family; these are the wrappers programs commonly add. */
const char *const alloc_fns_builtin[] = {
	"xmalloc", "xcalloc", "xrealloc", "xstrdup", "xstrndup", "xmemdup",
	"g_malloc", "g_malloc0", "g_realloc", "g_try_malloc", "g_try_malloc0", "g_try_realloc", "g_strdup",
	"PyMem_RawMalloc", "PyMem_RawCalloc", "PyMem_RawRealloc", "PyMem_Malloc", "PyMem_Calloc",
	"PyMem_Realloc", "PyObject_Malloc", "PyObject_Calloc", "PyObject_Realloc",
	"operator new", "operator new[]", "zmalloc", "zcalloc", "zrealloc", "je_malloc", "je_calloc",
	"je_realloc", NULL,
};

void alloc_fns_default(struct alloc_fns *a)
{
	alloc_fns_clear(a);
	for (const char *const *p = alloc_fns_builtin; *p; p++)
		alloc_fns_add(a, *p);
}

void alloc_fns_add(struct alloc_fns *a, const char *pat)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], pat))
			return;
	a->v = xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
	a->v[a->n++] = xstrdup(pat);
	a->gen++;
}

bool alloc_fns_remove(struct alloc_fns *a, const char *pat)
{
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->v[i], pat))
			continue;
		free(a->v[i]);
		memmove(a->v + i, a->v + i + 1, (a->n - i - 1) * sizeof(*a->v));
		a->n--;
		a->gen++;
		return true;
	}
	return false;
}

void alloc_fns_clear(struct alloc_fns *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
	a->gen++;
}

bool alloc_fns_match(const struct alloc_fns *a, const char *function)
{
	if (!a || !function)
		return false;
	/* "operator new(unsigned long)" is matched as "operator new" too, as valgrind's names have no parameters. */
	const char *paren = strchr(function, '(');
	char *bare = paren && paren > function ? xstrndup(function, (size_t)(paren - function)) : NULL;
	bool hit = false;
	for (size_t i = 0; i < a->n && !hit; i++)
		hit = wildcard_match(a->v[i], function) || (bare && wildcard_match(a->v[i], bare));
	free(bare);
	return hit;
}

void alloc_fns_release(struct alloc_fns *a)
{
	alloc_fns_clear(a);
	free(a->v);
	a->v = NULL;
}

/* Frames that allocate on behalf of their caller: the site is further out. */
static bool is_allocator_frame(const struct sym_pc *r, const struct sym_frame *f, const struct alloc_fns *af)
{
	const char *m = r->module ? r->module : "";
	const char *fn = f->function ? f->function : "";
	return !strncmp(m, "libc.so", 7) || !strncmp(m, "ld-linux", 8) || !strncmp(m, "libstdc++", 9) ||
	       !strncmp(fn, "operator new", 12) ||
	       !strncmp(fn, "operator delete", 15) || alloc_fns_match(af, f->function);
}

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void index_put(struct keytab *t, uint32_t id)
{
	size_t i = hash_str(t->strs[id]) & (t->index_cap - 1);
	while (t->index[i])
		i = (i + 1) & (t->index_cap - 1);
	t->index[i] = id + 1;
}

/* The id of the key with text str (and these fields), made on first sight. */
static uint32_t intern(struct keytab *t, const char *str, const char *function, const char *file, const char *module,
		       int line, const uint64_t *pcs, int depth)
{
	uint32_t h = hash_str(str);
	if (t->index_cap) {
		for (size_t i = h & (t->index_cap - 1); t->index[i]; i = (i + 1) & (t->index_cap - 1))
			if (!strcmp(t->strs[t->index[i] - 1], str))
				return t->index[i] - 1;
	}
	size_t alloc = t->alloc;
	ALLOC_GROW(t->v, t->n + 1, t->alloc);
	if (alloc != t->alloc)
		t->strs = xrealloc(t->strs, t->alloc * sizeof(*t->strs));
	uint32_t id = (uint32_t)t->n++;
	t->strs[id] = xstrdup(str);
	t->v[id] = (struct group_key){
		.function = function ? xstrdup(function) : NULL, .file = file ? xstrdup(file) : NULL,
		.module = module ? xstrdup(module) : NULL, .line = line, .depth = pcs ? depth : 0,
	};
	if (pcs) {
		t->v[id].pcs = xmalloc((depth ? depth : 1) * sizeof(*pcs));
		memcpy(t->v[id].pcs, pcs, depth * sizeof(*pcs));
	}
	if (t->n * 2 > t->index_cap) {
		free(t->index);
		t->index_cap = t->index_cap ? t->index_cap * 2 : 256;
		t->index = xcalloc(t->index_cap, sizeof(*t->index));
		for (uint32_t k = 0; k < t->n; k++)
			index_put(t, k);
	} else {
		index_put(t, id);
	}
	return id;
}

static uint32_t key_of_frame(struct keytab *t, enum group_by by, const struct sym_pc *r, const struct sym_frame *f)
{
	char buf[64];
	const char *fn = f->function;
	if (!fn) { /* no symbol: the code address in its module stands for the function */
		snprintf(buf, sizeof(buf), "0x%" PRIx64, r->module_offset);
		fn = buf;
	}
	struct strbuf sb = STRBUF_INIT;
	if (by == BY_FILE)
		strbuf_addstr(&sb, f->file ? f->file : "??");
	else if (by == BY_FUNCTION)
		strbuf_addf(&sb, "%s\x1f%s", fn, r->module ? r->module : "");
	else
		strbuf_addf(&sb, "%s\x1f%s\x1f%d\x1f%s", fn, f->file ? f->file : "", f->line, r->module ? r->module : "");
	/* The address text keys the group; the key itself has no name, its module and offset say where it is. */
	const char *name = f->function;
	uint32_t id = by == BY_FILE ? intern(t, strbuf_str(&sb), NULL, f->file ? f->file : "??", NULL, 0, NULL, 0)
		      : by == BY_FUNCTION ? intern(t, strbuf_str(&sb), name, NULL, r->module, 0, NULL, 0)
					  : intern(t, strbuf_str(&sb), name, f->file, r->module, f->line, NULL, 0);
	if (!name && by != BY_FILE) {
		t->v[id].unnamed = true;
		t->v[id].module_offset = r->module_offset;
	}
	strbuf_release(&sb);
	return id;
}

void stack_site_frames(struct sym *sym, const struct stacktab *stacks, uint32_t stack, const struct alloc_fns *af,
			bool (*fn)(void *arg, const struct sym_pc *r, const struct sym_frame *f), void *arg)
{
	int depth;
	const uint64_t *pcs = stacktab_pcs(stacks, stack, &depth);
	bool outside = false;
	const struct sym_pc *last_r = NULL;
	const struct sym_frame *last_f = NULL;
	for (int i = 1; i < depth; i++) {
		const struct sym_pc *r = sym_lookup(sym, pcs[i], true);
		for (size_t k = 0; k < r->nframes; k++) {
			last_r = r;
			last_f = &r->frames[k];
			if (!outside && is_allocator_frame(r, &r->frames[k], af))
				continue;
			outside = true;
			if (!fn(arg, r, &r->frames[k]))
				return;
		}
	}
	if (!outside) { /* every frame allocates: the outermost one is the site */
		if (!last_r) {
			last_r = sym_lookup(sym, pcs[0], false);
			last_f = &last_r->frames[0];
		}
		fn(arg, last_r, last_f);
	}
}

struct site_ctx {
	const struct alloc_fns *af;
	const struct sym_pc *r;
	const struct sym_frame *f;
};

/*
 * The site is the first frame past the allocator that has a name: code
 * without symbols between malloc and its caller (a stripped library's
 * static helper) would otherwise name every block it passes on by an
 * address nobody can read. The first frame past the allocator stands in
 * when none further out has a name (a stripped program groups by address).
 * Frames of the allocator's modules further out (start_thread) do not count:
 * the program's code called malloc, not them.
 */
static bool find_site(void *arg, const struct sym_pc *r, const struct sym_frame *f)
{
	struct site_ctx *c = arg;
	if (f->function && !is_allocator_frame(r, f, c->af)) {
		c->r = r;
		c->f = f;
		return false;
	}
	if (!c->r) {
		c->r = r;
		c->f = f;
	}
	return true;
}

void stack_site(struct sym *sym, const struct stacktab *stacks, uint32_t stack, const struct alloc_fns *af,
		const struct sym_pc **r, const struct sym_frame **f)
{
	struct site_ctx c = { .af = af };
	stack_site_frames(sym, stacks, stack, af, find_site, &c);
	*r = c.r;
	*f = c.f;
}

static uint32_t site_key(struct keys *k, struct sym *sym, const struct stacktab *stacks, uint32_t stack,
			 enum group_by by)
{
	const struct sym_pc *r;
	const struct sym_frame *f;
	stack_site(sym, stacks, stack, &k->alloc_fns, &r, &f);
	return key_of_frame(&k->tab[by], by, r, f);
}

uint32_t keys_of_stack(struct keys *k, struct sym *sym, const struct stacktab *stacks, uint32_t stack, enum group_by by)
{
	struct keytab *t = &k->tab[by];
	/* Ids were released since (some now name other stacks), or the alloc-fn list changed. */
	if (t->memo_epoch != stacks->epoch || t->memo_gen != k->alloc_fns.gen) {
		for (size_t i = 0; i < t->memo_n; i++)
			t->memo[i] = -1;
		t->memo_epoch = stacks->epoch;
		t->memo_gen = k->alloc_fns.gen;
	}
	if (stack >= t->memo_n) {
		size_t n = stacks->n > stack ? stacks->n : (size_t)stack + 1;
		t->memo = xrealloc(t->memo, n * sizeof(*t->memo));
		for (size_t i = t->memo_n; i < n; i++)
			t->memo[i] = -1;
		t->memo_n = n;
	}
	if (t->memo[stack] >= 0)
		return (uint32_t)t->memo[stack];
	uint32_t id;
	if (by == BY_STACK_NAMES) {
		/* Frames by name, each PC's in a row, as stack_to_jv prints them. */
		int depth;
		const uint64_t *pcs = stacktab_pcs(stacks, stack, &depth);
		struct strbuf sb = STRBUF_INIT;
		for (int i = 0; i < depth; i++) {
			const struct sym_pc *r = sym_lookup(sym, pcs[i], i > 0);
			for (size_t f = 0; f < r->nframes; f++) {
				const struct sym_frame *fr = &r->frames[f];
				if (fr->function)
					strbuf_addf(&sb, "%s\x1f%s\x1f%d\x1f%s\x1e", fr->function, fr->file ? fr->file : "",
						    fr->line, r->module ? r->module : "");
				else /* no name: the code's place in its module names it */
					strbuf_addf(&sb, "%s+0x%" PRIx64 "\x1e", r->module ? r->module : "", r->module_offset);
			}
		}
		uint32_t site_id = site_key(k, sym, stacks, stack, BY_SITE);
		const struct group_key *site = &k->tab[BY_SITE].v[site_id];
		strbuf_addf(&sb, "@%" PRIu32, site_id); /* as for BY_STACK: the alloc-fn list chooses the site */
		id = intern(t, strbuf_str(&sb), site->function, site->file, site->module, site->line, pcs, depth);
		t->v[id].unnamed = site->unnamed;
		t->v[id].module_offset = site->module_offset;
		strbuf_release(&sb);
	} else if (by == BY_STACK) {
		/* The same PCs from another thread are the same stack. */
		int depth;
		const uint64_t *pcs = stacktab_pcs(stacks, stack, &depth);
		struct strbuf sb = STRBUF_INIT;
		for (int i = 0; i < depth; i++)
			strbuf_addf(&sb, "%" PRIx64 ",", pcs[i]);
		uint32_t site_id = site_key(k, sym, stacks, stack, BY_SITE);
		const struct group_key *site = &k->tab[BY_SITE].v[site_id];
		strbuf_addf(&sb, "@%" PRIu32, site_id); /* the same PCs under another alloc-fn list have another site */
		id = intern(t, strbuf_str(&sb), site->function, site->file, site->module, site->line, pcs, depth);
		t->v[id].unnamed = site->unnamed;
		t->v[id].module_offset = site->module_offset;
		strbuf_release(&sb);
	} else {
		id = site_key(k, sym, stacks, stack, by);
	}
	t->memo[stack] = (int32_t)id;
	return id;
}

struct all_ctx {
	struct keytab *t;
	enum group_by by;
	uint32_t *out;
	size_t n, max;
};

static bool take_all(void *arg, const struct sym_pc *r, const struct sym_frame *f)
{
	struct all_ctx *c = arg;
	uint32_t id = key_of_frame(c->t, c->by, r, f);
	for (size_t i = 0; i < c->n; i++)
		if (c->out[i] == id)
			return true;
	if (c->n < c->max)
		c->out[c->n++] = id;
	return c->n < c->max;
}

size_t keys_all_frames(struct keys *k, struct sym *sym, const struct stacktab *stacks, uint32_t stack, enum group_by by,
		       uint32_t *out, size_t max)
{
	if (by == BY_STACK || by == BY_STACK_NAMES) {
		out[0] = keys_of_stack(k, sym, stacks, stack, by);
		return 1;
	}
	struct all_ctx c = { .t = &k->tab[by], .by = by, .out = out, .max = max };
	stack_site_frames(sym, stacks, stack, &k->alloc_fns, take_all, &c);
	return c.n;
}

uint32_t keys_of_class(struct keys *k, enum group_by by, unsigned cls)
{
	char str[64], label[48];
	snprintf(str, sizeof(str), "\001untraced %u", cls); /* no file path or PC list starts so */
	struct keytab *t = &k->tab[by];
	uint32_t id = intern(t, str, UNTRACED_NAME, by == BY_FILE ? UNTRACED_NAME : NULL, NULL, 0, NULL, 0);
	if (!t->v[id].size_class) {
		untraced_class_label(cls, label, sizeof(label));
		t->v[id].size_class = xstrdup(label);
	}
	return id;
}

const struct group_key *keys_get(const struct keys *k, enum group_by by, uint32_t id)
{
	return id < k->tab[by].n ? &k->tab[by].v[id] : NULL;
}

void keys_release(struct keys *k)
{
	for (int b = 0; b <= BY_STACK_NAMES; b++) {
		struct keytab *t = &k->tab[b];
		for (size_t i = 0; i < t->n; i++) {
			free(t->strs[i]);
			free(t->v[i].function);
			free(t->v[i].file);
			free(t->v[i].module);
			free(t->v[i].size_class);
			free(t->v[i].pcs);
		}
		free(t->strs);
		free(t->v);
		free(t->index);
		free(t->memo);
	}
	alloc_fns_release(&k->alloc_fns);
	memset(k, 0, sizeof(*k));
}

static bool passes(const struct group_key *key, const char *filter)
{
	if (!filter)
		return true;
	const char *base = key->file && strrchr(key->file, '/') ? strrchr(key->file, '/') + 1 : key->file;
	if (key->unnamed) { /* no name to match: the place as text output shows it, "libfoo.so.1+0x1234" */
		char *place = xasprintf("%s+0x%" PRIx64, key->module ? key->module : "", key->module_offset);
		bool hit = !fnmatch(filter, place, 0);
		free(place);
		if (hit)
			return true;
	}
	return (key->function && !fnmatch(filter, key->function, 0)) || (key->file && !fnmatch(filter, key->file, 0)) ||
	       (base && !fnmatch(filter, base, 0));
}

static int cmp_groups(const void *pa, const void *pb)
{
	const struct group *a = pa, *b = pb;
	int64_t da = a->bytes_b - a->bytes_a, db = b->bytes_b - b->bytes_a;
	if (da != db)
		return da > db ? -1 : 1;
	int64_t ca = a->count_b - a->count_a, cb = b->count_b - b->count_a;
	if (ca != cb)
		return ca > cb ? -1 : 1;
	if (a->bytes_b != b->bytes_b)
		return a->bytes_b > b->bytes_b ? -1 : 1;
	return a->key < b->key ? -1 : a->key > b->key;
}

bool by_stack_untraced_comparable(const struct by_stack *a, const struct by_stack *b)
{
	return b->walked && (!a || a->walked);
}

void by_stack_totals(const struct by_stack *b, bool untraced, int64_t *count, int64_t *bytes)
{
	*count = (int64_t)b->count;
	*bytes = (int64_t)b->bytes;
	for (int i = 0; !untraced && i < UNTRACED_CLASSES; i++) {
		*count -= (int64_t)b->untraced[i].count;
		*bytes -= (int64_t)b->untraced[i].bytes;
	}
}

struct group *group_compare(struct keys *k, struct sym *sym, const struct stacktab *stacks, const struct by_stack *a,
			    const struct by_stack *b, const struct grouping_opts *o, size_t *n)
{
	size_t an = a ? a->n : 0, nstacks = b->n > an ? b->n : an; /* a is NULL for top */
	struct group *g = NULL;
	size_t ng = 0, galloc = 0;
	int32_t *slot = NULL; /* key id -> index in g */
	size_t nslot = 0;
	uint32_t keys[64];

	size_t nclasses = by_stack_untraced_comparable(a, b) ? UNTRACED_CLASSES : 0;
	for (size_t s = 0; s < nstacks + nclasses; s++) {
		struct stack_live la = { 0 }, lb = { 0 };
		size_t nk;
		if (s < nstacks) {
			la = a && s < a->n ? a->v[s] : la;
			lb = s < b->n ? b->v[s] : lb;
		} else {
			la = a ? a->untraced[s - nstacks] : la;
			lb = b->untraced[s - nstacks];
		}
		if (!la.count && !lb.count)
			continue;
		if (s >= nstacks)
			nk = (keys[0] = keys_of_class(k, o->by, (unsigned)(s - nstacks)), 1);
		else if (o->cumulative)
			nk = keys_all_frames(k, sym, stacks, (uint32_t)s, o->by, keys, 64);
		else
			nk = (keys[0] = keys_of_stack(k, sym, stacks, (uint32_t)s, o->by), 1);
		for (size_t i = 0; i < nk; i++) {
			uint32_t key = keys[i];
			if (key >= nslot) {
				size_t nn = k->tab[o->by].n;
				slot = xrealloc(slot, nn * sizeof(*slot));
				for (size_t j = nslot; j < nn; j++)
					slot[j] = -1;
				nslot = nn;
			}
			if (slot[key] < 0) {
				ALLOC_GROW(g, ng + 1, galloc);
				g[ng] = (struct group){ .key = key };
				slot[key] = (int32_t)ng++;
			}
			struct group *x = &g[slot[key]];
			x->count_a += (int64_t)la.count;
			x->bytes_a += (int64_t)la.bytes;
			x->count_b += (int64_t)lb.count;
			x->bytes_b += (int64_t)lb.bytes;
		}
	}
	free(slot);
	/* Drop groups the filter rejects and those with nothing in either set. */
	size_t kept = 0;
	for (size_t i = 0; i < ng; i++) {
		if (!passes(keys_get(k, o->by, g[i].key), o->filter))
			continue;
		if (!g[i].count_a && !g[i].count_b && !g[i].bytes_a && !g[i].bytes_b)
			continue;
		if (o->changed_only && g[i].count_a == g[i].count_b && g[i].bytes_a == g[i].bytes_b)
			continue;
		g[kept++] = g[i];
	}
	if (kept > 1)
		qsort(g, kept, sizeof(*g), cmp_groups);
	if (o->top > 0 && (size_t)o->top < kept)
		kept = (size_t)o->top;
	*n = kept;
	return g;
}

void stack_frames_jv(struct sym *sym, const uint64_t *pcs, int depth, struct jv *arr)
{
	for (int i = 0; i < depth; i++) {
		const struct sym_pc *r = sym_lookup(sym, pcs[i], i > 0);
		for (size_t k = 0; k < r->nframes; k++) {
			struct jv *f = jv_push(arr, jv_object());
			jv_set(f, "pc", jv_addr(r->pc)); /* a saved frame's PC in its own process */
			jv_set(f, "function", jv_string(r->frames[k].function));
			jv_set(f, "file", jv_string(r->frames[k].file));
			jv_set(f, "line", r->frames[k].line ? jv_int(r->frames[k].line) : jv_null());
			jv_set(f, "module", jv_string(r->module));
			if (!r->frames[k].function)
				jv_set(f, "module_offset", jv_addr(r->module_offset));
			jv_set(f, "inlined", jv_bool(r->frames[k].inlined));
		}
	}
}

void group_key_where_jv(const struct group_key *key, struct jv *o)
{
	jv_set(o, "function", jv_string(key->function));
	jv_set(o, "file", jv_string(key->file));
	jv_set(o, "line", key->line ? jv_int(key->line) : jv_null());
	jv_set(o, "module", jv_string(key->module));
	if (key->unnamed)
		jv_set(o, "module_offset", jv_addr(key->module_offset));
}

void groups_to_jv(struct keys *k, struct sym *sym, enum group_by by,
		  const struct group *g, size_t n, bool with_diff, struct jv *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct group_key *key = keys_get(k, by, g[i].key);
		struct jv *o = jv_push(out, jv_object());
		jv_set(o, "id", jv_int(g[i].key));
		if (by != BY_FILE) {
			jv_set(o, "function", jv_string(key->function));
			jv_set(o, "module", jv_string(key->module));
			if (key->unnamed)
				jv_set(o, "module_offset", jv_addr(key->module_offset));
		}
		if (by != BY_FUNCTION) {
			jv_set(o, "file", jv_string(key->file));
			jv_set(o, "line", key->line ? jv_int(key->line) : jv_null());
		}
		if (key->size_class)
			jv_set(o, "size_class", jv_string(key->size_class));
		if (by == BY_STACK || by == BY_STACK_NAMES) {
			struct jv *st = jv_set(o, "stack", jv_array());
			if (key->pcs)
				stack_frames_jv(sym, key->pcs, key->depth, st);
		}
		jv_set(o, "blocks", jv_int(g[i].count_b));
		if (with_diff)
			jv_set(o, "blocks_diff", jv_int(g[i].count_b - g[i].count_a));
		jv_set(o, "bytes", jv_int(g[i].bytes_b));
		if (with_diff)
			jv_set(o, "bytes_diff", jv_int(g[i].bytes_b - g[i].bytes_a));
	}
}

void group_where_text(const struct jv *o, struct strbuf *out)
{
	where_text_jv(o, out);
	if (jv_get_str(o, "size_class", NULL))
		strbuf_addf(out, " %s bytes", jv_get_str(o, "size_class", ""));
}

void groups_text(const struct jv *groups, bool with_diff, unsigned sz, struct strbuf *out)
{
	char b1[32], b2[32];
	if (with_diff)
		strbuf_addf(out, "%5s %12s %12s %9s %9s  %s\n", "ID", "SIZE", "+SIZE", "COUNT", "+COUNT", "WHERE");
	else
		strbuf_addf(out, "%5s %12s %9s  %s\n", "ID", "SIZE", "COUNT", "WHERE");
	for (size_t i = 0; i < jv_len(groups); i++) {
		const struct jv *o = jv_at(groups, i);
		/* Groups of blocks from before attach are walked, not sampled: exact. */
		unsigned fl = jv_get_str(o, "size_class", NULL) ? sz & ~SIZE_ESTIMATE : sz;
		const char *est = fl & SIZE_ESTIMATE ? "~" : "";
		char c1[40], c2[40];
		strbuf_addf(out, "%5" PRId64 " %12s", jv_get_int(o, "id", 0), size_str(b1, jv_get_int(o, "bytes", 0), fl));
		if (with_diff)
			strbuf_addf(out, " %12s", size_str(b2, jv_get_int(o, "bytes_diff", 0), fl | SIZE_SIGN));
		snprintf(c1, sizeof(c1), "%s%" PRId64, est, jv_get_int(o, "blocks", 0));
		strbuf_addf(out, " %9s", c1);
		if (with_diff) {
			snprintf(c2, sizeof(c2), "%s%+" PRId64, est, jv_get_int(o, "blocks_diff", 0));
			strbuf_addf(out, " %9s", c2);
		}
		strbuf_addstr(out, "  ");
		group_where_text(o, out);
		strbuf_addch(out, '\n');
		const struct jv *stack = jv_get(o, "stack");
		for (size_t f = 0; f < jv_len(stack); f++) {
			const struct jv *fr = jv_at(stack, f);
			strbuf_addf(out, "%47s#%-2zu ", "", f);
			where_text_jv(fr, out);
			strbuf_addch(out, '\n');
		}
	}
}
