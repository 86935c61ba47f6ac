// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-peak.c - `peak`: the high-water mark of traced live bytes and what was live then (massif's peak). */
#include <inttypes.h>
#include <stdlib.h>

#include "cmd.h"
#include "grouping.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "liveset.h"

static int cmd_peak_exec(struct cmd_ctx *c)
{
	struct liveset *ls = session_live(c->s);
	struct sym *sym = session_sym(c->s, &c->err);
	if (!sym)
		return -1;
	struct grouping_opts o;
	if (grouping_parse(c, &o) < 0)
		return -1;
	if (cmd_has(c->args, "--reset"))
		liveset_reset_peak(ls);
	liveset_sync_peak(ls);
	struct jv *r = jv_object();
	jv_set(r, "bytes", jv_int((int64_t)ls->peak_bytes));
	jv_set(r, "blocks", jv_int((int64_t)ls->peak_blocks));
	jv_set(r, "seconds", jv_double(ls->peak_tick * (CLOCK_TICK_MS / 1000.0)));
	jv_set(r, "now_bytes", jv_int((int64_t)ls->blocks.bytes));
	size_t n;
	struct group *g = group_compare(&c->s->keys, sym, &ls->stacks, NULL, &ls->peak, &o, &n);
	groups_to_jv(&c->s->keys, sym, o.by, g, n, false, jv_set(r, "groups", jv_array()));
	free(g);
	c->result = r;
	return 0;
}

static void cmd_peak_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	unsigned sz = text_size_flags(t, r);
	strbuf_addstr(out, "peak: ");
	strbuf_add_size(out, jv_get_int(r, "bytes", 0), sz);
	strbuf_addf(out, "%s in %" PRId64 " blocks at %.1f s (now ", sz & SIZE_EXACT ? " bytes" : "", jv_get_int(r, "blocks", 0),
		    jv_get(r, "seconds")->u.d);
	strbuf_add_size(out, jv_get_int(r, "now_bytes", 0), sz);
	strbuf_addstr(out, sz & SIZE_EXACT ? " bytes)\n" : ")\n");
	groups_text(jv_get(r, "groups"), false, sz, out);
}

static const struct cmd_opt opts[] = {
	{ "--reset", NULL, "start the high-water mark again from the live set now" },
	GROUPING_OPTS,
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_peak_entry = {
	.name = "peak",
	.usage = "peak [--reset] [--by site|function|file|stack] [--top N]",
	.summary = "the high-water mark of traced live bytes and the sites live at that moment",
	.help = "Shows the most bytes that were live at once (of the blocks traced since attach, or since "
		"'peak --reset'), when that was, and the live set at that exact moment grouped by site "
		"(massif's peak snapshot). The figures are exact: the live set is copied just before the "
		"first free that follows a new high.",
	.opts = opts,
	.max_args = 0,
	.flags = CMD_NEEDS_EVENTS | CMD_ESTIMATES,
	.exec = cmd_peak_exec,
	.text = cmd_peak_text,
};
