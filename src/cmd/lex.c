// SPDX-License-Identifier: GPL-3.0-or-later
/* lex.c - split a command line into words the way a shell would, minus expansion. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "strbuf.h"
#include "xalloc.h"

int lex_line(const char *line, int *argc, char ***argv, struct mlz_err *err)
{
	size_t n = 0, alloc = 0;
	char **v = NULL;
	const char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			break;
		struct strbuf w = STRBUF_INIT;
		strbuf_addstr(&w, ""); /* "" is a word too */
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			if (*p == '\'' || *p == '"') {
				char q = *p++;
				while (*p && *p != q) {
					if (q == '"' && *p == '\\' && p[1])
						p++;
					strbuf_addch(&w, *p++);
				}
				if (!*p) {
					strbuf_release(&w);
					lex_free((int)n, v);
					return mlz_error_kind(err, MLZ_E_USAGE, "unterminated %c quote", q);
				}
				p++;
			} else if (*p == '\\' && p[1]) {
				strbuf_addch(&w, p[1]);
				p += 2;
			} else {
				strbuf_addch(&w, *p++);
			}
		}
		ALLOC_GROW(v, n + 2, alloc);
		v[n++] = strbuf_detach(&w);
		v[n] = NULL;
	}
	*argc = (int)n;
	*argv = v;
	return 0;
}

void lex_free(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int *row = xmalloc((lb + 1) * sizeof(int));
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j];
			int best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	int d = row[lb];
	free(row);
	return d;
}
