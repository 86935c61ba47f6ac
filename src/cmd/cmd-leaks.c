// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-leaks.c - `leaks`: blocks no root reaches, in memcheck's classes, grouped by allocation site. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "graph.h"
#include "group.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "types.h"
#include "liveset.h"
#include "xalloc.h"

static const char *const class_keys[LEAK_NSTATES] = {
	[LEAK_REACHABLE] = "reachable", [LEAK_POSSIBLY] = "possibly_lost",
	[LEAK_INDIRECTLY] = "indirectly_lost", [LEAK_DEFINITELY] = "definitely_lost",
};

struct lgroup {
	uint32_t key;
	uint8_t state;
	uint64_t blocks, bytes;
};

static int by_bytes(const void *a, const void *b)
{
	const struct lgroup *x = a, *y = b;
	if (x->state != y->state)
		return x->state > y->state ? -1 : 1; /* definitely lost first */
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static int cmd_leaks_exec(struct cmd_ctx *c)
{
	struct session *s = c->s;
	const char *byname = cmd_optval(c->args, "--by");
	enum group_by by = BY_SITE;
	bool by_size = byname && !strcmp(byname, "size");
	if (byname && !by_size && group_by_parse(byname, &by, &c->err) < 0)
		return -1;
	if (by == BY_STACK || by == BY_FILE)
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "leaks: --by takes site, function or size");
	const struct liveset *ls = &s->live;
	struct sym *sym = session_sym(s, &c->err);
	if (!sym)
		return -1;
	struct graph *gp = session_graph(s, &c->err);
	if (!gp)
		return -1;
	const struct graph g = *gp;
	struct { uint64_t blocks, bytes; } tot[LEAK_NSTATES] = { { 0, 0 } };
	struct lgroup *grp = NULL;
	size_t ng = 0, galloc = 0;
	for (size_t i = 0; i < g.n; i++) {
		const struct block *b = ls->blocks.n ? blocktab_get(&ls->blocks, g.addr[i]) : NULL;
		uint64_t bytes = b ? b->size : g.size[i]; /* requested when traced, else usable */
		uint8_t st = g.state[i];
		tot[st].blocks++;
		tot[st].bytes += bytes;
		if (st == LEAK_REACHABLE)
			continue;
		uint32_t key = b && !by_size ? keys_of_stack(&s->keys, sym, &ls->stacks, b->stack, by)
					     : keys_of_class(&s->keys, by_size ? BY_SITE : by, untraced_class(bytes));
		size_t k = 0;
		while (k < ng && (grp[k].key != key || grp[k].state != st))
			k++;
		if (k == ng) {
			ALLOC_GROW(grp, ng + 1, galloc);
			grp[ng++] = (struct lgroup){ key, st, 0, 0 };
		}
		grp[k].blocks++;
		grp[k].bytes += bytes;
	}
	if (ng > 1)
		qsort(grp, ng, sizeof(*grp), by_bytes);
	struct jv *o = jv_object();
	for (int st = LEAK_DEFINITELY; st >= LEAK_REACHABLE; st--) {
		struct jv *x = jv_set(o, class_keys[st], jv_object());
		jv_set(x, "blocks", jv_int((int64_t)tot[st].blocks));
		jv_set(x, "bytes", jv_int((int64_t)tot[st].bytes));
	}
	jv_set(o, "blocks", jv_int((int64_t)g.n));
	jv_set(o, "roots", jv_int((int64_t)g.nroots));
	jv_set(o, "words_scanned", jv_int((int64_t)g.words_scanned));
	jv_set(o, "graph_stopped_ms", jv_double(g.stopped_ms)); /* when this graph was built (it may be reused) */
	if (s->types) {
		size_t typed, conflicts;
		double ms;
		types_counts(s->types, &typed, &conflicts, &ms);
		jv_set(o, "typed_blocks", jv_int((int64_t)typed));
		jv_set(o, "typing_ms", jv_double(ms)); /* part of graph_stopped_ms */
	}
	struct jv *ga = jv_set(o, "groups", jv_array());
	for (size_t k = 0; k < ng; k++) {
		const struct group_key *key = keys_get(&s->keys, by_size ? BY_SITE : by, grp[k].key);
		struct jv *x = jv_push(ga, jv_object());
		jv_set(x, "class", jv_string(leak_state_names[grp[k].state]));
		jv_set(x, "function", jv_string(key->function));
		if (by == BY_SITE) {
			jv_set(x, "file", jv_string(key->file));
			jv_set(x, "line", key->line ? jv_int(key->line) : jv_null());
		}
		if (key->size_class)
			jv_set(x, "size_class", jv_string(key->size_class));
		jv_set(x, "blocks", jv_int((int64_t)grp[k].blocks));
		jv_set(x, "bytes", jv_int((int64_t)grp[k].bytes));
	}
	free(grp);
	c->result = o;
	return 0;
}

static void cmd_leaks_text(const struct jv *o, struct strbuf *out)
{
	static const char *const order[] = { "definitely_lost", "indirectly_lost", "possibly_lost", "reachable" };
	static const char *const label[] = { "definitely lost", "indirectly lost", "possibly lost", "still reachable" };
	for (int i = 0; i < 4; i++) {
		const struct jv *x = jv_get(o, order[i]);
		strbuf_addf(out, "%-16s %" PRId64 " bytes in %" PRId64 " blocks\n", label[i], jv_get_int(x, "bytes", 0),
			    jv_get_int(x, "blocks", 0));
	}
	const struct jv *ga = jv_get(o, "groups");
	for (size_t k = 0; k < jv_len(ga); k++) {
		const struct jv *x = jv_at(ga, k);
		const char *file = jv_get_str(x, "file", NULL);
		const char *base = file && strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
		strbuf_addf(out, "  %-16s %10" PRId64 " bytes %6" PRId64 " blocks  ", jv_get_str(x, "class", ""),
			    jv_get_int(x, "bytes", 0), jv_get_int(x, "blocks", 0));
		strbuf_add_escaped(out, jv_get_str(x, "function", "??"));
		if (base && jv_get(x, "line") && jv_get(x, "line")->kind == JV_INT) {
			strbuf_addstr(out, " at ");
			strbuf_add_escaped(out, base);
			strbuf_addf(out, ":%" PRId64, jv_get_int(x, "line", 0));
		}
		if (jv_get_str(x, "size_class", NULL))
			strbuf_addf(out, " %s bytes", jv_get_str(x, "size_class", ""));
		strbuf_addch(out, '\n');
	}
}

static const struct cmd_opt opts[] = {
	{ "--by", "site|function|size", "group the lost blocks by allocation site (default), function or size class" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_leaks_entry = {
	.name = "leaks",
	.usage = "leaks [--by site|function|size]",
	.summary = "blocks no root reaches, as memcheck classes them: definitely, indirectly, possibly lost",
	.help = "Walks the heap with the process stopped and scans every live block and every root (each "
		"thread's registers, its stack from the stack pointer less the red zone, the main thread's TLS, "
		"every module's writable data, every other anonymous writable mapping that holds no heap; "
		"glibc's malloc state is not a root) word by word. A block reached "
		"from a root by start pointers is still reachable; through an interior pointer somewhere on the "
		"way, possibly lost; the others are lost, in cliques: a block no other lost block points to is "
		"definitely lost, the blocks reachable only from it indirectly lost. Bytes are requested sizes "
		"for traced blocks, usable sizes for blocks from before attach. Groups lost blocks by allocation "
		"site (traced) or size class (untraced).",
	.opts = opts,
	.max_args = 0,
	.flags = CMD_NEEDS_IMAGE,
	.exec = cmd_leaks_exec,
	.text = cmd_leaks_text,
};
