// SPDX-License-Identifier: GPL-3.0-or-later
/* unwtab.c - the compact unwind tables of unwtab.h, built from each module's .eh_frame CFI with libdw. */
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sym_internal.h"
#include "unwtab.h"
#include "xalloc.h"

/* DWARF register numbers of x86-64. */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

struct modrows {
	uint64_t lo, hi;
	struct unw_row *v;
	size_t n, alloc;
};

struct build {
	const char *only; /* basename of the one module wanted, or NULL */
	struct modrows *mods;
	size_t n, alloc;
	struct unwtab_stats *st;
};

static const struct unw_row stop_row = { .flags = UNW_STOP };

static bool same_rule(const struct unw_row *a, const struct unw_row *b)
{
	return a->flags == b->flags && a->cfa_off == b->cfa_off && a->rbp_off == b->rbp_off;
}

/* Append the row holding from pc_off on: one at the same offset replaces it, one saying the same is dropped. */
static void push_row(struct modrows *m, uint32_t pc_off, struct unw_row r)
{
	r.pc_off = pc_off;
	if (m->n && m->v[m->n - 1].pc_off == pc_off) {
		m->n--; /* an empty range: the new rule wins */
	}
	if (m->n && same_rule(&m->v[m->n - 1], &r))
		return;
	ALLOC_GROW(m->v, m->n + 1, m->alloc);
	m->v[m->n++] = r;
}

/* Whether ops is "the location CFA + N" (libdw's form of an offset(N) rule); N in *off. */
static bool cfa_plus(const Dwarf_Op *ops, size_t nops, Dwarf_Op *mem, int64_t *off)
{
	if (ops != mem || nops < 1 || nops > 2 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (nops == 1) {
		*off = 0;
		return true;
	}
	if (ops[1].atom != DW_OP_plus_uconst)
		return false;
	*off = (int64_t)ops[1].number;
	return true;
}

/*
 * One CFI row as an unw_row. Only what the walker can follow with rsp, rbp and
 * the stack is kept: a CFA other than rsp+N or rbp+N (a DWARF expression, as in
 * PLT entries), a return address not at CFA-8, and a signal frame (whose
 * caller is the interrupted state, not a call) become STOP rows.
 */
static struct unw_row classify(Dwarf_Frame *f)
{
	struct unw_row r = stop_row;
	bool signal = false;
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t off;

	if (dwarf_frame_info(f, NULL, NULL, &signal) != REG_RA || signal)
		return r;
	if (dwarf_frame_cfa(f, &ops, &nops) != 0 || nops != 1 || ops[0].atom != DW_OP_bregx)
		return r;
	if (ops[0].number != REG_RSP && ops[0].number != REG_RBP)
		return r;
	uint8_t kind = ops[0].number == REG_RSP ? UNW_CFA_RSP : UNW_CFA_RBP;
	int64_t cfa_off = (int64_t)ops[0].number2;
	if (cfa_off < INT16_MIN || cfa_off > INT16_MAX)
		return r;
	if (dwarf_frame_register(f, REG_RA, mem, &ops, &nops) != 0 || !cfa_plus(ops, nops, mem, &off) || off != -8)
		return r;
	r.flags = kind;
	r.cfa_off = (int16_t)cfa_off;
	if (dwarf_frame_register(f, REG_RBP, mem, &ops, &nops) != 0)
		r.flags |= UNW_RBP_LOST;
	else if (nops == 0 && ops == NULL)
		; /* same value: this frame left rbp alone */
	else if (cfa_plus(ops, nops, mem, &off) && off != 0 && off % 8 == 0 && off / 8 >= INT8_MIN && off / 8 <= INT8_MAX)
		r.rbp_off = (int8_t)(off / 8);
	else
		r.flags |= UNW_RBP_LOST;
	return r;
}

/* An encoded pointer's size for the fixed-size DW_EH_PE formats; 0 for the others. */
static size_t enc_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		return 8;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		return 4;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2:
		return 2;
	default:
		return 0;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * The start of every FDE of the module, sorted (file addresses): the binary
 * search table of .eh_frame_hdr (PT_GNU_EH_FRAME), which the linker always
 * writes as 4-byte offsets from the header. NULL when it has none we read.
 */
static uint64_t *fde_starts(Elf *elf, size_t *count)
{
	size_t nph;
	if (elf_getphdrnum(elf, &nph) != 0)
		return NULL;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_GNU_EH_FRAME)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE);
		if (!d || d->d_size < 4)
			return NULL;
		const uint8_t *p = d->d_buf, *end = p + d->d_size;
		size_t ptr_size = enc_size(p[1]), count_size = enc_size(p[2]);
		if (p[0] != 1 || !ptr_size || !count_size || p[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4) ||
		    (size_t)(end - p) < 4 + ptr_size + count_size)
			return NULL;
		p += 4 + ptr_size;
		uint64_t n = 0;
		memcpy(&n, p, count_size); /* little-endian; a count is never negative */
		p += count_size;
		if (n > (uint64_t)(end - p) / 8)
			return NULL;
		uint64_t *v = xmalloc((n ? n : 1) * sizeof(*v));
		bool sorted = true;
		for (uint64_t k = 0; k < n; k++) {
			int32_t rel;
			memcpy(&rel, p + 8 * k, 4);
			v[k] = ph.p_vaddr + (uint64_t)(int64_t)rel;
			sorted = sorted && (k == 0 || v[k] >= v[k - 1]);
		}
		if (!sorted)
			qsort(v, n, sizeof(*v), cmp_u64);
		*count = n;
		return v;
	}
	return NULL;
}

/*
 * The rows of one module: each FDE's rows in address order, as libdw's CFI
 * interpreter gives them ([start, end) of each address's frame state), a STOP
 * row at the end of an FDE that the next one does not start at. Returns false
 * when the module has no CFI we can read (it then gets no table).
 */
static bool module_rows(Dwfl_Module *mod, struct modrows *m, struct unwtab_stats *st)
{
	Dwarf_Addr cfi_bias, elf_bias;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(mod, &cfi_bias);
	Elf *elf = dwfl_module_getelf(mod, &elf_bias);
	if (!cfi || !elf || cfi_bias != elf_bias)
		return false;
	size_t nfde = 0;
	uint64_t *starts = fde_starts(elf, &nfde);
	if (!starts)
		return false;
	if (m->hi - m->lo > UINT32_MAX) {
		free(starts);
		return false;
	}
	uint64_t done = 0; /* file address the rows so far cover up to */
	for (size_t i = 0; i < nfde; i++) {
		uint64_t addr = starts[i] > done ? starts[i] : done;
		uint64_t limit = i + 1 < nfde ? starts[i + 1] : UINT64_MAX;
		/* Addresses outside the module cannot be looked up; a broken table must not wrap pc_off. */
		if (addr + cfi_bias < m->lo || addr + cfi_bias >= m->hi)
			continue;
		st->fdes++;
		while (addr < limit && addr + cfi_bias < m->hi) {
			Dwarf_Frame *f;
			Dwarf_Addr start, end;
			if (dwarf_cfi_addrframe(cfi, addr, &f) != 0)
				break;
			dwarf_frame_info(f, &start, &end, NULL);
			if (end <= addr) {
				free(f);
				break;
			}
			/* start may lie before addr (after a restore_state); the row holds from addr. */
			push_row(m, (uint32_t)(addr + cfi_bias - m->lo), classify(f));
			free(f);
			addr = end;
		}
		if (addr + cfi_bias < m->hi && addr < limit) {
			push_row(m, (uint32_t)(addr + cfi_bias - m->lo), stop_row);
		}
		done = addr;
	}
	free(starts);
	return true;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Whether the module file's basename is only, or only followed by a version (libstdc++.so.6 names libstdc++.so.6.0.30). */
static bool wanted(const char *name, const char *only)
{
	if (!only)
		return true;
	if (!name)
		return false;
	const char *b = base_name(name);
	size_t n = strlen(only);
	return !strncmp(b, only, n) && (b[n] == 0 || b[n] == '.');
}

static int each_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	(void)userdata;
	(void)start;
	struct build *b = arg;
	if (!wanted(name, b->only))
		return DWARF_CB_OK;
	struct modrows m = { 0 };
	dwfl_module_info(mod, NULL, &m.lo, &m.hi, NULL, NULL, NULL, NULL);
	if (m.hi <= m.lo || !module_rows(mod, &m, b->st) || m.n == 0) {
		free(m.v);
		return DWARF_CB_OK;
	}
	ALLOC_GROW(b->mods, b->n + 1, b->alloc);
	b->mods[b->n++] = m;
	return DWARF_CB_OK;
}

static int cmp_mod(const void *a, const void *b)
{
	const struct modrows *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static size_t nblocks(const struct modrows *m)
{
	return ((m->hi - m->lo - 1) >> UNW_BLOCK_SHIFT) + 1;
}

/* index[b]: the last row at or before the start of block b (0 when none is). */
static void build_index(const struct modrows *m, uint32_t *index, uint32_t n)
{
	size_t k = 0;
	for (uint32_t b = 0; b < n; b++) {
		uint64_t at = (uint64_t)b << UNW_BLOCK_SHIFT;
		while (k + 1 < m->n && m->v[k + 1].pc_off <= at)
			k++;
		index[b] = (uint32_t)k;
	}
}

struct unw_modules *sym_unwtab_dwfl(struct Dwfl *dwfl, const char *only, struct unwtab_stats *st,
				    struct mlz_err *err)
{
	struct unwtab_stats local;
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	int64_t t0 = mono_ns();
	struct build b = { .only = only, .st = st };
	dwfl_getmodules(dwfl, each_module, &b, 0);
	if (only && b.n == 0) {
		free(b.mods);
		return mlz_error(err, "no unwind table for module '%s'", only), NULL;
	}
	qsort(b.mods, b.n, sizeof(*b.mods), cmp_mod);

	size_t size = sizeof(struct unw_modules) + b.n * sizeof(struct unw_module);
	for (size_t i = 0; i < b.n; i++)
		size += b.mods[i].n * sizeof(struct unw_row) + nblocks(&b.mods[i]) * sizeof(uint32_t);
	struct unw_modules *m = xcalloc(1, size);
	m->magic = UNW_MAGIC;
	m->nmods = (uint32_t)b.n;
	m->size = size;
	size_t off = sizeof(struct unw_modules) + b.n * sizeof(struct unw_module);
	for (size_t i = 0; i < b.n; i++) {
		struct modrows *mr = &b.mods[i];
		struct unw_module *um = &m->mods[i];
		um->lo = mr->lo;
		um->hi = mr->hi;
		um->rows_off = off;
		um->nrows = (uint32_t)mr->n;
		memcpy((char *)m + off, mr->v, mr->n * sizeof(struct unw_row));
		off += mr->n * sizeof(struct unw_row);
		um->index_off = off;
		um->nblocks = (uint32_t)nblocks(mr);
		build_index(mr, (uint32_t *)((char *)m + off), um->nblocks);
		off += um->nblocks * sizeof(uint32_t);
		st->rows += mr->n;
		for (size_t k = 0; k < mr->n; k++)
			st->stop_rows += (mr->v[k].flags & UNW_KIND_MASK) == UNW_STOP;
		free(mr->v);
	}
	free(b.mods);
	st->modules = b.n;
	st->bytes = size;
	st->build_ns = mono_ns() - t0;
	return m;
}

struct unw_modules *sym_unwtab(struct sym *s, struct unwtab_stats *st, struct mlz_err *err)
{
	return sym_unwtab_dwfl(s->dwfl, NULL, st, err);
}
