// SPDX-License-Identifier: GPL-3.0-or-later
/* cancel.c - the slow half of cancel_poll: the clock, then the owner's check, at most every 20 ms. */
#include "cancel.h"
#include "clock.h"

bool cancel_poll_slow(struct cancel *c)
{
	c->work = 0;
	int64_t now = mono_ns();
	if (now < c->due_ns)
		return false;
	c->due_ns = now + CANCEL_PERIOD_NS;
	c->stop = c->check && c->check(c->arg);
	return c->stop;
}

int cancel_error(struct mlz_err *err)
{
	return mlz_error_kind(err, MLZ_E_INTERRUPTED, "interrupted");
}
