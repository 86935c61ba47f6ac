// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-set.c - `set [NAME VALUE]`: tracing and reporting settings, and how analyses pause the process. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "liveset.h"
#include "xalloc.h"

#define MIN_LIMIT (1ull << 20)
#define MAX_LIMIT (1ull << 40)

/* "+NAME" adds, "-NAME" removes, "default" the built-in list, "none" nothing, else a comma list replaces it. */
static int set_alloc_fn(struct cmd_ctx *c, const char *v)
{
	struct alloc_fns *a = &c->s->keys.alloc_fns;
	if (!*v || ((*v == '+' || *v == '-') && !v[1]))
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "set: alloc-fn takes +NAME, -NAME, a list NAME,NAME..., "
				      "default or none, not '%s'", v);
	if (*v == '+') {
		alloc_fns_add(a, v + 1);
	} else if (*v == '-') {
		if (!alloc_fns_remove(a, v + 1))
			return mlz_error_kind(&c->err, MLZ_E_USAGE, "set: alloc-fn has no '%s'", v + 1);
	} else if (!strcmp(v, "default")) {
		alloc_fns_default(a);
	} else {
		alloc_fns_clear(a);
		if (strcmp(v, "none")) {
			for (const char *p = v; *p;) {
				const char *comma = strchr(p, ',');
				size_t len = comma ? (size_t)(comma - p) : strlen(p);
				char *name = xstrndup(p, len);
				if (len)
					alloc_fns_add(a, name);
				free(name);
				p += len + (comma != NULL);
			}
		}
	}
	return 0;
}

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
		} else if (!strcmp(name, "pause")) {
			if (strcmp(value, "fork") && strcmp(value, "stop"))
				return mlz_error_kind(&c->err, MLZ_E_USAGE, "set: pause is 'fork' or 'stop', not '%s'",
						      value);
			c->s->pause_mode = !strcmp(value, "fork") ? PAUSE_FORK : PAUSE_STOP;
			c->s->no_fork[0] = '\0';
		} else if (!strcmp(name, "alloc-fn")) {
			if (set_alloc_fn(c, value) < 0)
				return -1;
		} else if (!strcmp(name, "bytes")) {
			if (strcmp(value, "on") && strcmp(value, "off"))
				return mlz_error_kind(&c->err, MLZ_E_USAGE, "set: bytes takes on or off, not '%s'", value);
			c->s->bytes = !strcmp(value, "on");
		} else if (!strcmp(name, "sample")) {
			if (cmd_size("set", "sample", value, 0, SAMPLE_MAX, &bytes, &c->err) < 0 ||
			    session_set_sample(c->s, bytes, &c->err) < 0)
				return -1;
		} else {
			return mlz_error_kind(&c->err, MLZ_E_USAGE,
					      "set: unknown setting '%s' (settings: max-stack-depth, memory-limit, "
					      "alloc-fn, bytes, pause, sample)", name);
		}
	}
	c->result = jv_object();
	jv_set(c->result, "max_stack_depth", jv_int(ls->max_depth));
	jv_set(c->result, "memory_limit", jv_int((int64_t)ls->mem_limit));
	struct jv *af = jv_set(c->result, "alloc_fn", jv_array());
	for (size_t i = 0; i < c->s->keys.alloc_fns.n; i++)
		jv_push(af, jv_string(c->s->keys.alloc_fns.v[i]));
	jv_set(c->result, "bytes", jv_bool(c->s->bytes));
	jv_set(c->result, "pause", jv_string(c->s->pause_mode == PAUSE_FORK ? "fork" : "stop"));
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

static void cmd_set_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	strbuf_addf(out, "max-stack-depth %" PRId64 "\nmemory-limit ", jv_get_int(r, "max_stack_depth", 0));
	add_size(out, (uint64_t)jv_get_int(r, "memory_limit", 0));
	strbuf_addstr(out, "\nalloc-fn ");
	const struct jv *af = jv_get(r, "alloc_fn");
	for (size_t i = 0; i < jv_len(af); i++) {
		if (i)
			strbuf_addch(out, ',');
		strbuf_add_escaped(out, jv_at(af, i)->u.s);
	}
	const struct jv *b = jv_get(r, "bytes");
	strbuf_addf(out, "\nbytes %s\npause %s\nsample ", b && b->u.b ? "on" : "off", jv_get_str(r, "pause", "?"));
	add_size(out, (uint64_t)jv_get_int(r, "sample", 0));
	strbuf_addch(out, '\n');
}

const struct cmd_entry cmd_set_entry = {
	.name = "set",
	.usage = "set [NAME VALUE]",
	.summary = "show the settings, or change one (max-stack-depth, memory-limit, alloc-fn, bytes, pause, sample)",
	.help = "Without arguments shows the settings. 'set max-stack-depth N' (1 to 256, default 32) sets how "
		"many frames are recorded for each allocation from now on: deeper stacks tell sites apart "
		"better, shallower ones cost less per allocation. 'set memory-limit SIZE' (bytes, or with K, M, "
		"G or T: 1M to 1T, default 256M) bounds mlyze's own tables (live blocks, stacks, per-stack "
		"figures, snapshots): when a new stack would take them past it, stacks nothing refers to any "
		"more are released first, and if that is not enough new stacks are cut to their first 8 frames, "
		"then 2, and stats says so. Counts and bytes stay exact; only where they are attributed gets "
		"coarser. Setting it again makes new stacks whole again until the tables reach the new limit. "
		"'set alloc-fn +NAME' adds a function that allocates for its caller (valgrind's --alloc-fn; '*' "
		"and '?' wildcards; C++ names match without their parameters), '-NAME' removes one, 'NAME,NAME' "
		"replaces the list, 'default' restores the built-in one (xmalloc, g_malloc, PyMem_Malloc, "
		"operator new and other common wrappers), 'none' empties it: top, compare, growth, blocks, leaks "
		"and export then skip those frames when choosing a site, as they skip libc's. 'set bytes on' "
		"prints sizes in text as exact byte counts (as --bytes), 'off' rounded (1.5 MiB); JSON always "
		"has exact integers. "
		"'set pause fork|stop' chooses how the analyses that read the whole image (heap, arenas, check, "
		"snapshot and top's heap walk, leaks, path, refs, backrefs, dump) hold it still: with fork, the "
		"default, the process is stopped only to drain the allocation events and fork a copy-on-write twin "
		"of it (a raw clone without exit signal, never run, killed and reaped when the analysis ends), and "
		"the analysis reads the twin while the process runs on; with stop, the process is stopped for the "
		"whole analysis. Where a twin cannot be made (a seccomp filter forbids clone, clone fails under a "
		"pids or process limit or for memory) the process is stopped instead, with a one-line notice of "
		"why; info and stats show the last pause and how long the process was stopped for it. "
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
