// SPDX-License-Identifier: GPL-3.0-or-later
/* batch.c - scripts: -e commands, -x files and stdin that is not a terminal, one command a line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "repl.h"
#include "session.h"

static bool should_stop(const struct session *s)
{
	return s->quit || s->fatal_signal || s->interrupted;
}

static void count(struct run_tally *t, enum cmd_outcome o)
{
	if (o == CMD_OK)
		t->ok++;
	else if (o == CMD_FAILED)
		t->failed++;
	else if (o == CMD_GONE)
		t->gone++;
}

void batch_run_stream(struct session *s, FILE *f, struct run_tally *tally)
{
	char *line = NULL;
	size_t cap = 0;
	while (!should_stop(s) && getline(&line, &cap, f) > 0)
		count(tally, cmd_run_line(s, line));
	free(line);
}

void batch_run(struct session *s, const struct script_item *items, int n, struct run_tally *tally)
{
	for (int i = 0; i < n && !should_stop(s); i++) {
		if (items[i].kind == SCRIPT_COMMAND) {
			count(tally, cmd_run_line(s, items[i].value));
			continue;
		}
		FILE *f = fopen(items[i].value, "r");
		if (!f) {
			fprintf(stderr, "mlyze: cannot read script '%s': %s\n", items[i].value, strerror(errno));
			tally->error = 1;
			return;
		}
		batch_run_stream(s, f, tally);
		fclose(f);
	}
}
