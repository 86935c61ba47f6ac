/* SPDX-License-Identifier: GPL-3.0-or-later */
/* strbuf.h - a growable NUL-terminated byte buffer (git's strbuf, reduced). */
#ifndef MLZ_STRBUF_H
#define MLZ_STRBUF_H

#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *buf; /* always NUL-terminated once anything was added */
	size_t len;
	size_t alloc;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Append s escaped for a terminal, the one rule of all text output: a
 * backslash becomes \\; tab, newline, carriage return and ESC become \t,
 * \n, \r and \e; every other byte below 0x20, DEL (0x7f), each byte of a
 * C1 control (U+0080..U+009F) and each byte that is not part of well-formed
 * UTF-8 becomes \xNN (two lowercase hex digits). Well-formed UTF-8 text
 * otherwise stays as it is.
 */
void strbuf_add_escaped(struct strbuf *sb, const char *s);
/* The length of the well-formed UTF-8 sequence at p, or 0 when none starts there. */
size_t utf8_len(const unsigned char *p);
/* The buffer's text, "" when empty; owned by sb. */
const char *strbuf_str(const struct strbuf *sb);
/*
 * A size for people to read: "512 B", "1.5 KiB", "120 MiB" (binary units,
 * rounded to three digits at most; a whole number of units without a
 * decimal, "64 KiB"), or with exact the byte count itself.
 * sign puts '+' before a positive figure (a difference).
 */
#define SIZE_EXACT 1u
#define SIZE_SIGN 2u
#define SIZE_ESTIMATE 4u /* an estimate (byte sampling): "~" before it */
void strbuf_add_size(struct strbuf *sb, int64_t bytes, unsigned flags);
/* The same as a string of at most 31 characters in buf, for a column of width n. */
const char *size_str(char buf[32], int64_t bytes, unsigned flags);

/* Hand the buffer to the caller (who frees it) and leave sb empty. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);

#endif
