/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cancel.h - how a long loop below the session learns that the user wants it ended (Ctrl-C, SIGTERM). */
#ifndef MLZ_CANCEL_H
#define MLZ_CANCEL_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/*
 * Usage:
 *	struct cancel c = { check, arg };        // the owner's question; a NULL struct cancel * never stops
 *	for (...) {
 *		if (cancel_poll(&c, 1))          // 1 unit of work: a block, a chunk
 *			return cancel_error(err);
 *		...
 *	}
 * Signals reach mlyze through the session's signalfd, which the heap walker
 * and the graph cannot see; they ask check instead, which the session answers
 * by looking for a pending SIGINT or SIGTERM without waiting. cancel_poll is
 * cheap enough for every block: it adds up work, reads the clock once per
 * CANCEL_BATCH units and calls check at most every CANCEL_PERIOD_NS, so a loop
 * ends well within 100 ms of the signal. Once check says stop, every later
 * poll says so too, and the callers up the stack end as well.
 */
struct cancel {
	bool (*check)(void *arg); /* true: end the work now (may make a system call) */
	void *arg;
	uint32_t work;            /* units of work since the clock was last read */
	int64_t due_ns;           /* when check is asked next (monotonic) */
	bool stop;                /* check said so */
};

#define CANCEL_BATCH 1024u
#define CANCEL_PERIOD_NS (20 * 1000000)

bool cancel_poll_slow(struct cancel *c);

/* Whether to end the work, after `work` more units of it (a unit: about a block's worth). */
static inline bool cancel_poll(struct cancel *c, uint32_t work)
{
	if (!c)
		return false;
	if (c->stop)
		return true;
	c->work += work;
	return c->work >= CANCEL_BATCH && cancel_poll_slow(c);
}

/* Whether the work was ended (NULL: never). */
static inline bool cancelled(const struct cancel *c)
{
	return c && c->stop;
}

/* The error a cancelled piece of work returns: kind MLZ_E_INTERRUPTED, "interrupted". Returns -1. */
int cancel_error(struct mlz_err *err);

#endif
