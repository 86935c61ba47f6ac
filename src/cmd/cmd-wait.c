// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-wait.c - `wait [SECONDS]`: serve the process until it ends (for scripts that report at exit). */
#include <math.h>

#include "cmd.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "target.h"

#define MAX_SECONDS 1000000 /* in milliseconds it still fits session_serve's int */

static int cmd_wait_exec(struct cmd_ctx *c)
{
	double secs = -1;
	if (c->args->argc) {
		const char *w = c->args->argv[0];
		int r = cmd_parse_seconds(w, MAX_SECONDS, &secs);
		if (r == -2)
			return mlz_error_kind(&c->err, MLZ_E_USAGE, "wait: '%s' is more than %d seconds", w,
					      MAX_SECONDS);
		if (r < 0)
			return mlz_error_kind(&c->err, MLZ_E_USAGE, "wait: '%s' is not a number of seconds", w);
	}
	struct target *t = c->s->target;
	int r = 0;
	if (secs < 0) {
		while (target_runs(t) && (r = session_serve(c->s, -1, SERVE_UNTIL_GONE)) >= 0)
			;
	} else if (target_runs(t)) {
		r = session_serve(c->s, (int)llround(secs * 1000), SERVE_UNTIL_GONE);
	}
	if (r < 0)
		return mlz_error_kind(&c->err, MLZ_E_INTERRUPTED, "wait interrupted");
	c->result = jv_object();
	jv_set(c->result, "ended", jv_bool(!target_runs(t)));
	return 0;
}

static void cmd_wait_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	strbuf_addstr(out, jv_get(r, "ended")->u.b ? "the process has ended\n" : "the process still runs\n");
}

const struct cmd_entry cmd_wait_entry = {
	.name = "wait",
	.usage = "wait [SECONDS]",
	.summary = "serve the process until it ends (or SECONDS pass)",
	.help = "Lets the process run, tracing it, until it exits or is killed, or until SECONDS have passed. "
		"A script can then report on what was recorded, for example 'mlyze run -e wait -e top -- PROG' "
		"lists what PROG never freed. Ctrl-C ends the wait.",
	.max_args = 1,
	.flags = CMD_NEEDS_EVENTS,
	.exec = cmd_wait_exec,
	.text = cmd_wait_text,
};
