// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-blocks.c - `blocks`: the live blocks one by one, filtered by site and size. */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "grouping.h"
#include "jv.h"
#include "graph.h"
#include "render.h"
#include "session.h"
#include "strbuf.h"
#include "types.h"
#include "liveset.h"
#include "snapshot.h"
#include "target.h"
#include "where.h"
#include "xalloc.h"

static int cmp_addr(const void *a, const void *b)
{
	uint64_t x = (*(const struct block *const *)a)->addr, y = (*(const struct block *const *)b)->addr;
	return (x > y) - (x < y);
}

/* One block as JSON: where it is, how big, who allocated it, when (its age as of tick now in clock's times). */
static struct jv *block_jv_at(struct session *s, struct sym *sym, const struct block *b, const struct clockidx *clock,
			      uint32_t now)
{
	const struct liveset *ls = &s->live;
	struct jv *o = jv_object();
	uint32_t site = keys_of_stack(&s->keys, sym, &ls->stacks, b->stack, BY_SITE);
	const struct group_key *k = keys_get(&s->keys, BY_SITE, site);
	jv_set(o, "address", jv_addr(b->addr));
	jv_set(o, "size", jv_int((int64_t)b->size));
	jv_set(o, "site", jv_int(site));
	group_key_where_jv(k, o);
	jv_set(o, "tid", jv_int(liveset_block_tid(ls, b)));
	jv_set(o, "seq", jv_int((int64_t)block_seq(b)));
	uint32_t tick = clockidx_tick(clock, block_seq(b));
	jv_set(o, "age", jv_double((double)((int64_t)now - tick) * CLOCK_TICK_MS / 1000.0));
	return o;
}

/* One live block as JSON. */
struct jv *block_jv(struct session *s, struct sym *sym, const struct block *b)
{
	return block_jv_at(s, sym, b, &s->live.clock, liveset_tick_now(&s->live));
}

/*
 * blocks --type NAME: the blocks of the reference graph (traced or not) that
 * typing names NAME, by address (the graph's order).
 */
static int blocks_of_type(struct cmd_ctx *c, struct sym *sym, const char *name, long site, long min, long max,
			  long limit)
{
	struct types *t = session_types(c->s, &c->err);
	if (!t)
		return -1;
	struct graph *g = c->s->graph;
	uint32_t id = types_find(t, name);
	struct jv *r = jv_object();
	struct jv *list = jv_array();
	size_t n = 0;
	uint64_t bytes = 0;
	for (size_t i = 0; id && i < g->n; i++) {
		if (types_of_block(t, (uint32_t)i, NULL) != id)
			continue;
		const struct block *b = c->s->live.blocks.n ? blocktab_get(&c->s->live.blocks, g->addr[i]) : NULL;
		uint64_t size = b ? b->size : g->size[i];
		if (size < (uint64_t)min || (max >= 0 && size > (uint64_t)max))
			continue;
		if (site >= 0 && (!b || keys_of_stack(&c->s->keys, sym, &c->s->live.stacks, b->stack, BY_SITE) != (uint32_t)site))
			continue;
		if (limit == 0 || n < (size_t)limit)
			jv_push(list, graph_block_jv(c->s, sym, g, (uint32_t)i));
		n++;
		bytes += size;
	}
	jv_set(r, "type", jv_string(name));
	jv_set(r, "blocks", jv_int((int64_t)n));
	jv_set(r, "bytes", jv_int((int64_t)bytes));
	jv_set(r, "listed", list);
	c->result = r;
	return 0;
}

static int cmd_blocks_exec(struct cmd_ctx *c)
{
	const struct snapshot *snap = NULL;
	if (c->args->argc && !(snap = snapshot_find(&c->s->snaps, c->args->argv[0])))
		return mlz_error(&c->err, "no snapshot named '%s' (see 'snapshots')", c->args->argv[0]);
	if (!snap && !target_has_image(c->s->target) && !c->s->rec)
		return mlz_error(&c->err, "blocks: no process: this session has only saved snapshots; "
				 "'blocks SNAPSHOT' lists a snapshot's");
	struct liveset *ls = session_live(c->s);
	struct sym *sym = session_sym(c->s, &c->err);
	if (!sym)
		return -1;
	/* A snapshot's blocks are in address order already; the live ones are gathered from their table. */
	size_t total = snap ? snap->n : ls->blocks.n;
	long site = -1, min = 0, max = -1, limit = 50;
	if (cmd_optnum(c->args, "--site", 0, UINT32_MAX, &site, &c->err) < 0 || /* site ids are 32-bit */
	    cmd_optnum(c->args, "--min-size", 0, LONG_MAX, &min, &c->err) < 0 ||
	    cmd_optnum(c->args, "--max-size", 0, LONG_MAX, &max, &c->err) < 0 ||
	    cmd_optnum(c->args, "--limit", 0, LONG_MAX, &limit, &c->err) < 0)
		return -1;
	const char *type = cmd_optval(c->args, "--type");
	if (type)
		return blocks_of_type(c, sym, type, site, min, max, limit);

	const struct block **sel = xmalloc((total ? total : 1) * sizeof(*sel));
	size_t n = 0;
	uint64_t bytes = 0;
	for (size_t i = 0; snap && i < snap->n; i++)
		sel[n++] = &snap->blocks[i];
	BLOCKTAB_FOREACH(&ls->blocks, b) {
		if (snap)
			break;
		sel[n++] = b;
	}
	if (!snap)
		qsort(sel, n, sizeof(*sel), cmp_addr);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		const struct block *b = sel[i];
		if (b->size < (uint64_t)min || (max >= 0 && b->size > (uint64_t)max))
			continue;
		if (site >= 0 && keys_of_stack(&c->s->keys, sym, &ls->stacks, b->stack, BY_SITE) != (uint32_t)site)
			continue;
		sel[kept++] = b;
		bytes += b->size;
	}
	n = kept;
	const struct clockidx *clock = snap && snap->file ? &snap->clock : &ls->clock;
	uint32_t now = snap ? snap->tick : liveset_tick_now(ls);
	struct jv *r = jv_object();
	jv_set(r, "blocks", jv_int((int64_t)n));
	jv_set(r, "bytes", jv_int((int64_t)bytes));
	struct jv *list = jv_set(r, "listed", jv_array());
	for (size_t i = 0; i < n && (limit == 0 || i < (size_t)limit); i++)
		jv_push(list, block_jv_at(c->s, sym, sel[i], clock, now));
	free(sel);
	c->result = r;
	return 0;
}

static void cmd_blocks_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	unsigned sz = text_size_flags(t, r);
	char buf[32];
	const struct jv *list = jv_get(r, "listed");
	strbuf_addf(out, "%" PRId64 " blocks, ", jv_get_int(r, "blocks", 0));
	strbuf_add_size(out, jv_get_int(r, "bytes", 0), sz);
	strbuf_addstr(out, sz & SIZE_EXACT ? " bytes" : "");
	if ((int64_t)jv_len(list) < jv_get_int(r, "blocks", 0))
		strbuf_addf(out, " (first %zu shown; --limit 0 for all)", jv_len(list));
	if (jv_get(r, "type")) {
		strbuf_addf(out, "\n%-16s %10s %-10s  %s\n", "ADDRESS", "SIZE", "CLASS", "ALLOCATED IN");
		for (size_t i = 0; i < jv_len(list); i++) {
			const struct jv *o = jv_at(list, i);
			strbuf_addf(out, "%-16s %10" PRId64 " %-10s  ", jv_get_str(o, "address", ""), jv_get_int(o, "size", 0),
				    jv_get_str(o, "class", "?"));
			if (jv_get(o, "traced")->u.b)
				where_text_jv(o, out);
			else
				strbuf_addstr(out, "(before attach)");
			strbuf_addch(out, '\n');
		}
		return;
	}
	strbuf_addf(out, "\n%-16s %10s %5s %8s %8s  %s\n", "ADDRESS", "SIZE", "SITE", "TID", "AGE", "ALLOCATED IN");
	for (size_t i = 0; i < jv_len(list); i++) {
		const struct jv *o = jv_at(list, i);
		strbuf_addf(out, "%-16s %10s %5" PRId64 " %8" PRId64 " %7.1fs  ", jv_get_str(o, "address", ""),
			    size_str(buf, jv_get_int(o, "size", 0), sz), jv_get_int(o, "site", 0), jv_get_int(o, "tid", 0),
			    jv_get(o, "age")->u.d);
		where_text_jv(o, out);
		strbuf_addch(out, '\n');
	}
}

static const struct cmd_opt opts[] = {
	{ "--site", "ID", "only blocks of this allocation site (the ID top and compare print)" },
	{ "--min-size", "N", "only blocks of at least N bytes" },
	{ "--max-size", "N", "only blocks of at most N bytes" },
	{ "--limit", "N", "show at most N blocks (default 50, 0 for all)" },
	{ "--type", "NAME", "the blocks of the reference graph whose type is NAME (as top --by type names it)" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_blocks_entry = {
	.name = "blocks",
	.usage = "blocks [SNAPSHOT] [--site ID] [--min-size N] [--max-size N] [--limit N] [--type NAME]",
	.summary = "the live blocks one by one (now, or of SNAPSHOT): address, size, site, thread, age",
	.help = "Lists the blocks live now (traced since attach), or the traced blocks of the snapshot "
		"SNAPSHOT (a loaded one too), by address, with their requested size, allocation site (its ID as "
		"in top and compare), the thread that allocated them and their age (for a snapshot, at the time "
		"it was taken). The count and bytes cover every block that passes the filters, not only those "
		"shown. With --type NAME the blocks come from the reference graph (those from before attach "
		"too) and are those typed NAME from DWARF (see top --by type), each with its size, leak class "
		"and site when traced.",
	.opts = opts,
	.max_args = 1,
	.flags = CMD_ESTIMATES,
	.exec = cmd_blocks_exec,
	.text = cmd_blocks_text,
};
