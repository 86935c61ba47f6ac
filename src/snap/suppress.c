// SPDX-License-Identifier: GPL-3.0-or-later
/* suppress.c - valgrind's suppression files read line by line, and leak stacks matched against them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"
#include "suppress.h"
#include "wildcard.h"
#include "xalloc.h"

#define MAX_FILE (64u << 20) /* a suppression file is text a person or valgrind wrote: refuse anything huge */

static const struct {
	const char *name;
	unsigned bits;
} kind_names[] = {
	{ "definite", SUPP_DEFINITE }, { "indirect", SUPP_INDIRECT }, { "possible", SUPP_POSSIBLE },
	{ "reachable", SUPP_REACHABLE }, { "all", SUPP_ALL }, { "none", 0 },
};

static int kind_word(const char *w, size_t len, unsigned *bits)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strlen(kind_names[i].name) == len && !memcmp(kind_names[i].name, w, len)) {
			*bits |= kind_names[i].bits;
			return 0;
		}
	}
	return -1;
}

int supp_kinds_parse(const char *list, const char *what, unsigned *out, struct mlz_err *err)
{
	unsigned bits = 0;
	const char *p = list;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (kind_word(p, len, &bits) < 0)
			return mlz_error_kind(err, MLZ_E_USAGE,
					      "%s takes definite, indirect, possible, reachable, all or none, "
					      "separated by commas, not '%s'", what, list);
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = bits;
	return 0;
}

/* One line of the text, its spaces trimmed both sides, as a NUL-terminated copy in *line. */
struct reader {
	const char *p, *end;
	int lineno;
	struct strbuf line;
};

static bool next_line(struct reader *r)
{
	for (;;) {
		if (r->p >= r->end)
			return false;
		const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
		const char *e = nl ? nl : r->end, *b = r->p;
		r->p = nl ? nl + 1 : r->end;
		r->lineno++;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (b == e || *b == '#') /* blank lines and comments, as valgrind skips them */
			continue;
		r->line.len = 0;
		strbuf_add(&r->line, b, (size_t)(e - b));
		return true;
	}
}

static void supp_free(struct suppression *x)
{
	free(x->name);
	free(x->file);
	for (size_t i = 0; i < x->npat; i++)
		free(x->pat[i].glob);
	free(x->pat);
	memset(x, 0, sizeof(*x));
}

/* "Memcheck:Leak" or "Memcheck,Helgrind:Leak": does it name Memcheck, and which kind. */
static bool tool_line(const char *l, bool *memcheck, const char **kind)
{
	const char *colon = strchr(l, ':');
	if (!colon || colon == l || !colon[1])
		return false;
	*memcheck = false;
	for (const char *t = l; t < colon;) {
		const char *c = memchr(t, ',', (size_t)(colon - t));
		const char *te = c ? c : colon;
		if (te - t == 8 && !memcmp(t, "Memcheck", 8))
			*memcheck = true;
		t = c ? c + 1 : colon;
	}
	*kind = colon + 1;
	return true;
}

static int parse_frame(struct reader *r, const char *file, struct suppression *x, struct mlz_err *err)
{
	const char *l = strbuf_str(&r->line);
	struct supp_pat pt = { .kind = SUPP_DOTS };
	if (!strcmp(l, "...")) {
		if (x->npat && x->pat[x->npat - 1].kind == SUPP_DOTS)
			return 0; /* one "..." means what several in a row mean */
	} else if (!strncmp(l, "fun:", 4) || !strncmp(l, "obj:", 4)) {
		pt.kind = l[0] == 'f' ? SUPP_FUN : SUPP_OBJ;
		pt.glob = xstrdup(l + 4);
	} else if (!strncmp(l, "src:", 4)) {
		pt.kind = SUPP_SRC;
		const char *colon = strrchr(l + 4, ':');
		char *endp = NULL;
		long line = colon && colon[1] ? strtol(colon + 1, &endp, 10) : 0;
		if (colon && endp && !*endp && line > 0 && line < 1000000000) {
			pt.glob = xstrndup(l + 4, (size_t)(colon - (l + 4)));
			pt.line = (int)line;
		} else {
			pt.glob = xstrdup(l + 4);
		}
	} else {
		return mlz_error_kind(err, MLZ_E_USAGE,
				      "%s:%d: expected a frame (fun:NAME, obj:PATH, src:FILE or ...) or '}', not '%s'",
				      file, r->lineno, l);
	}
	x->pat = xrealloc(x->pat, (x->npat + 1) * sizeof(*x->pat));
	x->pat[x->npat++] = pt;
	return 0;
}

/* One suppression after its '{'; 1 when kept, 0 when read and left out, -1 on error. */
static int parse_one(struct reader *r, const char *file, struct suppression *x, struct mlz_err *err)
{
	int open_line = r->lineno;
	if (!next_line(r) || !strcmp(strbuf_str(&r->line), "}"))
		return mlz_error_kind(err, MLZ_E_USAGE, "%s:%d: suppression without a name", file, open_line);
	x->name = xstrdup(strbuf_str(&r->line));
	x->file = xstrdup(file);
	x->line = open_line;
	x->kinds = SUPP_ALL;
	bool memcheck;
	const char *kind;
	if (!next_line(r) || !tool_line(strbuf_str(&r->line), &memcheck, &kind))
		return mlz_error_kind(err, MLZ_E_USAGE, "%s:%d: expected TOOL:KIND (such as Memcheck:Leak) after the name",
				      file, r->lineno);
	bool leak = memcheck && !strcmp(kind, "Leak");
	bool first = true;
	for (;;) {
		if (!next_line(r))
			return mlz_error_kind(err, MLZ_E_USAGE, "%s:%d: suppression '%s' has no closing '}'", file,
					      open_line, x->name);
		const char *l = strbuf_str(&r->line);
		if (!strcmp(l, "}"))
			break;
		if (!leak) /* another tool's or kind's: its lines (Param's extra one too) are not ours to judge */
			continue;
		if (first && !strncmp(l, "match-leak-kinds:", 17)) {
			const char *v = l + 17;
			while (*v == ' ' || *v == '\t')
				v++;
			struct mlz_err e2 = { 0 };
			if (supp_kinds_parse(v, "match-leak-kinds", &x->kinds, &e2) < 0)
				return mlz_error_kind(err, MLZ_E_USAGE, "%s:%d: %s", file, r->lineno, e2.msg);
		} else if (parse_frame(r, file, x, err) < 0) {
			return -1;
		}
		first = false;
	}
	if (!leak)
		return 0;
	if (!x->npat)
		return mlz_error_kind(err, MLZ_E_USAGE, "%s:%d: suppression '%s' has no frames", file, open_line, x->name);
	return 1;
}

int suppressions_parse(struct suppressions *s, const char *text, size_t len, const char *file, struct mlz_err *err)
{
	struct reader r = { .p = text, .end = text + len };
	int ret = 0;
	while (next_line(&r)) {
		if (strcmp(strbuf_str(&r.line), "{")) {
			ret = mlz_error_kind(err, MLZ_E_USAGE, "%s:%d: expected '{' to open a suppression, not '%s'", file,
					     r.lineno, strbuf_str(&r.line));
			break;
		}
		struct suppression x = { 0 };
		int k = parse_one(&r, file, &x, err);
		if (k == 1) {
			s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
			s->v[s->n++] = x;
			continue;
		}
		supp_free(&x);
		if (k < 0) {
			ret = -1;
			break;
		}
		s->skipped++;
	}
	strbuf_release(&r.line);
	return ret;
}

int suppressions_load(struct suppressions *s, const char *path, struct mlz_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mlz_error_errno(err, errno, "cannot read suppressions '%s'", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return mlz_error_errno(err, e, "cannot read suppressions '%s'", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return mlz_error(err, "cannot read suppressions '%s': not a regular file", path);
	}
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	ssize_t got;
	while ((got = read(fd, buf, sizeof(buf))) > 0 && sb.len <= MAX_FILE)
		strbuf_add(&sb, buf, (size_t)got);
	int e = errno;
	close(fd);
	int ret = got < 0	     ? mlz_error_errno(err, e, "cannot read suppressions '%s'", path)
		  : sb.len > MAX_FILE ? mlz_error(err, "cannot read suppressions '%s': larger than 64 MiB", path)
				      : suppressions_parse(s, sb.buf ? sb.buf : "", sb.len, path, err);
	strbuf_release(&sb);
	return ret;
}

static const char *base_name(const char *p)
{
	const char *b = strrchr(p, '/');
	return b ? b + 1 : p;
}

static bool frame_matches(const struct supp_pat *p, const struct supp_frame *f)
{
	switch (p->kind) {
	case SUPP_FUN: {
		if (!f->fun)
			return wildcard_match(p->glob, "???"); /* valgrind names an unknown function ??? */
		if (wildcard_match(p->glob, f->fun))
			return true;
		/* valgrind names C++ functions without parameters in suppressions it writes demangled */
		const char *paren = strchr(f->fun, '(');
		if (!paren || paren == f->fun)
			return false;
		char *bare = xstrndup(f->fun, (size_t)(paren - f->fun));
		bool m = wildcard_match(p->glob, bare);
		free(bare);
		return m;
	}
	case SUPP_OBJ:
		return f->obj && (wildcard_match(p->glob, f->obj) || wildcard_match(p->glob, base_name(f->obj)));
	case SUPP_SRC:
		return f->file && (wildcard_match(p->glob, f->file) || wildcard_match(p->glob, base_name(f->file))) &&
		       (!p->line || p->line == f->line);
	case SUPP_DOTS:
		return true;
	}
	return false;
}

/* ok[i][j]: pattern i.. matches frames j..; from the ends backwards, so "..." costs no retries. */
static bool match_one(const struct suppression *x, const struct supp_frame *f, size_t n)
{
	size_t w = n + 1;
	bool *ok = xcalloc((x->npat + 1) * w, sizeof(*ok));
	for (size_t j = 0; j <= n; j++)
		ok[x->npat * w + j] = true; /* the pattern ended: the rest of the stack is free */
	for (size_t i = x->npat; i-- > 0;) {
		const struct supp_pat *p = &x->pat[i];
		for (size_t j = n + 1; j-- > 0;) {
			bool v;
			if (p->kind == SUPP_DOTS)
				v = ok[(i + 1) * w + j] || (j < n && ok[i * w + j + 1]);
			else
				v = j < n && frame_matches(p, &f[j]) && ok[(i + 1) * w + j + 1];
			ok[i * w + j] = v;
		}
	}
	bool m = ok[0];
	free(ok);
	return m;
}

long suppressions_match(const struct suppressions *s, unsigned kind, const struct supp_frame *f, size_t n)
{
	for (size_t i = 0; i < s->n; i++)
		if ((s->v[i].kinds & kind) && match_one(&s->v[i], f, n))
			return (long)i;
	return -1;
}

void suppressions_release(struct suppressions *s)
{
	for (size_t i = 0; i < s->n; i++)
		supp_free(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
