// SPDX-License-Identifier: GPL-3.0-or-later
/* timeline-render.c - a moment of the timeline (a snapshot, a mark or a recording's sample) as JSON and as text, for mark and timeline. */
#include <inttypes.h>

#include "strbuf.h"
#include "jv.h"
#include "render.h"
#include "strbuf.h"
#include "timeline.h"
#include "blocks.h"

struct jv *tl_point_jv(const struct tl_point *p)
{
	struct jv *o = jv_object();
	jv_set(o, "name", jv_string(p->name));
	jv_set(o, "kind", jv_string(p->kind == TL_SNAPSHOT ? "snapshot" : p->kind == TL_MARK ? "mark" : "sample"));
	jv_set(o, "seconds", jv_double(p->tick * (CLOCK_TICK_MS / 1000.0)));
	jv_set(o, "blocks", jv_int((int64_t)p->blocks));
	jv_set(o, "bytes", jv_int((int64_t)p->bytes));
	jv_set(o, "traced_bytes", jv_int((int64_t)p->traced_bytes));
	jv_set(o, "heap_walked", jv_bool(p->heap.known));
	jv_set(o, "heap_in_use", p->heap.known ? jv_int((int64_t)p->heap.in_use) : jv_null());
	jv_set(o, "heap_free", p->heap.known ? jv_int((int64_t)p->heap.free) : jv_null());
	jv_set(o, "mmapped", p->heap.known ? jv_int((int64_t)p->heap.mmapped) : jv_null());
	jv_set(o, "rss", p->rss >= 0 ? jv_int(p->rss) : jv_null());
	jv_set(o, "note", p->note && p->note[0] ? jv_string(p->note) : jv_null());
	return o;
}

void moment_text(const struct jv *o, unsigned sz, struct strbuf *out)
{
	strbuf_addf(out, "%" PRId64 " blocks, ", jv_get_int(o, "blocks", 0));
	strbuf_add_size(out, jv_get_int(o, "bytes", 0), sz);
	strbuf_addstr(out, " live; ");
	if (jv_get(o, "heap_walked")->u.b) {
		strbuf_addstr(out, "heap ");
		strbuf_add_size(out, jv_get_int(o, "heap_in_use", 0), sz);
		strbuf_addstr(out, " in use, ");
		strbuf_add_size(out, jv_get_int(o, "heap_free", 0), sz);
		strbuf_addstr(out, " free, ");
		strbuf_add_size(out, jv_get_int(o, "mmapped", 0), sz);
		strbuf_addstr(out, " mmapped");
	} else {
		strbuf_addstr(out, "heap not walked");
	}
	if (jv_get(o, "rss")->kind == JV_INT) {
		strbuf_addstr(out, "; RSS ");
		strbuf_add_size(out, jv_get_int(o, "rss", 0), sz);
	}
	if (jv_get_str(o, "note", NULL)) {
		strbuf_addstr(out, " (");
		strbuf_add_escaped(out, jv_get_str(o, "note", ""));
		strbuf_addch(out, ')');
	}
}
