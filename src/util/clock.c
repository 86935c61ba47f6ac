// SPDX-License-Identifier: GPL-3.0-or-later
/* clock.c - the monotonic clock in milliseconds. */
#include <time.h>

#include "clock.h"

double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
