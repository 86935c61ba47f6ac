// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-help.c - `help [CMD]`: the command table, read by help, completion and the man-page test. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "jv.h"
#include "strbuf.h"

static struct jv *one(const struct cmd_entry *e)
{
	struct jv *o = jv_object();
	jv_set(o, "name", jv_string(e->name));
	jv_set(o, "alias", jv_string(e->alias));
	jv_set(o, "usage", jv_string(e->usage));
	jv_set(o, "summary", jv_string(e->summary));
	jv_set(o, "help", jv_string(e->help));
	struct jv *opts = jv_set(o, "options", jv_array());
	for (const struct cmd_opt *op = e->opts; op && op->name; op++) {
		struct jv *x = jv_push(opts, jv_object());
		jv_set(x, "name", jv_string(op->name));
		jv_set(x, "arg", jv_string(op->arg));
		jv_set(x, "help", jv_string(op->help));
	}
	jv_set(o, "needs_live_process", jv_bool(e->flags & (CMD_NEEDS_IMAGE | CMD_NEEDS_PROCESS)));
	jv_set(o, "core_files", jv_bool(!(e->flags & (CMD_NEEDS_PROCESS | CMD_NEEDS_EVENTS | CMD_NOT_CORE))));
	return o;
}

static int cmd_help_exec(struct cmd_ctx *c)
{
	if (c->args->argc) {
		const struct cmd_entry *e = cmd_find(c->args->argv[0], &c->err);
		if (!e)
			return -1;
		c->result = jv_object();
		jv_set(c->result, "schema", jv_int(CMD_JSON_SCHEMA));
		jv_set(c->result, "command", one(e));
		return 0;
	}
	c->result = jv_object();
	jv_set(c->result, "schema", jv_int(CMD_JSON_SCHEMA));
	struct jv *list = jv_set(c->result, "commands", jv_array());
	for (const struct cmd_entry *const *e = cmd_table; *e; e++)
		jv_push(list, one(*e));
	return 0;
}

/* Wrap text at 72 columns with an indent, for `help CMD`. */
static void wrap(struct strbuf *out, const char *text, int indent)
{
	int col = 0;
	while (*text) {
		while (*text == ' ')
			text++;
		size_t w = strcspn(text, " ");
		if (!w)
			break;
		if (col && col + 1 + (int)w > 72) {
			strbuf_addch(out, '\n');
			col = 0;
		}
		if (!col) {
			strbuf_addf(out, "%*s", indent, "");
			col = indent;
		} else {
			strbuf_addch(out, ' ');
			col++;
		}
		strbuf_add(out, text, w);
		col += (int)w;
		text += w;
	}
	strbuf_addch(out, '\n');
}

static void cmd_help_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	const struct jv *e = jv_get(r, "command");
	if (e) {
		strbuf_addf(out, "usage: %s\n", jv_get_str(e, "usage", ""));
		if (jv_get_str(e, "alias", NULL))
			strbuf_addf(out, "alias: %s\n", jv_get_str(e, "alias", ""));
		strbuf_addch(out, '\n');
		wrap(out, jv_get_str(e, "help", ""), 2);
		const struct jv *opts = jv_get(e, "options");
		strbuf_addstr(out, "\noptions:\n");
		for (size_t i = 0; i < jv_len(opts); i++) {
			const struct jv *o = jv_at(opts, i);
			char head[64];
			snprintf(head, sizeof(head), "%s%s%s", jv_get_str(o, "name", ""), jv_get_str(o, "arg", NULL) ? " " : "",
				 jv_get_str(o, "arg", ""));
			strbuf_addf(out, "  %-18s %s\n", head, jv_get_str(o, "help", ""));
		}
		strbuf_addstr(out, "  --json             one JSON object per line\n");
		return;
	}
	const struct jv *list = jv_get(r, "commands");
	strbuf_addstr(out, "commands (each also takes --json; 'help CMD' for more):\n");
	for (size_t i = 0; i < jv_len(list); i++) {
		const struct jv *c = jv_at(list, i);
		const char *u = jv_get_str(c, "usage", "");
		if (strlen(u) > 26) /* a long usage gets a line of its own */
			strbuf_addf(out, "  %s\n  %-26s %s\n", u, "", jv_get_str(c, "summary", ""));
		else
			strbuf_addf(out, "  %-26s %s\n", u, jv_get_str(c, "summary", ""));
	}
}

static const struct cmd_opt opts[] = { { NULL, NULL, NULL } };

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = "help [CMD]",
	.summary = "list the commands, or explain one",
	.help = "Without an argument lists every command with its usage; with one, shows that command's "
		"usage, what it does and its options. Commands may be shortened to a unique prefix.",
	.opts = opts,
	.max_args = 1,
	.exec = cmd_help_exec,
	.text = cmd_help_text,
};
