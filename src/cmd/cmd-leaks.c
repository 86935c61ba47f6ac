// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-leaks.c - `leaks`: blocks no root reaches, in memcheck's classes, as memcheck's loss records. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cmd.h"
#include "graph.h"
#include "group.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"
#include "suppress.h"
#include "types.h"
#include "liveset.h"
#include "u64map.h"
#include "render.h"
#include "xalloc.h"

#define EXAMPLES 3 /* addresses per record to hand to path, backrefs or show */

static const char *const class_keys[LEAK_NSTATES] = {
	[LEAK_REACHABLE] = "reachable", [LEAK_POSSIBLY] = "possibly_lost",
	[LEAK_INDIRECTLY] = "indirectly_lost", [LEAK_DEFINITELY] = "definitely_lost",
};
/* --show and match-leak-kinds name the classes so. */
static const unsigned class_bits[LEAK_NSTATES] = {
	[LEAK_REACHABLE] = SUPP_REACHABLE, [LEAK_POSSIBLY] = SUPP_POSSIBLE,
	[LEAK_INDIRECTLY] = SUPP_INDIRECT, [LEAK_DEFINITELY] = SUPP_DEFINITE,
};
static const char *const show_names[LEAK_NSTATES] = {
	[LEAK_REACHABLE] = "reachable", [LEAK_POSSIBLY] = "possible",
	[LEAK_INDIRECTLY] = "indirect", [LEAK_DEFINITELY] = "definite",
};

/* How records are keyed: a stack (memcheck's loss records), a site, a function, or untraced size classes. */
enum leak_by { LBY_STACK, LBY_SITE, LBY_FUNCTION, LBY_SIZE };

struct lgroup {
	uint32_t key;     /* in the keytab of the group's by (size classes: BY_SITE's) */
	bool untraced;
	uint8_t state;
	uint32_t stack;   /* the first block's stack, for its site */
	uint64_t blocks, bytes;
	uint64_t examples[EXAMPLES];
	int nexamples;
};

static int by_bytes(const void *a, const void *b)
{
	const struct lgroup *x = a, *y = b;
	if (x->state != y->state)
		return x->state > y->state ? -1 : 1; /* definitely lost first */
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->untraced != y->untraced)
		return x->untraced ? 1 : -1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static int parse_by(struct cmd_ctx *c, enum leak_by *out)
{
	static const char *const names[] = { "stack", "site", "function", "size" };
	const char *v = cmd_optval(c->args, "--by");
	*out = LBY_STACK;
	if (!v)
		return 0;
	for (int i = 0; i < 4; i++) {
		if (!strcmp(v, names[i])) {
			*out = (enum leak_by)i;
			return 0;
		}
	}
	return mlz_error_kind(&c->err, MLZ_E_USAGE, "leaks: --by takes stack, site, function or size, not '%s'", v);
}

/* Every --suppressions FILE, in the order given. */
static int load_suppressions(struct cmd_ctx *c, struct suppressions *supp)
{
	for (int i = 0; i < c->args->nopt; i++) {
		struct mlz_err e = { 0 };
		if (strcmp(c->args->opt[i].name, "--suppressions") || suppressions_load(supp, c->args->opt[i].value, &e) == 0)
			continue;
		/* named by the command, as its other errors; a message of 500 bytes loses its end */
		return mlz_error_kind(&c->err, e.kind, "leaks: %.500s", e.msg);
	}
	return 0;
}

struct leak_run {
	struct session *s;
	struct sym *sym;
	const struct suppressions *supp;
	struct u64map supp_memo; /* stack << 2 | state -> the suppression's index + 1, or 0 */
};

/* The suppression that hides a traced block of this stack and class, or -1. */
static long suppressed_by(struct leak_run *x, uint32_t stack, uint8_t st)
{
	uint64_t v;
	if (!x->supp->n)
		return -1;
	if (u64map_get(&x->supp_memo, (uint64_t)stack << 2 | st, &v))
		return (long)v - 1;
	int depth;
	const uint64_t *pcs = stacktab_pcs(&x->s->live.stacks, stack, &depth);
	struct supp_frame *f;
	size_t n = leak_stack_supp_frames(x->sym, pcs, depth, &f);
	long i = suppressions_match(x->supp, class_bits[st], f, n);
	free(f);
	u64map_put(&x->supp_memo, (uint64_t)stack << 2 | st, (uint64_t)(i + 1));
	return i;
}

static void group_jv(struct leak_run *x, enum leak_by lby, const struct lgroup *g, size_t k, struct jv *out)
{
	struct keys *keys = &x->s->keys;
	enum group_by by = g->untraced || lby == LBY_SIZE ? BY_SITE : lby == LBY_FUNCTION ? BY_FUNCTION
						 : lby == LBY_SITE     ? BY_SITE
								       : BY_STACK;
	const struct group_key *key = keys_get(keys, by, g->key);
	struct jv *o = jv_push(out, jv_object());
	jv_set(o, "record", jv_int((int64_t)k + 1));
	jv_set(o, "class", jv_string(leak_state_names[g->state]));
	bool traced_site = !g->untraced && lby != LBY_FUNCTION;
	jv_set(o, "site", traced_site ? jv_int(keys_of_stack(keys, x->sym, &x->s->live.stacks, g->stack, BY_SITE))
				      : jv_null());
	jv_set(o, "function", jv_string(key->function));
	jv_set(o, "module", jv_string(key->module));
	if (key->unnamed)
		jv_set(o, "module_offset", jv_addr(key->module_offset));
	if (lby != LBY_FUNCTION || g->untraced) {
		jv_set(o, "file", jv_string(key->file));
		jv_set(o, "line", key->line ? jv_int(key->line) : jv_null());
	}
	if (key->size_class)
		jv_set(o, "size_class", jv_string(key->size_class));
	jv_set(o, "blocks", jv_int((int64_t)g->blocks));
	jv_set(o, "bytes", jv_int((int64_t)g->bytes));
	struct jv *ex = jv_set(o, "examples", jv_array());
	for (int e = 0; e < g->nexamples; e++)
		jv_push(ex, jv_addr(g->examples[e]));
	if (by == BY_STACK)
		leak_stack_jv(x->sym, key->pcs, key->depth, jv_set(o, "stack", jv_array()));
}

static int cmd_leaks_exec(struct cmd_ctx *c)
{
	double t0 = mono_ms();
	struct session *s = c->s;
	enum leak_by lby;
	unsigned show = SUPP_DEFINITE | SUPP_POSSIBLE; /* memcheck's --show-leak-kinds default */
	if (parse_by(c, &lby) < 0)
		return -1;
	const char *sv = cmd_optval(c->args, "--show");
	if (sv && supp_kinds_parse(sv, "leaks: --show", &show, &c->err) < 0)
		return -1;
	struct suppressions supp = { 0 };
	if (load_suppressions(c, &supp) < 0) {
		suppressions_release(&supp);
		return -1;
	}
	const struct liveset *ls = &s->live;
	struct sym *sym = session_sym(s, &c->err);
	if (!sym) {
		suppressions_release(&supp);
		return -1;
	}
	if (cmd_has(c->args, "--fresh"))
		session_graph_forget(s);
	struct graph *gp = session_graph(s, &c->err);
	if (!gp) {
		suppressions_release(&supp);
		return -1;
	}
	const struct graph g = *gp;
	struct leak_run x = { .s = s, .sym = sym, .supp = &supp };
	struct { uint64_t blocks, bytes; } tot[LEAK_NSTATES] = { { 0, 0 } }, hidden = { 0, 0 };
	struct lgroup *grp = NULL;
	size_t ng = 0, galloc = 0;
	struct u64map index = { 0 }; /* key << 3 | untraced << 2 | state -> group */
	for (size_t i = 0; i < g.n; i++) {
		const struct block *b = ls->blocks.n ? blocktab_get(&ls->blocks, g.addr[i]) : NULL;
		uint64_t bytes = b ? b->size : g.size[i]; /* requested when traced, else usable */
		uint8_t st = g.state[i];
		long sup = b ? suppressed_by(&x, b->stack, st) : -1;
		if (sup >= 0) { /* as memcheck, a suppressed block leaves its class's totals */
			hidden.blocks++;
			hidden.bytes += bytes;
			supp.v[sup].blocks++;
			supp.v[sup].bytes += bytes;
			continue;
		}
		tot[st].blocks++;
		tot[st].bytes += bytes;
		if (!(show & class_bits[st]))
			continue;
		bool untraced = !b || lby == LBY_SIZE;
		uint32_t key = untraced ? keys_of_class(&s->keys, BY_SITE, untraced_class(bytes))
			       : keys_of_stack(&s->keys, sym, &ls->stacks, b->stack,
					       lby == LBY_STACK ? BY_STACK : lby == LBY_SITE ? BY_SITE : BY_FUNCTION);
		uint64_t slot, ik = (uint64_t)key << 3 | (uint64_t)untraced << 2 | st;
		if (!u64map_get(&index, ik, &slot)) {
			ALLOC_GROW(grp, ng + 1, galloc);
			grp[ng] = (struct lgroup){ .key = key, .untraced = untraced, .state = st, .stack = b ? b->stack : 0 };
			slot = ng++;
			u64map_put(&index, ik, slot);
		}
		struct lgroup *gr = &grp[slot];
		gr->blocks++;
		gr->bytes += bytes;
		if (gr->nexamples < EXAMPLES) /* the graph is in address order: the lowest addresses */
			gr->examples[gr->nexamples++] = g.addr[i];
	}
	u64map_release(&index);
	if (ng > 1)
		qsort(grp, ng, sizeof(*grp), by_bytes);
	struct jv *o = jv_object();
	for (int st = LEAK_DEFINITELY; st >= LEAK_REACHABLE; st--) {
		struct jv *t = jv_set(o, class_keys[st], jv_object());
		jv_set(t, "blocks", jv_int((int64_t)tot[st].blocks));
		jv_set(t, "bytes", jv_int((int64_t)tot[st].bytes));
	}
	struct jv *h = jv_set(o, "suppressed", jv_object());
	jv_set(h, "blocks", jv_int((int64_t)hidden.blocks));
	jv_set(h, "bytes", jv_int((int64_t)hidden.bytes));
	jv_set(o, "blocks", jv_int((int64_t)g.n));
	jv_set(o, "roots", jv_int((int64_t)g.nroots));
	jv_set(o, "words_scanned", jv_int((int64_t)g.words_scanned));
	jv_set(o, "graph_stopped_ms", jv_double(g.stopped_ms)); /* when this graph was built (it may be reused) */
	struct jv *parts = jv_set(o, "graph_parts", jv_object()); /* where its build's time went */
	jv_set(parts, "walk_ms", jv_double(g.walk_ms));
	jv_set(parts, "roots_ms", jv_double(g.roots_ms));
	jv_set(parts, "scan_ms", jv_double(g.scan_ms));
	jv_set(parts, "classify_ms", jv_double(g.classify_ms));
	jv_set(parts, "walk_threads", jv_int((int64_t)g.walk_parts));
	jv_set(parts, "scan_threads", jv_int((int64_t)g.scan_parts));
	if (s->types) {
		size_t typed, conflicts;
		double ms;
		types_counts(s->types, &typed, &conflicts, &ms);
		jv_set(o, "typed_blocks", jv_int((int64_t)typed));
		jv_set(o, "typing_ms", jv_double(ms)); /* part of graph_stopped_ms */
	}
	graph_instant_jv(s, o);
	static const char *const by_names[] = { "stack", "site", "function", "size" };
	jv_set(o, "by", jv_string(by_names[lby]));
	struct jv *sh = jv_set(o, "show", jv_array());
	for (int st = LEAK_DEFINITELY; st >= LEAK_REACHABLE; st--)
		if (show & class_bits[st])
			jv_push(sh, jv_string(show_names[st]));
	struct jv *sl = jv_set(o, "suppressions", jv_array());
	for (size_t i = 0; i < supp.n; i++) {
		struct jv *e = jv_push(sl, jv_object());
		jv_set(e, "name", jv_string(supp.v[i].name));
		jv_set(e, "file", jv_string(supp.v[i].file));
		jv_set(e, "line", jv_int(supp.v[i].line));
		jv_set(e, "blocks", jv_int((int64_t)supp.v[i].blocks));
		jv_set(e, "bytes", jv_int((int64_t)supp.v[i].bytes));
	}
	struct jv *ga = jv_set(o, "groups", jv_array());
	for (size_t k = 0; k < ng; k++)
		group_jv(&x, lby, &grp[k], k, ga);
	free(grp);
	u64map_release(&x.supp_memo);
	suppressions_release(&supp);
	jv_set(o, "ms", jv_double(mono_ms() - t0)); /* the whole command, the graph's build when it was not reused */
	c->result = o;
	return 0;
}

static void frame_line(const struct jv *f, bool first, struct strbuf *out)
{
	strbuf_addf(out, "   %s %s: ", first ? "at" : "by", jv_get_str(f, "pc", "?"));
	strbuf_add_escaped(out, jv_get_str(f, "function", "???"));
	const char *file = jv_get_str(f, "file", NULL);
	if (file && jv_get_int(f, "line", 0)) {
		const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
		strbuf_addstr(out, " (");
		strbuf_add_escaped(out, base);
		strbuf_addf(out, ":%" PRId64 ")", jv_get_int(f, "line", 0));
	} else if (jv_get_str(f, "module", NULL)) {
		strbuf_addstr(out, " (in ");
		strbuf_add_escaped(out, jv_get_str(f, "module", ""));
		strbuf_addch(out, ')');
	}
	strbuf_addch(out, '\n');
}

static void record_text(const struct jv *x, size_t nrec, unsigned sz, struct strbuf *out)
{
	strbuf_add_size(out, jv_get_int(x, "bytes", 0), sz);
	strbuf_addf(out, "%s in %" PRId64 " blocks", sz & SIZE_EXACT ? " bytes" : "", jv_get_int(x, "blocks", 0));
	if (jv_get_str(x, "size_class", NULL))
		strbuf_addf(out, " of %s bytes, allocated before tracing began,", jv_get_str(x, "size_class", ""));
	strbuf_addf(out, " are %s in loss record %" PRId64 " of %zu", jv_get_str(x, "class", ""),
		    jv_get_int(x, "record", 0), nrec);
	if (jv_get(x, "site") && jv_get(x, "site")->kind == JV_INT)
		strbuf_addf(out, " (site %" PRId64 ")", jv_get_int(x, "site", 0));
	strbuf_addch(out, '\n');
	const struct jv *stack = jv_get(x, "stack");
	for (size_t f = 0; f < jv_len(stack); f++)
		frame_line(jv_at(stack, f), f == 0, out);
	if (!jv_len(stack) && !jv_get_str(x, "size_class", NULL)) {
		/* --by site or function: the place, not a stack */
		struct jv *f = jv_object();
		jv_set(f, "pc", jv_string("site"));
		jv_set(f, "function", jv_string(jv_get_str(x, "function", NULL)));
		jv_set(f, "file", jv_string(jv_get_str(x, "file", NULL)));
		jv_set(f, "line", jv_int(jv_get_int(x, "line", 0)));
		jv_set(f, "module", jv_string(jv_get_str(x, "module", NULL)));
		frame_line(f, true, out);
		jv_free(f);
	}
	const struct jv *ex = jv_get(x, "examples");
	strbuf_addstr(out, "   blocks at");
	for (size_t e = 0; e < jv_len(ex); e++)
		strbuf_addf(out, "%s %s", e ? "," : "", jv_at(ex, e)->u.s);
	if ((int64_t)jv_len(ex) < jv_get_int(x, "blocks", 0))
		strbuf_addstr(out, ", ...");
	strbuf_addstr(out, "\n\n");
}

static void cmd_leaks_text(const struct jv *o, const struct text_opts *t, struct strbuf *out)
{
	static const char *const order[] = { "definitely_lost", "indirectly_lost", "possibly_lost", "reachable",
					     "suppressed" };
	static const char *const label[] = { "definitely lost", "indirectly lost", "possibly lost", "still reachable",
					     "suppressed" };
	unsigned sz = t->bytes ? SIZE_EXACT : 0;
	const struct jv *ga = jv_get(o, "groups");
	graph_instant_text(o, out);
	for (size_t k = 0; k < jv_len(ga); k++)
		record_text(jv_at(ga, k), jv_len(ga), sz, out);
	strbuf_addstr(out, "LEAK SUMMARY:\n");
	for (int i = 0; i < 5; i++) {
		const struct jv *x = jv_get(o, order[i]);
		strbuf_addf(out, "   %15s: ", label[i]);
		strbuf_add_size(out, jv_get_int(x, "bytes", 0), sz);
		strbuf_addf(out, "%s in %" PRId64 " blocks\n", sz & SIZE_EXACT ? " bytes" : "", jv_get_int(x, "blocks", 0));
	}
	const struct jv *sl = jv_get(o, "suppressions");
	for (size_t i = 0; i < jv_len(sl); i++) {
		const struct jv *e = jv_at(sl, i);
		if (!jv_get_int(e, "blocks", 0))
			continue;
		strbuf_addstr(out, "used suppression: ");
		strbuf_add_escaped(out, jv_get_str(e, "name", ""));
		strbuf_addstr(out, " (");
		strbuf_add_escaped(out, jv_get_str(e, "file", ""));
		strbuf_addf(out, ":%" PRId64 "): %" PRId64 " blocks\n", jv_get_int(e, "line", 0), jv_get_int(e, "blocks", 0));
	}
}

static const struct cmd_opt opts[] = {
	{ "--by", "stack|site|function|size",
	  "one record per allocation stack (default, as memcheck's loss records), site, function or size class" },
	{ "--show", "KINDS", "the records of these classes: definite, indirect, possible, reachable, all or none, "
			     "separated by commas (default definite,possible, as memcheck)" },
	{ "--suppressions", "FILE", "hide the records a valgrind suppression file matches (repeatable)" },
	{ "--fresh", NULL, "build the reference graph again from the image as it is now, even if it would be reused" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_leaks_entry = {
	.name = "leaks",
	.usage = "leaks [--by stack|site|function|size] [--show KINDS] [--suppressions FILE]... [--fresh]",
	.summary = "blocks no root reaches, as memcheck classes them and reports them: loss records with stacks",
	.help = "Walks the heap with the process stopped and scans every live block and every root (each "
		"thread's registers, its stack from the stack pointer less the red zone, the main thread's TLS, "
		"every module's writable data, every other anonymous writable mapping that holds no heap; "
		"glibc's malloc state is not a root) word by word. A block reached "
		"from a root by start pointers is still reachable; through an interior pointer somewhere on the "
		"way, possibly lost; the others are lost, in cliques: a block no other lost block points to is "
		"definitely lost, the blocks reachable only from it indirectly lost. Bytes are requested sizes "
		"for traced blocks, usable sizes for blocks from before attach. Lists loss records as memcheck "
		"does: the blocks of one class allocated from one stack, with the site id top and blocks show, "
		"the whole stack from the function the program called (malloc, calloc, operator new...) and up to "
		"three block addresses for path, backrefs or show; blocks from before tracing began (cores, "
		"--no-trace, an attach) have no stack and are grouped by size class. --show picks the classes "
		"listed (memcheck's --show-leak-kinds); the summary counts every class. --suppressions reads "
		"valgrind's suppression files (Memcheck:Leak entries with fun:, obj:, src: and ... frames, "
		"'*' and '?' wildcards, match-leak-kinds): a record whose stack they match is left out of the "
		"list and of its class's totals and counted as suppressed, as memcheck does. Sizes in text are "
		"rounded (1.5 MiB) unless --bytes. The graph is kept for path, refs and backrefs and reused "
		"while the process has not allocated or freed; the result says the instant it stands for (graph: "
		"taken_at, seconds_ago, reused) and, in text, 'graph as of 14:03:12, 3.2 s ago' when it was "
		"built before; --fresh builds it again from the image as it is now.",
	.opts = opts,
	.max_args = 0,
	.flags = CMD_NEEDS_IMAGE | CMD_ESTIMATES,
	.exec = cmd_leaks_exec,
	.text = cmd_leaks_text,
};
