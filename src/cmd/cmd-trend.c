// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-trend.c - `trend [N]`: the groups that grew in every interval of the last N snapshots (leak suspects). */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "cmd.h"
#include "grouping.h"
#include "jv.h"
#include "session.h"
#include "strbuf.h"
#include "u64map.h"
#include "xalloc.h"

/* One group's figures in each snapshot, in the order they were taken. */
struct series {
	uint32_t key;
	int64_t *count, *bytes;
};

static bool grew_every_time(const struct series *s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (s->bytes[i] <= s->bytes[i - 1])
			return false;
	return true;
}

static int by_growth(const void *pa, const void *pb, void *arg)
{
	size_t n = *(const size_t *)arg;
	const struct series *a = pa, *b = pb;
	int64_t ga = a->bytes[n - 1] - a->bytes[0], gb = b->bytes[n - 1] - b->bytes[0];
	if (ga != gb)
		return ga < gb ? 1 : -1;
	return a->key < b->key ? -1 : a->key > b->key;
}

static int cmd_trend_exec(struct cmd_ctx *c)
{
	struct grouping_opts o;
	if (grouping_parse(c, &o) < 0)
		return -1;
	const struct snapshots *ss = &c->s->snaps;
	long want = (long)ss->n;
	if (c->args->argc && cmd_number("trend", "N", c->args->argv[0], 2, INT_MAX, &want, &c->err) < 0)
		return -1;
	if (ss->n < 2 || (size_t)want > ss->n)
		return mlz_error(&c->err, "trend: needs %ld snapshots, and there %s %zu (take them with 'snapshot')",
				 want < 2 ? 2 : want, ss->n == 1 ? "is" : "are", ss->n);
	struct sym *sym = session_sym(c->s, &c->err);
	if (!sym)
		return -1;
	size_t n = (size_t)want, first = ss->n - n;

	/* Every group of every snapshot, by key; a group missing from a snapshot had nothing there. */
	struct grouping_opts all = o;
	all.top = 0;
	struct u64map index = { 0 };
	struct series *rows = NULL;
	size_t nrows = 0, cap = 0;
	for (size_t i = 0; i < n; i++) {
		size_t ng;
		struct group *g = group_compare(&c->s->keys, sym, &c->s->live.stacks, NULL, &ss->v[first + i].by, &all, &ng);
		for (size_t j = 0; j < ng; j++) {
			uint64_t row;
			if (!u64map_get(&index, g[j].key, &row)) {
				if (nrows == cap) {
					cap = cap ? 2 * cap : 64;
					rows = xrealloc(rows, cap * sizeof(*rows));
				}
				rows[nrows] = (struct series){ g[j].key, xcalloc(n, sizeof(int64_t)), xcalloc(n, sizeof(int64_t)) };
				row = nrows++;
				u64map_put(&index, g[j].key, row);
			}
			rows[row].count[i] = g[j].count_b;
			rows[row].bytes[i] = g[j].bytes_b;
		}
		free(g);
	}
	u64map_release(&index);

	size_t kept = 0;
	for (size_t r = 0; r < nrows; r++) {
		if (grew_every_time(&rows[r], n)) {
			struct series t = rows[kept];
			rows[kept++] = rows[r];
			rows[r] = t;
		}
	}
	qsort_r(rows, kept, sizeof(*rows), by_growth, &n);

	const struct snapshot *s0 = &ss->v[first], *sn = &ss->v[ss->n - 1];
	double secs = (double)((int64_t)sn->tick - (int64_t)s0->tick) * CLOCK_TICK_MS / 1000.0;
	struct jv *r = jv_object();
	struct jv *names = jv_set(r, "snapshots", jv_array());
	for (size_t i = 0; i < n; i++)
		jv_push(names, jv_string(ss->v[first + i].name));
	jv_set(r, "by", jv_string(group_by_names[o.by]));
	jv_set(r, "intervals", jv_int((int64_t)n - 1));
	jv_set(r, "seconds", jv_double(secs));
	struct jv *groups = jv_set(r, "groups", jv_array());
	size_t shown = o.top && (size_t)o.top < kept ? (size_t)o.top : kept;
	for (size_t k = 0; k < shown; k++) {
		const struct series *s = &rows[k];
		struct group g = { s->key, s->count[0], s->bytes[0], s->count[n - 1], s->bytes[n - 1] };
		groups_to_jv(&c->s->keys, sym, o.by, &g, 1, true, groups);
		struct jv *x = jv_last(groups);
		int64_t growth = s->bytes[n - 1] - s->bytes[0];
		jv_set(x, "growth_per_interval", jv_double((double)growth / (double)(n - 1)));
		jv_set(x, "bytes_per_second", secs > 0 ? jv_double(growth / secs) : jv_null());
		struct jv *b = jv_set(x, "bytes_series", jv_array()), *cn = jv_set(x, "blocks_series", jv_array());
		for (size_t i = 0; i < n; i++) {
			jv_push(b, jv_int(s->bytes[i]));
			jv_push(cn, jv_int(s->count[i]));
		}
	}
	jv_set(r, "suspects", jv_int((int64_t)kept));
	for (size_t i = 0; i < nrows; i++) {
		free(rows[i].count);
		free(rows[i].bytes);
	}
	free(rows);
	c->result = r;
	return 0;
}

/* A series as eight-level blocks, lowest to highest of its own range. */
static void sparkline(const struct jv *sizes, struct strbuf *out)
{
	static const char *const bars[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t i = 0; i < jv_len(sizes); i++) {
		int64_t v = jv_at(sizes, i)->u.i;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	for (size_t i = 0; i < jv_len(sizes); i++) {
		int64_t v = jv_at(sizes, i)->u.i;
		int level = hi > lo ? (int)((double)(v - lo) * 7.0 / (double)(hi - lo) + 0.5) : 0;
		strbuf_addstr(out, bars[level]);
	}
}

static void cmd_trend_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	unsigned sz = t->bytes ? SIZE_EXACT : 0;
	char b1[32], b2[32];
	const struct jv *names = jv_get(r, "snapshots"), *groups = jv_get(r, "groups");
	strbuf_addf(out, "%" PRId64 " groups grew in each of %" PRId64 " intervals (", jv_get_int(r, "suspects", 0),
		    jv_get_int(r, "intervals", 0));
	for (size_t i = 0; i < jv_len(names); i++) {
		strbuf_addstr(out, i ? " " : "");
		strbuf_add_escaped(out, jv_at(names, i)->u.s);
	}
	strbuf_addf(out, "), by %s\n", jv_get_str(r, "by", ""));
	if (!jv_len(groups))
		return;
	strbuf_addf(out, "%5s %12s %14s  %-*s  %s\n", "ID", "+SIZE", "+SIZE/INTERVAL", (int)jv_len(names), "", "WHERE");
	for (size_t i = 0; i < jv_len(groups); i++) {
		const struct jv *g = jv_at(groups, i);
		const struct jv *gpi = jv_get(g, "growth_per_interval");
		double per = gpi->kind == JV_DOUBLE ? gpi->u.d : (double)gpi->u.i;
		strbuf_addf(out, "%5" PRId64 " %12s %14s  ", jv_get_int(g, "id", 0),
			    size_str(b1, jv_get_int(g, "bytes_diff", 0), sz | SIZE_SIGN),
			    size_str(b2, (int64_t)(per + (per < 0 ? -0.5 : 0.5)), sz | SIZE_SIGN));
		sparkline(jv_get(g, "bytes_series"), out);
		strbuf_addstr(out, "  ");
		group_where_text(g, out);
		strbuf_addch(out, '\n');
	}
}

static const struct cmd_opt opts[] = { GROUPING_OPTS, { NULL, NULL, NULL } };

const struct cmd_entry cmd_trend_entry = {
	.name = "trend",
	.usage = "trend [N] [--by site|function|file|stack] [--top N] [--filter GLOB] [--cumulative]",
	.summary = "the groups whose live bytes grew in every interval of the last N snapshots: leak suspects",
	.help = "Takes the last N snapshots (default all; at least 2) in the order they were taken and lists "
		"the groups (by site, function, file or stack) whose live bytes grew from each snapshot to the "
		"next, every time, largest growth first: the repeated-run leak check, done for you. Each shows "
		"its growth over all the intervals and per interval, its bytes per second, its bytes and counts "
		"in each snapshot, and a sparkline of its bytes. A group that shrank or stayed the same once is "
		"left out, however much it grew overall.",
	.opts = opts,
	.max_args = 1,
	.exec = cmd_trend_exec,
	.text = cmd_trend_text,
};
