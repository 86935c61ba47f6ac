// SPDX-License-Identifier: GPL-3.0-or-later
/* fuzz-rec.c - libFuzzer target: any bytes as a recording; the reader reads or refuses, and replays what it read, never crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "err.h"
#include "liveset.h"
#include "recfile.h"
#include "xalloc.h"

struct ctx {
	struct liveset ls;
	uint32_t *live_of;
	size_t nstacks;
};

static void v_alloc(void *arg, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick)
{
	struct ctx *c = arg;
	if (stack >= c->nstacks)
		BUG("replay handed stack %u of %zu", stack, c->nstacks);
	liveset_add(&c->ls, addr, size, c->live_of[stack], tick, 0);
}

static void v_free(void *arg, uint64_t addr, uint32_t tick)
{
	(void)tick;
	liveset_remove(&((struct ctx *)arg)->ls, addr);
}

static void v_forget(void *arg)
{
	liveset_forget_blocks(&((struct ctx *)arg)->ls);
}

static void v_block(void *arg, uint64_t addr, uint64_t size, uint32_t stack, uint32_t tick)
{
	v_alloc(arg, addr, size, stack, tick);
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * The input as the records of one good chunk: checksums and compression
 * would otherwise stop almost every mutation before the record parser.
 */
static uint8_t *as_chunk(const uint8_t *data, size_t size, size_t *len)
{
	size_t cap = REC_HEADER_LEN + REC_CHUNK_HEADER_LEN + ZSTD_compressBound(size);
	uint8_t *f = xcalloc(1, cap);
	memcpy(f, REC_MAGIC, REC_MAGIC_LEN);
	f[8] = REC_VERSION;
	uint8_t *h = f + REC_HEADER_LEN;
	size_t c = ZSTD_compress(h + REC_CHUNK_HEADER_LEN, cap - REC_HEADER_LEN - REC_CHUNK_HEADER_LEN, data, size, 1);
	if (ZSTD_isError(c))
		c = 0;
	memcpy(h, "MLZC", 4);
	le32(h + 4, (uint32_t)c);
	le32(h + 8, (uint32_t)size);
	le32(h + 12, (uint32_t)crc32(0, h + REC_CHUNK_HEADER_LEN, (uInt)c));
	le32(h + 28, (uint32_t)crc32(0, h, 28));
	*len = REC_HEADER_LEN + REC_CHUNK_HEADER_LEN + c;
	return f;
}

static void one(uint8_t *copy, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = xmalloc(size ? size : 1);
	memcpy(copy, data, size);
	one(copy, size);
	if (size <= REC_CHUNK_MAX) {
		size_t len;
		uint8_t *f = as_chunk(data, size, &len);
		one(f, len);
	}
	return 0;
}

/* Load copy (which it takes) and replay what loaded. */
static void one(uint8_t *copy, size_t size)
{
	struct recording r;
	struct mlz_err err;
	if (recording_load(&r, copy, size, &err) < 0) {
		recording_release(&r);
		return;
	}
	/* as replay.c does: every stack in a live set, then the events from the start and from each checkpoint */
	struct ctx c = { .nstacks = r.nstacks };
	liveset_init(&c.ls);
	c.ls.sweep_after = UINT64_MAX;
	c.ls.mem_limit = 0;
	c.live_of = xmalloc((r.nstacks + 1) * sizeof(*c.live_of));
	for (size_t i = 0; i < r.nstacks; i++)
		c.live_of[i] = liveset_stack(&c.ls, liveset_thread(&c.ls, r.stacks[i].tid), r.pcs + r.stacks[i].off,
					     (int)r.stacks[i].depth);
	struct rec_visit v = { &c, v_alloc, v_free, v_forget, v_forget, v_block };
	if (recording_replay(&r, 0, false, UINT64_MAX, UINT32_MAX, &v, &err) < 0)
		BUG("a recording that loaded does not replay: %s", err.msg);
	for (size_t i = 0; i < r.nckpts; i++) {
		liveset_forget_blocks(&c.ls);
		if (recording_replay(&r, r.ckpts[i].chunk, true, r.ckpts[i].event + 1, UINT32_MAX, &v, &err) < 0)
			BUG("checkpoint %zu does not replay: %s", i, err.msg);
	}
	if (r.has_peak) { /* as --at peak: from the last checkpoint at or before the PEAK record's event */
		const struct rec_ckpt *k = NULL;
		for (size_t i = 0; i < r.nckpts; i++)
			if (r.ckpts[i].event <= r.peak_event)
				k = &r.ckpts[i];
		liveset_forget_blocks(&c.ls);
		if (recording_replay(&r, k ? k->chunk : 0, k != NULL, r.peak_event, UINT32_MAX, &v, &err) < 0)
			BUG("the peak does not replay: %s", err.msg);
	}
	free(c.live_of);
	liveset_release(&c.ls);
	recording_release(&r);
}
