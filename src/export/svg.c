// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * svg.c - the live set, or B less A, as an icicle graph in one self-contained
 * SVG file: the whole program at the top, each callee under its caller, a
 * frame as wide as its bytes. Every frame's <title> names its function,
 * file:line, bytes and share, which a browser shows on hover without any
 * script; nothing outside the file is loaded.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "strbuf.h"
#include "strbuf.h"

#define SVG_WIDTH 1200
#define SVG_MARGIN 10
#define SVG_TOP 56    /* the titles above the first row */
#define SVG_ROW 16    /* a row's pitch; frames are one pixel less, so rows stay apart */
#define SVG_CHAR 7.2  /* the width of a character of 12px monospace, to cut labels to fit */
#define SVG_MIN_WIDTH 0.1 /* narrower frames (and what they call) are left out: nobody sees them */

/*
 * Click to zoom, for a browser that runs scripts (the <title>s work without):
 * a frame clicked spans the width, its callees scaled with it, its callers
 * kept across the top, everything beside it hidden; a click on "all" undoes
 * it. Inline, so the file still loads nothing.
 */
static const char zoom_script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"(function () {\n"
	"\tvar M = 10, W = 1180, C = 7.2;\n"
	"\tvar fr = Array.prototype.slice.call(document.querySelectorAll(\"g.f\"));\n"
	"\tfr.forEach(function (g) {\n"
	"\t\tvar r = g.querySelector(\"rect\");\n"
	"\t\tg.x0 = +r.getAttribute(\"x\"); g.w0 = +r.getAttribute(\"width\"); g.y0 = +r.getAttribute(\"y\");\n"
	"\t\tg.name = g.querySelector(\"title\").textContent.split(\"\\n\")[0];\n"
	"\t\tg.style.cursor = \"pointer\";\n"
	"\t\tg.addEventListener(\"click\", function () { zoom(g); });\n"
	"\t});\n"
	"\tfunction label(g, w) {\n"
	"\t\tvar n = Math.floor((w - 6) / C), t = g.querySelector(\"text\");\n"
	"\t\tt.textContent = n < 3 ? \"\" : g.name.length <= n ? g.name : g.name.slice(0, n - 2) + \"..\";\n"
	"\t}\n"
	"\tfunction zoom(z) {\n"
	"\t\tvar s = W / z.w0;\n"
	"\t\tfr.forEach(function (g) {\n"
	"\t\t\tvar inside = g.x0 + g.w0 > z.x0 + 1e-6 && g.x0 < z.x0 + z.w0 - 1e-6;\n"
	"\t\t\tvar x, w;\n"
	"\t\t\tif (g.y0 < z.y0) { x = M; w = W; } else { x = M + (g.x0 - z.x0) * s; w = g.w0 * s; }\n"
	"\t\t\tg.style.display = inside ? \"\" : \"none\";\n"
	"\t\t\tvar r = g.querySelector(\"rect\"), t = g.querySelector(\"text\");\n"
	"\t\t\tr.setAttribute(\"x\", x.toFixed(3)); r.setAttribute(\"width\", w.toFixed(3));\n"
	"\t\t\tt.setAttribute(\"x\", (x + 3).toFixed(2));\n"
	"\t\t\tif (inside) label(g, w);\n"
	"\t\t});\n"
	"\t}\n"
	"})();\n"
	"]]></script>\n";

struct svg {
	const struct ftree *t;
	bool diff;
	double total;   /* the root's value: set bytes, or the sum of |B - A| */
	int64_t maxabs; /* the largest |B - A| of a frame, for the colours of a difference */
	struct strbuf *out;
	size_t frames, hidden;
	int maxdepth;
};

static int64_t value(const struct svg *g, const struct ftree_node *n)
{
	return g->diff ? n->mag : n->b;
}

/* A warm colour from the name, the same for a function wherever it appears (flamegraph.pl's "hot"). */
static void name_colour(const char *name, int *r, int *gr, int *b)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	*r = 205 + (int)(h % 50);
	*gr = (int)((h >> 8) % 230);
	*b = (int)((h >> 16) % 55);
}

/* Growth red, shrinkage blue, deeper the larger; no change grey. */
static void diff_colour(const struct svg *g, const struct ftree_node *n, int *r, int *gr, int *b)
{
	int64_t d = n->b - n->a;
	if (!d || !g->maxabs) {
		*r = *gr = *b = 215;
		return;
	}
	double i = (double)(d < 0 ? -d : d) / (double)g->maxabs;
	int shade = (int)(225 - 175 * i);
	if (d > 0)
		*r = 255, *gr = shade, *b = shade;
	else
		*r = shade, *gr = shade, *b = 255;
}

static void add_title(struct svg *g, const struct ftree_node *n, bool root)
{
	struct strbuf *o = g->out;
	strbuf_addstr(o, "<title>");
	xml_add_text(o, n->name);
	strbuf_addch(o, '\n');
	if (root)
		strbuf_addstr(o, "every stack");
	else if (n->loc)
		xml_add_text(o, n->loc);
	else
		strbuf_addstr(o, "no line information");
	strbuf_addch(o, '\n');
	double pct = g->total ? 100.0 * (double)value(g, n) / g->total : 0;
	if (g->diff) {
		strbuf_addf(o, "%+" PRId64 " bytes (", n->b - n->a);
		strbuf_add_size(o, n->b - n->a, 0);
		strbuf_addf(o, "), from %" PRId64 " to %" PRId64 " bytes; %.2f%% of all change", n->a, n->b, pct);
	} else {
		strbuf_addf(o, "%" PRId64 " bytes (", n->b);
		strbuf_add_size(o, n->b, 0);
		strbuf_addf(o, "), %.2f%%, in %" PRId64 " blocks", pct, n->count_b);
	}
	strbuf_addstr(o, "</title>");
}

/* A frame's label cut to its width: the whole name, or its start and "..", or nothing. */
static void add_label(struct strbuf *o, const char *name, double w)
{
	size_t fits = (size_t)((w - 6) / SVG_CHAR), len = 0;
	const unsigned char *p = (const unsigned char *)name;
	size_t chars = 0;
	while (p[len]) { /* characters, not bytes: a cut inside a sequence would not be UTF-8 */
		size_t k = utf8_len(p + len);
		len += k ? k : 1;
		chars++;
	}
	if (fits < 3)
		return;
	if (chars <= fits) {
		xml_add_text(o, name);
		return;
	}
	struct strbuf cut = STRBUF_INIT;
	len = 0;
	for (size_t c = 0; c < fits - 2; c++) {
		size_t k = utf8_len(p + len);
		len += k ? k : 1;
	}
	strbuf_add(&cut, name, len);
	xml_add_text(o, strbuf_str(&cut));
	strbuf_addstr(o, "..");
	strbuf_release(&cut);
}

static void draw(struct svg *g, uint32_t i, double x, int depth)
{
	const struct ftree_node *n = &g->t->v[i];
	double w = g->total ? (double)value(g, n) / g->total * (SVG_WIDTH - 2 * SVG_MARGIN) : 0;
	if (w < SVG_MIN_WIDTH) {
		g->hidden++;
		return;
	}
	int r, gr, b;
	if (g->diff)
		diff_colour(g, n, &r, &gr, &b);
	else
		name_colour(n->name, &r, &gr, &b);
	int y = SVG_TOP + depth * SVG_ROW;
	if (depth > g->maxdepth)
		g->maxdepth = depth;
	strbuf_addstr(g->out, "<g class=\"f\">");
	add_title(g, n, i == 0);
	strbuf_addf(g->out, "<rect x=\"%.3f\" y=\"%d\" width=\"%.3f\" height=\"%d\" fill=\"rgb(%d,%d,%d)\" rx=\"2\"/>", x,
		    y, w, SVG_ROW - 1, r, gr, b);
	strbuf_addf(g->out, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + 11.5);
	add_label(g->out, n->name, w);
	strbuf_addstr(g->out, "</text></g>\n");
	g->frames++;
	uint32_t *kids;
	size_t nk = ftree_children(g->t, i, FTREE_BY_NAME, &kids);
	double cx = x;
	for (size_t k = 0; k < nk; k++) {
		draw(g, kids[k], cx, depth + 1);
		cx += (double)value(g, &g->t->v[kids[k]]) / g->total * (SVG_WIDTH - 2 * SVG_MARGIN);
	}
	free(kids);
}

int export_svg(const struct export_set *in, struct strbuf *out, size_t *records)
{
	struct ftree t;
	struct ftree_opts o = { .outermost_first = true, .root_name = "all" };
	ftree_build(in, &o, &t);
	struct svg g = { &t, in->base != NULL, 0, 0, NULL, 0, 0, 0 };
	g.total = (double)value(&g, &t.v[0]);
	for (size_t i = 1; i < t.n; i++) {
		int64_t d = t.v[i].b - t.v[i].a;
		if ((d < 0 ? -d : d) > g.maxabs)
			g.maxabs = d < 0 ? -d : d;
	}
	/* The frames first, into their own buffer: the height depends on the deepest one drawn. */
	struct strbuf body = STRBUF_INIT;
	g.out = &body;
	draw(&g, 0, SVG_MARGIN, 0);
	int height = SVG_TOP + (g.maxdepth + 1) * SVG_ROW + 34;

	strbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
	strbuf_addf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
			 "viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"12\">\n",
		    SVG_WIDTH, height, SVG_WIDTH, height);
	strbuf_addstr(out, "<title>");
	xml_add_text(out, in->comment ? in->comment : "mlyze");
	strbuf_addstr(out, "</title>\n");
	strbuf_addf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#f6f6f0\"/>\n", SVG_WIDTH, height);
	strbuf_addf(out, "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"16\">", SVG_WIDTH / 2);
	strbuf_addstr(out, g.diff ? "Growth of live bytes by allocation stack" : "Live bytes by allocation stack");
	strbuf_addstr(out, "</text>\n");
	strbuf_addf(out, "<text x=\"%d\" y=\"42\" text-anchor=\"middle\">", SVG_WIDTH / 2);
	xml_add_text(out, in->comment ? in->comment : "");
	strbuf_addstr(out, ": ");
	if (g.diff) {
		strbuf_addf(out, "%+" PRId64 " bytes (", t.v[0].b - t.v[0].a);
		strbuf_add_size(out, t.v[0].b - t.v[0].a, 0);
		strbuf_addstr(out, "); red grew, blue shrank; widths are each stack's change");
	} else {
		strbuf_addf(out, "%" PRId64 " bytes (", t.v[0].b);
		strbuf_add_size(out, t.v[0].b, 0);
		strbuf_addstr(out, ")");
	}
	strbuf_addstr(out, "</text>\n");
	strbuf_add(out, body.buf, body.len);
	strbuf_addf(out, "<text x=\"%d\" y=\"%d\" fill=\"#555\">", SVG_MARGIN, height - 12);
	strbuf_addstr(out, "outermost frame at the top, allocation site at the bottom; hover over a frame for its "
			   "figures, click to zoom in, click 'all' to zoom out");
	if (g.hidden)
		strbuf_addf(out, "; %zu frames narrower than %.1f px left out", g.hidden, SVG_MIN_WIDTH);
	strbuf_addstr(out, "</text>\n");
	strbuf_addstr(out, zoom_script); /* last: it runs as it is read, and looks for the frames above */
	strbuf_addstr(out, "</svg>\n");
	strbuf_release(&body);
	*records = g.frames;
	ftree_release(&t);
	return 0;
}
