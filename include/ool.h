/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ool.h - running a displaced instruction out of line: decode (capstone) and relocate it. */
#ifndef MLZ_OOL_H
#define MLZ_OOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Bytes an out-of-line slot needs at most (a relocated jcc with two absolute jumps). */
#define OOL_SLOT 48

/*
 * Build in out[OOL_SLOT] the code that, placed at address `to`, has the effect
 * of the instruction at address `from` (whose bytes start code[0..avail)) and
 * then continues at the instruction after it. RIP-relative operands are
 * re-aimed (to must lie within 2 GiB of what they reach), relative jumps and
 * conditional jumps become absolute ones; calls, loops, int3 and syscall are refused.
 * Returns the length of the displaced instruction, or -1; *outlen gets the bytes used.
 */
int ool_build(const uint8_t *code, size_t avail, uint64_t from, uint64_t to, uint8_t *out, size_t *outlen,
	      struct mlz_err *err);

/*
 * The same for the whole instructions covering at least min bytes from
 * `from`: they run in sequence at `to`, then jump to the instruction after
 * them. Returns how many bytes they displace, or -1; *outlen gets the bytes of
 * out (at most outmax) used.
 */
int ool_build_run(const uint8_t *code, size_t avail, uint64_t from, uint64_t to, size_t min, uint8_t *out,
		  size_t outmax, size_t *outlen, struct mlz_err *err);

struct target;
/*
 * The first instruction of the code [lo, hi) in the target (decoded from its
 * start) that jumps or calls into (from, to): code that would land amid
 * instructions a patch replaces. 0 when none does.
 */
uint64_t ool_jumps_into(struct target *t, uint64_t lo, uint64_t hi, uint64_t from, uint64_t to);

#endif
