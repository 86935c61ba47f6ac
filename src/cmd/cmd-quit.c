// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-quit.c - `quit`: end the session (detaching cleanly first). */
#include "cmd.h"
#include "session.h"

static int cmd_quit_exec(struct cmd_ctx *c)
{
	c->s->quit = true;
	return 0;
}

const struct cmd_entry cmd_quit_entry = {
	.name = "quit",
	.alias = "exit",
	.usage = "quit",
	.summary = "detach (restoring everything) and leave mlyze",
	.help = "Ends the session. A process still traced is detached first, exactly as by 'detach'. "
		"End of input (Ctrl-D) does the same.",
	.max_args = 0,
	.exec = cmd_quit_exec,
};
