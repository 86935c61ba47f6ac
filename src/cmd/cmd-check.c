// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-check.c - `check`: every traced live block must be an in-use chunk of glibc's heap, of a size that fits. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "heap.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "liveset.h"
#include "xalloc.h"

#define MAX_REPORTED 20

/* The chunks at traced addresses, as the walk found them. */
struct found {
	uint64_t addr, size;
	enum chunk_kind kind;
};

struct check_ctx {
	const struct blocktab *traced;
	struct found *v;
	size_t n, alloc;
};

static void note_chunk(void *arg, uint64_t chunk, uint64_t size, enum chunk_kind kind, size_t arena)
{
	(void)arena;
	struct check_ctx *c = arg;
	if (kind == CK_TOP || !blocktab_get(c->traced, chunk + 16))
		return;
	ALLOC_GROW(c->v, c->n + 1, c->alloc);
	c->v[c->n++] = (struct found){ chunk + 16, size, kind };
}

static int by_addr(const void *a, const void *b)
{
	uint64_t x = ((const struct found *)a)->addr, y = ((const struct found *)b)->addr;
	return x < y ? -1 : x > y;
}

/* glibc's request2size: the chunk a malloc of n bytes gets. */
static uint64_t request2size(uint64_t n)
{
	uint64_t s = (n + 8 + 15) & ~15ull;
	return s < 32 ? 32 : s;
}

/* Why a traced block of size req does not fit chunk f, or NULL if it does. */
static const char *misfit(const struct found *f, uint64_t req)
{
	if (f->kind != CK_INUSE && f->kind != CK_MMAPPED)
		return "the chunk is free";
	if (f->kind == CK_MMAPPED)
		return chunk_usable(f->size, f->kind) >= req && chunk_usable(f->size, f->kind) - req < 2 * 4096
			       ? NULL
			       : "the mmapped chunk's size does not fit";
	/* memalign and realloc may leave a chunk up to MINSIZE - 16 larger than asked */
	uint64_t nb = request2size(req);
	return f->size >= nb && f->size < nb + 32 ? NULL : "the chunk's size does not fit";
}

static int cmd_check_exec(struct cmd_ctx *c)
{
	struct liveset *ls = session_live(c->s);
	struct check_ctx x = { .traced = &ls->blocks };
	struct heap_report r;
	struct heap_take h;
	if (session_heap(c->s, note_chunk, &x, &r, &h, &c->err) < 0) {
		heap_take_release(&h);
		free(x.v);
		return -1;
	}
	if (x.n > 1)
		qsort(x.v, x.n, sizeof(*x.v), by_addr);
	struct jv *o = jv_object();
	struct jv *bad = jv_array();
	size_t ok = 0, nbad = 0;
	BLOCKTAB_FOREACH(&ls->blocks, b) {
		struct found key = { .addr = b->addr };
		const struct found *f = x.n ? bsearch(&key, x.v, x.n, sizeof(*x.v), by_addr) : NULL;
		const char *why = f ? misfit(f, b->size) : "no chunk starts there";
		if (!why) {
			ok++;
			continue;
		}
		if (nbad++ >= MAX_REPORTED)
			continue;
		struct jv *m = jv_push(bad, jv_object());
		jv_set(m, "address", jv_addr(b->addr));
		jv_set(m, "size", jv_int((int64_t)b->size));
		jv_set(m, "what", jv_string(why));
		jv_set(m, "chunk_kind", f ? jv_string(chunk_kind_name(f->kind)) : jv_null());
		jv_set(m, "chunk_size", f ? jv_int((int64_t)f->size) : jv_null());
	}
	bool complete = r.nproblems == 0;
	for (size_t i = 0; i < r.narenas; i++)
		complete = complete && r.arenas[i].complete;
	jv_set(o, "traced", jv_int((int64_t)ls->blocks.n));
	jv_set(o, "ok", jv_int((int64_t)ok));
	jv_set(o, "bad", jv_int((int64_t)nbad));
	jv_set(o, "heap_complete", jv_bool(complete));
	jv_set(o, "mismatches", bad);
	c->result = o;
	free(x.v);
	heap_report_release(&r);
	heap_take_release(&h);
	if (nbad)
		return mlz_error(&c->err, "%zu of %zu traced blocks are not in-use chunks of a fitting size", nbad,
				 (size_t)ls->blocks.n);
	return 0;
}

static void cmd_check_text(const struct jv *o, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	strbuf_addf(out, "%" PRId64 " traced live blocks: %" PRId64 " are in-use chunks of a fitting size, %" PRId64
			 " are not%s\n",
		    jv_get_int(o, "traced", 0), jv_get_int(o, "ok", 0), jv_get_int(o, "bad", 0),
		    jv_get(o, "heap_complete")->u.b ? "" : " (the heap walk was incomplete)");
	const struct jv *m = jv_get(o, "mismatches");
	for (size_t i = 0; i < jv_len(m); i++) {
		const struct jv *b = jv_at(m, i);
		strbuf_addf(out, "  %s (%" PRId64 " bytes): %s", jv_get_str(b, "address", "?"), jv_get_int(b, "size", 0),
			    jv_get_str(b, "what", "?"));
		if (jv_get(b, "chunk_size")->kind == JV_INT)
			strbuf_addf(out, " (%s chunk of %" PRId64 " bytes)", jv_get_str(b, "chunk_kind", "?"),
				    jv_get_int(b, "chunk_size", 0));
		strbuf_addch(out, '\n');
	}
}

static const struct cmd_opt opts[] = { { NULL } };

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = "check",
	.summary = "verify every traced live block against the heap walk: an in-use chunk that fits",
	.help = "Walks the heap with the process stopped and looks up every block tracing holds live: it must "
		"start an in-use chunk (or an mmapped one) whose size is what glibc gives for the requested size "
		"(up to 16 bytes more after memalign or realloc). Lists the first blocks that do not, and fails "
		"if any does not: a sign of a missed event or of a heap the walker misreads.",
	.opts = opts,
	.max_args = 0,
	.flags = CMD_NEEDS_IMAGE | CMD_NOT_CORE,
	.exec = cmd_check_exec,
	.text = cmd_check_text,
};
