// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * test-unwtab.c - the freestanding unwinder of unwtab.h over tables built from CFI: exact rules on a
 * hand-made table, this process's own stacks against glibc's backtrace(), stack windows cut short
 * between guard pages, and a stopped fixture's threads against mlyze's libdwfl unwinder.
 *
 * Built with -fomit-frame-pointer (see the Makefile), so the frames of this file have no frame
 * pointer to follow: only the tables can unwind them.
 */
#include <dlfcn.h>
#include <link.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <execinfo.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "sym.h"
#include "target.h"
#include "unwtab.h"
#include "xalloc.h"

#define MAXF 128

/* This process's modules and their tables, built once. */
struct self {
	pid_t fixture; /* a fixture to end even when its test fails midway */
	char truth[64];
	Dwfl *dwfl;
	struct unw_modules *tab;
	uint64_t stack_hi; /* the top of the main thread's stack */
};

static char *debuginfo_path;
static const Dwfl_Callbacks self_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static Dwfl *self_dwfl(void)
{
	Dwfl *d = dwfl_begin(&self_callbacks);
	assert_non_null(d);
	dwfl_report_begin(d);
	assert_int_equal(dwfl_linux_proc_report(d, getpid()), 0);
	assert_int_equal(dwfl_report_end(d, NULL, NULL), 0);
	return d;
}

static int setup_self(void **state)
{
	struct self *s = calloc(1, sizeof(*s));
	struct mlz_err err = { 0 };
	s->dwfl = self_dwfl();
	s->tab = sym_unwtab_dwfl(s->dwfl, NULL, NULL, &err);
	if (!s->tab)
		fail_msg("%s", err.msg);
	pthread_attr_t a;
	void *addr;
	size_t size;
	assert_int_equal(pthread_getattr_np(pthread_self(), &a), 0);
	assert_int_equal(pthread_attr_getstack(&a, &addr, &size), 0);
	pthread_attr_destroy(&a);
	s->stack_hi = (uint64_t)(uintptr_t)addr + size;
	*state = s;
	return 0;
}

static int teardown_self(void **state)
{
	struct self *s = *state;
	free(s->tab);
	dwfl_end(s->dwfl);
	free(s);
	return 0;
}

/* ---- a hand-made table: each rule exactly ---- */

struct fake {
	struct unw_modules h;
	struct unw_module mods[2];
	struct unw_row rows[8];
	uint32_t index[8];
};

/*
 * Module A [0x1000, 0x2000): rows at +0x100 CFA=rsp+8, +0x180 CFA=rsp+32 with
 * rbp saved at CFA-16, +0x200 CFA=rbp+16, +0x300 STOP, +0x400 CFA=rsp+16 with rbp lost.
 * Module B [0x5000, 0x6000): +0 CFA=rsp+16.
 */
static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->h.magic = UNW_MAGIC;
	f->h.nmods = 2;
	f->h.size = sizeof(*f);
	/* Blocks of 1 KiB: module A's first starts before its first row, the others after row 4 (+0x400). */
	f->mods[0] = (struct unw_module){ .lo = 0x1000, .hi = 0x2000, .rows_off = offsetof(struct fake, rows),
					  .index_off = offsetof(struct fake, index), .nrows = 5, .nblocks = 4 };
	f->mods[1] = (struct unw_module){ .lo = 0x5000, .hi = 0x6000,
					  .rows_off = offsetof(struct fake, rows) + 5 * sizeof(struct unw_row),
					  .index_off = offsetof(struct fake, index) + 4 * sizeof(uint32_t),
					  .nrows = 1, .nblocks = 4 };
	static const uint32_t index[8] = { 0, 4, 4, 4, 0, 0, 0, 0 };
	memcpy(f->index, index, sizeof(index));
	f->rows[0] = (struct unw_row){ .pc_off = 0x100, .cfa_off = 8, .flags = UNW_CFA_RSP };
	f->rows[1] = (struct unw_row){ .pc_off = 0x180, .cfa_off = 32, .flags = UNW_CFA_RSP, .rbp_off = -2 };
	f->rows[2] = (struct unw_row){ .pc_off = 0x200, .cfa_off = 16, .flags = UNW_CFA_RBP };
	f->rows[3] = (struct unw_row){ .pc_off = 0x300, .flags = UNW_STOP };
	f->rows[4] = (struct unw_row){ .pc_off = 0x400, .cfa_off = 16, .flags = UNW_CFA_RSP | UNW_RBP_LOST };
	f->rows[5] = (struct unw_row){ .pc_off = 0, .cfa_off = 16, .flags = UNW_CFA_RSP };
}

static void hand_made_rules(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f);
	uint64_t stk[16] = { 0 };
	uint64_t base = (uint64_t)(uintptr_t)stk, hi = base + sizeof(stk), pcs[8];

	/*
	 * Frame 0 at 0x1180, looked up exactly (at 0x117f the row of +0x100 would
	 * hold): CFA = sp+32, RA at base+24, rbp saved at base+16. Frame 1 at
	 * 0x1201, looked up at 0x1200: CFA = rbp+16 = base+56, RA at base+48.
	 * Frame 2 in module B: CFA = base+72, RA at base+64. Frame 3 at 0x1400,
	 * looked up at 0x13ff: the STOP row of +0x300 ends the walk (at 0x1400
	 * itself the row of +0x400 would go on to 0x5020).
	 */
	stk[2] = base + 40;
	stk[3] = 0x1201;
	stk[6] = 0x5010;
	stk[8] = 0x1400;
	stk[10] = 0x5020; /* what a lookup at 0x1400 itself (CFA = rsp+16) would take for the next RA */
	int n = unw_walk(&f.h, 0x1180, base, 0, base, hi, pcs, 8);
	assert_int_equal(n, 4);
	assert_int_equal(pcs[0], 0x1180);
	assert_int_equal(pcs[1], 0x1201);
	assert_int_equal(pcs[2], 0x5010);
	assert_int_equal(pcs[3], 0x1400);
	/* The window is honoured: without the word at base+64 the walk ends at frame 2. */
	assert_int_equal(unw_walk(&f.h, 0x1180, base, 0, base, base + 64, pcs, 8), 3);

	/* max cuts the walk, and max 0 writes nothing. */
	assert_int_equal(unw_walk(&f.h, 0x1190, base, 0, base, hi, pcs, 2), 2);
	pcs[0] = 77;
	assert_int_equal(unw_walk(&f.h, 0x1190, base, 0, base, hi, pcs, 0), 0);
	assert_int_equal(pcs[0], 77);

	/* A PC before a module's first row, or in no module, is a frame but has no caller. */
	assert_int_equal(unw_walk(&f.h, 0x1050, base, 0, base, hi, pcs, 8), 1);
	assert_int_equal(unw_walk(&f.h, 0x3000, base, 0, base, hi, pcs, 8), 1);
	/* Frame 1 at 0x1101 is looked up at 0x1100: CFA = base+16, RA at base+8 = 0 ends the walk. */
	stk[0] = 0x1101;
	stk[1] = 0;
	assert_int_equal(unw_walk(&f.h, 0x1100, base, 0, base, hi, pcs, 8), 2);
	assert_int_equal(pcs[1], 0x1101);

	/* A return address of 0 ends the walk without becoming a frame. */
	stk[0] = 0;
	assert_int_equal(unw_walk(&f.h, 0x1100, base, 0, base, hi, pcs, 8), 1);

	/* The CFA must grow: rbp-based CFA below sp stops. */
	assert_int_equal(unw_walk(&f.h, 0x1200, base + 64, base, base, hi, pcs, 8), 1);

	/* Rbp lost at 0x1400 (frame 0: CFA = base+16, RA at base+8), then needed at 0x1201: the walk ends there. */
	stk[1] = 0x1201;
	assert_int_equal(unw_walk(&f.h, 0x1400, base, base, base, hi, pcs, 8), 2);
	assert_int_equal(pcs[1], 0x1201);

	/* A bad magic is no table at all. */
	f.h.magic = 0;
	assert_int_equal(unw_walk(&f.h, 0x1190, base, 0, base, hi, pcs, 8), 0);
}

/* ---- this process's stacks against backtrace() ---- */

struct probe {
	const struct self *self;
	struct unw_cache *cache;
	uint64_t unw[MAXF];
	void *bt[MAXF];
	int nunw, nbt;
	struct unw_row leaf_row; /* the row at the capture point */
	bool leaf_row_found;
	bool done;
};

/* The exact PC, rsp and rbp of this point of the function it is written in. */
#define CAPTURE(pc, sp, bp) \
	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" : "=r"(pc), "=r"(sp), "=r"(bp))

/*
 * Both unwinds from the same frame: ours from the captured registers, glibc's
 * backtrace() (libgcc's DWARF unwinder) from its call just after. Both need
 * the stack as it is here, so both run before this function returns.
 */
__attribute__((noinline)) static void leaf(struct probe *p)
{
	uint64_t pc, sp, bp;
	CAPTURE(pc, sp, bp);
	p->nbt = backtrace(p->bt, MAXF);
	p->nunw = unw_walk_ex(p->self->tab, p->cache, pc, sp, bp, sp, p->self->stack_hi, 0, p->unw, MAXF);
	p->leaf_row_found = unw_find_row(p->self->tab, pc, &p->leaf_row);
	p->done = true;
	__asm__ volatile("" ::: "memory");
}

/* Frames of different sizes; the barrier after each call keeps it a call, not a jump or a loop. */
__attribute__((noinline)) static int recurse(struct probe *p, int depth)
{
	volatile char pad[24 * (depth % 4) + 8];
	pad[0] = (char)depth;
	if (depth == 0)
		leaf(p);
	else
		recurse(p, depth - 1);
	__asm__ volatile("" ::: "memory");
	return pad[0];
}

/* alloca makes gcc keep the CFA in rbp even without frame pointers: the UNW_CFA_RBP rows. */
__attribute__((noinline)) static int with_alloca(struct probe *p, int depth, size_t n)
{
	volatile char *buf = __builtin_alloca(n);
	buf[0] = 1;
	recurse(p, depth);
	__asm__ volatile("" ::: "memory");
	return buf[0];
}

/* qsort_r's comparator probes once, from inside libc's sort (frames without frame pointers). */
static int compare(const void *a, const void *b, void *arg)
{
	struct probe *p = arg;
	if (!p->done)
		recurse(p, 3);
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? -1 : x > y;
}

__attribute__((noinline)) static void through_qsort(struct probe *p)
{
	int v[64];
	for (int i = 0; i < 64; i++)
		v[i] = (i * 37) % 64;
	qsort_r(v, 64, sizeof(v[0]), compare, p);
	for (int i = 0; i < 64; i++)
		assert_int_equal(v[i], i);
	__asm__ volatile("" ::: "memory");
}

/*
 * The frames must agree with backtrace()'s. Its first entries are return
 * addresses inside leaf (after its call of backtrace) and, under ASan, inside
 * the sanitizer's interceptor of backtrace; ours start at the captured PC in
 * leaf. From leaf's return address on, both lists are the same return
 * addresses, so they are aligned at the entry equal to our frame 1, which
 * must come at most two entries in.
 */
static void expect_same_as_backtrace(const struct probe *p, int min_frames)
{
	assert_true(p->done);
	assert_true(p->nunw >= min_frames);
	int k = -1;
	for (int i = 0; i < 3 && i < p->nbt; i++) {
		if ((uint64_t)(uintptr_t)p->bt[i] == p->unw[1]) {
			k = i;
			break;
		}
	}
	if (getenv("UNWTAB_VERBOSE") || k < 1) {
		for (int i = 0; i < p->nunw || i < p->nbt; i++)
			print_message("unw[%d] %#" PRIx64 "  bt[%d] %p\n", i, i < p->nunw ? p->unw[i] : 0, i,
				      i < p->nbt ? p->bt[i] : NULL);
	}
	if (k < 1)
		fail_msg("backtrace() has no entry equal to frame 1 (%#" PRIx64 ")", p->unw[1]);
	/* bt[k-1] is in leaf too, a few instructions after the capture. */
	uint64_t in_leaf = k >= 1 ? (uint64_t)(uintptr_t)p->bt[k - 1] : 0;
	if (k == 1)
		assert_true(in_leaf > p->unw[0] && in_leaf - p->unw[0] < 256);
	assert_int_equal(p->nunw - 1, p->nbt - k);
	for (int i = 1; i < p->nunw; i++) {
		if (p->unw[i] != (uint64_t)(uintptr_t)p->bt[k + i - 1])
			fail_msg("frame %d: %#" PRIx64 ", backtrace() says %p", i, p->unw[i], p->bt[k + i - 1]);
	}
	/* The walker could not follow a frame pointer in leaf: its CFA is rsp-based there. */
	assert_true(p->leaf_row_found);
	assert_int_equal(p->leaf_row.flags & UNW_KIND_MASK, UNW_CFA_RSP);
}

static void recursion_matches_backtrace(void **state)
{
	for (int depth = 0; depth < 12; depth += 3) {
		struct probe p = { .self = *state };
		recurse(&p, depth);
		expect_same_as_backtrace(&p, depth + 4);
	}
}

static void alloca_frames_match_backtrace(void **state)
{
	struct probe p = { .self = *state };
	with_alloca(&p, 2, 100);
	expect_same_as_backtrace(&p, 6);
	/* with_alloca's frame is found through rbp: its caller's PC is looked up in an rbp row. */
	bool rbp_row = false;
	for (int i = 1; i < p.nunw; i++) {
		struct unw_row r;
		if (unw_find_row(p.self->tab, p.unw[i] - 1, &r) && (r.flags & UNW_KIND_MASK) == UNW_CFA_RBP)
			rbp_row = true;
	}
	assert_true(rbp_row);
}

static void libc_frames_match_backtrace(void **state)
{
	struct probe p = { .self = *state };
	through_qsort(&p);
	expect_same_as_backtrace(&p, 10);
	/* Some frame between compare and through_qsort is libc's. */
	Dl_info di;
	bool in_libc = false;
	for (int i = 1; i < p.nunw; i++)
		if (dladdr((void *)(uintptr_t)p.unw[i], &di) && di.dli_fname && strstr(di.dli_fname, "libc.so"))
			in_libc = true;
	assert_true(in_libc);
}

/* The same walks with a cache give the same frames, cold and warm. */
static void cache_gives_same_frames(void **state)
{
	struct unw_cache_slot slots[64];
	memset(slots, 0, sizeof(slots));
	struct unw_cache c = { .slots = slots, .mask = 63 };
	for (int round = 0; round < 3; round++) {
		struct probe p = { .self = *state, .cache = &c };
		through_qsort(&p);
		expect_same_as_backtrace(&p, 10);
	}
	int used = 0;
	for (int i = 0; i < 64; i++)
		used += slots[i].pc != 0;
	assert_true(used >= 8);
}

/* ---- stack windows between guard pages ---- */

/* A copy of the live stack from sp up: what the walker reads, and a whole walk to compare with. */
struct stack_copy {
	uint64_t pc, sp, bp;
	uint8_t bytes[16384];
	size_t len;
};

/* Raw stack words, ASan's redzones included: a copy as the agent's walk sees the stack, not as C objects. */
__attribute__((no_sanitize_address, noinline)) static void copy_words(uint8_t *to, uint64_t from, size_t len)
{
	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t w = *(volatile const uint64_t *)(uintptr_t)(from + i);
		__builtin_memcpy(to + i, &w, 8);
	}
}

/* Capture registers and copy the stack above them; the frames of the copy are those of this call chain. */
__attribute__((noinline)) static void copy_leaf(struct stack_copy *c, const struct self *s)
{
	uint64_t pc, sp, bp;
	CAPTURE(pc, sp, bp);
	c->pc = pc;
	c->sp = sp;
	c->bp = bp;
	c->len = s->stack_hi - sp < sizeof(c->bytes) ? s->stack_hi - sp : sizeof(c->bytes);
	copy_words(c->bytes, sp, c->len);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void copy_deep(struct stack_copy *c, const struct self *s, int depth)
{
	volatile char pad[40];
	pad[0] = 0;
	if (depth)
		copy_deep(c, s, depth - 1);
	else
		copy_leaf(c, s);
	__asm__ volatile("" ::: "memory");
	(void)pad[0];
}

/*
 * Place the first len bytes of the copy in a mapping so that the window ends
 * (at_end) or starts (!at_end) exactly at a PROT_NONE page: a read outside the
 * window faults and ends the test.
 */
static int walk_guarded(const struct unw_modules *tab, const struct stack_copy *c, size_t len, bool at_end,
			uint64_t *pcs)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t span = (len + (size_t)pg - 1) / (size_t)pg * (size_t)pg;
	uint8_t *map = mmap(NULL, span + 2 * (size_t)pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	uint8_t *area = map + pg;
	if (span)
		assert_int_equal(mprotect(area, span, PROT_READ | PROT_WRITE), 0);
	uint8_t *at = at_end ? area + span - len : area;
	memcpy(at, c->bytes, len);
	int64_t delta = (int64_t)((uint64_t)(uintptr_t)at - c->sp);
	int n = unw_walk_ex(tab, NULL, c->pc, c->sp, c->bp, c->sp, c->sp + len, delta, pcs, MAXF);
	munmap(map, span + 2 * (size_t)pg);
	return n;
}

static void windows_cut_frames(void **state)
{
	const struct self *s = *state;
	struct stack_copy *c = calloc(1, sizeof(*c));
	uint64_t full[MAXF], pcs[MAXF];
	copy_deep(c, s, 6);
	int nfull = walk_guarded(s->tab, c, c->len, true, full);
	assert_true(nfull >= 9);
	/* Each window ending within the copy: a prefix of the full walk, never shorter for a longer window. */
	int prev = 0;
	for (size_t len = 0; len <= c->len; len += 8) {
		for (int at_end = 0; at_end < 2; at_end++) {
			int n = walk_guarded(s->tab, c, len, at_end, pcs);
			assert_true(n >= 1 && n <= nfull);
			assert_true(n >= prev);
			assert_memory_equal(pcs, full, (size_t)n * sizeof(pcs[0]));
			prev = n;
		}
	}
	assert_int_equal(prev, nfull);
	/* Windows that cut a frame do lose frames: with only the leaf's own frame there is one more. */
	assert_int_equal(walk_guarded(s->tab, c, 0, true, pcs), 1);
	free(c);
}

/*
 * What the agent passes: the entry PC of the hooked function, with sp at its
 * return address. Made from a copy of a real stack with the call's return
 * address pushed (the captured PC in copy_leaf, as if it called there): the
 * walk is that entry, then the copy's own frames. Each allocator of libc
 * itself (not an interposer's) must have its entry row right: CFA = rsp+8.
 */
static void allocator_entry_frames(void **state)
{
	const struct self *s = *state;
	static const char *const names[] = { "malloc", "free", "calloc", "realloc", "posix_memalign",
					     "aligned_alloc", "memalign", "valloc", "pvalloc", "reallocarray" };
	struct stack_copy *c = calloc(1, sizeof(*c)), *pushed = calloc(1, sizeof(*pushed));
	uint64_t full[MAXF], pcs[MAXF];
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(libc);
	copy_deep(c, s, 3);
	int nfull = walk_guarded(s->tab, c, c->len, true, full);
	assert_true(nfull >= 6);
	*pushed = *c;
	pushed->sp = c->sp - 8;
	memcpy(pushed->bytes, &c->pc, 8);
	memcpy(pushed->bytes + 8, c->bytes, c->len - 8);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		void *fn = dlsym(libc, names[i]);
		assert_non_null(fn);
		pushed->pc = (uint64_t)(uintptr_t)fn;
		struct unw_row r;
		assert_true(unw_find_row(s->tab, pushed->pc, &r));
		assert_int_equal(r.flags, UNW_CFA_RSP);
		assert_int_equal(r.cfa_off, 8);
		int n = walk_guarded(s->tab, pushed, c->len, true, pcs);
		/* The last frame of the copy may be cut: the pushed word took 8 bytes of its window. */
		assert_true(n == nfull + 1 || n == nfull);
		assert_int_equal(pcs[0], pushed->pc);
		assert_memory_equal(pcs + 1, full, (size_t)(n - 1) * sizeof(pcs[0]));
	}
	dlclose(libc);
	free(pushed);
	free(c);
}

/* Garbage stacks: random words and code addresses; the walk ends inside the window, whatever it finds. */
static void garbage_stays_in_window(void **state)
{
	const struct self *s = *state;
	struct stack_copy *c = calloc(1, sizeof(*c));
	uint64_t pcs[MAXF];
	uint64_t x = 0x9E3779B97F4A7C15ull;
	const struct unw_module *mods = s->tab->mods;
	for (int round = 0; round < 300; round++) {
		c->len = 8 * (size_t)(1 + round % 64);
		for (size_t i = 0; i < c->len / 8; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			const struct unw_module *m = &mods[x % s->tab->nmods];
			uint64_t w = (x >> 8) % 4 == 0 ? m->lo + (x >> 20) % (m->hi - m->lo)
				: (x >> 8) % 4 == 1 ? c->sp + (x >> 20) % 1024 : x;
			memcpy(c->bytes + 8 * i, &w, 8);
		}
		const struct unw_module *m = &mods[round % s->tab->nmods];
		c->pc = m->lo + x % (m->hi - m->lo);
		c->sp = 0x7ff000000000ull + 8 * (uint64_t)round;
		c->bp = c->sp + (x >> 40) % 512;
		int n = walk_guarded(s->tab, c, c->len, round & 1, pcs);
		assert_true(n >= 1 && n <= MAXF);
	}
	free(c);
}

/* ---- every row against binutils' own CFI interpreter (readelf --debug-dump=frames-interp) ---- */

struct object {
	uint64_t addr; /* an address in the object */
	uint64_t bias;
	char path[4096];
};

static int find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct object *o = arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && o->addr >= lo && o->addr < lo + ph->p_memsz) {
			o->bias = info->dlpi_addr;
			if (info->dlpi_name[0]) {
				snprintf(o->path, sizeof(o->path), "%s", info->dlpi_name);
			} else {
				/* The executable; named here, since in readelf's process /proc/self/exe is readelf. */
				ssize_t n = readlink("/proc/self/exe", o->path, sizeof(o->path) - 1);
				o->path[n > 0 ? n : 0] = 0;
			}
			return 1;
		}
	}
	return 0;
}

/* What a row of readelf's table must be in ours: the same rules the builder applies, from readelf's words. */
static struct unw_row expected_row(const char *cfa, const char *rbp, const char *ra)
{
	struct unw_row r = { .flags = UNW_STOP };
	long off;
	char *end;
	if (strcmp(ra, "c-8") != 0)
		return r;
	if (!strncmp(cfa, "rsp+", 4))
		r.flags = UNW_CFA_RSP;
	else if (!strncmp(cfa, "rbp+", 4))
		r.flags = UNW_CFA_RBP;
	else
		return r;
	off = strtol(cfa + 4, &end, 10);
	if (*end || off > INT16_MAX) {
		r.flags = UNW_STOP;
		return r;
	}
	r.cfa_off = (int16_t)off;
	/* "u": no rule given, which the x86-64 ABI makes "same value" for rbp; "s": same value. */
	if (!strcmp(rbp, "u") || !strcmp(rbp, "s"))
		return r;
	if (rbp[0] == 'c' && (off = strtol(rbp + 1, &end, 10), !*end) && off && off % 8 == 0 && off / 8 >= -128 &&
	    off / 8 <= 127)
		r.rbp_off = (int8_t)(off / 8);
	else
		r.flags |= UNW_RBP_LOST;
	return r;
}

struct fde_end {
	uint64_t start, end;
};

static int cmp_fde_start(const void *a, const void *b)
{
	const struct fde_end *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Compare our row at file address loc with what readelf says; returns 1 when checked. */
static int check_row(const struct unw_modules *tab, uint64_t bias, uint64_t loc, struct unw_row want)
{
	struct unw_row got;
	if (!unw_find_row(tab, bias + loc, &got))
		fail_msg("no row at %#" PRIx64, loc);
	bool same = (got.flags & UNW_KIND_MASK) == (want.flags & UNW_KIND_MASK);
	if (same && (want.flags & UNW_KIND_MASK) != UNW_STOP)
		same = got.cfa_off == want.cfa_off && got.rbp_off == want.rbp_off &&
		       (got.flags & UNW_RBP_LOST) == (want.flags & UNW_RBP_LOST);
	if (!same)
		fail_msg("row at %#" PRIx64 ": flags %u cfa %d rbp %d, readelf: flags %u cfa %d rbp %d", loc, got.flags,
			 got.cfa_off, got.rbp_off, want.flags, want.cfa_off, want.rbp_off);
	return 1;
}

/* What readelf said of one CIE (its initial rules) or is saying of the current FDE. */
struct cie_rules {
	unsigned long off;
	char cfa[32], rbp[32], ra[32];
};

struct readelf_scan {
	const struct unw_modules *tab;
	uint64_t bias;
	struct cie_rules *cies;
	size_t ncies, cie_alloc;
	struct fde_end *fdes;
	size_t nfdes, fde_alloc;
	bool in_fde;
	unsigned long fde_cie;
	int fde_rows;
	bool have_row; /* a row waits: the next one may have the same LOC and replace it */
	uint64_t row_loc;
	struct unw_row row;
	int checked;
};

static void flush_row(struct readelf_scan *sc)
{
	if (sc->have_row)
		sc->checked += check_row(sc->tab, sc->bias, sc->row_loc, sc->row);
	sc->have_row = false;
}

/* The end of an FDE: one without rows of its own holds its CIE's initial rules. */
static void end_fde(struct readelf_scan *sc)
{
	flush_row(sc);
	if (sc->in_fde && sc->fde_rows == 0) {
		const struct fde_end *fde = &sc->fdes[sc->nfdes - 1];
		const struct cie_rules *c = NULL;
		for (size_t i = 0; i < sc->ncies; i++)
			if (sc->cies[i].off == sc->fde_cie)
				c = &sc->cies[i];
		assert_non_null(c);
		if (fde->end > fde->start)
			sc->checked += check_row(sc->tab, sc->bias, fde->start, expected_row(c->cfa, c->rbp, c->ra));
	}
	sc->in_fde = false;
}

/*
 * Each row of each FDE readelf prints (its LOC column: where a rule changes)
 * must be the row our table holds at that address, an FDE with no rows of its
 * own must hold its CIE's rules, and the end of an FDE that no other FDE
 * starts at must be a STOP row. Returns the rows checked.
 */
static int check_against_readelf(const struct unw_modules *tab, const struct object *o)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "readelf --debug-dump=frames-interp '%s' 2>/dev/null", o->path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	struct readelf_scan sc = { .tab = tab, .bias = o->bias };
	struct cie_rules *cie = NULL; /* the CIE whose rules come next, if any */
	char line[1024], cols[16][16];
	int ncols = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long off, cie_off;
		unsigned long long a, b;
		char kind[8];
		if (sscanf(line, "%lx %*x %*x %7s", &off, kind) == 2 && !strcmp(kind, "CIE")) {
			end_fde(&sc);
			ALLOC_GROW(sc.cies, sc.ncies + 1, sc.cie_alloc);
			cie = &sc.cies[sc.ncies++];
			*cie = (struct cie_rules){ .off = off };
			continue;
		}
		if (sscanf(line, "%*x %*x %*x FDE cie=%lx pc=%llx..%llx", &cie_off, &a, &b) == 3) {
			end_fde(&sc);
			cie = NULL;
			sc.in_fde = true;
			sc.fde_cie = cie_off;
			sc.fde_rows = 0;
			ALLOC_GROW(sc.fdes, sc.nfdes + 1, sc.fde_alloc);
			sc.fdes[sc.nfdes++] = (struct fde_end){ a, b };
			continue;
		}
		char *tok[16];
		int nt = 0;
		for (char *t = strtok(line, " \n"); t && nt < 16; t = strtok(NULL, " \n"))
			tok[nt++] = t;
		if (nt >= 2 && !strcmp(tok[0], "LOC")) {
			ncols = nt - 1;
			for (int i = 0; i < ncols; i++)
				snprintf(cols[i], sizeof(cols[i]), "%s", tok[i + 1]);
			continue;
		}
		if (nt < 2 || strlen(tok[0]) != 16 || nt - 1 != ncols)
			continue;
		/* A register without a column has no rule: "u", as readelf writes it. */
		const char *cfa = "", *rbp = "u", *ra = "u";
		for (int i = 0; i < ncols; i++) {
			if (!strcmp(cols[i], "CFA"))
				cfa = tok[i + 1];
			else if (!strcmp(cols[i], "rbp"))
				rbp = tok[i + 1];
			else if (!strcmp(cols[i], "ra"))
				ra = tok[i + 1];
		}
		if (cie) {
			snprintf(cie->cfa, sizeof(cie->cfa), "%s", cfa);
			snprintf(cie->rbp, sizeof(cie->rbp), "%s", rbp);
			snprintf(cie->ra, sizeof(cie->ra), "%s", ra);
			continue;
		}
		if (!sc.in_fde)
			continue;
		uint64_t loc = strtoull(tok[0], NULL, 16);
		if (sc.have_row && loc != sc.row_loc)
			flush_row(&sc);
		sc.row_loc = loc;
		sc.row = expected_row(cfa, rbp, ra);
		sc.have_row = true;
		sc.fde_rows++;
	}
	end_fde(&sc);
	/* readelf exits with 1 on files without .debug_frame even when it printed .eh_frame: the row count tells. */
	assert_true(pclose(f) != -1);
	/* Where an FDE ends and none begins, the walk must stop. */
	qsort(sc.fdes, sc.nfdes, sizeof(*sc.fdes), cmp_fde_start);
	for (size_t i = 0; i < sc.nfdes; i++) {
		struct fde_end key = { sc.fdes[i].end, 0 };
		if (sc.fdes[i].end > sc.fdes[i].start &&
		    !bsearch(&key, sc.fdes, sc.nfdes, sizeof(*sc.fdes), cmp_fde_start) &&
		    unw_find_module(tab, o->bias + key.start))
			sc.checked += check_row(tab, o->bias, key.start, (struct unw_row){ .flags = UNW_STOP });
	}
	free(sc.fdes);
	free(sc.cies);
	return sc.checked;
}

static void rows_match_readelf(void **state)
{
	const struct self *s = *state;
	if (system("readelf --version >/dev/null 2>&1") != 0) {
		print_message("# readelf is not installed\n");
		skip();
	}
	/* libc's own qsort_r, not an interposer's (ASan has one). */
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(libc);
	struct object objs[2] = { { .addr = (uint64_t)(uintptr_t)dlsym(libc, "qsort_r") },
				  { .addr = (uint64_t)(uintptr_t)hand_made_rules } };
	dlclose(libc);
	static const int at_least[2] = { 20000, 1000 };
	for (int i = 0; i < 2; i++) {
		assert_int_equal(dl_iterate_phdr(find_object, &objs[i]), 1);
		int n = check_against_readelf(s->tab, &objs[i]);
		print_message("# %s: %d rows as readelf interprets them\n", objs[i].path, n);
		assert_true(n > at_least[i]);
	}
}

/* ---- figures: rows, bytes, build time, time per walk ---- */

static void figures(void **state)
{
	const struct self *s = *state;
	static const char *const names[] = { "libc.so.6", "libstdc++.so.6", "test-unwtab", NULL };
	for (int i = 0; names[i]; i++) {
		struct unwtab_stats st;
		struct mlz_err err = { 0 };
		struct unw_modules *m = sym_unwtab_dwfl(s->dwfl, names[i], &st, &err);
		if (!m)
			fail_msg("%s", err.msg);
		assert_int_equal(st.modules, 1);
		assert_true(st.rows > 0 && st.rows == m->mods[0].nrows);
		assert_int_equal(st.bytes, m->size);
		print_message("# %s: %zu FDEs, %zu rows (%zu STOP), %zu bytes, built in %.1f ms\n", names[i], st.fdes,
			      st.rows, st.stop_rows, st.bytes, (double)st.build_ns / 1e6);
		free(m);
	}
	struct unwtab_stats all;
	free(sym_unwtab_dwfl(s->dwfl, NULL, &all, NULL));
	print_message("# all %zu modules: %zu rows, %zu bytes, built in %.1f ms\n", all.modules, all.rows, all.bytes,
		      (double)all.build_ns / 1e6);
}

struct bench {
	const struct self *s;
	uint64_t pc, sp, bp;
	int n;
};

__attribute__((noinline)) static void bench_leaf(struct bench *b)
{
	CAPTURE(b->pc, b->sp, b->bp);
	uint64_t pcs[MAXF];
	struct unw_cache_slot slots[256];
	memset(slots, 0, sizeof(slots));
	struct unw_cache c = { .slots = slots, .mask = 255 };
	/* The best of several runs: other processes share the CPUs. */
	for (int pass = 0; pass < 2; pass++) {
		int iters = 20000;
		int64_t best = INT64_MAX;
		for (int run = 0; run < 10; run++) {
			int64_t t0 = mono_ns();
			for (int i = 0; i < iters; i++) {
				b->n = unw_walk_ex(b->s->tab, pass ? &c : NULL, b->pc, b->sp, b->bp, b->sp,
						   b->s->stack_hi, 0, pcs, MAXF);
				__asm__ volatile("" ::: "memory");
			}
			int64_t t = mono_ns() - t0;
			best = t < best ? t : best;
		}
		double ns = (double)best / iters;
		print_message("# unw_walk %s: %d frames, %.0f ns per walk, %.1f ns per frame\n",
			      pass ? "with a 256-slot cache" : "without a cache", b->n, ns, ns / b->n);
	}
}

__attribute__((noinline)) static void bench_deep(struct bench *b, int depth)
{
	if (depth)
		bench_deep(b, depth - 1);
	else
		bench_leaf(b);
	__asm__ volatile("" ::: "memory");
}

static void walk_time(void **state)
{
	struct bench b = { .s = *state };
	bench_deep(&b, 8);
	assert_true(b.n >= 12);
}

/* ---- a stopped fixture against mlyze's libdwfl unwinder ---- */

static const char *fixture_path(const char *name)
{
	static char path[4096];
	const char *dir = getenv("MLYZE_FIXTURES");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "fixtures", name);
	return path;
}

/* Start fixture with a truth file, return its pid once it printed "ready". */
static pid_t start_fixture(const char *exe, const char *truth)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
		close(fds[0]);
		close(fds[1]);
		execl(exe, exe, truth, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	char buf[256];
	size_t got = 0;
	ssize_t r;
	while (got < sizeof(buf) - 1 && (r = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)r;
		buf[got] = 0;
		if (strstr(buf, "ready\n"))
			break;
	}
	close(fds[0]);
	buf[got] = 0;
	if (!strstr(buf, "ready\n"))
		fail_msg("%s did not print ready", exe);
	return pid;
}

/* Runs after same_as_libdwfl whether it passed or not: the fixture never outlives the test. */
static int end_fixture(void **state)
{
	struct self *s = *state;
	if (s->fixture > 0) {
		kill(s->fixture, SIGKILL);
		waitpid(s->fixture, NULL, 0);
		s->fixture = 0;
	}
	if (s->truth[0])
		unlink(s->truth);
	s->truth[0] = 0;
	return 0;
}

static void same_as_libdwfl(void **state)
{
	struct self *self = *state;
	const char *exe = fixture_path("fx-threads");
	if (access(exe, X_OK) != 0) {
		print_message("# %s is not built (make fixtures)\n", exe);
		skip();
	}
	snprintf(self->truth, sizeof(self->truth), "/tmp/test-unwtab-XXXXXX");
	int tfd = mkstemp(self->truth);
	assert_true(tfd >= 0);
	close(tfd);
	pid_t pid = start_fixture(exe, self->truth);
	self->fixture = pid;
	struct mlz_err err = { 0 };
	struct target *t = target_attach(pid, &err);
	if (!t)
		fail_msg("%s", err.msg);
	if (target_stop(t, &err) < 0)
		fail_msg("%s", err.msg);
	struct sym *s = sym_new(t, NULL, &err);
	if (!s)
		fail_msg("%s", err.msg);
	struct unwtab_stats st;
	struct unw_modules *tab = sym_unwtab(s, &st, &err);
	if (!tab)
		fail_msg("%s", err.msg);
	assert_true(st.modules >= 2);
	assert_true(t->nthreads >= 3);
	static uint8_t stack[65536];
	for (size_t i = 0; i < t->nthreads; i++) {
		pid_t tid = t->threads[i].tid;
		uint64_t want[MAXF], got[MAXF];
		int nwant = sym_unwind(s, tid, want, NULL, MAXF, &err);
		assert_true(nwant >= 3);
		struct user_regs_struct regs;
		assert_int_equal(target_regs(t, tid, &regs, &err), 0);
		/* The stack from rsp up as far as it can be read (a thread's stack may end within 64 KiB). */
		ssize_t len = 0;
		for (size_t try = sizeof(stack); try >= 4096 && len <= 0; try /= 2)
			len = target_read(t, regs.rsp, stack, try);
		assert_true(len > 0);
		int64_t delta = (int64_t)((uint64_t)(uintptr_t)stack - regs.rsp);
		int n = unw_walk_ex(tab, NULL, regs.rip, regs.rsp, regs.rbp, regs.rsp, regs.rsp + (uint64_t)len, delta,
				    got, MAXF);
		print_message("# thread %d: %d frames, libdwfl %d\n", (int)tid, n, nwant);
		for (int k = 0; k < (n > nwant ? n : nwant); k++) {
			if (k >= n || k >= nwant || got[k] != want[k])
				fail_msg("thread %d frame %d: %#" PRIx64 ", libdwfl says %#" PRIx64, (int)tid, k,
					 k < n ? got[k] : 0, k < nwant ? want[k] : 0);
		}
	}
	free(tab);
	sym_free(s);
	assert_int_equal(target_detach(t, &err), 0);
	target_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hand_made_rules),
		cmocka_unit_test(recursion_matches_backtrace),
		cmocka_unit_test(alloca_frames_match_backtrace),
		cmocka_unit_test(libc_frames_match_backtrace),
		cmocka_unit_test(cache_gives_same_frames),
		cmocka_unit_test(windows_cut_frames),
		cmocka_unit_test(allocator_entry_frames),
		cmocka_unit_test(garbage_stays_in_window),
		cmocka_unit_test(rows_match_readelf),
		cmocka_unit_test(figures),
		cmocka_unit_test(walk_time),
		cmocka_unit_test_teardown(same_as_libdwfl, end_fixture),
	};
	return cmocka_run_group_tests(tests, setup_self, teardown_self);
}
