// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * target_none.c - no target at all: the session of `mlyze open`, which holds
 * only saved snapshots. Nothing to read, stop or let go of; every command that
 * needs a process or an image is refused before it runs (cmd.c).
 */
#include <errno.h>
#include <sys/uio.h>

#include "target.h"
#include "target_ops.h"
#include "xalloc.h"

#define NO_PROCESS "no process: this session has only saved snapshots"

static int none_nothing(struct target *t, struct mlz_err *err)
{
	(void)t, (void)err;
	return 0;
}

static int none_poll(struct target *t)
{
	(void)t;
	return 0;
}

static void none_no_detach(struct target *t)
{
	(void)t;
}

static ssize_t none_read(struct target *t, uint64_t addr, void *buf, size_t len)
{
	(void)t, (void)addr, (void)buf, (void)len;
	errno = EIO;
	return -1;
}

static ssize_t none_iov(struct target *t, const struct iovec *local, const struct iovec *remote, size_t n)
{
	(void)t, (void)local, (void)remote, (void)n;
	errno = EIO;
	return -1;
}

static int none_write(struct target *t, uint64_t addr, const void *buf, size_t len, struct mlz_err *err)
{
	(void)t, (void)addr, (void)buf, (void)len;
	return mlz_error(err, NO_PROCESS);
}

static int none_regs(struct target *t, pid_t tid, struct user_regs_struct *regs, struct mlz_err *err)
{
	(void)t, (void)tid, (void)regs;
	return mlz_error(err, NO_PROCESS);
}

static int none_setregs(struct target *t, pid_t tid, const struct user_regs_struct *regs, struct mlz_err *err)
{
	(void)t, (void)tid, (void)regs;
	return mlz_error(err, NO_PROCESS);
}

static int none_maps(struct target *t, struct maps *m, struct mlz_err *err)
{
	(void)t, (void)m;
	return mlz_error(err, NO_PROCESS);
}

static bool none_thread_name(struct target *t, pid_t tid, char *buf, size_t len)
{
	(void)t, (void)tid;
	if (len)
		buf[0] = '\0';
	return false;
}

static char none_thread_state(struct target *t, pid_t tid)
{
	(void)t, (void)tid;
	return 0;
}

static void none_facts(struct target *t, struct target_facts *f)
{
	(void)t, (void)f;
}

static int64_t none_resident(struct target *t, uint64_t lo, uint64_t hi)
{
	(void)t, (void)lo, (void)hi;
	return -1;
}

static int none_data_runs(struct target *t, uint64_t lo, uint64_t hi, void (*fn)(void *arg, uint64_t lo, uint64_t hi),
			  void *arg)
{
	(void)t, (void)lo, (void)hi, (void)fn, (void)arg;
	return -1;
}

static void none_release(struct target *t)
{
	(void)t;
}

const struct target_ops target_none_ops = {
	.kind = "session of saved snapshots",
	.runs = false,
	.no_image = true,
	.no_image_why = "no process: this session has only saved snapshots",
	.poll = none_poll,
	.stop = none_nothing,
	.resume = none_nothing,
	.detach = none_nothing,
	.emergency_detach = none_no_detach,
	.read = none_read,
	.write = none_write,
	.readv = none_iov,
	.writev = none_iov,
	.regs = none_regs,
	.setregs = none_setregs,
	.maps = none_maps,
	.thread_name = none_thread_name,
	.thread_state = none_thread_state,
	.facts = none_facts,
	.resident = none_resident,
	.data_runs = none_data_runs,
	.release = none_release,
};

struct target *target_open_none(void)
{
	struct target *t = xcalloc(1, sizeof(*t));
	t->ops = &target_none_ops;
	t->memfd = -1;
	t->my_policy = -1;
	t->state = TARGET_STOPPED;
	return t;
}

bool target_has_image(const struct target *t)
{
	return t && !t->ops->no_image;
}
