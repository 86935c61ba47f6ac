// SPDX-License-Identifier: GPL-3.0-or-later
/* recorder.c - `mlyze record`: the live set's changes as they happen, with samples and checkpoints, into a recording. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "liveset.h"
#include "recfile.h"
#include "record.h"
#include "session.h"
#include "strbuf.h"
#include "sym.h"
#include "target.h"
#include "u64map.h"
#include "xalloc.h"

#define SAMPLE_MS 1000
#define CKPT_MS 10000
#define CKPT_EVENTS (1ull << 20)

struct recorder {
	struct recw w;
	struct liveset *ls;
	uint32_t *rec_of;      /* live stack id -> recorded id + 1; 0: not written since the id was made */
	size_t rec_alloc;
	bool failed;           /* a write failed: err says why, nothing more is written */
	struct mlz_err err;
	bool info_written;
	char *mods_text;       /* the module list last written, to write it again only when it changed */
	uint64_t ckpt_events;  /* events at the last checkpoint */
	double ckpt_ms;
	uint64_t ckpts;
	unsigned marks;        /* marks written: the next SIGUSR1's is usr1-(marks + 1) */
	enum rec_end why;
	/*
	 * The peak a replay of the file's events from its start finds, for the
	 * PEAK record: the live set's bytes after each ALLOC, less those of the
	 * blocks it held before the first event was written (the agent's first
	 * drain may come before the observer; no ALLOC in the file puts them
	 * there), which unseen maps address -> size (0: gone since).
	 */
	struct u64map unseen;
	uint64_t unseen_bytes;
	uint64_t peak_bytes, peak_event;
	uint32_t peak_tick;
};

struct recorder *recorder_new(const char *path, bool force, struct mlz_err *err)
{
	struct recorder *rc = xcalloc(1, sizeof(*rc));
	if (recw_open(&rc->w, path, force, err) < 0) {
		free(rc);
		return NULL;
	}
	return rc;
}

static void fail(struct recorder *rc, const struct mlz_err *e)
{
	if (!rc->failed)
		rc->err = *e;
	rc->failed = true;
}

/* The recorded id of live stack id, writing the stack first if it is new to the file. */
static uint32_t rec_stack(struct recorder *rc, uint32_t id)
{
	if (id >= rc->rec_alloc) {
		size_t old = rc->rec_alloc;
		ALLOC_GROW(rc->rec_of, (size_t)id + 1, rc->rec_alloc);
		memset(rc->rec_of + old, 0, (rc->rec_alloc - old) * sizeof(*rc->rec_of));
	}
	if (!rc->rec_of[id]) {
		int depth;
		const uint64_t *pcs = stacktab_pcs(&rc->ls->stacks, id, &depth);
		int tid = rc->ls->stacks.tids[rc->ls->stacks.recs[id].tidx];
		rc->rec_of[id] = recw_stack(&rc->w, tid, pcs, depth) + 1;
	}
	return rc->rec_of[id] - 1;
}

static void maybe_flush(struct recorder *rc)
{
	struct mlz_err e;
	if (!rc->failed && recw_due(&rc->w) && recw_flush(&rc->w, &e) < 0)
		fail(rc, &e);
}

static void on_stack(void *arg, uint32_t id)
{
	struct recorder *rc = arg;
	if (id < rc->rec_alloc)
		rc->rec_of[id] = 0; /* the id now names another stack */
}

/* A block the file never allocated is gone: freed, or replaced by one allocated at its address. */
static void unseen_gone(struct recorder *rc, uint64_t addr)
{
	uint64_t size;
	/* unseen_bytes, not the map's count: a gone block stays in it as a 0 */
	if (rc->unseen_bytes && u64map_get(&rc->unseen, addr, &size) && size) {
		rc->unseen_bytes -= size;
		u64map_put(&rc->unseen, addr, 0);
		if (!rc->unseen_bytes) /* every such block gone: a map of 0s, as large as the live set was, held no more */
			u64map_release(&rc->unseen);
	}
}

static void on_add(void *arg, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick)
{
	struct recorder *rc = arg;
	if (rc->failed)
		return;
	recw_alloc(&rc->w, addr, size, rec_stack(rc, stack), tick);
	unseen_gone(rc, addr);
	uint64_t bytes = rc->ls->blocks.bytes - rc->unseen_bytes;
	if (bytes > rc->peak_bytes) { /* the first event to reach it, as the replay keeps it */
		rc->peak_bytes = bytes;
		rc->peak_event = rc->w.events;
		rc->peak_tick = tick;
	}
	maybe_flush(rc);
}

static void on_remove(void *arg, uint64_t addr)
{
	struct recorder *rc = arg;
	if (rc->failed)
		return;
	recw_free(&rc->w, addr);
	unseen_gone(rc, addr);
	maybe_flush(rc);
}

static void on_forget(void *arg)
{
	struct recorder *rc = arg;
	if (rc->failed)
		return;
	recw_forget(&rc->w);
	u64map_release(&rc->unseen);
	rc->unseen_bytes = 0;
}

static const struct observer_ops observer = { on_stack, on_add, on_remove, on_forget };

struct mods {
	struct module_range *v;
	size_t n, alloc;
	struct strbuf text;
};

static void add_mod(void *arg, const struct sym_module *m)
{
	struct mods *ms = arg;
	if (m->path[0] != '/')
		return; /* the vDSO and the like: no file to read at open time */
	ALLOC_GROW(ms->v, ms->n + 1, ms->alloc);
	ms->v[ms->n] = (struct module_range){ .start = m->start, .end = m->end, .path = (char *)m->path };
	memcpy(ms->v[ms->n].build_id, m->build_id, sizeof(m->build_id));
	ms->n++;
	strbuf_addf(&ms->text, "%llx %llx %s %s\n", (unsigned long long)m->start, (unsigned long long)m->end, m->path,
		    m->build_id);
}

/* The modules, written when they changed since last time. */
static void write_modules(struct recorder *rc, struct session *s)
{
	struct mlz_err e;
	struct sym *sym = session_sym(s, &e);
	if (!sym)
		return; /* the process may be on its way out: the last list stands */
	struct mods ms = { .text = STRBUF_INIT };
	sym_each_module(sym, add_mod, &ms);
	if (!rc->mods_text || strcmp(rc->mods_text, strbuf_str(&ms.text))) {
		recw_maps(&rc->w, ms.v, ms.n);
		free(rc->mods_text);
		rc->mods_text = strbuf_detach(&ms.text);
	}
	strbuf_release(&ms.text);
	free(ms.v);
}

/* What the process is, once it is the program (in run mode, after its first exec). */
static void write_info(struct recorder *rc, struct session *s)
{
	struct target_facts f;
	struct source_info si;
	struct timespec now;
	target_facts(s->target, &f);
	liveset_source_info(rc->ls, &si);
	clock_gettime(CLOCK_REALTIME, &now);
	/* the wall clock at tick 0, when the live set started counting */
	uint64_t start = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec -
			 (uint64_t)liveset_tick_now(rc->ls) * CLOCK_TICK_MS * 1000000ull;
	recw_info(&rc->w, s->target->pid, f.name, f.exe ? f.exe : "", si.mode ? si.mode : "none", start);
	target_facts_release(&f);
	write_modules(rc, s);
	rc->info_written = true;
	struct mlz_err e;
	if (recw_flush(&rc->w, &e) < 0) /* a file that says what it is, from the start */
		fail(rc, &e);
}

static void sample(struct recorder *rc, struct session *s)
{
	struct target_facts f;
	struct source_info si;
	target_facts(s->target, &f);
	target_facts_release(&f);
	liveset_source_info(rc->ls, &si);
	recw_sample(&rc->w, liveset_tick_now(rc->ls), f.rss, rc->ls->blocks.bytes, rc->ls->blocks.n, si.lost);
}

/*
 * A mark at this point of the events, for SIGUSR1: what the agent's ring
 * held when the signal came was drained by the event loop before it
 * returned, so every allocation the process made before the signal is in.
 */
static void mark(struct recorder *rc, struct session *s)
{
	struct target_facts f;
	target_facts(s->target, &f);
	target_facts_release(&f);
	liveset_sync(rc->ls);
	char name[32];
	snprintf(name, sizeof(name), "usr1-%u", ++rc->marks);
	uint32_t tick = liveset_tick_now(rc->ls);
	recw_mark(&rc->w, tick, name, f.rss, rc->ls->blocks.bytes, rc->ls->blocks.n);
	char line[160];
	snprintf(line, sizeof(line), "mark '%s' at %.1f s: %zu blocks, %llu bytes live", name,
		 tick * (CLOCK_TICK_MS / 1000.0), rc->ls->blocks.n, (unsigned long long)rc->ls->blocks.bytes);
	s->notify(s, line);
}

static int cmp_addr(const void *a, const void *b)
{
	const struct block *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The whole live set, in address order, each block with its stack and the ticks since it was made. */
static void checkpoint(struct recorder *rc)
{
	struct liveset *ls = rc->ls;
	struct mlz_err e;
	uint32_t now = liveset_tick_now(ls);
	struct block *v = xmalloc((ls->blocks.n + 1) * sizeof(*v));
	size_t n = 0;
	BLOCKTAB_FOREACH(&ls->blocks, b)
		v[n++] = *b;
	qsort(v, n, sizeof(*v), cmp_addr);
	if (recw_ckpt_begin(&rc->w, now, n, &e) < 0) {
		fail(rc, &e);
		free(v);
		return;
	}
	for (size_t i = 0; i < n && !rc->failed; i++) {
		uint32_t made = clockidx_tick(&ls->clock, block_seq(&v[i]));
		recw_ckpt_block(&rc->w, v[i].addr, v[i].size, rec_stack(rc, v[i].stack), made <= now ? now - made : 0);
		maybe_flush(rc);
	}
	free(v);
	recw_ckpt_end(&rc->w);
	rc->ckpt_events = rc->w.events;
	rc->ckpt_ms = mono_ms();
	rc->ckpts++;
}

int recorder_run(struct recorder *rc, struct session *s, const struct record_opts *o, struct mlz_err *err)
{
	struct mlz_err e;
	double seconds = o->seconds, ckpt_seconds = o->ckpt_seconds;
	rc->ls = &s->live;
	if (o->max_depth > 0)
		rc->ls->max_depth = o->max_depth; /* the agent takes it at its next drain; deeper stacks are cut */
	if (session_catch_usr1(s, err) < 0) /* main.c did already, before it printed that recording began */
		return -1;
	liveset_sync(rc->ls);
	BLOCKTAB_FOREACH(&rc->ls->blocks, b)
		u64map_put(&rc->unseen, b->addr, b->size);
	rc->unseen_bytes = rc->ls->blocks.bytes;
	liveset_observe(rc->ls, &observer, rc);
	double t0 = mono_ms(), next = t0 + SAMPLE_MS;
	double end = seconds > 0 ? t0 + seconds * 1000 : -1;
	double ckpt_every = ckpt_seconds > 0 ? ckpt_seconds * 1000 : CKPT_MS;
	rc->ckpt_ms = t0;
	rc->why = REC_END_EXITED;
	for (;;) {
		if (!rc->info_written && !s->target->launching)
			write_info(rc, s);
		if (!target_runs(s->target)) {
			rc->why = s->target->state == TARGET_DETACHED ? REC_END_DETACHED : REC_END_EXITED;
			break;
		}
		double now = mono_ms();
		double until = end >= 0 && end < next ? end : next;
		int r = session_serve(s, until > now ? (int)(until - now) + 1 : 0, SERVE_UNTIL_GONE | SERVE_USR1);
		liveset_sync(rc->ls);
		for (; s->usr1 && !rc->failed; s->usr1--)
			mark(rc, s);
		if (r < 0) {
			rc->why = REC_END_SIGNAL;
			break;
		}
		if (rc->failed) {
			rc->why = REC_END_ERROR;
			break;
		}
		now = mono_ms();
		if (now >= next && rc->info_written) {
			sample(rc, s);
			write_modules(rc, s);
			if (recw_flush(&rc->w, &e) < 0)
				fail(rc, &e);
			next += SAMPLE_MS * (1 + (int)((now - next) / SAMPLE_MS));
		}
		if (rc->info_written &&
		    (rc->w.events - rc->ckpt_events >= CKPT_EVENTS || (now - rc->ckpt_ms >= ckpt_every && rc->w.events != rc->ckpt_events)))
			checkpoint(rc);
		if (end >= 0 && now >= end) {
			rc->why = REC_END_DURATION;
			break;
		}
	}
	liveset_sync(rc->ls);
	liveset_observe(rc->ls, NULL, NULL);
	if (!rc->failed) {
		struct source_info si;
		liveset_source_info(rc->ls, &si);
		if (!rc->info_written)
			write_info(rc, s);
		sample(rc, s);
		recw_peak(&rc->w, rc->peak_bytes, rc->peak_event, rc->peak_tick);
		int status = s->target->state == TARGET_EXITED || s->target->state == TARGET_HELD ? s->target->exit_status : 0;
		recw_end(&rc->w, liveset_tick_now(rc->ls), rc->why, status, si.lost);
	}
	if (recw_close(&rc->w, &e) < 0)
		fail(rc, &e);
	if (rc->failed) {
		*err = rc->err;
		return -1;
	}
	return 0;
}

void recorder_summary(const struct recorder *rc, char *buf, size_t len)
{
	static const char *const why[] = { "its duration ended", "a signal ended it", "the process ended",
					   "a write failed", "the process was detached" };
	snprintf(buf, len, "recorded %llu events, %llu stacks and %llu checkpoints in %llu bytes (%llu chunks): %s",
		 (unsigned long long)rc->w.events, (unsigned long long)rc->w.nstacks, (unsigned long long)rc->ckpts,
		 (unsigned long long)rc->w.written, (unsigned long long)rc->w.chunks, why[rc->why]);
}

void recorder_free(struct recorder *rc)
{
	if (!rc)
		return;
	if (rc->w.fd >= 0) {
		struct mlz_err e;
		recw_close(&rc->w, &e);
	}
	free(rc->rec_of);
	free(rc->mods_text);
	u64map_release(&rc->unseen);
	free(rc);
}
