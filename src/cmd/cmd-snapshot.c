// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-snapshot.c - `snapshot [NAME]`: keep the live set, its totals and the process RSS. */
#include <inttypes.h>

#include "clock.h"
#include "cmd.h"
#include "grouping.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "snapshot.h"
#include "strbuf.h"
#include "target.h"
#include "liveset.h"
#include "record.h"

struct jv *snapshot_jv(const struct snapshot *s)
{
	struct jv *o = jv_object();
	jv_set(o, "name", jv_string(s->name));
	jv_set(o, "seconds", jv_double(s->tick * (CLOCK_TICK_MS / 1000.0)));
	jv_set(o, "blocks", jv_int((int64_t)s->by.count));
	jv_set(o, "bytes", jv_int((int64_t)s->by.bytes));
	uint64_t ucount = 0, ubytes = 0;
	for (int i = 0; i < UNTRACED_CLASSES; i++) {
		ucount += s->by.untraced[i].count;
		ubytes += s->by.untraced[i].bytes;
	}
	jv_set(o, "untraced_blocks", jv_int((int64_t)ucount));
	jv_set(o, "untraced_bytes", jv_int((int64_t)ubytes));
	jv_set(o, "heap_walked", jv_bool(s->by.walked));
	if (s->walked.note[0])
		jv_set(o, "heap_note", jv_string(s->walked.note));
	jv_set(o, "stopped_ms", jv_double(s->walked.stopped_ms));
	jv_set(o, "heap_in_use", s->walked.heap.known ? jv_int((int64_t)s->walked.heap.in_use) : jv_null());
	jv_set(o, "heap_free", s->walked.heap.known ? jv_int((int64_t)s->walked.heap.free) : jv_null());
	jv_set(o, "mmapped", s->walked.heap.known ? jv_int((int64_t)s->walked.heap.mmapped) : jv_null());
	jv_set(o, "rss", s->rss >= 0 ? jv_int(s->rss) : jv_null());
	jv_set(o, "events", jv_int((int64_t)s->seq));
	if (s->file) { /* loaded: where from, and where it was taken */
		jv_set(o, "file", jv_string(s->file));
		struct jv *src = jv_set(o, "source", jv_object());
		jv_set(src, "kind", jv_string(s->src->kind));
		jv_set(src, "pid", s->src->pid ? jv_int(s->src->pid) : jv_null());
		jv_set(src, "exe", jv_string(s->src->exe));
		jv_set(src, "core", jv_string(s->src->core_file));
		jv_set(src, "host", jv_string(s->src->host));
		jv_set(src, "saved_at", jv_int(s->src->saved_at));
	}
	jv_set(o, "types", jv_bool(s->by_type != NULL));
	return o;
}

void snapshot_text_line(const struct jv *o, unsigned sz, struct strbuf *out)
{
	char b1[32], b2[32];
	size_t at = out->len;
	strbuf_add_escaped(out, jv_get_str(o, "name", ""));
	while (out->len - at < 12)
		strbuf_addch(out, ' ');
	strbuf_addf(out, " %8.1f s %10" PRId64 " blocks %14s%s", jv_get(o, "seconds")->u.d, jv_get_int(o, "blocks", 0),
		    size_str(b1, jv_get_int(o, "bytes", 0), sz), sz & SIZE_EXACT ? " bytes" : "");
	if (jv_get(o, "rss")->kind == JV_INT)
		strbuf_addf(out, "   RSS %s%s", size_str(b2, jv_get_int(o, "rss", 0), sz), sz & SIZE_EXACT ? " bytes" : "");
	if (jv_get_int(o, "untraced_blocks", 0))
		strbuf_addf(out, "   (%" PRId64 " from before attach)", jv_get_int(o, "untraced_blocks", 0));
	if (jv_get_str(o, "file", NULL)) {
		strbuf_addstr(out, "   from ");
		strbuf_add_escaped(out, jv_get_str(o, "file", ""));
	}
	strbuf_addch(out, '\n');
}

struct take_ctx {
	struct cmd_ctx *c;
	struct liveset *ls;
	struct untraced *u;
	int64_t rss;
	struct snapshot *taken;
	const char *name;
	bool force;
	bool types_failed;
};

static void take(void *arg)
{
	struct take_ctx *x = arg;
	x->taken = snapshot_take(&x->c->s->snaps, x->ls, x->name, x->force, x->rss, &x->c->err);
	/* at the same stop: the graph's session_pause nests in the walk's */
	if (x->taken && cmd_has(x->c->args, "--types") && !(x->taken->by_type = type_table_jv(x->c, 0, NULL)))
		x->types_failed = true;
}

const struct snapshot *snapshot_take_now(struct cmd_ctx *c, const char *name, bool force)
{
	if (!target_has_image(c->s->target) && !c->s->rec) { /* a recording has its live set */
		mlz_error(&c->err, "snapshot: no process: this session has only saved snapshots");
		return NULL;
	}
	/* before the process is stopped for nothing */
	if (name && !force && snapshot_find(&c->s->snaps, name)) {
		mlz_error_kind(&c->err, MLZ_E_USAGE, "a snapshot named '%s' exists already; --force replaces it", name);
		return NULL;
	}
	struct liveset *ls = session_live(c->s);
	struct target_facts f;
	target_facts(c->s->target, &f);
	target_facts_release(&f);
	struct untraced u;
	struct take_ctx x = { c, ls, &u, f.rss, NULL, name, force, false };
	int r = live_set_take(c->s, &u, take, &x, &c->err);
	if (x.taken)
		snapshot_add_untraced(x.taken, &u); /* adding up per size class needs no stopped process */
	untraced_release(&u);
	return r < 0 || x.types_failed ? NULL : x.taken;
}

static int cmd_snapshot_exec(struct cmd_ctx *c)
{
	const char *name = c->args->argc ? c->args->argv[0] : NULL;
	bool force = cmd_has(c->args, "--force");
	const char *at = cmd_optval(c->args, "--at");
	uint32_t at_tick = 0;
	uint64_t at_events = 0;
	int64_t at_rss = -1;
	if (at && !c->s->rec)
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "--at needs a recording (mlyze open FILE)");
	/* before the live set is rebuilt for nothing */
	if (name && !force && snapshot_find(&c->s->snaps, name))
		return mlz_error_kind(&c->err, MLZ_E_USAGE, "a snapshot named '%s' exists already; --force replaces it",
				      name);
	double t0 = mono_ms();
	if (at && record_rebuild(c->s, at, &at_tick, &at_events, &at_rss, &c->err) < 0)
		return -1;
	struct snapshot *s = (struct snapshot *)snapshot_take_now(c, name, force);
	double ms = mono_ms() - t0; /* --at: the rebuild from the checkpoint and the copy, what the floor is about */
	if (at) {
		struct mlz_err e2;
		if (s) { /* the moment asked for, not the moment of the command */
			s->tick = at_tick;
			s->seq = at_events;
			s->rss = at_rss;
		}
		/* the live set stands for the recording's end again, as `top` and `now` expect */
		if (record_rebuild(c->s, "end", &at_tick, &at_events, &at_rss, &e2) < 0 && s)
			return mlz_error(&c->err, "%s", e2.msg);
	}
	if (!s)
		return -1;
	c->result = snapshot_jv(s);
	if (at)
		jv_set(c->result, "ms", jv_double(ms));
	return 0;
}

static void cmd_snapshot_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	snapshot_text_line(r, t->bytes ? SIZE_EXACT : 0, out);
}

static const struct cmd_opt opts[] = {
	{ "--force", NULL, "replace the snapshot NAME if there is one" },
	{ "--types", NULL, "also add its blocks up by type from DWARF, for compare --by type (builds the reference graph)" },
	{ "--at", "T", "on a recording: the live set at T, seconds from its start, 'end', 'peak' or a mark's name" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_snapshot_entry = {
	.name = "snapshot",
	.usage = "snapshot [NAME] [--force] [--types] [--at T]",
	.summary = "keep every live block under NAME (traced ones with their stacks), with the process RSS",
	.help = "Copies the set of live blocks mlyze traced since attach (address, requested size, allocation "
		"stack, thread, sequence number, time) with its totals and the process's RSS at that moment, and "
		"walks glibc's heap at the same stop for the blocks tracing has not seen (allocated before "
		"attach, or all of them with --no-trace or on a core): those are kept at 12 bytes each and "
		"grouped by usable size as '<before attach>' in top and compare. The process is stopped for "
		"the walk (about 0.1 s per million blocks). "
		"Without NAME the snapshot is called s1, s2, ... The name 'now' is reserved for the live set. "
		"Snapshots stay after the process ends; when it exits mlyze takes one named 'exit'. "
		"A NAME already taken is refused unless --force is given: then the old snapshot is dropped and "
		"the new one, taken under the same name, comes last in 'snapshots'. With --types the reference "
		"graph is built at the same stop and its blocks added up by type (as top --by type), so that "
		"compare --by type can compare the snapshot. "
		"On a recording (mlyze open FILE), --at T rebuilds the live set at T (seconds from the start of the "
		"recording, 'end', 'peak', or the name of a mark the recording holds, such as usr1-1) from the last "
		"checkpoint before it and the events after, and keeps that: the state after every event up to the "
		"first one recorded later than T (at a mark: every event recorded before the mark, the snapshot "
		"taking the mark's RSS); the live set itself stays at the recording's end.",
	.opts = opts,
	.max_args = 1,
	.flags = CMD_ESTIMATES,
	.exec = cmd_snapshot_exec,
	.text = cmd_snapshot_text,
};
