/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pb.h - a protocol buffers encoder: the few wire forms profile.proto needs, appended to a strbuf. */
#ifndef MLZ_PB_H
#define MLZ_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

/*
 * Usage:
 *	struct strbuf msg = STRBUF_INIT, sub = STRBUF_INIT;
 *	pb_uint64(&sub, 1, id);                  // field 1, varint
 *	pb_string(&sub, 2, "name");              // field 2, length-delimited
 *	pb_message(&msg, 3, &sub);               // sub as field 3 of msg (sub is emptied)
 *	pb_packed_int64(&msg, 4, values, n);     // repeated int64 [packed = true]
 * Fields are written in the order called, each with its tag, even when zero:
 * the caller leaves out what proto3 would (decoders accept both). Negative
 * int64s take ten bytes, as the encoding requires (no zigzag: that is sint64).
 */

enum pb_wire { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

/* The base-128 varint of v (1 to 10 bytes). */
void pb_varint(struct strbuf *b, uint64_t v);
/* A field's key: (field << 3) | wire type, as a varint. */
void pb_tag(struct strbuf *b, uint32_t field, enum pb_wire wire);
/* uint64, uint32, int64 and bool fields are all varints; an int64 goes through as its two's complement. */
void pb_uint64(struct strbuf *b, uint32_t field, uint64_t v);
void pb_int64(struct strbuf *b, uint32_t field, int64_t v);
void pb_bool(struct strbuf *b, uint32_t field, bool v);
/* A length-delimited field: bytes, a string, or an encoded message. */
void pb_bytes(struct strbuf *b, uint32_t field, const void *data, size_t len);
void pb_string(struct strbuf *b, uint32_t field, const char *s);
/* sub as an embedded message; sub is emptied (its memory kept) for the next one. */
void pb_message(struct strbuf *b, uint32_t field, struct strbuf *sub);
/* A packed repeated varint field (nothing at all when n is 0, as an empty repeated field is absent). */
void pb_packed_uint64(struct strbuf *b, uint32_t field, const uint64_t *v, size_t n);
void pb_packed_int64(struct strbuf *b, uint32_t field, const int64_t *v, size_t n);

#endif
