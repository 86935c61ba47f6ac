// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-arenas.c - `arenas`: each glibc arena, its heaps, chunks by kind, free lists and residency. */
#include <inttypes.h>

#include "cmd.h"
#include "heap.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"

static struct jv *arena_jv(const struct heap_arena *a, int64_t rss)
{
	struct jv *o = jv_object();
	jv_set(o, "address", jv_addr(a->addr));
	jv_set(o, "main", jv_bool(a->main));
	jv_set(o, "attached_threads", jv_int((int64_t)a->attached_threads));
	struct jv *hs = jv_set(o, "heaps", jv_array());
	for (size_t i = 0; i < a->nheaps; i++) {
		struct jv *h = jv_push(hs, jv_object());
		jv_set(h, "start", jv_addr(a->heaps[i].start));
		jv_set(h, "end", jv_addr(a->heaps[i].end));
	}
	jv_set(o, "system_mem", jv_int((int64_t)a->system_mem));
	jv_set(o, "max_system_mem", jv_int((int64_t)a->max_system_mem));
	jv_set(o, "rss", rss >= 0 ? jv_int(rss) : jv_null());
	heap_kinds_jv(o, a->kind);
	jv_set(o, "top_address", jv_addr(a->top));
	struct jv *lists = jv_set(o, "free_lists", jv_object());
	jv_set(lists, "fastbins", heap_count_jv(&a->fastbins));
	jv_set(lists, "unsorted", heap_count_jv(&a->unsorted));
	jv_set(lists, "smallbins", heap_count_jv(&a->smallbins));
	jv_set(lists, "largebins", heap_count_jv(&a->largebins));
	jv_set(o, "mallinfo", heap_mallinfo_jv(&a->mi));
	jv_set(o, "complete", jv_bool(a->complete));
	return o;
}

static int cmd_arenas_exec(struct cmd_ctx *c)
{
	struct heap_report r;
	struct heap_take h;
	if (session_heap(c->s, NULL, NULL, &r, &h, &c->err) < 0) {
		heap_take_release(&h);
		return -1;
	}
	struct jv *o = jv_object();
	struct jv *as = jv_set(o, "arenas", jv_array());
	for (size_t i = 0; i < r.narenas; i++)
		jv_push(as, arena_jv(&r.arenas[i], h.arena_rss ? h.arena_rss[i] : -1));
	jv_set(o, "problems", heap_problems_jv(&r));
	c->result = o;
	heap_report_release(&r);
	heap_take_release(&h);
	return 0;
}

static void cmd_arenas_text(const struct jv *o, const struct text_opts *t, struct strbuf *out)
{
	unsigned sz = t->bytes ? SIZE_EXACT : 0;
	const struct jv *as = jv_get(o, "arenas");
	for (size_t i = 0; i < jv_len(as); i++) {
		const struct jv *a = jv_at(as, i), *hs = jv_get(a, "heaps"), *l = jv_get(a, "free_lists");
		strbuf_addf(out, "%sarena %s%s: %zu heap(s), %" PRId64 " thread(s) attached%s\n", i ? "\n" : "",
			    jv_get_str(a, "address", "?"), jv_get(a, "main")->u.b ? " (main)" : "", jv_len(hs),
			    jv_get_int(a, "attached_threads", 0), jv_get(a, "complete")->u.b ? "" : " (walk incomplete)");
		heap_kinds_text(a, sz, out);
		heap_row_text(out, "memory from the system", -1, jv_get_int(a, "system_mem", 0), sz);
		if (jv_get(a, "rss")->kind == JV_INT)
			heap_row_text(out, "of it resident", -1, jv_get_int(a, "rss", 0), sz);
		static const char *const lists[][2] = { { "fastbins", "on the fastbin lists" },
							{ "unsorted", "on the unsorted list" },
							{ "smallbins", "on the small bin lists" },
							{ "largebins", "on the large bin lists" } };
		for (int k = 0; k < 4; k++) {
			const struct jv *x = jv_get(l, lists[k][0]);
			heap_row_text(out, lists[k][1], jv_get_int(x, "chunks", 0), jv_get_int(x, "bytes", 0), sz);
		}
	}
	heap_problems_text(o, out);
}

static const struct cmd_opt opts[] = { { NULL } };

const struct cmd_entry cmd_arenas_entry = {
	.name = "arenas",
	.usage = "arenas",
	.summary = "each glibc arena: its heaps, chunks by kind, free lists, residency",
	.help = "The walk of `heap`, arena by arena: the arena's address (main_arena first, then the thread "
		"arenas in glibc's list order), the heaps it spans, the memory it got from the system and how "
		"much of that is resident, its chunks by kind, the lengths of its free lists (fastbins, "
		"unsorted, small and large bins) as mallinfo2 counts them, and its share of the mallinfo2 figures.",
	.opts = opts,
	.max_args = 0,
	.flags = CMD_NEEDS_IMAGE,
	.exec = cmd_arenas_exec,
	.text = cmd_arenas_text,
};
