// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-mark.c - `mark NAME`: end the current phase and start one called NAME, recording the memory then. */
#include <inttypes.h>
#include <stdlib.h>

#include "cmd.h"
#include "grouping.h"
#include "strbuf.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"
#include "target.h"
#include "timeline.h"
#include "liveset.h"
#include "xalloc.h"

struct mark_ctx {
	struct liveset *ls;
	const char *name;
	struct mark *m;
	bool taken;
};

/* While the process is stopped for the heap walk: the phase starts exactly where the figures are taken. */
static void take(void *arg)
{
	struct mark_ctx *x = arg;
	liveset_mark(x->ls, x->name);
	x->m->tick = x->ls->phases[x->ls->nphases - 1].start_tick;
	x->m->blocks = x->ls->blocks.n;
	x->m->bytes = x->m->traced_bytes = x->ls->blocks.bytes;
	x->taken = true;
}

static int cmd_mark_exec(struct cmd_ctx *c)
{
	struct liveset *ls = session_live(c->s);
	struct target_facts f;
	target_facts(c->s->target, &f);
	target_facts_release(&f);
	struct mark m = { .name = xstrdup(c->args->argv[0]), .rss = f.rss };
	struct mark_ctx x = { ls, c->args->argv[0], &m, false };
	struct untraced u;
	int r = live_set_take(c->s, &u, take, &x, &c->err);
	if (!x.taken) { /* the process could not be stopped: no phase began */
		untraced_release(&u);
		free(m.name);
		return -1;
	}
	for (size_t i = 0; i < u.n; i++) {
		m.blocks++;
		m.bytes += wblock_size(&u.v[i]);
	}
	m.heap = u.heap;
	if (u.note[0])
		m.note = xstrdup(u.note);
	untraced_release(&u);
	marks_push(&c->s->marks, &m);
	if (r < 0) /* the phase began, and is kept; but resuming the process failed */
		return -1;
	struct tl_point p = timeline_mark_point(&c->s->marks.v[c->s->marks.n - 1]);
	c->result = tl_point_jv(&p);
	jv_set(c->result, "phase", jv_string(p.name));
	return 0;
}

static void cmd_mark_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	strbuf_addstr(out, "phase '");
	strbuf_add_escaped(out, jv_get_str(r, "phase", ""));
	strbuf_addf(out, "' starts at %.1f s: ", jv_get(r, "seconds")->u.d);
	moment_text(r, t->bytes ? SIZE_EXACT : 0, out);
	strbuf_addch(out, '\n');
}

const struct cmd_entry cmd_mark_entry = {
	.name = "mark",
	.usage = "mark NAME",
	.summary = "end the current phase and start one called NAME; record the memory then for the timeline",
	.help = "Closes the current phase (the first one, 'attach', starts when tracing does) and starts a "
		"new one called NAME. 'phases' reports each phase's own figures. The process is stopped once, "
		"for a walk of glibc's heap, and the mark records what 'timeline' shows: the time, the live "
		"blocks and bytes (traced ones and those only the walk finds), glibc's heap in use, free and "
		"mmapped (as mallinfo2() gives them), and the RSS. After the process ended, or when the heap "
		"cannot be walked, it records the traced blocks and says why the rest is missing.",
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_NEEDS_EVENTS,
	.exec = cmd_mark_exec,
	.text = cmd_mark_text,
};
