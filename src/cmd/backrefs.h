/* SPDX-License-Identifier: GPL-3.0-or-later */
/* backrefs.h - who points at a block, breadth first, and that as a Graphviz graph: for backrefs and export dot. */
#ifndef MLZ_BACKREFS_H
#define MLZ_BACKREFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct graph;
struct strbuf;

/* One referrer: a block (from >= 0) or a root (root >= 0) pointing at block `to`. */
struct ref {
	long from, root;
	uint32_t to;
	bool interior;
	int depth;
};

/*
 * The referrers of block target in g, breadth first, up to depth steps and at
 * most limit of them (0: all); *truncated says whether the limit cut the
 * search. Returns the array (caller frees), *n its length.
 */
struct ref *backrefs_find(struct graph *g, uint32_t target, long depth, long limit, size_t *n, bool *truncated);
/* The referrers as a Graphviz digraph: boxes for blocks, ellipses for roots, dashed interior pointers. */
void backrefs_dot(const struct graph *g, const struct ref *r, size_t n, uint32_t target, struct strbuf *out);

#endif
