/* SPDX-License-Identifier: GPL-3.0-or-later */
/* humansize.h - byte counts for people: "512 B", "1.5 KiB", "2.3 MiB", powers of 1024. */
#ifndef MLZ_HUMANSIZE_H
#define MLZ_HUMANSIZE_H

#include <stdint.h>

struct strbuf;

/*
 * Usage:
 *	char buf[HUMANSIZE_MAX];
 *	printf("%s\n", human_size(bytes, buf));   // "1.5 MiB"
 *	strbuf_add_human_size(&sb, -2048);        // "-2.0 KiB"
 *
 * Below 1024 the exact count in bytes; above, one decimal in the largest unit
 * (KiB .. EiB) the count reaches, rounded: a figure for reading, never for
 * comparing (the exact count goes next to it in JSON).
 */
#define HUMANSIZE_MAX 24
/* bytes written into buf (HUMANSIZE_MAX bytes), returned. */
const char *human_size(int64_t bytes, char *buf);
void strbuf_add_human_size(struct strbuf *sb, int64_t bytes);

#endif
