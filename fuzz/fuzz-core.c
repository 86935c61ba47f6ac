// SPDX-License-Identifier: GPL-3.0-or-later
/* fuzz-core.c - libFuzzer target: any bytes as a core file; the reader must answer or refuse, never crash. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("core", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		return 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct mlz_err err;
	struct core *c = core_open(path, NULL, &err);
	if (c) {
		struct maps m;
		uint8_t buf[256];
		core_maps(c, &m);
		for (size_t i = 0; i < m.n; i++)
			core_read(c, m.v[i].start, buf, sizeof(buf));
		maps_release(&m);
		core_undumped_writable(c);
		core_close(c);
	}
	close(fd);
	return 0;
}
