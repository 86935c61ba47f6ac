// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-heap.c - `heap`: the whole glibc heap by chunk kind, its memory against its use, and mallinfo2. */
#include <inttypes.h>
#include <string.h>

#include "cmd.h"
#include "heap.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"

static int cmd_heap_exec(struct cmd_ctx *c)
{
	struct heap_report r;
	struct heap_take h;
	if (session_heap(c->s, NULL, NULL, &r, &h, &c->err) < 0) {
		heap_take_release(&h);
		return -1;
	}
	struct jv *o = jv_object();
	jv_set(o, "glibc", jv_string(h.where.version));
	jv_set(o, "found_by", jv_string(h.where.how));
	jv_set(o, "main_arena", jv_addr(h.where.main_arena));
	jv_set(o, "arenas", jv_int((int64_t)r.narenas));
	heap_kinds_jv(o, r.total);
	uint64_t system = 0;
	bool complete = r.nproblems == 0;
	for (size_t i = 0; i < r.narenas; i++) {
		system += r.arenas[i].system_mem;
		complete = complete && r.arenas[i].complete;
	}
	jv_set(o, "system_mem", jv_int((int64_t)system));
	jv_set(o, "heap_rss", h.rss >= 0 ? jv_int(h.rss) : jv_null());
	jv_set(o, "mallinfo", heap_mallinfo_jv(&r.mi));
	jv_set(o, "complete", jv_bool(complete));
	jv_set(o, "problems", heap_problems_jv(&r));
	jv_set(o, "stopped_ms", jv_double(h.stopped_ms));
	c->result = o;
	heap_report_release(&r);
	heap_take_release(&h);
	return 0;
}

static void cmd_heap_text(const struct jv *o, const struct text_opts *t, struct strbuf *out)
{
	unsigned sz = t->bytes ? SIZE_EXACT : 0;
	strbuf_addstr(out, "glibc ");
	strbuf_add_escaped(out, jv_get_str(o, "glibc", "?"));
	strbuf_addf(out, " malloc: %" PRId64 " arena(s), main_arena at %s (%s); stopped %.1f ms\n",
		    jv_get_int(o, "arenas", 0), jv_get_str(o, "main_arena", "?"),
		    jv_get_str(o, "found_by", "?"), jv_get(o, "stopped_ms")->u.d);
	heap_kinds_text(o, sz, out);
	const struct jv *mi = jv_get(o, "mallinfo");
	heap_row_text(out, "arenas' memory from the system", -1, jv_get_int(o, "system_mem", 0), sz);
	if (jv_get(o, "heap_rss")->kind == JV_INT)
		heap_row_text(out, "of it resident", -1, jv_get_int(o, "heap_rss", 0), sz);
	heap_row_text(out, "in chunks handed out (uordblks)", -1, jv_get_int(mi, "uordblks", 0), sz);
	strbuf_addstr(out, "mallinfo2:\n");
	for (size_t i = 0; i < jv_len(mi); i++) {
		const char *k = mi->u.c.keys[i];
		bool count = !strcmp(k, "ordblks") || !strcmp(k, "smblks") || !strcmp(k, "hblks");
		char b[32];
		if (count) /* glibc's counts of chunks, the rest sizes */
			strbuf_addf(out, "  %-44s %10" PRId64 "\n", k, jv_at(mi, i)->u.i);
		else
			strbuf_addf(out, "  %-44s %10s %12s\n", k, "", size_str(b, jv_at(mi, i)->u.i, sz));
	}
	heap_problems_text(o, out);
	if (!jv_get(o, "complete")->u.b)
		strbuf_addstr(out, "the walk is incomplete: figures cover what was walked\n");
}

static const struct cmd_opt opts[] = { { NULL } };

const struct cmd_entry cmd_heap_entry = {
	.name = "heap",
	.usage = "heap",
	.summary = "the glibc heap: chunks by kind, memory held against memory used, mallinfo2",
	.help = "Walks every arena of glibc's malloc, every chunk of their heaps and every free list, with the "
		"process stopped, and counts chunks and bytes (chunk sizes, headers included) by kind: in use, "
		"the allocator's own (each thread's tcache), free in a tcache, in fastbins, in the other bins, "
		"the top chunks, and mmapped chunks. mallinfo lists the figures glibc's mallinfo2() would return "
		"at that moment, with its definitions; heap_rss is what of the arenas' heaps is resident, to set "
		"against the bytes in use. main_arena comes from libc's debug symbols when they are installed "
		"(libc6-dbg), else from a search of libc's data. A damaged heap is walked up to its first "
		"impossible chunk; problems names it and the figures cover what was walked.",
	.opts = opts,
	.max_args = 0,
	.flags = CMD_NEEDS_IMAGE,
	.exec = cmd_heap_exec,
	.text = cmd_heap_text,
};
