/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd.h - the command table: one struct cmd_entry per src/cmd/cmd-NAME.c, and how a line runs. */
#ifndef MLZ_CMD_H
#define MLZ_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct jv;
struct session;
struct strbuf;

/*
 * What a command needs of the target; the dispatcher refuses the rest with
 * one message, so exec never checks. None: answers anywhere, also once the
 * process has ended. A process held at its exit (its last thread stopped at
 * its exit event) has an image but does not run: IMAGE commands answer there,
 * PROCESS ones are refused.
 */
enum cmd_flags {
	CMD_NEEDS_IMAGE = 1 << 0,   /* reads memory or registers: a core, or a process that exists or is held at its exit */
	CMD_NEEDS_PROCESS = 1 << 1, /* acts on a process that still runs: stops, writes or calls into it */
	CMD_NEEDS_EVENTS = 1 << 2,  /* follows a process's events (time, allocations): not a core */
	CMD_NOT_CORE = 1 << 3,      /* a process's image only, not a core's (dump, check, detach) */
	CMD_ESTIMATES = 1 << 4,     /* shows traced counts or bytes: estimates once byte sampling was on, and says so */
	CMD_RECORDING_OK = 1 << 5,  /* with CMD_NEEDS_EVENTS: a recording holds the events it reads (phases) */
};

struct cmd_opt {
	const char *name; /* "--depth" */
	const char *arg;  /* "N" when it takes a value, NULL for a flag */
	const char *help;
};

#define CMD_MAX_OPTS 16

struct cmd_args {
	const char *cmd; /* the command's name, for messages */
	int argc;    /* positional arguments only */
	char **argv; /* words borrowed from the lexed line, in an array the caller frees */
	int nopt;
	struct {
		const char *name;
		const char *value; /* NULL for a flag */
	} opt[CMD_MAX_OPTS];
	bool json;
};

struct cmd_ctx {
	struct session *s;
	const struct cmd_args *args;
	struct jv *result; /* set by exec on success: a JSON object */
	struct mlz_err err;
	const char *line;  /* the command line as shown in answers (trimmed) */
	bool json;         /* answers are JSON */
};

/* How results are rendered as text: what the command line and settings ask. */
struct text_opts {
	bool bytes; /* sizes as exact byte counts (--bytes, `set bytes on`), else as 1.5 MiB */
};

/*
 * One line of a command that reports as it goes (watch), printed at once: in
 * JSON {"command": LINE, "sample": v}, in text what text renders. Takes v.
 */
void cmd_emit_sample(struct cmd_ctx *c, struct jv *v,
		     void (*text)(const struct jv *v, const struct text_opts *t, struct strbuf *out));

struct cmd_entry {
	const char *name;
	const char *alias;   /* or NULL */
	const char *usage;   /* "bt [TID|all]" */
	const char *summary; /* one line for `help` */
	const char *help;    /* paragraph for `help CMD` and the man page */
	const struct cmd_opt *opts; /* terminated by { NULL }; --json is implied */
	int min_args, max_args;
	unsigned flags;
	/* Fill ctx->result and return 0, or fill ctx->err and return -1. */
	int (*exec)(struct cmd_ctx *ctx);
	/* Render a result as text; NULL prints nothing. */
	void (*text)(const struct jv *result, const struct text_opts *t, struct strbuf *out);
};

/*
 * The version of every command's JSON, which `help --json` reports: raised
 * when a key goes away or changes meaning, so a script can tell; new keys
 * leave it as it is.
 */
#define CMD_JSON_SCHEMA 2

/* Every command, NULL-terminated, in the order `help` lists them. */
extern const struct cmd_entry *const cmd_table[];

/* By exact name or alias, then unique prefix; else an error naming candidates or the nearest. */
const struct cmd_entry *cmd_find(const char *word, struct mlz_err *err);
/* What the next word of a command may be, for completion. */
enum cmd_complete {
	CMD_COMPLETE_NOTHING,   /* a value the user makes up (a number, an address, a new name) */
	CMD_COMPLETE_WORDS,     /* one of words */
	CMD_COMPLETE_FILES,     /* a file name */
	CMD_COMPLETE_SNAPSHOTS, /* a snapshot's name */
	CMD_COMPLETE_COMMANDS,  /* a command's name */
};
struct cmd_completion {
	enum cmd_complete kind;
	char **words; /* CMD_COMPLETE_WORDS: NULL-terminated, owned; release with cmd_completion_release */
	size_t nwords;
};
/*
 * What follows words[0..nwords) (the words after the command's name) on a
 * line for e: read from e's usage line and options, so a new command or
 * option completes without a list of its own. Returns out->kind.
 */
int cmd_complete_arg(const struct cmd_entry *e, int nwords, char **words, struct cmd_completion *out);
void cmd_completion_release(struct cmd_completion *c);
/* Split argv (argv[0] is the command) into positionals and options, checking counts. */
int cmd_parse_args(const struct cmd_entry *e, int argc, char **argv, struct cmd_args *a, struct mlz_err *err);
bool cmd_has(const struct cmd_args *a, const char *name);
/* The option's value, or NULL. */
const char *cmd_optval(const struct cmd_args *a, const char *name);

/*
 * Every number a user types goes through here. The whole word must be
 * decimal digits, or hexadecimal digits after 0x: no sign (no number mlyze
 * takes is negative), no spaces, nothing after the digits, not empty.
 * Returns 0 with *out set, -1 when word is not a number, -2 when it is one
 * larger than max.
 */
int cmd_parse_u64(const char *word, uint64_t max, uint64_t *out);
/*
 * A size: a number as cmd_parse_u64 takes it, or decimal digits followed by
 * K, M, G or T (either case: KiB, MiB, GiB, TiB). Same returns.
 */
int cmd_parse_size(const char *word, uint64_t max, uint64_t *out);
/*
 * Under byte sampling (once it was on), the dispatcher adds to the result of a
 * CMD_ESTIMATES command "estimated": true, "sample_bytes" (the mean) and
 * "estimate" (the method), and its text starts with cmd_estimate_line's line;
 * text functions mark estimated figures with a '~' (cmd_estimated(r) says so).
 */
bool cmd_estimated(const struct jv *r);
struct text_opts;
/* The size_str flags for a result's text: exact with --bytes, '~' when it is an estimate. */
unsigned text_size_flags(const struct text_opts *t, const struct jv *r);

/* The largest mean byte sampling takes (--sample, set sample): 1 TiB. */
#define SAMPLE_MAX (1ull << 40)
/* word as a size from min to max bytes, or -1 with a usage error as cmd_number's. */
int cmd_size(const char *cmd, const char *what, const char *word, uint64_t min, uint64_t max, uint64_t *out,
	     struct mlz_err *err);
/*
 * word as a number from min to max (0 <= min <= max), or -1 with the usage
 * error "CMD: WHAT expects a number[ from MIN to MAX], not 'WORD'".
 */
int cmd_number(const char *cmd, const char *what, const char *word, long min, long max, long *out,
	       struct mlz_err *err);
/* Option name's value through cmd_number; *out is left as it is when the option was not given. */
int cmd_optnum(const struct cmd_args *a, const char *name, long min, long max, long *out, struct mlz_err *err);
/*
 * Seconds as decimal digits with at most one '.' (what strtod would take
 * besides, such as "", " 1", "1e3", "0x1p3" or "inf", is refused). 0, -1 when
 * word is not such a number, -2 when it is more than max.
 */
int cmd_parse_seconds(const char *word, double max, double *out);

/* Outcome of one command line, for the exit status. */
enum cmd_outcome { CMD_OK, CMD_FAILED, CMD_GONE, CMD_EMPTY };
/*
 * Lex, find, parse, run and print one line: the result to stdout (text, or one
 * JSON object per line with --json), errors to stderr in text mode. When stdout
 * cannot be written, s->output_errno says why and later lines print nothing.
 */
enum cmd_outcome cmd_run_line(struct session *s, const char *line);
/*
 * A line that could not be run at all (a script line with a NUL byte): err
 * printed as cmd_run_line prints a failed command's; returns CMD_FAILED.
 */
enum cmd_outcome cmd_fail_line(struct session *s, const char *line, const struct mlz_err *err);

struct snapshot;
/*
 * `load FILE [NAME]` without printing: the snapshot FILE holds joins the
 * session's (as NAME, default its saved name, which must be free). Returns
 * it, or NULL with err saying what is wrong with the file. `mlyze open` uses it.
 */
const struct snapshot *snapshot_load(struct session *s, const char *path, const char *name, struct mlz_err *err);

/* Split a command line into words (quotes, backslashes, # comments); 0 or -1. */
int lex_line(const char *line, int *argc, char ***argv, struct mlz_err *err);
void lex_free(int argc, char **argv);

/* Edit distance, for "did you mean". */
int edit_distance(const char *a, const char *b);

#endif
