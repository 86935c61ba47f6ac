/* SPDX-License-Identifier: GPL-3.0-or-later */
/* grouping.h - the --by/--top/--filter/--cumulative options shared by top, compare and growth. */
#ifndef MLZ_GROUPING_H
#define MLZ_GROUPING_H

#include <stdint.h>

#include "cmd.h"
#include "group.h"

#define GROUPING_OPTS \
	{ "--by", "site|function|file|stack", "group by site (function and file:line), function, file or stack (default site)" }, \
	{ "--top", "N", "show the first N groups (default 20, 0 for all)" }, \
	{ "--filter", "GLOB", "only groups whose function (module+0xOFF without a name), file or file name matches GLOB" }, \
	{ "--cumulative", NULL, "count each block under every frame of its stack, not just the site" }

/* Fill o from the command's options; 0 or -1 with c->err set. */
int grouping_parse(struct cmd_ctx *c, struct grouping_opts *o);
/* The live set now or a snapshot's, by name ("now" is the live set); NULL with c->err set. */
struct untraced;
/*
 * Stop the process, walk its heap for the blocks tracing has not seen (into
 * u), call take(arg) while it is still stopped, resume. When the heap cannot
 * be walked u->note says why and take still runs.
 */
int live_set_take(struct session *s, struct untraced *u, void (*take)(void *arg), void *arg, struct mlz_err *err);

const struct by_stack *by_stack_named(struct cmd_ctx *c, const char *name, struct by_stack *tmp);

/*
 * Where the PCs of the set name come from: 0 for this session's (the live
 * set, its snapshots), else the session that saved a loaded one. Stacks of
 * two domains are compared by their frames' names: grouping_by_for() gives
 * BY_STACK_NAMES for BY_STACK then, by otherwise.
 */
uint64_t grouping_domain(struct cmd_ctx *c, const char *name);
enum group_by grouping_by_for(struct cmd_ctx *c, enum group_by by, const char *a, const char *b);

/* Options parsed and the live set copied into *now (released on failure); the symbols, or NULL. */
struct sym *grouping_now(struct cmd_ctx *c, struct grouping_opts *o, struct by_stack *now);

#endif
