// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-compare.c - `compare A B`: what grew between two snapshots, by site, function, file or stack. */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "grouping.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "snapshot.h"
#include "strbuf.h"

/* A side of compare --by type: "now" from the reference graph, a snapshot taken with --types. */
static struct jv *types_of(struct cmd_ctx *c, const char *name, bool *owned)
{
	*owned = !strcmp(name, "now");
	if (*owned)
		return type_table_jv(c, 0, NULL);
	const struct snapshot *s = snapshot_find(&c->s->snaps, name);
	if (!s) {
		mlz_error(&c->err, "no snapshot named '%s'", name);
		return NULL;
	}
	if (!s->by_type)
		mlz_error(&c->err, "snapshot '%s' has no types: take it with 'snapshot %s --types'", name, name);
	return s->by_type;
}

static int compare_by_type(struct cmd_ctx *c)
{
	long top = 20;
	if (cmd_optnum(c->args, "--top", 0, LONG_MAX, &top, &c->err) < 0)
		return -1;
	if (cmd_has(c->args, "--cumulative"))
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "compare: --cumulative counts stacks, not types");
	bool own_a, own_b = false;
	struct jv *a = types_of(c, c->args->argv[0], &own_a), *b = a ? types_of(c, c->args->argv[1], &own_b) : NULL;
	if (b) {
		c->result = type_table_diff(a, b, top, cmd_optval(c->args, "--filter"));
		jv_set(c->result, "a", jv_string(c->args->argv[0]));
		jv_set(c->result, "b", jv_string(c->args->argv[1]));
	}
	if (own_a)
		jv_free(a);
	if (own_b)
		jv_free(b);
	return b ? 0 : -1;
}

static int cmd_compare_exec(struct cmd_ctx *c)
{
	const char *by = cmd_optval(c->args, "--by");
	if (by && !strcmp(by, "type"))
		return compare_by_type(c);
	struct grouping_opts o;
	if (grouping_parse(c, &o) < 0)
		return -1;
	o.changed_only = !cmd_has(c->args, "--all");
	struct by_stack ta = { 0 }, tb = { 0 };
	const struct by_stack *a = by_stack_named(c, c->args->argv[0], &ta);
	const struct by_stack *b = a ? by_stack_named(c, c->args->argv[1], &tb) : NULL;
	struct sym *sym = b ? session_sym(c->s, &c->err) : NULL;
	if (!sym) {
		by_stack_release(&ta);
		by_stack_release(&tb);
		return -1;
	}
	size_t n;
	o.by = grouping_by_for(c, o.by, c->args->argv[0], c->args->argv[1]);
	struct group *g = group_compare(&c->s->keys, sym, &c->s->live.stacks, a, b, &o, &n);
	struct jv *r = jv_object();
	jv_set(r, "a", jv_string(c->args->argv[0]));
	jv_set(r, "b", jv_string(c->args->argv[1]));
	jv_set(r, "by", jv_string(group_by_names[o.by]));
	bool untraced = by_stack_untraced_comparable(a, b);
	int64_t ca, ba, cb, bb;
	by_stack_totals(a, untraced, &ca, &ba);
	by_stack_totals(b, untraced, &cb, &bb);
	jv_set(r, "blocks", jv_int(cb));
	jv_set(r, "blocks_diff", jv_int(cb - ca));
	jv_set(r, "bytes", jv_int(bb));
	jv_set(r, "bytes_diff", jv_int(bb - ba));
	/* Blocks allocated before attach count only when both sides walked the heap. */
	jv_set(r, "untraced", jv_bool(untraced));
	groups_to_jv(&c->s->keys, sym, o.by, g, n, true, jv_set(r, "groups", jv_array()));
	free(g);
	by_stack_release(&ta);
	by_stack_release(&tb);
	c->result = r;
	return 0;
}

static void cmd_compare_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	if (!strcmp(jv_get_str(r, "by", ""), "type")) {
		strbuf_add_escaped(out, jv_get_str(r, "a", ""));
		strbuf_addstr(out, " -> ");
		strbuf_add_escaped(out, jv_get_str(r, "b", ""));
		strbuf_addstr(out, ": ");
		type_table_text(r, true, out);
		return;
	}
	unsigned sz = text_size_flags(t, r);
	strbuf_add_escaped(out, jv_get_str(r, "a", ""));
	strbuf_addstr(out, " -> ");
	strbuf_add_escaped(out, jv_get_str(r, "b", ""));
	strbuf_addstr(out, ": ");
	strbuf_add_size(out, jv_get_int(r, "bytes_diff", 0), sz | SIZE_SIGN);
	strbuf_addf(out, "%s, %+" PRId64 " blocks (now ", sz & SIZE_EXACT ? " bytes" : "", jv_get_int(r, "blocks_diff", 0));
	strbuf_add_size(out, jv_get_int(r, "bytes", 0), sz);
	strbuf_addf(out, "%s in %" PRId64 " blocks), by %s\n", sz & SIZE_EXACT ? " bytes" : "", jv_get_int(r, "blocks", 0),
		    jv_get_str(r, "by", ""));
	if (!jv_get(r, "untraced")->u.b)
		strbuf_addstr(out, "(traced blocks only: one side has no heap walk for the blocks from before attach)\n");
	groups_text(jv_get(r, "groups"), true, sz, out);
}

static const struct cmd_opt opts[] = {
	{ "--by", "site|function|file|stack|type", "group by site (function and file:line), function, file, stack or type (default site)" },
	{ "--top", "N", "show the first N groups (default 20, 0 for all)" },
	{ "--filter", "GLOB", "only groups whose function (module+0xOFF without a name), file or file name (with --by type: type) matches GLOB" },
	{ "--cumulative", NULL, "count each block under every frame of its stack, not just the site" },
	{ "--all", NULL, "list the groups that did not change too" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_compare_entry = {
	.name = "compare",
	.usage = "compare A B [--by site|function|file|stack|type] [--top N] [--filter GLOB] [--cumulative] [--all]",
	.summary = "what grew from snapshot A to snapshot B (or 'now'), largest growth first",
	.help = "Adds up the live blocks of two snapshots (the name 'now' is the live set) by allocation site "
		"(the first frame outside the allocator that has a name: function and file:line), by function, by file, or by "
		"whole stack, and lists each group's count and requested bytes in B with the difference from A, "
		"sorted by the difference in bytes, largest first (Python's tracemalloc compare_to). Groups whose "
		"count and bytes did not change are left out unless --all. "
		"A and B may be loaded snapshots ('load'): groups match by names, and with --by stack, when A and "
		"B come from different sessions, stacks match by the names of their frames, not their PCs. "
		"--by type "
		"compares the blocks by type, untyped ones by size (objgraph's show_growth), between snapshots "
		"taken with 'snapshot NAME --types' or 'now'.",
	.opts = opts,
	.min_args = 2,
	.max_args = 2,
	.flags = CMD_ESTIMATES,
	.exec = cmd_compare_exec,
	.text = cmd_compare_text,
};
