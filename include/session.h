/* SPDX-License-Identifier: GPL-3.0-or-later */
/* session.h - the one session object: the target, its symbols, settings and the event loop. */
#ifndef MLZ_SESSION_H
#define MLZ_SESSION_H

#include <stdbool.h>
#include <stdio.h>

#include "blocks.h"
#include "cancel.h"
#include "err.h"
#include "group.h"
#include "heap.h"
#include "liveset.h"
#include "snapshot.h"
#include "timeline.h"

struct target;
struct sym;
struct tracer;
struct agent;
struct graph;
struct replay;

enum session_mode { MODE_ATTACH, MODE_RUN, MODE_CORE, MODE_OPEN /* saved snapshots only, no target */ };

/* How an analysis holds the image still (`set pause`): a copy-on-write twin, or a stop for its whole length. */
enum pause_mode { PAUSE_FORK, PAUSE_STOP };

/* The last pause of the process, for `info` and `stats`. */
/* Where a forked pause's stop went, in ms: the parts add up to its stopped_ms. */
struct pause_parts {
	double threads; /* stopping every thread */
	double drain;   /* symbols refreshed, the traced events drained */
	double clone;   /* the injected clone: the kernel's copy of the page tables, and its ptrace calls */
	double twin;    /* the rest of making the twin: checks, registers, its first stop, arming it */
	double resume;  /* resuming every thread */
	double reap;    /* the second stop: the twin's zombie reaped */
};

struct pause_record {
	bool taken;        /* there was one */
	bool forked;       /* the analysis read a twin while the process ran */
	double stopped_ms; /* how long the process was stopped for it (the fork, and the twin's reaping) */
	double at;         /* when it began (monotonic ms) */
	int64_t twin_only; /* forked: the bytes the twin held alone at its end, what it cost (-1 unknown) */
	struct pause_parts parts; /* forked: where stopped_ms went */
};

struct session {
	enum session_mode mode;
	struct target *target; /* NULL only before attach */
	struct sym *sym;       /* created on first use */
	struct liveset live;   /* every traced block; empty on a core and with --no-trace */
	struct tracer *tracer; /* the breakpoint tracer feeding live; NULL on a core and with --no-trace */
	struct agent *agent;   /* or the agent (--agent); never both */
	bool use_agent;        /* --agent: record through an injected agent, falling back to breakpoints */
	uint64_t sample_mean;  /* --sample: byte sampling's mean for the agent (0: every call) */
	uint64_t sample_seed;  /* its generators' seed (MLYZE_SAMPLE_SEED, else random) */
	struct replay *rec;    /* `open FILE` of a recording: what it holds (record/replay.c; main.c frees it) */
	struct snapshots snaps;
	struct marks marks;      /* what each `mark` recorded, for the timeline */
	struct marks samples;    /* a recording's samples, one a second, for the timeline (live: none) */
	struct keys keys;        /* group keys (site ids) for the whole session */
	struct by_stack growth;  /* the live set at the last `growth` */
	bool growth_taken;
	struct graph *graph;     /* the last reference graph, reused while it still holds (session_graph) */
	uint64_t graph_changes;  /* the live set's change count when it was built */
	double graph_wall;       /* the instant of the image it was built from (CLOCK_REALTIME seconds) */
	bool graph_reused;       /* the last session_graph() answered with a graph built before */
	struct types *types;     /* the graph's blocks typed from DWARF, built with it */
	int paused;              /* session_pause depth */
	double pause_t0;         /* when the outermost pause stopped the process */
	enum pause_mode pause_mode; /* `set pause` */
	bool twin;               /* the outermost pause reads a twin; the process runs */
	double twin_stop_ms;     /* how long the process was stopped to fork that twin */
	struct pause_parts parts; /* the outermost pause's, so far */
	struct pause_record last_pause;
	char no_fork[512];       /* why the last pause in fork mode stopped the process instead, "" when it forked */
	bool json;             /* --json given on the command line */
	FILE *out;             /* where results go: stdout, or the file -o names */
	bool stop_on_error;    /* --stop-on-error: a script ends at its first failed command */
	bool bytes;            /* --bytes or `set bytes on`: sizes in text as exact byte counts */
	const char *debug_dir; /* --debug-dir: where to look for separate debug files instead */
	bool interactive;      /* a REPL on a terminal */
	int sigfd;             /* signalfd: SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT */
	bool interrupted;      /* Ctrl-C arrived while a command ran */
	int fatal_signal;      /* SIGTERM, SIGHUP or SIGQUIT arrived: end the session cleanly */
	unsigned usr1;         /* SIGUSR1s read since session_catch_usr1 (the recorder's marks) not yet taken */
	struct cancel cancel;  /* what session_cancel() hands to the long loops of one analysis */
	bool quit;             /* `quit` was run */
	int output_errno;      /* stdout could not be written (errno): run no more commands */
	bool exit_reported;    /* the user was told the process ended */
	/* How news (the process ended, exec) reaches the user; the REPL redraws its prompt. */
	void (*notify)(struct session *s, const char *line);
	/*
	 * A progress line for long work, set by the user interface when stderr is
	 * a terminal: line is what to show in place of the last one, NULL to wipe it.
	 */
	void (*progress)(struct session *s, const char *line);
	const char *running;   /* the command being run (its first word), while a text-mode command runs */
	double running_t0;     /* when it started (mono_ms) */
	double progress_due;   /* when the progress line may next be redrawn */
	double progress_after; /* ms of work before a progress line shows */
	bool progress_shown;
};

/* Block the signals the event loop reads and open the signalfd; 0 or -1. */
int session_init(struct session *s, struct mlz_err *err);
void session_release(struct session *s);

enum serve_flags {
	SERVE_STDIN = 1 << 0,     /* return 1 as soon as stdin has input */
	SERVE_UNTIL_GONE = 1 << 1, /* return 0 as soon as the process has ended */
	SERVE_USR1 = 1 << 2,      /* return 2 as soon as s->usr1 is not 0 */
};
/*
 * Serve the target (trap events, signals, news) for up to timeout_ms (-1: no
 * limit). Returns 1 on input, 2 on SIGUSR1 (with SERVE_USR1), 0 on timeout or
 * end of the process, -1 when Ctrl-C, SIGTERM, SIGHUP or SIGQUIT arrived.
 */
int session_serve(struct session *s, int timeout_ms, unsigned flags);
/*
 * From now on SIGUSR1 is read by the event loop and counted in s->usr1
 * instead of ending mlyze (its default): `mlyze record` marks on it. 0 or -1.
 */
int session_catch_usr1(struct session *s, struct mlz_err *err);
/* Pass on the target's news (exit, exec) through s->notify. */
void session_flush_notices(struct session *s);

/* Fail with MLZ_E_GONE unless the image can be read (a core, or a process that exists). */
int session_need_image(struct session *s, struct mlz_err *err);
/* Fail with MLZ_E_GONE unless the process exists and runs (or is stopped by us). */
int session_need_process(struct session *s, struct mlz_err *err);
/*
 * Hold the image still for one analysis: stop every thread (nothing to stop
 * on a core), make the symbols current, and account for every event the
 * source still holds. Pauses nest; session_unpause() resumes at the
 * outermost and gives how long the process was stopped (ms may be NULL). Its
 * result must be checked: a process left stopped is an error. The command
 * dispatcher unpauses a target a command left paused and reports it.
 */
int session_pause(struct session *s, struct mlz_err *err);
int session_unpause(struct session *s, double *ms, struct mlz_err *err);
/*
 * The same pause for an analysis that only reads the image (a heap walk, the
 * graph, a dump): with `set pause fork` (the default) the process is stopped
 * only to drain the event source and fork a copy-on-write twin of it, which
 * is read until session_unpause() while the process runs on; the ms that
 * session_unpause() gives are the time it was really stopped. Where no twin
 * can be made (seccomp, clone's error, a process held at its exit) the
 * process stays stopped instead, and no_fork says why (a notice too, once
 * per reason). Nothing may be written into the process meanwhile, nor code
 * run in it.
 */
int session_pause_image(struct session *s, struct mlz_err *err);
/* The live set, with every event up to now accounted for. */
struct liveset *session_live(struct session *s);
/* The symbol table, created or refreshed for the current address space (as last known once the process is gone); NULL on error. */
struct sym *session_sym(struct session *s, struct mlz_err *err);

/*
 * Start allocation tracing: hooks go in now (attach) or once the dynamic
 * linker has loaded the libraries (a program that has yet to exec). Without
 * install (--no-trace) only the empty tables are made: snapshots then hold
 * what heap walks find, and nothing is written into the process.
 */
int session_start_tracing(struct session *s, bool install, struct mlz_err *err);

/*
 * Byte sampling with mean bytes from now on (0: every call is traced), as
 * `set sample` asks: only the agent samples; breakpoints, a core and
 * --no-trace refuse. The process is paused for the change.
 */
int session_set_sample(struct session *s, uint64_t mean, struct mlz_err *err);

/* Load what a heap walk reads from files (libc's symbols) while the process still runs: the pause is the walk only. */
void session_prepare_walk(struct session *s);
/*
 * Walk the heap (fn per chunk) with the process paused, then read the heaps'
 * residency with it running again; h->stopped_ms says how long it was stopped.
 */
int session_heap(struct session *s, heap_chunk_fn fn, void *arg, struct heap_report *r, struct heap_take *h,
		 struct mlz_err *err);
/* The reference graph: the last one while the live set has not changed since (a core's always holds). */
struct graph *session_graph(struct session *s, struct mlz_err *err);
/* Drop the graph kept, so the next session_graph() builds one from the image as it is then. */
void session_graph_forget(struct session *s);
/* The types of the graph's blocks (session_graph's), built with it; NULL with err set when there is no graph. */
struct types *session_types(struct session *s, struct mlz_err *err);

/*
 * For the long loops of one analysis (heap walk, graph, dump), which cannot
 * see the signalfd: a check that takes a pending SIGINT, SIGTERM, SIGHUP or
 * SIGQUIT without waiting and records it (interrupted, fatal_signal) as the
 * event loop does. Reset on each call; owned by the session.
 */
struct cancel *session_cancel(struct session *s);
/*
 * A command starts (name) or ends (NULL): work that outlasts half a second
 * shows a progress line through s->progress, wiped at the end.
 */
void session_running(struct session *s, const char *name);

/* Detach from a live target (cleanup registry first); 0 when nothing is left attached. */
int session_detach(struct session *s, struct mlz_err *err);

#endif
