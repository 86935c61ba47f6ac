// SPDX-License-Identifier: GPL-3.0-or-later
/* dwtype.c - the DWARF type model: names as C spells them, sizes, fields at an offset, pointer fields, interned ids. */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "types_internal.h"
#include "xalloc.h"

/* Nested structs and arrays of pointers flattened into at most this many pointer fields per type. */
#define MAX_PTRS 4096

bool type_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;
	return dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, out) != NULL;
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	return dwarf_attr_integrate(die, DW_AT_name, &a) ? dwarf_formstring(&a) : NULL;
}

/* C++ names its classes and structs bare; C with their keyword. */
static bool is_cxx(Dwarf_Die *die)
{
	Dwarf_Die cu;
	if (!dwarf_diecu(die, &cu, NULL, NULL))
		return false;
	int lang = dwarf_srclang(&cu);
	return lang == DW_LANG_C_plus_plus || lang == DW_LANG_C_plus_plus_11 || lang == DW_LANG_C_plus_plus_14;
}

/* A C++ name's enclosing namespaces and classes, outermost first, each followed by "::". */
static void add_scopes(Dwarf_Die *die, struct strbuf *sb)
{
	Dwarf_Die *scopes = NULL;
	int n = dwarf_getscopes_die(die, &scopes);
	/* scopes[0] is die itself, the last the CU */
	for (int i = n - 2; i >= 1; i--) {
		int tag = dwarf_tag(&scopes[i]);
		const char *sn = dwarf_diename(&scopes[i]);
		if (tag == DW_TAG_namespace || tag == DW_TAG_structure_type || tag == DW_TAG_class_type)
			strbuf_addf(sb, "%s::", sn ? sn : "(anonymous namespace)");
	}
	free(scopes);
}

static uint64_t array_count(Dwarf_Die *die)
{
	Dwarf_Die sub;
	Dwarf_Attribute a;
	Dwarf_Word w;
	if (dwarf_child(die, &sub) != 0)
		return 0;
	if (dwarf_formudata(dwarf_attr(&sub, DW_AT_count, &a), &w) == 0)
		return w;
	if (dwarf_formudata(dwarf_attr(&sub, DW_AT_upper_bound, &a), &w) == 0)
		return w + 1;
	return 0;
}

/* DWARF a process maps may be hostile: a type that refers to itself ends after this many steps. */
#define MAX_NAME_DEPTH 32

static void name_at(Dwarf_Die *die, struct strbuf *sb, int depth);

void type_name(Dwarf_Die *die, struct strbuf *sb)
{
	name_at(die, sb, 0);
}

static void name_at(Dwarf_Die *die, struct strbuf *sb, int depth)
{
	Dwarf_Die in;
	const char *name = die_name(die);
	if (depth > MAX_NAME_DEPTH) {
		strbuf_addstr(sb, "...");
		return;
	}
	switch (dwarf_tag(die)) {
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type: {
		const char *kw = dwarf_tag(die) == DW_TAG_union_type ? "union " :
				 dwarf_tag(die) == DW_TAG_enumeration_type ? "enum " : "struct ";
		if (!is_cxx(die))
			strbuf_addstr(sb, kw);
		else
			add_scopes(die, sb);
		strbuf_addstr(sb, name ? name : "{...}");
		break;
	}
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		if (!type_of(die, &in))
			strbuf_addstr(sb, "void");
		else if (dwarf_tag(&in) == DW_TAG_subroutine_type)
			strbuf_addstr(sb, "void (");
		else
			name_at(&in, sb, depth + 1);
		strbuf_addstr(sb, dwarf_tag(die) == DW_TAG_pointer_type ? " *" : " &");
		if (type_of(die, &in) && dwarf_tag(&in) == DW_TAG_subroutine_type)
			strbuf_addstr(sb, ")()");
		break;
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
		strbuf_addstr(sb, dwarf_tag(die) == DW_TAG_const_type ? "const " : "volatile ");
		/* fall through */
	case DW_TAG_restrict_type:
	case DW_TAG_atomic_type:
		if (type_of(die, &in))
			name_at(&in, sb, depth + 1);
		else
			strbuf_addstr(sb, "void");
		break;
	case DW_TAG_array_type:
		if (type_of(die, &in))
			name_at(&in, sb, depth + 1);
		strbuf_addf(sb, "[%llu]", (unsigned long long)array_count(die));
		break;
	case DW_TAG_subroutine_type:
		strbuf_addstr(sb, "function");
		break;
	default:
		strbuf_addstr(sb, name ? name : "?");
	}
}

uint64_t type_size(Dwarf_Die *die)
{
	Dwarf_Word size;
	Dwarf_Die peeled;
	if (dwarf_peel_type(die, &peeled) != 0)
		peeled = *die;
	int tag = dwarf_tag(&peeled);
	if (tag == DW_TAG_pointer_type || tag == DW_TAG_reference_type || tag == DW_TAG_rvalue_reference_type ||
	    tag == DW_TAG_ptr_to_member_type)
		return 8;
	return dwarf_aggregate_size(&peeled, &size) == 0 ? size : 0;
}

static bool member_offset(Dwarf_Die *m, uint64_t *off)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	*off = 0;
	if (!dwarf_attr(m, DW_AT_data_member_location, &a))
		return dwarf_tag(m) == DW_TAG_member; /* a union's members all start at 0 */
	if (dwarf_formudata(&a, &w) != 0)
		return false;
	*off = w;
	return true;
}

/* An aggregate without data (an allocator, a tag type): it overlaps a real field at the same offset. */
static bool empty_at(Dwarf_Die *die, int depth);

static bool is_empty(Dwarf_Die *die)
{
	return empty_at(die, 0);
}

static bool empty_at(Dwarf_Die *die, int depth)
{
	Dwarf_Die p, m, b;
	if (dwarf_peel_type(die, &p) != 0)
		return false;
	int tag = dwarf_tag(&p);
	if (depth > 16 || (tag != DW_TAG_structure_type && tag != DW_TAG_class_type && tag != DW_TAG_union_type))
		return false;
	if (dwarf_child(&p, &m) != 0)
		return true;
	do {
		int mt = dwarf_tag(&m);
		if ((mt == DW_TAG_member && dwarf_hasattr(&m, DW_AT_data_member_location)) ||
		    (mt == DW_TAG_inheritance && type_of(&m, &b) && !empty_at(&b, depth + 1)))
			return false;
		if (mt == DW_TAG_member && tag == DW_TAG_union_type)
			return false;
	} while (dwarf_siblingof(&m, &m) == 0);
	return true;
}

void type_field_path(Dwarf_Die *die, uint64_t off, struct strbuf *sb, Dwarf_Die *leaf, uint64_t *rest)
{
	Dwarf_Die cur;
	if (dwarf_peel_type(die, &cur) != 0)
		cur = *die;
	for (int depth = 0; depth < 32; depth++) {
		int tag = dwarf_tag(&cur);
		Dwarf_Die next, m, mt;
		bool found = false;
		if (tag == DW_TAG_structure_type || tag == DW_TAG_class_type || tag == DW_TAG_union_type) {
			if (dwarf_child(&cur, &m) == 0) {
				do {
					int mtag = dwarf_tag(&m);
					uint64_t mo;
					if ((mtag != DW_TAG_member && mtag != DW_TAG_inheritance) || !member_offset(&m, &mo) ||
					    !type_of(&m, &mt))
						continue;
					/* a static member has no location: it is not in the object */
					if (mtag == DW_TAG_member && !dwarf_hasattr(&m, DW_AT_data_member_location) &&
					    tag != DW_TAG_union_type)
						continue;
					uint64_t ms = type_size(&mt);
					if (off >= mo && off < mo + (ms ? ms : 1) && !is_empty(&mt)) {
						const char *n = die_name(&m);
						if (n && mtag == DW_TAG_member)
							strbuf_addf(sb, ".%s", n);
						off -= mo;
						if (dwarf_peel_type(&mt, &next) != 0)
							next = mt;
						found = true;
						break;
					}
				} while (dwarf_siblingof(&m, &m) == 0);
			}
		} else if (tag == DW_TAG_array_type && type_of(&cur, &mt)) {
			uint64_t es = type_size(&mt);
			if (es) {
				strbuf_addf(sb, "[%llu]", (unsigned long long)(off / es));
				off %= es;
				if (dwarf_peel_type(&mt, &next) != 0)
					next = mt;
				found = true;
			}
		}
		if (!found)
			break;
		cur = next;
	}
	*leaf = cur;
	*rest = off;
}

/* FNV-1a of the key a type is interned by. */
static uint64_t key_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static uint32_t intern(struct types *t, const char *name, uint64_t size, const char *key, Dwarf_Die *die, int tag)
{
	uint64_t h = key_hash(key), id;
	/* equal hashes of different keys (never seen) probe on */
	for (;; h++) {
		if (!u64map_get(&t->by_key, h, &id))
			break;
		struct ttype *y = &t->v[id];
		if (!strcmp(y->name, name) && y->size == size && (!die || !y->tag || tag == y->tag))
			return (uint32_t)id;
	}
	ALLOC_GROW(t->v, t->n + 1, t->alloc);
	struct ttype *y = &t->v[t->n];
	*y = (struct ttype){ .name = xstrdup(name), .size = size, .tag = tag };
	if (die)
		y->die = *die;
	u64map_put(&t->by_key, h, t->n);
	return (uint32_t)t->n++;
}

uint32_t type_id(struct types *t, Dwarf_Die *die)
{
	Dwarf_Die p;
	if (!die || dwarf_peel_type(die, &p) != 0)
		return 0;
	int tag = dwarf_tag(&p);
	if (tag == DW_TAG_subroutine_type || tag == DW_TAG_unspecified_type)
		return 0;
	struct strbuf name = STRBUF_INIT, key = STRBUF_INIT;
	type_name(&p, &name);
	uint64_t size = type_size(&p);
	strbuf_addf(&key, "%s#%llu", strbuf_str(&name), (unsigned long long)size);
	/* anonymous aggregates are told apart by where they are defined */
	if (!die_name(&p) && tag != DW_TAG_pointer_type && tag != DW_TAG_array_type)
		strbuf_addf(&key, "@%p", (void *)p.addr);
	uint32_t id = intern(t, strbuf_str(&name), size, strbuf_str(&key), &p, tag);
	if (tag == DW_TAG_base_type && size == 1) {
		Dwarf_Attribute a;
		Dwarf_Word enc;
		if (dwarf_formudata(dwarf_attr(&p, DW_AT_encoding, &a), &enc) == 0)
			t->v[id].is_char = enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char;
	}
	strbuf_release(&name);
	strbuf_release(&key);
	return id;
}

uint32_t type_id_named(struct types *t, const char *name)
{
	struct strbuf key = STRBUF_INIT;
	strbuf_addf(&key, "%s#vtable", name);
	uint32_t id = intern(t, name, 0, strbuf_str(&key), NULL, 0);
	t->v[id].ptrs_done = true;
	strbuf_release(&key);
	return id;
}

/* Appends the pointer fields of type die at base to t->v[id]'s list; unions are not looked into. */
static void flatten(struct types *t, uint32_t id, Dwarf_Die *die, uint64_t base, int depth)
{
	Dwarf_Die cur, m, mt;
	if (depth > 16 || t->v[id].nptrs >= MAX_PTRS || dwarf_peel_type(die, &cur) != 0)
		return;
	int tag = dwarf_tag(&cur);
	if (tag == DW_TAG_pointer_type) {
		Dwarf_Die to;
		uint32_t tid = type_of(&cur, &to) ? type_id(t, &to) : 0;
		if (tid) {
			size_t n = t->v[id].nptrs, alloc = n; /* grown by doubling below */
			if ((n & (n - 1)) == 0) {
				alloc = n ? 2 * n : 4;
				t->v[id].ptrs = xrealloc(t->v[id].ptrs, alloc * sizeof(struct tptr));
			}
			t->v[id].ptrs[t->v[id].nptrs++] = (struct tptr){ base, tid };
		}
	} else if ((tag == DW_TAG_structure_type || tag == DW_TAG_class_type) && dwarf_child(&cur, &m) == 0) {
		do {
			uint64_t mo;
			int mtag = dwarf_tag(&m);
			if ((mtag == DW_TAG_member && dwarf_hasattr(&m, DW_AT_data_member_location)) ||
			    mtag == DW_TAG_inheritance)
				if (member_offset(&m, &mo) && type_of(&m, &mt))
					flatten(t, id, &mt, base + mo, depth + 1);
		} while (dwarf_siblingof(&m, &m) == 0);
	} else if (tag == DW_TAG_array_type && type_of(&cur, &mt)) {
		uint64_t es = type_size(&mt), n = array_count(&cur);
		Dwarf_Die ep;
		if (dwarf_peel_type(&mt, &ep) != 0)
			return;
		int etag = dwarf_tag(&ep);
		/* arrays of numbers hold no pointer: skip them without walking each element */
		if (es && (etag == DW_TAG_pointer_type || etag == DW_TAG_structure_type || etag == DW_TAG_class_type ||
			   etag == DW_TAG_array_type))
			/* elements without pointers add nothing: bounded by count as well as by what they add */
			for (uint64_t k = 0; k < n && k < MAX_PTRS && t->v[id].nptrs < MAX_PTRS; k++)
				flatten(t, id, &mt, base + k * es, depth + 1);
	}
}

const struct tptr *type_ptrs(struct types *t, uint32_t id, size_t *n)
{
	if (!t->v[id].ptrs_done) {
		t->v[id].ptrs_done = true;
		Dwarf_Die d = t->v[id].die;
		flatten(t, id, &d, 0, 0);
	}
	*n = t->v[id].nptrs;
	return t->v[id].ptrs;
}

struct types *types_new(struct sym *sym)
{
	struct types *t = xcalloc(1, sizeof(*t));
	t->sym = sym;
	ALLOC_GROW(t->v, 1, t->alloc);
	t->v[0] = (struct ttype){ .name = xstrdup("untyped"), .ptrs_done = true };
	t->n = 1;
	return t;
}

void types_free(struct types *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].ptrs);
	}
	free(t->v);
	for (size_t i = 0; i < t->nmods; i++)
		free(t->mods[i].v);
	free(t->mods);
	free(t->block);
	u64map_release(&t->by_key);
	u64map_release(&t->vtables);
	u64map_release(&t->sites);
	free(t);
}

const char *types_name(const struct types *t, uint32_t id)
{
	return id < t->n ? t->v[id].name : "?";
}

uint64_t types_size(const struct types *t, uint32_t id)
{
	return id < t->n ? t->v[id].size : 0;
}

uint32_t types_count(const struct types *t)
{
	return (uint32_t)t->n;
}

uint32_t types_find(const struct types *t, const char *name)
{
	for (size_t i = 1; i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return (uint32_t)i;
	return 0;
}

char *types_field_name(struct types *t, uint32_t id, uint64_t size, uint64_t off)
{
	if (!id || id >= t->n)
		return NULL;
	struct ttype *y = &t->v[id];
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, y->name);
	/* a block holding several of them is an array of the type */
	if (y->size && size >= 2 * y->size) {
		strbuf_addf(&sb, "[%llu]", (unsigned long long)(off / y->size));
		off %= y->size;
	}
	if (y->tag) {
		Dwarf_Die d = y->die, leaf;
		uint64_t rest;
		type_field_path(&d, off, &sb, &leaf, &rest);
		off = rest;
	}
	if (off)
		strbuf_addf(&sb, "+%llu", (unsigned long long)off);
	return strbuf_detach(&sb);
}
