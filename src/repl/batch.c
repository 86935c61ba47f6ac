// SPDX-License-Identifier: GPL-3.0-or-later
/* batch.c - scripts: -e commands, -x files and stdin that is not a terminal, one command a line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "repl.h"
#include "session.h"
#include "strbuf.h"
#include "xalloc.h"

static bool should_stop(const struct session *s)
{
	return s->quit || s->fatal_signal || s->interrupted || s->output_errno;
}

/*
 * One script line of len bytes. A NUL byte would end the line as a C string
 * and silently drop what follows it, so such a line fails with its number.
 */
static enum cmd_outcome run_script_line(struct session *s, const char *line, size_t len, unsigned long lineno)
{
	if (!memchr(line, '\0', len))
		return cmd_run_line(s, line);
	struct mlz_err err;
	mlz_error(&err, "line %lu: contains a NUL byte", lineno);
	return cmd_fail_line(s, line, &err);
}

/*
 * Count one command's outcome. With --stop-on-error a failed one (or one
 * refused because the process is gone) ends the script, and the user is told
 * where it is: FILE:LINE for a script file, "-e #N" for the Nth -e command,
 * as a compiler names the line an error is on.
 */
static void count(struct session *s, struct run_tally *t, enum cmd_outcome o,
		  const char *where, unsigned long lineno)
{
	if (o == CMD_OK)
		t->ok++;
	else if (o == CMD_FAILED)
		t->failed++;
	else if (o == CMD_GONE)
		t->gone++;
	if (!s->stop_on_error || (o != CMD_FAILED && o != CMD_GONE) || t->stopped)
		return;
	t->stopped = true;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "mlyze: ");
	if (where)
		strbuf_add_escaped(&sb, where);
	else
		strbuf_addstr(&sb, "-e #");
	strbuf_addf(&sb, "%s%lu: the first failed command; stopping (--stop-on-error)\n", where ? ":" : "", lineno);
	fputs(strbuf_str(&sb), stderr);
	strbuf_release(&sb);
}

static bool should_stop_script(const struct session *s, const struct run_tally *t)
{
	return should_stop(s) || t->stopped;
}

void batch_run_stream(struct session *s, FILE *f, const char *name, struct run_tally *tally)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	while (!should_stop_script(s, tally) && (len = getline(&line, &cap, f)) > 0) {
		lineno++;
		count(s, tally, run_script_line(s, line, (size_t)len, lineno), name, lineno);
	}
	free(line);
}

void batch_run_stdin(struct session *s, struct run_tally *tally)
{
	/*
	 * Lines may come slowly (a pipe from another program): the target must
	 * be served while mlyze waits for the next one, so no blocking getline.
	 */
	struct strbuf buf = STRBUF_INIT;
	bool eof = false;
	unsigned long lineno = 0;
	while (!should_stop_script(s, tally)) {
		char *nl = buf.len ? memchr(buf.buf, '\n', buf.len) : NULL;
		if (nl || (eof && buf.len)) {
			size_t n = nl ? (size_t)(nl - buf.buf) + 1 : buf.len;
			char *line = xmalloc(n + 1); /* all n bytes: a NUL among them must be seen */
			memcpy(line, buf.buf, n);
			line[n] = '\0';
			memmove(buf.buf, buf.buf + n, buf.len - n);
			buf.len -= n;
			buf.buf[buf.len] = '\0';
			lineno++;
			count(s, tally, run_script_line(s, line, n, lineno), "stdin", lineno);
			free(line);
			continue;
		}
		if (eof)
			break;
		if (session_serve(s, -1, SERVE_STDIN) != 1)
			continue;
		char chunk[4096];
		ssize_t got = read(0, chunk, sizeof(chunk));
		if (got > 0)
			strbuf_add(&buf, chunk, (size_t)got);
		else if (got == 0 || errno != EINTR)
			eof = true;
	}
	strbuf_release(&buf);
}

void batch_run(struct session *s, const struct script_item *items, int n, struct run_tally *tally)
{
	unsigned long ncmd = 0;
	for (int i = 0; i < n && !should_stop_script(s, tally); i++) {
		if (items[i].kind == SCRIPT_COMMAND) {
			ncmd++;
			count(s, tally, cmd_run_line(s, items[i].value), NULL, ncmd);
			continue;
		}
		FILE *f = fopen(items[i].value, "r");
		if (!f) {
			fprintf(stderr, "mlyze: cannot read script '%s': %s\n", items[i].value, strerror(errno));
			tally->error = 1;
			return;
		}
		batch_run_stream(s, f, items[i].value, tally);
		fclose(f);
	}
}
