// SPDX-License-Identifier: GPL-3.0-or-later
/* fields.c - a typed block's fields by name with their values, as gdb prints them, pointers followed one level. */
#include <dwarf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "jv.h"
#include "target.h"
#include "types_internal.h"
#include "xalloc.h"

#define MAX_FIELDS 256       /* fields listed per block */
#define MAX_ELEMENTS 64      /* elements of a block that holds an array of its type */
#define MAX_NUMBERS 16       /* numbers of an array field shown before "..." */
#define MAX_STRING 200       /* characters of a string shown */
#define MAX_READ (64 * 1024) /* bytes of a block read */

struct walk {
	struct types *t;
	const struct graph *g;
	struct target *tg;
	const uint8_t *buf;
	size_t len;
	struct jv *out;
};

static void cut(struct strbuf *sb, size_t len)
{
	if (sb->buf) {
		sb->len = len;
		sb->buf[len] = '\0';
	}
}

/* A C string literal of what s holds up to its NUL (or n bytes), escaped as gdb does. */
static void add_cstring(struct strbuf *sb, const uint8_t *s, size_t n)
{
	strbuf_addch(sb, '"');
	for (size_t i = 0; i < n && s[i]; i++) {
		uint8_t c = s[i];
		if (c == '"' || c == '\\')
			strbuf_addf(sb, "\\%c", c);
		else if (c == '\n')
			strbuf_addstr(sb, "\\n");
		else if (c == '\t')
			strbuf_addstr(sb, "\\t");
		else if (c < 32 || c >= 127)
			strbuf_addf(sb, "\\%03o", c);
		else
			strbuf_addch(sb, (char)c);
	}
	strbuf_addch(sb, '"');
}

static uint64_t load(const uint8_t *p, uint64_t size)
{
	uint64_t v = 0;
	memcpy(&v, p, size <= 8 ? size : 8);
	return v;
}

/* A number of base or enum type die at p, as gdb prints it ("65 'A'", "-3", "1.5", "true", "RED"). */
static void add_number(struct strbuf *sb, Dwarf_Die *die, const uint8_t *p, uint64_t size)
{
	Dwarf_Attribute a;
	Dwarf_Word enc = DW_ATE_signed;
	uint64_t v = load(p, size);
	if (dwarf_tag(die) == DW_TAG_enumeration_type) {
		Dwarf_Die e;
		if (dwarf_child(die, &e) == 0)
			do {
				Dwarf_Sword sv;
				if (dwarf_tag(&e) == DW_TAG_enumerator &&
				    dwarf_formsdata(dwarf_attr(&e, DW_AT_const_value, &a), &sv) == 0 &&
				    (uint64_t)sv == v) {
					strbuf_addstr(sb, dwarf_diename(&e));
					return;
				}
			} while (dwarf_siblingof(&e, &e) == 0);
		strbuf_addf(sb, "%" PRIu64, v);
		return;
	}
	dwarf_formudata(dwarf_attr(die, DW_AT_encoding, &a), &enc);
	int64_t sv = size < 8 && (v >> (8 * size - 1)) & 1 ? (int64_t)(v | (~0ull << (8 * size))) : (int64_t)v;
	switch (enc) {
	case DW_ATE_float:
		if (size == 4) {
			float f;
			memcpy(&f, p, 4);
			strbuf_addf(sb, "%g", f);
		} else if (size == 8) {
			double d;
			memcpy(&d, p, 8);
			strbuf_addf(sb, "%g", d);
		} else {
			strbuf_addstr(sb, "?");
		}
		break;
	case DW_ATE_boolean:
		strbuf_addstr(sb, v ? "true" : "false");
		break;
	case DW_ATE_signed_char:
	case DW_ATE_unsigned_char:
		strbuf_addf(sb, "%" PRId64 " ", enc == DW_ATE_signed_char ? sv : (int64_t)v);
		if (v >= 32 && v < 127 && v != '\'' && v != '\\')
			strbuf_addf(sb, "'%c'", (char)v);
		else
			strbuf_addf(sb, "'\\%03" PRIo64 "'", v & 0xff);
		break;
	case DW_ATE_unsigned:
		strbuf_addf(sb, "%" PRIu64, v);
		break;
	default:
		strbuf_addf(sb, "%" PRId64, sv);
	}
}

static bool is_char_die(Dwarf_Die *d)
{
	Dwarf_Attribute a;
	Dwarf_Word enc;
	return dwarf_tag(d) == DW_TAG_base_type && type_size(d) == 1 &&
	       dwarf_formudata(dwarf_attr(d, DW_AT_encoding, &a), &enc) == 0 &&
	       (enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char);
}

/* A pointer's value, its target block (type, size, offset) and, for a char *, the string. */
static void pointer_field(struct walk *w, struct jv *f, struct strbuf *val, Dwarf_Die *die, uint64_t v)
{
	strbuf_addf(val, "0x%" PRIx64, v);
	jv_set(f, "pointer", jv_addr(v));
	Dwarf_Die to, pt;
	bool chars = type_of(die, &to) && dwarf_peel_type(&to, &pt) == 0 && is_char_die(&pt);
	if (v && chars) {
		uint8_t s[MAX_STRING + 1];
		ssize_t got = target_read(w->tg, v, s, MAX_STRING);
		if (got > 0) {
			s[got] = 0;
			strbuf_addch(val, ' ');
			add_cstring(val, s, (size_t)got);
			jv_set(f, "string", jv_string((const char *)s)); /* jv keeps it valid UTF-8 */
		}
	}
	long j = v ? graph_find(w->g, v) : -1;
	if (j < 0)
		return;
	struct jv *x = jv_set(f, "target", jv_object());
	jv_set(x, "address", jv_addr(w->g->addr[j]));
	uint32_t id = types_of_block(w->t, (uint32_t)j, NULL);
	jv_set(x, "type", id ? jv_string(types_name(w->t, id)) : jv_null());
	jv_set(x, "size", jv_int(w->g->size[j]));
	if (v != w->g->addr[j])
		jv_set(x, "offset", jv_int((int64_t)(v - w->g->addr[j])));
}

static void walk_type(struct walk *w, Dwarf_Die *die, uint64_t off, struct strbuf *name, int depth);

static void leaf(struct walk *w, Dwarf_Die *declared, Dwarf_Die *peeled, uint64_t off, const char *name)
{
	uint64_t size = type_size(peeled);
	if (jv_len(w->out) >= MAX_FIELDS || !size || off + size > w->len)
		return;
	struct jv *f = jv_push(w->out, jv_object());
	struct strbuf tn = STRBUF_INIT, val = STRBUF_INIT;
	type_name(declared, &tn);
	jv_set(f, "name", jv_string(name));
	jv_set(f, "offset", jv_int((int64_t)off));
	jv_set(f, "type", jv_string(strbuf_str(&tn)));
	int tag = dwarf_tag(peeled);
	Dwarf_Die et, ep;
	if (tag == DW_TAG_pointer_type || tag == DW_TAG_reference_type || tag == DW_TAG_rvalue_reference_type) {
		pointer_field(w, f, &val, peeled, load(w->buf + off, 8));
	} else if (tag == DW_TAG_array_type && type_of(peeled, &et) && dwarf_peel_type(&et, &ep) == 0) {
		uint64_t es = type_size(&ep);
		if (is_char_die(&ep)) {
			add_cstring(&val, w->buf + off, size);
		} else {
			strbuf_addch(&val, '{');
			for (uint64_t k = 0; es && k < size / es; k++) {
				if (k == MAX_NUMBERS) {
					strbuf_addstr(&val, "...");
					break;
				}
				if (k)
					strbuf_addstr(&val, ", ");
				add_number(&val, &ep, w->buf + off + k * es, es);
			}
			strbuf_addch(&val, '}');
		}
	} else if (tag == DW_TAG_base_type || tag == DW_TAG_enumeration_type) {
		add_number(&val, peeled, w->buf + off, size);
	} else {
		strbuf_addstr(&val, "?");
	}
	jv_set(f, "value", jv_string(strbuf_str(&val)));
	strbuf_release(&tn);
	strbuf_release(&val);
}

static void walk_members(struct walk *w, Dwarf_Die *st, uint64_t off, struct strbuf *name, int depth)
{
	Dwarf_Die m, mt;
	if (dwarf_child(st, &m) != 0)
		return;
	size_t keep = name->len;
	do {
		int mtag = dwarf_tag(&m);
		Dwarf_Attribute a;
		Dwarf_Word mo = 0;
		if (mtag != DW_TAG_member && mtag != DW_TAG_inheritance)
			continue;
		if (dwarf_tag(st) != DW_TAG_union_type &&
		    dwarf_formudata(dwarf_attr(&m, DW_AT_data_member_location, &a), &mo) != 0)
			continue; /* a static member, or a location gdb would compute: not in the object at a constant offset */
		if (!type_of(&m, &mt))
			continue;
		const char *n = dwarf_diename(&m);
		if (mtag == DW_TAG_inheritance) {
			Dwarf_Die base;
			struct strbuf bn = STRBUF_INIT;
			if (dwarf_peel_type(&mt, &base) == 0)
				type_name(&base, &bn);
			strbuf_addf(name, "%s<%s>", keep ? "." : "", strbuf_str(&bn));
			strbuf_release(&bn);
		} else if (n) {
			strbuf_addf(name, "%s%s", keep ? "." : "", n);
		}
		walk_type(w, &mt, off + mo, name, depth + 1);
		cut(name, keep);
	} while (dwarf_siblingof(&m, &m) == 0 && jv_len(w->out) < MAX_FIELDS);
}

static void walk_type(struct walk *w, Dwarf_Die *die, uint64_t off, struct strbuf *name, int depth)
{
	Dwarf_Die p, et, ep;
	if (depth > 16 || dwarf_peel_type(die, &p) != 0)
		return;
	int tag = dwarf_tag(&p);
	if (tag == DW_TAG_structure_type || tag == DW_TAG_class_type || tag == DW_TAG_union_type) {
		walk_members(w, &p, off, name, depth);
		return;
	}
	/* an array of aggregates or pointers: an element a field; of numbers or chars: one value */
	if (tag == DW_TAG_array_type && type_of(&p, &et) && dwarf_peel_type(&et, &ep) == 0) {
		int etag = dwarf_tag(&ep);
		uint64_t es = type_size(&ep), size = type_size(&p);
		if (es && (etag == DW_TAG_structure_type || etag == DW_TAG_class_type || etag == DW_TAG_pointer_type)) {
			size_t keep = name->len;
			for (uint64_t k = 0; k < size / es && k < MAX_FIELDS && jv_len(w->out) < MAX_FIELDS; k++) {
				strbuf_addf(name, "[%" PRIu64 "]", k);
				walk_type(w, &et, off + k * es, name, depth + 1);
				cut(name, keep);
			}
			return;
		}
	}
	leaf(w, die, &p, off, name->len ? strbuf_str(name) : "");
}

struct jv *types_fields_jv(struct types *t, const struct graph *g, struct target *tg, uint32_t i, uint32_t id)
{
	struct jv *out = jv_array();
	if (!id || id >= t->n || !t->v[id].tag)
		return out;
	size_t len = g->size[i] < MAX_READ ? g->size[i] : MAX_READ;
	uint8_t *buf = xcalloc(1, len ? len : 1);
	ssize_t got = target_read(tg, g->addr[i], buf, len);
	struct walk w = { t, g, tg, buf, got > 0 ? (size_t)got : 0, out };
	uint64_t es = t->v[id].size;
	Dwarf_Die d = t->v[id].die;
	struct strbuf name = STRBUF_INIT;
	/* a block holding several of its type: each element's fields, prefixed by its index */
	uint64_t n = es && g->size[i] >= 2 * es ? g->size[i] / es : 1;
	for (uint64_t k = 0; k < n && k < MAX_ELEMENTS && jv_len(out) < MAX_FIELDS; k++) {
		cut(&name, 0);
		if (n > 1)
			strbuf_addf(&name, "[%" PRIu64 "]", k);
		walk_type(&w, &d, k * es, &name, 0);
	}
	strbuf_release(&name);
	free(buf);
	return out;
}
