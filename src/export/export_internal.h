/* SPDX-License-Identifier: GPL-3.0-or-later */
/* export_internal.h - what the encoders of the export module share, not its users. */
#ifndef MLZ_EXPORT_INTERNAL_H
#define MLZ_EXPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export.h"

struct sym_pc;
struct sym_frame;

/* One record's figures: in the base (0 without one) and in the set. */
struct export_value {
	int64_t count_a, bytes_a, count_b, bytes_b;
};

/*
 * Records 0 .. export_nrecords(in) - 1: the stacks first, then the untraced
 * size classes when they count. export_value() fills *v and returns false for
 * a record with nothing in either set; *stack gets its stack id, or
 * EXPORT_UNTRACED with *cls its size class.
 */
#define EXPORT_UNTRACED UINT32_MAX
size_t export_nrecords(const struct export_set *in);
bool export_value(const struct export_set *in, size_t i, struct export_value *v, uint32_t *stack, unsigned *cls);

/*
 * A frame's name: its function, else "module+0xOFF" (the PC in its module),
 * else "0xPC". buf holds the last two; the result is buf or f->function.
 */
const char *export_frame_name(const struct sym_pc *r, const struct sym_frame *f, char *buf, size_t len);

/*
 * The records as a tree of frames. Node 0 is the root (root_name, or "all");
 * each node holds what the records under it add up to: bytes in the base (a),
 * in the set (b), |b - a| summed per record (mag), blocks in the set. Frames
 * are merged by name and file:line, and by PC too with by_pc (massif's
 * nodes are code addresses). The tree owns its strings.
 */
struct ftree_node {
	char *name, *loc; /* function (or module+0xOFF, 0xPC); "file:line", "in MODULE" or NULL */
	uint64_t pc;      /* 0 unless by_pc */
	int64_t a, b, mag, count_b;
	uint32_t parent, first_child, next_sibling; /* 0: none (the root is nobody's child) */
};
struct ftree {
	struct ftree_node *v;
	size_t n, alloc;
};
struct ftree_opts {
	bool outermost_first; /* a flame graph's order; else innermost first, massif's */
	bool by_pc;
	bool traced_only;     /* leave out the blocks from before attach */
	const char *root_name;
};
void ftree_build(const struct export_set *in, const struct ftree_opts *o, struct ftree *t);
void ftree_release(struct ftree *t);
/* node's children in *out (caller frees), biggest first by b or mag, or by name; returns how many. */
enum ftree_order { FTREE_BY_B, FTREE_BY_MAG, FTREE_BY_NAME };
size_t ftree_children(const struct ftree *t, uint32_t node, enum ftree_order order, uint32_t **out);

struct strbuf;
/* s as XML text or attribute value: the five specials as entities, bytes XML cannot hold as U+FFFD. */
void xml_add_text(struct strbuf *sb, const char *s);

int export_folded(const struct export_set *in, struct strbuf *out, size_t *records);
int export_pprof(const struct export_set *in, struct strbuf *out, size_t *records, struct mlz_err *err);
int export_svg(const struct export_set *in, struct strbuf *out, size_t *records);
/* data as a gzip member (RFC 1952), appended to out. */
int gzip_encode(const void *data, size_t len, struct strbuf *out, struct mlz_err *err);

#endif
