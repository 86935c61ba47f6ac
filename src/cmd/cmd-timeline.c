// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-timeline.c - `timeline`: the snapshots and marks against time, a chart of the heap in use (ms_print's kind). */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "strbuf.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"
#include "timeline.h"
#include "xalloc.h"

/* What a point's bar shows: glibc's heap in use when it was walked, else the live bytes mlyze knows. */
static int64_t plotted(const struct jv *p)
{
	return jv_get(p, "heap_walked")->u.b ? jv_get_int(p, "heap_in_use", 0) : jv_get_int(p, "bytes", 0);
}

static int cmd_timeline_exec(struct cmd_ctx *c)
{
	long width = 72, height = 20;
	if (cmd_optnum(c->args, "--width", 10, 1000, &width, &c->err) < 0 ||
	    cmd_optnum(c->args, "--height", 4, 200, &height, &c->err) < 0)
		return -1;
	struct tl_point *p;
	size_t n = timeline_points(&c->s->snaps, &c->s->marks, &c->s->samples, &p);
	struct jv *r = jv_object();
	struct jv *a = jv_set(r, "points", jv_array());
	for (size_t i = 0; i < n; i++)
		jv_push(a, tl_point_jv(&p[i]));
	free(p);
	jv_set(r, "width", jv_int(width));
	jv_set(r, "height", jv_int(height));
	jv_set(r, "rss", jv_bool(cmd_has(c->args, "--rss")));
	c->result = r;
	return 0;
}

static bool is_sample(const struct jv *p)
{
	return !strcmp(jv_get_str(p, "kind", ""), "sample");
}

/* A point's label on the axis: 1-9, then a-z, then '*' for the rest (the legend names each). */
static char label(size_t i)
{
	return i < 9 ? (char)('1' + i) : i < 35 ? (char)('a' + i - 9) : '*';
}

static void cmd_timeline_text(const struct jv *r, const struct text_opts *topts, struct strbuf *out)
{
	unsigned sz = topts->bytes ? SIZE_EXACT : 0;
	const struct jv *pts = jv_get(r, "points");
	size_t n = jv_len(pts);
	if (!n) {
		strbuf_addstr(out, "no snapshots or marks yet\n");
		return;
	}
	int w = (int)jv_get_int(r, "width", 72), h = (int)jv_get_int(r, "height", 20);
	bool rss = jv_get(r, "rss")->u.b;
	double tmax = jv_get(jv_at(pts, n - 1), "seconds")->u.d;
	int64_t vmax = 0;
	for (size_t i = 0; i < n; i++) {
		const struct jv *p = jv_at(pts, i);
		if (plotted(p) > vmax)
			vmax = plotted(p);
		if (rss && jv_get(p, "rss")->kind == JV_INT && jv_get_int(p, "rss", 0) > vmax)
			vmax = jv_get_int(p, "rss", 0);
	}
	/* Each column takes the latest point at or before its time: a step chart, as the heap holds between moments. */
	int *col = xcalloc(n, sizeof(*col));
	long *at = xmalloc((size_t)w * sizeof(*at));
	for (int x = 0; x < w; x++)
		at[x] = -1;
	for (size_t i = 0; i < n; i++) {
		double t = jv_get(jv_at(pts, i), "seconds")->u.d;
		col[i] = tmax > 0 ? (int)lround(t / tmax * (w - 1)) : 0;
		at[col[i]] = (long)i;
	}
	for (int x = 1; x < w; x++)
		if (at[x] < 0)
			at[x] = at[x - 1];
	char top[32];
	size_str(top, vmax, sz);
	int margin = (int)strlen(top) + 1;
	for (int row = 0; row < h; row++) {
		int level = h - row; /* a cell is filled when the bar reaches its level */
		if (row == 0)
			strbuf_addf(out, "%*s^", margin - 1, top);
		else
			strbuf_addf(out, "%*s|", margin - 1, "");
		for (int x = 0; x < w; x++) {
			char ch = ' ';
			if (at[x] >= 0) {
				const struct jv *p = jv_at(pts, (size_t)at[x]);
				bool own = col[at[x]] == x, walked = jv_get(p, "heap_walked")->u.b;
				long cells = vmax ? lround((double)plotted(p) / (double)vmax * h) : 0;
				if (cells >= level)
					ch = own ? (walked ? '#' : '|') : (walked ? ':' : '.');
				if (rss && jv_get(p, "rss")->kind == JV_INT && vmax &&
				    lround((double)jv_get_int(p, "rss", 0) / (double)vmax * h) == level)
					ch = '+';
			}
			strbuf_addch(out, ch);
		}
		strbuf_addch(out, '\n');
	}
	strbuf_addf(out, "%*s+", margin - 1, "0");
	for (int x = 0; x < w; x++)
		strbuf_addch(out, '-');
	strbuf_addstr(out, "> s\n");
	struct strbuf t = STRBUF_INIT;
	strbuf_addf(&t, "%.1f", tmax);
	strbuf_addf(out, "%*s0%*s\n", margin, "", w - 1, strbuf_str(&t));
	strbuf_release(&t);
	/* the points' labels under their columns; a later point in the same column shows */
	char *labels = xmalloc((size_t)w + 1);
	memset(labels, ' ', (size_t)w);
	labels[w] = 0;
	size_t named = 0, samples = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_sample(jv_at(pts, i)))
			samples++;
		else
			labels[col[i]] = label(named++);
	}
	size_t end = (size_t)w;
	while (end && labels[end - 1] == ' ')
		end--;
	labels[end] = 0;
	strbuf_addf(out, "%*s%s\n", margin, "", labels);
	free(labels);
	free(col);
	free(at);
	strbuf_addstr(out, "# heap in use (glibc, as mallinfo2); | live bytes where the heap was not walked");
	strbuf_addstr(out, rss ? "; + RSS\n" : "\n");
	if (samples)
		strbuf_addf(out, "# and %zu samples of the recording, one a second (--json lists them)\n", samples);
	named = 0;
	for (size_t i = 0; i < n; i++) {
		const struct jv *p = jv_at(pts, i);
		if (is_sample(p))
			continue;
		size_t mark = out->len;
		strbuf_addf(out, "%c %s ", label(named++), !strcmp(jv_get_str(p, "kind", ""), "mark") ? "mark    " : "snapshot");
		strbuf_add_escaped(out, jv_get_str(p, "name", ""));
		while (out->len - mark < 24)
			strbuf_addch(out, ' ');
		strbuf_addf(out, " %8.1f s  ", jv_get(p, "seconds")->u.d);
		moment_text(p, sz, out);
		strbuf_addch(out, '\n');
	}
}

static const struct cmd_opt opts[] = {
	{ "--width", "N", "columns of the chart (default 72)" },
	{ "--height", "N", "rows of the chart (default 20)" },
	{ "--rss", NULL, "also mark the RSS (+) on the chart's scale" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_timeline_entry = {
	.name = "timeline",
	.usage = "timeline [--width N] [--height N] [--rss]",
	.summary = "the snapshots and marks (and a recording's samples) in time order, charted against time",
	.help = "Lists every snapshot and mark in time order with what each recorded: the seconds since "
		"attach, the live blocks and their bytes, glibc's heap in use, free and mmapped (as mallinfo2() "
		"in the process would give them; null where the heap was not walked, as in the 'exit' snapshot) "
		"and the RSS. Above the list a chart in the manner of ms_print: one column per step of time, a "
		"bar per moment as high as the heap in use ('#'), held until the next moment (':'); where the "
		"heap was not walked the bar shows the live bytes mlyze knows ('|', then '.'). The moments are "
		"labelled 1-9, a-z under their columns. On a recording (mlyze open FILE) its marks are moments too, "
		"and its samples (one a second: the live blocks and bytes, the RSS) are charted between them and "
		"counted under the legend, as kind 'sample' in --json. With --json the series itself, one object per "
		"moment.",
	.opts = opts,
	.max_args = 0,
	.exec = cmd_timeline_exec,
	.text = cmd_timeline_text,
};
