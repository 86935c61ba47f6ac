/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * glibc_layout.h - offsets in glibc's malloc structures (2.35 to 2.40, x86-64), as
 * `ptype /o` shows them with libc6-dbg; a test compares them with the DWARF.
 */
#ifndef MLZ_GLIBC_LAYOUT_H
#define MLZ_GLIBC_LAYOUT_H

/* struct malloc_state */
#define MS_MUTEX 0x0
#define MS_FLAGS 0x4
#define MS_HAVE_FASTCHUNKS 0x8
#define MS_FASTBINS 0x10
#define NFASTBINS 10
#define MS_TOP 0x60
#define MS_LAST_REMAINDER 0x68
#define MS_BINS 0x70
#define NBINS 128
#define MS_BINMAP 0x860
#define MS_NEXT 0x870
#define MS_NEXT_FREE 0x878
#define MS_ATTACHED 0x880
#define MS_SYSTEM_MEM 0x888
#define MS_MAX_SYSTEM_MEM 0x890
#define MS_SIZE 0x898
#define NONCONTIGUOUS_BIT 2

/* struct malloc_par */
#define MP_TRIM_THRESHOLD 0
#define MP_TOP_PAD 8
#define MP_MMAP_THRESHOLD 16
#define MP_ARENA_TEST 24
#define MP_ARENA_MAX 32
#define MP_N_MMAPS 60
#define MP_N_MMAPS_MAX 64
#define MP_MAX_N_MMAPS 68
#define MP_NO_DYN_THRESHOLD 72
#define MP_MMAPPED_MEM 80
#define MP_MAX_MMAPPED_MEM 88
#define MP_SBRK_BASE 96
#define MP_TCACHE_BINS 104
#define MP_TCACHE_MAX_BYTES 112
#define MP_TCACHE_COUNT 120
#define MP_SIZE 136

/* struct _heap_info (2.35 added pagesize) */
#define HI_AR_PTR 0
#define HI_PREV 8
#define HI_SIZE 16
#define HI_SIZEOF 48
#define HEAP_MAX_SIZE (64ull << 20)

/* struct tcache_perthread_struct: uint16_t counts[64]; tcache_entry *entries[64]; */
#define TCACHE_BINS 64
#define TC_ENTRIES 128
#define TC_SIZE 640
#define TC_CHUNK 0x290

/* Chunks */
#define PREV_INUSE 1ull
#define IS_MMAPPED 2ull
#define NON_MAIN_ARENA 4ull
#define SIZE_BITS 7ull
#define MINSIZE 32ull
#define ALIGN_MASK 15ull
#define CHUNK_HDR 16ull
#define MAX_FAST_CHUNK 0xb0ull /* fastbin i holds chunks of 32 + 16 i bytes */

/* Safe-linking (2.32+): a stored next pointer is mangled with the address it is stored at. */
#define REVEAL_PTR(pos, ptr) ((((uint64_t)(pos)) >> 12) ^ (uint64_t)(ptr))

#endif
