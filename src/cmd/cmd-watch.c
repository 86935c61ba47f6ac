// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * cmd-watch.c - `watch INTERVAL`: a cheap sample of the process every INTERVAL (RSS, the traced
 * live blocks and bytes, allocator calls), and a snapshot whenever they pass a new multiple of
 * --threshold, saved to --out DIR.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blocks.h"
#include "clock.h"
#include "cmd.h"
#include "jv.h"
#include "liveset.h"
#include "proc.h"
#include "render.h"
#include "session.h"
#include "snapshot.h"
#include "strbuf.h"
#include "target.h"
#include "xalloc.h"

#define MAX_SECONDS 86400 /* an interval, in milliseconds, still fits session_serve's int */

struct watch {
	struct cmd_ctx *c;
	uint64_t threshold; /* 0: no snapshots */
	const char *dir;
	double t0;          /* mono_ms() at the start */
	long n;             /* samples so far */
	bool traced;
	/* the previous sample, for rates */
	double last_ms;
	int64_t last_rss, last_bytes, last_events;
	/* the highest multiple of the threshold each figure reached; snapshots happen above it */
	int64_t level_rss, level_bytes;
	struct jv *names, *files;
};

/* Allocator calls seen so far, all entries together; -1 when nothing traces. */
static int64_t events_now(struct liveset *ls)
{
	struct source_info si;
	if (!liveset_source_info(ls, &si) || !si.installed)
		return -1;
	int64_t n = 0;
	for (int k = 0; k < AK_NKINDS; k++)
		n += (int64_t)si.calls[k];
	return n;
}

static struct jv *rate(bool have, int64_t now, int64_t then, double secs)
{
	return have && now >= 0 && then >= 0 && secs > 0 ? jv_double((double)(now - then) / secs) : jv_null();
}

/*
 * A snapshot when RSS or the live bytes reach a multiple of the threshold
 * neither had reached before (at most one per sample, however many they
 * passed): its name and file go into the sample ("snapshot", "file"; null when
 * none). A failure to take or write it is the command's: -1.
 */
static int maybe_snapshot(struct watch *w, int64_t rss, int64_t bytes, struct jv *sample)
{
	struct jv *name_v = jv_set(sample, "snapshot", jv_null()), *file_v = jv_set(sample, "file", jv_null());
	if (!w->threshold)
		return 0;
	int64_t lr = rss >= 0 ? rss / (int64_t)w->threshold : -1, lb = w->traced ? bytes / (int64_t)w->threshold : -1;
	if (w->n == 1) { /* where it starts is no crossing */
		w->level_rss = lr, w->level_bytes = lb;
		return 0;
	}
	if (lr <= w->level_rss && lb <= w->level_bytes)
		return 0;
	w->level_rss = lr > w->level_rss ? lr : w->level_rss;
	w->level_bytes = lb > w->level_bytes ? lb : w->level_bytes;
	char name[64];
	long k = (long)jv_len(w->names) + 1;
	snprintf(name, sizeof(name), "watch-%ld", k);
	for (long j = 2; snapshot_find(&w->c->s->snaps, name); j++) /* a name taken by an earlier watch */
		snprintf(name, sizeof(name), "watch-%ld.%ld", k, j);
	const struct snapshot *s = snapshot_take_now(w->c, name, false);
	if (!s)
		return -1;
	jv_push(w->names, jv_string(name));
	jv_replace_string(name_v, name);
	if (w->dir) {
		char *path = xasprintf("%s/%s.snap", w->dir, name);
		size_t written;
		int r = snapshot_write_file(w->c, s, path, false, &written);
		if (r == 0) {
			jv_push(w->files, jv_string(path));
			jv_replace_string(file_v, path);
		}
		free(path);
		if (r < 0)
			return -1;
	}
	return 0;
}

static const char *rate_str(char buf[32], const struct jv *v, unsigned sz)
{
	if (!v || v->kind == JV_NULL)
		return "-";
	double d = v->kind == JV_DOUBLE ? v->u.d : (double)v->u.i;
	size_str(buf, (int64_t)llround(d), sz | SIZE_SIGN);
	return buf;
}

/* One row a sample; the header before the first. */
static void watch_sample_text(const struct jv *v, const struct text_opts *t, struct strbuf *out)
{
	unsigned sz = t->bytes ? SIZE_EXACT : 0;
	char b[4][32];
	if (jv_get_int(v, "number", 0) == 1)
		strbuf_addf(out, "%8s %10s %10s %10s %12s %12s %10s\n", "SECONDS", "RSS", "LIVE", "BLOCKS", "RSS/s",
			    "LIVE/s", "CALLS/s");
	const struct jv *rss = jv_get(v, "rss"), *live = jv_get(v, "live_bytes"), *ev = jv_get(v, "events_per_second");
	strbuf_addf(out, "%8.1f %10s %10s ", jv_get(v, "seconds")->u.d,
		    rss->kind == JV_INT ? size_str(b[0], rss->u.i, sz) : "-",
		    live->kind == JV_INT ? size_str(b[1], live->u.i, sz) : "-");
	if (jv_get(v, "live_blocks")->kind == JV_INT)
		strbuf_addf(out, "%10" PRId64, jv_get_int(v, "live_blocks", 0));
	else
		strbuf_addf(out, "%10s", "-");
	strbuf_addf(out, " %12s %12s", rate_str(b[2], jv_get(v, "rss_per_second"), sz),
		    rate_str(b[3], jv_get(v, "live_bytes_per_second"), sz));
	if (ev->kind == JV_NULL)
		strbuf_addf(out, " %10s", "-");
	else
		strbuf_addf(out, " %10.0f", ev->kind == JV_DOUBLE ? ev->u.d : (double)ev->u.i);
	const char *snap = jv_get_str(v, "snapshot", NULL);
	if (snap) {
		strbuf_addstr(out, "  snapshot ");
		strbuf_add_escaped(out, snap);
		if (jv_get_str(v, "file", NULL)) {
			strbuf_addstr(out, " -> ");
			strbuf_add_escaped(out, jv_get_str(v, "file", ""));
		}
	}
	strbuf_addch(out, '\n');
}

static int take_sample(struct watch *w)
{
	struct session *s = w->c->s;
	struct liveset *ls = session_live(s); /* drained: every call made so far is in it */
	double now = mono_ms();
	int64_t rss = proc_rss(target_proc_pid(s->target));
	int64_t blocks = (int64_t)ls->blocks.n, bytes = (int64_t)ls->blocks.bytes, events = events_now(ls);
	double secs = (now - w->last_ms) / 1000;
	bool have = w->n > 0;
	w->n++;
	struct jv *v = jv_object();
	jv_set(v, "number", jv_int(w->n));
	jv_set(v, "seconds", jv_double((now - w->t0) / 1000));
	jv_set(v, "rss", rss >= 0 ? jv_int(rss) : jv_null());
	jv_set(v, "live_blocks", w->traced ? jv_int(blocks) : jv_null());
	jv_set(v, "live_bytes", w->traced ? jv_int(bytes) : jv_null());
	jv_set(v, "events_total", events >= 0 ? jv_int(events) : jv_null());
	jv_set(v, "rss_per_second", rate(have, rss, w->last_rss, secs));
	jv_set(v, "live_bytes_per_second", rate(have && w->traced, bytes, w->last_bytes, secs));
	jv_set(v, "events_per_second", rate(have, events, w->last_events, secs));
	w->last_ms = now, w->last_rss = rss, w->last_bytes = bytes, w->last_events = events;
	int r = maybe_snapshot(w, rss, bytes, v);
	cmd_emit_sample(w->c, v, watch_sample_text);
	return r;
}

static int cmd_watch_exec(struct cmd_ctx *c)
{
	const char *word = c->args->argv[0];
	double secs;
	int pr = cmd_parse_seconds(word, MAX_SECONDS, &secs);
	if (pr < 0 || secs < 0.01)
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "watch: INTERVAL expects seconds from 0.01 to %d, not '%s'",
				      MAX_SECONDS, word);
	long count = 0;
	if (cmd_optnum(c->args, "--count", 1, LONG_MAX, &count, &c->err) < 0)
		return -1;
	struct watch w = { .c = c, .dir = cmd_optval(c->args, "--out") };
	const char *th = cmd_optval(c->args, "--threshold");
	if (th && cmd_size("watch", "--threshold", th, 1, INT64_MAX, &w.threshold, &c->err) < 0)
		return -1;
	if (w.dir && !w.threshold)
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "watch: --out DIR keeps the snapshots --threshold SIZE takes; "
							   "give a threshold");
	struct stat st;
	if (w.dir && (stat(w.dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		return mlz_error_errno(&c->err, errno ? errno : ENOTDIR, "watch: cannot write snapshots into '%s'", w.dir);

	struct liveset *ls = session_live(c->s);
	struct source_info si;
	w.traced = liveset_source_info(ls, &si) && si.installed;
	w.names = jv_array();
	w.files = jv_array();
	w.t0 = w.last_ms = mono_ms();
	const char *ended = "count";
	int r = 0;
	double beat = 0; /* beats since the start: samples, and those a slow sample made us miss */
	for (;;) {
		double now = mono_ms();
		beat++;
		if (w.t0 + beat * secs * 1000 < now) /* a sample (a snapshot's walk) outlasted its beat: the next one */
			beat = ceil((now - w.t0) / (secs * 1000));
		double wait = w.t0 + beat * secs * 1000 - now; /* on a fixed beat: no drift */
		/* Served even with no time to wait: events, and Ctrl-C or SIGTERM, every round. */
		if (session_serve(c->s, wait >= 1 ? (int)ceil(wait) : 1, 0) < 0) {
			ended = "interrupted";
			break;
		}
		if (!target_runs(c->s->target)) {
			ended = "exited";
			break;
		}
		if ((r = take_sample(&w)) < 0)
			break;
		if (count && w.n >= count)
			break;
	}
	if (r < 0) {
		jv_free(w.names);
		jv_free(w.files);
		return -1;
	}
	struct jv *res = jv_object();
	jv_set(res, "samples", jv_int(w.n));
	jv_set(res, "seconds", jv_double((mono_ms() - w.t0) / 1000));
	jv_set(res, "ended", jv_string(ended));
	jv_set(res, "snapshots", w.names);
	jv_set(res, "files", w.files);
	c->result = res;
	return 0;
}

static void cmd_watch_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	const char *ended = jv_get_str(r, "ended", "");
	strbuf_addf(out, "watched %" PRId64 " samples in %.1f s (%s)", jv_get_int(r, "samples", 0),
		    jv_get(r, "seconds")->u.d,
		    !strcmp(ended, "count") ? "the count reached" : !strcmp(ended, "exited") ? "the process ended"
											    : "interrupted");
	size_t n = jv_len(jv_get(r, "snapshots")), nf = jv_len(jv_get(r, "files"));
	if (n)
		strbuf_addf(out, "; %zu snapshot%s taken", n, n == 1 ? "" : "s");
	if (nf)
		strbuf_addf(out, ", %zu saved", nf);
	strbuf_addch(out, '\n');
}

static const struct cmd_opt opts[] = {
	{ "--count", "N", "stop after N samples (default: until Ctrl-C or the process ends)" },
	{ "--threshold", "SIZE", "take a snapshot whenever RSS or the live bytes reach a multiple of SIZE they had not" },
	{ "--out", "DIR", "save each of those snapshots to DIR/NAME.snap (for load and mlyze open)" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_watch_entry = {
	.name = "watch",
	.usage = "watch INTERVAL [--count N] [--threshold SIZE] [--out DIR]",
	.summary = "a sample every INTERVAL seconds (RSS, live traced blocks and bytes, their rates) until Ctrl-C",
	.help = "Every INTERVAL seconds (a fraction allowed, on a fixed beat) prints one sample: the seconds since "
		"the watch began, the process's RSS (from /proc/PID/statm: constant time, however large the "
		"process), the traced live blocks and bytes, the allocator calls so far, and the rates of RSS, "
		"live bytes and calls per second since the previous sample; as one JSON line each with --json "
		"({\"command\": ..., \"sample\": {...}}), and a summary at the end. No heap walk, no stop: the "
		"process runs on. With --threshold SIZE, when RSS or the live bytes reach a multiple of SIZE "
		"that neither had reached since the watch began, mlyze takes a full snapshot (watch-1, watch-2, "
		"...; the process stops for its heap walk), at most one per sample; with --out DIR each is also "
		"saved there as NAME.snap. It ends after --count samples, at Ctrl-C or when the process ends. "
		"BCC memleak's 'memleak -p PID 5' and a psutil monitor, with snapshots to open later.",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_NEEDS_EVENTS,
	.exec = cmd_watch_exec,
	.text = cmd_watch_text,
};
