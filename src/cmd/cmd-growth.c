// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-growth.c - `growth`: what grew since the previous `growth` (objgraph's show_growth). */
#include <inttypes.h>
#include <stdlib.h>

#include <string.h>

#include "cmd.h"
#include "grouping.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"

static int cmd_growth_exec(struct cmd_ctx *c)
{
	struct grouping_opts o;
	struct by_stack now = { 0 };
	struct sym *sym = grouping_now(c, &o, &now);
	if (!sym)
		return -1;
	const struct by_stack *b = &now;
	size_t n;
	/*
	 * Before the first call, growth counts from attach: nothing traced, and the
	 * untraced blocks (allocated before attach) as they are now.
	 */
	struct by_stack at_attach = { 0 };
	memcpy(at_attach.untraced, now.untraced, sizeof(now.untraced));
	for (int i = 0; i < UNTRACED_CLASSES; i++) {
		at_attach.count += now.untraced[i].count;
		at_attach.bytes += now.untraced[i].bytes;
	}
	const struct by_stack *a = c->s->growth_taken ? &c->s->growth : &at_attach;
	struct group *g = group_compare(&c->s->keys, sym, &c->s->live.stacks, a, b, &o, &n);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (g[i].bytes_b > g[i].bytes_a || g[i].count_b > g[i].count_a)
			g[kept++] = g[i];
	struct jv *r = jv_object();
	jv_set(r, "since", jv_string(c->s->growth_taken ? "previous growth" : "attach"));
	jv_set(r, "by", jv_string(group_by_names[o.by]));
	jv_set(r, "bytes_diff", jv_int((int64_t)b->bytes - (int64_t)a->bytes));
	jv_set(r, "blocks_diff", jv_int((int64_t)b->count - (int64_t)a->count));
	groups_to_jv(&c->s->keys, sym, o.by, g, kept, true, jv_set(r, "groups", jv_array()));
	free(g);
	by_stack_release(&c->s->growth);
	c->s->growth = now; /* this call's live set is the next call's start */
	c->s->growth_taken = true;
	c->result = r;
	return 0;
}

static void cmd_growth_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	unsigned sz = text_size_flags(t, r);
	strbuf_addstr(out, "since ");
	strbuf_add_escaped(out, jv_get_str(r, "since", ""));
	strbuf_addstr(out, ": ");
	strbuf_add_size(out, jv_get_int(r, "bytes_diff", 0), sz | SIZE_SIGN);
	strbuf_addf(out, "%s, %+" PRId64 " blocks; groups that grew:\n", sz & SIZE_EXACT ? " bytes" : "", jv_get_int(r, "blocks_diff", 0));
	groups_text(jv_get(r, "groups"), true, sz, out);
}

static const struct cmd_opt opts[] = { GROUPING_OPTS, { NULL, NULL, NULL } };

const struct cmd_entry cmd_growth_entry = {
	.name = "growth",
	.usage = "growth [--by site|function|file|stack] [--top N] [--filter GLOB] [--cumulative]",
	.summary = "the groups that grew since the previous growth (from attach the first time)",
	.help = "Compares the live set now with the live set at the previous 'growth' (at attach for the "
		"first one) and lists only the groups whose bytes or count grew, largest growth first "
		"(objgraph's show_growth). Each call moves the starting point to now.",
	.opts = opts,
	.max_args = 0,
	.flags = CMD_ESTIMATES,
	.exec = cmd_growth_exec,
	.text = cmd_growth_text,
};
