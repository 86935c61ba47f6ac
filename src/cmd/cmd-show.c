// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-show.c - `show ADDR`: one block: size, allocation stack, age and its first bytes. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "graph.h"
#include "group.h"
#include "heap.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"
#include "sym.h"
#include "target.h"
#include "types.h"
#include "liveset.h"
#include "where.h"

#define DUMP_BYTES 64

/* The live block that starts at addr, else the one that contains it. */
static const struct block *find_block(const struct liveset *ls, uint64_t addr)
{
	const struct block *b = blocktab_get(&ls->blocks, addr);
	if (b)
		return b;
	BLOCKTAB_FOREACH(&ls->blocks, x)
		if (addr > x->addr && addr < x->addr + x->size)
			return x;
	return NULL;
}

/* The chunk of the heap walk that holds addr (in its user part). */
struct chunk_find {
	uint64_t addr;
	uint64_t chunk, size;
	enum chunk_kind kind;
	bool found;
};

static void find_chunk(void *arg, uint64_t chunk, uint64_t size, enum chunk_kind kind, size_t arena)
{
	(void)arena;
	struct chunk_find *f = arg;
	if (!f->found && f->addr >= chunk + 16 && f->addr < chunk + size) {
		*f = (struct chunk_find){ f->addr, chunk, size, kind, true };
	}
}

static void add_bytes(struct cmd_ctx *c, struct jv *r, uint64_t addr, uint64_t size)
{
	uint8_t bytes[DUMP_BYTES];
	size_t want = size < DUMP_BYTES ? size : DUMP_BYTES;
	ssize_t got = target_readable(c->s->target) ? target_read(c->s->target, addr, bytes, want) : -1;
	if (got >= 0) {
		struct strbuf hex = STRBUF_INIT;
		for (ssize_t i = 0; i < got; i++)
			strbuf_addf(&hex, "%02x", bytes[i]);
		jv_set(r, "contents", jv_string(strbuf_str(&hex)));
		strbuf_release(&hex);
	} else {
		jv_set(r, "contents", jv_null()); /* the process is gone: its memory with it */
	}
}

#define MAX_REFS 20

/*
 * The block's place in the reference graph: what points at it, what it points
 * at (the first MAX_REFS). Fails only if the process cannot be resumed.
 */
static int add_refs(struct cmd_ctx *c, struct sym *sym, struct jv *o, uint64_t addr)
{
	struct mlz_err err = { 0 };
	struct graph *g = session_graph(c->s, &err);
	long i = g ? graph_find(g, addr) : -1;
	if (i < 0) {
		jv_set(o, "references_note", jv_string(g ? "not in the reference graph" : err.msg));
		return 0;
	}
	/* a stack slot is named by unwinding its thread: stopped for that */
	bool stopped = session_pause(c->s, &err) == 0;
	graph_reverse(g);
	struct jv *in = jv_set(o, "referrers", jv_array()), *out = jv_set(o, "references", jv_array());
	size_t rf, nr = graph_roots_of(g, (uint32_t)i, &rf);
	for (size_t k = rf; k < rf + nr && jv_len(in) < MAX_REFS; k++)
		jv_push(in, graph_root_jv(c->s, sym, &g->roots[k]));
	size_t f, ni = graph_interior_in(g, (uint32_t)i, &f);
	for (size_t e = g->in_off[i]; e < g->in_off[i + 1] + ni && jv_len(in) < MAX_REFS; e++) {
		bool interior = e >= g->in_off[i + 1];
		uint32_t j = interior ? g->ito[f + (e - g->in_off[i + 1])].from : g->in[e];
		struct jv *x = jv_push(in, graph_block_jv(c->s, sym, g, j));
		jv_set(x, "interior", jv_bool(interior));
	}
	ni = graph_interior_out(g, (uint32_t)i, &f);
	for (size_t e = g->out_off[i]; e < g->out_off[i + 1] + ni && jv_len(out) < MAX_REFS; e++) {
		bool interior = e >= g->out_off[i + 1];
		uint32_t j = interior ? g->ifrom[f + (e - g->out_off[i + 1])].to : g->out[e];
		struct jv *x = jv_push(out, graph_block_jv(c->s, sym, g, j));
		jv_set(x, "interior", jv_bool(interior));
	}
	jv_set(o, "class", jv_string(leak_state_names[g->state[i]]));
	bool conflict;
	uint32_t id = c->s->types ? types_of_block(c->s->types, (uint32_t)i, &conflict) : 0;
	jv_set(o, "type", id ? jv_string(types_name(c->s->types, id)) : jv_null());
	if (id && conflict)
		jv_set(o, "type_conflict", jv_bool(true));
	if (id && types_block_by_site(c->s->types, (uint32_t)i))
		jv_set(o, "type_by_site", jv_bool(true));
	if (id && !cmd_has(c->args, "--raw"))
		jv_set(o, "fields", types_fields_jv(c->s->types, g, c->s->target, (uint32_t)i, id));
	return stopped ? session_unpause(c->s, NULL, &c->err) : 0;
}

/* No traced block there: what the heap walk says of addr (a block from before attach, or free memory). */
static int show_untraced(struct cmd_ctx *c, uint64_t addr)
{
	struct chunk_find f = { .addr = addr };
	struct heap_report r;
	struct heap_take h;
	if (!target_readable(c->s->target))
		return mlz_error(&c->err, "no live traced block at 0x%" PRIx64, addr);
	int ret = session_heap(c->s, find_chunk, &f, &r, &h, &c->err);
	heap_report_release(&r);
	heap_take_release(&h);
	if (ret < 0)
		return -1;
	if (!f.found)
		return mlz_error(&c->err, "0x%" PRIx64 " is in no traced block and in no chunk of glibc's heap", addr);
	struct jv *o = jv_object();
	jv_set(o, "address", jv_addr(f.chunk + 16));
	jv_set(o, "size", jv_int((int64_t)chunk_usable(f.size, f.kind))); /* usable bytes: the request is unknown */
	jv_set(o, "traced", jv_bool(false));
	jv_set(o, "state", jv_string(chunk_kind_name(f.kind)));
	jv_set(o, "chunk", jv_addr(f.chunk));
	jv_set(o, "chunk_size", jv_int((int64_t)f.size));
	jv_set(o, "stack", jv_array());
	add_bytes(c, o, f.chunk + 16, chunk_usable(f.size, f.kind));
	struct sym *sym = session_sym(c->s, &c->err);
	if (sym && f.kind != CK_TCACHE && f.kind != CK_FAST && f.kind != CK_BIN && f.kind != CK_TOP &&
	    add_refs(c, sym, o, f.chunk + 16) < 0) {
		jv_free(o);
		return -1;
	}
	c->result = o;
	return 0;
}

static int cmd_show_exec(struct cmd_ctx *c)
{
	struct liveset *ls = session_live(c->s);
	struct sym *sym = session_sym(c->s, &c->err);
	if (!sym)
		return -1;
	uint64_t addr;
	if (cmd_parse_u64(c->args->argv[0], UINT64_MAX, &addr) < 0)
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "show: '%s' is not an address", c->args->argv[0]);
	const struct block *b = find_block(ls, addr);
	if (!b)
		return show_untraced(c, addr);
	struct jv *r = block_jv(c->s, sym, b);
	jv_set(r, "traced", jv_bool(true));
	int depth;
	const uint64_t *pcs = stacktab_pcs(&ls->stacks, b->stack, &depth);
	struct jv *stack = jv_set(r, "stack", jv_array());
	for (int i = 0; i < depth; i++) {
		const struct sym_pc *p = sym_lookup(sym, pcs[i], i > 0);
		for (size_t k = 0; k < p->nframes; k++) {
			struct jv *f = jv_push(stack, jv_object());
			jv_set(f, "pc", jv_addr(pcs[i]));
			jv_set(f, "function", jv_string(p->frames[k].function));
			jv_set(f, "file", jv_string(p->frames[k].file));
			jv_set(f, "line", p->frames[k].line ? jv_int(p->frames[k].line) : jv_null());
			jv_set(f, "module", jv_string(p->module));
			if (!p->frames[k].function)
				jv_set(f, "module_offset", jv_addr(p->module_offset));
		}
	}
	add_bytes(c, r, b->addr, b->size);
	if (target_readable(c->s->target) && add_refs(c, sym, r, b->addr) < 0) {
		jv_free(r);
		return -1;
	}
	c->result = r;
	return 0;
}

/* Each field as gdb prints it, a pointer into a block followed by what that block is. */
static void fields_text(const struct jv *fields, struct strbuf *out)
{
	for (size_t k = 0; k < jv_len(fields); k++) {
		const struct jv *f = jv_at(fields, k);
		strbuf_addf(out, "  +%-4" PRId64 " ", jv_get_int(f, "offset", 0));
		strbuf_add_escaped(out, jv_get_str(f, "name", ""));
		strbuf_addstr(out, " = ");
		strbuf_add_escaped(out, jv_get_str(f, "value", "?"));
		const struct jv *t = jv_get(f, "target");
		if (t) {
			strbuf_addf(out, " -> %s (", jv_get_str(t, "address", "?"));
			strbuf_add_escaped(out, jv_get_str(t, "type", "untyped"));
			strbuf_addf(out, ", %" PRId64 " bytes", jv_get_int(t, "size", 0));
			if (jv_get(t, "offset"))
				strbuf_addf(out, ", at offset %" PRId64, jv_get_int(t, "offset", 0));
			strbuf_addch(out, ')');
		}
		strbuf_addch(out, '\n');
	}
}


static void cmd_show_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	if (!jv_get(r, "traced")->u.b)
		strbuf_addf(out, "block %s: %" PRId64 " usable bytes, %s, not traced (allocated before attach); chunk %s of %" PRId64
				 " bytes\n",
			    jv_get_str(r, "address", ""), jv_get_int(r, "size", 0), jv_get_str(r, "state", "?"),
			    jv_get_str(r, "chunk", ""), jv_get_int(r, "chunk_size", 0));
	else
		strbuf_addf(out, "block %s: %" PRId64 " bytes, site %" PRId64 ", thread %" PRId64 ", allocated %.1f s ago (event %" PRId64 ")\n",
		    jv_get_str(r, "address", ""), jv_get_int(r, "size", 0), jv_get_int(r, "site", 0),
		    jv_get_int(r, "tid", 0), jv_get(r, "age")->u.d, jv_get_int(r, "seq", 0));
	const struct jv *stack = jv_get(r, "stack");
	for (size_t i = 0; i < jv_len(stack); i++) {
		strbuf_addf(out, "  #%-2zu ", i);
		where_text_jv(jv_at(stack, i), out);
		strbuf_addch(out, '\n');
	}
	const struct jv *in = jv_get(r, "referrers"), *outr = jv_get(r, "references");
	if (in) {
		strbuf_addf(out, "  %s; pointed at by %zu, points at %zu\n", jv_get_str(r, "class", "?"), jv_len(in),
			    jv_len(outr));
		for (size_t k = 0; k < jv_len(in); k++) {
			strbuf_addstr(out, "    <- ");
			graph_step_text(jv_at(in, k), out);
			strbuf_addch(out, '\n');
		}
		for (size_t k = 0; k < jv_len(outr); k++) {
			strbuf_addstr(out, "    -> ");
			graph_step_text(jv_at(outr, k), out);
			strbuf_addch(out, '\n');
		}
	}
	const struct jv *fields = jv_get(r, "fields");
	if (fields) {
		strbuf_addstr(out, "  ");
		strbuf_add_escaped(out, jv_get_str(r, "type", "?"));
		if (jv_get(r, "type_by_site"))
			strbuf_addstr(out, " (from the variable its allocation was assigned to)");
		strbuf_addstr(out, jv_get(r, "type_conflict") ? " (other evidence disagrees)\n" : "\n");
		fields_text(fields, out);
		return;
	}
	const char *hex = jv_get_str(r, "contents", NULL);
	if (!hex) {
		strbuf_addstr(out, "  (contents gone with the process)\n");
		return;
	}
	size_t n = strlen(hex) / 2;
	for (size_t off = 0; off < n; off += 16) {
		strbuf_addf(out, "  %04zx ", off);
		char ascii[17] = { 0 };
		for (size_t i = 0; i < 16; i++) {
			if (off + i < n) {
				unsigned v;
				sscanf(hex + 2 * (off + i), "%2x", &v);
				strbuf_addf(out, " %02x", v);
				ascii[i] = isprint((int)v) ? (char)v : '.';
			} else {
				strbuf_addstr(out, "   ");
			}
		}
		strbuf_addf(out, "  %s\n", ascii);
	}
}

static const struct cmd_opt opts[] = {
	{ "--raw", NULL, "a hexdump of the first 64 bytes instead of the fields of a typed block" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_show_entry = {
	.name = "show",
	.usage = "show ADDR [--raw]",
	.summary = "one live block: size, allocation stack with file:line, age, first bytes",
	.help = "Shows the live traced block that starts at or contains ADDR: its requested size, its "
		"allocation site and full allocation stack with file:line, the thread that allocated it, its "
		"age, and a hexdump of its first 64 bytes (read from the process while it runs). An address "
		"no traced block holds is looked up in a heap walk (on a core file too): the chunk that holds "
		"it, its usable size, whether it is in use or free (tcache, fastbin, bin, top), and its bytes. "
		"A live block also shows its leak class, what points at it (roots and blocks) and what it points "
		"at (the first 20 of each), from the reference graph of leaks and path. A block whose type is known "
		"(from DWARF, through the pointers that lead to it: see top --by type) shows its type and each "
		"field by name with its value as gdb prints it, a pointer followed one level to the block it "
		"points at (its address, type and size) and a char * to its string; --raw shows the hexdump "
		"instead.",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.exec = cmd_show_exec,
	.text = cmd_show_text,
};
