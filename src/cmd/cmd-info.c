// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-info.c - `info`: the process, its state and memory, and what mlyze is doing to it. */
#include <inttypes.h>
#include <stdlib.h>

#include <string.h>

#include "clock.h"
#include "cmd.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "target.h"
#include "liveset.h"
#include "render.h"
#include "record.h"

static int cmd_info_exec(struct cmd_ctx *c)
{
	struct session *s = c->s;
	struct target *t = s->target;
	if (!t)
		return target_gone_error(t, &c->err);
	target_poll(t);
	struct jv *r = jv_object();
	jv_set(r, "pid", jv_int(t->pid));
	jv_set(r, "mode", jv_string(s->mode == MODE_RUN    ? "run"
					   : s->mode == MODE_CORE ? "core"
					   : s->mode == MODE_OPEN ? "open"
								  : "attach"));
	jv_set(r, "state", jv_string(target_state_name(t)));
	if (t->state == TARGET_EXITED || t->state == TARGET_HELD) {
		char how[96];
		target_describe_exit(t, how, sizeof(how));
		jv_set(r, "exit", jv_string(how));
	}
	struct target_facts f;
	target_facts(t, &f);
	if (f.core) {
		jv_set(r, "core", jv_string(f.core));
		jv_set(r, "name", jv_string(f.name));
		jv_set(r, "args", jv_string(f.args));
		jv_set(r, "threads", jv_int((int64_t)t->nthreads));
		int sig = f.signal;
		jv_set(r, "signal", sig ? jv_stringf("SIG%s", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?") : jv_null());
	} else if (target_readable(t)) { /* running, stopped, or held at its exit with its memory */
		jv_set(r, "exe", jv_string(f.exe));
		jv_set(r, "name", jv_string(f.name));
		jv_set(r, "threads", jv_int((int64_t)t->nthreads));
		struct jv *mem = jv_set(r, "memory", jv_object());
		jv_set(mem, "rss", f.rss >= 0 ? jv_int(f.rss) : jv_null());
		jv_set(mem, "pss", f.pss >= 0 ? jv_int(f.pss) : jv_null());
		jv_set(mem, "swap", f.swap >= 0 ? jv_int(f.swap) : jv_null());
	}
	target_facts_release(&f);
	struct jv *rec = record_info_jv(s);
	if (rec)
		jv_set(r, "recording", rec);
	struct jv *tr = jv_set(r, "tracing", jv_object());
	jv_set(tr, "threads", jv_bool(target_runs(t)));
	struct source_info si;
	liveset_source_info(&s->live, &si);
	jv_set(tr, "allocations", jv_bool(si.active));
	if (si.active) {
		jv_set(tr, "by", jv_string(si.mode)); /* breakpoints, or the agent */
		jv_set(tr, "allocator", jv_string(si.allocator));
		jv_set(tr, "breakpoints", jv_int((int64_t)si.breakpoints));
		jv_set(tr, "scratch", jv_addr(si.scratch));
		/* 0: every call is recorded; else the mean of byte sampling (figures are estimates). */
		jv_set(tr, "sample_mean", jv_int((int64_t)si.sample_bytes));
	}
	/* Held at its exit, nothing of it runs again: letting go undoes nothing. */
	jv_set(tr, "changes_to_undo", jv_int(t->state == TARGET_HELD ? 0 : (int64_t)cleanup_pending(&t->cleanup)));
	jv_set(r, "pause", pause_jv(s));
	c->result = r;
	return 0;
}

struct jv *pause_jv(struct session *s)
{
	struct jv *o = jv_object();
	const struct pause_record *p = &s->last_pause;
	jv_set(o, "mode", jv_string(s->pause_mode == PAUSE_FORK ? "fork" : "stop"));
	if (p->taken) {
		struct jv *l = jv_set(o, "last", jv_object());
		jv_set(l, "forked", jv_bool(p->forked));
		jv_set(l, "stopped_ms", jv_double(p->stopped_ms));
		jv_set(l, "seconds_ago", jv_double((mono_ms() - p->at) / 1000));
		jv_set(l, "twin_only_bytes", p->forked && p->twin_only >= 0 ? jv_int(p->twin_only) : jv_null());
		if (p->forked) {
			struct jv *w = jv_set(l, "stop_parts", jv_object());
			jv_set(w, "threads_ms", jv_double(p->parts.threads));
			jv_set(w, "drain_ms", jv_double(p->parts.drain));
			jv_set(w, "clone_ms", jv_double(p->parts.clone));
			jv_set(w, "twin_ms", jv_double(p->parts.twin));
			jv_set(w, "resume_ms", jv_double(p->parts.resume));
			jv_set(w, "reap_ms", jv_double(p->parts.reap));
		} else {
			jv_set(l, "stop_parts", jv_null());
		}
	} else {
		jv_set(o, "last", jv_null());
	}
	jv_set(o, "no_fork", s->no_fork[0] ? jv_string(s->no_fork) : jv_null());
	return o;
}

void pause_text_line(const struct jv *o, struct strbuf *out)
{
	const struct jv *l = jv_get(o, "last");
	strbuf_addf(out, "%-10s %s", "pause", jv_get_str(o, "mode", "?"));
	if (l && l->kind == JV_OBJECT)
		strbuf_addf(out, "; the last analysis %s, the process stopped %.1f ms (%.1f s ago)",
			    jv_get(l, "forked")->u.b ? "read a twin" : "stopped the process", jv_get(l, "stopped_ms")->u.d,
			    jv_get(l, "seconds_ago")->u.d);
	if (l && l->kind == JV_OBJECT && jv_get(l, "twin_only_bytes") && jv_get(l, "twin_only_bytes")->kind == JV_INT)
		strbuf_addf(out, "; the twin held %" PRId64 " KiB alone at its end",
			    jv_get_int(l, "twin_only_bytes", 0) / 1024);
	if (jv_get_str(o, "no_fork", NULL)) {
		strbuf_addstr(out, "; cannot fork: ");
		strbuf_add_escaped(out, jv_get_str(o, "no_fork", ""));
	}
	strbuf_addch(out, '\n');
}

static void mem_line(struct strbuf *out, const char *label, const struct jv *v, unsigned sz)
{
	if (v && v->kind == JV_INT) {
		strbuf_addf(out, "%-10s ", label);
		strbuf_add_size(out, v->u.i, sz);
		strbuf_addstr(out, sz & SIZE_EXACT ? " bytes\n" : "\n");
	}
}

static void cmd_info_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	unsigned sz = t->bytes ? SIZE_EXACT : 0;
	strbuf_addf(out, "%-10s %" PRId64 "\n", "pid", jv_get_int(r, "pid", 0));
	if (jv_get_str(r, "exe", NULL)) {
		strbuf_addf(out, "%-10s ", "exe");
		strbuf_add_escaped(out, jv_get_str(r, "exe", ""));
		strbuf_addch(out, '\n');
	}
	strbuf_addf(out, "%-10s %s", "state", jv_get_str(r, "state", ""));
	if (jv_get_str(r, "exit", NULL))
		strbuf_addf(out, " (%s)", jv_get_str(r, "exit", ""));
	strbuf_addf(out, ", %s mode\n", jv_get_str(r, "mode", ""));
	if (jv_get(r, "threads"))
		strbuf_addf(out, "%-10s %" PRId64 "\n", "threads", jv_get_int(r, "threads", 0));
	if (jv_get_str(r, "core", NULL)) {
		strbuf_addf(out, "%-10s ", "core");
		strbuf_add_escaped(out, jv_get_str(r, "core", ""));
		strbuf_addstr(out, " (");
		strbuf_add_escaped(out, jv_get_str(r, "name", ""));
		strbuf_addstr(out, ": ");
		strbuf_add_escaped(out, jv_get_str(r, "args", ""));
		strbuf_addstr(out, ")\n");
		if (jv_get_str(r, "signal", NULL))
			strbuf_addf(out, "%-10s %s\n", "signal", jv_get_str(r, "signal", ""));
		return;
	}
	const struct jv *rec = jv_get(r, "recording");
	if (rec) {
		strbuf_addf(out, "%-10s ", "program");
		strbuf_add_escaped(out, jv_get_str(rec, "exe", ""));
		strbuf_addf(out, "\n%-10s %s, %.1f s, by %s\n", "recorded", jv_get_str(rec, "started", ""),
			    jv_get(rec, "seconds")->u.d, jv_get_str(rec, "traced_by", ""));
		strbuf_addf(out, "%-10s %" PRId64 " (%" PRId64 " allocations, %" PRId64 " frees), %s, %" PRId64
			    " lost, %" PRId64 " stacks, %" PRId64 " checkpoints\n", "events", jv_get_int(rec, "events", 0),
			    jv_get_int(rec, "alloc_events", 0), jv_get_int(rec, "free_events", 0),
			    jv_get(rec, "sampled")->u.b ? "sampled" : "every call", jv_get_int(rec, "lost", 0),
			    jv_get_int(rec, "stacks", 0), jv_get_int(rec, "checkpoints", 0));
		strbuf_addf(out, "%-10s %" PRId64 " (one a second), %" PRId64 " marks\n", "samples",
			    jv_get_int(rec, "samples", 0), jv_get_int(rec, "marks", 0));
		if (jv_get(rec, "peak_bytes")->kind == JV_NULL)
			strbuf_addf(out, "%-10s not measured yet (phases, export massif and snapshot --at peak replay "
				    "the whole recording once for it)\n", "peak");
		else
			strbuf_addf(out, "%-10s %" PRId64 " bytes at %.1f s\n", "peak", jv_get_int(rec, "peak_bytes", 0),
				    jv_get(rec, "peak_seconds")->u.d);
		strbuf_addf(out, "%-10s %s\n", "ended", jv_get_str(rec, "ended", "not recorded (cut off)"));
		if (jv_get_str(rec, "cut_short", NULL)) {
			strbuf_addf(out, "%-10s read %" PRId64 " of %" PRId64 " bytes: ", "cut short",
				    jv_get_int(rec, "read_bytes", 0), jv_get_int(rec, "file_bytes", 0));
			strbuf_add_escaped(out, jv_get_str(rec, "cut_short", ""));
			strbuf_addch(out, '\n');
		}
		return;
	}
	const struct jv *mem = jv_get(r, "memory");
	mem_line(out, "rss", jv_get(mem, "rss"), sz);
	mem_line(out, "pss", jv_get(mem, "pss"), sz);
	mem_line(out, "swap", jv_get(mem, "swap"), sz);
	const struct jv *tr = jv_get(r, "tracing");
	strbuf_addf(out, "%-10s threads %s, allocations %s", "tracing", jv_get(tr, "threads")->u.b ? "on" : "off",
		    jv_get(tr, "allocations")->u.b ? "on" : "off");
	if (jv_get_str(tr, "by", NULL))
		strbuf_addf(out, " (by %s)", jv_get_str(tr, "by", ""));
	if (jv_get_int(tr, "sample_mean", 0)) {
		strbuf_addstr(out, ", byte sampling with mean ");
		strbuf_add_size(out, jv_get_int(tr, "sample_mean", 0), 0);
	}
	strbuf_addf(out, ", %" PRId64 " changes to undo at detach\n", jv_get_int(tr, "changes_to_undo", 0));
	pause_text_line(jv_get(r, "pause"), out);
}

const struct cmd_entry cmd_info_entry = {
	.name = "info",
	.usage = "info",
	.summary = "the process: pid, program, state, threads, RSS/PSS/swap, tracing state",
	.help = "Shows the process id, its program, whether it runs, is stopped by a signal (SIGSTOP), is held at its exit or exited (and "
		"how) or was detached, its "
		"thread count, its resident, proportional and swapped memory from /proc/PID/smaps_rollup, and "
		"what mlyze has in place in it, and the pause setting with the last pause: whether the analysis "
		"read a twin, how long the process was stopped for it and how much memory the twin held alone at "
		"its end (the pages the process wrote or gave back meanwhile: what the twin cost; see 'set pause'), "
		"and in JSON where that stop went (stop_parts: stopping the threads, the drain, the clone, which is the "
		"kernel's copy of the page tables, the rest of making the twin, the resume, the reaping). "
		"Works after the process has ended. On a core file: the core, the "
		"program's name and arguments, its threads and the signal that ended it. On a recording (mlyze open FILE): "
		"what was recorded (program, start, duration, events, every call or sampled, events lost, stacks, "
		"checkpoints, samples, marks, the peak), "
		"how the recording ended, and where a cut-off file stopped being readable. The peak comes from the "
		"file; one cut off before its end, or written by an older mlyze, says it only once snapshot --at "
		"peak, phases or export massif replayed the whole recording (info never does).",
	.max_args = 0,
	.flags = CMD_ESTIMATES,
	.exec = cmd_info_exec,
	.text = cmd_info_text,
};
