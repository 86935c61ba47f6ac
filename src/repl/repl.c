// SPDX-License-Identifier: GPL-3.0-or-later
/* repl.c - the interactive REPL: readline's callback interface inside mlyze's event loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cmd.h"
#include "repl.h"
#include "session.h"
#include "target.h"
#include "xalloc.h"

/*
 * readline's callbacks take no user argument, so the REPL keeps its state in
 * this one file-level object (set only while repl_run runs).
 */
static struct repl {
	struct session *s;
	struct run_tally *tally;
	bool in_command;
	char *history_file;
	char prompt[64];
	/* completion generator state */
	const struct cmd_entry *completing;
	struct cmd_completion arg; /* what the word being completed may be */
	size_t gen_index;
} R;

static void notify(struct session *s, const char *line)
{
	(void)s;
	if (R.in_command) {
		fprintf(stderr, "mlyze: %s\n", line);
		return;
	}
	/* Print above the line being edited, then redraw it as it was. */
	char *saved = rl_copy_text(0, rl_end);
	int point = rl_point;
	rl_save_prompt();
	rl_replace_line("", 0);
	rl_redisplay();
	fprintf(stderr, "\rmlyze: %s\n", line);
	rl_restore_prompt();
	rl_replace_line(saved, 0);
	rl_point = point;
	rl_forced_update_display();
	free(saved);
}

static void on_line(char *line)
{
	if (!line) { /* EOF (Ctrl-D) */
		R.s->quit = true;
		putchar('\n');
		return;
	}
	if (*line) {
		add_history(line);
		if (R.history_file)
			append_history(1, R.history_file);
	}
	R.in_command = true;
	enum cmd_outcome o = cmd_run_line(R.s, line);
	R.in_command = false;
	if (o == CMD_OK)
		R.tally->ok++;
	else if (o == CMD_FAILED)
		R.tally->failed++;
	else if (o == CMD_GONE)
		R.tally->gone++;
	R.s->interrupted = false; /* Ctrl-C ended that command, not the REPL */
	free(line);
	if (R.s->quit)
		rl_callback_handler_remove(); /* no prompt after quit */
}

static char *command_generator(const char *text, int state)
{
	if (!state)
		R.gen_index = 0;
	for (const struct cmd_entry *e; (e = cmd_table[R.gen_index]); ) {
		R.gen_index++;
		if (!strncmp(e->name, text, strlen(text)))
			return xstrdup(e->name);
	}
	return NULL;
}

static char *option_generator(const char *text, int state)
{
	if (!state)
		R.gen_index = 0;
	const struct cmd_opt *opts = R.completing ? R.completing->opts : NULL;
	size_t nopts = 0;
	while (opts && opts[nopts].name)
		nopts++;
	while (R.gen_index <= nopts) {
		const char *name = R.gen_index < nopts ? opts[R.gen_index].name : "--json";
		R.gen_index++;
		if (!strncmp(name, text, strlen(text)))
			return xstrdup(name);
	}
	return NULL;
}

/* The alternatives the usage names ("site|function|..."), or the session's snapshots and "now". */
static char *arg_generator(const char *text, int state)
{
	if (!state)
		R.gen_index = 0;
	const struct snapshots *ss = &R.s->snaps;
	for (;;) {
		size_t i = R.gen_index++;
		const char *w;
		if (R.arg.kind == CMD_COMPLETE_WORDS)
			w = i < R.arg.nwords ? R.arg.words[i] : NULL;
		else
			w = i < ss->n ? ss->v[i].name : i == ss->n ? "now" : NULL;
		if (!w)
			return NULL;
		if (!strncmp(w, text, strlen(text)))
			return xstrdup(w);
	}
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1; /* never fall back to file names, unless a FILE is due */
	int first = (int)strspn(rl_line_buffer, " \t");
	if (start <= first)
		return rl_completion_matches(text, command_generator);
	char word[64];
	int wl = (int)strcspn(rl_line_buffer + first, " \t");
	snprintf(word, sizeof(word), "%.*s", wl < 63 ? wl : 63, rl_line_buffer + first);
	struct mlz_err ignored;
	R.completing = cmd_find(word, &ignored);
	if (text[0] == '-')
		return rl_completion_matches(text, option_generator);

	/* The words between the command and the one being completed, as the command will see them. */
	char *before = xstrndup(rl_line_buffer, (size_t)start);
	int argc = 0;
	char **argv = NULL;
	char **matches = NULL;
	if (lex_line(before, &argc, &argv, &ignored) == 0 && argc >= 1) {
		cmd_completion_release(&R.arg);
		switch (cmd_complete_arg(R.completing, argc - 1, argv + 1, &R.arg)) {
		case CMD_COMPLETE_WORDS:
		case CMD_COMPLETE_SNAPSHOTS:
			matches = rl_completion_matches(text, arg_generator);
			break;
		case CMD_COMPLETE_COMMANDS:
			matches = rl_completion_matches(text, command_generator);
			break;
		case CMD_COMPLETE_FILES:
			rl_attempted_completion_over = 0; /* readline's own file name completion */
			break;
		case CMD_COMPLETE_NOTHING:
			break;
		}
		lex_free(argc, argv);
	}
	free(before);
	return matches;
}

void repl_run(struct session *s, struct run_tally *tally)
{
	R = (struct repl){ .s = s, .tally = tally };
	const char *home = getenv("HOME");
	if (home && *home) {
		R.history_file = xasprintf("%s/.mlyze_history", home);
		if (read_history(R.history_file) != 0)
			write_history(R.history_file); /* append_history needs the file to exist */
		stifle_history(1000);
	}
	snprintf(R.prompt, sizeof(R.prompt), "(mlyze %d) ", s->target ? s->target->pid : 0);
	void (*saved_notify)(struct session *, const char *) = s->notify;
	s->notify = notify;
	/* Signals reach mlyze through its signalfd; readline must not install handlers of its own. */
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_readline_name = "mlyze";
	rl_attempted_completion_function = complete;
	rl_callback_handler_install(R.prompt, on_line);

	while (!s->quit && !s->fatal_signal && !s->output_errno) {
		int r = session_serve(s, 1000, SERVE_STDIN);
		if (r == 1) {
			rl_callback_read_char();
		} else if (r < 0 && s->interrupted) {
			/* Ctrl-C at the prompt drops the line being typed, as a shell does. */
			s->interrupted = false;
			rl_replace_line("", 0);
			putchar('\n');
			rl_on_new_line();
			rl_redisplay();
		}
	}
	rl_callback_handler_remove(); /* again after quit: harmless, and restores the terminal */
	if (R.history_file)
		history_truncate_file(R.history_file, 1000);
	free(R.history_file);
	cmd_completion_release(&R.arg);
	s->notify = saved_notify;
	R = (struct repl){ 0 };
}
