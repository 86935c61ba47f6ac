// SPDX-License-Identifier: GPL-3.0-or-later
/* leak-stack.c - an allocation's stack as memcheck shows it: from the function the program called. */
#include <stdlib.h>
#include <string.h>

#include "group.h"
#include "jv.h"
#include "render.h"
#include "suppress.h"
#include "sym.h"
#include "xalloc.h"

/*
 * glibc's entry points are named by their internal aliases ("__GI___libc_malloc",
 * "__libc_calloc", "__posix_memalign"); memcheck names the function the
 * program called. The entry is the first PC of every traced stack.
 */
static const char *entry_name(const char *fn)
{
	static const char *const prefixes[] = { "__GI_", "__libc_", "__" };
	if (!fn)
		return NULL;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(fn, prefixes[i], strlen(prefixes[i])) && fn[strlen(prefixes[i])])
			fn += strlen(prefixes[i]);
	return fn;
}

/*
 * The first PC to show: the allocator's entry, or an operator new further
 * out that called it (memcheck replaces operator new itself, so its records
 * start there).
 */
static int view_start(struct sym *sym, const uint64_t *pcs, int depth)
{
	int start = 0;
	for (int i = 1; i < depth && i < 4; i++) {
		const struct sym_pc *r = sym_lookup(sym, pcs[i], true);
		const char *m = r->module ? r->module : "";
		if (strncmp(m, "libc.so", 7) && strncmp(m, "libstdc++", 9))
			break;
		for (size_t k = 0; k < r->nframes; k++)
			if (r->frames[k].function && !strncmp(r->frames[k].function, "operator new", 12))
				start = i;
	}
	return start;
}

static const char *frame_function(const struct sym_pc *r, size_t k, bool entry)
{
	const char *fn = r->frames[k].function;
	return entry && !strncmp(r->module ? r->module : "", "libc.so", 7) ? entry_name(fn) : fn;
}

void leak_stack_jv(struct sym *sym, const uint64_t *pcs, int depth, struct jv *arr)
{
	int start = view_start(sym, pcs, depth);
	for (int i = start; i < depth; i++) {
		const struct sym_pc *r = sym_lookup(sym, pcs[i], i > 0);
		for (size_t k = 0; k < r->nframes; k++) {
			struct jv *f = jv_push(arr, jv_object());
			jv_set(f, "pc", jv_addr(pcs[i]));
			jv_set(f, "function", jv_string(frame_function(r, k, i == 0)));
			jv_set(f, "file", jv_string(r->frames[k].file));
			jv_set(f, "line", r->frames[k].line ? jv_int(r->frames[k].line) : jv_null());
			jv_set(f, "module", jv_string(r->module));
			if (!r->frames[k].function)
				jv_set(f, "module_offset", jv_addr(r->module_offset));
			jv_set(f, "inlined", jv_bool(r->frames[k].inlined));
		}
	}
}

size_t leak_stack_supp_frames(struct sym *sym, const uint64_t *pcs, int depth, struct supp_frame **out)
{
	int start = view_start(sym, pcs, depth);
	size_t n = 0, alloc = 0;
	struct supp_frame *v = NULL;
	for (int i = start; i < depth; i++) {
		const struct sym_pc *r = sym_lookup(sym, pcs[i], i > 0);
		struct sym_module m;
		const char *obj = sym_module_at(sym, pcs[i], &m) ? m.path : r->module;
		for (size_t k = 0; k < r->nframes; k++) {
			ALLOC_GROW(v, n + 1, alloc);
			v[n++] = (struct supp_frame){ .fun = frame_function(r, k, i == 0), .obj = obj,
						      .file = r->frames[k].file, .line = r->frames[k].line };
		}
	}
	*out = v;
	return n;
}
