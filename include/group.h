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

/*
 * BY_STACK_NAMES is BY_STACK for sets from different sessions, whose PCs
 * cannot be compared: a stack is the sequence of its frames' names
 * (function, file:line, module). Never parsed; printed as "stack".
 */
enum group_by { BY_SITE, BY_FUNCTION, BY_FILE, BY_STACK, BY_NKINDS, BY_STACK_NAMES = BY_NKINDS };

int group_by_parse(const char *word, enum group_by *by, struct mlz_err *err);
extern const char *const group_by_names[BY_NKINDS + 1];

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
	bool unnamed;     /* the frame has no name (function is NULL): module_offset says where it is */
	uint64_t module_offset;
};
#define UNTRACED_NAME "<before attach>"

/*
 * Functions that allocate for their caller (valgrind's --alloc-fn): patterns
 * with '*' and '?' (wildcard.h) on a function's name, with or without its parameter list
 * ("operator new" matches "operator new(unsigned long)"). A frame that
 * matches is skipped when choosing a site, as frames in libc are. gen changes
 * with every change, so memos made under another list are dropped.
 */
struct alloc_fns {
	char **v;
	size_t n;
	unsigned gen;
};
extern const char *const alloc_fns_builtin[];
/* The built-in list of common wrappers (xmalloc, g_malloc, PyMem_Malloc, operator new...). */
void alloc_fns_default(struct alloc_fns *a);
/* Add pat (a copy) unless it is there; remove it (false when it was not there). */
void alloc_fns_add(struct alloc_fns *a, const char *pat);
bool alloc_fns_remove(struct alloc_fns *a, const char *pat);
void alloc_fns_clear(struct alloc_fns *a);
bool alloc_fns_match(const struct alloc_fns *a, const char *function);
void alloc_fns_release(struct alloc_fns *a);

struct sym_pc;
struct sym_frame;
/*
 * Calls fn for each source frame of stack from its site outwards, innermost
 * first: the allocator's own frames (as above, and those af names; af may be
 * NULL) are skipped, and a stack that is nothing but allocator frames yields
 * its outermost one. Frames of one PC come in a row, a suffix of r->frames.
 * Stops when fn returns false.
 */
void stack_site_frames(struct sym *sym, const struct stacktab *stacks, uint32_t stack, const struct alloc_fns *af,
		       bool (*fn)(void *arg, const struct sym_pc *r, const struct sym_frame *f), void *arg);
/*
 * The site of stack: the first frame stack_site_frames yields that has a
 * function name and is not the allocator's (code without symbols on the way,
 * such as a stripped library's helper, is passed over), else the first frame
 * it yields. *r and *f belong to sym.
 */
void stack_site(struct sym *sym, const struct stacktab *stacks, uint32_t stack, const struct alloc_fns *af,
		const struct sym_pc **r, const struct sym_frame **f);

struct keytab {
	struct group_key *v;
	size_t n, alloc;
	char **strs;     /* the text each key is deduplicated by */
	uint32_t *index; /* open addressing over ids + 1 */
	size_t index_cap;
	int32_t *memo;   /* stack id -> key id, -1 unknown */
	size_t memo_n;
	uint32_t memo_epoch; /* the stacks' epoch the memo is for: a sweep may have given its ids to others */
	unsigned memo_gen;   /* the alloc_fns generation it is for */
};

struct keys {
	struct keytab tab[BY_NKINDS + 1];
	struct alloc_fns alloc_fns; /* what a site skips besides the allocator: the `alloc-fn` setting */
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

/*
 * A stack's frames as JSON objects {pc, function, file, line, module,
 * inlined} appended to arr, all of them from the allocator's entry outwards,
 * inlined frames as their own entries.
 */
void stack_frames_jv(struct sym *sym, const uint64_t *pcs, int depth, struct jv *arr);

struct group {
	uint32_t key;
	int64_t count_a, bytes_a, count_b, bytes_b;
};

struct grouping_opts {
	enum group_by by;
	bool cumulative;
	const char *filter; /* glob on function, file or its basename (module+0xOFF without a name); NULL for all */
	long top;           /* 0 for all */
	bool changed_only;  /* leave out groups whose count and bytes are the same in both sets */
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
/*
 * Where key is, as keys of o: function, file, line, module, and
 * module_offset when the frame has no name (what where_text_jv reads).
 */
void group_key_where_jv(const struct group_key *key, struct jv *o);
/* Append groups as JSON objects to array out; with_diff adds blocks_diff and bytes_diff. */
void groups_to_jv(struct keys *k, struct sym *sym, enum group_by by,
		  const struct group *g, size_t n, bool with_diff, struct jv *out);
/* Where one group (an object groups_to_jv made) is, as where_text_jv says it, and its size class ("33-64 bytes"). */
void group_where_text(const struct jv *group, struct strbuf *out);
/* Render a JSON array of groups (as groups_to_jv made) as a table; size_flags as strbuf_add_size's
 * (SIZE_ESTIMATE puts '~' before the figures of traced groups). */
void groups_text(const struct jv *groups, bool with_diff, unsigned size_flags, struct strbuf *out);

#endif
