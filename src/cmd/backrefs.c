// SPDX-License-Identifier: GPL-3.0-or-later
/* backrefs.c - the referrers of a block, breadth first over incoming edges, and their Graphviz form. */
#include <inttypes.h>
#include <stdlib.h>

#include "backrefs.h"
#include "graph.h"
#include "strbuf.h"
#include "u64map.h"
#include "xalloc.h"

struct ref *backrefs_find(struct graph *g, uint32_t target, long depth, long limit, size_t *n, bool *truncated)
{
	uint32_t *queue = NULL;
	struct u64map level; /* each block's depth, for the blocks visited */
	u64map_init(&level);
	struct ref *refs = NULL;
	size_t nrefs = 0, alloc = 0, head = 0, tail = 0, qalloc = 0;
	*truncated = false;
	graph_reverse(g);
	u64map_add(&level, target, 0);
	ALLOC_GROW(queue, tail + 1, qalloc);
	queue[tail++] = target;
	while (head < tail && !*truncated) {
		uint32_t i = queue[head++];
		uint64_t d = 0;
		u64map_get(&level, i, &d); /* every queued block has its depth */
		int li = (int)d;
		if (li >= depth)
			continue;
		size_t rf, nr = graph_roots_of(g, i, &rf);
		for (size_t k = rf; k < rf + nr && !*truncated; k++) {
			ALLOC_GROW(refs, nrefs + 1, alloc);
			refs[nrefs++] = (struct ref){ -1, (long)k, i, g->roots[k].interior, li + 1 };
			*truncated = limit && (long)nrefs >= limit;
		}
		size_t f, ni = graph_interior_in(g, i, &f);
		for (size_t e = g->in_off[i]; e < g->in_off[i + 1] + ni && !*truncated; e++) {
			bool interior = e >= g->in_off[i + 1];
			uint32_t j = interior ? g->ito[f + (e - g->in_off[i + 1])].from : g->in[e];
			ALLOC_GROW(refs, nrefs + 1, alloc);
			refs[nrefs++] = (struct ref){ (long)j, -1, i, interior, li + 1 };
			*truncated = limit && (long)nrefs >= limit;
			if (u64map_add(&level, j, (uint64_t)li + 1)) {
				ALLOC_GROW(queue, tail + 1, qalloc);
				queue[tail++] = j;
			}
		}
	}
	free(queue);
	u64map_release(&level);
	*n = nrefs;
	return refs;
}

void backrefs_dot(const struct graph *g, const struct ref *r, size_t n, uint32_t target, struct strbuf *out)
{
	strbuf_addstr(out, "digraph backrefs {\n  node [shape=box, fontname=monospace];\n");
	strbuf_addf(out, "  b%u [label=\"0x%" PRIx64 "\\n%" PRIu32 " bytes\", style=bold];\n", target, g->addr[target],
		    g->size[target]);
	for (size_t k = 0; k < n; k++) {
		if (r[k].from >= 0)
			strbuf_addf(out, "  b%ld [label=\"0x%" PRIx64 "\\n%" PRIu32 " bytes\"];\n  b%ld -> b%u%s;\n", r[k].from,
				    g->addr[r[k].from], g->size[r[k].from], r[k].from, r[k].to,
				    r[k].interior ? " [style=dashed]" : "");
		else
			strbuf_addf(out, "  r%ld [label=\"root 0x%" PRIx64 "\", shape=ellipse];\n  r%ld -> b%u%s;\n", r[k].root,
				    g->roots[r[k].root].where, r[k].root, r[k].to, r[k].interior ? " [style=dashed]" : "");
	}
	strbuf_addstr(out, "}\n");
}
