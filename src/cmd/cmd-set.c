// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-set.c - `set [NAME VALUE]`: tracing settings. */
#include <inttypes.h>
#include <string.h>

#include "cmd.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "liveset.h"

#define MIN_LIMIT (1ull << 20)
#define MAX_LIMIT (1ull << 40)

static int cmd_set_exec(struct cmd_ctx *c)
{
	struct liveset *ls = session_live(c->s);
	if (c->args->argc == 1)
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "set: '%s' needs a value (usage: set [NAME VALUE])",
				      c->args->argv[0]);
	if (c->args->argc == 2) {
		const char *name = c->args->argv[0], *value = c->args->argv[1];
		long v;
		uint64_t bytes;
		if (!strcmp(name, "max-stack-depth")) {
			if (cmd_number("set", "max-stack-depth", value, 1, 256, &v, &c->err) < 0)
				return -1;
			ls->max_depth = (int)v;
		} else if (!strcmp(name, "memory-limit")) {
			if (cmd_size("set", "memory-limit", value, MIN_LIMIT, MAX_LIMIT, &bytes, &c->err) < 0)
				return -1;
			liveset_set_limit(ls, (size_t)bytes);
		} else if (!strcmp(name, "sample")) {
			if (cmd_size("set", "sample", value, 0, SAMPLE_MAX, &bytes, &c->err) < 0 ||
			    session_set_sample(c->s, bytes, &c->err) < 0)
				return -1;
		} else {
			return mlz_error_kind(&c->err, MLZ_E_USAGE,
					      "set: unknown setting '%s' (settings: max-stack-depth, memory-limit, sample)",
					      name);
		}
	}
	c->result = jv_object();
	jv_set(c->result, "max-stack-depth", jv_int(ls->max_depth));
	jv_set(c->result, "memory-limit", jv_int((int64_t)ls->mem_limit));
	jv_set(c->result, "sample", jv_int((int64_t)c->s->sample_mean));
	return 0;
}

/* bytes with the largest unit that divides it, as `set memory-limit` takes it back. */
static void add_size(struct strbuf *out, uint64_t bytes)
{
	static const char units[] = "KMGT";
	int u = -1;
	while (u < 3 && bytes && !(bytes & 1023)) {
		bytes >>= 10;
		u++;
	}
	strbuf_addf(out, "%" PRIu64, bytes);
	if (u >= 0)
		strbuf_addch(out, units[u]);
}

static void cmd_set_text(const struct jv *r, struct strbuf *out)
{
	strbuf_addf(out, "max-stack-depth %" PRId64 "\nmemory-limit ", jv_get_int(r, "max-stack-depth", 0));
	add_size(out, (uint64_t)jv_get_int(r, "memory-limit", 0));
	strbuf_addstr(out, "\nsample ");
	add_size(out, (uint64_t)jv_get_int(r, "sample", 0));
	strbuf_addch(out, '\n');
}

const struct cmd_entry cmd_set_entry = {
	.name = "set",
	.usage = "set [NAME VALUE]",
	.summary = "show the settings, or change one (max-stack-depth N, memory-limit SIZE, sample SIZE)",
	.help = "Without arguments shows the settings. 'set max-stack-depth N' (1 to 256, default 32) sets how "
		"many frames are recorded for each allocation from now on: deeper stacks tell sites apart "
		"better, shallower ones cost less per allocation. 'set memory-limit SIZE' (bytes, or with K, M, "
		"G or T: 1M to 1T, default 256M) bounds mlyze's own tables (live blocks, stacks, per-stack "
		"figures, snapshots): when a new stack would take them past it, stacks nothing refers to any "
		"more are released first, and if that is not enough new stacks are cut to their first 8 frames, "
		"then 2, and stats says so. Counts and bytes stay exact; only where they are attributed gets "
		"coarser. Setting it again makes new stacks whole again until the tables reach the new limit. "
		"'set sample SIZE' (0 to 1T; 0, the default unless --sample, traces every call) turns on byte "
		"sampling in the agent for the allocations made from now on: one of size bytes is recorded "
		"with probability 1 - exp(-size/SIZE), always when it is SIZE or more, and counts and bytes "
		"are scaled by the inverse probability. From the first time sampling is on, every figure of "
		"traced blocks is an estimate and says so ('estimated' in JSON, '~' in text), also after "
		"'set sample 0'. Breakpoint tracing refuses it.",
	.max_args = 2,
	.exec = cmd_set_exec,
	.text = cmd_set_text,
};
