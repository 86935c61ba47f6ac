// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * glibc_locate.c - where the target's glibc keeps its malloc state: which
 * module binds malloc, the glibc version, main_arena and mp_ (from libc's
 * debug symbols, found by build-id, else by the heuristics of glibc_find.c)
 * and each thread's tcache (through its TLS block, located by the dtv).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glibc_layout.h"
#include "heap.h"
#include "proc.h"
#include "sym.h"
#include "target.h"
#include "xalloc.h"

#define MAX_LIBC_FILE (64u << 20)

/* "2.36" from the banner every libc.so carries ("... release version 2.36."). */
static int libc_version(struct target *t, const struct map_entry *e, char *out, size_t len)
{
	static const char needle[] = "release version ";
	/* A live process's file as it sees it (its mount namespace); a core names files on this machine. */
	int fd = target_core(t) ? open(e->path, O_RDONLY | O_CLOEXEC) : proc_open_mapped(t->pid, e);
	struct stat st;
	int ret = -1;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < MAX_LIBC_FILE) {
		char *buf = xmalloc((size_t)st.st_size + 1);
		if (read(fd, buf, (size_t)st.st_size) == st.st_size) {
			buf[st.st_size] = 0;
			const char *p = memmem(buf, (size_t)st.st_size, needle, sizeof(needle) - 1);
			if (p) {
				p += sizeof(needle) - 1;
				size_t n = strspn(p, "0123456789.");
				if (n && p[n - 1] == '.')
					n--; /* the sentence's period */
				if (n && n < len) {
					memcpy(out, p, n);
					out[n] = 0;
					ret = 0;
				}
			}
		}
		free(buf);
	}
	close(fd);
	return ret;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static bool is_glibc(const char *module)
{
	return !strncmp(module, "libc.so", 7) || !strncmp(module, "libc-2.", 7);
}

static const char *allocator_name(const char *module)
{
	static const char *const known[][2] = {
		{ "jemalloc", "jemalloc" }, { "tcmalloc", "tcmalloc" }, { "mimalloc", "mimalloc" },
		{ "hoard", "Hoard" },       { "snmalloc", "snmalloc" }, { "rpmalloc", "rpmalloc" },
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strstr(module, known[i][0]))
			return known[i][1];
	return "an allocator of its own";
}

/* libc's writable data: its read-write file mappings and the anonymous .bss right after them. */
static int libc_data_range(const struct maps *maps, const char *path, uint64_t *lo, uint64_t *hi)
{
	*lo = *hi = 0;
	for (size_t i = 0; i < maps->n; i++) {
		const struct map_entry *e = &maps->v[i];
		if (strcmp(e->path, path) != 0 || e->perms[1] != 'w')
			continue;
		if (!*lo)
			*lo = e->start;
		*hi = e->end;
		if (i + 1 < maps->n && !maps->v[i + 1].path[0] && maps->v[i + 1].start == e->end &&
		    maps->v[i + 1].perms[1] == 'w')
			*hi = maps->v[i + 1].end;
	}
	return *lo ? 0 : -1;
}

/* The thread's TLS block of module modid: tcb (fs_base) -> dtv -> dtv[modid].val. */
static uint64_t tls_block(const struct memsrc *m, uint64_t fs_base, size_t modid)
{
	uint64_t dtv, block;
	if (!fs_base || !mem_word(m, fs_base + 8, &dtv) || !mem_word(m, dtv + 16 * modid, &block))
		return 0;
	/* Static TLS lies just below the thread pointer (x86-64 is TLS variant II). */
	if (block >= fs_base || fs_base - block > (16u << 20))
		return 0;
	return block;
}

int glibc_locate(struct target *t, struct sym *sym, const struct maps *maps, const struct memsrc *m,
		 struct glibc_where *w, struct mlz_err *err)
{
	memset(w, 0, sizeof(*w));
	const char *names[] = { "malloc" };
	uint64_t addr;
	const char *module;
	sym_find_symbols(sym, names, 1, &addr, &module);
	if (!addr)
		return mlz_error(err, "no malloc in this process: it has no allocator mlyze can walk");
	if (!is_glibc(module))
		return mlz_error(err,
				 "malloc here is %s's (%s), not glibc's: heap and arenas need glibc malloc; "
				 "threads, bt, maps and allocation tracing still work",
				 module, allocator_name(module));
	const struct map_entry *e = maps_find(maps, addr);
	if (!e || !e->path[0])
		return mlz_error(err, "cannot find the file %s is mapped from", module);
	if (libc_version(t, e, w->version, sizeof(w->version)) < 0)
		return mlz_error(err, "cannot tell the glibc version of %s", e->path);
	if (!glibc_version_supported(w->version))
		return mlz_error(err, "glibc %s found; mlyze's heap walker knows the layouts of glibc 2.35 to 2.40",
				 w->version);

	const char *syms[] = { "main_arena", "mp_", "tcache" };
	uint64_t vals[3];
	sym_module_symbols(sym, base_name(e->path), syms, 3, vals);
	if (vals[0] && vals[1]) {
		w->main_arena = vals[0];
		w->mp = vals[1];
		w->how = "debug symbols";
	} else {
		uint64_t lo, hi;
		vals[2] = 0; /* one source for all three */
		if (libc_data_range(maps, e->path, &lo, &hi) < 0)
			return mlz_error(err, "cannot find the writable data of %s", e->path);
		w->main_arena = glibc_find_main_arena(m, lo, hi);
		if (!w->main_arena)
			return mlz_error(err, "no debug symbols for %s and no valid main_arena in its data "
					      "(install libc6-dbg, or the heap is damaged)", e->path);
		w->mp = glibc_find_mp(m, lo, hi, w->main_arena);
		if (!w->mp)
			return mlz_error(err, "no debug symbols for %s and no single valid mp_ in its data", e->path);
		w->how = "heuristic";
	}

	size_t modid;
	uint64_t tls_size;
	if (sym_module_tls(sym, base_name(e->path), &modid, &tls_size) < 0)
		return 0; /* no TLS: no tcache to find (the walk says what it could not label) */
	w->threads = xcalloc(t->nthreads ? t->nthreads : 1, sizeof(*w->threads));
	for (size_t i = 0; i < t->nthreads; i++) {
		struct user_regs_struct regs;
		struct mlz_err ignored;
		struct glibc_thread *th = &w->threads[w->nthreads++];
		th->tid = t->threads[i].tid;
		if (target_regs(t, th->tid, &regs, &ignored) < 0)
			continue;
		uint64_t block = tls_block(m, regs.fs_base, modid), slot = 0;
		if (!block)
			continue;
		slot = vals[2] ? block + vals[2] : glibc_find_tcache_slot(m, block, block + tls_size);
		if (slot)
			mem_word(m, slot, &th->tcache);
	}
	return 0;
}

void glibc_prepare(struct sym *sym)
{
	/* libdwfl reads a module's symbol table (libc's debug file: megabytes) on first use. */
	const char *names[] = { "malloc" }, *module;
	const char *syms[] = { "main_arena" };
	uint64_t addr, val;
	if (!sym)
		return;
	sym_find_symbols(sym, names, 1, &addr, &module);
	if (addr && is_glibc(module))
		sym_module_symbols(sym, module, syms, 1, &val);
}

size_t glibc_state_ranges(const struct glibc_where *w, uint64_t (*out)[2])
{
	out[0][0] = w->mp;
	out[0][1] = w->mp + MP_SIZE;
	out[1][0] = w->main_arena;
	out[1][1] = w->main_arena + MS_SIZE;
	return 2;
}

void glibc_where_copy(struct glibc_where *to, const struct glibc_where *w)
{
	*to = *w;
	to->threads = xmalloc((w->nthreads ? w->nthreads : 1) * sizeof(*to->threads));
	if (w->nthreads)
		memcpy(to->threads, w->threads, w->nthreads * sizeof(*to->threads));
}

void glibc_where_release(struct glibc_where *w)
{
	free(w->threads);
	memset(w, 0, sizeof(*w));
}
