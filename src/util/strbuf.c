// SPDX-License-Identifier: GPL-3.0-or-later
/* strbuf.c - growable string buffer used by every text and JSON writer. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"

static void reserve(struct strbuf *sb, size_t extra)
{
	ALLOC_GROW(sb->buf, sb->len + extra + 1, sb->alloc);
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	reserve(sb, len);
	if (len) /* data may be NULL then: another strbuf that is still empty */
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s) { strbuf_add(sb, s, strlen(s)); }
void strbuf_addch(struct strbuf *sb, char c) { strbuf_add(sb, &c, 1); }

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	reserve(sb, 64);
	va_start(ap, fmt);
	int n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sb->alloc - sb->len) {
		reserve(sb, n);
		va_start(ap, fmt);
		vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
		va_end(ap);
	}
	sb->len += n;
}

const char *strbuf_str(const struct strbuf *sb) { return sb->buf ? sb->buf : ""; }

char *strbuf_detach(struct strbuf *sb)
{
	char *s = sb->buf ? sb->buf : xstrdup("");
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return s;
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

/*
 * The length of the well-formed UTF-8 sequence at p (RFC 3629's table: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0 when p starts
 * none. A truncated sequence is ill-formed: the NUL ending the string is no
 * continuation byte, so nothing past it is read.
 */
size_t utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
	size_t n;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0; /* a continuation byte, or a lead byte of an overlong or too large form */
	if (p[0] == 0xe0)
		lo = 0xa0; /* below: overlong */
	else if (p[0] == 0xed)
		hi = 0x9f; /* above: the surrogates U+D800..U+DFFF */
	else if (p[0] == 0xf0)
		lo = 0x90; /* below: overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f; /* above: beyond U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * Thread names, paths and symbols are the target's bytes: printed raw, an
 * escape sequence among them would drive the user's terminal (retitle it,
 * recolour it, move the cursor, or worse on some terminals).
 */
void strbuf_add_escaped(struct strbuf *sb, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_len(p);
		/* U+0080..U+009F, as C2 80..C2 9F: C1 controls (CSI is C2 9B) that some terminals obey */
		bool c1 = n == 2 && p[0] == 0xc2 && p[1] <= 0x9f;
		if (n > 1 && !c1) {
			strbuf_add(sb, p, n);
			p += n;
			continue;
		}
		if (c1)
			strbuf_addf(sb, "\\x%02x\\x%02x", p[0], p[1]);
		else if (*p == '\\')
			strbuf_addstr(sb, "\\\\");
		else if (*p == '\t')
			strbuf_addstr(sb, "\\t");
		else if (*p == '\n')
			strbuf_addstr(sb, "\\n");
		else if (*p == '\r')
			strbuf_addstr(sb, "\\r");
		else if (*p == 0x1b)
			strbuf_addstr(sb, "\\e");
		else if (*p < 0x20 || *p >= 0x7f)
			strbuf_addf(sb, "\\x%02x", *p); /* other controls, DEL, bytes of no well-formed sequence */
		else
			strbuf_addch(sb, (char)*p);
		p += c1 ? 2 : 1;
	}
}

const char *size_str(char buf[32], int64_t bytes, unsigned flags)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	const char *sign = bytes < 0 ? "-" : (flags & SIZE_SIGN) && bytes > 0 ? "+" : "";
	uint64_t mag = bytes < 0 ? -(uint64_t)bytes : (uint64_t)bytes;
	const char *est = flags & SIZE_ESTIMATE ? "~" : "";
	if ((flags & SIZE_EXACT) || mag < 1024) {
		snprintf(buf, 32, "%s%s%" PRIu64 "%s", est, sign, mag, flags & SIZE_EXACT ? "" : " B");
		return buf;
	}
	double v = (double)mag / 1024;
	int u = 0;
	uint64_t unit = 1024;
	while (v >= 1023.95 && u < 5) { /* what would print as 1024.0 moves up a unit */
		v /= 1024;
		unit <<= 10;
		u++;
	}
	if (mag % unit == 0) /* a whole number of units says so: "64 KiB"; "64.0 KiB" is rounded */
		snprintf(buf, 32, "%s%s%" PRIu64 " %s", est, sign, mag / unit, units[u]);
	else
		snprintf(buf, 32, v < 99.95 ? "%s%s%.1f %s" : "%s%s%.0f %s", est, sign, v, units[u]);
	return buf;
}

void strbuf_add_size(struct strbuf *sb, int64_t bytes, unsigned flags)
{
	char buf[32];
	strbuf_addstr(sb, size_str(buf, bytes, flags));
}
