// SPDX-License-Identifier: GPL-3.0-or-later
/* u64map.c - a hash map from 64-bit keys to 64-bit values: open addressing, linear probing. */
#include <stdlib.h>
#include <string.h>

#include "u64map.h"
#include "xalloc.h"

/* Small enough for a query that visits a handful of blocks, large enough to skip the first doublings. */
#define MIN_CAP 512

void u64map_init(struct u64map *m)
{
	memset(m, 0, sizeof(*m));
}

void u64map_release(struct u64map *m)
{
	free(m->slots);
	u64map_init(m);
}

void u64map_clear(struct u64map *m)
{
	if (m->slots)
		memset(m->slots, 0, m->cap * sizeof(*m->slots));
	m->n = 0;
	m->has_zero = false;
	m->zero_val = 0;
}

/* The slot holding key (not 0), or the empty slot where it would go; the table must have one. */
static struct u64map_slot *find(const struct u64map *m, uint64_t key)
{
	size_t mask = m->cap - 1;
	for (size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> m->shift);; i = (i + 1) & mask) {
		struct u64map_slot *s = &m->slots[i];
		if (s->key == key || !s->key)
			return s;
	}
}

static void grow(struct u64map *m)
{
	struct u64map_slot *old = m->slots;
	size_t oldcap = m->cap;
	m->cap = oldcap ? oldcap * 2 : MIN_CAP;
	m->shift = 64 - (unsigned)__builtin_ctzll(m->cap);
	/*
	 * Zeroed by writing, not calloc: a probe reads a slot before it writes
	 * it, and a fresh page read first is the kernel's zero page, so the
	 * write faults again and flushes the page from every processor mlyze's
	 * threads ran on (an interprocessor interrupt a page, about 27 us in a VM).
	 */
	m->slots = memset(xmalloc(m->cap * sizeof(*m->slots)), 0, m->cap * sizeof(*m->slots));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			*find(m, old[i].key) = old[i];
	free(old);
}

/* The value of key, inserted as 0 if it was absent (*added tells); stays valid until the next insertion. */
static uint64_t *value_of(struct u64map *m, uint64_t key, bool *added)
{
	*added = false;
	if (!key) {
		if (!m->has_zero) {
			m->has_zero = true;
			m->zero_val = 0;
			m->n++;
			*added = true;
		}
		return &m->zero_val;
	}
	struct u64map_slot *s = m->cap ? find(m, key) : NULL;
	if (s && s->key)
		return &s->val;
	size_t in_table = m->n - m->has_zero;
	if (!s || 2 * (in_table + 1) > m->cap) {
		grow(m);
		s = find(m, key);
	}
	s->key = key;
	s->val = 0;
	m->n++;
	*added = true;
	return &s->val;
}

bool u64map_get(const struct u64map *m, uint64_t key, uint64_t *val)
{
	const uint64_t *v = NULL;
	if (!key) {
		v = m->has_zero ? &m->zero_val : NULL;
	} else if (m->cap) {
		const struct u64map_slot *s = find(m, key);
		v = s->key ? &s->val : NULL;
	}
	if (v && val)
		*val = *v;
	return v != NULL;
}

void u64map_put(struct u64map *m, uint64_t key, uint64_t val)
{
	bool added;
	*value_of(m, key, &added) = val;
}

bool u64map_add(struct u64map *m, uint64_t key, uint64_t val)
{
	bool added;
	uint64_t *v = value_of(m, key, &added);
	if (added)
		*v = val;
	return added;
}

bool u64map_next(const struct u64map *m, size_t *it, uint64_t *key, uint64_t *val)
{
	/* The table's slots in order, then key 0 as position cap. */
	for (; *it < m->cap; (*it)++) {
		if (m->slots[*it].key) {
			*key = m->slots[*it].key;
			*val = m->slots[*it].val;
			(*it)++;
			return true;
		}
	}
	if (*it == m->cap && m->has_zero) {
		(*it)++;
		*key = 0;
		*val = m->zero_val;
		return true;
	}
	return false;
}
