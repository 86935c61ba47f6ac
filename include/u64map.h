/* SPDX-License-Identifier: GPL-3.0-or-later */
/* u64map.h - a hash map from 64-bit keys to 64-bit values, for the sets and caches outside the block table. */
#ifndef MLZ_U64MAP_H
#define MLZ_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Usage:
 *
 *	struct u64map m;
 *	u64map_init(&m);
 *	u64map_put(&m, addr, kind);           insert, or overwrite the value
 *	if (u64map_add(&m, block, parent))    insert only if absent: a first visit
 *		...
 *	uint64_t v;
 *	if (u64map_get(&m, addr, &v))
 *		...
 *	uint64_t key, val;
 *	for (size_t it = 0; u64map_next(&m, &it, &key, &val);)
 *		...                            every entry once, in no useful order
 *	u64map_release(&m);
 *
 * Open addressing with linear probing, at most half full, the slot chosen by
 * the top bits of key times 2^64 / phi (every bit of the key reaches them, so
 * aligned addresses and small indices spread alike). Every key is allowed:
 * 0 marks an empty slot, so key 0 is kept beside the table. A pointer is
 * stored as (uintptr_t). There is no deletion of one key: no user needs it.
 * Nothing may be inserted while iterating (a growth moves every entry). A
 * zeroed struct u64map is an empty map, as u64map_init leaves it.
 */
struct u64map {
	struct u64map_slot {
		uint64_t key, val;
	} *slots;
	size_t cap;      /* a power of two; 0 until the first insertion */
	size_t n;        /* entries, key 0 included; read it freely */
	unsigned shift;  /* 64 - log2(cap) */
	bool has_zero;   /* key 0 is present, with zero_val */
	uint64_t zero_val;
};

void u64map_init(struct u64map *m);
/* Frees the table; m is empty and usable again. */
void u64map_release(struct u64map *m);
/* Removes every entry, keeping the table's memory for what comes next. */
void u64map_clear(struct u64map *m);

/* Whether key is present; its value goes to *val (val may be NULL). */
bool u64map_get(const struct u64map *m, uint64_t key, uint64_t *val);
/* Sets key's value, inserting key if it is absent. */
void u64map_put(struct u64map *m, uint64_t key, uint64_t val);
/* Inserts key with val unless key is present (its value is then kept); returns whether it inserted. */
bool u64map_add(struct u64map *m, uint64_t key, uint64_t val);

/* The entry after cursor *it (start at 0) into *key and *val; false when there is none left. */
bool u64map_next(const struct u64map *m, size_t *it, uint64_t *key, uint64_t *val);

#endif
