// SPDX-License-Identifier: GPL-3.0-or-later
/* wildcard.c - '*' and '?' matching as valgrind's suppressions and --alloc-fn do it. */
#include <stddef.h>

#include "wildcard.h"

bool wildcard_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || *pat == *s) {
			pat++;
			s++;
		} else if (star) { /* let the last '*' take one more character */
			pat = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return !*pat;
}
