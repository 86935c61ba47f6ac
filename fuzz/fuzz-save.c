// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * fuzz-save.c - libFuzzer target: any bytes as a saved snapshot (`load`). An
 * input that starts with the magic is a whole file; any other is a payload,
 * wrapped here in a valid header and zstd frame with its CRC32, so mutations
 * reach the section reader past the checksum. A snapshot that loads is then
 * grouped every way and exported, as top, compare and export would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "export.h"
#include "group.h"
#include "liveset.h"
#include "snapfile.h"
#include "snapshot.h"
#include "strbuf.h"
#include "sym.h"
#include "target.h"

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t *wrap(const uint8_t *payload, size_t n, size_t *len)
{
	size_t bound = ZSTD_compressBound(n);
	uint8_t *f = malloc(SNAPFILE_HEADER + bound);
	size_t zn = ZSTD_compress(f + SNAPFILE_HEADER, bound, payload, n, 1);
	if (ZSTD_isError(zn)) {
		free(f);
		return NULL;
	}
	memcpy(f, SNAPFILE_MAGIC, 8);
	put_le(f + 8, SNAPFILE_VERSION, 2);
	put_le(f + 10, 0, 2);
	put_le(f + 12, crc32(crc32(0L, Z_NULL, 0), payload, (uInt)n), 4);
	put_le(f + 16, n, 8);
	put_le(f + 24, zn, 8);
	*len = SNAPFILE_HEADER + zn;
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *wrapped = NULL;
	const uint8_t *file = data;
	size_t len = size;
	if (size < 8 || memcmp(data, SNAPFILE_MAGIC, 8)) {
		if (!(wrapped = wrap(data, size, &len)))
			return 0;
		file = wrapped;
	}
	struct target *t = target_open_none();
	struct mlz_err err;
	struct sym *sym = sym_new(t, NULL, &err);
	struct liveset ls;
	liveset_init(&ls);
	struct snapshot s;
	if (sym && snapfile_decode(file, len, "fuzz", 64u << 20, &ls, sym, &s, &err) == 0) {
		struct keys k = { 0 };
		for (int by = 0; by <= BY_STACK_NAMES; by++) {
			struct grouping_opts o = { .by = (enum group_by)by, .cumulative = by == BY_FUNCTION };
			size_t n;
			struct group *g = group_compare(&k, sym, &ls.stacks, NULL, &s.by, &o, &n);
			free(g);
		}
		keys_release(&k);
		for (int f = EXPORT_FOLDED; f <= EXPORT_SVG; f++) { /* the formats of a set */
			struct export_set in = { sym, &ls.stacks, NULL, &s.by, "fuzz" };
			struct strbuf out = STRBUF_INIT;
			size_t records;
			export_encode((enum export_format)f, &in, &out, &records, &err);
			strbuf_release(&out);
		}
		snapshot_release(&s);
	}
	liveset_release(&ls);
	sym_free(sym);
	target_free(t);
	free(wrapped);
	return 0;
}
