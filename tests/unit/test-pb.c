// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * test-pb.c - the protocol buffers encoder, byte for byte: varints at their
 * boundaries, negative int64s, keys, strings, embedded and packed fields.
 * Where it can, the expected bytes are the worked examples of the encoding
 * guide (protobuf.dev/programming-guides/encoding), not derived from pb.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pb.h"
#include "strbuf.h"

#define BYTES(...) ((const unsigned char[]){ __VA_ARGS__ }), sizeof((const unsigned char[]){ __VA_ARGS__ })

static void expect(struct strbuf *sb, const unsigned char *want, size_t n)
{
	assert_int_equal(sb->len, n);
	assert_memory_equal(sb->buf, want, n);
	sb->len = 0;
}

static void varints(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	pb_varint(&sb, 0);
	expect(&sb, BYTES(0x00));
	pb_varint(&sb, 1);
	expect(&sb, BYTES(0x01));
	pb_varint(&sb, 127); /* the largest one-byte varint */
	expect(&sb, BYTES(0x7f));
	pb_varint(&sb, 128); /* the smallest two-byte one */
	expect(&sb, BYTES(0x80, 0x01));
	pb_varint(&sb, 150); /* the guide's first example */
	expect(&sb, BYTES(0x96, 0x01));
	pb_varint(&sb, 16383);
	expect(&sb, BYTES(0xff, 0x7f));
	pb_varint(&sb, 16384);
	expect(&sb, BYTES(0x80, 0x80, 0x01));
	pb_varint(&sb, (uint64_t)1 << 63); /* the top bit alone: ten bytes */
	expect(&sb, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01));
	pb_varint(&sb, UINT64_MAX);
	expect(&sb, BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
	strbuf_release(&sb);
}

static void scalar_fields(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	pb_uint64(&sb, 1, 150); /* the guide: message Test1 { int32 a = 1; } with a = 150 */
	expect(&sb, BYTES(0x08, 0x96, 0x01));
	/* A negative int64 is its two's complement as a varint: always ten bytes (the guide's -2). */
	pb_int64(&sb, 1, -2);
	expect(&sb, BYTES(0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
	pb_int64(&sb, 2, -1);
	expect(&sb, BYTES(0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
	pb_int64(&sb, 2, INT64_MIN);
	expect(&sb, BYTES(0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01));
	pb_int64(&sb, 3, 0); /* written when asked: leaving defaults out is the caller's choice */
	expect(&sb, BYTES(0x18, 0x00));
	pb_bool(&sb, 7, true);
	expect(&sb, BYTES(0x38, 0x01));
	pb_bool(&sb, 10, false);
	expect(&sb, BYTES(0x50, 0x00));
	/* Field numbers from 16 take a two-byte key. */
	pb_uint64(&sb, 16, 1);
	expect(&sb, BYTES(0x80, 0x01, 0x01));
	pb_tag(&sb, 2, PB_LEN);
	expect(&sb, BYTES(0x12));
	strbuf_release(&sb);
}

static void length_delimited(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT, sub = STRBUF_INIT;
	pb_string(&sb, 2, "testing"); /* the guide: Test2 { string b = 2; } */
	expect(&sb, BYTES(0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67));
	pb_string(&sb, 6, ""); /* profile.proto's string_table[0] */
	expect(&sb, BYTES(0x32, 0x00));
	pb_bytes(&sb, 6, "\x00\xff", 2);
	expect(&sb, BYTES(0x32, 0x02, 0x00, 0xff));

	/* The guide: Test3 { Test1 c = 3; } with c.a = 150. */
	pb_uint64(&sub, 1, 150);
	pb_message(&sb, 3, &sub);
	expect(&sb, BYTES(0x1a, 0x03, 0x08, 0x96, 0x01));
	assert_int_equal(sub.len, 0); /* emptied for the next one */
	pb_message(&sb, 3, &sub);     /* an empty message: a key and a zero length */
	expect(&sb, BYTES(0x1a, 0x00));

	/* A length of 128 takes two bytes. */
	char big[128];
	memset(big, 'x', sizeof(big));
	pb_bytes(&sb, 1, big, sizeof(big));
	assert_int_equal(sb.len, 3 + 128);
	assert_memory_equal(sb.buf, ((const unsigned char[]){ 0x0a, 0x80, 0x01 }), 3);
	sb.len = 0;
	strbuf_release(&sb);
	strbuf_release(&sub);
}

static void packed(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	/* The guide: Test5 { repeated int32 f = 6 [packed=true]; } with 3, 270, 86942. */
	const uint64_t u[] = { 3, 270, 86942 };
	pb_packed_uint64(&sb, 6, u, 3);
	expect(&sb, BYTES(0x32, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05));
	/* Negative values inside: 10 bytes each, counted in the length. */
	const int64_t v[] = { 1, -1, 128 };
	pb_packed_int64(&sb, 2, v, 3);
	expect(&sb, BYTES(0x12, 0x0d, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x80, 0x01));
	/* An empty repeated field is absent. */
	pb_packed_uint64(&sb, 1, u, 0);
	pb_packed_int64(&sb, 2, v, 0);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(varints),
		cmocka_unit_test(scalar_fields),
		cmocka_unit_test(length_delimited),
		cmocka_unit_test(packed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
