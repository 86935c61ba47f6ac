// SPDX-License-Identifier: GPL-3.0-or-later
/* target_rec.c - a recording as a target: its process's facts and modules, and nothing to read or run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "target.h"
#include "target_ops.h"
#include "xalloc.h"

struct rec_target {
	char name[64];
	char *exe, *file;
	struct module_range *mods;
	size_t nmods;
};

static int rec_nothing(struct target *t, struct mlz_err *err)
{
	(void)t, (void)err;
	return 0; /* nothing runs, so nothing to stop, resume or let go */
}

static int rec_poll(struct target *t)
{
	(void)t;
	return 0;
}

static void rec_no_detach(struct target *t)
{
	(void)t;
}

static ssize_t rec_read(struct target *t, uint64_t addr, void *buf, size_t len)
{
	(void)t, (void)addr, (void)buf, (void)len;
	errno = EIO; /* a recording keeps no memory */
	return -1;
}

static int rec_write(struct target *t, uint64_t addr, const void *buf, size_t len, struct mlz_err *err)
{
	(void)t, (void)addr, (void)buf, (void)len;
	return mlz_error(err, "a recording cannot be written to");
}

static ssize_t rec_readv(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n)
{
	(void)t, (void)local, (void)remote, (void)n;
	errno = EIO;
	return -1;
}

static ssize_t rec_writev(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n)
{
	(void)t, (void)local, (void)remote, (void)n;
	errno = EROFS;
	return -1;
}

static int rec_regs(struct target *t, pid_t tid, struct user_regs_struct *regs, struct mlz_err *err)
{
	(void)t, (void)regs;
	return mlz_error(err, "a recording keeps no registers (thread %d)", tid);
}

static int rec_setregs(struct target *t, pid_t tid, const struct user_regs_struct *regs, struct mlz_err *err)
{
	(void)t, (void)tid, (void)regs;
	return mlz_error(err, "a recording keeps no registers");
}

/* The modules as mappings: each one file mapping over its whole range. */
static int rec_maps(struct target *t, struct maps *m, struct mlz_err *err)
{
	(void)err;
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < t->rec->nmods; i++) {
		const struct module_range *r = &t->rec->mods[i];
		ALLOC_GROW(m->v, m->n + 1, m->alloc);
		m->v[m->n++] = (struct map_entry){ .start = r->start, .end = r->end, .perms = "r-xp",
						   .dev = "00:00", .path = xstrdup(r->path) };
	}
	return 0;
}

static bool rec_thread_name(struct target *t, pid_t tid, char *buf, size_t len)
{
	(void)t, (void)tid;
	snprintf(buf, len, "%s", "");
	return false;
}

static char rec_thread_state(struct target *t, pid_t tid)
{
	(void)t, (void)tid;
	return 0;
}

static void rec_facts(struct target *t, struct target_facts *f)
{
	snprintf(f->name, sizeof(f->name), "%s", t->rec->name);
	f->exe = t->rec->exe ? xstrdup(t->rec->exe) : NULL;
	f->recording = t->rec->file;
}

static int64_t rec_resident(struct target *t, uint64_t lo, uint64_t hi)
{
	(void)t, (void)lo, (void)hi;
	return -1;
}

static int rec_data_runs(struct target *t, uint64_t lo, uint64_t hi, void (*fn)(void *arg, uint64_t lo, uint64_t hi),
			 void *arg)
{
	(void)t, (void)lo, (void)hi, (void)fn, (void)arg;
	return -1;
}

static void rec_release(struct target *t)
{
	struct rec_target *r = t->rec;
	if (!r)
		return;
	for (size_t i = 0; i < r->nmods; i++)
		free(r->mods[i].path);
	free(r->mods);
	free(r->exe);
	free(r->file);
	free(r);
	t->rec = NULL;
}

const struct target_ops target_rec_ops = {
	.kind = "recording",
	.runs = false,
	.no_image = true,
	.no_image_why = "this is a recording: it holds allocations and their stacks, not the process's memory, registers or threads",
	.poll = rec_poll,
	.stop = rec_nothing,
	.resume = rec_nothing,
	.detach = rec_nothing,
	.emergency_detach = rec_no_detach,
	.read = rec_read,
	.write = rec_write,
	.readv = rec_readv,
	.writev = rec_writev,
	.regs = rec_regs,
	.setregs = rec_setregs,
	.maps = rec_maps,
	.thread_name = rec_thread_name,
	.thread_state = rec_thread_state,
	.facts = rec_facts,
	.resident = rec_resident,
	.data_runs = rec_data_runs,
	.release = rec_release,
};

struct target *target_open_recording(const struct recording_facts *f, struct mlz_err *err)
{
	(void)err;
	struct target *t = xcalloc(1, sizeof(*t));
	struct rec_target *r = xcalloc(1, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", f->name ? f->name : "");
	r->exe = f->exe ? xstrdup(f->exe) : NULL;
	r->file = xstrdup(f->file ? f->file : "");
	r->mods = xcalloc(f->nmods + 1, sizeof(*r->mods));
	for (size_t i = 0; i < f->nmods; i++) {
		r->mods[i] = f->mods[i];
		r->mods[i].path = xstrdup(f->mods[i].path ? f->mods[i].path : "");
	}
	r->nmods = f->nmods;
	t->ops = &target_rec_ops;
	t->pid = f->pid;
	t->memfd = -1;
	t->my_policy = -1;
	t->state = TARGET_STOPPED;
	t->rec = r;
	return t;
}

const struct module_range *target_recorded_modules(const struct target *t, size_t *n)
{
	*n = t && t->rec ? t->rec->nmods : 0;
	return t && t->rec ? t->rec->mods : NULL;
}
