// SPDX-License-Identifier: GPL-3.0-or-later
/* where.c - a place in code as people read it: "fn at file.c:12", "fn from libfoo.so.1", "libfoo.so.1+0x1234". */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "jv.h"
#include "strbuf.h"
#include "where.h"

static const char *base(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

void where_text(const struct where *w, struct strbuf *out)
{
	if (!w->function && !w->file && w->module && w->has_offset) {
		strbuf_add_escaped(out, w->module);
		strbuf_addf(out, "+0x%" PRIx64, w->module_offset);
		return;
	}
	/* A group by file has a file and no function: the file alone says where. */
	if (w->function || !w->file)
		strbuf_add_escaped(out, w->function ? w->function : "??");
	where_place_text(w, out);
}

void where_place_text(const struct where *w, struct strbuf *out)
{
	if (w->file) {
		const char *sep = w->function ? (w->line ? " at " : " in ") : "";
		strbuf_addstr(out, sep);
		strbuf_add_escaped(out, base(w->file));
		if (w->line)
			strbuf_addf(out, ":%" PRId64, w->line);
	} else if (w->module) {
		strbuf_addstr(out, " from ");
		strbuf_add_escaped(out, w->module);
	}
}

void where_from_jv(const struct jv *o, struct where *w)
{
	const char *off = jv_get_str(o, "module_offset", NULL);
	const struct jv *line = jv_get(o, "line");
	*w = (struct where){
		.function = jv_get_str(o, "function", NULL),
		.file = jv_get_str(o, "file", NULL),
		.line = line && line->kind == JV_INT ? jv_get_int(o, "line", 0) : 0,
		.module = jv_get_str(o, "module", NULL),
		.module_offset = off ? strtoull(off, NULL, 16) : 0,
		.has_offset = off != NULL,
	};
}

void where_text_jv(const struct jv *o, struct strbuf *out)
{
	struct where w;
	where_from_jv(o, &w);
	where_text(&w, out);
}
