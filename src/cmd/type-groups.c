// SPDX-License-Identifier: GPL-3.0-or-later
/* type-groups.c - the live blocks added up by type (untyped ones by size), for top, snapshot and compare --by type. */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "graph.h"
#include "jv.h"
#include "liveset.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"
#include "types.h"
#include "u64map.h"
#include "xalloc.h"

struct tgroup {
	uint32_t type;
	uint64_t block_size; /* untyped blocks: grouped by their size */
	uint64_t count, bytes, conflicts;
};

static int cmp_group(const void *a, const void *b)
{
	const struct tgroup *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return (x->block_size > y->block_size) - (x->block_size < y->block_size);
}

/* Whether a group passes --filter GLOB (on its type's name: untyped groups never match). */
static bool passes(const char *name, const char *filter)
{
	return !filter || (name && !fnmatch(filter, name, 0));
}

struct jv *type_table_jv(struct cmd_ctx *c, long top, const char *filter)
{
	struct sym *sym = session_sym(c->s, &c->err);
	struct types *t = sym ? session_types(c->s, &c->err) : NULL;
	if (!t)
		return NULL;
	const struct graph *g = c->s->graph;
	struct u64map index; /* type id, or the size of untyped blocks with the top bit set -> group */
	u64map_init(&index);
	struct tgroup *v = NULL;
	size_t n = 0, alloc = 0;
	uint64_t count = 0, bytes = 0, tcount = 0, tbytes = 0;
	for (size_t i = 0; i < g->n; i++) {
		bool conflict;
		uint32_t id = types_of_block(t, (uint32_t)i, &conflict);
		const struct block *b = c->s->live.blocks.n ? blocktab_get(&c->s->live.blocks, g->addr[i]) : NULL;
		uint64_t size = b ? b->size : g->size[i]; /* requested when traced, else usable */
		uint64_t key = id ? id : (1ull << 63) | size, k;
		if (!u64map_get(&index, key, &k)) {
			ALLOC_GROW(v, n + 1, alloc);
			v[n] = (struct tgroup){ .type = id, .block_size = id ? 0 : size };
			u64map_put(&index, key, n);
			k = n++;
		}
		v[k].count++;
		v[k].bytes += size;
		v[k].conflicts += conflict;
		count++;
		bytes += size;
		tcount += id != 0;
		tbytes += id ? size : 0;
	}
	u64map_release(&index);
	if (n)
		qsort(v, n, sizeof(*v), cmp_group);
	struct jv *r = jv_object();
	jv_set(r, "by", jv_string("type"));
	jv_set(r, "blocks", jv_int((int64_t)count));
	jv_set(r, "bytes", jv_int((int64_t)bytes));
	jv_set(r, "typed_blocks", jv_int((int64_t)tcount));
	jv_set(r, "typed_bytes", jv_int((int64_t)tbytes));
	struct jv *groups = jv_set(r, "groups", jv_array());
	for (size_t k = 0; k < n && (!top || jv_len(groups) < (size_t)top); k++) {
		if (!passes(v[k].type ? types_name(t, v[k].type) : NULL, filter))
			continue;
		struct jv *o = jv_push(groups, jv_object());
		jv_set(o, "type", jv_string(v[k].type ? types_name(t, v[k].type) : NULL));
		if (!v[k].type)
			jv_set(o, "block_size", jv_int((int64_t)v[k].block_size));
		jv_set(o, "blocks", jv_int((int64_t)v[k].count));
		jv_set(o, "bytes", jv_int((int64_t)v[k].bytes));
		if (v[k].conflicts)
			jv_set(o, "conflicts", jv_int((int64_t)v[k].conflicts));
	}
	free(v);
	return r;
}

/* A group's key: its type's name, or the size of its untyped blocks. */
static bool same_group(const struct jv *x, const struct jv *y)
{
	const char *a = jv_get_str(x, "type", NULL), *b = jv_get_str(y, "type", NULL);
	if (a || b)
		return a && b && !strcmp(a, b);
	return jv_get_int(x, "block_size", -1) == jv_get_int(y, "block_size", -2);
}

static int cmp_diff(const void *pa, const void *pb)
{
	const struct jv *const *a = pa, *const *b = pb;
	int64_t x = jv_get_int(*a, "bytes_diff", 0), y = jv_get_int(*b, "bytes_diff", 0);
	return x != y ? (x < y ? 1 : -1) : 0;
}

struct jv *type_table_diff(const struct jv *a, const struct jv *b, long top, const char *filter)
{
	struct jv *r = jv_object();
	jv_set(r, "by", jv_string("type"));
	jv_set(r, "blocks", jv_int(jv_get_int(b, "blocks", 0)));
	jv_set(r, "blocks_diff", jv_int(jv_get_int(b, "blocks", 0) - jv_get_int(a, "blocks", 0)));
	jv_set(r, "bytes", jv_int(jv_get_int(b, "bytes", 0)));
	jv_set(r, "bytes_diff", jv_int(jv_get_int(b, "bytes", 0) - jv_get_int(a, "bytes", 0)));
	const struct jv *ga = jv_get(a, "groups"), *gb = jv_get(b, "groups");
	size_t na = jv_len(ga), nb = jv_len(gb), n = 0;
	struct jv **v = xmalloc((na + nb + 1) * sizeof(*v));
	bool *matched = xcalloc(na + 1, sizeof(*matched));
	/* every group of B with its difference from A, then the groups only A had (gone to zero) */
	for (size_t j = 0; j < nb + na; j++) {
		const struct jv *x = j < nb ? jv_at(gb, j) : jv_at(ga, j - nb), *old = NULL;
		if (j >= nb && matched[j - nb])
			continue;
		for (size_t i = 0; j < nb && i < na && !old; i++)
			if (!matched[i] && same_group(jv_at(ga, i), x)) {
				old = jv_at(ga, i);
				matched[i] = true;
			}
		bool gone = j >= nb;
		struct jv *o = jv_object();
		jv_set(o, "type", jv_string(jv_get_str(x, "type", NULL)));
		if (!jv_get_str(x, "type", NULL))
			jv_set(o, "block_size", jv_int(jv_get_int(x, "block_size", 0)));
		int64_t cnt = gone ? 0 : jv_get_int(x, "blocks", 0), sz = gone ? 0 : jv_get_int(x, "bytes", 0);
		int64_t ocnt = gone ? jv_get_int(x, "blocks", 0) : old ? jv_get_int(old, "blocks", 0) : 0;
		int64_t osz = gone ? jv_get_int(x, "bytes", 0) : old ? jv_get_int(old, "bytes", 0) : 0;
		jv_set(o, "blocks", jv_int(cnt));
		jv_set(o, "blocks_diff", jv_int(cnt - ocnt));
		jv_set(o, "bytes", jv_int(sz));
		jv_set(o, "bytes_diff", jv_int(sz - osz));
		v[n++] = o;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_diff);
	struct jv *groups = jv_set(r, "groups", jv_array());
	for (size_t k = 0; k < n; k++)
		if ((top && jv_len(groups) >= (size_t)top) || !passes(jv_get_str(v[k], "type", NULL), filter))
			jv_free(v[k]);
		else
			jv_push(groups, v[k]);
	free(v);
	free(matched);
	return r;
}

void type_table_text(const struct jv *r, bool diff, struct strbuf *out)
{
	if (diff)
		strbuf_addf(out, "%+" PRId64 " bytes, %+" PRId64 " blocks (now %" PRId64 " bytes in %" PRId64 " blocks), by type\n",
			    jv_get_int(r, "bytes_diff", 0), jv_get_int(r, "blocks_diff", 0), jv_get_int(r, "bytes", 0),
			    jv_get_int(r, "blocks", 0));
	else
		strbuf_addf(out, "%" PRId64 " bytes in %" PRId64 " blocks, %" PRId64 " bytes in %" PRId64 " blocks typed, by type\n",
			    jv_get_int(r, "bytes", 0), jv_get_int(r, "blocks", 0), jv_get_int(r, "typed_bytes", 0),
			    jv_get_int(r, "typed_blocks", 0));
	const struct jv *groups = jv_get(r, "groups");
	if (diff)
		strbuf_addf(out, "%12s %12s %10s %10s  %s\n", "BYTES", "DIFF", "BLOCKS", "DIFF", "TYPE");
	else
		strbuf_addf(out, "%12s %10s  %s\n", "BYTES", "BLOCKS", "TYPE");
	for (size_t k = 0; k < jv_len(groups); k++) {
		const struct jv *o = jv_at(groups, k);
		if (diff)
			strbuf_addf(out, "%12" PRId64 " %+12" PRId64 " %10" PRId64 " %+10" PRId64 "  ", jv_get_int(o, "bytes", 0),
				    jv_get_int(o, "bytes_diff", 0), jv_get_int(o, "blocks", 0), jv_get_int(o, "blocks_diff", 0));
		else
			strbuf_addf(out, "%12" PRId64 " %10" PRId64 "  ", jv_get_int(o, "bytes", 0), jv_get_int(o, "blocks", 0));
		if (jv_get_str(o, "type", NULL))
			strbuf_add_escaped(out, jv_get_str(o, "type", ""));
		else
			strbuf_addf(out, "untyped, %" PRId64 "-byte blocks", jv_get_int(o, "block_size", 0));
		if (jv_get(o, "conflicts"))
			strbuf_addf(out, " (%" PRId64 " with conflicting evidence)", jv_get_int(o, "conflicts", 0));
		strbuf_addch(out, '\n');
	}
}
