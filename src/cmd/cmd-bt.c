// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-bt.c - `bt [TID|all]`: call stacks of stopped threads, with inlined frames and file:line. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "frames.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "sym.h"
#include "target.h"
#include "xalloc.h"

#define DEFAULT_DEPTH 64
#define MAX_DEPTH 1000000 /* deeper than any stack a default 8 MiB limit allows */

extern const struct cmd_entry cmd_bt_entry;

static int thread_jv(struct cmd_ctx *c, struct sym *sym, pid_t tid, uint64_t *pcs, bool *caller, int depth,
		     struct jv *threads)
{
	int n = sym_unwind(sym, tid, pcs, caller, depth, &c->err);
	if (n < 0)
		return -1;
	char name[64];
	bool named = target_thread_name(c->s->target, tid, name, sizeof(name));
	struct jv *th = jv_push(threads, jv_object());
	jv_set(th, "tid", jv_int(tid));
	jv_set(th, "name", named ? jv_string(name) : jv_null());
	frames_to_jv(sym, pcs, caller, n, jv_set(th, "frames", jv_array()));
	return 0;
}

static int parse_tid(struct cmd_ctx *c, const char *word, pid_t *tid)
{
	uint64_t v;
	if (cmd_parse_u64(word, 0x3fffffff, &v) < 0 || v == 0) /* FUTEX_TID_MASK: no tid is larger */
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "bt: '%s' is not a thread id (usage: %s)", word,
				      cmd_bt_entry.usage);
	*tid = (pid_t)v;
	return 0;
}

static int cmd_bt_exec(struct cmd_ctx *c)
{
	struct session *s = c->s;
	const char *which = c->args->argc ? c->args->argv[0] : NULL;
	long depth = DEFAULT_DEPTH;
	if (cmd_optnum(c->args, "--depth", 1, MAX_DEPTH, &depth, &c->err) < 0)
		return -1;
	bool all = which && !strcmp(which, "all");
	/* A core's first thread is the one that received the fatal signal, as gdb shows it. */
	pid_t tid = target_is_process(s->target) ? s->target->pid : s->target->threads[0].tid;
	if (which && !all && parse_tid(c, which, &tid) < 0)
		return -1;

	if (session_pause(s, &c->err) < 0)
		return -1;
	struct target *t = s->target;
	uint64_t *pcs = xmalloc(depth * sizeof(*pcs));
	bool *caller = xmalloc(depth * sizeof(*caller));
	struct jv *r = jv_object();
	struct jv *threads = jv_set(r, "threads", jv_array());
	int ret = 0;
	bool found = false;
	for (size_t i = 0; i < t->nthreads && ret == 0; i++) {
		if (!all && t->threads[i].tid != tid)
			continue;
		found = true;
		ret = thread_jv(c, s->sym, t->threads[i].tid, pcs, caller, (int)depth, threads);
	}
	if (!found && ret == 0)
		ret = mlz_error(&c->err, "no thread %d in process %d", tid, t->pid);
	free(pcs);
	free(caller);
	struct mlz_err rerr;
	if (session_unpause(s, NULL, &rerr) < 0 && ret == 0) {
		c->err = rerr;
		ret = -1;
	}
	if (ret < 0) {
		jv_free(r);
		return -1;
	}
	c->result = r;
	return 0;
}

static void cmd_bt_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	const struct jv *threads = jv_get(r, "threads");
	for (size_t i = 0; i < jv_len(threads); i++) {
		const struct jv *th = jv_at(threads, i);
		if (i)
			strbuf_addch(out, '\n');
		strbuf_addf(out, "thread %" PRId64 " (", jv_get_int(th, "tid", 0));
		strbuf_add_escaped(out, jv_get_str(th, "name", "?")); /* null: a core that does not name it */
		strbuf_addstr(out, "):\n");
		const struct jv *frames = jv_get(th, "frames");
		for (size_t k = 0; k < jv_len(frames); k++) {
			strbuf_addf(out, "  #%-2zu ", k);
			frame_text(jv_at(frames, k), out);
		}
	}
}

static const struct cmd_opt opts[] = {
	{ "--depth", "N", "at most N frames per thread (default 64)" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_bt_entry = {
	.name = "bt",
	.alias = "backtrace",
	.usage = "bt [TID|all] [--depth N]",
	.summary = "call stacks: the main thread, thread TID, or all threads",
	.help = "Stops every thread for a moment, unwinds the chosen ones with DWARF CFI (libdwfl), and "
		"resumes them. Each frame shows its PC, function (demangled), file:line and module; code "
		"inlined into a frame appears as frames of its own marked [inlined]. Without debug "
		"information a frame falls back to the ELF symbol, then to module+offset.",
	.opts = opts,
	.max_args = 1,
	.flags = CMD_NEEDS_IMAGE,
	.exec = cmd_bt_exec,
	.text = cmd_bt_text,
};
