// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-save.c - `save FILE [SNAPSHOT]`: a snapshot (or one taken now) as a file that `load` and `mlyze open` read. */
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmd.h"
#include "jv.h"
#include "render.h"
#include "savefile.h"
#include "session.h"
#include "snapfile.h"
#include "snapshot.h"
#include "strbuf.h"
#include "target.h"

static int cmd_save_exec(struct cmd_ctx *c)
{
	const char *path = c->args->argv[0];
	bool force = cmd_has(c->args, "--force");
	/* Refuse the file before a snapshot is taken for nothing. */
	if (savefile_check(path, force, "save", &c->err) < 0)
		return -1;
	const struct snapshot *s;
	if (c->args->argc == 2) {
		s = snapshot_find(&c->s->snaps, c->args->argv[1]);
		if (!s)
			return mlz_error(&c->err, "save: no snapshot named '%s' (see 'snapshots')", c->args->argv[1]);
	} else if (!(s = snapshot_take_now(c, NULL, false))) {
		return -1;
	}
	double t0 = mono_ms();
	size_t written;
	int ret = snapshot_write_file(c, s, path, force, &written);
	if (ret == 0) {
		struct jv *r = jv_object();
		jv_set(r, "file", jv_string(path));
		jv_set(r, "snapshot", jv_string(s->name));
		jv_set(r, "blocks", jv_int((int64_t)s->by.count));
		jv_set(r, "bytes", jv_int((int64_t)s->by.bytes));
		jv_set(r, "bytes_written", jv_int((int64_t)written));
		jv_set(r, "ms", jv_double(mono_ms() - t0));
		c->result = r;
	}
	return ret;
}

static void cmd_save_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	unsigned sz = t->bytes ? SIZE_EXACT : 0;
	strbuf_addstr(out, "saved ");
	strbuf_add_escaped(out, jv_get_str(r, "snapshot", ""));
	strbuf_addstr(out, " to ");
	strbuf_add_escaped(out, jv_get_str(r, "file", ""));
	strbuf_addf(out, " (%" PRId64 " blocks, ", jv_get_int(r, "blocks", 0));
	strbuf_add_size(out, jv_get_int(r, "bytes", 0), sz);
	strbuf_addstr(out, "; ");
	strbuf_add_size(out, jv_get_int(r, "bytes_written", 0), sz);
	strbuf_addstr(out, " written)\n");
}

static const struct cmd_opt opts[] = {
	{ "--force", NULL, "replace FILE if it exists (never a symbolic link)" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_save_entry = {
	.name = "save",
	.usage = "save FILE [SNAPSHOT] [--force]",
	.summary = "write a snapshot (or one taken now) to FILE, for load and mlyze open",
	.help = "Writes the snapshot SNAPSHOT, or without it a snapshot taken now as 'snapshot' takes one (it "
		"joins the session's list as sN), to FILE: its blocks with their stacks, every stack's frames "
		"resolved now (function, file:line, inlined frames, module) and the modules with their build-ids, "
		"the blocks the heap walk found grouped as compare needs them and one by one, its totals, RSS, "
		"how long the process was stopped, and where it was taken (pid, executable, core file, host). "
		"'load FILE' or 'mlyze open FILE' reads it back in any session, without the process or its "
		"binaries: top, compare, blocks, export and snapshots work on it. The format (versioned, "
		"zstd-compressed, CRC32-checked) is docs/savefile-format.md. FILE is written as a new file of "
		"mode 0644 next to it and renamed into place when complete; an existing FILE is replaced only "
		"with --force, a symbolic link never.",
	.opts = opts,
	.min_args = 1,
	.max_args = 2,
	.exec = cmd_save_exec,
	.text = cmd_save_text,
};
