/* SPDX-License-Identifier: GPL-3.0-or-later */
/* snapfile.h - a snapshot as a file of its own (`save`, `load`, `mlyze open`): see docs/savefile-format.md. */
#ifndef MLZ_SNAPFILE_H
#define MLZ_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct clockidx;
struct liveset;
struct snap_source;
struct snapshot;
struct stacktab;
struct strbuf;
struct sym;

/*
 * Usage:
 *	struct strbuf out = STRBUF_INIT;
 *	snapfile_encode(&(struct snapfile_in){ s, src, origin, sym, stacks, clock }, &out, &err);
 *	... write out.buf, out.len ...
 *
 *	struct snapshot s;
 *	snapfile_decode(bytes, len, "FILE", SNAPFILE_MAX_PAYLOAD, &session->live, sym, &s, &err);
 *
 * A file holds everything `snapshots`, `top`, `compare`, `blocks` and
 * `export` print of the snapshot without the process or its binaries: its
 * blocks with their stacks, each stack's frames as resolved when it was
 * saved (function, file:line, inlined, module) and the modules with their
 * build-ids, the untraced blocks of the heap walk, the totals, RSS, how long
 * the process was stopped, and where it was taken.
 */

#define SNAPFILE_MAGIC "MLYZSNAP"
#define SNAPFILE_VERSION 1
#define SNAPFILE_HEADER 32
/*
 * The largest payload `load` accepts: 4 GiB, some two billion walked blocks.
 * What a small file may make the reader allocate stops there.
 */
#define SNAPFILE_MAX_PAYLOAD (4ull << 30)

struct snapfile_in {
	const struct snapshot *s;
	const struct snap_source *src; /* where it was taken (a loaded snapshot's own, or this session's) */
	uint64_t origin;               /* the session that took it */
	struct sym *sym;               /* resolves its stacks' PCs */
	const struct stacktab *stacks; /* which its stack ids index */
	const struct clockidx *clock;  /* its blocks' times */
};

/* The file's bytes, appended to out. Returns 0, or -1 with err set (only compression can fail). */
int snapfile_encode(const struct snapfile_in *in, struct strbuf *out, struct mlz_err *err);

/*
 * Read a file's bytes into *s (zeroed first; the caller releases it with
 * snapshot_release): its stacks are made in ls, their frames registered in
 * sym as saved ones. what names the file in errors: a foreign file (bad
 * magic), a newer version, a truncated or damaged one (checksum, or any
 * length or count beyond what remains) are each refused with what is wrong.
 * max_payload bounds what decompression may produce, whatever the header
 * says. Returns 0, or -1 with err set and nothing kept in *s.
 */
int snapfile_decode(const void *data, size_t len, const char *what, uint64_t max_payload, struct liveset *ls,
		    struct sym *sym, struct snapshot *s, struct mlz_err *err);

#endif
