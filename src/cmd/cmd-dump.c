// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-dump.c - `dump FILE`: write the process as a core file that gdb and `mlyze core` read. */
#include <inttypes.h>

#include "clock.h"
#include "cmd.h"
#include "jv.h"
#include "liveset.h"
#include "session.h"
#include "strbuf.h"
#include "target.h"

static int cmd_dump_exec(struct cmd_ctx *c)
{
	uint64_t bytes = 0;
	double stopped;
	struct source_info si;
	if (session_pause_image(c->s, &c->err) < 0)
		return -1;
	/* mlyze's own areas (the agent's, the breakpoints' scratch) are not the program's memory, and
	 * what they hold (results of malloc on their way back, recorded events) would keep blocks
	 * reachable in the core that are lost in the process */
	liveset_source_info(&c->s->live, &si);
	struct target_dump_opts o = { cmd_has(c->args, "--force"), si.areas, si.nareas, session_cancel(c->s) };
	int r = target_dump(c->s->target, c->args->argv[0], &o, &bytes, &c->err);
	struct mlz_err e2;
	if (session_unpause(c->s, &stopped, r < 0 ? &e2 : &c->err) < 0)
		r = -1;
	if (r < 0)
		return -1;
	c->result = jv_object();
	jv_set(c->result, "file", jv_string(c->args->argv[0]));
	jv_set(c->result, "bytes", jv_int((int64_t)bytes));
	jv_set(c->result, "stopped_ms", jv_double(stopped));
	return 0;
}

static void cmd_dump_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	strbuf_addstr(out, "wrote ");
	strbuf_add_escaped(out, jv_get_str(r, "file", ""));
	strbuf_addf(out, " (%" PRId64 " bytes); the process was stopped %.0f ms\n", jv_get_int(r, "bytes", 0),
		    jv_get(r, "stopped_ms")->u.d);
}

static const struct cmd_opt opts[] = {
	{ "--force", NULL, "replace FILE if it exists (never a symbolic link)" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_dump_entry = {
	.name = "dump",
	.usage = "dump FILE [--force]",
	.summary = "write the process as a core file (gdb and 'mlyze core' read it)",
	.help = "Stops the process and writes it to FILE as an ELF core: the process and each thread's "
		"registers in notes, the auxiliary vector, the mapped files, and the contents of every readable "
		"mapping (pages that cannot be read are written as zeros). Where mlyze put a breakpoint the core "
		"holds the original code, and the areas mlyze mapped into the process (the agent's, the "
		"breakpoints' scratch) are left out, so 'leaks' on the core finds what it finds live; a thread "
		"inside an allocator call at that moment has an address in mlyze's area as its return address. The "
		"process runs on afterwards. The core holds the process's memory, so it is written to a new file "
		"of mode 0600 next to FILE that takes FILE's name only once it is complete: a failed dump (a full "
		"disk) leaves nothing behind. An existing FILE is replaced only with --force; a symbolic link at "
		"FILE is always refused.",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_NEEDS_IMAGE | CMD_NOT_CORE,
	.exec = cmd_dump_exec,
	.text = cmd_dump_text,
};
