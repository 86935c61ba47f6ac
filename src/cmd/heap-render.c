// SPDX-License-Identifier: GPL-3.0-or-later
/* heap-render.c - pieces of a heap walk that `heap` and `arenas` both print. */
#include <inttypes.h>
#include <stdio.h>

#include "heap.h"
#include "jv.h"
#include "render.h"
#include "strbuf.h"

struct jv *heap_count_jv(const struct heap_count *c)
{
	struct jv *o = jv_object();
	jv_set(o, "chunks", jv_int((int64_t)c->chunks));
	jv_set(o, "bytes", jv_int((int64_t)c->bytes));
	return o;
}

struct jv *heap_mallinfo_jv(const struct heap_mallinfo *mi)
{
	struct jv *o = jv_object();
	jv_set(o, "arena", jv_int((int64_t)mi->arena));
	jv_set(o, "ordblks", jv_int((int64_t)mi->ordblks));
	jv_set(o, "smblks", jv_int((int64_t)mi->smblks));
	jv_set(o, "hblks", jv_int((int64_t)mi->hblks));
	jv_set(o, "hblkhd", jv_int((int64_t)mi->hblkhd));
	jv_set(o, "usmblks", jv_int((int64_t)mi->usmblks));
	jv_set(o, "fsmblks", jv_int((int64_t)mi->fsmblks));
	jv_set(o, "uordblks", jv_int((int64_t)mi->uordblks));
	jv_set(o, "fordblks", jv_int((int64_t)mi->fordblks));
	jv_set(o, "keepcost", jv_int((int64_t)mi->keepcost));
	return o;
}

/* The chunk kinds, as JSON keys, in the order they print. */
static const struct {
	enum chunk_kind kind;
	const char *key, *label;
} kinds[] = {
	{ CK_INUSE, "in_use", "in use" },
	{ CK_INTERNAL, "allocator", "allocator's own (tcache structs, fenceposts)" },
	{ CK_TCACHE, "tcache", "free in tcache" },
	{ CK_FAST, "fastbins", "free in fastbins" },
	{ CK_BIN, "bins", "free in bins" },
	{ CK_TOP, "top", "top" },
	{ CK_MMAPPED, "mmapped", "mmapped" },
};

void heap_kinds_jv(struct jv *o, const struct heap_count *by_kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		jv_set(o, kinds[i].key, heap_count_jv(&by_kind[kinds[i].kind]));
}

void heap_row_text(struct strbuf *out, const char *label, int64_t chunks, int64_t bytes, unsigned sz)
{
	char c[24] = "", b[32];
	if (chunks >= 0)
		snprintf(c, sizeof(c), "%" PRId64, chunks);
	strbuf_addf(out, "  %-44s %10s %12s\n", label, c, size_str(b, bytes, sz));
}

void heap_kinds_text(const struct jv *o, unsigned sz, struct strbuf *out)
{
	strbuf_addf(out, "  %-44s %10s %12s\n", "", "CHUNKS", sz ? "BYTES" : "SIZE");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const struct jv *c = jv_get(o, kinds[i].key);
		if (c)
			heap_row_text(out, kinds[i].label, jv_get_int(c, "chunks", 0), jv_get_int(c, "bytes", 0), sz);
	}
}

struct jv *heap_problems_jv(const struct heap_report *r)
{
	struct jv *a = jv_array();
	for (size_t i = 0; i < r->nproblems; i++) {
		struct jv *p = jv_push(a, jv_object());
		jv_set(p, "address", jv_addr(r->problems[i].addr));
		jv_set(p, "what", jv_string(r->problems[i].what));
	}
	return a;
}

void heap_problems_text(const struct jv *o, struct strbuf *out)
{
	const struct jv *p = jv_get(o, "problems");
	for (size_t i = 0; p && i < jv_len(p); i++)
		strbuf_addf(out, "problem at %s: %s\n", jv_get_str(jv_at(p, i), "address", "?"),
			    jv_get_str(jv_at(p, i), "what", "?"));
}
