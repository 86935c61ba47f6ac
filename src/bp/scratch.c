// SPDX-License-Identifier: GPL-3.0-or-later
/* scratch.c - a scratch area mapped into the target near the code it serves, by injected mmap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "bp.h"
#include "proc.h"
#include "target.h"
#include "xalloc.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE 4096ull
#define REACH (1ull << 31)
/* Above the brk heap's end, what a scratch area leaves it to grow into. */
#define BRK_ROOM (4ull << 30)

bool scratch_reaches(const struct scratch *sc, uint64_t lo, uint64_t hi)
{
	uint64_t a = sc->base, b = sc->base + sc->size;
	uint64_t span_lo = a < lo ? a : lo, span_hi = b > hi ? b : hi;
	return span_hi - span_lo < REACH - PAGE;
}

/*
 * Where the brk heap grows next: the end of [heap], or before the first sbrk
 * the kernel's start_brk (field 47 of /proc/PID/stat). 0 if unknown.
 */
static uint64_t brk_now(pid_t pid, const struct maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].path, "[heap]"))
			return m->v[i].end;
	return proc_stat_field(pid, 47); /* start_brk */
}

/*
 * Candidate addresses for size bytes in the gaps of the maps, nearest to
 * [near, near_end) first. Never just above the brk heap: a mapping there would
 * make the program's next sbrk fail.
 */
static size_t candidates(const struct maps *m, uint64_t brk, uint64_t near, uint64_t near_end, uint64_t size,
			 uint64_t *out, size_t max)
{
	size_t n = 0;
	uint64_t prev_end = 0x10000;
	for (size_t i = 0; i <= m->n && n < max; i++) {
		uint64_t gap_lo = prev_end, gap_hi = i < m->n ? m->v[i].start : 0x7ffffffff000ull;
		if (i < m->n)
			prev_end = m->v[i].end;
		/* Leave a guard page on each side of the gap. */
		if (gap_hi <= gap_lo || gap_hi - gap_lo < size + 2 * PAGE)
			continue;
		if (brk && gap_lo <= brk && brk < gap_hi) {
			if (gap_hi - brk < BRK_ROOM + size + PAGE)
				continue;
			gap_lo = brk + BRK_ROOM; /* the heap's room to grow stays free */
		}
		uint64_t c = gap_hi <= near ? gap_hi - PAGE - size : gap_lo + PAGE;
		uint64_t lo = c < near ? c : near, hi = c + size > near_end ? c + size : near_end;
		if (hi - lo < REACH - PAGE)
			out[n++] = c;
	}
	/* Nearest first. */
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++) {
			uint64_t da = out[a] > near ? out[a] - near : near - out[a];
			uint64_t db = out[b] > near ? out[b] - near : near - out[b];
			if (db < da) {
				uint64_t x = out[a];
				out[a] = out[b];
				out[b] = x;
			}
		}
	return n;
}

int scratch_map(struct target *t, pid_t tid, uint64_t insn, uint64_t near, uint64_t near_end, size_t code_size,
		size_t data_size, struct scratch *sc, struct mlz_err *err)
{
	code_size = (code_size + PAGE - 1) & ~(PAGE - 1);
	data_size = (data_size + PAGE - 1) & ~(PAGE - 1);
	uint64_t size = code_size + data_size;
	struct maps m = { 0 };
	if (proc_maps(t->pid, &m, err) < 0)
		return -1;
	uint64_t cands[64];
	size_t n = candidates(&m, brk_now(t->pid, &m), near, near_end, size, cands, 64);
	maps_release(&m);
	for (size_t i = 0; i < n; i++) {
		long ret;
		const long args[6] = { (long)cands[i], (long)size, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0 };
		if (target_inject_syscall(t, tid, insn, SYS_mmap, args, &ret, err) < 0)
			return -1;
		if (ret < 0 && ret > -4096)
			continue; /* EEXIST: taken since we read the maps */
		if ((uint64_t)ret != cands[i]) { /* an old kernel ignoring NOREPLACE: give it back */
			const long un[6] = { ret, (long)size, 0, 0, 0, 0 };
			target_inject_syscall(t, tid, insn, SYS_munmap, un, &ret, err);
			continue;
		}
		/* The code part becomes read+execute; /proc/PID/mem still writes it for us. */
		const long mp[6] = { (long)cands[i], (long)code_size, PROT_READ | PROT_EXEC, 0, 0, 0 };
		if (target_inject_syscall(t, tid, insn, SYS_mprotect, mp, &ret, err) < 0)
			ret = -1;
		else if (ret != 0)
			mlz_error(err, "mprotect of the scratch area failed: %s", strerror((int)-ret));
		struct scratch made = {
			.base = cands[i], .size = size, .code = cands[i], .code_size = code_size,
			.data = cands[i] + code_size, .data_size = data_size,
		};
		/* Fill the code part with int3 so a stray jump into it traps instead of running garbage. */
		uint8_t *fill = xmalloc(code_size);
		memset(fill, 0xcc, code_size);
		if (ret == 0 && target_write(t, made.code, fill, code_size, err) < 0)
			ret = -1;
		free(fill);
		if (ret != 0) { /* not left behind half made */
			struct mlz_err ignored;
			scratch_unmap(t, tid, insn, &made, &ignored);
			return -1;
		}
		*sc = made;
		return 0;
	}
	return mlz_error(err, "no room for a scratch area within 2 GiB of 0x%llx", (unsigned long long)near);
}

uint64_t scratch_take(struct scratch *sc, size_t len)
{
	size_t at = (sc->code_used + 15) & ~(size_t)15;
	if (at + len > sc->code_size)
		return 0;
	sc->code_used = at + len;
	return sc->code + at;
}

int scratch_unmap(struct target *t, pid_t tid, uint64_t insn, struct scratch *sc, struct mlz_err *err)
{
	long ret;
	const long args[6] = { (long)sc->base, (long)sc->size, 0, 0, 0, 0 };
	if (target_inject_syscall(t, tid, insn, SYS_munmap, args, &ret, err) < 0)
		return -1;
	if (ret != 0)
		return mlz_error(err, "munmap of the scratch area failed: %s", strerror((int)-ret));
	sc->size = 0;
	return 0;
}
