/* SPDX-License-Identifier: GPL-3.0-or-later */
/* export.h - a live set, the difference of two, or the timeline, in formats other tools read. */
#ifndef MLZ_EXPORT_H
#define MLZ_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "timeline.h"

struct alloc_fns;

struct by_stack;
struct stacktab;
struct strbuf;
struct sym;

/*
 * Usage:
 *	enum export_format f;
 *	if (export_format_parse(word, &f, &err) < 0) ...
 *	struct export_set in = { sym, stacks, base, set, "comment" };
 *	struct strbuf out = STRBUF_INIT;
 *	if (export_encode(f, &in, &out, &records, &err) < 0) ...
 *	... write out.buf, out.len bytes ...; strbuf_release(&out);
 *
 * Each stack starts at its allocation site, as `top` groups it: the
 * allocator's own frames (malloc, operator new, strdup...) are left out.
 * Blocks only a heap walk found have no stack and count under one frame,
 * "<before attach>"; with a base they count only when both sets walked the
 * heap, as `compare` has it.
 */

/* The formats of a set (export_encode), then those of the timeline and of the reference graph. */
enum export_format { EXPORT_FOLDED, EXPORT_PPROF, EXPORT_SVG, EXPORT_MASSIF, EXPORT_SVG_TIMELINE, EXPORT_DOT,
		     EXPORT_NFORMATS };
extern const char *const export_format_names[EXPORT_NFORMATS];

/* The format called word; a usage error naming the formats otherwise. */
int export_format_parse(const char *word, enum export_format *f, struct mlz_err *err);

struct export_set {
	struct sym *sym;               /* symbolizes the stacks' PCs */
	const struct stacktab *stacks; /* the session's stacks, which both sets index */
	const struct by_stack *base;   /* NULL, or the set to subtract: the export is set - base */
	const struct by_stack *set;
	const char *comment;           /* what this is, for formats that keep a comment (pprof); may be NULL */
	const struct alloc_fns *alloc_fns; /* wrappers skipped as the allocator is, as top skips them; may be NULL */
};

/*
 * Encode in as format f, appended to out: folded is text, "frame;...;leaf
 * BYTES" per line, outermost frame first (with a base, "STACK BASE_BYTES
 * BYTES", the form of flamegraph.pl's differential graphs); pprof is a
 * gzipped profile.proto with inuse_objects and inuse_space (with a base,
 * set - base, values may be negative). *records gets the lines or samples
 * written. Returns 0, or -1 with err set (only zlib can fail).
 */
int export_encode(enum export_format f, const struct export_set *in, struct strbuf *out, size_t *records,
		  struct mlz_err *err);

/*
 * The timeline's formats. massif: valgrind massif's out format (ms_print,
 * massif-visualizer), one massif snapshot per point, with the traced bytes
 * (blocks from before attach are left out: they have no stack and no time),
 * a detailed heap tree for a snapshot, empty for a mark, and the live set's
 * peak as the "peak" snapshot when peak is not NULL. svg-timeline: a line
 * chart of the heap in use and the RSS against time, each point named.
 * *records gets the snapshots or points written. Neither fails.
 */
struct export_timeline {
	struct sym *sym;
	const struct stacktab *stacks;
	const struct tl_point *points; /* by time */
	size_t n;
	const struct by_stack *peak;   /* the live set at its peak, or NULL */
	uint64_t peak_bytes;
	uint32_t peak_tick;
	unsigned tick_ms;              /* milliseconds per tick */
	const char *cmd, *desc;        /* the program, and what this is */
};
int export_massif(const struct export_timeline *in, struct strbuf *out, size_t *records);
int export_svg_timeline(const struct export_timeline *in, struct strbuf *out, size_t *records);

#endif
