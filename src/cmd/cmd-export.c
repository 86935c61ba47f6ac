// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-export.c - `export FORMAT FILE [SNAPSHOT | A B]`: the live set, a snapshot or a difference as folded stacks or a pprof profile. */
#include <inttypes.h>
#include <string.h>

#include "cmd.h"
#include "export.h"
#include "grouping.h"
#include "jv.h"
#include "savefile.h"
#include "liveset.h"
#include "session.h"
#include "strbuf.h"

static int cmd_export_exec(struct cmd_ctx *c)
{
	enum export_format f;
	const char *path = c->args->argv[1];
	bool force = cmd_has(c->args, "--force");
	if (export_format_parse(c->args->argv[0], &f, &c->err) < 0)
		return -1;
	/* Refuse the file before stopping the process for a set that could not be written. */
	if (savefile_check(path, force, "export", &c->err) < 0)
		return -1;
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
	struct export_set in = { sym, &c->s->live.stacks, a, b, strbuf_str(&comment) };
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
	struct jv *r = jv_object();
	jv_set(r, "format", jv_string(export_format_names[f]));
	jv_set(r, "file", jv_string(path));
	jv_set(r, "snapshot", jv_string(set_name));
	jv_set(r, "base", a ? jv_string(base_name) : jv_null());
	jv_set(r, "records", jv_int((int64_t)records));
	jv_set(r, "bytes_written", jv_int((int64_t)out.len));
	jv_set(r, "count", jv_int(cb - ca));
	jv_set(r, "size", jv_int(bb - ba));
	/* Blocks allocated before attach count only when the sets walked the heap. */
	jv_set(r, "untraced", jv_bool(untraced));
	c->result = r;
out:
	strbuf_release(&out);
	by_stack_release(&ta);
	by_stack_release(&tb);
	return ret;
}

static void cmd_export_text(const struct jv *r, struct strbuf *out)
{
	bool diff = jv_get_str(r, "base", NULL) != NULL;
	strbuf_addstr(out, "wrote ");
	strbuf_add_escaped(out, jv_get_str(r, "file", ""));
	strbuf_addf(out, " (%s, %" PRId64 " bytes): %" PRId64 " %s, ", jv_get_str(r, "format", ""),
		    jv_get_int(r, "bytes_written", 0), jv_get_int(r, "records", 0),
		    !strcmp(jv_get_str(r, "format", ""), "folded") ? "lines" : "samples");
	strbuf_addf(out, diff ? "%+" PRId64 " bytes in %+" PRId64 " blocks from " : "%" PRId64 " bytes in %" PRId64 " blocks of ",
		    jv_get_int(r, "size", 0), jv_get_int(r, "count", 0));
	if (diff) {
		strbuf_add_escaped(out, jv_get_str(r, "base", ""));
		strbuf_addstr(out, " to ");
	}
	strbuf_add_escaped(out, jv_get_str(r, "snapshot", ""));
	strbuf_addch(out, '\n');
}

static const struct cmd_opt opts[] = {
	{ "--force", NULL, "replace FILE if it exists (never a symbolic link)" },
	{ NULL, NULL, NULL },
};

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.usage = "export folded|pprof FILE [SNAPSHOT | A B] [--force]",
	.summary = "write the live blocks now, a snapshot, or B less A as folded stacks or a pprof profile",
	.help = "Writes the live blocks by allocation stack to FILE, for other tools to read. 'folded' is one "
		"line per stack, outermost frame first, 'main;parse;leaf BYTES' (flamegraph.pl, inferno, "
		"speedscope); 'pprof' is a gzipped profile.proto with the sample types inuse_objects and "
		"inuse_space, functions with file and line, inlined frames, and the modules with their build-ids "
		"('go tool pprof FILE'). Stacks start at the allocation site, as 'top' groups them: the allocator's "
		"own frames are left out; blocks from before attach count under '<before attach>'. Without "
		"SNAPSHOT it takes the live set now (as 'top'); with two snapshots A B it writes B less A: pprof "
		"values may be negative, folded lines carry both figures, 'STACK A_BYTES B_BYTES' "
		"(flamegraph.pl's differential form). A frame without a function is 'module+0xOFFSET' or "
		"'0xADDRESS'; in folded, a ';' or control byte in a name becomes '?'. FILE is written as a new "
		"file of mode 0644 next to it and renamed into place when complete; an existing FILE is replaced "
		"only with --force, a symbolic link never.",
	.opts = opts,
	.min_args = 2,
	.max_args = 4,
	.flags = CMD_ESTIMATES,
	.exec = cmd_export_exec,
	.text = cmd_export_text,
};
