// SPDX-License-Identifier: GPL-3.0-or-later
/* recfile.c - the recording file: chunks of varint records, zstd-compressed and checksummed (docs/record-format.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "cancel.h"
#include "recfile.h"
#include "savefile.h"
#include "u64map.h"
#include "xalloc.h"

enum rec_tag {
	T_INFO = 1, T_MAPS, T_STACK, T_TICK, T_ALLOC, T_FREE, T_FORGET, T_SAMPLE,
	T_CKPT_BEGIN, T_CKPT_BLOCK, T_CKPT_END, T_END, T_MARK, T_PEAK,
};

#define MAX_STR 4096
#define MAX_DEPTH 1024
#define ZSTD_LEVEL 3

/* --- writing --- */

/* Room for n more bytes: the emitters below then write without checking. */
static inline void reserve(struct recw *w, size_t n)
{
	if (w->len + n > w->alloc)
		ALLOC_GROW(w->buf, w->len + n, w->alloc);
}

static void put(struct recw *w, const void *p, size_t n)
{
	reserve(w, n);
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static inline void put_u8(struct recw *w, uint8_t v)
{
	reserve(w, 1);
	w->buf[w->len++] = v;
}

static inline void put_uv(struct recw *w, uint64_t v)
{
	reserve(w, 10);
	uint8_t *b = w->buf + w->len;
	while (v >= 0x80) {
		*b++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*b++ = (uint8_t)v;
	w->len = (size_t)(b - w->buf);
}

/* Signed deltas as zigzag varints: small either way costs one byte. */
static inline void put_sv(struct recw *w, int64_t v)
{
	put_uv(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void put_str(struct recw *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n > MAX_STR)
		n = MAX_STR;
	put_uv(w, n);
	put(w, s, n);
}

int recw_open(struct recw *w, const char *path, bool force, struct mlz_err *err)
{
	memset(w, 0, sizeof(*w));
	w->level = ZSTD_LEVEL;
	/* written as it goes, to be read after a crash: no temporary file renamed into place */
	w->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL), 0644);
	if (w->fd < 0 && errno == EEXIST)
		return mlz_error(err, "'%s' exists already; --force replaces it", path);
	if (w->fd < 0 && errno == ELOOP)
		return mlz_error(err, "'%s' is a symbolic link; record does not write through one or replace it, "
				 "even with --force", path);
	if (w->fd < 0)
		return mlz_error_errno(err, errno, "cannot write '%s'", path);
	w->cctx = ZSTD_createCCtx();
	uint8_t h[REC_HEADER_LEN] = { 0 };
	memcpy(h, REC_MAGIC, REC_MAGIC_LEN);
	h[8] = REC_VERSION;
	if (savefile_pwrite_all(w->fd, h, sizeof(h), 0) < 0) {
		int e = errno;
		close(w->fd);
		ZSTD_freeCCtx(w->cctx);
		w->fd = -1;
		return mlz_error_errno(err, e, "cannot write '%s'", path);
	}
	w->written = sizeof(h);
	return 0;
}

void recw_info(struct recw *w, int pid, const char *name, const char *exe, const char *mode, uint64_t start_unix_ns)
{
	put_u8(w, T_INFO);
	put_uv(w, (uint64_t)pid);
	put_str(w, name);
	put_str(w, exe);
	put_str(w, mode);
	put_uv(w, start_unix_ns);
}

void recw_maps(struct recw *w, const struct module_range *m, size_t n)
{
	put_u8(w, T_MAPS);
	put_uv(w, n);
	for (size_t i = 0; i < n; i++) {
		put_uv(w, m[i].start);
		put_uv(w, m[i].end - m[i].start);
		put_str(w, m[i].path);
		put_str(w, m[i].build_id);
	}
}

uint32_t recw_stack(struct recw *w, int tid, const uint64_t *pcs, int depth)
{
	put_u8(w, T_STACK);
	put_uv(w, (uint64_t)tid);
	put_uv(w, (uint64_t)depth);
	for (int i = 0; i < depth; i++) {
		put_sv(w, (int64_t)(pcs[i] - w->prev_pc));
		w->prev_pc = pcs[i];
	}
	return (uint32_t)w->nstacks++;
}

static void set_tick(struct recw *w, uint32_t tick)
{
	if (tick == w->tick)
		return;
	put_u8(w, T_TICK);
	put_sv(w, (int64_t)tick - (int64_t)w->tick);
	w->tick = tick;
}

void recw_alloc(struct recw *w, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick)
{
	set_tick(w, tick);
	put_u8(w, T_ALLOC);
	put_sv(w, (int64_t)(addr - w->prev_addr));
	put_uv(w, size);
	put_uv(w, stack);
	w->prev_addr = addr;
	w->events++;
}

void recw_free(struct recw *w, uint64_t addr)
{
	put_u8(w, T_FREE);
	put_sv(w, (int64_t)(addr - w->prev_addr));
	w->prev_addr = addr;
	w->events++;
}

void recw_forget(struct recw *w)
{
	put_u8(w, T_FORGET);
}

void recw_sample(struct recw *w, uint32_t tick, int64_t rss, uint64_t bytes, uint64_t blocks, uint64_t lost)
{
	set_tick(w, tick);
	put_u8(w, T_SAMPLE);
	put_uv(w, (uint64_t)(rss + 1)); /* -1, unknown, is 0 */
	put_uv(w, bytes);
	put_uv(w, blocks);
	put_uv(w, lost);
}

void recw_mark(struct recw *w, uint32_t tick, const char *name, int64_t rss, uint64_t bytes, uint64_t blocks)
{
	set_tick(w, tick);
	put_u8(w, T_MARK);
	put_str(w, name);
	put_uv(w, (uint64_t)(rss + 1)); /* -1, unknown, is 0 */
	put_uv(w, bytes);
	put_uv(w, blocks);
}

int recw_ckpt_begin(struct recw *w, uint32_t tick, uint64_t nblocks, struct mlz_err *err)
{
	if (recw_flush(w, err) < 0)
		return -1;
	set_tick(w, tick);
	put_u8(w, T_CKPT_BEGIN);
	put_uv(w, nblocks);
	return 0;
}

void recw_ckpt_block(struct recw *w, uint64_t addr, uint64_t size, uint32_t stack, uint32_t age)
{
	put_u8(w, T_CKPT_BLOCK);
	put_sv(w, (int64_t)(addr - w->prev_addr));
	put_uv(w, size);
	put_uv(w, stack);
	put_uv(w, age);
	w->prev_addr = addr;
}

void recw_ckpt_end(struct recw *w)
{
	put_u8(w, T_CKPT_END);
}

void recw_peak(struct recw *w, uint64_t bytes, uint64_t event, uint32_t tick)
{
	put_u8(w, T_PEAK);
	put_uv(w, bytes);
	put_uv(w, event);
	put_uv(w, tick);
}

void recw_end(struct recw *w, uint32_t tick, enum rec_end why, int status, uint64_t lost)
{
	set_tick(w, tick);
	put_u8(w, T_END);
	put_uv(w, (uint64_t)why);
	put_uv(w, (uint32_t)status);
	put_uv(w, lost);
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int recw_flush(struct recw *w, struct mlz_err *err)
{
	if (w->failed)
		return mlz_error(err, "the recording stopped at an earlier write error");
	if (!w->len)
		return 0;
	size_t need = REC_CHUNK_HEADER_LEN + ZSTD_compressBound(w->len);
	if (need > w->zcap) {
		free(w->zbuf);
		w->zbuf = xmalloc(need);
		w->zcap = need;
	}
	uint8_t *h = w->zbuf;
	size_t c = ZSTD_compressCCtx(w->cctx, h + REC_CHUNK_HEADER_LEN, w->zcap - REC_CHUNK_HEADER_LEN, w->buf, w->len,
				     w->level);
	if (ZSTD_isError(c))
		return mlz_error(err, "zstd: %s", ZSTD_getErrorName(c));
	memcpy(h, "MLZC", 4);
	le32(h + 4, (uint32_t)c);
	le32(h + 8, (uint32_t)w->len);
	le32(h + 12, (uint32_t)crc32(0, h + REC_CHUNK_HEADER_LEN, (uInt)c));
	le64(h + 16, w->chunk_event);
	le32(h + 24, w->chunk_tick);
	le32(h + 28, (uint32_t)crc32(0, h, 28));
	if (savefile_pwrite_all(w->fd, h, REC_CHUNK_HEADER_LEN + c, (off_t)w->written) < 0) {
		w->failed = true;
		return mlz_error_errno(err, errno, "cannot write the recording");
	}
	w->written += REC_CHUNK_HEADER_LEN + c;
	w->chunks++;
	w->len = 0;
	w->prev_addr = w->prev_pc = 0;
	w->chunk_tick = w->tick;
	w->chunk_event = w->events;
	return 0;
}

int recw_close(struct recw *w, struct mlz_err *err)
{
	int r = w->fd >= 0 && !w->failed ? recw_flush(w, err) : 0;
	if (w->fd >= 0 && close(w->fd) < 0 && r == 0)
		r = mlz_error_errno(err, errno, "cannot write the recording");
	w->fd = -1;
	ZSTD_freeCCtx(w->cctx);
	free(w->buf);
	free(w->zbuf);
	w->cctx = w->buf = w->zbuf = NULL;
	return r;
}

/* --- reading --- */

struct rd {
	const uint8_t *p, *end;
};

static inline int get_uv(struct rd *r, uint64_t *v)
{
	/* most fields are one byte (deltas, small sizes): open decodes every record, so this path counts */
	if (r->p < r->end && !(*r->p & 0x80)) {
		*v = *r->p++;
		return 0;
	}
	uint64_t x = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return -1;
		uint8_t b = *r->p++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1; /* more than ten bytes */
}

static inline int get_sv(struct rd *r, int64_t *v)
{
	uint64_t u;
	if (get_uv(r, &u) < 0)
		return -1;
	*v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
	return 0;
}

/* A string of at most MAX_STR bytes, NUL-terminated, into a new allocation. */
static int get_str(struct rd *r, char **out)
{
	uint64_t n;
	if (get_uv(r, &n) < 0 || n > MAX_STR || n > (uint64_t)(r->end - r->p))
		return -1;
	*out = xstrndup((const char *)r->p, n);
	r->p += n;
	return 0;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

bool recording_magic(const void *data, size_t len)
{
	return len >= REC_MAGIC_LEN && !memcmp(data, REC_MAGIC, REC_MAGIC_LEN);
}

/* How far the parse goes, and what it does with what it reads. */
struct pstate {
	struct recording *r;
	bool load;               /* build the tables; else replay to v */
	const struct rec_visit *v;
	uint64_t upto;
	uint32_t until;
	bool ckpt_active;        /* replay: the starting checkpoint's blocks go to v */
	bool ckpt_seen;          /* replay: the first checkpoint met */
	bool stop;               /* replay: upto reached */
	/* load: the checkpoint being read */
	bool ckpt_open;
	uint64_t ckpt_left;
	struct rec_ckpt ckpt;
	uint64_t events;
	size_t nmarks;           /* replay: marks met so far (the first chunk's start says how many were before) */
	struct u64map tids;      /* load: the threads seen, at most MAX_THREADS (the live set's limit) */
};

#define MAX_THREADS 0xfff0

static void add_module(struct recording *r, uint64_t start, uint64_t end, char *path, char *bid)
{
	for (size_t i = 0; i < r->nmods; i++) {
		if (r->mods[i].start == start && !strcmp(r->mods[i].path, path)) {
			free(path);
			free(bid);
			return;
		}
	}
	ALLOC_GROW(r->mods, r->nmods + 1, r->mods_alloc);
	struct module_range *m = &r->mods[r->nmods++];
	*m = (struct module_range){ .start = start, .end = end, .path = path };
	snprintf(m->build_id, sizeof(m->build_id), "%s", bid);
	free(bid);
}

/* One chunk's records. -1 on anything malformed (with err), or an event number out of order. */
static int parse(struct pstate *ps, size_t chunk, const uint8_t *p, size_t n, struct mlz_err *err)
{
	struct recording *r = ps->r;
	struct rd rd = { p, p + n };
	uint64_t addr = 0, pc = 0;
	uint32_t tick = r->chunks[chunk].first_tick;
	while (rd.p < rd.end && !ps->stop) {
		uint8_t tag = *rd.p++;
		uint64_t a, b, c, d;
		int64_t s;
		char *s1 = NULL, *s2 = NULL, *s3 = NULL;
		switch (tag) {
		case T_INFO:
			if (get_uv(&rd, &a) < 0 || get_str(&rd, &s1) < 0 || get_str(&rd, &s2) < 0 ||
			    get_str(&rd, &s3) < 0 || get_uv(&rd, &b) < 0) {
				free(s1), free(s2), free(s3);
				goto bad;
			}
			if (ps->load && !r->name) {
				r->pid = (int)a;
				r->name = s1, r->exe = s2, r->mode = s3;
				r->start_ns = b;
			} else {
				free(s1), free(s2), free(s3);
			}
			break;
		case T_MAPS:
			if (get_uv(&rd, &a) < 0 || a > (uint64_t)(rd.end - rd.p))
				goto bad;
			for (uint64_t i = 0; i < a; i++) {
				s1 = s2 = NULL; /* the last module's strings belong to the table now */
				if (get_uv(&rd, &b) < 0 || get_uv(&rd, &c) < 0 || get_str(&rd, &s1) < 0 ||
				    get_str(&rd, &s2) < 0 || strlen(s2) > 40 || b + c < b) {
					free(s1), free(s2);
					goto bad;
				}
				if (ps->load)
					add_module(r, b, b + c, s1, s2);
				else
					free(s1), free(s2);
			}
			break;
		case T_STACK:
			if (get_uv(&rd, &a) < 0 || a > INT32_MAX || get_uv(&rd, &b) < 0 || b > MAX_DEPTH)
				goto bad;
			if (ps->load && !u64map_get(&ps->tids, a, &c)) {
				if (ps->tids.n >= MAX_THREADS)
					return mlz_error(err, "more than %d threads in chunk %zu", MAX_THREADS, chunk);
				u64map_put(&ps->tids, a, 1);
			}
			if (ps->load) {
				ALLOC_GROW(r->stacks, r->nstacks + 1, r->stacks_alloc);
				ALLOC_GROW(r->pcs, r->npcs + b + 1, r->pcs_alloc);
				r->stacks[r->nstacks] = (struct rec_stack){ .tid = (int)a, .depth = (uint32_t)b, .off = r->npcs };
			}
			for (uint64_t i = 0; i < b; i++) {
				if (get_sv(&rd, &s) < 0)
					goto bad;
				pc += (uint64_t)s;
				if (ps->load)
					r->pcs[r->npcs + i] = pc;
			}
			if (ps->load) {
				r->npcs += b;
				r->nstacks++;
			}
			break;
		case T_TICK:
			if (get_sv(&rd, &s) < 0)
				goto bad;
			tick = (uint32_t)((int64_t)tick + s);
			break;
		case T_ALLOC:
			if (get_sv(&rd, &s) < 0 || get_uv(&rd, &b) < 0 || get_uv(&rd, &c) < 0)
				goto bad;
			addr += (uint64_t)s;
			if (ps->load) {
				if (c >= r->nstacks || !addr)
					goto bad;
				r->allocs++;
			} else {
				if (ps->events >= ps->upto || tick > ps->until) {
					ps->stop = true;
					break;
				}
				ps->v->alloc(ps->v->arg, addr, b, (uint32_t)c, tick);
			}
			ps->events++;
			break;
		case T_FREE:
			if (get_sv(&rd, &s) < 0)
				goto bad;
			addr += (uint64_t)s;
			if (ps->load) {
				r->frees++;
			} else {
				if (ps->events >= ps->upto || tick > ps->until) {
					ps->stop = true;
					break;
				}
				ps->v->free(ps->v->arg, addr, tick);
			}
			ps->events++;
			break;
		case T_FORGET:
			if (!ps->load)
				ps->v->forget(ps->v->arg);
			break;
		case T_SAMPLE:
			if (get_uv(&rd, &a) < 0 || get_uv(&rd, &b) < 0 || get_uv(&rd, &c) < 0 || get_uv(&rd, &d) < 0)
				goto bad;
			if (ps->load) {
				ALLOC_GROW(r->samples, r->nsamples + 1, r->samples_alloc);
				r->samples[r->nsamples++] = (struct rec_sample){ tick, (int64_t)a - 1, b, c, d };
				r->lost = d;
			}
			break;
		case T_MARK:
			if (get_str(&rd, &s1) < 0 || get_uv(&rd, &a) < 0 || get_uv(&rd, &b) < 0 || get_uv(&rd, &c) < 0) {
				free(s1);
				goto bad;
			}
			if (ps->load) {
				ALLOC_GROW(r->marks, r->nmarks + 1, r->marks_alloc);
				r->marks[r->nmarks++] = (struct rec_mark){ s1, tick, ps->events, (int64_t)a - 1, b, c };
			} else {
				/* a mark names its place among the events: the replay's index of it counts marks */
				if (ps->v->mark && ps->nmarks < r->nmarks)
					ps->v->mark(ps->v->arg, ps->nmarks, tick);
				ps->nmarks++;
				free(s1);
			}
			break;
		case T_CKPT_BEGIN:
			if (get_uv(&rd, &a) < 0)
				goto bad;
			if (ps->load) {
				ps->ckpt_open = true;
				ps->ckpt_left = a;
				ps->ckpt = (struct rec_ckpt){ chunk, tick, ps->events };
			} else {
				ps->ckpt_active = ps->ckpt_active && !ps->ckpt_seen;
				ps->ckpt_seen = true;
				if (ps->ckpt_active)
					ps->v->ckpt_begin(ps->v->arg);
			}
			break;
		case T_CKPT_BLOCK:
			if (get_sv(&rd, &s) < 0 || get_uv(&rd, &b) < 0 || get_uv(&rd, &c) < 0 || get_uv(&rd, &d) < 0)
				goto bad;
			addr += (uint64_t)s;
			if (ps->load) {
				if (!ps->ckpt_open || !ps->ckpt_left || c >= r->nstacks || !addr)
					goto bad;
				ps->ckpt_left--;
			} else if (ps->ckpt_active) {
				ps->v->ckpt_block(ps->v->arg, addr, b, (uint32_t)c, d <= tick ? tick - (uint32_t)d : 0);
			}
			break;
		case T_CKPT_END:
			if (ps->load) {
				if (!ps->ckpt_open || ps->ckpt_left)
					goto bad;
				ps->ckpt_open = false;
				ALLOC_GROW(r->ckpts, r->nckpts + 1, r->ckpts_alloc);
				r->ckpts[r->nckpts++] = ps->ckpt;
			} else {
				ps->ckpt_active = false;
			}
			break;
		case T_PEAK:
			/* an event still to come would make --at peak replay what is not there */
			if (get_uv(&rd, &a) < 0 || get_uv(&rd, &b) < 0 || get_uv(&rd, &c) < 0 || b > ps->events ||
			    c > UINT32_MAX)
				goto bad;
			if (ps->load) {
				r->has_peak = true;
				r->peak_bytes = a;
				r->peak_event = b;
				r->peak_tick = (uint32_t)c;
			}
			break;
		case T_END:
			if (get_uv(&rd, &a) < 0 || get_uv(&rd, &b) < 0 || get_uv(&rd, &c) < 0)
				goto bad;
			if (ps->load) {
				r->ended = true;
				r->end_why = (int)a;
				r->exit_status = (int)b;
				r->lost = c;
			}
			break;
		default:
			return mlz_error(err, "unknown record type %u at byte %zu of chunk %zu", tag,
					 (size_t)(rd.p - 1 - p), chunk);
		}
		if (ps->load && tick > r->last_tick)
			r->last_tick = tick;
	}
	return 0;
bad:
	return mlz_error(err, "a malformed record in chunk %zu", chunk);
}

/* Decompress chunk i into *buf (grown); -1 if it does not decompress to its length. */
static int inflate_chunk(const struct recording *r, size_t i, uint8_t **buf, size_t *cap, struct mlz_err *err)
{
	const struct rec_chunk *c = &r->chunks[i];
	if (c->rlen > *cap || !*buf) { /* an empty chunk still gets a buffer: no arithmetic on NULL */
		free(*buf);
		*buf = xmalloc(c->rlen ? c->rlen : 1);
		*cap = c->rlen;
	}
	size_t n = ZSTD_decompress(*buf, c->rlen, r->data + c->off + REC_CHUNK_HEADER_LEN, c->clen);
	if (ZSTD_isError(n) || n != c->rlen)
		return mlz_error(err, "chunk %zu does not decompress", i);
	return 0;
}

/* The state a chunk's parse may have added to, to drop a chunk that turns out bad. */
struct undo {
	size_t nstacks, npcs, nmods, nsamples, nckpts, nmarks;
	uint64_t allocs, frees, events;
	uint32_t last_tick;
	bool ended, has_peak;
	struct pstate ps;
};

static void unwind_to(struct recording *r, struct pstate *ps, const struct undo *m)
{
	r->nstacks = m->nstacks, r->npcs = m->npcs, r->nsamples = m->nsamples, r->nckpts = m->nckpts;
	while (r->nmarks > m->nmarks)
		free(r->marks[--r->nmarks].name);
	while (r->nmods > m->nmods) {
		r->nmods--;
		free(r->mods[r->nmods].path);
	}
	r->allocs = m->allocs, r->frees = m->frees, r->last_tick = m->last_tick;
	r->ended = m->ended, r->has_peak = m->has_peak;
	struct u64map tids = ps->tids; /* the threads a bad chunk added stay counted: harmless */
	*ps = m->ps;
	ps->tids = tids;
}

int recording_load(struct recording *r, uint8_t *data, size_t len, struct mlz_err *err)
{
	memset(r, 0, sizeof(*r));
	r->data = data;
	r->len = len;
	if (!recording_magic(data, len))
		return mlz_error(err, "not an mlyze recording (no recording header)");
	if (len < REC_HEADER_LEN)
		return mlz_error(err, "the recording is cut off in its header");
	/* version 1 is version 2 without marks, and 2 is 3 without the peak: read them all */
	if (data[8] < 1 || data[8] > REC_VERSION)
		return mlz_error(err, "a recording of format version %u; this mlyze reads versions 1 to %u", data[8],
				 REC_VERSION);
	struct pstate ps = { .r = r, .load = true };
	uint8_t *buf = NULL;
	size_t cap = 0, off = REC_HEADER_LEN;
	r->good = off;
	while (off < len) {
		const uint8_t *h = data + off;
		if (len - off < REC_CHUNK_HEADER_LEN) {
			snprintf(r->note, sizeof(r->note), "cut off in a chunk header at byte %zu", off);
			break;
		}
		if (memcmp(h, "MLZC", 4) || rd32(h + 28) != (uint32_t)crc32(0, h, 28)) {
			snprintf(r->note, sizeof(r->note), "a damaged chunk header at byte %zu", off);
			break;
		}
		uint32_t clen = rd32(h + 4), rlen = rd32(h + 8);
		if (clen > len - off - REC_CHUNK_HEADER_LEN) {
			snprintf(r->note, sizeof(r->note), "cut off in a chunk at byte %zu", off);
			break;
		}
		if (rlen > REC_CHUNK_MAX || rd32(h + 12) != (uint32_t)crc32(0, h + REC_CHUNK_HEADER_LEN, clen) ||
		    rd64(h + 16) != ps.events) {
			snprintf(r->note, sizeof(r->note), "a damaged chunk at byte %zu", off);
			break;
		}
		ALLOC_GROW(r->chunks, r->nchunks + 1, r->chunks_alloc);
		r->chunks[r->nchunks] = (struct rec_chunk){ off, clen, rlen, ps.events, rd32(h + 24), r->nmarks };
		struct undo m = { r->nstacks, r->npcs, r->nmods, r->nsamples, r->nckpts, r->nmarks,
				  r->allocs, r->frees, ps.events, r->last_tick, r->ended, r->has_peak, ps };
		struct mlz_err e2;
		if (inflate_chunk(r, r->nchunks, &buf, &cap, &e2) < 0 || parse(&ps, r->nchunks, buf, rlen, &e2) < 0) {
			unwind_to(r, &ps, &m);
			snprintf(r->note, sizeof(r->note), "chunk at byte %zu: %.200s", off, e2.msg);
			break;
		}
		r->nchunks++;
		off += REC_CHUNK_HEADER_LEN + clen;
		r->good = off;
	}
	free(buf);
	u64map_release(&ps.tids);
	r->events = ps.events;
	if (!r->nchunks)
		return mlz_error(err, "the recording has no complete chunk (%s)", r->note[0] ? r->note : "it is empty");
	if (!r->name)
		return mlz_error(err, "the recording does not say what it recorded (no info record)");
	return 0;
}

int recording_read_file(struct recording *r, const char *path, struct mlz_err *err)
{
	memset(r, 0, sizeof(*r));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return mlz_error_errno(err, e, "cannot open '%s'", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return mlz_error(err, "'%s' is not a regular file", path);
	}
	size_t len = (size_t)st.st_size, got = 0;
	uint8_t *data = xmalloc(len ? len : 1);
	while (got < len) {
		ssize_t k = read(fd, data + got, len - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break; /* the file shrank: read what is there */
		got += (size_t)k;
	}
	close(fd);
	if (recording_load(r, data, got, err) < 0) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		recording_release(r);
		return mlz_error(err, "cannot open recording '%s': %s", path, msg);
	}
	return 0;
}

void recording_release(struct recording *r)
{
	for (size_t i = 0; i < r->nmods; i++)
		free(r->mods[i].path);
	free(r->mods);
	free(r->data);
	free(r->name);
	free(r->exe);
	free(r->mode);
	free(r->chunks);
	free(r->stacks);
	free(r->pcs);
	free(r->samples);
	free(r->ckpts);
	for (size_t i = 0; i < r->nmarks; i++)
		free(r->marks[i].name);
	free(r->marks);
	memset(r, 0, sizeof(*r));
}

int recording_replay(const struct recording *r, size_t chunk, bool ckpt, uint64_t upto, uint32_t until,
		     const struct rec_visit *v, struct mlz_err *err)
{
	struct pstate ps = { .r = (struct recording *)r, .v = v, .upto = upto, .until = until, .ckpt_active = ckpt };
	uint8_t *buf = NULL;
	size_t cap = 0;
	int ret = 0;
	if (chunk < r->nchunks) {
		ps.events = r->chunks[chunk].first_event;
		ps.nmarks = r->chunks[chunk].first_mark;
	}
	for (size_t i = chunk; i < r->nchunks && !ps.stop; i++) {
		if (i > chunk && ps.events >= upto)
			break; /* the first chunk is read even so: it may hold the checkpoint */
		if (cancel_poll(v->cancel, CANCEL_BATCH)) { /* a chunk is thousands of events */
			ret = cancel_error(err);
			break;
		}
		if (inflate_chunk(r, i, &buf, &cap, err) < 0 || parse(&ps, i, buf, r->chunks[i].rlen, err) < 0) {
			ret = -1;
			break;
		}
	}
	free(buf);
	return ret;
}
