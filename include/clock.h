/* SPDX-License-Identifier: GPL-3.0-or-later */
/* clock.h - the monotonic clock in milliseconds, for the durations commands report. */
#ifndef MLZ_CLOCK_H
#define MLZ_CLOCK_H

double mono_ms(void);

#endif
