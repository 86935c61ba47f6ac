// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-top.c - `top`: the live set now, grouped, largest first. */
#include <inttypes.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "grouping.h"
#include "graph.h"
#include "jv.h"
#include "liveset.h"
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

/*
 * top --by type: the reference graph's blocks (traced or not) added up by the
 * type typing gave them, untyped ones by their size; largest first.
 */
static int top_by_type(struct cmd_ctx *c)
{
	long top = 20;
	if (cmd_optnum(c->args, "--top", 0, LONG_MAX, &top, &c->err) < 0)
		return -1;
	if (cmd_has(c->args, "--cumulative"))
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "top: --cumulative counts stacks, not types");
	const char *filter = cmd_optval(c->args, "--filter");
	struct sym *sym = session_sym(c->s, &c->err);
	struct types *t = sym ? session_types(c->s, &c->err) : NULL;
	if (!t)
		return -1;
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
		uint64_t size = b ? b->size : g->size[i];
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
	qsort(v, n, sizeof(*v), cmp_group);
	struct jv *r = jv_object();
	jv_set(r, "by", jv_string("type"));
	jv_set(r, "count", jv_int((int64_t)count));
	jv_set(r, "size", jv_int((int64_t)bytes));
	jv_set(r, "typed_count", jv_int((int64_t)tcount));
	jv_set(r, "typed_size", jv_int((int64_t)tbytes));
	struct jv *groups = jv_set(r, "groups", jv_array());
	for (size_t k = 0, shown = 0; k < n && (!top || shown < (size_t)top); k++) {
		const char *name = v[k].type ? types_name(t, v[k].type) : NULL;
		if (filter && (!name || fnmatch(filter, name, 0)))
			continue;
		struct jv *o = jv_push(groups, jv_object());
		jv_set(o, "type", jv_string(name));
		if (!v[k].type)
			jv_set(o, "block_size", jv_int((int64_t)v[k].block_size));
		jv_set(o, "count", jv_int((int64_t)v[k].count));
		jv_set(o, "size", jv_int((int64_t)v[k].bytes));
		if (v[k].conflicts)
			jv_set(o, "conflicts", jv_int((int64_t)v[k].conflicts));
		shown++;
	}
	free(v);
	c->result = r;
	return 0;
}

static int cmd_top_exec(struct cmd_ctx *c)
{
	const char *by = cmd_optval(c->args, "--by");
	if (by && !strcmp(by, "type"))
		return top_by_type(c);
	struct grouping_opts o;
	struct by_stack now = { 0 };
	struct sym *sym = grouping_now(c, &o, &now);
	if (!sym)
		return -1;
	const struct by_stack *b = &now;
	size_t n;
	struct group *g = group_compare(&c->s->keys, sym, &c->s->live.stacks, NULL, b, &o, &n);
	struct jv *r = jv_object();
	jv_set(r, "by", jv_string(group_by_names[o.by]));
	int64_t tc, tb;
	by_stack_totals(b, false, &tc, &tb);
	jv_set(r, "count", jv_int((int64_t)b->count));
	jv_set(r, "size", jv_int((int64_t)b->bytes));
	jv_set(r, "untraced_count", jv_int((int64_t)b->count - tc));
	jv_set(r, "untraced_size", jv_int((int64_t)b->bytes - tb));
	groups_to_jv(&c->s->keys, sym, o.by, g, n, false, jv_set(r, "groups", jv_array()));
	free(g);
	by_stack_release(&now);
	c->result = r;
	return 0;
}

static void top_type_text(const struct jv *r, struct strbuf *out)
{
	strbuf_addf(out, "%" PRId64 " bytes in %" PRId64 " blocks, %" PRId64 " bytes in %" PRId64 " blocks typed, by type\n",
		    jv_get_int(r, "size", 0), jv_get_int(r, "count", 0), jv_get_int(r, "typed_size", 0),
		    jv_get_int(r, "typed_count", 0));
	const struct jv *groups = jv_get(r, "groups");
	strbuf_addf(out, "%12s %10s  %s\n", "BYTES", "BLOCKS", "TYPE");
	for (size_t k = 0; k < jv_len(groups); k++) {
		const struct jv *o = jv_at(groups, k);
		strbuf_addf(out, "%12" PRId64 " %10" PRId64 "  ", jv_get_int(o, "size", 0), jv_get_int(o, "count", 0));
		if (jv_get_str(o, "type", NULL))
			strbuf_add_escaped(out, jv_get_str(o, "type", ""));
		else
			strbuf_addf(out, "untyped, %" PRId64 "-byte blocks", jv_get_int(o, "block_size", 0));
		if (jv_get(o, "conflicts"))
			strbuf_addf(out, " (%" PRId64 " with conflicting evidence)", jv_get_int(o, "conflicts", 0));
		strbuf_addch(out, '\n');
	}
}

static void cmd_top_text(const struct jv *r, struct strbuf *out)
{
	if (!strcmp(jv_get_str(r, "by", ""), "type")) {
		top_type_text(r, out);
		return;
	}
	strbuf_addf(out, "%" PRId64 " bytes live in %" PRId64 " blocks", jv_get_int(r, "size", 0),
		    jv_get_int(r, "count", 0));
	if (jv_get_int(r, "untraced_count", 0))
		strbuf_addf(out, " (%" PRId64 " bytes in %" PRId64 " from before attach)", jv_get_int(r, "untraced_size", 0),
			    jv_get_int(r, "untraced_count", 0));
	strbuf_addf(out, ", by %s\n", jv_get_str(r, "by", ""));
	groups_text(jv_get(r, "groups"), false, out);
}

static const struct cmd_opt opts[] = {
	{ "--by", "KEY", "group by site (function and file:line), function, file, stack or type (default site)" },
	{ "--top", "N", "show the first N groups (default 20, 0 for all)" },
	{ "--filter", "GLOB", "only groups whose function, file or file name (with --by type: type) matches GLOB" },
	{ "--cumulative", NULL, "count each block under every frame of its stack, not just the site" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_top_entry = {
	.name = "top",
	.usage = "top [--by site|function|file|stack|type] [--top N] [--filter GLOB] [--cumulative]",
	.summary = "the live blocks now, grouped by site, function, file or stack, largest first",
	.help = "Adds up the blocks live now (traced since attach) by allocation site, function, file or "
		"stack, largest first. After the process exited this is what it never freed: heaptrack's "
		"'leaked' report. --by type adds up every block of the reference graph (from before attach too) "
		"by its type, from DWARF: the pointee type of the typed global or typed block field that points "
		"at its start, a C++ object by its vtable; blocks no typed pointer reaches are untyped and grouped "
		"by size (objgraph's most common types).",
	.opts = opts,
	.max_args = 0,
	.exec = cmd_top_exec,
	.text = cmd_top_text,
};
