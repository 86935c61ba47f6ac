// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-top.c - `top`: the live set now, grouped, largest first. */
#include <inttypes.h>
#include <stdlib.h>

#include "cmd.h"
#include "grouping.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"

static int cmd_top_exec(struct cmd_ctx *c)
{
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

static void cmd_top_text(const struct jv *r, struct strbuf *out)
{
	const char *est = cmd_estimated(r) ? "~" : "";
	strbuf_addf(out, "%s%" PRId64 " bytes live in %s%" PRId64 " blocks", est, jv_get_int(r, "size", 0), est,
		    jv_get_int(r, "count", 0));
	if (jv_get_int(r, "untraced_count", 0))
		strbuf_addf(out, " (%" PRId64 " bytes in %" PRId64 " from before attach)", jv_get_int(r, "untraced_size", 0),
			    jv_get_int(r, "untraced_count", 0));
	strbuf_addf(out, ", by %s\n", jv_get_str(r, "by", ""));
	groups_text(jv_get(r, "groups"), false, cmd_estimated(r), out);
}

static const struct cmd_opt opts[] = { GROUPING_OPTS, { NULL, NULL, NULL } };

const struct cmd_entry cmd_top_entry = {
	.name = "top",
	.usage = "top [--by site|function|file|stack] [--top N] [--filter GLOB] [--cumulative]",
	.summary = "the live blocks now, grouped by site, function, file or stack, largest first",
	.help = "Adds up the blocks live now (traced since attach) by allocation site, function, file or "
		"stack, largest first. After the process exited this is what it never freed: heaptrack's "
		"'leaked' report.",
	.opts = opts,
	.max_args = 0,
	.flags = CMD_ESTIMATES,
	.exec = cmd_top_exec,
	.text = cmd_top_text,
};
