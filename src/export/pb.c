// SPDX-License-Identifier: GPL-3.0-or-later
/* pb.c - the protocol buffers wire format: varints, keys, length-delimited and packed fields. */
#include <string.h>

#include "pb.h"
#include "strbuf.h"

void pb_varint(struct strbuf *b, uint64_t v)
{
	unsigned char buf[10];
	size_t n = 0;
	while (v >= 0x80) {
		buf[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	buf[n++] = (unsigned char)v;
	strbuf_add(b, buf, n);
}

void pb_tag(struct strbuf *b, uint32_t field, enum pb_wire wire)
{
	pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

void pb_uint64(struct strbuf *b, uint32_t field, uint64_t v)
{
	pb_tag(b, field, PB_VARINT);
	pb_varint(b, v);
}

void pb_int64(struct strbuf *b, uint32_t field, int64_t v)
{
	pb_uint64(b, field, (uint64_t)v);
}

void pb_bool(struct strbuf *b, uint32_t field, bool v)
{
	pb_uint64(b, field, v ? 1 : 0);
}

void pb_bytes(struct strbuf *b, uint32_t field, const void *data, size_t len)
{
	pb_tag(b, field, PB_LEN);
	pb_varint(b, len);
	if (len) /* an empty sub-message's buffer may be NULL, which memcpy must not get */
		strbuf_add(b, data, len);
}

void pb_string(struct strbuf *b, uint32_t field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

void pb_message(struct strbuf *b, uint32_t field, struct strbuf *sub)
{
	pb_bytes(b, field, sub->buf, sub->len);
	sub->len = 0;
}

/* The payload's length comes first, so the varints are measured before they are written. */
static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

void pb_packed_uint64(struct strbuf *b, uint32_t field, const uint64_t *v, size_t n)
{
	if (!n)
		return;
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += varint_len(v[i]);
	pb_tag(b, field, PB_LEN);
	pb_varint(b, len);
	for (size_t i = 0; i < n; i++)
		pb_varint(b, v[i]);
}

void pb_packed_int64(struct strbuf *b, uint32_t field, const int64_t *v, size_t n)
{
	if (!n)
		return;
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += varint_len((uint64_t)v[i]);
	pb_tag(b, field, PB_LEN);
	pb_varint(b, len);
	for (size_t i = 0; i < n; i++)
		pb_varint(b, (uint64_t)v[i]);
}
