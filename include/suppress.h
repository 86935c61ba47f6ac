/* SPDX-License-Identifier: GPL-3.0-or-later */
/* suppress.h - valgrind's suppression files: parsing, and matching a leak's stack against them. */
#ifndef MLZ_SUPPRESS_H
#define MLZ_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * Usage:
 *	struct suppressions s = { 0 };
 *	if (suppressions_load(&s, "vg.supp", &err) < 0) ...   // several files: call again
 *	long i = suppressions_match(&s, SUPP_DEFINITE, frames, nframes);
 *	suppressions_release(&s);
 *
 * The syntax is valgrind's (its manual, "Suppressing errors"):
 *	{
 *	   NAME
 *	   Memcheck:Leak
 *	   match-leak-kinds: definite,possible      (optional; default every kind)
 *	   fun:GLOB  obj:GLOB  src:FILE[:LINE]  ...  (one per line, innermost first)
 *	}
 * '#' starts a comment line. Suppressions for other tools or other Memcheck
 * kinds (Cond, Addr8, Param...) are read and left out; only Leak ones count.
 */

/* Leak kinds as match-leak-kinds names them, one bit each. */
enum {
	SUPP_REACHABLE = 1 << 0,
	SUPP_POSSIBLE = 1 << 1,
	SUPP_INDIRECT = 1 << 2,
	SUPP_DEFINITE = 1 << 3,
	SUPP_ALL = 15,
};
/*
 * A list like "definite,possible", or "all" or "none", as bits; -1 with a
 * usage error naming what. Shared by match-leak-kinds and `leaks --show`.
 */
int supp_kinds_parse(const char *list, const char *what, unsigned *out, struct mlz_err *err);

struct supp_pat {
	enum { SUPP_FUN, SUPP_OBJ, SUPP_SRC, SUPP_DOTS } kind;
	char *glob;  /* fun/obj: a pattern with '*' and '?'; src: the file's pattern */
	int line;    /* src: the line, 0 for any */
};

struct suppression {
	char *name;
	char *file;  /* where it was read, for messages */
	int line;    /* the line of its '{' */
	unsigned kinds;
	struct supp_pat *pat;
	size_t npat;
	uint64_t records, blocks, bytes; /* what it suppressed: the caller counts */
};

struct suppressions {
	struct suppression *v;
	size_t n;
	size_t skipped; /* suppressions of other tools or kinds, read and left out */
};

/* One frame of a stack as suppressions see it; any field may be NULL. */
struct supp_frame {
	const char *fun;
	const char *obj;  /* the module's path as the process maps it */
	const char *file; /* the source file, any path */
	int line;
};

/*
 * Parse len bytes of text (need not be NUL-terminated) named file into s.
 * -1 with "FILE:LINE: what is wrong" in err; s then holds what came before.
 */
int suppressions_parse(struct suppressions *s, const char *text, size_t len, const char *file, struct mlz_err *err);
/* Read and parse the file at path; -1 with err (the file's errno, or the parse error). */
int suppressions_load(struct suppressions *s, const char *path, struct mlz_err *err);
/*
 * The first suppression of kind bit kind whose frames match f[0..n) from the
 * first (a suppression may stop before the stack does; "..." stands for any
 * number of frames, none too), or -1.
 */
long suppressions_match(const struct suppressions *s, unsigned kind, const struct supp_frame *f, size_t n);
void suppressions_release(struct suppressions *s);

#endif
