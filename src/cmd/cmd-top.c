// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-top.c - `top`: the live set now, grouped, largest first. */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "grouping.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"

/* top --by type: the table of type-groups.c. */
static int top_by_type(struct cmd_ctx *c)
{
	long top = 20;
	if (cmd_optnum(c->args, "--top", 0, LONG_MAX, &top, &c->err) < 0)
		return -1;
	if (cmd_has(c->args, "--cumulative"))
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "top: --cumulative counts stacks, not types");
	c->result = type_table_jv(c, top, cmd_optval(c->args, "--filter"));
	return c->result ? 0 : -1;
}

static int cmd_top_exec(struct cmd_ctx *c)
{
	const char *by = cmd_optval(c->args, "--by");
	if (by && !strcmp(by, "type"))
		return top_by_type(c);
	struct grouping_opts o;
	struct by_stack now = { 0 };
	const struct by_stack *b = &now;
	struct sym *sym;
	if (c->args->argc) { /* a snapshot's */
		if (grouping_parse(c, &o) < 0 || !(b = by_stack_named(c, c->args->argv[0], &now)))
			return -1;
		if (!(sym = session_sym(c->s, &c->err))) {
			by_stack_release(&now);
			return -1;
		}
	} else if (!(sym = grouping_now(c, &o, &now))) {
		return -1;
	}
	size_t n;
	struct group *g = group_compare(&c->s->keys, sym, &c->s->live.stacks, NULL, b, &o, &n);
	struct jv *r = jv_object();
	jv_set(r, "by", jv_string(group_by_names[o.by]));
	jv_set(r, "snapshot", jv_string(c->args->argc ? c->args->argv[0] : "now"));
	int64_t tc, tb;
	by_stack_totals(b, false, &tc, &tb);
	jv_set(r, "blocks", jv_int((int64_t)b->count));
	jv_set(r, "bytes", jv_int((int64_t)b->bytes));
	jv_set(r, "untraced_blocks", jv_int((int64_t)b->count - tc));
	jv_set(r, "untraced_bytes", jv_int((int64_t)b->bytes - tb));
	groups_to_jv(&c->s->keys, sym, o.by, g, n, false, jv_set(r, "groups", jv_array()));
	free(g);
	by_stack_release(&now);
	c->result = r;
	return 0;
}

static void cmd_top_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	if (!strcmp(jv_get_str(r, "by", ""), "type")) {
		type_table_text(r, false, out);
		return;
	}
	unsigned sz = text_size_flags(t, r);
	strbuf_add_size(out, jv_get_int(r, "bytes", 0), sz);
	strbuf_addf(out, "%s live in %s%" PRId64 " blocks", sz & SIZE_EXACT ? " bytes" : "", sz & SIZE_ESTIMATE ? "~" : "",
		    jv_get_int(r, "blocks", 0));
	if (jv_get_int(r, "untraced_blocks", 0)) {
		strbuf_addstr(out, " (");
		strbuf_add_size(out, jv_get_int(r, "untraced_bytes", 0), sz & ~SIZE_ESTIMATE); /* walked: exact */
		strbuf_addf(out, "%s in %" PRId64 " from before attach)", sz & SIZE_EXACT ? " bytes" : "", jv_get_int(r, "untraced_blocks", 0));
	}
	strbuf_addf(out, ", by %s\n", jv_get_str(r, "by", ""));
	groups_text(jv_get(r, "groups"), false, sz, out);
}

static const struct cmd_opt opts[] = {
	{ "--by", "site|function|file|stack|type", "group by site (function and file:line), function, file, stack or type (default site)" },
	{ "--top", "N", "show the first N groups (default 20, 0 for all)" },
	{ "--filter", "GLOB", "only groups whose function (module+0xOFF without a name), file or file name (with --by type: type) matches GLOB" },
	{ "--cumulative", NULL, "count each block under every frame of its stack, not just the site" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_top_entry = {
	.name = "top",
	.usage = "top [SNAPSHOT] [--by site|function|file|stack|type] [--top N] [--filter GLOB] [--cumulative]",
	.summary = "the live blocks now (or of SNAPSHOT), grouped by site, function, file, stack or type, largest first",
	.help = "Adds up the blocks live now (traced since attach), or those of the snapshot SNAPSHOT (a loaded "
		"one too), by allocation site, function, file or stack, largest first. After the process exited "
		"this is what it never freed: heaptrack's 'leaked' report. --by type adds up every block of the "
		"reference graph (from before attach too) by its type, from DWARF: the pointee type of the typed "
		"global, local (in a stack slot or a register) or typed block field that points at its start, a "
		"C++ object by its vtable; failing those, a traced block by the pointer variable its allocation "
		"was assigned to. Blocks none of these types are untyped and grouped by size (objgraph's most "
		"common types).",
	.opts = opts,
	.max_args = 1,
	.flags = CMD_ESTIMATES,
	.exec = cmd_top_exec,
	.text = cmd_top_text,
};
