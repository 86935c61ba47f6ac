/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xalloc.h - allocation that never returns NULL: out of memory aborts (and the crash handler detaches). */
#ifndef MLZ_XALLOC_H
#define MLZ_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The element count grow_array would give an array of alloc elements that must hold need (alloc if it does). */
size_t grow_alloc_nr(size_t alloc, size_t need);
/* Grow (*p, *alloc) so that it holds at least `need` elements of `size` bytes. */
void grow_array(void **p, size_t *alloc, size_t need, size_t size);
#define ALLOC_GROW(p, need, alloc) grow_array((void **)&(p), &(alloc), (need), sizeof(*(p)))

#endif
