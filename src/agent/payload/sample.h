/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sample.h - the agent's byte sampling: each thread's countdown, and the address set of recorded blocks. */
#ifndef MLZ_AGENT_SAMPLE_H
#define MLZ_AGENT_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent_abi.h"

/*
 * Whether an allocation of size bytes is recorded under ctl.sample == smp
 * (mean smp >> 8): always when size >= mean, else when it exhausts thread
 * s's countdown (probability 1 - exp(-size/mean)). s may be NULL (no slot
 * left): then only blocks of mean bytes or more are.
 */
bool sample_take(struct agent_ctl *c, struct agent_slot *s, uint64_t smp, uint64_t size);
/* Add addr to the address set; false when its buckets are full (counted in ctl.set_full). */
bool set_add(struct agent_ctl *c, uint64_t addr);
/* Remove addr from the address set; false when it was not there (a block not recorded). */
bool set_remove(struct agent_ctl *c, uint64_t addr);

#endif
