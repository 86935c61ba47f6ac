// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * complete.c - what the next word of a command may be, read from the command's
 * own usage line and options, so completion never needs a list of its own.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "xalloc.h"

static const struct cmd_opt *find_opt(const struct cmd_entry *e, const char *word)
{
	for (const struct cmd_opt *o = e->opts; o && o->name; o++)
		if (!strcmp(o->name, word))
			return o;
	return NULL;
}

static bool all_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isupper((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return n > 0;
}

/*
 * A placeholder as the usage writes it: "a|b|c" offers its lowercase
 * alternatives (the uppercase ones, as TID in "TID|all", name values the user
 * makes up); FILE a file; A, B and SNAPSHOT a snapshot; CMD a command.
 */
static enum cmd_complete classify(const char *tok, size_t n, struct cmd_completion *out)
{
	if (memchr(tok, '|', n)) {
		for (size_t i = 0; i < n;) {
			size_t k = strcspn(tok + i, "|");
			if (k > n - i)
				k = n - i;
			if (k && !all_upper(tok + i, k)) {
				out->words = xrealloc(out->words, (out->nwords + 2) * sizeof(*out->words));
				out->words[out->nwords++] = xstrndup(tok + i, k);
				out->words[out->nwords] = NULL;
			}
			i += k + 1;
		}
		return out->kind = out->nwords ? CMD_COMPLETE_WORDS : CMD_COMPLETE_NOTHING;
	}
	static const struct {
		const char *tok;
		enum cmd_complete kind;
	} named[] = {
		{ "FILE", CMD_COMPLETE_FILES },  { "A", CMD_COMPLETE_SNAPSHOTS },
		{ "B", CMD_COMPLETE_SNAPSHOTS }, { "SNAPSHOT", CMD_COMPLETE_SNAPSHOTS },
		{ "CMD", CMD_COMPLETE_COMMANDS },
	};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strlen(named[i].tok) == n && !memcmp(named[i].tok, tok, n))
			return out->kind = named[i].kind;
	return out->kind = CMD_COMPLETE_NOTHING;
}

/*
 * The usage's positional placeholders in order: the words after the name,
 * without option groups ("[--by site|function]"), brackets, lone "|" and
 * "...". The placeholder number want (its length in *len), or NULL.
 */
static const char *nth_placeholder(const char *usage, int want, size_t *len)
{
	const char *p = usage + strcspn(usage, " ");
	int n = 0;
	while (*p) {
		p += strspn(p, " ");
		if (p[0] == '[' && p[1] == '-') { /* an option group: skip to its ']' */
			const char *close = strchr(p, ']');
			p = close ? close + 1 : p + strlen(p);
			continue;
		}
		p += strspn(p, "[");
		size_t k = strcspn(p, " ]");
		const char *tok = p;
		p += k;
		p += strspn(p, "]");
		if (!k || (k == 1 && *tok == '|') || (k == 3 && !memcmp(tok, "...", 3)))
			continue;
		if (n++ == want) {
			*len = k;
			return tok;
		}
	}
	return NULL;
}

int cmd_complete_arg(const struct cmd_entry *e, int nwords, char **words, struct cmd_completion *out)
{
	*out = (struct cmd_completion){ .kind = CMD_COMPLETE_NOTHING };
	if (!e)
		return out->kind;
	const struct cmd_opt *o = nwords ? find_opt(e, words[nwords - 1]) : NULL;
	if (o && o->arg)
		return classify(o->arg, strlen(o->arg), out);
	int pos = 0;
	for (int i = 0; i < nwords; i++) {
		const struct cmd_opt *w = find_opt(e, words[i]);
		if (w)
			i += w->arg != NULL; /* its value */
		else if (words[i][0] != '-')
			pos++;
	}
	size_t len;
	const char *tok = nth_placeholder(e->usage, pos, &len);
	return tok ? classify(tok, len, out) : out->kind;
}

void cmd_completion_release(struct cmd_completion *c)
{
	for (size_t i = 0; i < c->nwords; i++)
		free(c->words[i]);
	free(c->words);
	*c = (struct cmd_completion){ 0 };
}
