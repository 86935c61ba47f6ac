// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-threads.c - `threads`: every thread with its name, scheduler state and where it is. */
#include <inttypes.h>

#include "cmd.h"
#include "frames.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "sym.h"
#include "target.h"

static int cmd_threads_exec(struct cmd_ctx *c)
{
	struct session *s = c->s;
	struct target *t = s->target;
	struct jv *r = jv_object();
	struct jv *list = jv_set(r, "threads", jv_array());

	/* The scheduler state must be read before mlyze stops the threads; by tid, since threads may come and go. */
	size_t n = t->nthreads;
	pid_t tids[n + 1];
	char states[n + 1];
	for (size_t i = 0; i < n; i++) {
		tids[i] = t->threads[i].tid;
		states[i] = target_thread_state(t, tids[i]);
	}
	if (session_pause(s, &c->err) < 0) {
		jv_free(r);
		return -1;
	}
	for (size_t i = 0; i < t->nthreads; i++) {
		pid_t tid = t->threads[i].tid;
		char name[64], st[2] = { '?', 0 };
		for (size_t k = 0; k < n; k++)
			if (tids[k] == tid && states[k])
				st[0] = states[k];
		struct user_regs_struct regs;
		bool named = target_thread_name(t, tid, name, sizeof(name));
		struct jv *o = jv_push(list, jv_object());
		jv_set(o, "tid", jv_int(tid));
		jv_set(o, "name", named ? jv_string(name) : jv_null());
		jv_set(o, "state", jv_string(st));
		if (target_regs(t, tid, &regs, &c->err) == 0)
			frames_to_jv(s->sym, (uint64_t[]){ regs.rip }, NULL, 1, jv_set(o, "frames", jv_array()));
	}
	if (session_unpause(s, NULL, &c->err) < 0) {
		jv_free(r);
		return -1;
	}
	c->result = r;
	return 0;
}

static void cmd_threads_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	const struct jv *list = jv_get(r, "threads");
	strbuf_addf(out, "%8s  %-16s %-5s %s\n", "TID", "NAME", "STATE", "WHERE");
	for (size_t i = 0; i < jv_len(list); i++) {
		const struct jv *th = jv_at(list, i);
		strbuf_addf(out, "%8" PRId64 "  ", jv_get_int(th, "tid", 0));
		size_t at = out->len;
		strbuf_add_escaped(out, jv_get_str(th, "name", "?"));
		while (out->len - at < 16)
			strbuf_addch(out, ' ');
		strbuf_addf(out, " %-5s ", jv_get_str(th, "state", "?"));
		const struct jv *frames = jv_get(th, "frames");
		if (jv_len(frames))
			frame_text(jv_at(frames, jv_len(frames) - 1), out);
		else
			strbuf_addstr(out, "?\n");
	}
}

const struct cmd_entry cmd_threads_entry = {
	.name = "threads",
	.usage = "threads",
	.summary = "every thread: id, name, scheduler state, current function",
	.help = "Lists the threads mlyze traces (all of them, including those created after attach) with "
		"their name (comm), their state letter from /proc as it was before mlyze stopped them "
		"(R running, S sleeping, D disk wait, T stopped, t traced), and the function they are in. "
		"On a core the names are those a core by 'dump' recorded; a core by the kernel or gcore "
		"names only its leader (the process's comm), the other threads show '?' (null in JSON).",
	.max_args = 0,
	.flags = CMD_NEEDS_IMAGE,
	.exec = cmd_threads_exec,
	.text = cmd_threads_text,
};
