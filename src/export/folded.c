// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * folded.c - folded stacks, "outer;...;leaf BYTES" per line: the input of
 * flamegraph.pl, inferno and speedscope. With a base, "STACK BASE BYTES",
 * which flamegraph.pl draws as a differential graph.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "group.h"
#include "strbuf.h"
#include "sym.h"
#include "xalloc.h"

struct line {
	char *stack;
	int64_t a, b;
};

struct names {
	char **v;
	size_t n, alloc;
};

static bool push_name(void *arg, const struct sym_pc *r, const struct sym_frame *f)
{
	struct names *x = arg;
	char buf[64];
	ALLOC_GROW(x->v, x->n + 1, x->alloc);
	x->v[x->n++] = xstrdup(export_frame_name(r, f, buf, sizeof(buf)));
	return true;
}

/*
 * ';' separates frames and a newline ends the line, so neither may be in a
 * name; nor any other control byte (a name comes from the target's files).
 */
static void add_frame(struct strbuf *sb, const char *name)
{
	for (const char *p = name; *p; p++)
		strbuf_addch(sb, *p == ';' || (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
}

static char *stack_line(const struct export_set *in, uint32_t stack)
{
	struct strbuf sb = STRBUF_INIT;
	if (stack == EXPORT_UNTRACED) {
		strbuf_addstr(&sb, UNTRACED_NAME);
		return strbuf_detach(&sb);
	}
	struct names x = { 0 };
	stack_site_frames(in->sym, in->stacks, stack, in->alloc_fns, push_name, &x);
	for (size_t i = x.n; i-- > 0;) { /* outermost first */
		add_frame(&sb, x.v[i]);
		if (i)
			strbuf_addch(&sb, ';');
		free(x.v[i]);
	}
	free(x.v);
	return strbuf_detach(&sb);
}

static int cmp_lines(const void *pa, const void *pb)
{
	return strcmp(((const struct line *)pa)->stack, ((const struct line *)pb)->stack);
}

int export_folded(const struct export_set *in, struct strbuf *out, size_t *records)
{
	size_t n = export_nrecords(in), nl = 0;
	struct line *l = xcalloc(n ? n : 1, sizeof(*l));
	for (size_t i = 0; i < n; i++) {
		struct export_value v;
		uint32_t stack;
		unsigned cls;
		if (!export_value(in, i, &v, &stack, &cls) || (!v.bytes_a && !v.bytes_b))
			continue;
		l[nl++] = (struct line){ stack_line(in, stack), v.bytes_a, v.bytes_b };
	}
	/* Stacks that differ only in thread or in PCs within the same lines read the same: one line each. */
	qsort(l, nl, sizeof(*l), cmp_lines);
	size_t w = 0;
	for (size_t i = 0; i < nl; i++) {
		if (w && !strcmp(l[w - 1].stack, l[i].stack)) {
			l[w - 1].a += l[i].a;
			l[w - 1].b += l[i].b;
			free(l[i].stack);
			continue;
		}
		l[w++] = l[i];
	}
	for (size_t i = 0; i < w; i++) {
		strbuf_addstr(out, l[i].stack);
		if (in->base)
			strbuf_addf(out, " %" PRId64, l[i].a);
		strbuf_addf(out, " %" PRId64 "\n", l[i].b);
		free(l[i].stack);
	}
	free(l);
	*records = w;
	return 0;
}
