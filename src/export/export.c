// SPDX-License-Identifier: GPL-3.0-or-later
/* export.c - the export formats by name, the records both encoders read, and frame names. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "export_internal.h"
#include "group.h"
#include "sym.h"

const char *const export_format_names[EXPORT_NFORMATS] = { "folded", "pprof", "svg", "massif", "svg-timeline", "dot" };

int export_format_parse(const char *word, enum export_format *f, struct mlz_err *err)
{
	for (int i = 0; i < EXPORT_NFORMATS; i++) {
		if (!strcmp(word, export_format_names[i])) {
			*f = (enum export_format)i;
			return 0;
		}
	}
	return mlz_error_kind(err, MLZ_E_USAGE, "export: unknown format '%s' (folded, pprof, svg, massif, svg-timeline or dot)", word);
}

static size_t nstacks(const struct export_set *in)
{
	size_t a = in->base ? in->base->n : 0;
	return in->set->n > a ? in->set->n : a;
}

size_t export_nrecords(const struct export_set *in)
{
	return nstacks(in) + (by_stack_untraced_comparable(in->base, in->set) ? UNTRACED_CLASSES : 0);
}

bool export_value(const struct export_set *in, size_t i, struct export_value *v, uint32_t *stack, unsigned *cls)
{
	size_t ns = nstacks(in);
	struct stack_live la = { 0 }, lb = { 0 };
	if (i < ns) {
		if (in->base && i < in->base->n)
			la = in->base->v[i];
		if (i < in->set->n)
			lb = in->set->v[i];
		*stack = (uint32_t)i;
	} else {
		if (in->base)
			la = in->base->untraced[i - ns];
		lb = in->set->untraced[i - ns];
		*stack = EXPORT_UNTRACED;
		*cls = (unsigned)(i - ns);
	}
	*v = (struct export_value){ (int64_t)la.count, (int64_t)la.bytes, (int64_t)lb.count, (int64_t)lb.bytes };
	return la.count || lb.count || la.bytes || lb.bytes;
}

const char *export_frame_name(const struct sym_pc *r, const struct sym_frame *f, char *buf, size_t len)
{
	if (f->function)
		return f->function;
	if (r->module)
		snprintf(buf, len, "%s+0x%" PRIx64, r->module, r->module_offset);
	else
		snprintf(buf, len, "0x%" PRIx64, r->pc);
	return buf;
}

int export_encode(enum export_format f, const struct export_set *in, struct strbuf *out, size_t *records,
		  struct mlz_err *err)
{
	*records = 0;
	switch (f) {
	case EXPORT_FOLDED:
		return export_folded(in, out, records);
	case EXPORT_PPROF:
		return export_pprof(in, out, records, err);
	case EXPORT_SVG:
		return export_svg(in, out, records);
	default:
		BUG("export format %d does not encode a set", (int)f);
	}
}
