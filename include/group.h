/* SPDX-License-Identifier: GPL-3.0-or-later */
/* group.h - live figures per stack, added up by allocation site, function, file or whole stack. */
#ifndef MLZ_GROUP_H
#define MLZ_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "blocks.h"
#include "err.h"

struct jv;
struct strbuf;
struct sym;
struct stacktab;

enum group_by { BY_SITE, BY_FUNCTION, BY_FILE, BY_STACK, BY_NKINDS };

int group_by_parse(const char *word, enum group_by *by, struct mlz_err *err);
extern const char *const group_by_names[BY_NKINDS];

/*
 * What a stack is grouped under: for site, function and file, the first frame
 * that is not the allocator itself (nor operator new, nor a libc function
 * that allocates for its caller, like strdup); for stack, its PCs whatever the
 * thread. Keys get small ids that stay the same for the whole session, so
 * `blocks --site ID` can name a site `top` printed.
 */
struct group_key {
	char *function, *file, *module;
	int line;
	uint64_t *pcs;   /* BY_STACK: the stack's own PCs (its id may be released and reused), else NULL */
	int depth;
	char *size_class; /* untraced blocks of this usable size ("33-64"), else NULL */
};
#define UNTRACED_NAME "<before attach>"

struct sym_pc;
struct sym_frame;
/*
 * Calls fn for each source frame of stack from its site outwards, innermost
 * first: the allocator's own frames (as above) are skipped, and a stack that
 * is nothing but allocator frames yields its outermost one. Frames of one PC
 * come in a row, a suffix of r->frames. Stops when fn returns false.
 */
void stack_site_frames(struct sym *sym, const struct stacktab *stacks, uint32_t stack,
		       bool (*fn)(void *arg, const struct sym_pc *r, const struct sym_frame *f), void *arg);

struct keytab {
	struct group_key *v;
	size_t n, alloc;
	char **strs;     /* the text each key is deduplicated by */
	uint32_t *index; /* open addressing over ids + 1 */
	size_t index_cap;
	int32_t *memo;   /* stack id -> key id, -1 unknown */
	size_t memo_n;
	uint32_t memo_epoch; /* the stacks' epoch the memo is for: a sweep may have given its ids to others */
};

struct keys {
	struct keytab tab[BY_NKINDS];
};

/* The key id of stack under by (memoized). */
uint32_t keys_of_stack(struct keys *k, struct sym *sym, const struct stacktab *stacks, uint32_t stack, enum group_by by);
/* Every distinct key among the frames of stack (for --cumulative); returns the count written. */
size_t keys_all_frames(struct keys *k, struct sym *sym, const struct stacktab *stacks, uint32_t stack, enum group_by by,
		       uint32_t *out, size_t max);
/* The key of the untraced blocks of size class cls. */
uint32_t keys_of_class(struct keys *k, enum group_by by, unsigned cls);
const struct group_key *keys_get(const struct keys *k, enum group_by by, uint32_t id);
void keys_release(struct keys *k);

struct group {
	uint32_t key;
	int64_t count_a, bytes_a, count_b, bytes_b;
};

struct grouping_opts {
	enum group_by by;
	bool cumulative;
	const char *filter; /* glob on function, file or its basename; NULL for all */
	long top;           /* 0 for all */
};

/*
 * Groups of the difference b - a (a may be NULL: all of b), sorted by size
 * difference, then count difference, descending. *n gets the count; caller frees.
 */
struct group *group_compare(struct keys *k, struct sym *sym, const struct stacktab *stacks, const struct by_stack *a,
			    const struct by_stack *b, const struct grouping_opts *o, size_t *n);

/*
 * Untraced blocks are compared only when both sets come from a heap walk
 * (a is NULL for a set on its own); totals then include them, else not.
 */
bool by_stack_untraced_comparable(const struct by_stack *a, const struct by_stack *b);
void by_stack_totals(const struct by_stack *b, bool untraced, int64_t *count, int64_t *bytes);
/* Append groups as JSON objects to array out; with_diff adds count_diff and size_diff. */
void groups_to_jv(struct keys *k, struct sym *sym, enum group_by by,
		  const struct group *g, size_t n, bool with_diff, struct jv *out);
/* Render a JSON array of groups (as groups_to_jv made) as a table. */
void groups_text(const struct jv *groups, bool with_diff, bool estimated, struct strbuf *out);

#endif
