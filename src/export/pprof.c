// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * pprof.c - the live set as a pprof profile (github.com/google/pprof,
 * proto/profile.proto), gzipped as `go tool pprof` reads it: samples of
 * inuse_objects and inuse_space per stack, each PC a Location whose Lines are
 * its inlined frames innermost first, Functions with their files, and the
 * modules as Mappings with their build-ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "export_internal.h"
#include "group.h"
#include "pb.h"
#include "strbuf.h"
#include "sym.h"
#include "u64map.h"
#include "xalloc.h"

/* Field numbers of profile.proto. */
enum {
	PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_COMMENT = 13, PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUETYPE_TYPE = 1, VALUETYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3,
	LABEL_KEY = 1, LABEL_STR = 2,
	MAPPING_ID = 1, MAPPING_START = 2, MAPPING_LIMIT = 3, MAPPING_OFFSET = 4, MAPPING_FILENAME = 5,
	MAPPING_BUILD_ID = 6, MAPPING_HAS_FUNCTIONS = 7, MAPPING_HAS_FILENAMES = 8, MAPPING_HAS_LINE_NUMBERS = 9,
	MAPPING_HAS_INLINE_FRAMES = 10,
	LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1, LINE_LINE = 2,
	FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4,
};

/* Strings by index, deduplicated: the string table, and function keys. */
struct strtab {
	char **v;
	size_t n, alloc;
	uint32_t *index; /* open addressing over index + 1 */
	size_t cap;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void strtab_index(struct strtab *t, uint32_t i)
{
	size_t k = hash_str(t->v[i]) & (t->cap - 1);
	while (t->index[k])
		k = (k + 1) & (t->cap - 1);
	t->index[k] = i + 1;
}

/* The index of s, added on first sight; *added tells which. */
static uint32_t strtab_intern(struct strtab *t, const char *s, bool *added)
{
	*added = false;
	if (t->cap) {
		for (size_t k = hash_str(s) & (t->cap - 1); t->index[k]; k = (k + 1) & (t->cap - 1))
			if (!strcmp(t->v[t->index[k] - 1], s))
				return t->index[k] - 1;
	}
	*added = true;
	ALLOC_GROW(t->v, t->n + 1, t->alloc);
	uint32_t i = (uint32_t)t->n++;
	t->v[i] = xstrdup(s);
	if (t->n * 2 > t->cap) {
		free(t->index);
		t->cap = t->cap ? t->cap * 2 : 256;
		t->index = xcalloc(t->cap, sizeof(*t->index));
		for (uint32_t k = 0; k < t->n; k++)
			strtab_index(t, k);
	} else {
		strtab_index(t, i);
	}
	return i;
}

static void strtab_release(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->index);
}

struct mapping {
	uint64_t start, end;
	uint32_t file, build_id; /* string indices */
	bool functions, filenames, lines; /* every location in it has them */
};

struct pprof {
	const struct export_set *in;
	struct strtab strs;
	struct strtab funcs;     /* "name\x1ffile" -> function id - 1 */
	struct u64map locs;      /* location key -> location id */
	uint64_t nlocs;
	struct mapping *maps;
	size_t nmaps, maps_alloc;
	struct u64map map_of;    /* module start -> mapping id */
	struct strbuf samples, locations, functions; /* encoded messages, each with its field key */
	struct strbuf sub, line;
	uint64_t *ids;           /* location ids of the sample being built, leaf first */
	size_t nids, ids_alloc;
	const struct sym_pc *cur; /* the PC whose frames are arriving */
};

static uint32_t str(struct pprof *p, const char *s)
{
	bool added;
	return strtab_intern(&p->strs, s, &added);
}

static uint64_t function_id(struct pprof *p, const char *name, const char *file)
{
	char *key = xasprintf("%s\x1f%s", name, file);
	bool added;
	uint64_t id = strtab_intern(&p->funcs, key, &added) + 1;
	free(key);
	if (added) {
		pb_uint64(&p->sub, FUNCTION_ID, id);
		pb_uint64(&p->sub, FUNCTION_NAME, str(p, name));
		pb_uint64(&p->sub, FUNCTION_SYSTEM_NAME, str(p, name)); /* mlyze keeps only the demangled name */
		if (*file)
			pb_uint64(&p->sub, FUNCTION_FILENAME, str(p, file));
		pb_message(&p->functions, PROFILE_FUNCTION, &p->sub);
	}
	return id;
}

/* The mapping of the module of r, 0 for none. */
static uint64_t mapping_id(struct pprof *p, const struct sym_pc *r)
{
	struct sym_module m;
	if (!sym_pc_module(p->in->sym, r, &m))
		return 0;
	uint64_t id;
	if (u64map_get(&p->map_of, m.start, &id))
		return id;
	ALLOC_GROW(p->maps, p->nmaps + 1, p->maps_alloc);
	p->maps[p->nmaps++] = (struct mapping){
		.start = m.start, .end = m.end, .file = str(p, m.path), .build_id = str(p, m.build_id),
		.functions = true, .filenames = true, .lines = true,
	};
	u64map_put(&p->map_of, m.start, p->nmaps);
	return p->nmaps;
}

/*
 * A Location per PC and first frame kept (a PC inside the allocator may be
 * cut short in one stack only): its Lines are the frames from there on,
 * innermost first, as profile.proto has inlined functions. Its address is
 * the one the frames were looked up at: a return address less one.
 */
static uint64_t location_id(struct pprof *p, const struct sym_pc *r, size_t first)
{
	uint64_t kept = first < 0x7fff ? first : 0x7fff;
	uint64_t key = r->pc | (uint64_t)r->caller << 63 | kept << 48;
	uint64_t id;
	if (u64map_get(&p->locs, key, &id))
		return id;
	id = ++p->nlocs;
	u64map_put(&p->locs, key, id);
	uint64_t addr = r->caller && r->pc ? r->pc - 1 : r->pc;
	uint64_t map = mapping_id(p, r);
	struct mapping *m = map ? &p->maps[map - 1] : NULL;
	struct strbuf loc = STRBUF_INIT;
	pb_uint64(&loc, LOCATION_ID, id);
	if (map)
		pb_uint64(&loc, LOCATION_MAPPING_ID, map);
	pb_uint64(&loc, LOCATION_ADDRESS, addr);
	for (size_t k = first; k < r->nframes; k++) {
		const struct sym_frame *f = &r->frames[k];
		char buf[64];
		pb_uint64(&p->line, LINE_FUNCTION_ID,
			  function_id(p, export_frame_name(r, f, buf, sizeof(buf)), f->file ? f->file : ""));
		if (f->line > 0)
			pb_int64(&p->line, LINE_LINE, f->line);
		pb_message(&loc, LOCATION_LINE, &p->line);
		if (m) {
			m->functions &= f->function != NULL;
			m->filenames &= f->file != NULL;
			m->lines &= f->line > 0;
		}
	}
	pb_message(&p->locations, PROFILE_LOCATION, &loc);
	strbuf_release(&loc);
	return id;
}

static bool add_frame(void *arg, const struct sym_pc *r, const struct sym_frame *f)
{
	struct pprof *p = arg;
	if (r == p->cur)
		return true; /* its Location holds this frame already */
	p->cur = r;
	ALLOC_GROW(p->ids, p->nids + 1, p->ids_alloc);
	p->ids[p->nids++] = location_id(p, r, (size_t)(f - r->frames));
	return true;
}

/* The one Location of blocks without a stack. */
static uint64_t untraced_location(struct pprof *p)
{
	const uint64_t key = 1; /* no PC is 1 with those flags: key 1 is free */
	uint64_t id;
	if (u64map_get(&p->locs, key, &id))
		return id;
	id = ++p->nlocs;
	u64map_put(&p->locs, key, id);
	struct strbuf loc = STRBUF_INIT;
	pb_uint64(&loc, LOCATION_ID, id);
	pb_uint64(&p->line, LINE_FUNCTION_ID, function_id(p, UNTRACED_NAME, ""));
	pb_message(&loc, LOCATION_LINE, &p->line);
	pb_message(&p->locations, PROFILE_LOCATION, &loc);
	strbuf_release(&loc);
	return id;
}

static void add_sample(struct pprof *p, const struct export_value *v, uint32_t stack, unsigned cls)
{
	p->nids = 0;
	p->cur = NULL;
	if (stack == EXPORT_UNTRACED) {
		ALLOC_GROW(p->ids, 1, p->ids_alloc);
		p->ids[p->nids++] = untraced_location(p);
	} else {
		stack_site_frames(p->in->sym, p->in->stacks, stack, p->in->alloc_fns, add_frame, p);
	}
	struct strbuf s = STRBUF_INIT;
	pb_packed_uint64(&s, SAMPLE_LOCATION_ID, p->ids, p->nids);
	int64_t values[2] = { v->count_b - v->count_a, v->bytes_b - v->bytes_a };
	pb_packed_int64(&s, SAMPLE_VALUE, values, 2);
	if (stack == EXPORT_UNTRACED) { /* which sizes, as `top` shows them */
		char label[48];
		untraced_class_label(cls, label, sizeof(label));
		pb_uint64(&p->sub, LABEL_KEY, str(p, "size_class"));
		pb_uint64(&p->sub, LABEL_STR, str(p, label));
		pb_message(&s, SAMPLE_LABEL, &p->sub);
	}
	pb_message(&p->samples, PROFILE_SAMPLE, &s);
	strbuf_release(&s);
}

static void value_type(struct pprof *p, struct strbuf *out, uint32_t field, const char *type, const char *unit)
{
	pb_uint64(&p->sub, VALUETYPE_TYPE, str(p, type));
	pb_uint64(&p->sub, VALUETYPE_UNIT, str(p, unit));
	pb_message(out, field, &p->sub);
}

static void append(struct strbuf *out, const struct strbuf *part)
{
	if (part->len) /* an empty one may have no buffer at all */
		strbuf_add(out, part->buf, part->len);
}

int export_pprof(const struct export_set *in, struct strbuf *out, size_t *records, struct mlz_err *err)
{
	struct pprof p = { .in = in };
	struct strbuf prof = STRBUF_INIT;
	str(&p, ""); /* string_table[0] must be "" */
	value_type(&p, &prof, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(&p, &prof, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");

	size_t n = export_nrecords(in);
	for (size_t i = 0; i < n; i++) {
		struct export_value v;
		uint32_t stack;
		unsigned cls = 0;
		if (!export_value(in, i, &v, &stack, &cls))
			continue;
		if (v.count_a == v.count_b && v.bytes_a == v.bytes_b)
			continue; /* nothing changed (with a base) */
		add_sample(&p, &v, stack, cls);
		(*records)++;
	}

	for (size_t i = 0; i < p.nmaps; i++) {
		const struct mapping *m = &p.maps[i];
		pb_uint64(&p.sub, MAPPING_ID, i + 1);
		pb_uint64(&p.sub, MAPPING_START, m->start);
		pb_uint64(&p.sub, MAPPING_LIMIT, m->end);
		pb_uint64(&p.sub, MAPPING_OFFSET, 0); /* the module is mapped from its file's start */
		pb_uint64(&p.sub, MAPPING_FILENAME, m->file);
		if (m->build_id)
			pb_uint64(&p.sub, MAPPING_BUILD_ID, m->build_id);
		pb_bool(&p.sub, MAPPING_HAS_FUNCTIONS, m->functions);
		pb_bool(&p.sub, MAPPING_HAS_FILENAMES, m->filenames);
		pb_bool(&p.sub, MAPPING_HAS_LINE_NUMBERS, m->lines);
		pb_bool(&p.sub, MAPPING_HAS_INLINE_FRAMES, m->functions && m->lines);
		pb_message(&prof, PROFILE_MAPPING, &p.sub);
	}
	append(&prof, &p.samples);
	append(&prof, &p.locations);
	append(&prof, &p.functions);
	uint64_t comment = in->comment ? str(&p, in->comment) : 0;
	uint64_t def = str(&p, "inuse_space");
	if (comment)
		pb_uint64(&prof, PROFILE_COMMENT, comment);
	pb_uint64(&prof, PROFILE_DEFAULT_SAMPLE_TYPE, def);
	for (size_t i = 0; i < p.strs.n; i++)
		pb_string(&prof, PROFILE_STRING_TABLE, p.strs.v[i]);

	int ret = gzip_encode(prof.buf, prof.len, out, err);
	strbuf_release(&prof);
	strbuf_release(&p.samples);
	strbuf_release(&p.locations);
	strbuf_release(&p.functions);
	strbuf_release(&p.sub);
	strbuf_release(&p.line);
	strtab_release(&p.strs);
	strtab_release(&p.funcs);
	u64map_release(&p.locs);
	u64map_release(&p.map_of);
	free(p.maps);
	free(p.ids);
	return ret;
}
