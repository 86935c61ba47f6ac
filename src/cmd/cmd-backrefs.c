// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-backrefs.c - `backrefs ADDR`: who points at a block, transitively (objgraph's show_backrefs). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backrefs.h"
#include "cmd.h"
#include "graph.h"
#include "grouping.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"
#include "sym.h"
#include "target.h"

static int cmd_backrefs_exec(struct cmd_ctx *c)
{
	long depth = 1, limit = 50;
	if (cmd_optnum(c->args, "--depth", 0, LONG_MAX, &depth, &c->err) < 0 ||
	    cmd_optnum(c->args, "--limit", 0, LONG_MAX, &limit, &c->err) < 0)
		return -1;
	const char *dot = cmd_optval(c->args, "--dot");
	struct sym *sym = session_sym(c->s, &c->err);
	struct graph *g = sym ? session_graph(c->s, &c->err) : NULL;
	if (!g)
		return -1;
	long target = graph_block_arg(c, g, c->args->argv[0], "backrefs");
	if (target < 0)
		return -1;
	size_t nrefs;
	bool truncated;
	struct ref *refs = backrefs_find(g, (uint32_t)target, depth, limit, &nrefs, &truncated);
	int ret = 0;
	if (dot) {
		struct strbuf sb = STRBUF_INIT;
		backrefs_dot(g, refs, nrefs, (uint32_t)target, &sb);
		FILE *f = fopen(dot, "w");
		if (!f) {
			ret = mlz_error_errno(&c->err, errno, "cannot write '%s'", dot);
		} else {
			bool short_write = fwrite(sb.buf, 1, sb.len, f) != sb.len;
			if (fclose(f) != 0 || short_write)
				ret = mlz_error_errno(&c->err, errno, "cannot write '%s'", dot);
		}
		strbuf_release(&sb);
	}
	bool stopped = ret == 0 && target_runs(c->s->target) && session_pause(c->s, &c->err) == 0;
	struct jv *o = ret == 0 ? jv_object() : NULL;
	if (o) {
		jv_set(o, "block", graph_block_jv(c->s, sym, g, (uint32_t)target));
		struct jv *a = jv_set(o, "referrers", jv_array());
		for (size_t k = 0; k < nrefs; k++) {
			struct jv *x = jv_push(a, jv_object());
			jv_set(x, "depth", jv_int(refs[k].depth));
			jv_set(x, "to", jv_addr(g->addr[refs[k].to]));
			jv_set(x, "interior", jv_bool(refs[k].interior));
			struct jv *from = jv_set(x, "from", refs[k].from >= 0 ? graph_block_jv(c->s, sym, g, (uint32_t)refs[k].from)
									   : graph_root_jv(c->s, sym, &g->roots[refs[k].root]));
			if (refs[k].from >= 0)
				graph_offset_jv(c->s, g, (uint32_t)refs[k].from,
						graph_pointer_offset(c->s, g, (uint32_t)refs[k].from, refs[k].to), from);
		}
		jv_set(o, "truncated", jv_bool(truncated));
		if (dot)
			jv_set(o, "dot", jv_string(dot));
	}
	if (stopped && session_unpause(c->s, NULL, &c->err) < 0) {
		jv_free(o);
		o = NULL;
		ret = -1;
	}
	free(refs);
	if (o)
		graph_instant_jv(c->s, o);
	c->result = o;
	return ret;
}

static void cmd_backrefs_text(const struct jv *o, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	graph_instant_text(o, out);
	graph_step_text(jv_get(o, "block"), out);
	const struct jv *a = jv_get(o, "referrers");
	strbuf_addf(out, " is pointed at by:\n");
	for (size_t k = 0; k < jv_len(a); k++) {
		const struct jv *x = jv_at(a, k);
		strbuf_addf(out, "%*s", 2 * (int)jv_get_int(x, "depth", 1), "");
		graph_step_text(jv_get(x, "from"), out);
		strbuf_addf(out, " -> %s%s\n", jv_get_str(x, "to", "?"), jv_get(x, "interior")->u.b ? " [interior]" : "");
	}
	if (jv_get(o, "truncated")->u.b)
		strbuf_addstr(out, "(more: raise --limit)\n");
	if (jv_get_str(o, "dot", NULL)) {
		strbuf_addstr(out, "graph written to ");
		strbuf_add_escaped(out, jv_get_str(o, "dot", ""));
		strbuf_addstr(out, " (render with: dot -Tsvg ");
		strbuf_add_escaped(out, jv_get_str(o, "dot", ""));
		strbuf_addstr(out, ")\n");
	}
}

static const struct cmd_opt opts[] = {
	{ "--depth", "N", "follow referrers of referrers up to N steps (default 1)" },
	{ "--limit", "N", "list at most N referrers (default 50, 0 for all)" },
	{ "--dot", "FILE", "also write the referrers as a Graphviz graph to FILE" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_backrefs_entry = {
	.name = "backrefs",
	.usage = "backrefs ADDR [--depth N] [--limit N] [--dot FILE]",
	.summary = "who points at the block at ADDR, transitively (objgraph's show_backrefs)",
	.help = "Lists the blocks and roots that point at the live block holding ADDR, then (with --depth) "
		"those that point at them, breadth first, each with its depth and whether its pointer is an "
		"interior one. --dot writes the same as a Graphviz digraph (dashed edges are interior pointers).",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_NEEDS_IMAGE,
	.exec = cmd_backrefs_exec,
	.text = cmd_backrefs_text,
};
