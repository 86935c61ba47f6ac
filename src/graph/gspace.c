// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * gspace.c - the words of a block that may point into a block, coded in 32
 * bits as the heap walk meets them (graph.h, struct gspace): the scan's first
 * half, done while the walk holds the block's bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "xalloc.h"

#define GRAIN_SHIFT 4
#define CODE_GRAINS (1ull << 30) /* two bits of a code say where in its grain */

bool gspace_init(struct gspace *sp, const uint64_t (*v)[2], size_t n)
{
	memset(sp, 0, sizeof(*sp));
	uint64_t grains = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t lo = v[i][0] & ~15ull;
		if (v[i][1] <= lo || (i && lo < v[i - 1][1]))
			return false; /* not sorted and disjoint: the walk's spans always are */
		grains += (v[i][1] - lo + 15) >> GRAIN_SHIFT;
		if (grains > CODE_GRAINS)
			return false;
	}
	if (!n)
		return false;
	sp->span = xmalloc(n * sizeof(*sp->span));
	sp->base = xmalloc((n + 1) * sizeof(*sp->base));
	sp->n = n;
	grains = 0;
	for (size_t i = 0; i < n; i++) {
		sp->span[i][0] = v[i][0] & ~15ull;
		sp->span[i][1] = v[i][1];
		sp->base[i] = grains;
		grains += (v[i][1] - sp->span[i][0] + 15) >> GRAIN_SHIFT;
	}
	sp->base[n] = grains;
	sp->lo = sp->span[0][0];
	sp->len = sp->span[n - 1][1] - sp->lo;
	return true;
}

void gspace_release(struct gspace *sp)
{
	free(sp->span);
	free(sp->base);
	memset(sp, 0, sizeof(*sp));
}

/* Where in its grain a word points: 0 at the start, 1 below 8, 2 at 8, 3 above 8. */
static const uint8_t in_grain[16] = { 0, 1, 1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 3, 3, 3 };
/* The word each of those stands for, from its grain's start: one that falls where the word does. */
static const uint8_t stand_for[4] = { 0, 1, 8, 15 };

size_t gspace_scan(const struct gspace *sp, const uint8_t *bytes, size_t len, uint32_t *out)
{
	size_t nc = 0, s = 0;
	/* the first filter without a branch (a word is a pointer as good as at random), into out as offsets */
	for (uint32_t off = 0; off < len; off += 8) {
		uint64_t v;
		memcpy(&v, bytes + off, 8);
		out[nc] = off;
		nc += v - sp->lo < sp->len;
	}
	size_t n = 0;
	for (size_t k = 0; k < nc; k++) {
		uint64_t v;
		memcpy(&v, bytes + out[k], 8);
		if (v < sp->span[s][0] || v >= sp->span[s][1]) {
			size_t lo = 0, hi = sp->n; /* the span that ends above v */
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (sp->span[mid][1] <= v)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo == sp->n || v < sp->span[lo][0])
				continue;
			s = lo;
		}
		uint64_t grain = sp->base[s] + ((v - sp->span[s][0]) >> GRAIN_SHIFT);
		out[n++] = (uint32_t)(grain << 2 | in_grain[v & 15]); /* n <= k: the offsets read are behind */
	}
	return n;
}

uint64_t gspace_word(const struct gspace *sp, uint32_t c, size_t *hint)
{
	uint64_t grain = c >> 2;
	size_t s = *hint;
	if (s >= sp->n || grain < sp->base[s] || grain >= sp->base[s + 1]) {
		size_t lo = 0, hi = sp->n;
		while (lo < hi) { /* the span whose grains end above grain */
			size_t mid = lo + (hi - lo) / 2;
			if (sp->base[mid + 1] <= grain)
				lo = mid + 1;
			else
				hi = mid;
		}
		s = *hint = lo < sp->n ? lo : sp->n - 1;
	}
	return sp->span[s][0] + ((grain - sp->base[s]) << GRAIN_SHIFT) + stand_for[c & 3];
}
