/* SPDX-License-Identifier: GPL-3.0-or-later */
/* repl.h - the two ways commands arrive: an interactive REPL and scripts. */
#ifndef MLZ_REPL_H
#define MLZ_REPL_H

#include <stdio.h>

struct session;

/* One source of script commands, in command-line order. */
struct script_item {
	enum { SCRIPT_COMMAND, SCRIPT_FILE } kind;
	const char *value; /* the command (-e) or the file name (-x) */
};

/* Results of running commands, for the exit status. */
struct run_tally {
	int ok, failed, gone;
	int error;    /* a script file could not be read */
	bool stopped; /* --stop-on-error ended the script at a failed command */
};

/* The readline REPL on a terminal, until quit, EOF, SIGTERM or SIGHUP. */
void repl_run(struct session *s, struct run_tally *tally);
/* Run -e commands and -x files in order; stops early on quit, Ctrl-C, SIGTERM/SIGHUP or unwritable stdout. */
void batch_run(struct session *s, const struct script_item *items, int n, struct run_tally *tally);
/* Run every line of f (the script file name, for messages) as a command. */
void batch_run_stream(struct session *s, FILE *f, const char *name, struct run_tally *tally);
/* Run the lines of stdin as they come, serving the target while waiting for them. */
void batch_run_stdin(struct session *s, struct run_tally *tally);

#endif
