/* SPDX-License-Identifier: GPL-3.0-or-later */
/* export_internal.h - what the encoders of the export module share, not its users. */
#ifndef MLZ_EXPORT_INTERNAL_H
#define MLZ_EXPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export.h"

struct sym_pc;
struct sym_frame;

/* One record's figures: in the base (0 without one) and in the set. */
struct export_value {
	int64_t count_a, bytes_a, count_b, bytes_b;
};

/*
 * Records 0 .. export_nrecords(in) - 1: the stacks first, then the untraced
 * size classes when they count. export_value() fills *v and returns false for
 * a record with nothing in either set; *stack gets its stack id, or
 * EXPORT_UNTRACED with *cls its size class.
 */
#define EXPORT_UNTRACED UINT32_MAX
size_t export_nrecords(const struct export_set *in);
bool export_value(const struct export_set *in, size_t i, struct export_value *v, uint32_t *stack, unsigned *cls);

/*
 * A frame's name: its function, else "module+0xOFF" (the PC in its module),
 * else "0xPC". buf holds the last two; the result is buf or f->function.
 */
const char *export_frame_name(const struct sym_pc *r, const struct sym_frame *f, char *buf, size_t len);

int export_folded(const struct export_set *in, struct strbuf *out, size_t *records);
int export_pprof(const struct export_set *in, struct strbuf *out, size_t *records, struct mlz_err *err);
/* data as a gzip member (RFC 1952), appended to out. */
int gzip_encode(const void *data, size_t len, struct strbuf *out, struct mlz_err *err);

#endif
