// SPDX-License-Identifier: GPL-3.0-or-later
/* refs-render.c - blocks and roots of the reference graph as JSON and text, for path, refs and backrefs. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/user.h>
#include <time.h>

#include "cmd.h"
#include "graph.h"
#include "group.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"
#include "sym.h"
#include "target.h"
#include "types.h"
#include "liveset.h"
#include "where.h"
#include "xalloc.h"

#define MAX_FRAMES 64

static const char *const reg_names[] = {
	"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi",
	"rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
};
static const char *const root_kind_names[] = {
	[ROOT_REGISTER] = "register", [ROOT_STACK] = "stack", [ROOT_DATA] = "global", [ROOT_TLS] = "tls",
	[ROOT_MAPPING] = "mapping",
};

struct jv *graph_block_jv(struct session *s, struct sym *sym, const struct graph *g, uint32_t i)
{
	struct jv *o = jv_object();
	jv_set(o, "kind", jv_string("block"));
	jv_set(o, "address", jv_addr(g->addr[i]));
	const struct block *b = s->live.blocks.n ? blocktab_get(&s->live.blocks, g->addr[i]) : NULL;
	jv_set(o, "size", jv_int((int64_t)(b ? b->size : g->size[i])));
	jv_set(o, "traced", jv_bool(b != NULL));
	if (b) {
		uint32_t key = keys_of_stack(&s->keys, sym, &s->live.stacks, b->stack, BY_SITE);
		const struct group_key *k = keys_get(&s->keys, BY_SITE, key);
		group_key_where_jv(k, o);
	}
	if (g->state)
		jv_set(o, "class", jv_string(leak_state_names[g->state[i]]));
	bool conflict;
	uint32_t id = s->types && g == s->graph ? types_of_block(s->types, i, &conflict) : 0;
	jv_set(o, "type", id ? jv_string(types_name(s->types, id)) : jv_null());
	if (id && conflict)
		jv_set(o, "type_conflict", jv_bool(true));
	if (id && types_block_by_site(s->types, i))
		jv_set(o, "type_by_site", jv_bool(true));
	return o;
}

static void frame_place(struct sym *sym, int f, uint64_t pc, bool caller, struct jv *o);

/* The frame of thread tid whose part of the stack holds addr. */
static void stack_frame(struct session *s, struct sym *sym, pid_t tid, uint64_t addr, struct jv *o)
{
	uint64_t pcs[MAX_FRAMES], sps[MAX_FRAMES], bps[MAX_FRAMES];
	bool caller[MAX_FRAMES];
	struct mlz_err err;
	int n = sym_unwind_sps(sym, tid, pcs, caller, sps, bps, MAX_FRAMES, &err);
	int f = -1;
	for (int i = 0; i < n; i++)
		if (sps[i] && (sps[i] <= addr || (i == 0 && sps[i] <= addr + 128))) /* the red zone below the innermost frame belongs to it */
			f = i;
	if (f < 0)
		return;
	/* the frame's CFA is its caller's stack pointer: where gcc's fbreg locations start */
	struct types_frame tf = { pcs[f], caller[f], f + 1 < n ? sps[f + 1] : 0, sps[f], bps[f] };
	char *var = s->types ? types_local_name(s->types, &tf, addr) : NULL;
	jv_set(o, "variable", jv_string(var));
	free(var);
	frame_place(sym, f, pcs[f], caller[f], o);
}

/* Frame f's function, file and line (the real, outermost function at that pc), into o. */
static void frame_place(struct sym *sym, int f, uint64_t pc, bool caller, struct jv *o)
{
	const struct sym_pc *p = sym_lookup(sym, pc, caller);
	const struct sym_frame *fr = &p->frames[p->nframes - 1]; /* the real (outermost) function at that pc */
	jv_set(o, "frame", jv_int(f));
	jv_set(o, "function", jv_string(fr->function));
	jv_set(o, "file", jv_string(fr->file));
	jv_set(o, "line", fr->line ? jv_int(fr->line) : jv_null());
	jv_set(o, "module", jv_string(p->module));
	if (!fr->function)
		jv_set(o, "module_offset", jv_addr(p->module_offset));
}

/* The local the innermost frame of thread tid keeps in register reg at its pc, with that frame, when DWARF names one. */
static void register_variable(struct session *s, struct sym *sym, pid_t tid, int reg, struct jv *o)
{
	uint64_t pc;
	bool caller;
	struct mlz_err err;
	char *var = s->types && sym_unwind(sym, tid, &pc, &caller, 1, &err) == 1 && !caller
			    ? types_register_name(s->types, pc, reg)
			    : NULL;
	if (var) {
		jv_set(o, "variable", jv_string(var));
		frame_place(sym, 0, pc, false, o);
	}
	free(var);
}

struct jv *graph_root_jv(struct session *s, struct sym *sym, const struct root_ref *r)
{
	struct jv *o = jv_object();
	jv_set(o, "kind", jv_string(root_kind_names[r->kind]));
	pid_t tid = r->thread >= 0 && (size_t)r->thread < s->target->nthreads ? s->target->threads[r->thread].tid : 0;
	if (r->kind == ROOT_REGISTER) {
		jv_set(o, "thread", jv_int(tid));
		jv_set(o, "register", jv_string(r->where < sizeof(reg_names) / sizeof(reg_names[0]) ? reg_names[r->where] : "?"));
		register_variable(s, sym, tid, (int)r->where, o);
	} else {
		jv_set(o, "address", jv_addr(r->where));
		if (r->kind == ROOT_STACK || r->kind == ROOT_TLS)
			jv_set(o, "thread", jv_int(tid));
		if (r->kind == ROOT_STACK)
			stack_frame(s, sym, tid, r->where, o);
		if (r->kind == ROOT_DATA || r->kind == ROOT_TLS) {
			uint64_t off;
			const char *module;
			const char *name = sym_data_symbol(sym, r->where, &off, &module);
			jv_set(o, "symbol", jv_string(name));
			if (name)
				jv_set(o, "offset", jv_int((int64_t)off));
			jv_set(o, "module", jv_string(module));
			char *var = r->kind == ROOT_DATA && s->types ? types_global_name(s->types, r->where) : NULL;
			jv_set(o, "variable", jv_string(var));
			free(var);
		}
	}
	jv_set(o, "interior", jv_bool(r->interior));
	return o;
}

void graph_offset_jv(struct session *s, const struct graph *g, uint32_t i, long off, struct jv *o)
{
	jv_set(o, "offset", jv_int(off));
	uint32_t id = s->types && g == s->graph && off >= 0 ? types_of_block(s->types, i, NULL) : 0;
	char *f = id ? types_field_name(s->types, id, g->size[i], (uint64_t)off) : NULL;
	jv_set(o, "field", jv_string(f));
	free(f);
}

/* Where inside block i the first pointer into block j sits, or -1. */
long graph_pointer_offset(struct session *s, const struct graph *g, uint32_t i, uint32_t j)
{
	size_t len = g->size[i] & ~(uint64_t)7;
	uint8_t *buf = xmalloc(len ? len : 8);
	ssize_t got = target_read(s->target, g->addr[i], buf, len);
	long found = -1;
	for (ssize_t off = 0; off + 8 <= got && found < 0; off += 8) {
		uint64_t v;
		memcpy(&v, buf + off, 8);
		if (v >= g->addr[j] && v < g->addr[j] + (g->size[j] ? g->size[j] : 1))
			found = off;
	}
	free(buf);
	return found;
}

void graph_step_text(const struct jv *o, struct strbuf *out)
{
	const char *kind = jv_get_str(o, "kind", "?");
	if (!strcmp(kind, "block")) {
		strbuf_addf(out, "block %s (%" PRId64 " bytes", jv_get_str(o, "address", "?"), jv_get_int(o, "size", 0));
		if (jv_get(o, "traced")->u.b) {
			strbuf_addstr(out, ", from ");
			where_text_jv(o, out);
		} else {
			strbuf_addstr(out, ", allocated before attach");
		}
		strbuf_addch(out, ')');
		if (jv_get_str(o, "type", NULL)) {
			strbuf_addstr(out, " ");
			strbuf_add_escaped(out, jv_get_str(o, "type", ""));
			if (jv_get(o, "type_conflict"))
				strbuf_addstr(out, " [other evidence disagrees]");
		}
		if (jv_get(o, "offset")) {
			strbuf_addf(out, ", at offset %" PRId64, jv_get_int(o, "offset", 0));
			if (jv_get_str(o, "field", NULL)) {
				strbuf_addstr(out, " (");
				strbuf_add_escaped(out, jv_get_str(o, "field", ""));
				strbuf_addch(out, ')');
			}
		}
	} else if (!strcmp(kind, "register")) {
		strbuf_addf(out, "register %s of thread %" PRId64, jv_get_str(o, "register", "?"), jv_get_int(o, "thread", 0));
		if (jv_get_str(o, "variable", NULL)) {
			strbuf_addstr(out, ", frame #0 ");
			strbuf_add_escaped(out, jv_get_str(o, "function", "??"));
			strbuf_addstr(out, "() local '");
			strbuf_add_escaped(out, jv_get_str(o, "variable", ""));
			strbuf_addf(out, "' (in %s)", jv_get_str(o, "register", "?"));
			struct where w;
			where_from_jv(o, &w);
			where_place_text(&w, out);
		}
	} else if (!strcmp(kind, "stack")) {
		strbuf_addf(out, "stack of thread %" PRId64 " at %s", jv_get_int(o, "thread", 0), jv_get_str(o, "address", "?"));
		if (jv_get(o, "frame")) {
			struct where w;
			where_from_jv(o, &w);
			strbuf_addf(out, ", frame #%" PRId64 " ", jv_get_int(o, "frame", 0));
			if (!w.function) {
				where_text(&w, out);
			} else {
				strbuf_add_escaped(out, w.function);
				if (jv_get_str(o, "variable", NULL)) {
					strbuf_addstr(out, "() local '");
					strbuf_add_escaped(out, jv_get_str(o, "variable", ""));
					strbuf_addch(out, '\'');
				}
				where_place_text(&w, out);
			}
		}
	} else {
		strbuf_addf(out, "%s %s", strcmp(kind, "mapping") ? kind : "anonymous mapping at", jv_get_str(o, "address", "?"));
		if (jv_get_str(o, "variable", NULL)) {
			strbuf_addstr(out, " ");
			strbuf_add_escaped(out, jv_get_str(o, "variable", ""));
			strbuf_addstr(out, " (in ");
			strbuf_add_escaped(out, jv_get_str(o, "module", "?"));
			strbuf_addch(out, ')');
		} else if (jv_get_str(o, "symbol", NULL)) {
			strbuf_addstr(out, " (");
			strbuf_add_escaped(out, jv_get_str(o, "symbol", ""));
			strbuf_addf(out, "+%" PRId64 " in ", jv_get_int(o, "offset", 0));
			strbuf_add_escaped(out, jv_get_str(o, "module", "?"));
			strbuf_addch(out, ')');
		} else if (jv_get_str(o, "module", NULL)) {
			strbuf_addstr(out, " (in ");
			strbuf_add_escaped(out, jv_get_str(o, "module", ""));
			strbuf_addch(out, ')');
		}
		if (jv_get(o, "thread"))
			strbuf_addf(out, " of thread %" PRId64, jv_get_int(o, "thread", 0));
	}
	if (jv_get(o, "interior") && jv_get(o, "interior")->u.b)
		strbuf_addstr(out, " [interior pointer]");
}

/* The block that holds ADDR in the session's graph, or -1 with an error. */
long graph_block_arg(struct cmd_ctx *c, const struct graph *g, const char *word, const char *cmd)
{
	uint64_t addr;
	if (cmd_parse_u64(word, UINT64_MAX, &addr) < 0)
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "%s: '%s' is not an address", cmd, word);
	long i = graph_find(g, addr);
	if (i < 0)
		return mlz_error(&c->err, "0x%" PRIx64 " is in no live block", addr);
	return i;
}

void graph_instant_jv(struct session *s, struct jv *o)
{
	if (!target_is_process(s->target))
		return;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	time_t at = (time_t)s->graph_wall;
	struct tm tm;
	char buf[16];
	localtime_r(&at, &tm);
	strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	struct jv *g = jv_set(o, "graph", jv_object());
	jv_set(g, "taken_at", jv_string(buf));
	jv_set(g, "seconds_ago", jv_double(now.tv_sec + now.tv_nsec / 1e9 - s->graph_wall));
	jv_set(g, "reused", jv_bool(s->graph_reused));
}

void graph_instant_text(const struct jv *o, struct strbuf *out)
{
	const struct jv *g = jv_get(o, "graph");
	if (!g || g->kind != JV_OBJECT || !jv_get(g, "reused")->u.b)
		return;
	strbuf_addf(out, "graph as of %s, %.1f s ago\n", jv_get_str(g, "taken_at", "?"), jv_get(g, "seconds_ago")->u.d);
}
