// SPDX-License-Identifier: GPL-3.0-or-later
/* unwind.c - a stopped thread's call stack as raw PCs, from one copy of the top of its stack. */
#include <elfutils/libdwfl.h>
#include <string.h>

#include "sym_internal.h"
#include "target.h"
#include "xalloc.h"

/* How much of the stack one read copies; deeper frames fall back to single reads. */
#define STACK_COPY (32 * 1024)

struct unwind_ctx {
	uint64_t *pcs;
	bool *caller;
	int n, max;
};

static int on_frame(Dwfl_Frame *frame, void *arg)
{
	struct unwind_ctx *u = arg;
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(frame, &pc, &activation))
		return DWARF_CB_ABORT;
	if (u->caller)
		u->caller[u->n] = !activation;
	u->pcs[u->n++] = pc;
	return u->n < u->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int sym_unwind(struct sym *s, int tid, uint64_t *pcs, bool *caller, int max, struct mlz_err *err)
{
	if (max <= 0)
		return 0;
	if (target_regs(s->target, tid, &s->regs, err) < 0)
		return -1;
	s->regs_tid = tid;
	if (!s->stack_copy)
		s->stack_copy = xmalloc(STACK_COPY);
	s->stack_base = s->regs.rsp;
	ssize_t got = target_read(s->target, s->stack_base, s->stack_copy, STACK_COPY);
	s->stack_len = got > 0 ? (size_t)got : 0;

	struct unwind_ctx u = { .pcs = pcs, .caller = caller, .max = max };
	int r = dwfl_getthread_frames(s->dwfl, tid, on_frame, &u);
	s->stack_len = 0;
	/* A stack that ends in an unreadable or unknown frame still gives what was found. */
	if (r != 0 && u.n == 0)
		return mlz_error(err, "cannot unwind thread %d: %s", tid, dwfl_errmsg(-1));
	return u.n;
}
