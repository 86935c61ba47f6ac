// SPDX-License-Identifier: GPL-3.0-or-later
/* session.c - the session object and its event loop: signals, target events, news for the user. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "graph.h"
#include "types.h"
#include "session.h"
#include "strbuf.h"
#include "sym.h"
#include "target.h"
#include "tracer.h"

static void default_notify(struct session *s, const char *line)
{
	(void)s;
	fprintf(stderr, "mlyze: %s\n", line);
}

/* The signals the event loop reads. */
static void loop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

int session_init(struct session *s, struct mlz_err *err)
{
	sigset_t set;
	loop_signals(&set);
	/* Read from a signalfd in the one event loop, so no handler runs amid ptrace bookkeeping. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return mlz_error_errno(err, errno, "sigprocmask");
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sigfd < 0)
		return mlz_error_errno(err, errno, "signalfd");
	if (!s->notify)
		s->notify = default_notify;
	alloc_fns_default(&s->keys.alloc_fns);
	return 0;
}

void session_release(struct session *s)
{
	if ((s->tracer || s->agent) && s->target)
		s->target->hooks = (struct target_hooks){ 0 };
	tracer_free(s->tracer);
	s->tracer = NULL;
	agent_free(s->agent);
	s->agent = NULL;
	liveset_release(&s->live);
	snapshots_release(&s->snaps);
	marks_release(&s->marks);
	marks_release(&s->samples);
	if (s->graph)
		graph_release(s->graph);
	free(s->graph);
	types_free(s->types);
	s->types = NULL;
	keys_release(&s->keys);
	by_stack_release(&s->growth);
	sym_free(s->sym);
	s->sym = NULL;
	target_free(s->target);
	s->target = NULL;
	if (s->sigfd >= 0)
		close(s->sigfd);
	s->sigfd = -1;
}

void session_flush_notices(struct session *s)
{
	struct target *t = s->target;
	if (!t || !t->notices.len)
		return;
	char *text = strbuf_detach(&t->notices);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		/* notices name the target's programs and libraries, which may hold escape sequences */
		struct strbuf shown = STRBUF_INIT;
		strbuf_add_escaped(&shown, line);
		s->notify(s, strbuf_str(&shown));
		strbuf_release(&shown);
	}
	free(text);
	if (t->state == TARGET_EXITED)
		s->exit_reported = true;
}

/* Record a signal taken from the pending set; returns -1 if it asks the current work to end. */
static int note_signal(struct session *s, int signo)
{
	if (signo == SIGINT) {
		s->interrupted = true;
		return -1;
	}
	if (signo == SIGTERM || signo == SIGHUP || signo == SIGQUIT) {
		s->fatal_signal = signo;
		return -1;
	}
	if (signo == SIGUSR1)
		s->usr1++;
	return 0;
}

int session_catch_usr1(struct session *s, struct mlz_err *err)
{
	sigset_t set;
	loop_signals(&set);
	sigaddset(&set, SIGUSR1);
	/* blocked first: one that comes before the signalfd reads it waits, pending, rather than end mlyze */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || signalfd(s->sigfd, &set, 0) < 0)
		return mlz_error_errno(err, errno, "cannot catch SIGUSR1");
	return 0;
}

/* Read the signalfd; returns -1 if a signal asks the current work to end. */
static int read_signals(struct session *s)
{
	struct signalfd_siginfo si;
	int r = 0;
	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si))
		if (note_signal(s, (int)si.ssi_signo) < 0)
			r = -1;
	return r;
}

/*
 * Long work says it is alive: the cancel check runs every 20 ms inside every
 * long loop, so it is where a progress line can be drawn without the loops
 * knowing about it. Four times a second is enough for a clock.
 */
static void show_progress(struct session *s)
{
	if (!s->progress || !s->running)
		return;
	double now = mono_ms();
	if (now - s->running_t0 < s->progress_after || now < s->progress_due)
		return;
	s->progress_due = now + 250;
	char line[160];
	snprintf(line, sizeof(line), "%s: %.1f s%s (Ctrl-C interrupts)", s->running, (now - s->running_t0) / 1000,
		 s->paused ? ", the process is stopped" : "");
	s->progress(s, line);
	s->progress_shown = true;
}

void session_running(struct session *s, const char *name)
{
	if (!name && s->progress_shown)
		s->progress(s, NULL);
	s->progress_shown = false;
	s->running = name;
	s->running_t0 = mono_ms();
	s->progress_due = 0;
}

/*
 * The cancel check: the signals that end work, taken without waiting. SIGCHLD
 * is left pending for the event loop and target_stop, which wait for it.
 */
static bool signals_end_work(void *arg)
{
	struct session *s = arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	const struct timespec now = { 0, 0 };
	int signo;
	while ((signo = sigtimedwait(&set, NULL, &now)) > 0)
		note_signal(s, signo);
	show_progress(s);
	return s->interrupted || s->fatal_signal;
}

struct cancel *session_cancel(struct session *s)
{
	s->cancel = (struct cancel){ .check = signals_end_work, .arg = s };
	return &s->cancel;
}

/* Work the trap handler left for the event loop: installing hooks once libraries are loaded. */
static void service_tracer(struct session *s)
{
	struct mlz_err err;
	if (s->tracer && s->tracer->want_install && tracer_install_pending(s->tracer, &err) < 0)
		strbuf_addf(&s->target->notices, "allocation tracing is off: %s\n", err.msg);
	if (s->agent && s->agent->want_install && agent_install_pending(s->agent, &err) < 0)
		strbuf_addf(&s->target->notices, "allocation tracing is off: %s\n", err.msg);
	/* Byte sampling's address set filling up: grow it now, with the process held a moment. */
	if (s->agent && !s->paused && target_runs(s->target) && agent_set_wants_room(s->agent) &&
	    target_stop(s->target, &err) == 0) {
		struct mlz_err e2;
		if (agent_grow_set(s->agent, &err) < 0)
			strbuf_addf(&s->target->notices, "the agent's address set cannot grow (%s): samples it "
				    "has no room for are dropped, and counted\n", err.msg);
		target_resume(s->target, &e2);
	}
}

int session_serve(struct session *s, int timeout_ms, unsigned flags)
{
	bool watch_stdin = flags & SERVE_STDIN;
	int64_t deadline = timeout_ms < 0 ? -1 : mono_ns() / 1000000 + timeout_ms;
	bool more = false; /* the last round of events ran out of time: look again at once */
	for (;;) {
		struct pollfd fds[2] = { { s->sigfd, POLLIN, 0 }, { 0, POLLIN, 0 } };
		/*
		 * Wake up now and then even without SIGCHLD: one signal may stand for
		 * several events. The agent's ring is read every few milliseconds, so
		 * its writers rarely find it full.
		 */
		int wait = more ? 0 : !s->agent || !s->agent->installed ? 250
				 : s->agent->wait_ms ? s->agent->wait_ms : AGENT_DRAIN_MS;
		if (deadline >= 0) {
			int64_t left = deadline - mono_ns() / 1000000;
			if (left <= 0)
				return 0;
			if (left < wait)
				wait = (int)left;
		}
		int n = poll(fds, watch_stdin ? 2 : 1, wait);
		if (n < 0 && errno != EINTR)
			return 0;
		int sig = n > 0 && (fds[0].revents & POLLIN) ? read_signals(s) : 0;
		more = s->target && target_poll(s->target) > 0;
		if (s->agent)
			agent_drain(s->agent); /* which says when to read again */
		service_tracer(s);
		session_flush_notices(s);
		if (sig < 0)
			return -1;
		if (watch_stdin && n > 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
			return 1;
		if ((flags & SERVE_USR1) && s->usr1)
			return 2;
		if ((flags & SERVE_UNTIL_GONE) && s->target && !target_runs(s->target))
			return 0;
	}
}

/* Handle what happened meanwhile, so the answer to "is it there" is current. */
static void catch_up(struct session *s)
{
	if (s->target)
		target_poll(s->target);
	service_tracer(s);
}

int session_need_image(struct session *s, struct mlz_err *err)
{
	catch_up(s);
	return target_readable(s->target) ? 0 : target_gone_error(s->target, err);
}

int session_need_process(struct session *s, struct mlz_err *err)
{
	catch_up(s);
	return target_runs(s->target) ? 0 : target_gone_error(s->target, err);
}

struct sym *session_sym(struct session *s, struct mlz_err *err)
{
	if (!s->sym) {
		s->sym = sym_new(s->target, s->debug_dir, err);
		return s->sym;
	}
	if (!target_runs(s->target) && !target_held(s->target))
		return s->sym; /* what was last mapped still symbolizes what was recorded */
	return sym_refresh(s->sym, err) < 0 ? NULL : s->sym;
}

struct liveset *session_live(struct session *s)
{
	liveset_sync(&s->live);
	return &s->live;
}

/* The process is about to end with its memory still there: keep its last live set. */
static void on_process_exit(void *arg)
{
	struct session *s = arg;
	struct target_facts f;
	struct mlz_err err;
	target_facts(s->target, &f);
	target_facts_release(&f);
	if (!snapshot_take(&s->snaps, &s->live, "exit", false, f.rss, &err))
		strbuf_addf(&s->target->notices, "no exit snapshot: %s\n", err.msg);
	else
		strbuf_addf(&s->target->notices, "process %d is exiting: took snapshot 'exit' (%zu live blocks)\n",
			    s->target->pid, s->live.blocks.n);
}

int session_pause(struct session *s, struct mlz_err *err)
{
	if (s->paused) {
		s->paused++;
		return 0;
	}
	if (session_need_image(s, err) < 0)
		return -1;
	double t0 = mono_ms();
	if (target_stop(s->target, err) < 0)
		return -1;
	double t1 = mono_ms();
	if (!session_sym(s, err)) {
		struct mlz_err ignored;
		target_resume(s->target, &ignored);
		return -1;
	}
	liveset_sync(&s->live); /* results still held by the source are blocks too */
	s->paused = 1;
	s->pause_t0 = t0;
	s->parts = (struct pause_parts){ .threads = t1 - t0, .drain = mono_ms() - t1 };
	return 0;
}

/* Fork mode could not fork: say why once per reason, and stop for this analysis. */
static void note_no_fork(struct session *s, const char *why)
{
	if (strcmp(s->no_fork, why))
		strbuf_addf(&s->target->notices, "pause fork: %s; the process is stopped while each analysis runs\n",
			    why);
	snprintf(s->no_fork, sizeof(s->no_fork), "%s", why);
}

int session_pause_image(struct session *s, struct mlz_err *err)
{
	if (s->paused) {
		s->paused++;
		return 0;
	}
	if (session_pause(s, err) < 0)
		return -1;
	if (s->pause_mode != PAUSE_FORK || !target_runs(s->target))
		return 0; /* a core, a process held at its exit: nothing runs that a twin would let run */
	struct mlz_err why = { 0 }, e2;
	double t0 = mono_ms();
	int r = target_twin_start(s->target, &why);
	double t1 = mono_ms();
	if (r > 0)
		return 0; /* stopped by a signal: it would not run meanwhile anyway */
	if (r < 0) {
		if (why.kind == MLZ_E_GONE) {
			*err = why;
			session_unpause(s, NULL, &e2);
			return -1;
		}
		note_no_fork(s, why.msg);
		return 0;
	}
	s->no_fork[0] = '\0';
	if (target_resume(s->target, err) < 0) {
		double ms;
		int64_t alone;
		target_twin_end(s->target, &ms, &alone, &e2);
		s->paused = 0;
		return -1;
	}
	s->twin = true;
	s->twin_stop_ms = mono_ms() - s->pause_t0;
	s->parts.clone = target_twin_clone_ms(s->target);
	s->parts.twin = t1 - t0 - s->parts.clone;
	s->parts.resume = mono_ms() - t1;
	return 0;
}

int session_unpause(struct session *s, double *ms, struct mlz_err *err)
{
	if (!s->paused)
		return 0;
	if (--s->paused)
		return 0;
	int r = 0;
	double stopped;
	bool forked = s->twin;
	int64_t alone = -1;
	if (forked) {
		double reap_ms;
		s->twin = false;
		r = target_twin_end(s->target, &reap_ms, &alone, err);
		stopped = s->twin_stop_ms + reap_ms;
		s->parts.reap = reap_ms;
	} else {
		r = target_runs(s->target) ? target_resume(s->target, err) : 0;
		stopped = mono_ms() - s->pause_t0;
	}
	if (ms)
		*ms = stopped;
	if (target_is_process(s->target))
		s->last_pause = (struct pause_record){ true, forked, stopped, s->pause_t0, alone, s->parts };
	return r;
}

int session_detach(struct session *s, struct mlz_err *err)
{
	/* A process held at its exit does not run: detaching lets it finish exiting. */
	if (!target_runs(s->target) && !target_held(s->target))
		return 0;
	struct mlz_err e2;
	if (s->agent && agent_remove(s->agent, &e2) < 0)
		strbuf_addf(&s->target->notices, "the agent could not be removed before detaching: %s\n", e2.msg);
	return target_detach(s->target, err);
}

/* The session's copies of per-stack figures: the snapshots and the growth point. */
static void hold_stacks(void *arg, struct stack_holds *h)
{
	struct session *s = arg;
	snapshots_hold(&s->snaps, h);
	stack_holds_by(h, &s->growth);
}

static size_t held_memory(void *arg)
{
	struct session *s = arg;
	return snapshots_memory(&s->snaps) + by_stack_memory(&s->growth);
}

static const struct holder_ops session_holder = { hold_stacks, held_memory };

int session_start_tracing(struct session *s, bool install, struct mlz_err *err)
{
	struct sym *sym = session_sym(s, err);
	if (!sym)
		return -1;
	liveset_init(&s->live);
	liveset_attach_holder(&s->live, &session_holder, s);
	if (!install)
		return 0; /* a core, --no-trace: the live set stays empty and snapshots hold what heap walks find */
	if (s->use_agent) {
		s->agent = agent_new(s->target, sym, &s->live);
		s->agent->on_process_exit = on_process_exit;
		s->agent->exit_arg = s;
		s->agent->sample_seed = s->sample_seed;
		if (agent_set_sample(s->agent, s->sample_mean, err) < 0) /* before the install: it writes it */
			return -1;
		if (s->mode == MODE_RUN)
			return 0; /* the exec event waits for the dynamic linker; libc is not loaded yet */
		agent_prepare(s->agent);
		double t0 = mono_ms();
		if (target_stop(s->target, err) < 0)
			return -1;
		int r = agent_install(s->agent, err);
		struct mlz_err e2;
		if (r == 0) {
			r = target_resume(s->target, err);
			s->agent->st.install_ms = mono_ms() - t0;
			return r;
		}
		bool no_use = s->agent->breakpoints_too;
		if (target_resume(s->target, &e2) < 0)
			return mlz_error(err, "%s", e2.msg);
		if (no_use) /* a seccomp filter, code not its file's: breakpoints would be refused the same */
			return -1;
		/* What stopped the agent (code it cannot relocate, say) may not stop a breakpoint. */
		strbuf_addf(&s->target->notices, "the agent cannot be used (%s): tracing with breakpoints\n", err->msg);
		if (s->sample_mean) /* breakpoints trap every call anyway: sampling would save nothing */
			strbuf_addf(&s->target->notices, "byte sampling needs the agent: every call is traced, exactly\n");
		liveset_set_sampling(&s->live, 0);
		s->live.estimated_mean = 0;
		s->target->hooks = (struct target_hooks){ 0 };
		agent_free(s->agent);
		s->agent = NULL;
	}
	s->tracer = tracer_new(s->target, sym, &s->live);
	s->tracer->on_process_exit = on_process_exit;
	s->tracer->exit_arg = s;
	if (s->mode == MODE_RUN)
		return 0; /* the exec event hooks the dynamic linker; libc is not loaded yet */
	if (target_stop(s->target, err) < 0)
		return -1;
	int r = tracer_install(s->tracer, err);
	struct mlz_err e2;
	if (target_resume(s->target, r < 0 ? &e2 : err) < 0)
		return -1;
	if (r < 0) {
		/*
		 * Tracing is off, and says so: nothing of the tracer may stay armed.
		 * Its exec hook would otherwise plant the loader's breakpoint in the
		 * next program for a tracer no one serves, and the trap kill it.
		 */
		s->target->hooks = (struct target_hooks){ 0 };
		tracer_free(s->tracer);
		s->tracer = NULL;
	}
	return r;
}

int session_set_sample(struct session *s, uint64_t mean, struct mlz_err *err)
{
	if (!s->agent) {
		if (s->tracer)
			return mlz_error(err, "byte sampling needs the agent; this process is traced with breakpoints, "
				       "every call exactly");
		return mlz_error(err, "byte sampling needs allocation tracing by the agent (attach or run, "
			       "without --no-trace or --breakpoints)");
	}
	if (!s->agent->installed) { /* not yet in (run, exec): the install takes it */
		if (agent_set_sample(s->agent, mean, err) < 0)
			return -1;
		s->sample_mean = mean;
		return 0;
	}
	if (session_pause(s, err) < 0)
		return -1;
	int r = agent_set_sample(s->agent, mean, err);
	struct mlz_err e2;
	if (session_unpause(s, NULL, r < 0 ? &e2 : err) < 0 && r == 0)
		return -1;
	if (r == 0)
		s->sample_mean = mean;
	return r;
}
