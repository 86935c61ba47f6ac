// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-detach.c - `detach`: undo every change and let the process run on untraced. */
#include <inttypes.h>

#include "cmd.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "target.h"

static int cmd_detach_exec(struct cmd_ctx *c)
{
	pid_t pid = c->s->target->pid;
	if (session_detach(c->s, &c->err) < 0)
		return -1;
	c->result = jv_object();
	jv_set(c->result, "pid", jv_int(pid));
	jv_set(c->result, "detached", jv_bool(true));
	return 0;
}

static void cmd_detach_text(const struct jv *r, struct strbuf *out)
{
	strbuf_addf(out, "detached from process %" PRId64 "; it runs on\n", jv_get_int(r, "pid", 0));
}

const struct cmd_entry cmd_detach_entry = {
	.name = "detach",
	.usage = "detach",
	.summary = "restore everything mlyze changed and let the process run on",
	.help = "Stops every thread, restores every byte and register mlyze changed, and detaches from "
		"every thread, passing on any signal that was about to be delivered. The process runs on "
		"as if mlyze had never been there. The session stays open for what was recorded.",
	.max_args = 0,
	.flags = CMD_NEEDS_PROCESS,
	.exec = cmd_detach_exec,
	.text = cmd_detach_text,
};
