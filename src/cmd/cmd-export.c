// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-export.c - `export FORMAT FILE [SNAPSHOT | A B]`: the live set, a snapshot or a difference as folded stacks or a pprof profile. */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "backrefs.h"
#include "cmd.h"
#include "export.h"
#include "graph.h"
#include "grouping.h"
#include "liveset.h"
#include "render.h"
#include "jv.h"
#include "savefile.h"
#include "record.h"
#include "session.h"
#include "strbuf.h"
#include "target.h"
#include "timeline.h"

static struct jv *written(enum export_format f, const char *path, size_t records, size_t len)
{
	struct jv *r = jv_object();
	jv_set(r, "format", jv_string(export_format_names[f]));
	jv_set(r, "file", jv_string(path));
	jv_set(r, "records", jv_int((int64_t)records));
	jv_set(r, "bytes_written", jv_int((int64_t)len));
	return r;
}

/* massif and svg-timeline: the snapshots and marks in time order, and the live set's peak. */
static int export_timeline(struct cmd_ctx *c, enum export_format f, const char *path, bool force)
{
	/* massif shows the peak: a recording's is measured on first use */
	if (f == EXPORT_MASSIF && record_measure(c->s, &c->err) < 0)
		return -1;
	struct liveset *ls = session_live(c->s);
	struct sym *sym = NULL;
	if (f == EXPORT_MASSIF && !(sym = session_sym(c->s, &c->err)))
		return -1;
	struct export_timeline in = { sym, &ls->stacks, NULL, 0, NULL, 0, 0, CLOCK_TICK_MS, NULL, NULL };
	struct tl_point *points;
	in.n = timeline_points(&c->s->snaps, &c->s->marks, &c->s->samples, &points);
	in.points = points;
	/* A peak only where blocks were traced: a core or --no-trace has none. */
	if (ls->peak_bytes) {
		liveset_sync_peak(ls);
		in.peak = &ls->peak;
		in.peak_bytes = ls->peak_bytes;
		in.peak_tick = ls->peak_tick;
	}
	struct target_facts tf;
	target_facts(c->s->target, &tf);
	struct strbuf cmdline = STRBUF_INIT;
	strbuf_addstr(&cmdline, tf.exe ? tf.exe : tf.args ? tf.args : tf.name);
	target_facts_release(&tf);
	in.cmd = strbuf_str(&cmdline);
	in.desc = "mlyze: blocks traced since attach (blocks allocated before attach are left out: no stack, no time)";
	if (f == EXPORT_SVG_TIMELINE)
		in.desc = "mlyze: the snapshots and marks of the session";
	struct strbuf out = STRBUF_INIT;
	size_t records;
	int ret = f == EXPORT_MASSIF ? export_massif(&in, &out, &records) : export_svg_timeline(&in, &out, &records);
	if (ret == 0)
		ret = savefile_write(path, out.buf, out.len, 0644, force, "export", &c->err);
	if (ret == 0) {
		c->result = written(f, path, records, out.len);
		jv_set(c->result, "peak", in.peak ? jv_int((int64_t)in.peak_bytes) : jv_null());
	}
	free(points);
	strbuf_release(&cmdline);
	strbuf_release(&out);
	return ret;
}

/* dot: the referrers of the block at ADDR, as `backrefs ADDR --dot` finds them. */
static int export_dot(struct cmd_ctx *c, const char *path, bool force)
{
	long depth = 1, limit = 50;
	if (cmd_optnum(c->args, "--depth", 0, LONG_MAX, &depth, &c->err) < 0 ||
	    cmd_optnum(c->args, "--limit", 0, LONG_MAX, &limit, &c->err) < 0)
		return -1;
	if (session_need_image(c->s, &c->err) < 0)
		return -1;
	struct graph *g = session_graph(c->s, &c->err);
	if (!g)
		return -1;
	long target = graph_block_arg(c, g, c->args->argv[2], "export");
	if (target < 0)
		return -1;
	size_t n;
	bool truncated;
	struct ref *refs = backrefs_find(g, (uint32_t)target, depth, limit, &n, &truncated);
	struct strbuf out = STRBUF_INIT;
	backrefs_dot(g, refs, n, (uint32_t)target, &out);
	int ret = savefile_write(path, out.buf, out.len, 0644, force, "export", &c->err);
	if (ret == 0) {
		c->result = written(EXPORT_DOT, path, n, out.len);
		jv_set(c->result, "block", jv_addr(g->addr[target]));
		jv_set(c->result, "truncated", jv_bool(truncated));
	}
	free(refs);
	strbuf_release(&out);
	return ret;
}

static int cmd_export_exec(struct cmd_ctx *c)
{
	enum export_format f;
	const char *path = c->args->argv[1];
	bool force = cmd_has(c->args, "--force");
	if (export_format_parse(c->args->argv[0], &f, &c->err) < 0)
		return -1;
	bool timeline = f == EXPORT_MASSIF || f == EXPORT_SVG_TIMELINE;
	if (timeline && c->args->argc > 2)
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "export: %s takes no snapshot: it writes them all",
				      export_format_names[f]);
	if (f == EXPORT_DOT && c->args->argc != 3)
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "export: dot takes one address, of the block whose referrers it draws");
	if (f != EXPORT_DOT && (cmd_optval(c->args, "--depth") || cmd_optval(c->args, "--limit")))
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "export: --depth and --limit are for dot");
	/* Refuse the file before stopping the process for a set that could not be written. */
	if (savefile_check(path, force, "export", &c->err) < 0)
		return -1;
	if (timeline)
		return export_timeline(c, f, path, force);
	if (f == EXPORT_DOT)
		return export_dot(c, path, force);
	const char *base_name = c->args->argc == 4 ? c->args->argv[2] : NULL;
	const char *set_name = c->args->argc == 4 ? c->args->argv[3] : c->args->argc == 3 ? c->args->argv[2] : "now";

	struct by_stack ta = { 0 }, tb = { 0 };
	const struct by_stack *a = NULL, *b = NULL;
	struct sym *sym = NULL;
	if ((!base_name || (a = by_stack_named(c, base_name, &ta))) && (b = by_stack_named(c, set_name, &tb)))
		sym = session_sym(c->s, &c->err);
	int ret = -1;
	struct strbuf out = STRBUF_INIT;
	if (!sym)
		goto out;
	struct strbuf comment = STRBUF_INIT;
	if (a)
		strbuf_addf(&comment, "mlyze: live blocks of '%s' less those of '%s'", set_name, base_name);
	else
		strbuf_addf(&comment, "mlyze: live blocks of '%s'", set_name);
	/* Folded stacks have nowhere to say it: the command's result does (CMD_ESTIMATES). */
	if (liveset_estimated(&c->s->live))
		strbuf_addf(&comment, "; values are estimates from byte sampling with mean %llu bytes: a recorded "
			    "block of s bytes counts 1/p times, p = 1 - exp(-s/mean)",
			    (unsigned long long)c->s->live.estimated_mean);
	struct export_set in = { sym, &c->s->live.stacks, a, b, strbuf_str(&comment), &c->s->keys.alloc_fns };
	size_t records;
	ret = export_encode(f, &in, &out, &records, &c->err);
	strbuf_release(&comment);
	if (ret == 0)
		ret = savefile_write(path, out.buf, out.len, 0644, force, "export", &c->err);
	if (ret < 0)
		goto out;

	bool untraced = by_stack_untraced_comparable(a, b);
	int64_t cb, bb, ca = 0, ba = 0;
	by_stack_totals(b, untraced, &cb, &bb);
	if (a)
		by_stack_totals(a, untraced, &ca, &ba);
	struct jv *r = written(f, path, records, out.len);
	jv_set(r, "snapshot", jv_string(set_name));
	jv_set(r, "base", a ? jv_string(base_name) : jv_null());
	jv_set(r, "blocks", jv_int(cb - ca));
	jv_set(r, "bytes", jv_int(bb - ba));
	/* Blocks allocated before attach count only when the sets walked the heap. */
	jv_set(r, "untraced", jv_bool(untraced));
	c->result = r;
out:
	strbuf_release(&out);
	by_stack_release(&ta);
	by_stack_release(&tb);
	return ret;
}

/* What a format's records are, for the text line. */
static const char *record_noun(const char *format)
{
	if (!strcmp(format, "folded"))
		return "lines";
	if (!strcmp(format, "pprof"))
		return "samples";
	if (!strcmp(format, "massif"))
		return "snapshots";
	if (!strcmp(format, "svg-timeline"))
		return "points";
	if (!strcmp(format, "dot"))
		return "referrers";
	return "frames";
}

static void cmd_export_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	bool diff = jv_get_str(r, "base", NULL) != NULL;
	strbuf_addstr(out, "wrote ");
	if (!jv_get_str(r, "snapshot", NULL)) { /* the timeline's and dot's: what they hold is in the file */
		strbuf_add_escaped(out, jv_get_str(r, "file", ""));
		strbuf_addf(out, " (%s, %" PRId64 " bytes): %" PRId64 " %s\n", jv_get_str(r, "format", ""),
			    jv_get_int(r, "bytes_written", 0), jv_get_int(r, "records", 0),
			    record_noun(jv_get_str(r, "format", "")));
		return;
	}
	strbuf_add_escaped(out, jv_get_str(r, "file", ""));
	strbuf_addf(out, " (%s, %" PRId64 " bytes): %" PRId64 " %s, ", jv_get_str(r, "format", ""),
		    jv_get_int(r, "bytes_written", 0), jv_get_int(r, "records", 0),
		    record_noun(jv_get_str(r, "format", "")));
	strbuf_addf(out, diff ? "%+" PRId64 " bytes in %+" PRId64 " blocks from " : "%" PRId64 " bytes in %" PRId64 " blocks of ",
		    jv_get_int(r, "bytes", 0), jv_get_int(r, "blocks", 0));
	if (diff) {
		strbuf_add_escaped(out, jv_get_str(r, "base", ""));
		strbuf_addstr(out, " to ");
	}
	strbuf_add_escaped(out, jv_get_str(r, "snapshot", ""));
	strbuf_addch(out, '\n');
}

static const struct cmd_opt opts[] = {
	{ "--force", NULL, "replace FILE if it exists (never a symbolic link)" },
	{ "--depth", "N", "dot: follow referrers of referrers up to N steps (default 1)" },
	{ "--limit", "N", "dot: at most N referrers (default 50, 0 for all)" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.usage = "export folded|pprof|svg|massif|svg-timeline|dot FILE [SNAPSHOT | A B | ADDR] [--depth N] [--limit N] [--force]",
	.summary = "write the live blocks, B less A, the timeline or a block's referrers for other tools (folded, pprof, svg, massif, svg-timeline, dot)",
	.help = "Writes to FILE, for other tools to read. The live blocks by allocation stack: 'folded' is one "
		"line per stack, outermost frame first, 'main;parse;leaf BYTES' (flamegraph.pl, inferno, "
		"speedscope); 'pprof' is a gzipped profile.proto with the sample types inuse_objects and "
		"inuse_space, functions with file and line, inlined frames, and the modules with their build-ids "
		"('go tool pprof FILE'); 'svg' is an icicle graph in one SVG file that any browser opens, each "
		"frame as wide as its bytes, with its function, file:line, bytes and share shown on hover, and "
		"zoomed into on a click. "
		"Stacks start at the allocation site, as 'top' groups them: the allocator's "
		"own frames are left out; blocks from before attach count under '<before attach>'. Without "
		"SNAPSHOT it takes the live set now (as 'top'); with two snapshots A B it writes B less A: pprof "
		"values may be negative, folded lines carry both figures, 'STACK A_BYTES B_BYTES' "
		"(flamegraph.pl's differential form), and in svg each frame is as wide as its stacks' change, red "
		"where they grew, blue where they shrank. A frame without a function is 'module+0xOFFSET' or "
		"'0xADDRESS'; in folded, a ';' or control byte in a name becomes '?'. The timeline, every snapshot "
		"and mark (see 'timeline'): 'massif' is valgrind massif's out format ('ms_print FILE'), one massif "
		"snapshot per snapshot (its traced blocks as a detailed tree) and mark (empty), and the peak of "
		"traced bytes ('peak') as massif's peak snapshot; blocks from before attach are left out, having "
		"no stack and no time; 'svg-timeline' is a line chart of the heap in use, the live bytes and the "
		"RSS against time. 'dot' writes the referrers of the block at ADDR as 'backrefs ADDR --dot' does, "
		"a Graphviz digraph ('dot -Tsvg FILE'). FILE is written as a new "
		"file of mode 0644 next to it and renamed into place when complete; an existing FILE is replaced "
		"only with --force, a symbolic link never.",
	.opts = opts,
	.min_args = 2,
	.max_args = 4,
	.flags = CMD_ESTIMATES,
	.exec = cmd_export_exec,
	.text = cmd_export_text,
};
