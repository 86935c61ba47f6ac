// SPDX-License-Identifier: GPL-3.0-or-later
/* jv.c - JSON value trees and their one-line JSON rendering (the only JSON writer). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jv.h"
#include "strbuf.h"
#include "xalloc.h"

static struct jv *new(enum jv_kind kind)
{
	struct jv *v = xcalloc(1, sizeof(*v));
	v->kind = kind;
	return v;
}

struct jv *jv_null(void) { return new(JV_NULL); }

struct jv *jv_bool(bool b)
{
	struct jv *v = new(JV_BOOL);
	v->u.b = b;
	return v;
}

struct jv *jv_int(int64_t i)
{
	struct jv *v = new(JV_INT);
	v->u.i = i;
	return v;
}

/*
 * A fraction as it means something: mlyze's fractions are milliseconds,
 * seconds, nanoseconds per event and ratios, for which three decimals are
 * more than the clock or the method gives ("12.104", not "12.1040979996324"),
 * and trailing zeros say nothing ("1.5", "0").
 */
static void add_rounded(struct strbuf *sb, double d)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%.3f", d);
	if (n <= 0 || (size_t)n >= sizeof(buf)) {
		strbuf_addf(sb, "%.15g", d);
		return;
	}
	while (n > 0 && buf[n - 1] == '0')
		n--;
	if (n > 0 && buf[n - 1] == '.')
		n--;
	buf[n] = '\0';
	strbuf_addstr(sb, strcmp(buf, "-0") ? buf : "0");
}

struct jv *jv_double(double d)
{
	struct jv *v = new(JV_DOUBLE);
	v->u.d = d;
	return v;
}

struct jv *jv_string(const char *s)
{
	if (!s)
		return jv_null();
	struct jv *v = new(JV_STRING);
	v->u.s = xstrdup(s);
	return v;
}

struct jv *jv_stringf(const char *fmt, ...)
{
	struct jv *v = new(JV_STRING);
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&v->u.s, fmt, ap) < 0)
		v->u.s = xstrdup("");
	va_end(ap);
	return v;
}

struct jv *jv_addr(uint64_t addr) { return jv_stringf("0x%" PRIx64, addr); }
struct jv *jv_array(void) { return new(JV_ARRAY); }
struct jv *jv_object(void) { return new(JV_OBJECT); }

struct jv *jv_push(struct jv *a, struct jv *v)
{
	ALLOC_GROW(a->u.c.items, a->u.c.n + 1, a->u.c.alloc);
	a->u.c.items[a->u.c.n++] = v;
	return v;
}

struct jv *jv_set(struct jv *o, const char *key, struct jv *v)
{
	size_t alloc = o->u.c.alloc;
	ALLOC_GROW(o->u.c.items, o->u.c.n + 1, o->u.c.alloc);
	if (alloc != o->u.c.alloc)
		o->u.c.keys = xrealloc(o->u.c.keys, o->u.c.alloc * sizeof(char *));
	o->u.c.keys[o->u.c.n] = xstrdup(key);
	o->u.c.items[o->u.c.n++] = v;
	return v;
}

const struct jv *jv_get(const struct jv *o, const char *key)
{
	if (!o || o->kind != JV_OBJECT)
		return NULL;
	for (size_t i = 0; i < o->u.c.n; i++)
		if (!strcmp(o->u.c.keys[i], key))
			return o->u.c.items[i];
	return NULL;
}

int64_t jv_get_int(const struct jv *o, const char *key, int64_t dflt)
{
	const struct jv *v = jv_get(o, key);
	return v && v->kind == JV_INT ? v->u.i : dflt;
}

const char *jv_get_str(const struct jv *o, const char *key, const char *dflt)
{
	const struct jv *v = jv_get(o, key);
	return v && v->kind == JV_STRING ? v->u.s : dflt;
}

size_t jv_len(const struct jv *c)
{
	return c && (c->kind == JV_ARRAY || c->kind == JV_OBJECT) ? c->u.c.n : 0;
}

const struct jv *jv_at(const struct jv *a, size_t i) { return i < jv_len(a) ? a->u.c.items[i] : NULL; }
void jv_replace_string(struct jv *v, const char *s)
{
	if (v->kind == JV_STRING)
		free(v->u.s);
	else if (v->kind == JV_ARRAY || v->kind == JV_OBJECT)
		BUG("jv_replace_string on a container");
	v->kind = JV_STRING;
	v->u.s = xstrdup(s);
}

struct jv *jv_last(struct jv *a) { return jv_len(a) ? a->u.c.items[jv_len(a) - 1] : NULL; }

void jv_free(struct jv *v)
{
	if (!v)
		return;
	if (v->kind == JV_STRING)
		free(v->u.s);
	if (v->kind == JV_ARRAY || v->kind == JV_OBJECT) {
		for (size_t i = 0; i < v->u.c.n; i++) {
			jv_free(v->u.c.items[i]);
			if (v->kind == JV_OBJECT)
				free(v->u.c.keys[i]);
		}
		free(v->u.c.items);
		free(v->u.c.keys);
	}
	free(v);
}

void json_quote(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': strbuf_addstr(sb, "\\\""); break;
		case '\\': strbuf_addstr(sb, "\\\\"); break;
		case '\n': strbuf_addstr(sb, "\\n"); break;
		case '\r': strbuf_addstr(sb, "\\r"); break;
		case '\t': strbuf_addstr(sb, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				strbuf_addf(sb, "\\u%04x", *p);
			} else if (*p < 0x80) {
				strbuf_addch(sb, (char)*p);
			} else {
				/*
				 * Thread names and paths are bytes, not text; JSON must be
				 * UTF-8, so each byte of an ill-formed sequence becomes U+FFFD.
				 */
				size_t n = utf8_len(p);
				if (n) {
					strbuf_add(sb, p, n);
					p += n - 1;
				} else {
					strbuf_addstr(sb, "\\ufffd");
				}
			}
		}
	}
	strbuf_addch(sb, '"');
}

void jv_dump(const struct jv *v, struct strbuf *sb)
{
	switch (v->kind) {
	case JV_NULL: strbuf_addstr(sb, "null"); break;
	case JV_BOOL: strbuf_addstr(sb, v->u.b ? "true" : "false"); break;
	case JV_INT: strbuf_addf(sb, "%" PRId64, v->u.i); break;
	case JV_DOUBLE:
		if (isfinite(v->u.d))
			add_rounded(sb, v->u.d);
		else
			strbuf_addstr(sb, "null");
		break;
	case JV_STRING: json_quote(sb, v->u.s); break;
	case JV_ARRAY:
	case JV_OBJECT:
		strbuf_addch(sb, v->kind == JV_ARRAY ? '[' : '{');
		for (size_t i = 0; i < v->u.c.n; i++) {
			if (i)
				strbuf_addstr(sb, ", ");
			if (v->kind == JV_OBJECT) {
				json_quote(sb, v->u.c.keys[i]);
				strbuf_addstr(sb, ": ");
			}
			jv_dump(v->u.c.items[i], sb);
		}
		strbuf_addch(sb, v->kind == JV_ARRAY ? ']' : '}');
		break;
	}
}
