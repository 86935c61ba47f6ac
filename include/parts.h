/* SPDX-License-Identifier: GPL-3.0-or-later */
/* parts.h - work cut in parts, run one per processor: the heap walk's and the graph's scan. */
#ifndef MLZ_PARTS_H
#define MLZ_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cancel.h"

/* The signals a fault raises: main.c's crash handler catches them, and a helper never blocks them. */
#define CRASH_SIGNALS SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS

#define PARTS_MAX 4
#define PARTS_MIN_BYTES (32ull << 20) /* below that a thread costs more than it saves */

/* How many parts for work over `bytes` of memory: one per processor the process may run on, up to PARTS_MAX. */
size_t parts_for(uint64_t bytes);

/*
 * fn(part) for each of the n parts (each `size` bytes, from `parts`): parts
 * 1.. on helper threads with every signal blocked but a fault's (signals
 * are the main thread's: only it may stop, restore or detach the process;
 * a fault in a helper is handed to it by the crash handler), part 0 on
 * this thread, then every helper joined; while one runs on, cancel is
 * asked every millisecond and *halt set when it says stop (both may be
 * NULL). A helper that cannot be started has its part run here. fn must
 * touch nothing another part touches.
 */
void parts_run(void (*fn)(void *part), void *parts, size_t size, size_t n, struct cancel *cancel, int *halt);

/*
 * Whether a part should end: the main thread's part asks its cancel (and, when
 * that says stop, sets *halt for the others); a helper's (cancel NULL) reads
 * *halt. Both may be NULL: never.
 */
static inline bool parts_stop(struct cancel *cancel, int *halt, uint32_t work)
{
	if (cancel) {
		if (!cancel_poll(cancel, work))
			return false;
		if (halt)
			__atomic_store_n(halt, 1, __ATOMIC_RELAXED);
		return true;
	}
	return halt && __atomic_load_n(halt, __ATOMIC_RELAXED);
}

#endif
