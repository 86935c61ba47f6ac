// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * fuzz-leaks.c - libFuzzer target: `leaks` on a damaged core. Input: u64 main_arena, u64 mp, u64
 * tcache (glibc's state, as symbols would give it), then the bytes of a core file. The core is
 * opened as a target, its heap walked, its roots gathered and scanned, the classes computed and a
 * path searched, as `mlyze core FILE -e leaks -e path` does. Each step must answer or refuse, never
 * crash, and end in time whatever the segments, notes and registers say. FUZZ_VERBOSE=1 prints
 * each input's blocks per class (to check a seed: of its own 40 blocks mkseed leaves 24 reachable,
 * 4 possibly lost, 3 definitely and 9 indirectly lost; the blocks of its other work add to these).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "graph.h"
#include "heap.h"
#include "target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t hdr[3];
	if (size < sizeof(hdr))
		return 0;
	memcpy(hdr, data, sizeof(hdr));
	int fd = memfd_create("core", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data + sizeof(hdr), size - sizeof(hdr)) != (ssize_t)(size - sizeof(hdr))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct mlz_err err;
	struct target *t = target_open_core(path, NULL, &err);
	if (t) {
		struct glibc_thread *th = calloc(t->nthreads ? t->nthreads : 1, sizeof(*th));
		for (size_t i = 0; i < t->nthreads; i++)
			th[i] = (struct glibc_thread){ t->threads[i].tid, i ? 0 : hdr[2] };
		struct glibc_where w = { .version = "2.36", .main_arena = hdr[0], .mp = hdr[1], .how = "fuzz",
					 .nthreads = t->nthreads, .threads = th };
		struct graph_take_opts o = { .where = &w };
		struct graph g = { 0 };
		if (graph_take(t, NULL, &o, &g, &err) == 0) {
			size_t lost = 0, per[LEAK_NSTATES] = { 0 };
			for (size_t i = 0; i < g.n; i++) {
				lost += g.state[i] != LEAK_REACHABLE;
				per[g.state[i]]++;
			}
			if (getenv("FUZZ_VERBOSE"))
				fprintf(stderr, "blocks %zu: reachable %zu, possibly %zu, indirectly %zu, definitely %zu\n", g.n,
					per[LEAK_REACHABLE], per[LEAK_POSSIBLY], per[LEAK_INDIRECTLY], per[LEAK_DEFINITELY]);
			if (g.n) {
				size_t root;
				uint32_t *chain = NULL;
				graph_path(&g, (uint32_t)(lost % g.n), &root, &chain);
				free(chain);
			}
			graph_release(&g);
		}
		free(th);
		target_free(t);
	}
	close(fd);
	return 0;
}
