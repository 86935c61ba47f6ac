/* SPDX-License-Identifier: GPL-3.0-or-later */
/* where.h - a place in code as people read it, the one form every text output prints. */
#ifndef MLZ_WHERE_H
#define MLZ_WHERE_H

#include <stdbool.h>
#include <stdint.h>

struct jv;
struct strbuf;

/*
 * Usage:
 *	where_text(&(struct where){ .function = "f", .module = "libfoo.so.1" }, out);  // "f from libfoo.so.1"
 *	where_text_jv(frame, out);   // a frame or group object of the JSON output
 *
 * gdb's forms: "fn at file.c:12" (the file's base name), "fn in file.c"
 * (a file without a line), "fn from libfoo.so.1" (no file: the module
 * says where the code is), "libfoo.so.1+0x1234" (no name either: the
 * offset in its module, which `nm` or `addr2line -e` on the file
 * resolves), "fn", or "??" when nothing is known. Every string is escaped
 * for a terminal (strbuf_add_escaped), as all text output is.
 */
struct where {
	const char *function; /* NULL: no symbol */
	const char *file;     /* NULL: no line information */
	int64_t line;         /* 0: none */
	const char *module;   /* the module's name, NULL when the code is in none */
	uint64_t module_offset;
	bool has_offset;      /* module_offset is known */
};
void where_text(const struct where *w, struct strbuf *out);
/*
 * Only what follows a function's name (" at file.c:12", " in file.c",
 * " from libfoo.so.1", or nothing), for a caller that puts words between
 * the two ("worker() local 'req' at fx.c:30").
 */
void where_place_text(const struct where *w, struct strbuf *out);
/*
 * Either read from a JSON object's keys "function", "file", "line",
 * "module" and "module_offset" (a string "0x..."); any may be absent or null.
 */
void where_from_jv(const struct jv *o, struct where *w);
void where_text_jv(const struct jv *o, struct strbuf *out);

#endif
