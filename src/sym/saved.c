// SPDX-License-Identifier: GPL-3.0-or-later
/* saved.c - frames and modules resolved in another session, looked up under PCs of their own. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "sym_internal.h"
#include "xalloc.h"

uint32_t sym_saved_module(struct sym *s, const char *path, const char *build_id, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < s->nmods; i++) {
		const struct saved_module *m = &s->mods[i];
		if (m->start == start && m->end == end && !strcmp(m->path, path) && !strcmp(m->build_id, build_id))
			return (uint32_t)i;
	}
	ALLOC_GROW(s->mods, s->nmods + 1, s->mods_alloc);
	struct saved_module *m = &s->mods[s->nmods];
	*m = (struct saved_module){ .path = xstrdup(path), .start = start, .end = end };
	snprintf(m->build_id, sizeof(m->build_id), "%s", build_id);
	return (uint32_t)s->nmods++;
}

static uint32_t hash_str(const char *p)
{
	uint32_t h = 2166136261u;
	for (; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

static void index_put(struct sym *s, uint32_t id)
{
	size_t i = hash_str(s->saved_keys[id]) & (s->saved_index_cap - 1);
	while (s->saved_index[i])
		i = (i + 1) & (s->saved_index_cap - 1);
	s->saved_index[i] = id + 1;
}

/* Names are C strings: \x1f and \x1e cannot come out of DWARF names or paths as separators would need. */
static char *key_of(const struct sym_pc *r, uint32_t mod)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%" PRIx64 "\x1f%d\x1f%s\x1f%" PRIx64 "\x1f%u", r->pc, r->caller, r->module ? r->module : "\x1d",
		    r->module_offset, mod);
	for (size_t i = 0; i < r->nframes; i++) {
		const struct sym_frame *f = &r->frames[i];
		strbuf_addf(&sb, "\x1e%s\x1f%s\x1f%d\x1f%d", f->function ? f->function : "\x1d", f->file ? f->file : "\x1d",
			    f->line, f->inlined);
	}
	return strbuf_detach(&sb);
}

static struct sym_pc *copy_pc(const struct sym_pc *r)
{
	struct sym_pc *c = xcalloc(1, sizeof(*c));
	c->pc = r->pc;
	c->caller = r->caller;
	c->module = r->module ? xstrdup(r->module) : NULL;
	c->module_offset = r->module_offset;
	c->nframes = r->nframes ? r->nframes : 1;
	c->frames = xcalloc(c->nframes, sizeof(*c->frames));
	for (size_t i = 0; i < r->nframes; i++) {
		const struct sym_frame *f = &r->frames[i];
		c->frames[i] = (struct sym_frame){ .function = f->function ? xstrdup(f->function) : NULL,
						   .file = f->file ? xstrdup(f->file) : NULL,
						   .line = f->line,
						   .inlined = f->inlined };
	}
	return c;
}

uint64_t sym_saved_pc(struct sym *s, const struct sym_pc *r, uint32_t mod)
{
	char *key = key_of(r, mod);
	if (s->saved_index_cap) {
		size_t cap = s->saved_index_cap;
		for (size_t i = hash_str(key) & (cap - 1); s->saved_index[i]; i = (i + 1) & (cap - 1)) {
			uint32_t id = s->saved_index[i] - 1;
			if (!strcmp(s->saved_keys[id], key)) {
				free(key);
				return SYM_SAVED_BASE + id;
			}
		}
	}
	size_t alloc = s->saved_alloc;
	ALLOC_GROW(s->saved, s->nsaved + 1, s->saved_alloc);
	if (alloc != s->saved_alloc) {
		s->saved_keys = xrealloc(s->saved_keys, s->saved_alloc * sizeof(*s->saved_keys));
		s->saved_mod = xrealloc(s->saved_mod, s->saved_alloc * sizeof(*s->saved_mod));
	}
	uint32_t id = (uint32_t)s->nsaved++;
	s->saved[id] = copy_pc(r);
	s->saved[id]->saved = true;
	s->saved[id]->saved_module = mod < s->nmods ? mod : SYM_NO_MODULE;
	s->saved_keys[id] = key;
	s->saved_mod[id] = mod < s->nmods ? mod : SYM_NO_MODULE;
	if (s->nsaved * 2 > s->saved_index_cap) {
		free(s->saved_index);
		s->saved_index_cap = s->saved_index_cap ? s->saved_index_cap * 2 : 256;
		s->saved_index = xcalloc(s->saved_index_cap, sizeof(*s->saved_index));
		for (uint32_t k = 0; k < s->nsaved; k++)
			index_put(s, k);
	} else {
		index_put(s, id);
	}
	return SYM_SAVED_BASE + id;
}

const struct sym_pc *sym_saved_lookup(struct sym *s, uint64_t pc)
{
	static struct sym_frame unknown_frame;
	static const struct sym_pc unknown = { .nframes = 1, .frames = &unknown_frame, .saved = true,
					       .saved_module = SYM_NO_MODULE };
	uint64_t id = pc - SYM_SAVED_BASE;
	return id < s->nsaved ? s->saved[id] : &unknown;
}

static bool module_of(struct sym *s, uint32_t mod, struct sym_module *m)
{
	if (mod >= s->nmods)
		return false;
	const struct saved_module *sm = &s->mods[mod];
	m->start = sm->start;
	m->end = sm->end;
	m->path = sm->path;
	memcpy(m->build_id, sm->build_id, sizeof(m->build_id));
	return true;
}

bool sym_saved_module_at(struct sym *s, uint64_t pc, struct sym_module *m)
{
	uint64_t id = pc - SYM_SAVED_BASE;
	return id < s->nsaved && module_of(s, s->saved_mod[id], m);
}

bool sym_pc_module(struct sym *s, const struct sym_pc *r, struct sym_module *m)
{
	if (r->saved)
		return module_of(s, r->saved_module, m);
	return sym_module_at(s, r->caller && r->pc ? r->pc - 1 : r->pc, m);
}

void sym_saved_release(struct sym *s)
{
	for (size_t i = 0; i < s->nsaved; i++) {
		struct sym_pc *r = s->saved[i];
		for (size_t k = 0; k < r->nframes; k++) {
			free((char *)r->frames[k].function);
			free((char *)r->frames[k].file);
		}
		free(r->frames);
		free((char *)r->module);
		free(r);
		free(s->saved_keys[i]);
	}
	free(s->saved);
	free(s->saved_keys);
	free(s->saved_mod);
	free(s->saved_index);
	for (size_t i = 0; i < s->nmods; i++)
		free(s->mods[i].path);
	free(s->mods);
	s->saved = NULL;
	s->saved_keys = NULL;
	s->saved_mod = NULL;
	s->saved_index = NULL;
	s->mods = NULL;
	s->nsaved = s->saved_alloc = s->saved_index_cap = s->nmods = s->mods_alloc = 0;
}
