/* SPDX-License-Identifier: GPL-3.0-or-later */
/* clock.h - the monotonic clock: every duration, timeout and tick mlyze measures reads it here. */
#ifndef MLZ_CLOCK_H
#define MLZ_CLOCK_H

#include <stdint.h>

/* Milliseconds, fractional, for the durations commands report. */
double mono_ms(void);
/* Nanoseconds, whole, for timeouts and the tracer's own costs. */
int64_t mono_ns(void);

#endif
