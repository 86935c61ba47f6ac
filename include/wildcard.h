/* SPDX-License-Identifier: GPL-3.0-or-later */
/* wildcard.h - valgrind's wildcards: '*' any run of characters, '?' any one, nothing else special. */
#ifndef MLZ_WILDCARD_H
#define MLZ_WILDCARD_H

#include <stdbool.h>

/*
 * Usage: wildcard_match("operator new[]*", name). Unlike fnmatch(3), '[' and
 * '\' are plain characters, as in valgrind's suppressions and --alloc-fn, so
 * "operator new[]" means itself. Linear in practice: the last '*' is the only
 * one ever retried.
 */
bool wildcard_match(const char *pat, const char *s);

#endif
