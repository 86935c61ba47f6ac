// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-set.c - `set [NAME VALUE]`: tracing settings. */
#include <inttypes.h>
#include <string.h>

#include "cmd.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "liveset.h"

static int cmd_set_exec(struct cmd_ctx *c)
{
	struct liveset *ls = session_live(c->s);
	if (c->args->argc == 1)
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "set: '%s' needs a value (usage: set [NAME VALUE])",
				      c->args->argv[0]);
	if (c->args->argc == 2) {
		long v;
		if (strcmp(c->args->argv[0], "max-stack-depth"))
			return mlz_error_kind(&c->err, MLZ_E_USAGE, "set: unknown setting '%s' (settings: max-stack-depth)",
					      c->args->argv[0]);
		if (cmd_number("set", "max-stack-depth", c->args->argv[1], 1, 256, &v, &c->err) < 0)
			return -1;
		ls->max_depth = (int)v;
	}
	c->result = jv_object();
	jv_set(c->result, "max-stack-depth", jv_int(ls->max_depth));
	return 0;
}

static void cmd_set_text(const struct jv *r, struct strbuf *out)
{
	strbuf_addf(out, "max-stack-depth %" PRId64 "\n", jv_get_int(r, "max-stack-depth", 0));
}

const struct cmd_entry cmd_set_entry = {
	.name = "set",
	.usage = "set [NAME VALUE]",
	.summary = "show the settings, or change one (max-stack-depth N)",
	.help = "Without arguments shows the settings. 'set max-stack-depth N' (1 to 256, default 32) sets how "
		"many frames are recorded for each allocation from now on: deeper stacks tell sites apart "
		"better, shallower ones cost less per allocation.",
	.max_args = 2,
	.exec = cmd_set_exec,
	.text = cmd_set_text,
};
