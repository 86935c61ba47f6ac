// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-refs.c - `refs ADDR`: the blocks a block points at, with the offset of each pointer. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "graph.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"
#include "sym.h"
#include "target.h"
#include "xalloc.h"

static int cmd_refs_exec(struct cmd_ctx *c)
{
	struct sym *sym = session_sym(c->s, &c->err);
	struct graph *g = sym ? session_graph(c->s, &c->err) : NULL;
	if (!g)
		return -1;
	long i = graph_block_arg(c, g, c->args->argv[0], "refs");
	if (i < 0)
		return -1;
	size_t len = g->size[i] & ~(uint64_t)7;
	uint8_t *buf = xmalloc(len ? len : 8);
	ssize_t got = target_readable(c->s->target) ? target_read(c->s->target, g->addr[i], buf, len) : -1;
	struct jv *o = jv_object();
	jv_set(o, "block", graph_block_jv(c->s, sym, g, (uint32_t)i));
	struct jv *refs = jv_set(o, "refs", jv_array());
	for (ssize_t off = 0; off + 8 <= got; off += 8) {
		uint64_t v;
		memcpy(&v, buf + off, 8);
		long j = graph_find(g, v);
		if (j < 0 || j == i)
			continue;
		struct jv *r = jv_push(refs, jv_object());
		graph_offset_jv(c->s, g, (uint32_t)i, off, r);
		jv_set(r, "interior", jv_bool(v != g->addr[j]));
		jv_set(r, "to", graph_block_jv(c->s, sym, g, (uint32_t)j));
	}
	free(buf);
	if (o)
		graph_instant_jv(c->s, o);
	c->result = o;
	return 0;
}

static void cmd_refs_text(const struct jv *o, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	graph_instant_text(o, out);
	graph_step_text(jv_get(o, "block"), out);
	const struct jv *refs = jv_get(o, "refs");
	strbuf_addf(out, " points at %zu block(s)\n", jv_len(refs));
	for (size_t k = 0; k < jv_len(refs); k++) {
		const struct jv *r = jv_at(refs, k);
		strbuf_addf(out, "  +%-5" PRId64, jv_get_int(r, "offset", 0));
		if (jv_get_str(r, "field", NULL)) {
			strbuf_addstr(out, " ");
			strbuf_add_escaped(out, jv_get_str(r, "field", ""));
		}
		strbuf_addstr(out, " -> ");
		graph_step_text(jv_get(r, "to"), out);
		strbuf_addstr(out, jv_get(r, "interior")->u.b ? " [interior pointer]\n" : "\n");
	}
}

static const struct cmd_opt opts[] = { { NULL } };

const struct cmd_entry cmd_refs_entry = {
	.name = "refs",
	.usage = "refs ADDR",
	.summary = "what the block at ADDR points at: each pointer's offset and the block it leads to",
	.help = "Reads the live block that holds ADDR word by word and lists every word that points into a "
		"live block: its offset, whether it points at the block's start or inside it, and that block "
		"(size, allocation site when traced, leak class).",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_NEEDS_IMAGE,
	.exec = cmd_refs_exec,
	.text = cmd_refs_text,
};
