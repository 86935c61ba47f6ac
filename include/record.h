/* SPDX-License-Identifier: GPL-3.0-or-later */
/* record.h - `mlyze record` (a process's events into a recording) and `mlyze open` (a recording as the session's data). */
#ifndef MLZ_RECORD_H
#define MLZ_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct session;
struct recorder;
struct jv;

/*
 * Usage (main.c):
 *	struct recorder *rc = recorder_new(path, false, &err);   // the file, before anything touches the process
 *	... attach or launch, session_start_tracing ...
 *	recorder_run(rc, &s, &(struct record_opts){ seconds }, &err); // until then, a signal or the process's end
 *	recorder_summary(rc, buf, len); recorder_free(rc);   // then detach as always
 *
 *	if (record_is_recording(path)) record_open(&s, path, &err);  // s.target and the live set at the end
 *	record_measure(&s, &err);                          // before reading the peak or the phases
 *	... commands ...
 *	record_close(&s);                                  // before session_release
 */

/* Create the recording at path (replace one only with force); NULL with err when it cannot be written. */
struct recorder *recorder_new(const char *path, bool force, struct mlz_err *err);
struct record_opts {
	double seconds;       /* how long to record; 0: until the process ends or a signal */
	double ckpt_seconds;  /* between checkpoints; 0: 10 */
	int max_depth;        /* frames per stack at most; 0: the live set's default */
};
/*
 * Record every allocation and free of s's traced process, its new stacks and
 * modules, a sample a second and a checkpoint every o->ckpt_seconds or
 * 2^20 events, for o->seconds, until SIGINT, SIGTERM, SIGHUP or SIGQUIT, or until
 * the process ends; then the file is closed. Each SIGUSR1 writes a mark
 * (usr1-1, usr1-2, ...) where the events stand, said through s->notify.
 * -1 when the recording stopped early on a write error (a full disk): the
 * file holds what was written, and the caller detaches as always. The process
 * is never stopped by it.
 */
int recorder_run(struct recorder *rc, struct session *s, const struct record_opts *o, struct mlz_err *err);
/* One line: events, stacks, bytes, chunks, how it ended. */
void recorder_summary(const struct recorder *rc, char *buf, size_t len);
void recorder_free(struct recorder *rc);

/* path starts with a recording's magic (an unreadable file: false). */
bool record_is_recording(const char *path);
/*
 * Open the recording at path as s's target (no memory, threads or
 * registers), its stacks in s's live set, the live set rebuilt at the
 * recording's end from its last checkpoint. Symbols come from the modules'
 * files as they are now. The phases are not measured yet, nor the peak
 * unless the file holds it (its PEAK record).
 */
int record_open(struct session *s, const char *path, struct mlz_err *err);
/*
 * Measure the recording's peak and phases (the live set's peak and phases,
 * and info's peak when the file has none) by replaying it whole, once: later calls, and calls on a
 * session that is no recording, return 0 at once. The live set stands at the
 * end afterwards. -1 with err if a chunk does not decode (open decoded them).
 */
int record_measure(struct session *s, struct mlz_err *err);
void record_close(struct session *s);
/*
 * Rebuild the live set at `at` from the nearest checkpoint before it: seconds
 * since the start ("12.5"), "end", "peak" or a mark's name (the events before
 * it). *tick and *events say where it stands; *rss is the RSS a mark recorded,
 * -1 for the others. -1 with err (a usage error for a bad time) on anything else.
 */
int record_rebuild(struct session *s, const char *at, uint32_t *tick, uint64_t *events, int64_t *rss,
		   struct mlz_err *err);
/* What `info` shows of the recording, NULL when s has none. */
struct jv *record_info_jv(struct session *s);

#endif
