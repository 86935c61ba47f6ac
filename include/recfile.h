/* SPDX-License-Identifier: GPL-3.0-or-later */
/* recfile.h - the recording file format (docs/record-format.md): zstd chunks of varint records, written and read. */
#ifndef MLZ_RECFILE_H
#define MLZ_RECFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "target.h"

struct cancel;

/*
 * Usage:
 *	struct recw w;
 *	recw_open(&w, path, false, &err);            // the file header; 0 or -1
 *	recw_info(&w, ...); recw_stack(&w, tid, pcs, depth);   // stack ids count from 0
 *	recw_alloc(&w, addr, size, stack, tick); recw_free(&w, addr);
 *	if (recw_due(&w)) recw_flush(&w, &err);  // one chunk: compressed, checksummed, written
 *	recw_close(&w, &err);
 *
 *	struct recording r;
 *	recording_load(&r, data, len, &err);   // takes data (malloc'd); reads up to the last good chunk
 *	recording_replay(&r, chunk, upto, &visit, &err);
 *	recording_release(&r);
 */

#define REC_MAGIC "\x89MLZREC\n"
#define REC_MAGIC_LEN 8
/*
 * 2 added MARK records and 3 the PEAK record; a reader of an older version
 * would stop at the first chunk holding one, as damaged
 */
#define REC_VERSION 3
#define REC_HEADER_LEN 16
#define REC_CHUNK_HEADER_LEN 32
/* A chunk holds at most this many bytes before compression (the writer flushes before). */
#define REC_CHUNK_MAX (8u << 20)

/* Why recording ended, in its END record. */
enum rec_end { REC_END_DURATION, REC_END_SIGNAL, REC_END_EXITED, REC_END_ERROR, REC_END_DETACHED };

struct recw {
	int fd;
	uint8_t *buf;        /* the chunk being filled, uncompressed */
	size_t len, alloc;
	void *zbuf;          /* its compressed form */
	size_t zcap;
	void *cctx;          /* ZSTD_CCtx */
	int level;
	/* delta state, reset at every chunk so that each can be decoded alone */
	uint64_t prev_addr, prev_pc;
	uint32_t tick, chunk_tick;
	uint64_t events, chunk_event; /* allocations and frees so far, and before this chunk */
	uint64_t nstacks;             /* stacks written: the next one's id */
	uint64_t written;             /* bytes in the file */
	uint64_t chunks;
	bool failed;                  /* a write failed: nothing more goes to the file */
};

/* Create the file at path (an existing one only with force; never through a symbolic link). */
int recw_open(struct recw *w, const char *path, bool force, struct mlz_err *err);
void recw_info(struct recw *w, int pid, const char *name, const char *exe, const char *mode, uint64_t start_unix_ns);
/* The module list from now on (the whole of it). */
void recw_maps(struct recw *w, const struct module_range *m, size_t n);
/* A new stack: its id is w->nstacks before the call. */
uint32_t recw_stack(struct recw *w, int tid, const uint64_t *pcs, int depth);
void recw_alloc(struct recw *w, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick);
void recw_free(struct recw *w, uint64_t addr);
void recw_forget(struct recw *w);
void recw_sample(struct recw *w, uint32_t tick, int64_t rss, uint64_t bytes, uint64_t blocks, uint64_t lost);
/* A mark named name here, among the events, with the RSS (-1 unknown) and the live set's totals then. */
void recw_mark(struct recw *w, uint32_t tick, const char *name, int64_t rss, uint64_t bytes, uint64_t blocks);
/* A checkpoint, in chunks of its own: begin (flushes first; may fail), blocks, end. */
int recw_ckpt_begin(struct recw *w, uint32_t tick, uint64_t nblocks, struct mlz_err *err);
/* A live block, made age ticks before the checkpoint. */
void recw_ckpt_block(struct recw *w, uint64_t addr, uint64_t size, uint32_t stack, uint32_t age);
void recw_ckpt_end(struct recw *w);
/* The most live bytes the file's events reached, first after event number event (1-based; 0: none), at tick. */
void recw_peak(struct recw *w, uint64_t bytes, uint64_t event, uint32_t tick);
void recw_end(struct recw *w, uint32_t tick, enum rec_end why, int status, uint64_t lost);
/* The chunk is full enough to be written now. */
static inline bool recw_due(const struct recw *w) { return w->len >= REC_CHUNK_MAX - 4096; }
/* Compress and write the chunk (nothing when empty); -1 with errno's message when the write fails. */
int recw_flush(struct recw *w, struct mlz_err *err);
/* Flush and close; the writer is released either way. */
int recw_close(struct recw *w, struct mlz_err *err);

/* --- reading --- */
struct rec_chunk {
	uint64_t off;        /* of its header in the file */
	uint32_t clen, rlen;
	uint64_t first_event;
	uint32_t first_tick;
	size_t first_mark;   /* marks in the file before this chunk */
};

struct rec_stack {
	int tid;
	uint32_t depth;
	size_t off;          /* into pcs */
};

struct rec_sample {
	uint32_t tick;
	int64_t rss;         /* -1 unknown */
	uint64_t bytes, blocks, lost;
};

struct rec_mark {
	char *name;
	uint32_t tick;
	uint64_t event;      /* events before it */
	int64_t rss;         /* -1 unknown */
	uint64_t bytes, blocks;
};

struct rec_ckpt {
	size_t chunk;        /* where it begins */
	uint32_t tick;
	uint64_t event;      /* events before it */
};

struct recording {
	uint8_t *data;
	size_t len;
	size_t good;         /* bytes read: up to the end of the last good chunk */
	char note[256];      /* why reading stopped before the end of the file, "" if it did not */
	int pid;
	char *name, *exe, *mode;
	uint64_t start_ns;   /* wall clock at the start, ns since the epoch */
	struct rec_chunk *chunks;
	size_t nchunks, chunks_alloc;
	struct rec_stack *stacks;
	size_t nstacks, stacks_alloc;
	uint64_t *pcs;
	size_t npcs, pcs_alloc;
	struct module_range *mods; /* every module seen, in the order first seen */
	size_t nmods, mods_alloc;
	struct rec_sample *samples;
	size_t nsamples, samples_alloc;
	struct rec_ckpt *ckpts;    /* complete ones only */
	size_t nckpts, ckpts_alloc;
	struct rec_mark *marks;    /* in the order written */
	size_t nmarks, marks_alloc;
	uint64_t events, allocs, frees;
	uint32_t last_tick;
	bool ended;          /* an END record was read */
	bool has_peak;       /* a PEAK record was read (version 3): the peak is known without a replay */
	uint64_t peak_bytes, peak_event;
	uint32_t peak_tick;
	int end_why, exit_status;
	uint64_t lost;
};

/* Whether len bytes start like a recording. */
bool recording_magic(const void *data, size_t len);
/*
 * Read a recording from data (malloc'd; r owns it from now, even on error):
 * every chunk checked and decoded once for the stacks, modules, samples and
 * checkpoints. A damaged or cut chunk ends the reading there (note says so);
 * -1 when not even the first chunk is good, or data is no recording.
 */
int recording_load(struct recording *r, uint8_t *data, size_t len, struct mlz_err *err);
/* The same from a file. */
int recording_read_file(struct recording *r, const char *path, struct mlz_err *err);
void recording_release(struct recording *r);

/* What a replay hands on. Checkpoint blocks come only from the checkpoint the replay starts at. */
struct rec_visit {
	void *arg;
	void (*alloc)(void *arg, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick);
	void (*free)(void *arg, uint64_t addr, uint32_t tick);
	void (*forget)(void *arg);
	void (*ckpt_begin)(void *arg);
	void (*ckpt_block)(void *arg, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick);
	void (*mark)(void *arg, size_t index, uint32_t tick); /* r->marks[index] is here; may be NULL */
	struct cancel *cancel; /* asked between chunks; NULL: never stops */
};
/*
 * Replay the events of the chunks from chunk on, up to (not including) event
 * number upto and the first event after tick until; with ckpt, chunk must begin a checkpoint, whose blocks come
 * first. 0, or -1 if a chunk cannot be decoded (it was at load: not expected) or
 * v->cancel said stop (MLZ_E_INTERRUPTED).
 */
int recording_replay(const struct recording *r, size_t chunk, bool ckpt, uint64_t upto, uint32_t until,
		     const struct rec_visit *v,
		     struct mlz_err *err);

#endif
