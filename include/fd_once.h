/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fd_once.h - a file opened on first use, safely when two threads ask at once. */
#ifndef MLZ_FD_ONCE_H
#define MLZ_FD_ONCE_H

/*
 * The descriptor in *slot (-1 until opened), opening path with flags the
 * first time. Two threads may race: both open, one descriptor is kept and
 * the other closed. Returns -1 with errno when the open fails (*slot stays
 * -1: a later call tries again).
 */
int fd_once(int *slot, const char *path, int flags);

/* The descriptor in *slot, or -1 when it is not open yet: fd_once's cheap half. */
static inline int fd_opened(const int *slot)
{
	return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
}

#endif
