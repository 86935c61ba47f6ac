// SPDX-License-Identifier: GPL-3.0-or-later
/* snapshot-file.c - a snapshot written to a file, as `save` and `watch --out` write it. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "render.h"
#include "savefile.h"
#include "session.h"
#include "snapfile.h"
#include "snapshot.h"
#include "strbuf.h"
#include "target.h"

int snapshot_write_file(struct cmd_ctx *c, const struct snapshot *s, const char *path, bool force, size_t *written)
{
	struct sym *sym = session_sym(c->s, &c->err);
	if (!sym)
		return -1;

	/* Where it was taken: a loaded snapshot says so itself; this session's is the target's. */
	struct snap_source here = { 0 };
	struct target_facts f;
	char host[256] = "";
	target_facts(c->s->target, &f);
	gethostname(host, sizeof(host) - 1);
	if (s->src) {
		here = *s->src;
	} else {
		here.kind = (char *)target_kind(c->s->target);
		here.pid = c->s->target->pid;
		here.exe = f.exe;
		here.core_file = (char *)f.core;
		here.host = host;
	}
	here.saved_at = (int64_t)time(NULL);
	struct snapfile_in in = {
		.s = s, .src = &here, .origin = s->file ? s->origin : snapshots_origin(&c->s->snaps), .sym = sym,
		.stacks = &c->s->live.stacks, .clock = s->file ? &s->clock : &c->s->live.clock,
	};
	struct strbuf out = STRBUF_INIT;
	int ret = snapfile_encode(&in, &out, &c->err);
	target_facts_release(&f);
	if (ret == 0)
		ret = savefile_write(path, out.buf, out.len, 0644, force, c->args->cmd, &c->err);
	if (ret == 0)
		*written = out.len;
	strbuf_release(&out);
	return ret;
}
