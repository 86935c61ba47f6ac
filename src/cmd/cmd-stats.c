// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-stats.c - `stats`: what tracing costs and what it has seen. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "jv.h"
#include "proc.h"
#include "session.h"
#include "strbuf.h"
#include "target.h"
#include "liveset.h"
#include "render.h"

static int64_t own_rss(void)
{
	char *s = read_text_file("/proc/self/status");
	char *p = s ? strstr(s, "\nVmRSS:") : NULL;
	int64_t kb = p ? strtoll(p + 7, NULL, 10) : -1;
	free(s);
	return kb < 0 ? -1 : kb * 1024;
}

static int cmd_stats_exec(struct cmd_ctx *c)
{
	struct liveset *ls = session_live(c->s);
	struct source_info si, *st = &si;
	bool traced = liveset_source_info(ls, &si);
	struct jv *r = jv_object();
	jv_set(r, "tracing", jv_bool(traced && si.installed));
	jv_set(r, "mode", jv_string(traced ? si.mode : NULL));
	jv_set(r, "allocator", jv_string(si.allocator));
	struct jv *ev = jv_set(r, "events", jv_object());
	uint64_t events = 0;
	for (int k = 0; k < AK_NKINDS; k++) {
		jv_set(ev, alloc_kind_names[k], jv_int((int64_t)st->calls[k]));
		events += st->calls[k];
	}
	jv_set(r, "events_total", jv_int((int64_t)events));
	jv_set(r, "nested", jv_int((int64_t)st->nested));
	jv_set(r, "traps", jv_int((int64_t)st->traps));
	jv_set(r, "return_traps", jv_int((int64_t)st->return_traps));
	/* How results come back: trampolines, or (a CET shadow stack) breakpoints at return sites. */
	jv_set(r, "returns_by", jv_string(si.returns_by ? si.returns_by : "trampolines"));
	jv_set(r, "return_sites", jv_int((int64_t)si.return_sites));
	jv_set(r, "return_site_passes", jv_int((int64_t)st->site_passes));
	jv_set(r, "uncaught_returns", jv_int((int64_t)st->uncaught));
	jv_set(r, "unknown_frees", jv_int((int64_t)ls->unknown_frees));
	jv_set(r, "allocator_frees", jv_int((int64_t)ls->allocator_frees));
	jv_set(r, "replaced", jv_int((int64_t)ls->replaced));
	jv_set(r, "abandoned", jv_int((int64_t)st->abandoned));
	jv_set(r, "cpu_moves", jv_int((int64_t)st->migrations));
	jv_set(r, "failed", jv_int((int64_t)st->failed));
	/* Events the source dropped (the agent's ring stayed full): every figure since may miss some. */
	jv_set(r, "lost", jv_int((int64_t)st->lost));
	jv_set(r, "stacks_cut", jv_int((int64_t)st->stacks_cut));
	/* The agent unwinds from tables mlyze made; a stack they did not cover, mlyze unwound from a copy. */
	jv_set(r, "unwound_by_mlyze", jv_int((int64_t)st->unwound_by_mlyze));
	jv_set(r, "unwind_table_bytes", jv_int((int64_t)st->unwind_table_bytes));
	jv_set(r, "install_stopped_ms", jv_double(st->install_ms));
	double secs = (double)liveset_tick_now(ls) * CLOCK_TICK_MS / 1000.0;
	jv_set(r, "seconds", jv_double(secs));
	jv_set(r, "traps_per_second", jv_double(secs > 0 ? st->traps / secs : 0));
	struct jv *cost = jv_set(r, "ns_per_event", jv_object());
	/* Per trap with breakpoints; per recorded event with the agent, which never traps. */
	double n = st->traps ? (double)st->traps : events ? (double)events : 1;
	jv_set(cost, "in_mlyze", jv_double((st->ns_trap + st->ns_drain) / n));
	jv_set(cost, "unwinding", jv_double(st->ns_unwind / n));
	jv_set(cost, "tables", jv_double(st->ns_tables / n));
	jv_set(r, "threads", jv_int((int64_t)c->s->target->nthreads));
	/* Under byte sampling these are estimates (the result says so); recorded_blocks are those held. */
	jv_set(r, "live_blocks", jv_int((int64_t)ls->live_count));
	jv_set(r, "live_bytes", jv_int((int64_t)ls->live_bytes));
	jv_set(r, "recorded_blocks", jv_int((int64_t)ls->blocks.n));
	jv_set(r, "sample_mean", jv_int((int64_t)si.sample_bytes));
	jv_set(r, "unsampled", jv_int((int64_t)si.unsampled));
	jv_set(r, "sample_dropped", jv_int((int64_t)si.sample_dropped));
	jv_set(r, "stacks", jv_int((int64_t)stacktab_count(&ls->stacks)));
	jv_set(r, "stacks_made", jv_int((int64_t)ls->stacks.made));
	jv_set(r, "stacks_released", jv_int((int64_t)ls->stacks.released));
	jv_set(r, "stack_sweeps", jv_int((int64_t)ls->stacks.sweeps));
	jv_set(r, "stack_bytes", jv_int((int64_t)stacktab_memory(&ls->stacks)));
	/* What the memory limit bounds: the live set's tables, the snapshots and the growth point. */
	jv_set(r, "table_bytes", jv_int((int64_t)liveset_table_bytes(ls)));
	jv_set(r, "memory_limit", jv_int((int64_t)ls->mem_limit));
	if (ls->coarse_depth) {
		struct jv *d = jv_set(r, "degraded", jv_object());
		jv_set(d, "depth", jv_int(ls->coarse_depth));
		jv_set(d, "since", jv_double((double)ls->coarse_tick * CLOCK_TICK_MS / 1000.0));
		jv_set(d, "stacks", jv_int((int64_t)ls->coarse_stacks));
	} else {
		jv_set(r, "degraded", jv_null());
	}
	jv_set(r, "tracer_bytes", jv_int((int64_t)si.memory));
	jv_set(r, "table_bytes_per_block",
	       jv_double(ls->blocks.n ? (double)blocktab_memory(&ls->blocks) / ls->blocks.n : 0));
	jv_set(r, "mlyze_rss", jv_int(own_rss()));
	jv_set(r, "pause", pause_jv(c->s));
	c->result = r;
	return 0;
}

static void cmd_stats_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	unsigned sz = t->bytes ? SIZE_EXACT : 0;
	const char *unit = sz & SIZE_EXACT ? " bytes" : "";
	char b1[32], b2[32], b3[32], b4[32];
	const struct jv *ev = jv_get(r, "events");
	strbuf_addstr(out, "allocator   ");
	strbuf_add_escaped(out, jv_get_str(r, "allocator", "?"));
	strbuf_addf(out, " (%s)\n", jv_get(r, "tracing")->u.b ? "hooked" : "not hooked");
	if (jv_get_str(r, "mode", NULL))
		strbuf_addf(out, "mode        %s\n", jv_get_str(r, "mode", NULL));
	strbuf_addstr(out, "events     ");
	for (size_t i = 0; i < jv_len(ev); i++)
		if (jv_at(ev, i)->u.i)
			strbuf_addf(out, " %s %" PRId64, ev->u.c.keys[i], jv_at(ev, i)->u.i);
	strbuf_addf(out, "\ntraps       %" PRId64 " (%.0f/s), %" PRId64 " nested, %" PRId64 " returns by trap\n",
		    jv_get_int(r, "traps", 0), jv_get(r, "traps_per_second")->u.d, jv_get_int(r, "nested", 0),
		    jv_get_int(r, "return_traps", 0));
	if (jv_get_int(r, "return_sites", 0) || jv_get_int(r, "uncaught_returns", 0))
		strbuf_addf(out, "returns     by breakpoints at %" PRId64 " return sites (a shadow stack), %" PRId64
				 " traps by other code there, %" PRId64 " calls untraced (no breakpoint fits)\n",
			    jv_get_int(r, "return_sites", 0), jv_get_int(r, "return_site_passes", 0),
			    jv_get_int(r, "uncaught_returns", 0));
	const struct jv *cost = jv_get(r, "ns_per_event");
	strbuf_addf(out, "cost        %.2f us per %s in mlyze (unwinding %.2f, tables %.2f)\n",
		    jv_get(cost, "in_mlyze")->u.d / 1000, jv_get_int(r, "traps", 0) ? "trap" : "event",
		    jv_get(cost, "unwinding")->u.d / 1000,
		    jv_get(cost, "tables")->u.d / 1000);
	const char *est = cmd_estimated(r) ? "~" : "";
	strbuf_addf(out, "live        %s%" PRId64 " blocks, %s%s", est, jv_get_int(r, "live_blocks", 0),
		    size_str(b1, jv_get_int(r, "live_bytes", 0), sz | (*est ? SIZE_ESTIMATE : 0)), unit);
	if (*est)
		strbuf_addf(out, " (%" PRId64 " blocks recorded)", jv_get_int(r, "recorded_blocks", 0));
	strbuf_addstr(out, "\nsampling    ");
	if (jv_get_int(r, "sample_mean", 0)) {
		strbuf_addstr(out, "by bytes, mean ");
		strbuf_add_size(out, jv_get_int(r, "sample_mean", 0), 0);
		strbuf_addf(out, ": %" PRId64 " allocations left out", jv_get_int(r, "unsampled", 0));
		if (jv_get_int(r, "sample_dropped", 0))
			strbuf_addf(out, ", %" PRId64 " sampled ones dropped (the agent's address set was full): "
					 "the estimates miss them", jv_get_int(r, "sample_dropped", 0));
		strbuf_addch(out, '\n');
	} else {
		strbuf_addf(out, "off: every call is recorded%s\n", *est ? " (the figures are estimates still: "
			    "sampling was on before)" : "");
	}
	strbuf_addf(out, "stacks      %" PRId64 " in the table (%s%s), %" PRId64 " made, %" PRId64
			 " released by %" PRId64 " sweeps\n",
		    jv_get_int(r, "stacks", 0), size_str(b1, jv_get_int(r, "stack_bytes", 0), sz), unit,
		    jv_get_int(r, "stacks_made", 0),
		    jv_get_int(r, "stacks_released", 0), jv_get_int(r, "stack_sweeps", 0));
	strbuf_addf(out, "oddities    %" PRId64 " frees of unknown blocks, %" PRId64 " replaced, %" PRId64
			 " abandoned calls, %" PRId64 " failed calls\n",
		    jv_get_int(r, "unknown_frees", 0), jv_get_int(r, "replaced", 0), jv_get_int(r, "abandoned", 0),
		    jv_get_int(r, "failed", 0));
	if (jv_get_int(r, "lost", 0))
		strbuf_addf(out, "LOST        %" PRId64 " events the agent could not record (its ring stayed full): "
				 "figures since attach miss them\n", jv_get_int(r, "lost", 0));
	if (jv_get_int(r, "stacks_cut", 0))
		strbuf_addf(out, "stacks      %" PRId64 " cut short (a stack mlyze did not know the end of)\n",
			    jv_get_int(r, "stacks_cut", 0));
	if (jv_get_int(r, "allocator_frees", 0))
		strbuf_addf(out, "allocator   %" PRId64 " frees of its own cached blocks (a thread's tcache, emptied as it exits)\n",
			    jv_get_int(r, "allocator_frees", 0));
	strbuf_addf(out, "memory      %s%s of tables of a limit of %s%s (%.1f bytes per live block), "
			 "tracer %s%s, mlyze RSS %s%s\n",
		    size_str(b1, jv_get_int(r, "table_bytes", 0), sz), unit,
		    size_str(b2, jv_get_int(r, "memory_limit", 0), sz), unit, jv_get(r, "table_bytes_per_block")->u.d,
		    size_str(b3, jv_get_int(r, "tracer_bytes", 0), sz), unit,
		    size_str(b4, jv_get_int(r, "mlyze_rss", 0), sz), unit);
	const struct jv *d = jv_get(r, "degraded");
	if (d && d->kind == JV_OBJECT)
		strbuf_addf(out, "degraded    the tables reached the memory limit at %.1f s: new stacks are cut to %" PRId64
				 " frames (%" PRId64 " made so)\n",
			    jv_get(d, "since")->u.d, jv_get_int(d, "depth", 0), jv_get_int(d, "stacks", 0));
	pause_text_line(jv_get(r, "pause"), out);
}

const struct cmd_entry cmd_stats_entry = {
	.name = "stats",
	.usage = "stats",
	.summary = "tracing: events by kind, traps per second, cost per event, tables, mlyze's RSS",
	.help = "Counts the allocator calls seen since attach by entry point, the traps mlyze handled and how "
		"many per second, the time mlyze spent per trap (and how much of it went to unwinding the stack "
		"and to the tables), the last pause (see 'set pause'), the live blocks it tracks, the distinct stacks in its table (those nothing "
		"refers to any more are released by sweeps: how many and how often), the bytes its tables take "
		"against the memory limit (set memory-limit) and per live block, and its own RSS. Past the "
		"limit it says since when new stacks are cut short, to how many frames, and how many were made "
		"so. Also counts oddities: frees of addresses not traced live "
		"(allocated before attach, or cached chunks glibc hands back when a thread exits), calls that "
		"failed, calls that never returned (left by longjmp). In a process with a CET shadow stack, "
		"results are caught by breakpoints at the return sites rather than trampolines: it says how "
		"many, how often other code ran through them, and how many calls went untraced because no "
		"breakpoint fits their return site.",
	.max_args = 0,
	.flags = CMD_NEEDS_EVENTS | CMD_ESTIMATES,
	.exec = cmd_stats_exec,
	.text = cmd_stats_text,
};
