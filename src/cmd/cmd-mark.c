// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-mark.c - `mark NAME`: end the current phase and start one called NAME. */
#include "cmd.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "liveset.h"

static int cmd_mark_exec(struct cmd_ctx *c)
{
	struct liveset *ls = session_live(c->s);
	liveset_mark(ls, c->args->argv[0]);
	c->result = jv_object();
	jv_set(c->result, "phase", jv_string(c->args->argv[0]));
	jv_set(c->result, "seconds", jv_double(ls->phases[ls->nphases - 1].start_tick * (CLOCK_TICK_MS / 1000.0)));
	return 0;
}

static void cmd_mark_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	strbuf_addstr(out, "phase '");
	strbuf_add_escaped(out, jv_get_str(r, "phase", ""));
	strbuf_addf(out, "' starts at %.1f s\n", jv_get(r, "seconds")->u.d);
}

const struct cmd_entry cmd_mark_entry = {
	.name = "mark",
	.usage = "mark NAME",
	.summary = "end the current phase and start one called NAME",
	.help = "Closes the current phase (the first one, 'attach', starts when tracing does) and starts a "
		"new one called NAME. 'phases' reports each phase's own figures.",
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_NEEDS_EVENTS,
	.exec = cmd_mark_exec,
	.text = cmd_mark_text,
};
