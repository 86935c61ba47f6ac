// SPDX-License-Identifier: GPL-3.0-or-later
/* parts.c - work cut in parts, one per processor, helper threads for all but the first. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include "parts.h"

size_t parts_for(uint64_t bytes)
{
	cpu_set_t cpus;
	if (bytes < PARTS_MIN_BYTES || sched_getaffinity(0, sizeof(cpus), &cpus) != 0)
		return 1;
	size_t n = (size_t)CPU_COUNT(&cpus);
	return n < 1 ? 1 : n > PARTS_MAX ? PARTS_MAX : n;
}

struct helper {
	void (*fn)(void *part);
	void *part;
};

static void *run_helper(void *arg)
{
	struct helper *h = arg;
	/*
	 * A stack of its own for main.c's crash handler, as the main thread has:
	 * a helper that overflows its stack must still have the target restored.
	 * At the top of the thread's stack, which an overflow reaches last.
	 */
	char alt[64 * 1024];
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt) }, off = { .ss_flags = SS_DISABLE };
	sigaltstack(&ss, NULL);
	h->fn(h->part);
	sigaltstack(&off, NULL);
	return NULL;
}

void parts_run(void (*fn)(void *part), void *parts, size_t size, size_t n, struct cancel *cancel, int *halt)
{
	pthread_t tid[PARTS_MAX];
	struct helper h[PARTS_MAX];
	bool started[PARTS_MAX] = { false };
	/*
	 * Every signal blocked in the helpers but the ones a fault raises (main.c's
	 * crash handler's): the kernel kills the whole process at once, no
	 * handler run, when a fault's signal is blocked, and then nothing would
	 * restore the target.
	 */
	static const int faults[] = { CRASH_SIGNALS };
	sigset_t all, old;
	sigfillset(&all);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&all, faults[i]);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t k = 1; k < n && k < PARTS_MAX; k++) {
		h[k] = (struct helper){ fn, (char *)parts + k * size };
		started[k] = pthread_create(&tid[k], NULL, run_helper, &h[k]) == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	fn(parts);
	for (size_t k = 1; k < n && k < PARTS_MAX; k++) {
		if (!started[k]) {
			fn((char *)parts + k * size);
			continue;
		}
		/* joined within a cancel period at a time, cancel asked between (it reads the clock itself) */
		for (;;) {
			struct timespec at;
			clock_gettime(CLOCK_MONOTONIC, &at);
			at.tv_nsec += CANCEL_PERIOD_NS;
			if (at.tv_nsec >= 1000000000) {
				at.tv_sec++;
				at.tv_nsec -= 1000000000;
			}
			if (pthread_clockjoin_np(tid[k], NULL, CLOCK_MONOTONIC, &at) != ETIMEDOUT)
				break;
			parts_stop(cancel, halt, CANCEL_BATCH);
		}
	}
}
