// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-snapshots.c - `snapshots`: the snapshots taken so far. */
#include "cmd.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "snapshot.h"
#include "strbuf.h"

static int cmd_snapshots_exec(struct cmd_ctx *c)
{
	c->result = jv_object();
	struct jv *list = jv_set(c->result, "snapshots", jv_array());
	for (size_t i = 0; i < c->s->snaps.n; i++)
		jv_push(list, snapshot_jv(&c->s->snaps.v[i]));
	return 0;
}

static void cmd_snapshots_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	const struct jv *list = jv_get(r, "snapshots");
	if (!jv_len(list))
		strbuf_addstr(out, "no snapshots yet\n");
	for (size_t i = 0; i < jv_len(list); i++)
		snapshot_text_line(jv_at(list, i), t->bytes ? SIZE_EXACT : 0, out);
}

const struct cmd_entry cmd_snapshots_entry = {
	.name = "snapshots",
	.usage = "snapshots",
	.summary = "list the snapshots: name, time, blocks, bytes, RSS",
	.help = "Lists every snapshot taken in this session with the time it was taken (seconds since attach), "
		"its live blocks and requested bytes, and the process's RSS at that moment.",
	.max_args = 0,
	.flags = CMD_ESTIMATES,
	.exec = cmd_snapshots_exec,
	.text = cmd_snapshots_text,
};
