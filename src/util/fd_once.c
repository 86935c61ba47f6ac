// SPDX-License-Identifier: GPL-3.0-or-later
/* fd_once.c - a file opened on first use; the graph's scan reads memory from two threads. */
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "fd_once.h"

int fd_once(int *slot, const char *path, int flags)
{
	int fd = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (fd >= 0)
		return fd;
	fd = open(path, flags);
	if (fd < 0)
		return -1;
	int none = -1;
	if (__atomic_compare_exchange_n(slot, &none, fd, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return fd;
	close(fd); /* another thread's open won */
	return none;
}
