// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-phases.c - `phases`: each phase's live delta, its own peak above its start, its top growth. */
#include <inttypes.h>
#include <stdlib.h>

#include "cmd.h"
#include "grouping.h"
#include "jv.h"
#include "record.h"
#include "session.h"
#include "strbuf.h"
#include "liveset.h"

static int cmd_phases_exec(struct cmd_ctx *c)
{
	if (record_measure(c->s, &c->err) < 0) /* a recording's phases are measured on first use */
		return -1;
	struct liveset *ls = session_live(c->s);
	struct sym *sym = session_sym(c->s, &c->err);
	if (!sym)
		return -1;
	struct grouping_opts o;
	if (grouping_parse(c, &o) < 0)
		return -1;
	if (!cmd_optval(c->args, "--top"))
		o.top = 3;
	struct by_stack now = { 0 };
	liveset_copy(ls, &now);
	uint32_t tick = liveset_tick_now(ls);
	struct jv *r = jv_object();
	struct jv *list = jv_set(r, "phases", jv_array());
	for (size_t i = 0; i < ls->nphases; i++) {
		const struct phase *p = &ls->phases[i];
		const struct by_stack *end = p->open ? &now : &p->end;
		struct jv *ph = jv_push(list, jv_object());
		jv_set(ph, "name", jv_string(p->name));
		jv_set(ph, "start", jv_double(p->start_tick * (CLOCK_TICK_MS / 1000.0)));
		jv_set(ph, "end", p->open ? jv_null() : jv_double(p->end_tick * (CLOCK_TICK_MS / 1000.0)));
		jv_set(ph, "seconds", jv_double(((p->open ? tick : p->end_tick) - p->start_tick) * (CLOCK_TICK_MS / 1000.0)));
		jv_set(ph, "start_bytes", jv_int((int64_t)p->start.bytes));
		jv_set(ph, "delta_bytes", jv_int((int64_t)end->bytes - (int64_t)p->start.bytes));
		jv_set(ph, "delta_blocks", jv_int((int64_t)end->count - (int64_t)p->start.count));
		jv_set(ph, "peak_above_start", jv_int((int64_t)p->peak_bytes - (int64_t)p->start.bytes));
		size_t n;
		struct group *g = group_compare(&c->s->keys, sym, &ls->stacks, &p->start, end, &o, &n);
		size_t kept = 0;
		for (size_t k = 0; k < n; k++)
			if (g[k].bytes_b > g[k].bytes_a)
				g[kept++] = g[k];
		groups_to_jv(&c->s->keys, sym, o.by, g, kept, true, jv_set(ph, "groups", jv_array()));
		free(g);
	}
	by_stack_release(&now);
	c->result = r;
	return 0;
}

static void cmd_phases_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	unsigned sz = text_size_flags(t, r);
	const struct jv *list = jv_get(r, "phases");
	for (size_t i = 0; i < jv_len(list); i++) {
		const struct jv *p = jv_at(list, i);
		strbuf_addstr(out, i ? "\nphase '" : "phase '");
		strbuf_add_escaped(out, jv_get_str(p, "name", ""));
		strbuf_addf(out, "' from %.1f s for %.1f s%s: live ", jv_get(p, "start")->u.d, jv_get(p, "seconds")->u.d,
			    jv_get(p, "end")->kind == JV_NULL ? " (open)" : "");
		strbuf_add_size(out, jv_get_int(p, "delta_bytes", 0), sz | SIZE_SIGN);
		strbuf_addf(out, "%s (%+" PRId64 " blocks), its own peak ", sz & SIZE_EXACT ? " bytes" : "",
			    jv_get_int(p, "delta_blocks", 0));
		strbuf_add_size(out, jv_get_int(p, "peak_above_start", 0), sz | SIZE_SIGN);
		strbuf_addf(out, "%s above its start\n", sz & SIZE_EXACT ? " bytes" : "");
		if (jv_len(jv_get(p, "groups")))
			groups_text(jv_get(p, "groups"), true, sz, out);
	}
}

static const struct cmd_opt opts[] = { GROUPING_OPTS, { NULL, NULL, NULL } };

const struct cmd_entry cmd_phases_entry = {
	.name = "phases",
	.usage = "phases [--by site|function|file|stack] [--top N]",
	.summary = "per phase: live delta, the phase's own peak above its start, top growing sites",
	.help = "For each phase (from 'mark' to the next; the first, 'attach', starts with tracing): when it "
		"ran, how the live bytes and blocks changed over it, the highest the live bytes went above the "
		"phase's own starting point (not the global peak), and the sites that grew most (3 unless "
		"--top says otherwise). On a recording (mlyze open FILE) the phases are those its marks began "
		"(SIGUSR1 to mlyze record), measured over the whole recording.",
	.opts = opts,
	.max_args = 0,
	.flags = CMD_NEEDS_EVENTS | CMD_ESTIMATES | CMD_RECORDING_OK,
	.exec = cmd_phases_exec,
	.text = cmd_phases_text,
};
