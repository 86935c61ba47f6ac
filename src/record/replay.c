// SPDX-License-Identifier: GPL-3.0-or-later
/* replay.c - `mlyze open` on a recording: its stacks in the live set, and the live set rebuilt at any moment. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jv.h"
#include "liveset.h"
#include "recfile.h"
#include "record.h"
#include "session.h"
#include "target.h"
#include "timeline.h"
#include "xalloc.h"

struct replay {
	struct recording r;
	uint32_t *live_of;     /* recorded stack id -> the live set's */
	uint64_t peak_bytes, peak_event; /* the highest live bytes, reached at event peak_event (1-based) */
	uint32_t peak_tick;
	uint64_t events;       /* replay: events applied so far (from the start of the file) */
	bool track_peak;
	bool measured;         /* replayed whole once: the peak and the phases are known */
	bool peak_known;       /* peak_* hold the peak: measured, or read from the file's PEAK record */
	struct liveset *ls;
};

bool record_is_recording(const char *path)
{
	char head[REC_MAGIC_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, head, sizeof(head));
	close(fd);
	return n == (ssize_t)sizeof(head) && recording_magic(head, sizeof(head));
}

static void v_alloc(void *arg, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick)
{
	struct replay *rp = arg;
	liveset_add(rp->ls, addr, size, rp->live_of[stack], tick, 0); /* a recording holds every call */
	rp->events++;
	if (rp->track_peak && rp->ls->blocks.bytes > rp->peak_bytes) {
		rp->peak_bytes = rp->ls->blocks.bytes;
		rp->peak_event = rp->events;
		rp->peak_tick = tick;
	}
}

static void v_free(void *arg, uint64_t addr, uint32_t tick)
{
	(void)tick;
	struct replay *rp = arg;
	liveset_remove(rp->ls, addr);
	rp->events++;
}

static void v_forget(void *arg)
{
	struct replay *rp = arg;
	liveset_sync_peak(rp->ls); /* the peak's copy, if it is now, before the blocks go */
	liveset_forget_blocks(rp->ls);
}

static void v_ckpt_block(void *arg, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick)
{
	struct replay *rp = arg;
	liveset_add(rp->ls, addr, size, rp->live_of[stack], tick, 0); /* a recording holds every call */
}

/* The whole replay (record_measure): a mark starts a phase there, at its own time, as `mark` does live. */
static void v_mark(void *arg, size_t index, uint32_t tick)
{
	struct replay *rp = arg;
	uint32_t end = rp->ls->stopped_tick;
	liveset_stop_clock(rp->ls, tick);
	liveset_mark(rp->ls, rp->r.marks[index].name);
	liveset_stop_clock(rp->ls, end);
}

/* Replay from the start (chunk 0, no checkpoint) or from checkpoint k, to event upto or tick until. */
static int rebuild(struct replay *rp, const struct rec_ckpt *k, uint64_t upto, uint32_t until, struct cancel *cancel,
		   struct mlz_err *err)
{
	struct rec_visit v = { rp, v_alloc, v_free, v_forget, v_forget, v_ckpt_block, rp->track_peak ? v_mark : NULL,
			       cancel };
	v_forget(rp);
	rp->events = k ? k->event : 0;
	return recording_replay(&rp->r, k ? k->chunk : 0, k != NULL, upto, until, &v, err);
}

/* The recording's marks and samples as the session's, for `timeline` and the exports. */
static void add_moments(struct session *s, const struct recording *r)
{
	for (size_t i = 0; i < r->nmarks; i++) {
		const struct rec_mark *k = &r->marks[i];
		struct mark m = { .name = xstrdup(k->name), .tick = k->tick, .rss = k->rss, .blocks = k->blocks,
				  .bytes = k->bytes, .traced_bytes = k->bytes };
		marks_push(&s->marks, &m);
	}
	for (size_t i = 0; i < r->nsamples; i++) {
		const struct rec_sample *k = &r->samples[i];
		struct mark m = { .name = xstrdup("sample"), .tick = k->tick, .rss = k->rss, .blocks = k->blocks,
				  .bytes = k->bytes, .traced_bytes = k->bytes };
		marks_push(&s->samples, &m);
	}
}

int record_open(struct session *s, const char *path, struct mlz_err *err)
{
	struct replay *rp = xcalloc(1, sizeof(*rp));
	if (recording_read_file(&rp->r, path, err) < 0) {
		free(rp);
		return -1;
	}
	struct recording *r = &rp->r;
	struct recording_facts f = { r->pid, r->name, r->exe, path, r->mods, r->nmods };
	s->target = target_open_recording(&f, err);
	s->rec = rp;
	if (session_start_tracing(s, false, err) < 0)
		return -1;
	rp->ls = &s->live;
	/* Every recorded stack stays: a sweep would release those no live block holds now. */
	rp->ls->sweep_after = UINT64_MAX;
	rp->ls->mem_limit = 0;
	rp->live_of = xmalloc((r->nstacks + 1) * sizeof(*rp->live_of));
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct rec_stack *st = &r->stacks[i];
		uint16_t tidx = liveset_thread(rp->ls, st->tid);
		rp->live_of[i] = liveset_stack(rp->ls, tidx, r->pcs + st->off, (int)st->depth);
	}
	liveset_stop_clock(rp->ls, r->last_tick);
	add_moments(s, r);
	if (r->has_peak) { /* what a replay from the start would find, said by the recorder */
		rp->peak_bytes = r->peak_bytes;
		rp->peak_event = r->peak_event;
		rp->peak_tick = r->peak_tick;
		rp->peak_known = true;
	}
	/*
	 * The end from the last checkpoint, not the whole file: the phases, and a
	 * peak the file does not hold, wait for record_measure until asked for.
	 */
	uint32_t tick;
	uint64_t events;
	int64_t rss;
	return record_rebuild(s, "end", &tick, &events, &rss, err);
}

int record_measure(struct session *s, struct mlz_err *err)
{
	struct replay *rp = s->rec;
	if (!rp || rp->measured)
		return 0;
	/* what partial replays left in the peak and the phase 'attach' is not the recording's */
	v_forget(rp);
	liveset_restart_history(rp->ls, 0);
	rp->peak_bytes = rp->peak_event = 0;
	rp->peak_tick = 0;
	rp->track_peak = true;
	int ret = rebuild(rp, NULL, UINT64_MAX, UINT32_MAX, session_cancel(s), err);
	rp->track_peak = false;
	if (ret < 0) {
		/* Interrupted (or damaged): back to what open left, the end from the last checkpoint. */
		v_forget(rp);
		liveset_restart_history(rp->ls, 0);
		rp->peak_known = rp->r.has_peak;
		rp->peak_bytes = rp->r.peak_bytes, rp->peak_event = rp->r.peak_event, rp->peak_tick = rp->r.peak_tick;
		const struct rec_ckpt *k = rp->r.nckpts ? &rp->r.ckpts[rp->r.nckpts - 1] : NULL;
		struct mlz_err ignored;
		rebuild(rp, k, rp->r.events, UINT32_MAX, NULL, &ignored);
		return -1;
	}
	rp->ls->peak_tick = rp->peak_tick;
	rp->measured = rp->peak_known = true;
	return 0;
}

void record_close(struct session *s)
{
	struct replay *rp = s->rec;
	if (!rp)
		return;
	recording_release(&rp->r);
	free(rp->live_of);
	free(rp);
	s->rec = NULL;
}

/* The mark called name; the first of several so called (SIGUSR1's names do not repeat). */
static const struct rec_mark *find_mark(const struct recording *r, const char *name)
{
	for (size_t i = 0; i < r->nmarks; i++)
		if (!strcmp(r->marks[i].name, name))
			return &r->marks[i];
	return NULL;
}

int record_rebuild(struct session *s, const char *at, uint32_t *tick, uint64_t *events, int64_t *rss,
		   struct mlz_err *err)
{
	struct replay *rp = s->rec;
	if (!rp)
		return mlz_error_kind(err, MLZ_E_USAGE, "--at needs a recording (mlyze open FILE)");
	const struct recording *r = &rp->r;
	const struct rec_mark *m;
	uint64_t upto = UINT64_MAX;
	uint32_t until = UINT32_MAX;
	*rss = -1;
	if (!strcmp(at, "end")) {
		upto = r->events;
		*tick = r->last_tick;
	} else if (!strcmp(at, "peak")) {
		if (!rp->peak_known && record_measure(s, err) < 0)
			return -1;
		upto = rp->peak_event;
		*tick = rp->peak_tick;
	} else if ((m = find_mark(r, at))) {
		upto = m->event;
		*tick = m->tick;
		*rss = m->rss;
	} else {
		char *end;
		double sec = strtod(at, &end);
		if (end == at || *end || !(sec >= 0) || sec > 1e8)
			return mlz_error_kind(err, MLZ_E_USAGE,
					      "--at: '%s' is not a time (seconds from the start), 'end', 'peak' or a mark", at);
		until = (uint32_t)(sec * 1000 / CLOCK_TICK_MS + 1e-9);
		*tick = until < r->last_tick ? until : r->last_tick; /* past the end is the end */
	}
	/* The last checkpoint at or before the moment; without one, the start. */
	const struct rec_ckpt *k = NULL;
	for (size_t i = 0; i < r->nckpts; i++)
		if (r->ckpts[i].event <= upto && r->ckpts[i].tick <= until)
			k = &r->ckpts[i];
	/* the phases were measured once, over the whole recording: a partial replay must not move their peaks */
	struct liveset *ls = rp->ls;
	uint64_t *peaks = xmalloc((ls->nphases + 1) * sizeof(*peaks));
	for (size_t i = 0; i < ls->nphases; i++)
		peaks[i] = ls->phases[i].peak_bytes;
	int ret = rebuild(rp, k, upto, until, NULL, err);
	for (size_t i = 0; i < ls->nphases; i++)
		ls->phases[i].peak_bytes = peaks[i];
	free(peaks);
	if (ret < 0)
		return -1;
	*events = rp->events;
	return 0;
}

struct jv *record_info_jv(struct session *s)
{
	static const char *const why[] = { "its duration ended", "a signal ended it", "the process ended",
					   "a write failed (full disk?)", "the process was detached" };
	struct replay *rp = s->rec;
	if (!rp)
		return NULL;
	const struct recording *r = &rp->r;
	struct jv *o = jv_object();
	jv_set(o, "pid", jv_int(r->pid));
	jv_set(o, "name", jv_string(r->name));
	jv_set(o, "exe", jv_string(r->exe));
	jv_set(o, "traced_by", jv_string(r->mode));
	char when[64] = "";
	time_t sec = (time_t)(r->start_ns / 1000000000ull);
	struct tm tm;
	if (gmtime_r(&sec, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jv_set(o, "started", jv_string(when));
	jv_set(o, "seconds", jv_double(r->last_tick * (CLOCK_TICK_MS / 1000.0)));
	jv_set(o, "events", jv_int((int64_t)r->events));
	jv_set(o, "sampled", jv_bool(false)); /* record refuses --sample: a recording holds every call */
	jv_set(o, "alloc_events", jv_int((int64_t)r->allocs));
	jv_set(o, "free_events", jv_int((int64_t)r->frees));
	jv_set(o, "stacks", jv_int((int64_t)r->nstacks));
	jv_set(o, "modules", jv_int((int64_t)r->nmods));
	jv_set(o, "samples", jv_int((int64_t)r->nsamples));
	jv_set(o, "checkpoints", jv_int((int64_t)r->nckpts));
	jv_set(o, "marks", jv_int((int64_t)r->nmarks));
	jv_set(o, "lost", jv_int((int64_t)r->lost));
	/* unknown (a file before version 3, or cut off before its end) until measured: info never replays */
	jv_set(o, "peak_bytes", rp->peak_known ? jv_int((int64_t)rp->peak_bytes) : jv_null());
	jv_set(o, "peak_seconds", rp->peak_known ? jv_double(rp->peak_tick * (CLOCK_TICK_MS / 1000.0)) : jv_null());
	jv_set(o, "file_bytes", jv_int((int64_t)r->len));
	jv_set(o, "read_bytes", jv_int((int64_t)r->good));
	jv_set(o, "chunks", jv_int((int64_t)r->nchunks));
	jv_set(o, "complete", jv_bool(r->ended && !r->note[0]));
	jv_set(o, "ended", r->ended && r->end_why >= 0 && r->end_why <= REC_END_DETACHED ? jv_string(why[r->end_why])
									      : jv_null());
	jv_set(o, "cut_short", r->note[0] ? jv_string(r->note) : jv_null());
	return o;
}
