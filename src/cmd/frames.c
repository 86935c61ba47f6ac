// SPDX-License-Identifier: GPL-3.0-or-later
/* frames.c - stack frames as JSON and as gdb-like text lines, shared by `bt` and `threads`. */
#include <inttypes.h>
#include <string.h>

#include "frames.h"
#include "jv.h"
#include "strbuf.h"
#include "sym.h"

void frames_to_jv(struct sym *sym, const uint64_t *pcs, const bool *caller, int n, struct jv *frames)
{
	for (int i = 0; i < n; i++) {
		const struct sym_pc *r = sym_lookup(sym, pcs[i], caller ? caller[i] : i > 0);
		for (size_t k = 0; k < r->nframes; k++) {
			const struct sym_frame *f = &r->frames[k];
			struct jv *o = jv_push(frames, jv_object());
			jv_set(o, "pc", jv_addr(pcs[i]));
			jv_set(o, "function", jv_string(f->function));
			jv_set(o, "file", jv_string(f->file));
			jv_set(o, "line", f->line ? jv_int(f->line) : jv_null());
			jv_set(o, "module", jv_string(r->module));
			jv_set(o, "module_offset", jv_addr(r->module_offset));
			if (f->inlined)
				jv_set(o, "inlined", jv_bool(true));
		}
	}
}

static const char *base(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

void frame_text(const struct jv *f, struct strbuf *out)
{
	const char *fn = jv_get_str(f, "function", NULL);
	const char *file = jv_get_str(f, "file", NULL);
	const char *mod = jv_get_str(f, "module", NULL);
	strbuf_addf(out, "%-18s ", jv_get_str(f, "pc", "?"));
	if (jv_get(f, "inlined"))
		strbuf_addstr(out, "[inlined] ");
	strbuf_add_escaped(out, fn ? fn : "??");
	if (file) {
		strbuf_addstr(out, " at ");
		strbuf_add_escaped(out, base(file));
		strbuf_addf(out, ":%" PRId64, jv_get_int(f, "line", 0));
	} else if (mod && fn) {
		strbuf_addstr(out, " from ");
		strbuf_add_escaped(out, mod);
	} else if (mod) {
		strbuf_addstr(out, " (");
		strbuf_add_escaped(out, mod);
		strbuf_addf(out, "+%s)", jv_get_str(f, "module_offset", "?"));
	}
	strbuf_addch(out, '\n');
}
