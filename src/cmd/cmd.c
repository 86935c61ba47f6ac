// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd.c - the command table, lookup by name/alias/prefix, option parsing and running one line. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "jv.h"
#include "liveset.h"
#include "session.h"
#include "strbuf.h"
#include "target.h"
#include "target.h"
#include "xalloc.h"

extern const struct cmd_entry cmd_info_entry, cmd_threads_entry, cmd_maps_entry, cmd_bt_entry,
	cmd_sleep_entry, cmd_detach_entry, cmd_quit_entry, cmd_help_entry, cmd_stats_entry, cmd_snapshot_entry,
	cmd_snapshots_entry, cmd_compare_entry, cmd_trend_entry, cmd_watch_entry, cmd_top_entry, cmd_growth_entry, cmd_blocks_entry, cmd_show_entry,
	cmd_peak_entry, cmd_mark_entry, cmd_phases_entry, cmd_timeline_entry, cmd_set_entry, cmd_wait_entry, cmd_heap_entry, cmd_arenas_entry, cmd_check_entry, cmd_dump_entry, cmd_export_entry, cmd_save_entry, cmd_load_entry, cmd_trim_entry, cmd_leaks_entry, cmd_path_entry, cmd_refs_entry, cmd_backrefs_entry;

const struct cmd_entry *const cmd_table[] = {
	&cmd_snapshot_entry, &cmd_snapshots_entry, &cmd_compare_entry, &cmd_trend_entry, &cmd_watch_entry, &cmd_growth_entry, &cmd_top_entry,
	&cmd_blocks_entry, &cmd_show_entry, &cmd_peak_entry, &cmd_mark_entry, &cmd_phases_entry, &cmd_timeline_entry, &cmd_stats_entry,
	&cmd_set_entry, &cmd_heap_entry, &cmd_arenas_entry, &cmd_check_entry, &cmd_dump_entry, &cmd_export_entry, &cmd_save_entry, &cmd_load_entry, &cmd_trim_entry, &cmd_leaks_entry, &cmd_path_entry, &cmd_refs_entry, &cmd_backrefs_entry,
	&cmd_info_entry, &cmd_threads_entry, &cmd_bt_entry, &cmd_maps_entry,
	&cmd_sleep_entry, &cmd_wait_entry, &cmd_detach_entry, &cmd_quit_entry, &cmd_help_entry,
	NULL,
};

const struct cmd_entry *cmd_find(const char *word, struct mlz_err *err)
{
	const struct cmd_entry *const *e;
	for (e = cmd_table; *e; e++)
		if (!strcmp((*e)->name, word) || ((*e)->alias && !strcmp((*e)->alias, word)))
			return *e;

	const struct cmd_entry *found = NULL;
	struct strbuf cands = STRBUF_INIT;
	int nfound = 0;
	for (e = cmd_table; *e; e++) {
		if (!strncmp((*e)->name, word, strlen(word))) {
			found = *e;
			strbuf_addf(&cands, "%s%s", nfound++ ? ", " : "", (*e)->name);
		}
	}
	if (nfound == 1) {
		strbuf_release(&cands);
		return found;
	}
	if (nfound > 1) {
		mlz_error_kind(err, MLZ_E_USAGE, "ambiguous command '%s', could be: %s", word, strbuf_str(&cands));
		strbuf_release(&cands);
		return NULL;
	}
	strbuf_release(&cands);

	const struct cmd_entry *near = NULL;
	int best = 3; /* farther than two edits is no suggestion */
	for (e = cmd_table; *e; e++) {
		int d = edit_distance(word, (*e)->name);
		if (d < best) {
			best = d;
			near = *e;
		}
	}
	if (near)
		return mlz_error_kind(err, MLZ_E_USAGE, "unknown command '%s'; did you mean '%s'?", word, near->name),
		       NULL;
	mlz_error_kind(err, MLZ_E_USAGE, "unknown command '%s'; type 'help' for the list", word);
	return NULL;
}

static const struct cmd_opt *find_opt(const struct cmd_entry *e, const char *name, size_t len)
{
	for (const struct cmd_opt *o = e->opts; o && o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	return NULL;
}

int cmd_parse_args(const struct cmd_entry *e, int argc, char **argv, struct cmd_args *a, struct mlz_err *err)
{
	*a = (struct cmd_args){ .cmd = e->name, .argv = xcalloc(argc, sizeof(char *)) };
	bool only_positional = false;
	for (int i = 1; i < argc; i++) {
		char *w = argv[i];
		if (only_positional || w[0] != '-' || w[1] != '-' || !w[2]) {
			if (!only_positional && !strcmp(w, "--")) {
				only_positional = true;
				continue;
			}
			a->argv[a->argc++] = w;
			continue;
		}
		if (!strcmp(w, "--json")) {
			a->json = true;
			continue;
		}
		const char *eq = strchr(w, '=');
		size_t len = eq ? (size_t)(eq - w) : strlen(w);
		const struct cmd_opt *o = find_opt(e, w, len);
		if (!o)
			return mlz_error_kind(err, MLZ_E_USAGE, "%s: unknown option '%.*s' (usage: %s)", e->name, (int)len,
					      w, e->usage);
		if (a->nopt == CMD_MAX_OPTS)
			return mlz_error_kind(err, MLZ_E_USAGE, "%s: too many options", e->name);
		const char *value = NULL;
		if (o->arg) {
			if (eq)
				value = eq + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else
				return mlz_error_kind(err, MLZ_E_USAGE, "%s: option '%s' needs a value %s", e->name,
						      o->name, o->arg);
		} else if (eq) {
			return mlz_error_kind(err, MLZ_E_USAGE, "%s: option '%s' takes no value", e->name, o->name);
		}
		a->opt[a->nopt].name = o->name;
		a->opt[a->nopt++].value = value;
	}
	if (a->argc < e->min_args)
		return mlz_error_kind(err, MLZ_E_USAGE, "%s: missing argument (usage: %s)", e->name, e->usage);
	if (a->argc > e->max_args)
		return mlz_error_kind(err, MLZ_E_USAGE, "%s: unexpected argument '%s' (usage: %s)", e->name,
				      a->argv[e->max_args], e->usage);
	return 0;
}

bool cmd_has(const struct cmd_args *a, const char *name)
{
	for (int i = 0; i < a->nopt; i++)
		if (!strcmp(a->opt[i].name, name))
			return true;
	return false;
}

const char *cmd_optval(const struct cmd_args *a, const char *name)
{
	const char *v = NULL;
	for (int i = 0; i < a->nopt; i++) /* the last one given wins, as with getopt */
		if (!strcmp(a->opt[i].name, name))
			v = a->opt[i].value;
	return v;
}

int cmd_parse_u64(const char *word, uint64_t max, uint64_t *out)
{
	const char *p = word;
	unsigned base = 10;
	bool over = false;
	uint64_t v = 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return -1;
	/* Every character is looked at, so "99999999999999999999x" is junk, not too large. */
	for (; *p; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return -1;
		if (v > (UINT64_MAX - d) / base)
			over = true;
		else
			v = v * base + d;
	}
	if (over || v > max)
		return -2;
	*out = v;
	return 0;
}

/* --- figures from byte sampling --- */

bool cmd_estimated(const struct jv *r)
{
	const struct jv *v = jv_get(r, "estimated");
	return v && v->kind == JV_BOOL && v->u.b;
}

unsigned text_size_flags(const struct text_opts *t, const struct jv *r)
{
	return (t->bytes ? SIZE_EXACT : 0) | (cmd_estimated(r) ? SIZE_ESTIMATE : 0);
}

/* Once byte sampling was on, traced figures are estimates: say so, with the mean and the method. */
static void mark_estimates(struct session *s, struct jv *r)
{
	if (!r || !liveset_estimated(&s->live))
		return;
	uint64_t mean = s->live.estimated_mean;
	jv_set(r, "estimated", jv_bool(true));
	jv_set(r, "sample_bytes", jv_int((int64_t)mean));
	jv_set(r, "estimate", jv_stringf("byte sampling: a recorded block of s bytes counts as 1/p blocks and s/p "
					 "bytes, p = 1 - exp(-s/%llu); blocks of %llu bytes or more are all recorded",
					 (unsigned long long)mean, (unsigned long long)mean));
}

static void estimate_line(const struct jv *r, struct strbuf *out)
{
	strbuf_addstr(out, "~ estimated from byte sampling, mean ");
	strbuf_add_size(out, jv_get_int(r, "sample_bytes", 0), 0);
	strbuf_addstr(out, " (a recorded block of s bytes stands for 1/p, p = 1 - exp(-s/mean))\n");
}

int cmd_parse_size(const char *word, uint64_t max, uint64_t *out)
{
	static const char units[] = "KMGT"; /* powers of 1024 */
	size_t len = strlen(word);
	char digits[64];
	unsigned shift = 0;
	uint64_t v;
	if (len >= sizeof(digits))
		return -1;
	memcpy(digits, word, len + 1);
	const char *u = len > 1 && isalpha((unsigned char)word[len - 1]) ? strchr(units, toupper((unsigned char)word[len - 1])) : NULL;
	if (u) {
		digits[len - 1] = '\0';
		shift = 10 * (unsigned)(u - units + 1);
	}
	int r = cmd_parse_u64(digits, UINT64_MAX, &v);
	if (r < 0)
		return r;
	if (v > (UINT64_MAX >> shift) || (v << shift) > max)
		return -2;
	*out = v << shift;
	return 0;
}

int cmd_size(const char *cmd, const char *what, const char *word, uint64_t min, uint64_t max, uint64_t *out,
	     struct mlz_err *err)
{
	uint64_t v;
	int r = cmd_parse_size(word, max, &v);
	if (r == -1)
		return mlz_error_kind(err, MLZ_E_USAGE, "%s: %s expects a size (bytes, or a number with K, M, G or T), not '%s'",
				      cmd, what, word);
	if (r < 0 || v < min)
		return mlz_error_kind(err, MLZ_E_USAGE, "%s: %s expects a size from %" PRIu64 " to %" PRIu64 " bytes, not '%s'",
				      cmd, what, min, max, word);
	*out = v;
	return 0;
}

int cmd_number(const char *cmd, const char *what, const char *word, long min, long max, long *out,
	       struct mlz_err *err)
{
	uint64_t v;
	int r = cmd_parse_u64(word, (uint64_t)max, &v);
	if (r == -1)
		return mlz_error_kind(err, MLZ_E_USAGE, "%s: %s expects a number, not '%s'", cmd, what, word);
	if (r < 0 || v < (uint64_t)min)
		return mlz_error_kind(err, MLZ_E_USAGE, "%s: %s expects a number from %ld to %ld, not '%s'", cmd, what,
				      min, max, word);
	*out = (long)v;
	return 0;
}

int cmd_optnum(const struct cmd_args *a, const char *name, long min, long max, long *out, struct mlz_err *err)
{
	const char *v = cmd_optval(a, name);
	if (!v)
		return 0;
	char what[64];
	snprintf(what, sizeof(what), "option '%s'", name);
	return cmd_number(a->cmd, what, v, min, max, out, err);
}

int cmd_parse_seconds(const char *word, double max, double *out)
{
	size_t digits = strspn(word, "0123456789");
	const char *p = word + digits;
	if (*p == '.') {
		size_t frac = strspn(p + 1, "0123456789");
		digits += frac;
		p += 1 + frac;
	}
	if (!digits || *p)
		return -1;
	double v = strtod(word, NULL);
	if (!(v <= max))
		return -2;
	*out = v;
	return 0;
}

/*
 * Results go to s->out (stdout, or -o's file) and nowhere else: once it cannot take them (the reader
 * of a pipe went away, a full disk, a closed descriptor) the session records
 * why, and no further command runs. SIGPIPE is ignored, so a closed pipe is
 * EPIPE here rather than a death that would skip the detach.
 */
static void emit(struct session *s, const char *text)
{
	if (s->output_errno)
		return;
	FILE *out = s->out ? s->out : stdout;
	errno = 0;
	if (fputs(text, out) == EOF || fflush(out) == EOF || ferror(out))
		s->output_errno = errno ? errno : EIO;
}

/* A failed line in text mode; the message may quote the target's names, so it is escaped as results are. */
static void print_error(const char *msg)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "error: ");
	strbuf_add_escaped(&sb, msg);
	strbuf_addch(&sb, '\n');
	fputs(strbuf_str(&sb), stderr);
	strbuf_release(&sb);
}

/* A failed command may still have a result (what `check` found wrong): it is printed with the error. */
static void print_json(struct session *s, const char *line, bool ok, const struct jv *result,
		       const struct mlz_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "{\"command\": ");
	json_quote(&sb, line);
	strbuf_addstr(&sb, ok ? ", \"ok\": true" : ", \"ok\": false, \"error\": ");
	if (!ok)
		json_quote(&sb, err->msg);
	if (result) {
		strbuf_addstr(&sb, ", \"result\": ");
		jv_dump(result, &sb);
	}
	strbuf_addstr(&sb, "}\n");
	emit(s, strbuf_str(&sb));
	strbuf_release(&sb);
}

void cmd_emit_sample(struct cmd_ctx *c, struct jv *v,
		     void (*text)(const struct jv *v, const struct text_opts *t, struct strbuf *out))
{
	struct strbuf sb = STRBUF_INIT;
	if (c->json) {
		strbuf_addstr(&sb, "{\"command\": ");
		json_quote(&sb, c->line);
		strbuf_addstr(&sb, ", \"sample\": ");
		jv_dump(v, &sb);
		strbuf_addstr(&sb, "}\n");
	} else {
		text(v, &(struct text_opts){ .bytes = c->s->bytes }, &sb);
	}
	emit(c->s, strbuf_str(&sb));
	strbuf_release(&sb);
	jv_free(v);
}

static void trim(const char *line, const char **start, int *len)
{
	const char *p = line, *end = line + strlen(line);
	while (*p == ' ' || *p == '\t')
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	*start = p;
	*len = (int)(end - p);
}

/* A command that left the process paused is a bug: resume it and say so, whatever the command answered. */
static int unpause_left(struct session *s, const struct cmd_entry *e, int r, struct cmd_ctx *ctx)
{
	struct mlz_err err;
	s->paused = 1;
	if (session_unpause(s, NULL, &err) < 0)
		mlz_error(&ctx->err, "'%s' left the process stopped, and it could not be resumed: %s", e->name, err.msg);
	else
		mlz_error(&ctx->err, "'%s' left the process stopped; it was resumed", e->name);
	if (r == 0) {
		jv_free(ctx->result);
		ctx->result = NULL;
	}
	return -1;
}

/* Refuse, with one message, a command that the target cannot serve; 0 to run it. */
static int check_needs(struct session *s, const struct cmd_entry *e, struct mlz_err *err)
{
	if ((e->flags & (CMD_NEEDS_PROCESS | CMD_NEEDS_EVENTS | CMD_NOT_CORE | CMD_NEEDS_IMAGE)) &&
	    !target_has_image(s->target) && !s->rec) /* a recording says what it lacks below */
		return mlz_error(err, "%s: no process: this session has only saved snapshots", e->name);
	if ((e->flags & (CMD_NEEDS_PROCESS | CMD_NEEDS_EVENTS | CMD_NOT_CORE)) && !target_is_process(s->target) &&
	    !(s->rec && (e->flags & CMD_RECORDING_OK)))
		return mlz_error(err, "'%s' needs a live process; this is a %s", e->name, target_kind(s->target));
	if (e->flags & CMD_NEEDS_PROCESS)
		return session_need_process(s, err);
	if (e->flags & CMD_NEEDS_IMAGE)
		return session_need_image(s, err);
	return 0;
}

enum cmd_outcome cmd_fail_line(struct session *s, const char *line, const struct mlz_err *err)
{
	const char *start;
	int len;
	trim(line, &start, &len);
	char *shown = xstrndup(start, len);
	if (s->json)
		print_json(s, shown, false, NULL, err);
	else
		print_error(err->msg);
	free(shown);
	return CMD_FAILED;
}

enum cmd_outcome cmd_run_line(struct session *s, const char *line)
{
	int argc = 0;
	char **argv = NULL;
	struct cmd_ctx ctx = { .s = s };
	struct cmd_args args = { 0 };
	const struct cmd_entry *e = NULL;
	bool json = s->json;
	int r = -1;

	if (lex_line(line, &argc, &argv, &ctx.err) == 0) {
		if (argc == 0) {
			lex_free(argc, argv);
			return CMD_EMPTY;
		}
		for (int i = 1; i < argc; i++)
			json |= !strcmp(argv[i], "--json");
		e = cmd_find(argv[0], &ctx.err);
	}
	const char *start;
	int len;
	trim(line, &start, &len);
	char *shown = xstrndup(start, len);
	ctx.line = shown;
	ctx.json = json;
	if (e && cmd_parse_args(e, argc, argv, &args, &ctx.err) == 0) {
		ctx.args = &args;
		s->interrupted = false;
		session_running(s, json ? NULL : e->name); /* never a progress line among JSON */
		if (check_needs(s, e, &ctx.err) == 0)
			r = e->exec(&ctx);
		if (s->paused)
			r = unpause_left(s, e, r, &ctx);
		session_running(s, NULL);
		if (r == 0 && !ctx.result)
			ctx.result = jv_object();
	}
	if (r < 0 && s->interrupted && ctx.err.kind != MLZ_E_INTERRUPTED)
		mlz_error_kind(&ctx.err, MLZ_E_INTERRUPTED, "interrupted");

	if (r == 0 && e && (e->flags & CMD_ESTIMATES))
		mark_estimates(s, ctx.result);
	if (json) {
		print_json(s, shown, r == 0, ctx.result, &ctx.err);
	} else {
		struct strbuf out = STRBUF_INIT;
		if (e && e->text && ctx.result) {
			if (cmd_estimated(ctx.result))
				estimate_line(ctx.result, &out);
			e->text(ctx.result, &(struct text_opts){ .bytes = s->bytes }, &out);
		}
		emit(s, strbuf_str(&out));
		strbuf_release(&out);
		if (r < 0)
			print_error(ctx.err.msg);
	}
	free(shown);
	free(args.argv);
	jv_free(ctx.result);
	lex_free(argc, argv);
	session_flush_notices(s);
	if (r == 0)
		return CMD_OK;
	return ctx.err.kind == MLZ_E_GONE ? CMD_GONE : CMD_FAILED;
}
