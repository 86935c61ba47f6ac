// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-path.c - `path ADDR`: the shortest chain of references from a root to a block (find_backref_chain). */
#include <inttypes.h>
#include <stdlib.h>

#include "clock.h"
#include "cmd.h"
#include "graph.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"
#include "sym.h"

static int cmd_path_exec(struct cmd_ctx *c)
{
	double t0 = mono_ms();
	struct sym *sym = session_sym(c->s, &c->err);
	struct graph *g = sym ? session_graph(c->s, &c->err) : NULL;
	if (!g)
		return -1;
	long target = graph_block_arg(c, g, c->args->argv[0], "path");
	if (target < 0)
		return -1;
	size_t root;
	uint32_t *chain;
	long len = graph_path(g, (uint32_t)target, &root, &chain);
	/* naming a stack slot's frame unwinds its thread: stopped again for that */
	if (len > 0 && session_pause(c->s, &c->err) < 0) {
		free(chain);
		return -1;
	}
	struct jv *o = jv_object();
	jv_set(o, "block", graph_block_jv(c->s, sym, g, (uint32_t)target));
	struct jv *steps = jv_set(o, "chain", jv_array());
	jv_set(o, "reachable", jv_bool(len > 0));
	if (len > 0) {
		jv_push(steps, graph_root_jv(c->s, sym, &g->roots[root]));
		for (long k = 0; k < len; k++) {
			struct jv *b = jv_push(steps, graph_block_jv(c->s, sym, g, chain[k]));
			if (k + 1 < len)
				graph_offset_jv(c->s, g, chain[k], graph_pointer_offset(c->s, g, chain[k], chain[k + 1]), b);
		}
	}
	free(chain);
	if (o)
		graph_instant_jv(c->s, o);
	c->result = o;
	int r = len > 0 ? session_unpause(c->s, NULL, &c->err) : 0;
	jv_set(o, "ms", jv_double(mono_ms() - t0)); /* the query, with the graph's build if it was not reused */
	return r;
}

static void cmd_path_text(const struct jv *o, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	graph_instant_text(o, out);
	const struct jv *steps = jv_get(o, "chain");
	if (!jv_get(o, "reachable")->u.b) {
		strbuf_addf(out, "no root reaches block %s (%s)\n", jv_get_str(jv_get(o, "block"), "address", "?"),
			    jv_get_str(jv_get(o, "block"), "class", "?"));
		return;
	}
	for (size_t i = 0; i < jv_len(steps); i++) {
		strbuf_addf(out, "%s", i ? "  -> " : "");
		graph_step_text(jv_at(steps, i), out);
		strbuf_addch(out, '\n');
	}
}

static const struct cmd_opt opts[] = { { NULL } };

const struct cmd_entry cmd_path_entry = {
	.name = "path",
	.usage = "path ADDR",
	.summary = "the shortest chain of references from a root to the block at ADDR",
	.help = "Finds the shortest chain from a root to the live block that holds ADDR (any address inside "
		"it), as objgraph's find_backref_chain: the root first (a global with its symbol, offset and "
		"module, and with DWARF its variable and field, as g_cache.buckets[17]; a stack slot with its "
		"thread, frame, function and file:line, and the local or parameter DWARF places there; a "
		"register, and the local DWARF keeps in it at the innermost frame's PC; TLS; an anonymous mapping), then each block with its size, allocation site when "
		"traced, its type when known (see top --by type), and the offset of the pointer inside it that "
		"leads on, with the field it is (struct node.next). A block no root reaches says so, with its leak class. The graph is built by "
		"the first of leaks, path, refs and backrefs and reused while the process has not allocated or "
		"freed (always on a core).",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_NEEDS_IMAGE,
	.exec = cmd_path_exec,
	.text = cmd_path_text,
};
