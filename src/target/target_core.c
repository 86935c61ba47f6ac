// SPDX-License-Identifier: GPL-3.0-or-later
/* target_core.c - a core file as a target: always stopped, never runs, read-only. */
#include <errno.h>
#include <signal.h>
#include <sys/uio.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "target.h"
#include "target_ops.h"
#include "xalloc.h"

static int core_nothing(struct target *t, struct mlz_err *err)
{
	(void)t;
	(void)err;
	return 0; /* a core is always stopped, and there is nothing to let go of */
}

static int core_poll(struct target *t)
{
	(void)t;
	return 0;
}

static void core_no_detach(struct target *t)
{
	(void)t;
}

static ssize_t core_t_read(struct target *t, uint64_t addr, void *buf, size_t len)
{
	return core_read(t->core, addr, buf, len);
}

static ssize_t core_read_one(struct target *t, void *buf, size_t len, uint64_t addr)
{
	return core_read(t->core, addr, buf, len);
}

static ssize_t core_readv(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n)
{
	return target_by_pairs(t, local, remote, n, core_read_one);
}

static ssize_t core_writev(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n)
{
	(void)t, (void)local, (void)remote, (void)n;
	errno = EROFS;
	return -1;
}

static int core_t_write(struct target *t, uint64_t addr, const void *buf, size_t len, struct mlz_err *err)
{
	(void)t, (void)addr, (void)buf, (void)len;
	return mlz_error(err, "a core file cannot be written to");
}

static int core_regs(struct target *t, pid_t tid, struct user_regs_struct *regs, struct mlz_err *err)
{
	for (size_t i = 0; i < t->core->nthreads; i++) {
		if (t->core->threads[i].tid == tid) {
			*regs = t->core->threads[i].regs;
			return 0;
		}
	}
	return mlz_error(err, "no thread %d in the core file", tid);
}

static int core_setregs(struct target *t, pid_t tid, const struct user_regs_struct *regs, struct mlz_err *err)
{
	(void)t, (void)tid, (void)regs;
	return mlz_error(err, "a core file's registers cannot be changed");
}

static int core_t_maps(struct target *t, struct maps *m, struct mlz_err *err)
{
	(void)err;
	return core_maps(t->core, m);
}

static bool core_t_thread_name(struct target *t, pid_t tid, char *buf, size_t len)
{
	const char *name = core_thread_name(t->core, tid);
	snprintf(buf, len, "%s", name ? name : "");
	return name != NULL;
}

static char core_thread_state(struct target *t, pid_t tid)
{
	(void)t, (void)tid;
	return 0;
}

static void core_facts(struct target *t, struct target_facts *f)
{
	const struct core *c = t->core;
	snprintf(f->name, sizeof(f->name), "%s", c->name);
	f->core = c->path;
	f->args = c->args;
	f->signal = c->nthreads ? c->threads[0].cursig : 0;
	f->missing_writable = core_undumped_writable(c);
}

static int64_t core_resident(struct target *t, uint64_t lo, uint64_t hi)
{
	(void)t, (void)lo, (void)hi;
	return -1; /* a core has no residency */
}

static int core_data_runs(struct target *t, uint64_t lo, uint64_t hi, void (*fn)(void *arg, uint64_t lo, uint64_t hi),
			  void *arg)
{
	(void)t, (void)lo, (void)hi, (void)fn, (void)arg;
	return -1; /* no page map: the caller reads the whole range */
}

static void core_release(struct target *t)
{
	core_close(t->core);
	t->core = NULL;
}

const struct target_ops target_core_ops = {
	.kind = "core file",
	.runs = false,
	.poll = core_poll,
	.stop = core_nothing,
	.resume = core_nothing,
	.detach = core_nothing,
	.emergency_detach = core_no_detach,
	.read = core_t_read,
	.write = core_t_write,
	.readv = core_readv,
	.writev = core_writev,
	.regs = core_regs,
	.setregs = core_setregs,
	.maps = core_t_maps,
	.thread_name = core_t_thread_name,
	.thread_state = core_thread_state,
	.facts = core_facts,
	.resident = core_resident,
	.data_runs = core_data_runs,
	.release = core_release,
};

struct target *target_open_core(const char *path, const char *exe, struct mlz_err *err)
{
	struct core *c = core_open(path, exe, err);
	if (!c)
		return NULL;
	struct target *t = xcalloc(1, sizeof(*t));
	t->ops = &target_core_ops;
	t->pid = c->pid;
	t->memfd = -1;
	t->my_policy = -1;
	t->state = TARGET_STOPPED;
	t->core = c;
	for (size_t i = 0; i < c->nthreads; i++) {
		ALLOC_GROW(t->threads, t->nthreads + 1, t->alloc);
		t->threads[t->nthreads++] = (struct thread){ .tid = c->threads[i].tid, .stopped = true };
	}
	return t;
}
