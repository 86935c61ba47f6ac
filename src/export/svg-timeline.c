// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * svg-timeline.c - the timeline as a self-contained SVG line chart: glibc's
 * heap in use, the live bytes mlyze knows and the RSS against time, each
 * snapshot and mark a named point whose <title> gives its figures on hover.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "export_internal.h"
#include "strbuf.h"
#include "strbuf.h"

#define W 1000
#define H 460
#define X0 90  /* the plot's left edge */
#define X1 960
#define Y0 60  /* its top */
#define Y1 340 /* its bottom, the time axis */

enum series { S_HEAP, S_LIVE, S_RSS, S_N };
static const char *const series_name[S_N] = { "heap in use (glibc)", "live bytes (mlyze)", "RSS" };
static const char *const series_colour[S_N] = { "#c0392b", "#2e6fb7", "#3c9a3c" };

/* A point's value in series s, false when it has none. */
static bool val(const struct tl_point *p, enum series s, int64_t *v)
{
	switch (s) {
	case S_HEAP: *v = (int64_t)p->heap.in_use; return p->heap.known;
	case S_LIVE: *v = (int64_t)p->bytes; return true;
	default: *v = p->rss; return p->rss >= 0;
	}
}

int export_svg_timeline(const struct export_timeline *in, struct strbuf *out, size_t *records)
{
	double tmax = in->n ? (double)in->points[in->n - 1].tick * in->tick_ms / 1000.0 : 0;
	int64_t vmax = 0, v;
	for (size_t i = 0; i < in->n; i++)
		for (int s = 0; s < S_N; s++)
			if (val(&in->points[i], (enum series)s, &v) && v > vmax)
				vmax = v;
	double xs = tmax > 0 ? (X1 - X0) / tmax : 0, ys = vmax > 0 ? (double)(Y1 - Y0) / (double)vmax : 0;
#define PX(p) (X0 + ((double)(p)->tick * in->tick_ms / 1000.0) * xs)
#define PY(v) (Y1 - (double)(v) * ys)

	strbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
	strbuf_addf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
			 "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H);
	strbuf_addstr(out, "<title>");
	xml_add_text(out, in->desc ? in->desc : "mlyze timeline");
	strbuf_addstr(out, "</title>\n");
	strbuf_addf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#fcfcf8\"/>\n", W, H);
	strbuf_addf(out, "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">Memory against time: ", W / 2);
	xml_add_text(out, in->cmd ? in->cmd : "");
	strbuf_addstr(out, "</text>\n");
	/* the axes, with five levels of bytes and the time at both ends */
	strbuf_addf(out, "<path d=\"M%d %d V%d H%d\" stroke=\"#333\" fill=\"none\"/>\n", X0, Y0, Y1, X1);
	for (int k = 0; k <= 4; k++) {
		int64_t lv = vmax * k / 4;
		double y = PY(lv);
		strbuf_addf(out, "<path d=\"M%d %.2f H%d\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.2f\" text-anchor=\"end\">", X0,
			    y, X1, X0 - 6, y + 4);
		strbuf_add_size(out, lv, 0);
		strbuf_addstr(out, "</text>\n");
	}
	strbuf_addf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">0 s</text>\n", X0, Y1 + 16);
	strbuf_addf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.1f s</text>\n", X1, Y1 + 16, tmax);
	/* each moment: a line across the chart and its name under the axis */
	for (size_t i = 0; i < in->n; i++) {
		const struct tl_point *p = &in->points[i];
		double x = PX(p);
		if (p->kind == TL_SAMPLE)
			continue; /* a recording's samples, once a second: points on the lines, not moments to name */
		strbuf_addf(out, "<path d=\"M%.2f %d V%d\" stroke=\"#bbb\" stroke-dasharray=\"%s\"/>", x, Y0, Y1,
			    p->kind == TL_MARK ? "2,3" : "6,3");
		strbuf_addf(out, "<text x=\"%.2f\" y=\"%d\" transform=\"rotate(40 %.2f %d)\">", x, Y1 + 30, x, Y1 + 30);
		xml_add_text(out, p->name);
		strbuf_addstr(out, "</text>\n");
	}
	for (int s = 0; s < S_N; s++) {
		strbuf_addf(out, "<g class=\"series\" stroke=\"%s\" fill=\"%s\">\n<polyline fill=\"none\" stroke-width=\"2\"%s points=\"",
			    series_colour[s], series_colour[s], s == S_RSS ? " stroke-dasharray=\"8,4\"" : "");
		for (size_t i = 0; i < in->n; i++)
			if (val(&in->points[i], (enum series)s, &v))
				strbuf_addf(out, "%s%.2f,%.2f", i ? " " : "", PX(&in->points[i]), PY(v));
		strbuf_addstr(out, "\"/>\n");
		for (size_t i = 0; i < in->n; i++) {
			const struct tl_point *p = &in->points[i];
			if (!val(p, (enum series)s, &v))
				continue;
			strbuf_addf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\"><title>", PX(p), PY(v));
			xml_add_text(out, p->name);
			strbuf_addf(out, " (%s) at %.1f s\n%s: %" PRId64 " bytes (", p->kind == TL_MARK ? "mark" : p->kind == TL_SAMPLE ? "sample" : "snapshot",
				    (double)p->tick * in->tick_ms / 1000.0, series_name[s], v);
			strbuf_add_size(out, v, 0);
			strbuf_addstr(out, ")");
			if (p->note && p->note[0]) {
				strbuf_addch(out, '\n');
				xml_add_text(out, p->note);
			}
			strbuf_addstr(out, "</title></circle>\n");
		}
		strbuf_addstr(out, "</g>\n");
	}
	/* the legend */
	for (int s = 0; s < S_N; s++) {
		int x = X0 + s * 220;
		strbuf_addf(out, "<rect x=\"%d\" y=\"40\" width=\"14\" height=\"4\" fill=\"%s\"/><text x=\"%d\" y=\"46\">%s</text>\n",
			    x, series_colour[s], x + 20, series_name[s]);
	}
	strbuf_addstr(out, "</svg>\n");
#undef PX
#undef PY
	*records = in->n;
	return 0;
}
