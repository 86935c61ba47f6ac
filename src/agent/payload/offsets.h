/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * offsets.h - where thunk.S finds what its short way reads: offsets into
 * struct agent_ctl and struct agent_slot (agent_abi.h), and the constants it
 * repeats. Plain numbers, so that assembly can include it; agent.c asserts
 * every one against the structures, so the two cannot drift apart.
 */
#ifndef MLZ_AGENT_OFFSETS_H
#define MLZ_AGENT_OFFSETS_H

#define CTL_ORIG 16
#define CTL_KIND 272
#define CTL_SAMPLE 456
#define CTL_SET 472
#define CTL_SET_MASK 480
#define CTL_SET_HINT 496
#define CTL_HINT_MASK 504
#define CTL_FAST_HOOK 453
#define CTL_SLOTS 768

#define SLOT_KEY 0
#define SLOT_COUNTDOWN 24
#define SLOT_UNSAMPLED 48
#define SLOT_SHORT_WAY 56
#define SLOT_SHIFT 6 /* sizeof(struct agent_slot) == 1 << SLOT_SHIFT */
#define SLOTS_LOG2 10 /* AGENT_SLOTS == 1 << SLOTS_LOG2 */

#define SET_HASH_MUL 0x9e3779b97f4a7c15 /* agent_set_hash's multiplier, and slot_hash's */
#define SET_BUCKET_SHIFT 6 /* AGENT_SET_WAYS words of 8 bytes: a bucket is 1 << SET_BUCKET_SHIFT bytes */

#define THUNK_MALLOC_OFF 0x300 /* agent_thunk_malloc, AGENT_THUNK_MALLOC_OFF */
#define THUNK_FREE_OFF 0x480   /* agent_thunk_free, AGENT_THUNK_FREE_OFF */
#define THUNK_REALLOC_OFF 0x600 /* agent_thunk_realloc, AGENT_THUNK_REALLOC_OFF */
#define THUNK_TAIL_OFF 0x100   /* AGENT_THUNK_TAIL_OFF */
#define THUNK_TAIL_SIZE 0x80   /* AGENT_TAIL_SIZE */

#endif
