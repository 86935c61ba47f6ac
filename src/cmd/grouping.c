// SPDX-License-Identifier: GPL-3.0-or-later
/* grouping.c - option parsing and set lookup shared by top, compare and growth. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "grouping.h"
#include "session.h"
#include "snapshot.h"
#include "liveset.h"
#include "target.h"

int grouping_parse(struct cmd_ctx *c, struct grouping_opts *o)
{
	*o = (struct grouping_opts){ .by = BY_SITE, .top = 20 };
	const char *v;
	if ((v = cmd_optval(c->args, "--by")) && group_by_parse(v, &o->by, &c->err) < 0)
		return -1;
	if (cmd_optnum(c->args, "--top", 0, LONG_MAX, &o->top, &c->err) < 0)
		return -1;
	o->filter = cmd_optval(c->args, "--filter");
	o->cumulative = cmd_has(c->args, "--cumulative");
	return 0;
}

struct now_ctx {
	struct liveset *ls;
	struct by_stack *out;
};

static void copy_now(void *arg)
{
	struct now_ctx *x = arg;
	liveset_copy(x->ls, x->out);
}

const struct by_stack *by_stack_named(struct cmd_ctx *c, const char *name, struct by_stack *tmp)
{
	if (!strcmp(name, "now")) {
		if (!target_has_image(c->s->target) && !c->s->rec) { /* a recording's live set is its end */
			mlz_error(&c->err, "'now': no process: this session has only saved snapshots");
			return NULL;
		}
		struct liveset *ls = session_live(c->s);
		struct untraced u;
		struct now_ctx x = { ls, tmp };
		int r = live_set_take(c->s, &u, copy_now, &x, &c->err);
		if (r == 0)
			untraced_add(&u, tmp);
		untraced_release(&u);
		return r < 0 ? NULL : tmp;
	}
	const struct snapshot *s = snapshot_find(&c->s->snaps, name);
	if (!s) {
		mlz_error(&c->err, "no snapshot named '%s' (see 'snapshots')", name);
		return NULL;
	}
	return &s->by;
}

uint64_t grouping_domain(struct cmd_ctx *c, const char *name)
{
	const struct snapshot *s = strcmp(name, "now") ? snapshot_find(&c->s->snaps, name) : NULL;
	if (!s || !s->file)
		return 0;
	return s->origin ? s->origin : UINT64_MAX;
}

enum group_by grouping_by_for(struct cmd_ctx *c, enum group_by by, const char *a, const char *b)
{
	return by == BY_STACK && grouping_domain(c, a) != grouping_domain(c, b) ? BY_STACK_NAMES : by;
}

struct sym *grouping_now(struct cmd_ctx *c, struct grouping_opts *o, struct by_stack *now)
{
	if (grouping_parse(c, o) < 0 || !by_stack_named(c, "now", now))
		return NULL;
	struct sym *sym = session_sym(c->s, &c->err);
	if (!sym)
		by_stack_release(now);
	return sym;
}
