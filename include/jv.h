/* SPDX-License-Identifier: GPL-3.0-or-later */
/* jv.h - a command's result as a small JSON value tree, rendered as JSON or as text. */
#ifndef MLZ_JV_H
#define MLZ_JV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

enum jv_kind { JV_NULL, JV_BOOL, JV_INT, JV_DOUBLE, JV_STRING, JV_ARRAY, JV_OBJECT };

/*
 * Usage:
 *	struct jv *r = jv_object();
 *	jv_set(r, "pid", jv_int(pid));
 *	struct jv *a = jv_set(r, "threads", jv_array());
 *	jv_push(a, jv_string("x"));
 *	jv_free(r);
 * Containers own what is put in them; object keys keep insertion order.
 */
struct jv {
	enum jv_kind kind;
	union {
		bool b;
		int64_t i;
		double d;
		char *s;
		struct {
			struct jv **items;
			char **keys; /* objects only */
			size_t n, alloc;
		} c;
	} u;
};

struct jv *jv_null(void);
struct jv *jv_bool(bool b);
struct jv *jv_int(int64_t i);
struct jv *jv_double(double d); /* written with at most three decimals: ms, seconds, ratios */
struct jv *jv_string(const char *s); /* NULL gives JSON null */
struct jv *jv_stringf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
struct jv *jv_addr(uint64_t addr);   /* "0x7f..." */
struct jv *jv_array(void);
struct jv *jv_object(void);

/* Append v to array a; returns v. */
struct jv *jv_push(struct jv *a, struct jv *v);
/* Add key=v to object o (keys are not checked for duplicates); returns v. */
struct jv *jv_set(struct jv *o, const char *key, struct jv *v);
/* The member named key of object o, or NULL. */
const struct jv *jv_get(const struct jv *o, const char *key);
int64_t jv_get_int(const struct jv *o, const char *key, int64_t dflt);
/* The string member, or dflt when absent or not a string. */
const char *jv_get_str(const struct jv *o, const char *key, const char *dflt);
size_t jv_len(const struct jv *c);
const struct jv *jv_at(const struct jv *a, size_t i);
struct jv *jv_last(struct jv *a);
/* Make v (a value already in a tree, such as a null placeholder) the string s. */
void jv_replace_string(struct jv *v, const char *s); /* the last item of an array, to add to; NULL when empty */

void jv_free(struct jv *v);

/* Append v as compact one-line JSON to sb. */
void jv_dump(const struct jv *v, struct strbuf *sb);
/* Append s as a JSON string literal (with quotes) to sb. */
void json_quote(struct strbuf *sb, const char *s);

#endif
