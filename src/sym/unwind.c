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
	uint64_t *sps; /* each frame's stack pointer, when asked for */
	uint64_t *bps; /* and its rbp: what a frame base or DW_OP_breg6 location is relative to */
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
	if (u->sps) {
		Dwarf_Word sp = 0;
		u->sps[u->n] = dwfl_frame_reg(frame, 7, &sp) == 0 ? sp : 0; /* DWARF 7: rsp */
	}
	if (u->bps) {
		/* a caller's rbp is known only where its CFI says where the callee saved it */
		Dwarf_Word bp = 0;
		u->bps[u->n] = dwfl_frame_reg(frame, 6, &bp) == 0 ? bp : 0; /* DWARF 6: rbp */
	}
	u->pcs[u->n++] = pc;
	return u->n < u->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int sym_unwind(struct sym *s, int tid, uint64_t *pcs, bool *caller, int max, struct mlz_err *err)
{
	struct user_regs_struct regs;
	if (target_regs(s->target, tid, &regs, err) < 0)
		return -1;
	return sym_unwind_regs(s, tid, &regs, STACK_COPY, pcs, caller, max, err);
}

bool sym_stack_word(const struct sym *s, uint64_t addr, uint64_t *val)
{
	if (addr < s->stack_base || addr + 8 > s->stack_base + s->stack_valid)
		return false;
	memcpy(val, s->stack_copy + (addr - s->stack_base), 8);
	return true;
}

static int unwind(struct sym *s, int tid, const struct user_regs_struct *regs, size_t copy_bytes, struct unwind_ctx *u,
		  struct mlz_err *err);

int sym_unwind_regs(struct sym *s, int tid, const struct user_regs_struct *regs, size_t copy_bytes, uint64_t *pcs,
		    bool *caller, int max, struct mlz_err *err)
{
	struct unwind_ctx u = { .pcs = pcs, .caller = caller, .max = max };
	return unwind(s, tid, regs, copy_bytes, &u, err);
}

int sym_unwind_sps(struct sym *s, int tid, uint64_t *pcs, bool *caller, uint64_t *sps, uint64_t *bps, int max,
		   struct mlz_err *err)
{
	struct user_regs_struct regs;
	struct unwind_ctx u = { .pcs = pcs, .caller = caller, .sps = sps, .bps = bps, .max = max };
	if (target_regs(s->target, tid, &regs, err) < 0)
		return -1;
	return unwind(s, tid, &regs, STACK_COPY, &u, err);
}

/* Unwind from s->regs over the stack copy loaded into s. */
static int walk(struct sym *s, int tid, struct unwind_ctx *u, struct mlz_err *err)
{
	int r = dwfl_getthread_frames(s->dwfl, tid, on_frame, u);
	s->stack_len = 0;
	s->copy_only = false;
	/* A stack that ends in an unreadable or unknown frame still gives what was found. */
	if (r != 0 && u->n == 0)
		return mlz_error(err, "cannot unwind thread %d: %s", tid, dwfl_errmsg(-1));
	return u->n;
}

static int unwind(struct sym *s, int tid, const struct user_regs_struct *regs, size_t copy_bytes, struct unwind_ctx *u,
		  struct mlz_err *err)
{
	int max = u->max;
	if (max <= 0)
		return 0;
	s->regs = *regs;
	s->regs_tid = tid;
	if (copy_bytes > STACK_COPY)
		copy_bytes = STACK_COPY;
	if (!s->stack_copy)
		s->stack_copy = xmalloc(STACK_COPY);
	s->stack_base = s->regs.rsp;
	ssize_t got = target_read(s->target, s->stack_base, s->stack_copy, copy_bytes);
	s->stack_len = got > 0 ? (size_t)got : 0;
	s->stack_valid = s->stack_len;
	return walk(s, tid, u, err);
}

int sym_unwind_copy(struct sym *s, int tid, const struct user_regs_struct *regs, const void *stack, size_t len,
		    uint64_t *pcs, bool *caller, int max, struct mlz_err *err)
{
	struct unwind_ctx u = { .pcs = pcs, .caller = caller, .max = max };
	if (max <= 0)
		return 0;
	s->regs = *regs;
	s->regs_tid = tid;
	if (len > STACK_COPY)
		len = STACK_COPY;
	if (!s->stack_copy)
		s->stack_copy = xmalloc(STACK_COPY);
	memcpy(s->stack_copy, stack, len);
	s->stack_base = regs->rsp;
	s->stack_len = s->stack_valid = len;
	s->copy_only = true;
	return walk(s, tid, &u, err);
}
