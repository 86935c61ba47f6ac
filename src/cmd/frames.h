/* SPDX-License-Identifier: GPL-3.0-or-later */
/* frames.h - stack frames as JSON and as gdb-like text lines, shared by `bt` and `threads`. */
#ifndef MLZ_FRAMES_H
#define MLZ_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

struct jv;
struct strbuf;
struct sym;

/*
 * Append one JSON object per source frame of pcs[0..n) (inlined frames
 * expanded) to array frames; caller[i] marks return addresses (NULL: all but pcs[0]).
 */
void frames_to_jv(struct sym *sym, const uint64_t *pcs, const bool *caller, int n, struct jv *frames);
/* One frame object as text: "0x... function at file:line", as where_text_jv words the place. */
void frame_text(const struct jv *frame, struct strbuf *out);

#endif
