// SPDX-License-Identifier: GPL-3.0-or-later
/* humansize.c - byte counts in binary units with one decimal, for text outputs. */
#include <inttypes.h>
#include <stdio.h>

#include "humansize.h"
#include "strbuf.h"

const char *human_size(int64_t bytes, char *buf)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	/* the magnitude as unsigned: INT64_MIN has no positive counterpart */
	uint64_t m = bytes < 0 ? (uint64_t)0 - (uint64_t)bytes : (uint64_t)bytes;
	const char *sign = bytes < 0 ? "-" : "";
	if (m < 1024) {
		snprintf(buf, HUMANSIZE_MAX, "%s%" PRIu64 " B", sign, m);
		return buf;
	}
	double v = (double)m / 1024;
	int u = 0;
	/* 1023.96 KiB would print as "1024.0 KiB": move up once it rounds to 1024 */
	while (u < 5 && v >= 1023.95) {
		v /= 1024;
		u++;
	}
	snprintf(buf, HUMANSIZE_MAX, "%s%.1f %s", sign, v, units[u]);
	return buf;
}

void strbuf_add_human_size(struct strbuf *sb, int64_t bytes)
{
	char buf[HUMANSIZE_MAX];
	strbuf_addstr(sb, human_size(bytes, buf));
}
