// SPDX-License-Identifier: GPL-3.0-or-later
/* frames.c - stack frames as JSON and as gdb-like text lines, shared by `bt` and `threads`. */
#include <inttypes.h>

#include "frames.h"
#include "jv.h"
#include "strbuf.h"
#include "sym.h"
#include "where.h"

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

void frame_text(const struct jv *f, struct strbuf *out)
{
	strbuf_addf(out, "%-18s ", jv_get_str(f, "pc", "?"));
	if (jv_get(f, "inlined"))
		strbuf_addstr(out, "[inlined] ");
	where_text_jv(f, out);
	strbuf_addch(out, '\n');
}
