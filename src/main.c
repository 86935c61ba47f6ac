// SPDX-License-Identifier: GPL-3.0-or-later
/* main.c - the command line: modes, options, signals, exit codes; the only place that dies. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "parts.h"
#include "record.h"
#include "repl.h"
#include "session.h"
#include "strbuf.h"
#include "target.h"
#include "xalloc.h"

#ifndef MLYZE_VERSION
#define MLYZE_VERSION "0.1.0"
#endif

/* Exit codes (documented in --help and mlyze(1)). */
enum {
	EXIT_OK = 0,
	EXIT_PARTIAL = 1, /* a command failed, or was refused because the process is gone */
	EXIT_FATAL = 2,   /* could not attach or launch, or could not restore the target */
	EXIT_USAGE = 64,
	EXIT_PIPE = 128 + SIGPIPE, /* stdout's reader went away: what a shell shows for git and its pager */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mlyze [OPTIONS] attach PID\n"
		"       mlyze [OPTIONS] -p PID\n"
		"       mlyze [OPTIONS] run [--] PROGRAM [ARGS...]\n"
		"       mlyze [OPTIONS] core CORE [EXE]\n"
		"       mlyze record -o FILE [--force] [--duration SECONDS] [--checkpoint SECONDS]\n"
		"                    [--max-stack-depth N] [--breakpoints]\n"
		"                    (attach PID | -p PID | run [--] PROGRAM [ARGS...])\n"
		"       mlyze [OPTIONS] open FILE...\n"
		"       mlyze [--json] help [CMD]\n"
		"\n"
		"A heap inspector for running Linux x86-64 processes: attach to a process (or launch one),\n"
		"then inspect its threads, stacks and memory from a REPL or a script.\n"
		"\n"
		"modes:\n"
		"  attach PID        trace the running process PID (all its threads)\n"
		"  run PROGRAM ARGS  start PROGRAM under mlyze; mlyze exits with its exit status\n"
		"  core CORE [EXE]   inspect the core file CORE (EXE: the program, if not where it was)\n"
		"  record -o FILE ...  record every allocation and free of a process (attach PID, -p PID\n"
		"                    or run PROGRAM) with its stack into the recording FILE, with a sample\n"
		"                    a second and checkpoints, until --duration SECONDS, Ctrl-C, SIGTERM\n"
		"                    or the program's end; no commands run (the process stops only\n"
		"                    while tracing goes in); each SIGUSR1 to mlyze marks the moment\n"
		"                    (usr1-1, usr1-2, ...) for snapshot --at, timeline and phases\n"
		"  open FILE...      no process: the snapshots 'save' wrote to each FILE, loaded; or one\n"
		"                    recording 'record' wrote: snapshot NAME --at SECONDS|end|peak|MARK,\n"
		"                    then top, compare, blocks, timeline, phases, export; symbols from\n"
		"                    the modules' files now\n"
		"  help [CMD]        the commands, or one command, without a process\n"
		"\n"
		"options:\n"
		"  -e CMD            run CMD (repeatable; with -x, in the order given)\n"
		"  -x FILE           run the commands in FILE, one per line\n"
		"  -p PID            the same as 'attach PID'\n"
		"  -o FILE           write results to FILE instead of stdout (in run mode the\n"
		"                    program keeps stdout to itself); with record, the recording\n"
		"  --watch 'INTERVAL [OPTIONS]'\n"
		"                    run 'watch INTERVAL [OPTIONS]' (a sample every INTERVAL seconds) in\n"
		"                    its place among -e and -x\n"
		"  --stop-on-error   end a script at its first failed command, naming its FILE:LINE\n"
		"                    (or -e #N); the exit status is then 1\n"
		"  --json            print each command's result as one JSON object per line\n"
		"  --no-trace        do not trace allocations (nothing is written into the process);\n"
		"                    snapshots, top and compare then see what heap walks find\n"
		"  --agent           record allocations through an agent injected into the process\n"
		"                    (the default): no trap per call; where it cannot go in, mlyze\n"
		"                    traces with breakpoints and says why\n"
		"  --breakpoints     trace with an int3 on each allocator entry instead (a trap per call)\n"
		"  --alloc-fn NAME   a function that allocates for its caller, skipped when choosing a\n"
		"                    site, as valgrind's --alloc-fn (repeatable, globs; added to the\n"
		"                    built-in list that 'set alloc-fn' shows)\n"
		"  --bytes           sizes in text output as exact byte counts, not 1.5 MiB\n"
		"  --sample BYTES    byte sampling (agent only): record an allocation of size bytes with\n"
		"                    probability 1 - exp(-size/BYTES), always at BYTES or more; counts\n"
		"                    and bytes become estimates, labelled so (K, M, G suffixes; 0: off)\n"
		"  --debug-dir DIR   look for separate debug files (by build-id) under DIR instead of\n"
		"                    /usr/lib/debug; a directory without them makes mlyze find glibc's\n"
		"                    heap state by searching libc's data\n"
		"  --duration SECONDS  record: stop recording after SECONDS and detach\n"
		"  --checkpoint SECONDS  record: a checkpoint (the whole live set) every SECONDS\n"
		"                    (default 10) and every 2^20 events, where snapshot --at starts\n"
		"  --max-stack-depth N  record: at most N frames per stack (1 to 256, default 32), as\n"
		"                    'set max-stack-depth'\n"
		"  --force           record: replace FILE if it exists (never a symbolic link)\n"
		"  -h, --help        show this help and exit\n"
		"  -V, --version     show the version and exit\n"
		"A short option's value may follow it directly (-eCMD), a long one's after '='\n"
		"(--debug-dir=DIR).\n"
		"\n"
		"Without -e or -x, a terminal on stdin gets a REPL and any other stdin is read as a script\n"
		"(in run mode stdin is left to the program). mlyze detaches cleanly at the end of the\n"
		"script, on quit, on end of input, and on SIGINT (scripts), SIGTERM, SIGHUP or SIGQUIT.\n"
		"\n"
		"commands:\n");
	for (const struct cmd_entry *const *e = cmd_table; *e; e++) {
		if (strlen((*e)->usage) > 26) /* a long usage gets a line of its own */
			fprintf(f, "  %s\n  %-26s %s\n", (*e)->usage, "", (*e)->summary);
		else
			fprintf(f, "  %-26s %s\n", (*e)->usage, (*e)->summary);
	}
	fprintf(f,
		"\n"
		"exit status:\n"
		"  0   every command succeeded\n"
		"  1   at least one command failed (also one refused because the process had ended or\n"
		"      was detached), or results could not be written to stdout\n"
		"  2   mlyze could not attach, launch or restore the process\n"
		"  64  usage error\n"
		"  141 stdout is a pipe whose reader went away (128+SIGPIPE): mlyze ran no more\n"
		"      commands, detached and stopped without a message\n"
		"  128+N  mlyze ended on signal N after detaching\n"
		"  in run mode, the program's exit status (128+N if signal N killed it)\n"
		"\n"
		"environment:\n"
		"  MLYZE_ASSUME_SHADOW_STACK=1  trace as with a CET shadow stack (breakpoints at return\n"
		"      sites, no trim), as mlyze does by itself when the process has one; for tests\n"
		"  MLYZE_PROGRESS_AFTER_MS=MS  show the progress line of long work on a terminal after MS\n"
		"      milliseconds instead of 500; for tests\n"
		"  MLYZE_SAMPLE_SEED=N  seed byte sampling's generators with N instead of a random\n"
		"      number, so that a run samples the same calls again; for tests\n");
}

/*
 * The exit status for output that could not be written (errnum), given the
 * status it would have had. A reader that went away is no error to report:
 * status 141, silently, as if SIGPIPE had ended mlyze (it is ignored so that
 * mlyze detaches first). Any other error is said, with status 1. A failure
 * to restore the process (status 2) outranks both.
 */
static int output_failed(int errnum, int code)
{
	if (errnum != EPIPE)
		fprintf(stderr, "mlyze: error: cannot write output: %s\n", strerror(errnum));
	if (code == EXIT_FATAL)
		return code;
	return errnum == EPIPE ? EXIT_PIPE : EXIT_PARTIAL;
}

/* Close -o's file; a result that could not be written is an error like stdout's. */
static void close_output(struct session *s)
{
	if (s->out && fclose(s->out) == EOF && !s->output_errno)
		s->output_errno = errno ? errno : EIO;
	s->out = NULL;
}

/*
 * Before --help or --version prints: one buffer for all of it, so that its
 * one write at exit_printed() is what fails on a full device, with errno
 * set, rather than a write halfway whose errno later calls overwrite.
 */
static void print_whole(void)
{
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
}

/* Exit after --help or --version, with what writing them to stdout did. */
static _Noreturn void exit_printed(void)
{
	errno = 0;
	if (fflush(stdout) == EOF || ferror(stdout))
		exit(output_failed(errno ? errno : EIO, EXIT_OK));
	exit(EXIT_OK);
}

/* "mlyze: PREFIXMSG": an attach error may quote another process's name, escaped as all text output is. */
static void print_err(const char *prefix, const char *msg)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "mlyze: %s", prefix);
	strbuf_add_escaped(&sb, msg);
	strbuf_addch(&sb, '\n');
	fputs(strbuf_str(&sb), stderr);
	strbuf_release(&sb);
}

static _Noreturn void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "mlyze: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\ntry 'mlyze --help'\n");
	exit(EXIT_USAGE);
}

/* Long work's progress on the terminal: redrawn in place, wiped when the command ends. */
static void show_progress(struct session *s, const char *line)
{
	(void)s;
	if (line)
		fprintf(stderr, "\rmlyze: %s\033[K", line);
	else
		fputs("\r\033[K", stderr);
}

/* The crash handler needs the session; nothing else reads this. */
static struct session *crash_session;

static void on_crash(int sig)
{
	static const char msg[] = "mlyze: fatal error in mlyze; restoring and detaching the target\n";
	if (gettid() != getpid()) {
		/*
		 * A helper thread (the walk's and the scan's parts): only the main
		 * thread is the process's tracer and can restore it. Another crash
		 * signal goes to the main thread, whose handler restores, detaches
		 * and ends mlyze; this thread, and any other helper that faults
		 * meanwhile (the handler stays: no SA_RESETHAND, which is
		 * process-wide and would let a second fault kill mlyze before the
		 * restore), waits for that, never returning to the fault.
		 */
		static atomic_flag handed = ATOMIC_FLAG_INIT;
		if (!atomic_flag_test_and_set(&handed))
			tgkill(getpid(), getpid(), sig == SIGABRT ? SIGBUS : SIGABRT);
		for (;;)
			pause();
	}
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(EXIT_FATAL);
	if (crash_session && crash_session->target)
		target_emergency_detach(crash_session->target);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_crash_handlers(struct session *s)
{
	static char altstack[64 * 1024]; /* so a stack overflow in mlyze still detaches */
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	sigaltstack(&ss, NULL);
	struct sigaction sa = { .sa_handler = on_crash, .sa_flags = SA_ONSTACK };
	crash_session = s;
	int sigs[] = { CRASH_SIGNALS };
	/*
	 * One crash at a time: blocked while the handler runs, so a fault in the
	 * main thread's restore is the kernel's to end (a fault whose signal is
	 * blocked kills at once), and a helper's, handed over, waits.
	 */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	/* A closed pipe must be an error on write, not a death that skips the restore. */
	signal(SIGPIPE, SIG_IGN);
}

struct cli {
	enum session_mode mode;
	bool help_mode;
	const char *pid_arg;
	const char *core_path, *core_exe;
	const char **open_files; /* open: the files, up to the next option or the end */
	int nopen;
	char **prog_argv;
	struct script_item *items;
	int nitems;
	bool json;
	const char *debug_dir;
	bool no_trace;
	bool agent, breakpoints;
	bool stop_on_error;
	const char *out_path; /* -o: results go there, not to stdout; with record, the recording */
	bool bytes;
	char *watch;            /* --watch's command, in items */
	const char **alloc_fns; /* --alloc-fn patterns, nalloc_fns of them */
	int nalloc_fns;
	const char *sample;
	bool record;          /* record: the mode that follows is recorded into out_path */
	bool force;           /* record --force: replace an existing recording */
	double duration;      /* record --duration, 0: until the end */
	double checkpoint;    /* record --checkpoint: seconds between checkpoints, 0: the default */
	int max_depth;        /* record --max-stack-depth: frames per stack, 0: the default */
};

/*
 * The value of an option that takes one, in any of the forms gdb and valgrind
 * users type: "-e CMD" and "-eCMD" for a short option, "--name VALUE" and
 * "--name=VALUE" for a long one. NULL when a is not the option name. *i moves
 * past a separate value.
 */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '\0') {
		if (*i + 1 >= argc)
			die_usage("option '%s' needs an argument", name);
		return argv[++*i];
	}
	if (name[1] != '-')
		return a + n; /* -eCMD */
	return a[n] == '=' ? a + n + 1 : NULL; /* --name=VALUE; --namefoo is another option */
}

/* A long option that takes no value: "--json", and "--json=..." is an error. */
static bool opt_flag(const char *a, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(a, name, n))
		return false;
	if (a[n] == '=')
		die_usage("option '%s' takes no argument", name);
	return a[n] == '\0';
}

static void free_cli(struct cli *c)
{
	free(c->items);
	free(c->watch);
	free(c->open_files);
	c->items = NULL;
	c->watch = NULL;
	c->open_files = NULL;
}

static void parse_cli(int argc, char **argv, struct cli *c)
{
	bool have_mode = false;
	const char *v;
	c->items = xcalloc(argc, sizeof(*c->items));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || opt_flag(a, "--help")) {
			print_whole();
			usage(stdout);
			exit_printed();
		} else if (!strcmp(a, "-V") || opt_flag(a, "--version")) {
			print_whole();
			printf("mlyze %s\n", MLYZE_VERSION);
			exit_printed();
		} else if (opt_flag(a, "--json")) {
			c->json = true;
		} else if (opt_flag(a, "--no-trace")) {
			c->no_trace = true;
		} else if (opt_flag(a, "--agent")) {
			c->agent = true;
		} else if (opt_flag(a, "--breakpoints")) {
			c->breakpoints = true;
		} else if (opt_flag(a, "--force")) {
			c->force = true;
		} else if (opt_flag(a, "--stop-on-error")) {
			c->stop_on_error = true;
		} else if (opt_flag(a, "--bytes")) {
			c->bytes = true;
		} else if ((v = opt_value(argc, argv, &i, "--alloc-fn"))) {
			if (!c->alloc_fns)
				c->alloc_fns = xcalloc(argc, sizeof(*c->alloc_fns));
			c->alloc_fns[c->nalloc_fns++] = v;
		} else if ((v = opt_value(argc, argv, &i, "--sample"))) {
			c->sample = v;
		} else if ((v = opt_value(argc, argv, &i, "--duration"))) {
			char *end;
			c->duration = strtod(v, &end);
			if (end == v || *end || !(c->duration > 0) || c->duration > 1e9)
				die_usage("--duration: '%s' is not a number of seconds", v);
		} else if ((v = opt_value(argc, argv, &i, "--checkpoint"))) {
			char *end;
			c->checkpoint = strtod(v, &end);
			if (end == v || *end || !(c->checkpoint >= 0.1) || c->checkpoint > 1e9)
				die_usage("--checkpoint: '%s' is not a number of seconds (0.1 or more)", v);
		} else if ((v = opt_value(argc, argv, &i, "--max-stack-depth"))) {
			uint64_t d;
			/* the bounds of `set max-stack-depth` */
			if (cmd_parse_u64(v, 256, &d) < 0 || d < 1)
				die_usage("--max-stack-depth: '%s' is not a number of frames from 1 to 256", v);
			c->max_depth = (int)d;
		} else if ((v = opt_value(argc, argv, &i, "--debug-dir"))) {
			c->debug_dir = v;
		} else if ((v = opt_value(argc, argv, &i, "-o"))) {
			c->out_path = v;
		} else if ((v = opt_value(argc, argv, &i, "--watch"))) {
			/* "--watch '5 --threshold 100M'" is the command "watch 5 --threshold 100M", in its place */
			if (c->watch)
				die_usage("%s", "--watch is given once (one watch runs until it ends)");
			c->watch = xasprintf("watch %s", v);
			c->items[c->nitems].kind = SCRIPT_COMMAND;
			c->items[c->nitems++].value = c->watch;
		} else if ((v = opt_value(argc, argv, &i, "-e")) || (v = opt_value(argc, argv, &i, "-x"))) {
			c->items[c->nitems].kind = a[1] == 'e' ? SCRIPT_COMMAND : SCRIPT_FILE;
			c->items[c->nitems++].value = v;
		} else if ((v = opt_value(argc, argv, &i, "-p"))) {
			/* gdb's and strace's spelling of "attach PID" */
			if (have_mode)
				die_usage("%s", "-p PID is 'attach PID': give one mode");
			c->mode = MODE_ATTACH;
			c->pid_arg = v;
			have_mode = true;
		} else if (have_mode && c->mode == MODE_RUN && !strcmp(a, "--")) {
			if (i + 1 >= argc)
				die_usage("%s", "run: no program given");
			c->prog_argv = argv + i + 1;
			return;
		} else if (a[0] == '-' && a[1]) {
			die_usage("unknown option '%s'", a);
		} else if (!have_mode && !c->record && !strcmp(a, "record")) {
			c->record = true; /* a mode to record follows */
		} else if (!have_mode) {
			if (!strcmp(a, "help")) {
				c->help_mode = true;
				c->pid_arg = i + 1 < argc ? argv[i + 1] : NULL;
				return;
			}
			if (!strcmp(a, "attach"))
				c->mode = MODE_ATTACH;
			else if (!strcmp(a, "run"))
				c->mode = MODE_RUN;
			else if (!strcmp(a, "core"))
				c->mode = MODE_CORE;
			else if (!strcmp(a, "open"))
				c->mode = MODE_OPEN;
			else
				die_usage("unknown mode '%s' (expected 'attach', 'run', 'core', 'open', 'record' or 'help')", a);
			have_mode = true;
		} else if (c->mode == MODE_ATTACH && !c->pid_arg) {
			c->pid_arg = a;
		} else if (c->mode == MODE_CORE && (!c->core_path || !c->core_exe)) {
			*(c->core_path ? &c->core_exe : &c->core_path) = a;
		} else if (c->mode == MODE_OPEN) {
			if (!c->open_files)
				c->open_files = xcalloc((size_t)argc, sizeof(*c->open_files));
			c->open_files[c->nopen++] = a;
		} else if (c->mode == MODE_RUN) {
			c->prog_argv = argv + i; /* the program's own options follow it */
			return;
		} else {
			die_usage("unexpected argument '%s'", a);
		}
	}
	if (!have_mode)
		die_usage("%s", c->record ? "record: no process given (expected 'attach PID', '-p PID' or 'run PROGRAM')"
					  : "no mode given (expected 'attach PID', 'run PROGRAM', 'core CORE' or 'open FILE')");
	/* A script that cannot be read is found before anything touches the target. */
	for (int i = 0; i < c->nitems; i++) {
		if (c->items[i].kind == SCRIPT_FILE && access(c->items[i].value, R_OK) != 0) {
			fprintf(stderr, "mlyze: cannot read script '%s': %s\n", c->items[i].value, strerror(errno));
			exit(EXIT_USAGE);
		}
	}
	if (c->mode == MODE_ATTACH && !c->pid_arg)
		die_usage("%s", "attach: no process id given");
	if (c->mode == MODE_CORE && !c->core_path)
		die_usage("%s", "core: no core file given");
	if (c->mode == MODE_OPEN && !c->nopen)
		die_usage("%s", "open: no file given (saved snapshots, or a recording)");
	if (c->mode == MODE_RUN && !c->prog_argv)
		die_usage("%s", "run: no program given");
	if (c->record && (c->mode == MODE_CORE || c->mode == MODE_OPEN))
		die_usage("%s", "record: records a process: attach PID, -p PID or run PROGRAM");
	if (c->record && !c->out_path)
		die_usage("%s", "record: no recording file given (-o FILE)");
	if (c->record && (c->nitems || c->no_trace))
		die_usage("%s", "record runs no commands (-e, -x) and needs tracing (no --no-trace)");
	if (c->record && c->sample)
		die_usage("%s", "record keeps every call: --sample does not apply to it");
	if ((c->duration > 0 || c->checkpoint > 0 || c->force || c->max_depth) && !c->record)
		die_usage("%s", "--duration, --checkpoint, --max-stack-depth and --force are for record");
	if ((c->agent || c->breakpoints) && (c->mode == MODE_CORE || c->mode == MODE_OPEN || c->no_trace))
		die_usage("%s", "--agent and --breakpoints trace a process (attach or run), without --no-trace");
	if (c->agent && c->breakpoints)
		die_usage("%s", "--agent or --breakpoints: one way of tracing, not both");
	if (c->sample && (c->mode == MODE_CORE || c->no_trace || c->breakpoints))
		die_usage("%s", "--sample needs tracing by the agent (attach or run, without --no-trace or "
			  "--breakpoints): breakpoints trap every call anyway");
}

/* --sample's mean, and the seed of the agent's generators (MLYZE_SAMPLE_SEED for tests, else random). */
static void sample_settings(const struct cli *c, struct session *s)
{
	const char *seed = getenv("MLYZE_SAMPLE_SEED");
	uint64_t v;
	if (c->sample) {
		int r = cmd_parse_size(c->sample, SAMPLE_MAX, &v);
		if (r == -1)
			die_usage("--sample expects a size (bytes, or a number with K, M, G or T), not '%s'", c->sample);
		if (r < 0)
			die_usage("--sample expects a size up to 1T, not '%s'", c->sample);
		s->sample_mean = v;
	}
	if (seed && *seed) {
		if (cmd_parse_u64(seed, UINT64_MAX, &v) < 0)
			die_usage("MLYZE_SAMPLE_SEED expects a number, not '%s'", seed);
		s->sample_seed = v;
	} else if (getrandom(&s->sample_seed, sizeof(s->sample_seed), 0) != (ssize_t)sizeof(s->sample_seed)) {
		s->sample_seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ (uint64_t)time(NULL);
	}
}

static pid_t parse_pid(const char *s)
{
	uint64_t v;
	if (cmd_parse_u64(s, INT_MAX, &v) < 0 || v == 0)
		die_usage("'%s' is not a process id", s);
	return (pid_t)v;
}

/* In run mode the program's end is mlyze's end: wait for it unless the user quit. */
static void wait_for_program(struct session *s)
{
	while (target_runs(s->target) && !s->fatal_signal) {
		session_serve(s, -1, SERVE_UNTIL_GONE);
		s->interrupted = false; /* the terminal's Ctrl-C went to the program too: its business */
	}
}

/*
 * A closed stdin/stdout/stderr would be taken by the next open(), e.g. the
 * signalfd: fill them. stdout gets /dev/null opened for reading, so writing
 * results still fails with EBADF, as on the closed descriptor, and is reported.
 */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd == 2 ? O_WRONLY : O_RDONLY) < 0)
			exit(EXIT_FATAL);
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	struct session s = { .sigfd = -1 };
	struct mlz_err err = { 0 };

	ensure_std_fds();
	/*
	 * A fixed mmap threshold: glibc would otherwise raise it as mlyze frees its
	 * grown tables, keep the next ones on the heap, and hold the freed ones in
	 * RSS; mlyze's memory per traced block would then count every old table.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	parse_cli(argc, argv, &cli);
	struct recorder *rec = NULL;
	if (cli.record) {
		/* The file first: one that cannot be written leaves the process untouched. */
		if (!(rec = recorder_new(cli.out_path, cli.force, &err))) {
			print_err("", err.msg);
			exit(EXIT_USAGE);
		}
	} else if (cli.out_path) {
		/* Close-on-exec: in run mode the program must not inherit it. */
		int fd = open(cli.out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || !(s.out = fdopen(fd, "w"))) {
			fprintf(stderr, "mlyze: cannot write '%s': %s\n", cli.out_path, strerror(errno));
			exit(EXIT_USAGE);
		}
	}
	s.stop_on_error = cli.stop_on_error;
	/* Progress lines go to a terminal only, never among JSON (a per-command --json is left out by cmd.c). */
	if (isatty(2) && !cli.json) {
		const char *after = getenv("MLYZE_PROGRESS_AFTER_MS");
		s.progress = show_progress;
		s.progress_after = after ? atof(after) : 500;
	}
	sample_settings(&cli, &s);
	s.mode = cli.mode;
	s.json = cli.json;
	s.debug_dir = cli.debug_dir;
	if (cli.help_mode) {
		char *line = xasprintf("help %s", cli.pid_arg ? cli.pid_arg : "");
		enum cmd_outcome o = cmd_run_line(&s, line);
		free(line);
		free_cli(&cli);
		close_output(&s);
		int code = o == CMD_OK ? EXIT_OK : EXIT_USAGE;
		return s.output_errno ? output_failed(s.output_errno, code) : code;
	}
	install_crash_handlers(&s);
	if (session_init(&s, &err) < 0 || (rec && session_catch_usr1(&s, &err) < 0)) {
		/* record marks on SIGUSR1: caught before anyone is told the recording started */
		print_err("", err.msg);
		return EXIT_FATAL;
	}
	for (int i = 0; i < cli.nalloc_fns; i++)
		alloc_fns_add(&s.keys.alloc_fns, cli.alloc_fns[i]);
	free(cli.alloc_fns);
	s.bytes = cli.bytes;
	/* open: saved snapshots, or one recording, told by its magic */
	bool recording = cli.mode == MODE_OPEN && record_is_recording(cli.open_files[0]);
	if (recording && cli.nopen > 1)
		die_usage("%s", "open: a recording opens alone, without other files");
	if (recording) {
		if (record_open(&s, cli.open_files[0], &err) < 0) {
			print_err("", err.msg);
			record_close(&s);
			session_release(&s);
			free_cli(&cli);
			return EXIT_FATAL;
		}
	} else if (cli.mode == MODE_ATTACH)
		s.target = target_attach(parse_pid(cli.pid_arg), &err);
	else if (cli.mode == MODE_CORE)
		s.target = target_open_core(cli.core_path, cli.core_exe, &err);
	else if (cli.mode == MODE_OPEN)
		s.target = target_open_none();
	else
		s.target = target_launch(cli.prog_argv, &err);
	if (!s.target) {
		print_err("", err.msg);
		session_release(&s);
		recorder_free(rec);
		free_cli(&cli);
		return EXIT_FATAL;
	}
	session_flush_notices(&s); /* what open found missing (a module's file) */

	s.use_agent = !cli.breakpoints; /* the agent is the default; --agent says so */
	/* A core gets the (empty) tables only: its snapshots hold what the heap walk finds. */
	bool tracing = true;
	if (!recording && session_start_tracing(&s, cli.mode != MODE_CORE && cli.mode != MODE_OPEN && !cli.no_trace,
						&err) < 0) {
		print_err("allocation tracing is off: ", err.msg);
		tracing = false;
	}
	/* A file that cannot be read is as fatal as a core that cannot: nothing to inspect. */
	for (int i = 0; !recording && i < cli.nopen; i++) {
		if (!snapshot_load(&s, cli.open_files[i], NULL, &err)) {
			print_err("", err.msg);
			session_release(&s);
			free_cli(&cli);
			return EXIT_FATAL;
		}
	}

	struct run_tally tally = { 0 };
	if (rec) {
		char line[256];
		if (!tracing) {
			print_err("", "nothing to record: allocation tracing is off");
			tally.error = true;
		} else {
			char *msg = xasprintf("recording process %d into '%s' (Ctrl-C stops)", s.target->pid, cli.out_path);
			print_err("", msg);
			free(msg);
		}
		if (tracing) {
			struct record_opts ro = { cli.duration, cli.checkpoint, cli.max_depth };
			if (recorder_run(rec, &s, &ro, &err) < 0) {
				print_err("recording stopped: ", err.msg);
				tally.error = true;
			}
			recorder_summary(rec, line, sizeof(line));
			print_err("", line);
		}
		recorder_free(rec);
		s.interrupted = false; /* Ctrl-C ends a recording: that is what it is for */
		s.quit = true;         /* nothing more to wait for: detach, and the program runs on */
	} else if (cli.nitems)
		batch_run(&s, cli.items, cli.nitems, &tally);
	else if (isatty(0)) {
		s.interactive = true;
		repl_run(&s, &tally);
	} else if (cli.mode != MODE_RUN)
		batch_run_stdin(&s, &tally);

	bool script_interrupted = !s.interactive && s.interrupted;
	/* With nowhere to print, there is no reason to stay for the program's end. */
	if (cli.mode == MODE_RUN && !s.quit && !script_interrupted && !s.output_errno)
		wait_for_program(&s);

	/* A command refused because the process is gone did not do what was asked: a failure like any other. */
	int code = tally.failed || tally.gone || tally.error ? EXIT_PARTIAL : EXIT_OK;
	if (session_detach(&s, &err) < 0) {
		print_err("", err.msg);
		code = EXIT_FATAL;
	}
	session_flush_notices(&s);
	close_output(&s);
	if (s.output_errno)
		code = output_failed(s.output_errno, code);
	if (s.fatal_signal)
		code = 128 + s.fatal_signal;
	else if (script_interrupted)
		code = 128 + SIGINT;
	else if (cli.mode == MODE_RUN && !s.output_errno && s.target->state == TARGET_EXITED) {
		int st = s.target->exit_status;
		code = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	}
	record_close(&s);
	session_release(&s);
	free_cli(&cli);
	return code;
}
