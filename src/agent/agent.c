// SPDX-License-Identifier: GPL-3.0-or-later
/* agent.c - injecting the agent: its mapping, its control block, the jumps on the allocator's entries. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <time.h>

#include "agent.h"
#include "clock.h"
#include "ool.h"
#include "proc.h"
#include "strbuf.h"
#include "sym.h"
#include "target.h"
#include "unwtab.h"
#include "xalloc.h"

_Static_assert(AK_MALLOC == AGENT_KIND_MALLOC && AK_CALLOC == AGENT_KIND_CALLOC && AK_REALLOC == AGENT_KIND_REALLOC &&
		       AK_REALLOCARRAY == AGENT_KIND_REALLOCARRAY && AK_POSIX_MEMALIGN == AGENT_KIND_POSIX_MEMALIGN &&
		       AK_ALIGNED_ALLOC == AGENT_KIND_ALIGNED_ALLOC && AK_MEMALIGN == AGENT_KIND_MEMALIGN &&
		       AK_VALLOC == AGENT_KIND_VALLOC && AK_PVALLOC == AGENT_KIND_PVALLOC && AK_FREE == AGENT_KIND_FREE,
	       "agent_abi.h's kinds are enum alloc_kind's");
_Static_assert(AK_NKINDS <= AGENT_MAXHOOKS, "a hook per entry point");

/* The flat image built from src/agent/payload/ (blob.S). */
extern const uint8_t agent_blob[], agent_blob_end[];

/* The data part after the control block: the ring, two regions for unwind tables, the stack table, row caches. */
#define RING_SIZE (16u << 20)
#define UNW_REGION (4u << 20)
#define STACK_ENTRIES (64u << 10)
#define FRAMES_CAP (1u << 20)
#define CACHES_SIZE ((size_t)AGENT_SLOTS * AGENT_CACHE_SLOTS * sizeof(struct unw_cache_slot))
/*
 * The address set of sampled blocks: room for 512K slots in 4 MiB (only
 * touched lines become resident), enough for the blocks sampled out of tens
 * of GiB live at the usual means. It starts at SET_MIN_BUCKETS (256 KiB)
 * and grows fourfold, rebuilt by mlyze with the process stopped, once a
 * quarter of it holds live blocks; its hint (agent_abi.h) grows beside it,
 * apart. A full bucket run drops a sample, counted.
 */
#define SET_BUCKETS (64u << 10)
#define SET_MIN_BUCKETS 4096u
#define SET_SIZE ((size_t)SET_BUCKETS * AGENT_SET_WAYS * sizeof(uint64_t))
#define HINT_SIZE ((size_t)AGENT_HINT_MAX)
/*
 * The hint's bytes per block the set holds, at least: a free of an unsampled
 * block whose byte a sampled one counts takes the full way for nothing. Its
 * 4 KiB to start with stay in cache; more bytes miss more often (at 64 KiB
 * a free cost more than the full ways it saved, on mixed).
 */
#define HINT_PER_BLOCK 16
#define STUB_SIZE 16
#define TRAMP_SIZE 128
#define JMP_LEN 5
/*
 * A full ring that mlyze does not read for this long (it is gone, or busy with a long command
 * that does not pause the process) makes the agent drop: long enough that a busy mlyze loses nothing.
 */
#define WAIT_NS (2000u * 1000000u)

static const char *const entry_names[AK_NKINDS] = {
	"malloc", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
	"memalign", "valloc", "pvalloc", "free",
};

static uint64_t data_base(const struct agent *a) { return a->area.base + AGENT_DATA_OFF; }

/*
 * Where glibc keeps a thread's id in its descriptor: libc describes it for
 * libthread_db (_thread_db_pthread_tid: bits, count, offset). It is checked
 * against every thread; 0 (ask the kernel, a system call per record) when it
 * does not hold.
 */
static int64_t find_tid_offset(struct agent *a)
{
	static const char *const names[] = { "_thread_db_pthread_tid" };
	uint64_t addr;
	const char *mod;
	uint32_t desc[3];
	if (sym_find_symbols(a->sym, names, 1, &addr, &mod) < 0 || !addr ||
	    target_read(a->t, addr, desc, sizeof(desc)) != (ssize_t)sizeof(desc) || desc[0] != 32 || desc[2] > 65536)
		return 0;
	for (size_t i = 0; i < a->t->nthreads; i++) {
		struct user_regs_struct r;
		int32_t tid;
		if (target_regs(a->t, a->t->threads[i].tid, &r, NULL) < 0 || !r.fs_base ||
		    target_read(a->t, r.fs_base + desc[2], &tid, 4) != 4 || tid != a->t->threads[i].tid)
			return 0;
	}
	return desc[2];
}

static void stack_bounds(struct agent *a, uint64_t *lo, uint64_t *hi)
{
	struct maps m = { 0 };
	struct mlz_err ignored;
	*lo = *hi = 0;
	if (target_maps(a->t, &m, &ignored) < 0)
		return;
	for (size_t i = 0; i < m.n; i++)
		if (!strcmp(m.v[i].path, "[stack]"))
			*lo = m.v[i].start, *hi = m.v[i].end;
	maps_release(&m);
}

/* Whether a thread runs inside [lo, hi) other than at lo: a jump written there would cut its instruction. */
static pid_t thread_inside(struct agent *a, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < a->t->nthreads; i++) {
		struct user_regs_struct r;
		const struct thread *th = &a->t->threads[i];
		if (th->tid <= 0)
			continue;
		/* A thread not stopped, or not read, may be there: count it as inside. */
		if (!th->stopped || target_regs(a->t, th->tid, &r, NULL) < 0 || (r.rip > lo && r.rip < hi))
			return th->tid;
	}
	return 0;
}

/* The thunk entry of its own that hook kind k jumps to (thunk.S's FAST_ENTRY's), or -1: a stub to agent_thunk. */
static int fast_entry(const struct agent *a, int k)
{
	return k == AGENT_KIND_MALLOC ? 0 : k == AGENT_KIND_FREE ? 1 : k == AGENT_KIND_REALLOC && a->glibc_realloc ? 2 : -1;
}

static const uint32_t fast_offs[3] = { AGENT_THUNK_MALLOC_OFF, AGENT_THUNK_FREE_OFF, AGENT_THUNK_REALLOC_OFF };

/*
 * Prepare hook k at entry: relocate the instructions the jump displaces to
 * its thunk entry's tail (malloc, free, realloc) or to tramp, check nothing
 * jumps into them, write them and, for the other hooks, the stub. The entry
 * itself is patched later, all at once.
 */
static int prepare_hook(struct agent *a, int k, uint64_t entry, uint64_t stub, uint64_t tramp, struct mlz_err *err)
{
	int fast = fast_entry(a, k);
	size_t cap = TRAMP_SIZE;
	if (fast >= 0) {
		stub = a->area.code + fast_offs[fast]; /* jumped to straight from the entry */
		tramp = stub + AGENT_THUNK_TAIL_OFF;
		cap = AGENT_TAIL_SIZE;
	}
	struct agent_hook *h = &a->hooks[a->nhooks];
	uint8_t code[32];
	if (target_read(a->t, entry, code, sizeof(code)) != (ssize_t)sizeof(code))
		return mlz_error(err, "cannot read %s at 0x%llx", entry_names[k], (unsigned long long)entry);
	if (code[0] == 0xcc || code[0] == 0xe9)
		return mlz_error(err, "%s at 0x%llx is already patched (another tool?)", entry_names[k],
				 (unsigned long long)entry);
	static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
	size_t skip = memcmp(code, endbr64, 4) ? 0 : 4; /* indirect calls must still land on it */
	/* The bytes decoded are the process's; they must be its file's too (bp.h says why). */
	if (bp_check(a->t, &a->bps, entry + skip, err) < 0)
		return -1;
	uint8_t t[TRAMP_SIZE];
	size_t tlen;
	memcpy(t, endbr64, 4); /* the agent reaches the trampoline by an indirect call */
	int len = ool_build_run(code + skip, sizeof(code) - skip, entry + skip, tramp + 4, JMP_LEN, t + 4, cap - 4,
				&tlen, err);
	if (len < 0)
		return -1;
	/* bp_check saw 16 bytes; a longer displacement is checked to its end too. */
	uint8_t file[32];
	const char *module = NULL;
	if (len > 16 && (sym_file_code(a->sym, entry + skip, file, (size_t)len, &module, err) < len ||
			 memcmp(file, code + skip, (size_t)len)))
		return mlz_error(err, "the code of %s at 0x%llx in %s is not what its file holds there: not patched",
				 entry_names[k], (unsigned long long)entry, module ? module : "?");
	uint64_t lo, hi, from;
	if (sym_function_extent(a->sym, entry, &lo, &hi) &&
	    (from = ool_jumps_into(a->t, lo, hi, entry + skip, entry + skip + (uint64_t)len)))
		return mlz_error(err, "%s: the code at 0x%llx jumps into its first instructions", entry_names[k],
				 (unsigned long long)from);
	/* stub: mov $k, %r11d; jmp agent_thunk */
	uint8_t s[STUB_SIZE];
	memset(s, 0xcc, sizeof(s));
	s[0] = 0x41, s[1] = 0xbb;
	uint32_t idx = (uint32_t)a->nhooks;
	memcpy(s + 2, &idx, 4);
	s[6] = 0xe9;
	int32_t rel = (int32_t)(int64_t)(a->area.code - (stub + 11));
	memcpy(s + 7, &rel, 4);
	if ((fast < 0 && target_write(a->t, stub, s, sizeof(s), err) < 0) ||
	    target_write(a->t, tramp, t, tlen + 4, err) < 0)
		return -1;
	*h = (struct agent_hook){ .entry = entry, .site = entry + skip, .to = stub, .orig = tramp, .kind = k,
				  .cleanup_id = -1 };
	memcpy(h->saved, code + skip, JMP_LEN);
	a->nhooks++;
	return 0;
}

/* Write the jump on every prepared entry; the undo is registered before each write. */
static int patch_entries(struct agent *a, struct mlz_err *err)
{
	for (int i = 0; i < a->nhooks; i++) {
		struct agent_hook *h = &a->hooks[i];
		uint8_t j[JMP_LEN] = { 0xe9 };
		int32_t rel = (int32_t)(int64_t)(h->to - (h->site + JMP_LEN));
		memcpy(j + 1, &rel, 4);
		h->cleanup_id = cleanup_add_bytes(&a->t->cleanup, h->site, h->saved, j, JMP_LEN);
		if (target_write(a->t, h->site, j, JMP_LEN, err) < 0) {
			cleanup_forget(&a->t->cleanup, h->cleanup_id);
			h->cleanup_id = -1;
			return -1;
		}
	}
	return 0;
}

/* Whether a thread (every one stopped) may still run agent code: its PC there, or inside a hooked call. */
static bool agent_busy(struct agent *a)
{
	if (thread_inside(a, a->area.base - 1, a->area.base + a->area.size))
		return true;
	size_t n = sizeof(((struct agent_ctl *)0)->slots);
	struct agent_slot *slots = xmalloc(n);
	bool busy = target_read(a->t, a->ctl + offsetof(struct agent_ctl, slots), slots, n) != (ssize_t)n;
	for (size_t i = 0; !busy && i < AGENT_SLOTS; i++)
		busy = slots[i].key && slots[i].depth;
	free(slots);
	return busy;
}

/*
 * The agent's mapping goes once no thread can still be in it: none has its PC
 * there and none is inside a hooked call (which returns through it).
 * Registered before the entries' bytes, so it runs after they are restored.
 * Otherwise it stays, disarmed, and detach says how much was left.
 */
static int unmap_area(void *arg)
{
	struct agent *a = arg;
	if (a->t->emergency || !a->area.size)
		return 0;
	uint32_t off = 0;
	target_write(a->t, a->ctl + offsetof(struct agent_ctl, armed), &off, 4, NULL);
	bool busy = agent_busy(a);
	/* A process stopped by SIGSTOP has only group-stopped threads: one of them serves, and stays stopped. */
	pid_t tid = target_inject_thread(a->t);
	struct mlz_err err = { .msg = "no stopped thread to unmap it with" };
	if (!busy && tid && scratch_unmap(a->t, tid, a->syscall_insn, &a->area, &err) == 0)
		return 0;
	a->left_mapped = a->area.size;
	if (busy)
		strbuf_addf(&a->t->notices, "the agent's area 0x%llx-0x%llx stays mapped, disarmed: a thread was inside "
			    "an allocator call\n", (unsigned long long)a->area.base,
			    (unsigned long long)(a->area.base + a->area.size));
	else
		strbuf_addf(&a->t->notices, "%s: the agent's area 0x%llx-0x%llx stays mapped, disarmed\n", err.msg,
			    (unsigned long long)a->area.base, (unsigned long long)(a->area.base + a->area.size));
	return 0;
}

/* Undo a half-made install: entries first, then the mapping, while every thread is still stopped. */
static void undo(struct agent *a)
{
	for (int i = 0; i < a->nhooks; i++) {
		struct agent_hook *h = &a->hooks[i];
		if (h->cleanup_id < 0)
			continue;
		target_write(a->t, h->site, h->saved, JMP_LEN, NULL);
		cleanup_forget(&a->t->cleanup, h->cleanup_id);
	}
	a->nhooks = 0;
	if (a->cleanup_unmap >= 0) {
		cleanup_forget(&a->t->cleanup, a->cleanup_unmap);
		a->cleanup_unmap = -1;
	}
	pid_t tid = target_stopped_thread(a->t);
	struct mlz_err ignored;
	if (a->area.size && tid)
		scratch_unmap(a->t, tid, a->syscall_insn, &a->area, &ignored);
	a->area = (struct scratch){ 0 };
}

/*
 * Build the unwind tables of every module and write them into region
 * which (1 or 2). Returns which, or 0 when they cannot be made or do not fit.
 */
void agent_prepare(struct agent *a)
{
	struct mlz_err err;
	free(a->ready_tables);
	a->ready_tables = sym_refresh(a->sym, &err) < 0 ? NULL : sym_unwtab(a->sym, NULL, &err);
}

static int publish_tables(struct agent *a, int which)
{
	struct mlz_err err;
	/* Tables made while the process still ran (agent_prepare), when its modules are those still. */
	struct unw_modules *m = a->ready_tables;
	a->ready_tables = NULL;
	if (!m)
		m = sym_unwtab(a->sym, NULL, &err);
	if (!m)
		return 0;
	int r = m->size <= UNW_REGION && target_write(a->t, a->unw[which - 1], m, m->size, &err) == 0 ? which : 0;
	a->st.table_bytes = m->size;
	a->st.table_builds++;
	free(m);
	return r;
}

int agent_refresh_tables(struct agent *a)
{
	if (!a->installed || sym_refresh(a->sym, NULL) < 0)
		return -1;
	int which = publish_tables(a, a->unw_which == 1 ? 2 : 1);
	/* One byte: the agent sees the old region or the new one, never half of a pointer. */
	uint8_t w = (uint8_t)which;
	if (target_write(a->t, a->ctl + offsetof(struct agent_ctl, unw_which), &w, 1, NULL) < 0)
		return -1;
	a->unw_which = which;
	return 0;
}

/*
 * The system calls the agent itself makes in the process's threads: when its
 * ring is full (clock_gettime of CLOCK_MONOTONIC, nanosleep), and gettid for
 * each record when glibc's thread descriptor does not give the id. The
 * process's seccomp filter must let each through, or the agent does not go in.
 */
static int agent_calls_allowed(struct agent *a, struct mlz_err *err)
{
	const struct syscall_spec calls[] = {
		{ .nr = SYS_clock_gettime, .known = 1, .args = { CLOCK_MONOTONIC } },
		{ .nr = SYS_nanosleep },
		{ .nr = SYS_gettid },
	};
	pid_t tid = target_stopped_thread(a->t);
	if (!tid)
		return mlz_error(err, "no stopped thread to check the agent's system calls with");
	if (target_calls_allowed(a->t, tid, calls, a->tid_off ? 2 : 3, err) == 0)
		return 0;
	char why[sizeof(err->msg)];
	snprintf(why, sizeof(why), "%s", err->msg);
	return mlz_error_kind(err, MLZ_E_REFUSED, "%s, which the agent makes", why);
}

static int install(struct agent *a, const uint64_t *addrs, struct mlz_err *err)
{
	size_t blob = (size_t)(agent_blob_end - agent_blob);
	if (blob > AGENT_STUBS_OFF)
		return mlz_error(err, "the agent's image is too large");
	pid_t tid = target_stopped_thread(a->t);
	if (!tid)
		return mlz_error(err, "no stopped thread to map the agent with");
	if (!a->syscall_insn && !(a->syscall_insn = target_syscall_insn(a->t)))
		return mlz_error(err, "no syscall instruction found in the process's code");
	size_t ctl_size = (sizeof(struct agent_ctl) + 4095) & ~(size_t)4095;
	size_t data = ctl_size + RING_SIZE + 2 * UNW_REGION + STACK_ENTRIES * sizeof(struct agent_stack) +
		      FRAMES_CAP * sizeof(uint64_t) + CACHES_SIZE + SET_SIZE + HINT_SIZE;
	if (scratch_map(a->t, tid, a->syscall_insn, a->alloc_lo, a->alloc_hi, AGENT_DATA_OFF, data, &a->area, err) < 0)
		return -1;
	a->cleanup_unmap = cleanup_add_func(&a->t->cleanup, unmap_area, a);
	/* mmap passed (breakpoints need no more); the agent's own calls are its alone to need. */
	a->own_calls_refused = agent_calls_allowed(a, err) < 0;
	if (a->own_calls_refused)
		return -1;
	if (target_write(a->t, a->area.code, agent_blob, blob, err) < 0)
		return -1;
	a->ctl = data_base(a);
	a->ring = a->ctl + ctl_size;
	a->ring_size = RING_SIZE;
	a->tail = 0;
	struct agent_ctl c = { .magic = AGENT_MAGIC, .version = AGENT_VERSION, .ring = a->ring, .ring_size = RING_SIZE,
			       .tid_off = a->tid_off, .wait_ns = WAIT_NS, .unw_size = UNW_REGION,
			       .stacks_mask = STACK_ENTRIES - 1, .frames_cap = FRAMES_CAP };
	c.unw[0] = a->ring + RING_SIZE;
	c.unw[1] = c.unw[0] + UNW_REGION;
	c.stacks = c.unw[1] + UNW_REGION;
	c.frames = c.stacks + STACK_ENTRIES * sizeof(struct agent_stack);
	c.caches = c.frames + FRAMES_CAP * sizeof(uint64_t);
	c.set = c.caches + CACHES_SIZE;
	/* thunk.S's MAY_HOLD finds a bucket's end by its address */
	_Static_assert((AGENT_DATA_OFF | RING_SIZE | UNW_REGION | STACK_ENTRIES * sizeof(struct agent_stack) |
			FRAMES_CAP * sizeof(uint64_t) | CACHES_SIZE) % (AGENT_SET_WAYS * sizeof(uint64_t)) == 0,
		       "the set's buckets aligned");
	c.set_hint = c.set + SET_SIZE;
	c.set_mask = SET_MIN_BUCKETS - 1; /* the mapping is fresh: the set is empty, its hint all 0 */
	c.hint_mask = AGENT_HINT_MIN - 1;
	a->set = c.set, a->set_hint = c.set_hint, a->set_mask = c.set_mask, a->hint_mask = c.hint_mask;
	/* Sampling from the first call on (--sample): the set starts empty, as the live set does. */
	c.sample_seed = a->sample_seed;
	c.sample = a->sample_mean ? a->sample_mean << 8 | a->sample_gen : 0;
	a->set_used = a->sample_mean != 0;
	c.set_used = a->set_used;
	c.max_depth = (uint32_t)(a->ls->max_depth < AGENT_MAX_DEPTH ? a->ls->max_depth : AGENT_MAX_DEPTH);
	a->unw[0] = c.unw[0], a->unw[1] = c.unw[1];
	a->max_depth = c.max_depth;
	/* The tables of every module now; without them (none fit) mlyze unwinds each stack from a copy. */
	c.unw_which = (uint8_t)publish_tables(a, 1);
	stack_bounds(a, &c.main_stack_lo, &c.main_stack_hi);
	uint64_t tramp = a->area.code + AGENT_STUBS_OFF + AGENT_MAXHOOKS * STUB_SIZE;
	for (int k = 0; k < AK_NKINDS; k++) {
		bool dup = false; /* memalign and aligned_alloc may be one function: one hook serves both */
		for (int i = 0; i < a->nhooks; i++)
			dup |= a->hooks[i].entry == addrs[k];
		if (!addrs[k] || dup)
			continue;
		int i = a->nhooks;
		if (prepare_hook(a, k, addrs[k], a->area.code + AGENT_STUBS_OFF + (uint64_t)i * STUB_SIZE,
				 tramp + (uint64_t)i * TRAMP_SIZE, err) < 0) {
			if (k == AK_MALLOC || k == AK_FREE)
				return -1;
			/* Without this one entry, the rest is still traced exactly: say which is not. */
			strbuf_addf(&a->t->notices, "%s is not traced: %s\n", entry_names[k], err->msg);
			continue;
		}
		c.orig[i] = a->hooks[i].orig; /* its endbr64, then the displaced instructions */
		c.entry[i] = addrs[k];
		c.kind[i] = (uint32_t)k;
		if (fast_entry(a, k) >= 0)
			c.fast_hook[fast_entry(a, k)] = (uint8_t)i;
	}
	c.armed = 1;
	a->unw_which = c.unw_which;
	if (target_write(a->t, a->ctl, &c, offsetof(struct agent_ctl, slots), err) < 0)
		return -1;
	for (int i = 0; i < a->nhooks; i++) {
		pid_t in = thread_inside(a, a->hooks[i].site, a->hooks[i].site + JMP_LEN);
		if (in)
			return mlz_error(err, "thread %d is inside the first bytes of %s: try again", in,
					 entry_names[a->hooks[i].kind]);
	}
	return patch_entries(a, err);
}

int agent_install(struct agent *a, struct mlz_err *err)
{
	uint64_t addrs[AK_NKINDS];
	const char *mods[AK_NKINDS];
	if (sym_refresh(a->sym, err) < 0)
		return -1;
	sym_find_symbols(a->sym, entry_names, AK_NKINDS, addrs, mods);
	if (!addrs[AK_MALLOC] || !addrs[AK_FREE])
		return mlz_error(err, "no malloc and free in the process's symbols");
	free(a->module);
	a->module = xstrdup(mods[AK_MALLOC]);
	const char *rm = mods[AK_REALLOC], *slash = rm ? strrchr(rm, '/') : NULL;
	/* another allocator's pointers have no glibc chunk header before them */
	a->glibc_realloc = rm && !strcmp(slash ? slash + 1 : rm, "libc.so.6");
	target_module_text(a->t, addrs[AK_FREE], &a->alloc_lo, &a->alloc_hi);
	a->tid_off = find_tid_offset(a);
	a->cleanup_unmap = -1;
	a->breakpoints_too = false;
	/* Without malloc and free nothing is traced, and breakpoints would be refused there too. */
	static const int needed[] = { AK_MALLOC, AK_FREE };
	for (size_t i = 0; i < 2; i++) {
		if (bp_check(a->t, &a->bps, addrs[needed[i]], err) == 0)
			continue;
		a->breakpoints_too = true;
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return mlz_error(err, "cannot hook %s: %s", entry_names[needed[i]], msg);
	}
	if (install(a, addrs, err) < 0) {
		undo(a);
		if (err->kind == MLZ_E_REFUSED && !a->own_calls_refused) { /* the process's seccomp filter: breakpoints need the same call */
			a->breakpoints_too = true;
			char why[sizeof(err->msg)];
			snprintf(why, sizeof(why), "%s", err->msg);
			mlz_error_kind(err, MLZ_E_REFUSED,
				       "%s: tracing needs it; heap walks, stacks and cores still work (as with --no-trace)",
				       why);
		}
		return -1;
	}
	a->installed = true;
	return 0;
}

int agent_remove(struct agent *a, struct mlz_err *err)
{
	if (!a->installed || !target_runs(a->t))
		return 0;
	if (target_stop(a->t, err) < 0)
		return target_runs(a->t) ? -1 : 0; /* it reached its exit meanwhile: nothing of it runs again */
	agent_drain(a);
	/* No new call enters the agent... */
	for (int i = 0; i < a->nhooks; i++) {
		struct agent_hook *h = &a->hooks[i];
		if (h->cleanup_id >= 0 && target_write(a->t, h->site, h->saved, JMP_LEN, err) < 0)
			return -1;
		cleanup_forget(&a->t->cleanup, h->cleanup_id);
		h->cleanup_id = -1;
	}
	a->installed = false;
	/* ...and the calls inside it end within moments: let them, a few times over. */
	for (int tries = 0; tries < 50 && agent_busy(a); tries++) {
		if (target_resume(a->t, err) < 0)
			return -1;
		struct timespec nap = { 0, 2000000 };
		nanosleep(&nap, NULL);
		target_poll(a->t);
		if (!target_runs(a->t))
			return 0;
		if (target_stop(a->t, err) < 0)
			return target_runs(a->t) ? -1 : 0;
	}
	return 0; /* the cleanup registry unmaps it now, or says why it stays */
}

/* --- byte sampling --- */

/*
 * Put addr into a copy of the set and count it in a copy of the hint (the
 * process stopped, so no thread races them), unless it is there; false
 * when there is no room, or its hint byte is full.
 */
static bool set_put(uint64_t *set, uint8_t *hint, uint64_t mask, uint64_t hint_mask, uint64_t addr)
{
	uint64_t h = agent_set_hash(addr);
	uint64_t *slot = NULL;
	for (uint64_t i = 0; i < AGENT_SET_PROBE; i++) {
		uint64_t *b = set + ((h + i) & mask) * AGENT_SET_WAYS;
		for (int w = 0; w < AGENT_SET_WAYS; w++) {
			if (b[w] == addr)
				return true;
			if (b[w] <= AGENT_SET_REMOVED && !slot)
				slot = &b[w];
			if (!b[w])
				goto end; /* nothing further on, as the agent's lookup knows */
		}
	}
end:
	if (!slot || hint[h & hint_mask] == UINT8_MAX)
		return false;
	*slot = addr;
	hint[h & hint_mask]++;
	return true;
}

/*
 * Whether no thread can be in the middle of the agent: every thread stopped,
 * none with its PC in the agent or inside a hooked call. A thread stopped
 * there may hold a bucket's address computed with the old mask; so the set
 * is rebuilt only when none is, letting the process run a moment (up to 50
 * times 1 ms) until then. Every thread must be stopped; it is left so.
 */
static int quiesce(struct agent *a, struct mlz_err *err)
{
	for (int tries = 0; agent_busy(a); tries++) {
		if (tries == 50)
			return mlz_error(err, "a thread stays inside an allocator call: try again");
		if (target_resume(a->t, err) < 0)
			return -1;
		struct timespec nap = { 0, 1000000 };
		nanosleep(&nap, NULL);
		target_poll(a->t);
		if (target_stop(a->t, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * Rebuild the address set with mask + 1 buckets from the blocks the live
 * set holds, every thread stopped and none inside the agent: going from
 * every call to sampling (the blocks recorded exactly must keep their
 * frees), or growing it. A block that finds no room leaves the live set,
 * since its free would never be seen (stats counts it).
 */
static int rebuild_set(struct agent *a, uint64_t mask, uint64_t hint_mask, struct mlz_err *err)
{
	if (quiesce(a, err) < 0)
		return -1;
	agent_drain(a); /* what the calls that just ended recorded */
	size_t size = (size_t)(mask + 1) * AGENT_SET_WAYS * sizeof(uint64_t);
	uint64_t *set = xcalloc(1, size);
	uint8_t *hint = xcalloc(1, hint_mask + 1);
	size_t nout = 0, alloc = 0;
	uint64_t *out = NULL;
	BLOCKTAB_FOREACH(&a->ls->blocks, b) {
		if (!set_put(set, hint, mask, hint_mask, b->addr)) {
			ALLOC_GROW(out, nout + 1, alloc);
			out[nout++] = b->addr;
		}
	}
	int r = target_write(a->t, a->set, set, size, err);
	if (r == 0)
		r = target_write(a->t, a->set_hint, hint, hint_mask + 1, err);
	if (r == 0)
		r = target_write(a->t, a->ctl + offsetof(struct agent_ctl, set_mask), &mask, sizeof(mask), err);
	if (r == 0)
		r = target_write(a->t, a->ctl + offsetof(struct agent_ctl, hint_mask), &hint_mask, sizeof(hint_mask),
				 err);
	free(set);
	free(hint);
	if (r == 0) {
		a->set_mask = mask;
		a->hint_mask = hint_mask;
		for (size_t i = 0; i < nout; i++)
			liveset_remove(a->ls, out[i]);
		a->st.set_overflow += nout;
	}
	free(out);
	return r;
}

/*
 * The masks of a set with room for the live set's blocks at a quarter full
 * (at most SET_BUCKETS) and of a hint with HINT_PER_BLOCK bytes for each (at
 * most AGENT_HINT_MAX), each growing fourfold, never shrinking.
 */
static void masks_for(const struct agent *a, uint64_t *mask, uint64_t *hint_mask)
{
	size_t n = a->ls->blocks.n;
	*mask = a->set_mask, *hint_mask = a->hint_mask;
	while (*mask + 1 < SET_BUCKETS && n > (*mask + 1) * AGENT_SET_WAYS / 4)
		*mask = *mask * 4 + 3;
	while (*hint_mask + 1 < AGENT_HINT_MAX && n > (*hint_mask + 1) / HINT_PER_BLOCK)
		*hint_mask = *hint_mask * 4 + 3;
}

bool agent_set_wants_room(const struct agent *a)
{
	uint64_t mask, hint_mask;
	if (!a->installed || !a->sample_mean || mono_ms() < (double)a->grow_after)
		return false;
	masks_for(a, &mask, &hint_mask);
	return mask != a->set_mask || hint_mask != a->hint_mask;
}

int agent_grow_set(struct agent *a, struct mlz_err *err)
{
	uint64_t mask, hint_mask;
	masks_for(a, &mask, &hint_mask);
	if (mask == a->set_mask && hint_mask == a->hint_mask)
		return 0;
	int r = rebuild_set(a, mask, hint_mask, err);
	if (r < 0) { /* not again for a second of drains; the notice only the first time */
		bool first = !a->grow_after;
		a->grow_after = (uint64_t)mono_ms() + 1000;
		if (!first)
			r = 0;
	}
	return r;
}

int agent_set_sample(struct agent *a, uint64_t mean, struct mlz_err *err)
{
	if (mean > (UINT64_MAX >> 8))
		return mlz_error_kind(err, MLZ_E_USAGE, "a sampling mean of %llu bytes is too large",
				      (unsigned long long)mean);
	unsigned gen = a->sample_gen;
	if (mean) {
		gen = gen % 255 + 1; /* 1..255: generation 0 is every call, always */
		a->gen_mean[gen] = mean;
	}
	if (a->installed) {
		agent_drain(a); /* what was recorded at the old mean, read at it */
		uint64_t mask, hint_mask;
		masks_for(a, &mask, &hint_mask);
		if (mean && !a->sample_mean && rebuild_set(a, mask, hint_mask, err) < 0)
			return -1;
		/* Never sampled, never a set to look in: `set sample 0` keeps every call on the short path. */
		a->set_used = a->set_used || mean;
		struct { uint64_t sample, seed, set, set_mask; uint32_t set_used; } w = {
			mean ? mean << 8 | gen : 0, a->sample_seed, a->set, a->set_mask, a->set_used,
		};
		_Static_assert(offsetof(struct agent_ctl, set_used) - offsetof(struct agent_ctl, sample) == 32,
			       "sample, seed, set, set_mask, set_used");
		if (target_write(a->t, a->ctl + offsetof(struct agent_ctl, sample), &w, 36, err) < 0)
			return -1;
	}
	a->sample_gen = gen;
	a->sample_mean = mean;
	liveset_set_sampling(a->ls, mean);
	return 0;
}

uint64_t agent_unsampled(struct agent *a)
{
	uint64_t n = a->st.unsampled_noslot;
	if (!a->installed || !target_readable(a->t))
		return n + a->unsampled_seen;
	size_t size = sizeof(((struct agent_ctl *)0)->slots);
	struct agent_slot *slots = xmalloc(size);
	if (target_read(a->t, a->ctl + offsetof(struct agent_ctl, slots), slots, size) == (ssize_t)size) {
		uint64_t sum = 0;
		for (size_t i = 0; i < AGENT_SLOTS; i++)
			sum += slots[i].unsampled;
		a->unsampled_seen = sum;
	}
	free(slots);
	return n + a->unsampled_seen;
}

/* --- a program that has yet to load libc (run, exec) --- */

/*
 * Before libc is loaded there is nothing to hook: an int3 on the dynamic
 * linker's _dl_debug_state (in a small scratch area of its own) says when
 * the libraries are in place; the thread that hit it is held until the
 * install, which then takes the breakpoint out again.
 */
static int loader_cleanup(void *arg);

static int watch_loader(struct agent *a, struct mlz_err *err)
{
	static const char *const names[] = { "_r_debug", "_dl_debug_state" };
	uint64_t addrs[2];
	const char *mods[2];
	if (sym_refresh(a->sym, err) < 0)
		return -1;
	sym_find_symbols(a->sym, names, 2, addrs, mods);
	a->r_debug = addrs[0];
	if (!addrs[0] || !addrs[1])
		return mlz_error(err, "no dynamic linker breakpoint (_dl_debug_state) to wait for libraries with");
	pid_t tid = target_stopped_thread(a->t);
	if (!tid)
		return mlz_error(err, "no stopped thread to map a scratch area with");
	if (!a->syscall_insn && !(a->syscall_insn = target_syscall_insn(a->t)))
		return mlz_error(err, "no syscall instruction found in the process's code");
	if (scratch_map(a->t, tid, a->syscall_insn, addrs[1], addrs[1] + 1, 4096, 0, &a->ldsc, err) < 0)
		return -1;
	/* Registered first, so it runs after the byte is back: a thread in the slot goes home. */
	a->cleanup_loader = cleanup_add_func(&a->t->cleanup, loader_cleanup, a);
	if (bp_insert(a->t, &a->bps, &a->ldsc, addrs[1], 0, err) < 0) {
		cleanup_forget(&a->t->cleanup, a->cleanup_loader);
		a->cleanup_loader = -1;
		struct mlz_err ignored;
		scratch_unmap(a->t, tid, a->syscall_insn, &a->ldsc, &ignored);
		return -1;
	}
	return 0;
}

/* A thread in the breakpoint's slot (the one held for the install) goes back to the original instruction. */
static void leave_slot(struct agent *a, const struct bp *b)
{
	for (size_t i = 0; i < a->t->nthreads; i++) {
		struct user_regs_struct r;
		pid_t tid = a->t->threads[i].tid;
		if (target_regs(a->t, tid, &r, NULL) == 0 && r.rip >= b->ool && r.rip < b->ool + OOL_SLOT) {
			r.rip = b->addr; /* the slot's first instruction is the displaced one: nothing ran yet */
			target_setregs(a->t, tid, &r, NULL);
		}
	}
}

/* The cleanup registry's undo of watch_loader, after the byte is restored (not the area from the crash handler). */
static int loader_cleanup(void *arg)
{
	struct agent *a = arg;
	if (a->bps.n)
		leave_slot(a, &a->bps.v[0]);
	pid_t tid = target_inject_thread(a->t);
	struct mlz_err ignored;
	if (!a->t->emergency && tid && a->ldsc.size)
		scratch_unmap(a->t, tid, a->syscall_insn, &a->ldsc, &ignored);
	return 0;
}

/* The libraries are loaded: the breakpoint and its area go. */
static void unwatch_loader(struct agent *a)
{
	if (!a->bps.n)
		return;
	const struct bp *b = &a->bps.v[0];
	leave_slot(a, b);
	target_write(a->t, b->addr, b->orig, 1, NULL);
	bp_drop(a->t, &a->bps, b->addr);
	cleanup_forget(&a->t->cleanup, a->cleanup_loader);
	a->cleanup_loader = -1;
	pid_t tid = target_stopped_thread(a->t);
	struct mlz_err ignored;
	if (tid && a->ldsc.size)
		scratch_unmap(a->t, tid, a->syscall_insn, &a->ldsc, &ignored);
	a->ldsc = (struct scratch){ 0 };
}

static int on_sigtrap(void *arg, struct target *t, pid_t tid, struct user_regs_struct *regs)
{
	struct agent *a = arg;
	const struct bp *b = a->bps.n ? &a->bps.v[0] : NULL;
	if (!b || regs->rip - 1 != b->addr)
		return 0;
	regs->rip = b->ool;
	int r = 1;
	int32_t state = -1; /* r_state RT_CONSISTENT (0): the libraries are in place */
	if (!a->installed && target_read(t, a->r_debug + 24, &state, 4) == 4 && state == 0) {
		a->want_install = true;
		r = 2;
	}
	struct mlz_err err;
	return target_setregs(t, tid, regs, &err) < 0 ? 0 : r;
}

int agent_install_pending(struct agent *a, struct mlz_err *err)
{
	if (!a->want_install || !target_runs(a->t))
		return 0;
	a->want_install = false;
	if (target_stop(a->t, err) < 0)
		return -1;
	unwatch_loader(a);
	int r = agent_install(a, err);
	struct mlz_err e2;
	target_resume(a->t, &e2);
	if (r == 0 && a->execs)
		strbuf_addf(&a->t->notices, "allocation tracing resumed in the new program (allocator in %s)\n", a->module);
	return r;
}

/* --- process life --- */

/* A fork child has a copy of the hooks: put its entries back before it runs. */
static int on_fork_child(void *arg, struct target *t, pid_t child)
{
	struct agent *a = arg;
	struct mlz_err err;
	for (int i = 0; i < a->nhooks; i++) {
		if (target_write_pid(child, a->hooks[i].site, a->hooks[i].saved, JMP_LEN, &err) < 0) {
			strbuf_addf(&t->notices, "fork child %d keeps the agent's hooks (%s)\n", child, err.msg);
			return -1;
		}
	}
	return 0;
}

static void on_exec(void *arg, struct target *t)
{
	struct agent *a = arg;
	struct mlz_err err;
	/*
	 * The old image, hooks and agent are gone with it (the target emptied the
	 * cleanup registry already); snapshots keep what was recorded.
	 */
	bp_forget_all(&a->bps);
	a->cleanup_unmap = a->cleanup_loader = -1;
	a->nhooks = 0;
	a->area = a->ldsc = (struct scratch){ 0 };
	bool was = a->installed;
	if (!t->launching)
		a->execs++;
	a->installed = a->want_install = false;
	a->syscall_insn = 0;
	a->tail = 0;
	a->broken = false;
	u64map_clear(&a->stk); /* the new agent numbers its stacks from 1 again */
	a->npcs = 0;
	u64map_clear(&a->stk_ls);
	liveset_forget_blocks(a->ls);
	/* A static program has its allocator already; a dynamic one loads it first. */
	if (agent_install(a, &err) == 0 || watch_loader(a, &err) == 0)
		return;
	if (was || !t->launching)
		strbuf_addf(&t->notices, "allocation tracing is off in the new program: %s\n", err.msg);
	else
		strbuf_addf(&t->notices, "allocation tracing is off: %s\n", err.msg);
}

static void on_thread_exit(void *arg, struct target *t, pid_t tid, bool last)
{
	(void)t;
	(void)tid;
	struct agent *a = arg;
	agent_drain(a);
	if (last && a->on_process_exit)
		a->on_process_exit(a->exit_arg);
}

struct agent *agent_new(struct target *t, struct sym *sym, struct liveset *ls)
{
	struct agent *a = xcalloc(1, sizeof(*a));
	a->t = t;
	a->sym = sym;
	a->ls = ls;
	a->cleanup_unmap = -1;
	a->cleanup_loader = -1;
	a->last_tid = -1;
	a->bps.file_code = sym_file_code_cb;
	a->bps.file_code_arg = sym;
	t->hooks = (struct target_hooks){
		.arg = a, .on_sigtrap = on_sigtrap, .on_fork_child = on_fork_child, .on_exec = on_exec,
		.on_thread_exit = on_thread_exit,
	};
	agent_attach_source(a);
	return a;
}

void agent_free(struct agent *a)
{
	if (!a)
		return;
	if (a->ls->src_arg == a)
		liveset_detach_source(a->ls);
	free(a->module);
	free(a->ready_tables);
	free(a->bps.v);
	u64map_release(&a->stk);
	free(a->stk_pcs);
	u64map_release(&a->stk_ls);
	free(a->buf);
	free(a->areas);
	free(a);
}
