// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * snapfile.c - a snapshot as a file: a fixed header (magic, version, flags,
 * CRC32 and lengths), then one zstd frame holding sections of varints and
 * strings. docs/savefile-format.md describes every field.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "liveset.h"
#include "snapfile.h"
#include "snapshot.h"
#include "strbuf.h"
#include "sym.h"
#include "u64map.h"
#include "xalloc.h"

enum section {
	SEC_META = 1, SEC_MODULES, SEC_PCS, SEC_STACKS, SEC_UNTRACED, SEC_BLOCKS, SEC_WALKED, SEC_CLOCK,
};

#define MAX_DEPTH 1024      /* frames per stack the reader takes: mlyze records 64 at most */
#define MAX_FRAMES 256      /* inlined frames per PC */
#define MAX_THREADS 16384   /* distinct threads per file (the stack table's thread index is 16 bits) */
#define ZSTD_LEVEL 3

/* --- writing --- */

static void put_u(struct strbuf *b, uint64_t v)
{
	uint8_t buf[10];
	size_t n = 0;
	do {
		buf[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		buf[n++] |= v ? 0x80 : 0;
	} while (v);
	strbuf_add(b, buf, n);
}

/* A varint at w, for loops that reserved room (10 bytes each at most); returns the end. */
static inline uint8_t *put_raw(uint8_t *w, uint64_t v)
{
	while (v >= 0x80) {
		*w++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*w++ = (uint8_t)v;
	return w;
}

static void put_s(struct strbuf *b, int64_t v)
{
	put_u(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* A string, or none: its length plus one, 0 for NULL. */
static void put_str(struct strbuf *b, const char *s)
{
	if (!s) {
		put_u(b, 0);
		return;
	}
	size_t n = strlen(s);
	put_u(b, n + 1);
	strbuf_add(b, s, n);
}

static void put_section(struct strbuf *out, enum section tag, struct strbuf *body)
{
	put_u(out, tag);
	put_u(out, body->len);
	strbuf_add(out, body->buf ? body->buf : "", body->len);
	body->len = 0;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

struct pcs_out {
	struct u64map index[2]; /* PC -> its index + 1, as a caller's and as it is */
	struct u64map mods;     /* module start -> index + 1 */
	struct strbuf pcs, mods_body;
	size_t npcs, nmods;
};

static uint32_t module_index(struct pcs_out *o, struct sym *sym, const struct sym_pc *r)
{
	struct sym_module m;
	if (!sym_pc_module(sym, r, &m))
		return 0;
	/* one module per start: the saved ones' starts are theirs, never mixed with live ones in one set */
	uint64_t id;
	if (u64map_get(&o->mods, m.start, &id))
		return (uint32_t)id;
	id = ++o->nmods;
	u64map_put(&o->mods, m.start, id);
	put_str(&o->mods_body, m.path);
	put_str(&o->mods_body, m.build_id);
	put_u(&o->mods_body, m.start);
	put_u(&o->mods_body, m.end);
	return (uint32_t)id;
}

static uint64_t pc_index(struct pcs_out *o, struct sym *sym, uint64_t pc, bool caller)
{
	uint64_t id;
	if (u64map_get(&o->index[caller], pc, &id))
		return id - 1;
	const struct sym_pc *r = sym_lookup(sym, pc, caller);
	uint32_t mod = module_index(o, sym, r); /* 0 none, else index + 1 */
	put_u(&o->pcs, r->pc);
	put_u(&o->pcs, r->caller);
	put_u(&o->pcs, mod);
	put_str(&o->pcs, r->module);
	put_u(&o->pcs, r->module_offset);
	put_u(&o->pcs, r->nframes);
	for (size_t k = 0; k < r->nframes; k++) {
		const struct sym_frame *f = &r->frames[k];
		put_str(&o->pcs, f->function);
		put_str(&o->pcs, f->file);
		put_s(&o->pcs, f->line);
		put_u(&o->pcs, f->inlined);
	}
	id = o->npcs++;
	u64map_put(&o->index[caller], pc, id + 1);
	return id;
}

static void put_double(struct strbuf *b, double d)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof(bits));
	put_u(b, bits);
}

static void encode_payload(const struct snapfile_in *in, struct strbuf *out)
{
	const struct snapshot *s = in->s;
	const struct by_stack *by = &s->by;
	struct strbuf body = STRBUF_INIT;

	/* META: what `snapshots` prints, and where it was taken. */
	const struct snap_source *src = in->src;
	put_str(&body, s->name);
	put_u(&body, in->origin);
	put_u(&body, s->tick);
	put_s(&body, s->rss);
	put_u(&body, s->seq);
	put_u(&body, by->walked);
	put_double(&body, s->walked.stopped_ms);
	put_str(&body, s->walked.note[0] ? s->walked.note : NULL);
	put_u(&body, by->count);
	put_u(&body, by->bytes);
	put_str(&body, src ? src->kind : NULL);
	put_s(&body, src ? src->pid : 0);
	put_str(&body, src ? src->exe : NULL);
	put_str(&body, src ? src->core_file : NULL);
	put_str(&body, src ? src->host : NULL);
	put_s(&body, src ? src->saved_at : 0);
	put_u(&body, s->walked.heap.known);
	put_u(&body, s->walked.heap.in_use);
	put_u(&body, s->walked.heap.free);
	put_u(&body, s->walked.heap.mmapped);
	put_section(out, SEC_META, &body);

	/* The stacks with live figures, their PCs resolved now, each once. */
	struct pcs_out po = { 0 };
	struct strbuf stacks = STRBUF_INIT;
	uint32_t *local = xcalloc(by->n ? by->n : 1, sizeof(*local)); /* session stack id -> file index + 1 */
	size_t nstacks = 0;
	/* every stack a block names is written, whatever its figures, or the file would not read back */
	for (size_t i = 0; i < s->n; i++)
		if (s->blocks[i].stack < by->n)
			local[s->blocks[i].stack] = 1;
	for (size_t id = 0; id < by->n; id++) {
		if (!by->v[id].count && !by->v[id].bytes && !local[id])
			continue;
		int depth;
		const uint64_t *pcs = stacktab_pcs(in->stacks, (uint32_t)id, &depth);
		put_s(&stacks, in->stacks->tids[in->stacks->recs[id].tidx]);
		put_u(&stacks, (uint64_t)depth);
		for (int i = 0; i < depth; i++)
			put_u(&stacks, pc_index(&po, in->sym, pcs[i], i > 0)); /* as stack_site_frames looks them up */
		put_u(&stacks, by->v[id].count);
		put_u(&stacks, by->v[id].bytes);
		local[id] = (uint32_t)++nstacks;
	}
	put_u(&body, po.nmods);
	strbuf_add(&body, po.mods_body.buf ? po.mods_body.buf : "", po.mods_body.len);
	put_section(out, SEC_MODULES, &body);
	put_u(&body, po.npcs);
	strbuf_add(&body, po.pcs.buf ? po.pcs.buf : "", po.pcs.len);
	put_section(out, SEC_PCS, &body);
	put_u(&body, nstacks);
	strbuf_add(&body, stacks.buf ? stacks.buf : "", stacks.len);
	put_section(out, SEC_STACKS, &body);
	strbuf_release(&stacks);
	strbuf_release(&po.pcs);
	strbuf_release(&po.mods_body);
	u64map_release(&po.index[0]);
	u64map_release(&po.index[1]);
	u64map_release(&po.mods);

	for (int c = 0; c < UNTRACED_CLASSES; c++) {
		put_u(&body, by->untraced[c].count);
		put_u(&body, by->untraced[c].bytes);
	}
	put_section(out, SEC_UNTRACED, &body);

	/* Traced blocks by address: deltas, then size, stack, sequence number. */
	put_u(&body, s->n);
	uint64_t prev = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct block *b = &s->blocks[i];
		put_u(&body, b->addr - prev);
		prev = b->addr;
		put_u(&body, b->size);
		put_u(&body, b->stack < by->n && local[b->stack] ? local[b->stack] - 1 : UINT32_MAX);
		put_u(&body, block_seq(b));
	}
	free(local);
	put_section(out, SEC_BLOCKS, &body);

	/*
	 * Walked blocks: 2 bytes each before compression for most heaps. Their
	 * addresses are 16-byte aligned (a chunk's + 16): the signed distance
	 * from the previous one in 16-byte units; then the chunk's units, the
	 * mmapped bit moved to bit 0.
	 */
	const struct untraced *u = &s->walked;
	put_u(&body, u->n);
	/* ten million of them: written in place, not through strbuf_add one varint at a time */
	size_t at = body.len;
	body.buf = xrealloc(body.buf, at + u->n * 16 + 1);
	body.alloc = at + u->n * 16 + 1;
	uint8_t *w = (uint8_t *)body.buf + at;
	prev = 0;
	for (size_t i = 0; i < u->n; i++) {
		uint64_t a = u->v[i].addr;
		int64_t d = (int64_t)((a >> 4) - (prev >> 4));
		prev = a;
		uint32_t units = u->v[i].units;
		w = put_raw(w, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
		w = put_raw(w, (uint64_t)(units & ~WBLOCK_MMAPPED) << 1 | !!(units & WBLOCK_MMAPPED));
	}
	body.len = (size_t)(w - (uint8_t *)body.buf);
	body.buf[body.len] = '\0';
	put_section(out, SEC_WALKED, &body);

	/* The clock pairs up to the snapshot: the blocks' times. */
	const struct clockidx *clk = in->clock;
	size_t nclock = 0;
	while (clk && nclock < clk->n && clk->v[nclock].seq <= s->seq)
		nclock++;
	put_u(&body, nclock);
	uint64_t pseq = 0, ptick = 0;
	for (size_t i = 0; i < nclock; i++) {
		put_s(&body, (int64_t)(clk->v[i].seq - pseq));
		put_s(&body, (int64_t)clk->v[i].tick - (int64_t)ptick);
		pseq = clk->v[i].seq;
		ptick = clk->v[i].tick;
	}
	put_section(out, SEC_CLOCK, &body);
	strbuf_release(&body);
}

int snapfile_encode(const struct snapfile_in *in, struct strbuf *out, struct mlz_err *err)
{
	struct strbuf payload = STRBUF_INIT;
	encode_payload(in, &payload);
	size_t bound = ZSTD_compressBound(payload.len);
	size_t at = out->len;
	uint8_t header[SNAPFILE_HEADER] = { 0 };
	strbuf_add(out, header, sizeof(header)); /* filled below */
	char *z = xmalloc(bound);
	size_t zn = ZSTD_compress(z, bound, payload.buf ? payload.buf : "", payload.len, ZSTD_LEVEL);
	if (ZSTD_isError(zn)) {
		free(z);
		strbuf_release(&payload);
		out->len = at;
		return mlz_error(err, "save: compression failed: %s", ZSTD_getErrorName(zn));
	}
	uint8_t *h = (uint8_t *)out->buf + at;
	memcpy(h, SNAPFILE_MAGIC, 8);
	put_le(h + 8, SNAPFILE_VERSION, 2);
	put_le(h + 10, 0, 2);
	uLong crc = crc32(0L, Z_NULL, 0);
	for (size_t off = 0; off < payload.len;) { /* crc32 takes at most 4 GiB at a time */
		size_t n = payload.len - off > (1u << 30) ? (1u << 30) : payload.len - off;
		crc = crc32(crc, (const Bytef *)payload.buf + off, (uInt)n);
		off += n;
	}
	put_le(h + 12, crc, 4);
	put_le(h + 16, payload.len, 8);
	put_le(h + 24, zn, 8);
	strbuf_add(out, z, zn);
	free(z);
	strbuf_release(&payload);
	return 0;
}

/* --- reading --- */

struct cur {
	const uint8_t *p, *end;
	const char *what;  /* the file, for messages */
	const char *where; /* the section being read */
	struct mlz_err *err;
	bool bad;
};

static int damaged(struct cur *c, const char *why)
{
	if (!c->bad)
		mlz_error(c->err, "load: '%s' is damaged: %s in its %s section", c->what, why, c->where);
	c->bad = true;
	return -1;
}

static uint64_t get_u(struct cur *c)
{
	if (c->p < c->end && *c->p < 0x80) /* the common case: one byte */
		return *c->p++;
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (c->p >= c->end) {
			damaged(c, "a number runs past the end");
			return 0;
		}
		uint8_t b = *c->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	damaged(c, "a number is longer than 64 bits");
	return 0;
}

static int64_t get_s(struct cur *c)
{
	uint64_t v = get_u(c);
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static double get_double(struct cur *c)
{
	uint64_t bits = get_u(c);
	double d;
	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* A count of items of at least min_bytes each: never more than what remains could hold. */
static uint64_t get_count(struct cur *c, size_t min_bytes)
{
	uint64_t n = get_u(c);
	if (!c->bad && n > (uint64_t)(c->end - c->p) / min_bytes) {
		damaged(c, "a count is larger than what follows");
		return 0;
	}
	return c->bad ? 0 : n;
}

/* A string (owned by the caller), NULL for none or on error. */
static char *get_str(struct cur *c)
{
	uint64_t n = get_u(c);
	if (c->bad || n == 0)
		return NULL;
	n--;
	if (n > (uint64_t)(c->end - c->p)) {
		damaged(c, "a string runs past the end");
		return NULL;
	}
	if (memchr(c->p, 0, n)) {
		damaged(c, "a string holds a NUL byte");
		return NULL;
	}
	char *s = xstrndup((const char *)c->p, n);
	c->p += n;
	return s;
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* The payload, decompressed into a buffer that grows with what zstd actually produces. */
static uint8_t *inflate_payload(const uint8_t *z, size_t zn, uint64_t want, const char *what, struct mlz_err *err)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	if (!ds)
		BUG("out of memory for a zstd stream");
	ZSTD_initDStream(ds);
	size_t cap = want < (1u << 20) ? (size_t)want : (1u << 20);
	uint8_t *buf = xmalloc(cap ? cap : 1);
	ZSTD_inBuffer in = { z, zn, 0 };
	ZSTD_outBuffer out = { buf, cap, 0 };
	const char *why = NULL;
	bool zerr = false;
	for (;;) {
		size_t r = ZSTD_decompressStream(ds, &out, &in);
		if (ZSTD_isError(r)) {
			why = ZSTD_getErrorName(r);
			zerr = true;
			break;
		}
		if (r == 0) { /* the frame is complete */
			if (in.pos != in.size)
				why = "has bytes after its end";
			else if (out.pos != want)
				why = "is shorter than the header says";
			break;
		}
		if (out.pos == out.size) {
			if (out.size >= want) {
				why = "is longer than the header says";
				break;
			}
			size_t ncap = out.size * 2 < want ? out.size * 2 : (size_t)want;
			buf = xrealloc(buf, ncap);
			out.dst = buf;
			out.size = ncap;
		} else if (in.pos == in.size) {
			why = "ends early";
			break;
		}
	}
	ZSTD_freeDStream(ds);
	if (why) {
		free(buf);
		mlz_error(err, "load: '%s' is damaged: its compressed data %s%s", what, zerr ? "does not decompress: zstd: " : "",
			  why);
		return NULL;
	}
	return buf;
}

static int read_meta(struct cur *c, struct snapshot *s, uint64_t *count, uint64_t *bytes)
{
	s->name = get_str(c);
	s->origin = get_u(c);
	uint64_t tick = get_u(c);
	s->rss = get_s(c);
	s->seq = get_u(c);
	s->by.walked = get_u(c) != 0;
	s->walked.walked = s->by.walked;
	s->walked.stopped_ms = get_double(c);
	char *note = get_str(c);
	if (note)
		snprintf(s->walked.note, sizeof(s->walked.note), "%s", note);
	free(note);
	*count = get_u(c);
	*bytes = get_u(c);
	s->src = xcalloc(1, sizeof(*s->src));
	s->src->kind = get_str(c);
	s->src->pid = get_s(c);
	s->src->exe = get_str(c);
	s->src->core_file = get_str(c);
	s->src->host = get_str(c);
	s->src->saved_at = get_s(c);
	s->walked.heap.known = get_u(c) != 0;
	s->walked.heap.in_use = get_u(c);
	s->walked.heap.free = get_u(c);
	s->walked.heap.mmapped = get_u(c);
	if (c->bad)
		return -1;
	if (!s->name || !*s->name)
		return damaged(c, "the snapshot has no name");
	if (tick > UINT32_MAX)
		return damaged(c, "the time is out of range");
	s->tick = (uint32_t)tick;
	return 0;
}

static int read_modules(struct cur *c, struct sym *sym, uint32_t **mods, size_t *nmods)
{
	uint64_t n = get_count(c, 4);
	*mods = xcalloc(n ? n : 1, sizeof(**mods));
	for (uint64_t i = 0; i < n && !c->bad; i++) {
		char *path = get_str(c), *bid = get_str(c);
		uint64_t start = get_u(c), end = get_u(c);
		if (!c->bad)
			(*mods)[i] = sym_saved_module(sym, path ? path : "", bid ? bid : "", start, end);
		free(path);
		free(bid);
		*nmods = i + 1;
	}
	return c->bad ? -1 : 0;
}

static int read_pcs(struct cur *c, struct sym *sym, const uint32_t *mods, size_t nmods, uint64_t **pcs, size_t *npcs)
{
	uint64_t n = get_count(c, 6);
	*pcs = xcalloc(n ? n : 1, sizeof(**pcs));
	struct sym_frame frames[MAX_FRAMES];
	for (uint64_t i = 0; i < n && !c->bad; i++) {
		struct sym_pc r = { 0 };
		r.pc = get_u(c);
		r.caller = get_u(c) != 0;
		uint64_t mod = get_u(c);
		r.module = get_str(c);
		r.module_offset = get_u(c);
		uint64_t nf = get_count(c, 4);
		if (!c->bad && (nf == 0 || nf > MAX_FRAMES))
			damaged(c, "a PC has no frames or too many");
		if (!c->bad && mod > nmods)
			damaged(c, "a PC names a module that is not there");
		size_t got = 0;
		for (; got < nf && !c->bad; got++) {
			frames[got].function = get_str(c);
			frames[got].file = get_str(c);
			int64_t line = get_s(c);
			frames[got].line = line >= 0 && line <= INT32_MAX ? (int)line : 0;
			frames[got].inlined = get_u(c) != 0;
		}
		if (!c->bad) {
			r.frames = frames;
			r.nframes = got;
			(*pcs)[i] = sym_saved_pc(sym, &r, mod ? mods[mod - 1] : SYM_NO_MODULE);
			*npcs = i + 1;
		}
		for (size_t k = 0; k < got; k++) {
			free((char *)frames[k].function);
			free((char *)frames[k].file);
		}
		free((char *)r.module);
	}
	return c->bad ? -1 : 0;
}

static int read_stacks(struct cur *c, struct liveset *ls, const uint64_t *pcs, size_t npcs, struct snapshot *s,
		       uint32_t **ids, size_t *nids)
{
	uint64_t n = get_count(c, 4);
	*ids = xcalloc(n ? n : 1, sizeof(**ids));
	uint64_t *frames = xmalloc(MAX_DEPTH * sizeof(*frames));
	struct u64map tids = { 0 };
	u64map_init(&tids);
	size_t ntids = 0;
	for (uint64_t i = 0; i < n && !c->bad; i++) {
		int64_t tid = get_s(c);
		uint64_t depth = get_count(c, 1);
		if (!c->bad && (depth == 0 || depth > MAX_DEPTH))
			damaged(c, "a stack has no frames or too many");
		for (uint64_t k = 0; k < depth && !c->bad; k++) {
			uint64_t pi = get_u(c);
			if (!c->bad && pi >= npcs)
				damaged(c, "a stack names a PC that is not there");
			else
				frames[k] = pcs[pi];
		}
		uint64_t count = get_u(c), bytes = get_u(c);
		if (!c->bad && (tid < INT32_MIN || tid > INT32_MAX))
			damaged(c, "a thread id is out of range");
		uint64_t seen;
		if (!c->bad && !u64map_get(&tids, (uint64_t)tid, &seen)) {
			if (++ntids > MAX_THREADS)
				damaged(c, "too many threads");
			u64map_put(&tids, (uint64_t)tid, 1);
		}
		if (c->bad)
			break;
		uint32_t id = liveset_stack_saved(ls, (int)tid, frames, (int)depth);
		(*ids)[i] = id;
		*nids = i + 1;
		if (id >= s->by.alloc) {
			size_t old = s->by.alloc;
			ALLOC_GROW(s->by.v, (size_t)id + 1, s->by.alloc);
			memset(s->by.v + old, 0, (s->by.alloc - old) * sizeof(*s->by.v));
		}
		if (id >= s->by.n)
			s->by.n = (size_t)id + 1;
		/* one session stack may be two of the file's (another thread index past the limit): add up */
		s->by.v[id].count += count;
		s->by.v[id].bytes += bytes;
	}
	u64map_release(&tids);
	free(frames);
	return c->bad ? -1 : 0;
}

static int read_untraced(struct cur *c, struct snapshot *s)
{
	for (int k = 0; k < UNTRACED_CLASSES; k++) {
		s->by.untraced[k].count = get_u(c);
		s->by.untraced[k].bytes = get_u(c);
	}
	return c->bad ? -1 : 0;
}

static int read_blocks(struct cur *c, const uint32_t *ids, size_t nids, struct snapshot *s)
{
	uint64_t n = get_count(c, 4);
	s->blocks = xmalloc((n ? n : 1) * sizeof(*s->blocks));
	uint64_t addr = 0;
	for (uint64_t i = 0; i < n && !c->bad; i++) {
		uint64_t d = get_u(c), size = get_u(c), st = get_u(c), seq = get_u(c);
		if (c->bad)
			break;
		if ((i && !d) || addr + d < addr)
			return damaged(c, "block addresses are not increasing");
		if (st >= nids)
			return damaged(c, "a block names a stack that is not there");
		if (size > BLOCK_MAX_SIZE || seq >> 56)
			return damaged(c, "a block's size or sequence number is out of range");
		addr += d;
		struct block *b = &s->blocks[s->n++];
		*b = (struct block){ .addr = addr, .size = size, .seq_hi = seq >> 32, .stack = ids[st],
				     .seq_lo = (uint32_t)seq };
	}
	return c->bad ? -1 : 0;
}

static int read_walked(struct cur *c, struct snapshot *s)
{
	uint64_t n = get_count(c, 2);
	uint64_t addr = 0;
	for (uint64_t i = 0; i < n && !c->bad; i++) {
		int64_t d = get_s(c);
		uint64_t u = get_u(c);
		if (c->bad)
			break;
		if (u >> 32)
			return damaged(c, "a walked block's size is out of range");
		addr = ((addr >> 4) + (uint64_t)d) << 4;
		uint32_t units = (uint32_t)(u >> 1);
		if (units & WBLOCK_MMAPPED)
			return damaged(c, "a walked block's size is out of range");
		untraced_push(&s->walked, addr, units | (u & 1 ? WBLOCK_MMAPPED : 0));
	}
	untraced_trim(&s->walked);
	return c->bad ? -1 : 0;
}

static int read_clock(struct cur *c, struct snapshot *s)
{
	uint64_t n = get_count(c, 2);
	uint64_t seq = 0;
	int64_t tick = 0;
	for (uint64_t i = 0; i < n && !c->bad; i++) {
		seq += (uint64_t)get_s(c);
		tick += get_s(c);
		if (!c->bad && (tick < 0 || tick > UINT32_MAX))
			return damaged(c, "a time is out of range");
		if (!c->bad)
			clockidx_note(&s->clock, seq, (uint32_t)tick);
	}
	return c->bad ? -1 : 0;
}

static const char *const section_names[] = {
	[SEC_META] = "META", [SEC_MODULES] = "MODULES", [SEC_PCS] = "PCS", [SEC_STACKS] = "STACKS",
	[SEC_UNTRACED] = "UNTRACED", [SEC_BLOCKS] = "BLOCKS", [SEC_WALKED] = "WALKED", [SEC_CLOCK] = "CLOCK",
};

static int decode_payload(struct cur *c, struct liveset *ls, struct sym *sym, struct snapshot *s)
{
	uint32_t *mods = NULL, *ids = NULL;
	uint64_t *pcs = NULL;
	size_t nmods = 0, npcs = 0, nids = 0;
	uint64_t count = 0, bytes = 0;
	int ret = 0;
	/* Every section once, in order: a later one reads what an earlier one made. */
	for (int want = SEC_META; want <= SEC_CLOCK && ret == 0; want++) {
		c->where = "header of a";
		uint64_t tag = get_u(c), len = get_u(c);
		if (c->bad) {
			ret = -1;
			break;
		}
		c->where = tag < sizeof(section_names) / sizeof(*section_names) && section_names[tag] ? section_names[tag]
												  : "unknown";
		if (tag != (uint64_t)want) {
			c->where = section_names[want];
			ret = damaged(c, "another section stands where it should start");
			break;
		}
		if (len > (uint64_t)(c->end - c->p)) {
			ret = damaged(c, "the section runs past the end of the payload");
			break;
		}
		struct cur sec = *c;
		sec.end = c->p + len;
		switch (want) {
		case SEC_META: ret = read_meta(&sec, s, &count, &bytes); break;
		case SEC_MODULES: ret = read_modules(&sec, sym, &mods, &nmods); break;
		case SEC_PCS: ret = read_pcs(&sec, sym, mods, nmods, &pcs, &npcs); break;
		case SEC_STACKS: ret = read_stacks(&sec, ls, pcs, npcs, s, &ids, &nids); break;
		case SEC_UNTRACED: ret = read_untraced(&sec, s); break;
		case SEC_BLOCKS: ret = read_blocks(&sec, ids, nids, s); break;
		case SEC_WALKED: ret = read_walked(&sec, s); break;
		case SEC_CLOCK: ret = read_clock(&sec, s); break;
		}
		c->bad = sec.bad;
		if (ret == 0 && sec.p != sec.end)
			ret = damaged(&sec, "bytes are left over");
		c->bad = sec.bad;
		c->p = sec.end;
	}
	if (ret == 0 && c->p != c->end) {
		c->where = "last";
		ret = damaged(c, "bytes follow");
	}
	if (ret == 0) {
		/* The totals the file states are the sum of its parts, or it is not what was saved. */
		uint64_t n = 0, b = 0;
		for (size_t i = 0; i < s->by.n; i++) {
			n += s->by.v[i].count;
			b += s->by.v[i].bytes;
		}
		for (int k = 0; k < UNTRACED_CLASSES; k++) {
			n += s->by.untraced[k].count;
			b += s->by.untraced[k].bytes;
		}
		s->by.count = n;
		s->by.bytes = b;
		if (n != count || b != bytes) {
			c->where = "META";
			ret = damaged(c, "its totals are not the sum of its stacks and size classes");
		}
	}
	free(mods);
	free(pcs);
	free(ids);
	return ret;
}

int snapfile_decode(const void *data, size_t len, const char *what, uint64_t max_payload, struct liveset *ls,
		    struct sym *sym, struct snapshot *s, struct mlz_err *err)
{
	const uint8_t *d = data;
	memset(s, 0, sizeof(*s));
	if (len < 8 || memcmp(d, SNAPFILE_MAGIC, 8))
		return mlz_error(err, "load: '%s' is not an mlyze snapshot file", what);
	if (len < SNAPFILE_HEADER)
		return mlz_error(err, "load: '%s' is truncated: %zu bytes, less than its %d-byte header", what, len,
				 SNAPFILE_HEADER);
	uint64_t version = get_le(d + 8, 2), flags = get_le(d + 10, 2);
	if (version > SNAPFILE_VERSION)
		return mlz_error(err, "load: '%s' was written by a newer mlyze (format version %" PRIu64
				      "; this one reads version %d)", what, version, SNAPFILE_VERSION);
	if (version == 0 || flags)
		return mlz_error(err, "load: '%s' is damaged: version %" PRIu64 ", flags 0x%" PRIx64 " are not valid",
				 what, version, flags);
	uint32_t crc = (uint32_t)get_le(d + 12, 4);
	uint64_t plen = get_le(d + 16, 8), zlen = get_le(d + 24, 8);
	if (zlen > len - SNAPFILE_HEADER)
		return mlz_error(err, "load: '%s' is truncated: %zu bytes, its header says %" PRIu64, what, len,
				 zlen + SNAPFILE_HEADER);
	if (zlen < len - SNAPFILE_HEADER)
		return mlz_error(err, "load: '%s' is damaged: %zu bytes, its header says %" PRIu64, what, len,
				 zlen + SNAPFILE_HEADER);
	if (plen > max_payload || plen > SIZE_MAX / 2)
		return mlz_error(err, "load: '%s' is damaged or too large: a payload of %" PRIu64 " bytes", what, plen);
	uint8_t *payload = inflate_payload(d + SNAPFILE_HEADER, zlen, plen, what, err);
	if (!payload)
		return -1;
	uLong got = crc32(0L, Z_NULL, 0);
	for (size_t off = 0; off < plen;) {
		size_t n = plen - off > (1u << 30) ? (1u << 30) : plen - off;
		got = crc32(got, payload + off, (uInt)n);
		off += n;
	}
	if ((uint32_t)got != crc) {
		free(payload);
		return mlz_error(err, "load: '%s' is damaged: its checksum does not match (CRC32 %08x, expected %08x)",
				 what, (unsigned)got, crc);
	}
	struct cur c = { payload, payload + plen, what, "", err, false };
	int ret = decode_payload(&c, ls, sym, s);
	free(payload);
	if (ret < 0)
		snapshot_release(s);
	return ret;
}
