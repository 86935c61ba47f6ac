// SPDX-License-Identifier: GPL-3.0-or-later
/* xalloc.c - allocation wrappers: mlyze cannot do anything useful after an allocation failure. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

static void *check(void *p)
{
	if (!p)
		BUG("out of memory");
	return p;
}

void *xmalloc(size_t n) { return check(malloc(n ? n : 1)); }
void *xcalloc(size_t nmemb, size_t size) { return check(calloc(nmemb ? nmemb : 1, size ? size : 1)); }
void *xrealloc(void *p, size_t n) { return check(realloc(p, n ? n : 1)); }
char *xstrdup(const char *s) { return check(strdup(s)); }
char *xstrndup(const char *s, size_t n) { return check(strndup(s, n)); }

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return check(s);
}

size_t grow_alloc_nr(size_t alloc, size_t need)
{
	if (need <= alloc)
		return alloc;
	size_t n = alloc ? alloc : 8;
	while (n < need)
		n = n * 3 / 2 + 8;
	return n;
}

void grow_array(void **p, size_t *alloc, size_t need, size_t size)
{
	if (need <= *alloc)
		return;
	size_t n = grow_alloc_nr(*alloc, need);
	*p = xrealloc(*p, n * size);
	*alloc = n;
}
