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
	struct target *t = c->s->target;
	bool held = target_held(t); /* letting go ends it */
	if (session_detach(c->s, &c->err) < 0)
		return -1;
	c->result = jv_object();
	jv_set(c->result, "pid", jv_int(t->pid));
	jv_set(c->result, "detached", jv_bool(true));
	if (held) {
		char how[96];
		target_describe_exit(t, how, sizeof(how));
		jv_set(c->result, "exit", jv_string(how));
	}
	return 0;
}

static void cmd_detach_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	if (jv_get_str(r, "exit", NULL))
		strbuf_addf(out, "let process %" PRId64 " go from its exit: it %s\n", jv_get_int(r, "pid", 0),
			    jv_get_str(r, "exit", ""));
	else
		strbuf_addf(out, "detached from process %" PRId64 "; it runs on\n", jv_get_int(r, "pid", 0));
}

const struct cmd_entry cmd_detach_entry = {
	.name = "detach",
	.usage = "detach",
	.summary = "restore everything mlyze changed and let the process run on",
	.help = "Stops every thread, restores every byte and register mlyze changed, and detaches from "
		"every thread, passing on any signal that was about to be delivered. The process runs on "
		"as if mlyze had never been there. The session stays open for what was recorded. A process held "
		"at its exit is let go: it finishes exiting, and its parent sees the status it exited with.",
	.max_args = 0,
	.flags = CMD_NEEDS_IMAGE | CMD_NOT_CORE,
	.exec = cmd_detach_exec,
	.text = cmd_detach_text,
};
