// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-sleep.c - `sleep SECONDS`: let the target run while mlyze keeps serving it (for scripts). */
#include <math.h>

#include "cmd.h"
#include "jv.h"
#include "session.h"

#define MAX_SECONDS 1000000 /* in milliseconds it still fits session_serve's int */

static int cmd_sleep_exec(struct cmd_ctx *c)
{
	const char *w = c->args->argv[0];
	double secs;
	int r = cmd_parse_seconds(w, MAX_SECONDS, &secs);
	if (r == -2)
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "sleep: '%s' is more than %d seconds", w, MAX_SECONDS);
	if (r < 0)
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "sleep: '%s' is not a number of seconds", w);
	if (session_serve(c->s, (int)llround(secs * 1000), 0) < 0)
		return mlz_error_kind(&c->err, MLZ_E_INTERRUPTED, "sleep interrupted");
	c->result = jv_object();
	jv_set(c->result, "seconds", jv_double(secs));
	return 0;
}

const struct cmd_entry cmd_sleep_entry = {
	.name = "sleep",
	.usage = "sleep SECONDS",
	.summary = "wait while the process runs (fractions allowed)",
	.help = "Waits SECONDS (a decimal number) while the process runs on and mlyze keeps handling its "
		"events. Ctrl-C ends the wait early.",
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_NEEDS_EVENTS,
	.exec = cmd_sleep_exec,
};
