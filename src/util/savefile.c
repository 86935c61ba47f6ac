// SPDX-License-Identifier: GPL-3.0-or-later
/* savefile.c - writing a whole file through a temporary one next to it, renamed into place when complete. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "savefile.h"
#include "xalloc.h"

int savefile_check(const char *path, bool force, const char *who, struct mlz_err *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : mlz_error_errno(err, errno, "cannot write '%s'", path);
	if (S_ISLNK(st.st_mode))
		return mlz_error(err, "'%s' is a symbolic link; %s does not write through one or replace it, "
				 "even with --force", path, who);
	if (S_ISDIR(st.st_mode))
		return mlz_error_errno(err, EISDIR, "cannot write '%s'", path);
	if (!force)
		return mlz_error(err, "'%s' exists already; --force replaces it", path);
	return 0;
}

int savefile_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/*
 * Without force the name must still be free when the file is whole:
 * RENAME_NOREPLACE keeps a file created meanwhile; a filesystem without it
 * gets the plain rename after the check at the start.
 */
int savefile_put_in_place(const char *tmp, const char *path, bool force)
{
	if (!force) {
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EINVAL && errno != ENOSYS)
			return -1;
	}
	return rename(tmp, path);
}

int savefile_create_temp(const char *path, mode_t mode, char **tmp, struct mlz_err *err)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	*tmp = xasprintf("%.*s.%s.XXXXXX", dirlen, path, path + dirlen);
	int fd = mkostemp(*tmp, O_CLOEXEC); /* O_EXCL, mode 0600 */
	if (fd >= 0 && mode != 0600 && fchmod(fd, mode) < 0) {
		int e = errno;
		close(fd);
		unlink(*tmp);
		errno = e;
		fd = -1;
	}
	if (fd < 0) {
		mlz_error_errno(err, errno, "cannot create '%s'", path);
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

int savefile_write(const char *path, const void *buf, size_t len, mode_t mode, bool force, const char *who,
		   struct mlz_err *err)
{
	if (savefile_check(path, force, who, err) < 0)
		return -1;
	char *tmp;
	int fd = savefile_create_temp(path, mode, &tmp, err);
	if (fd < 0)
		return -1;
	int ret = -1;
	if (savefile_pwrite_all(fd, buf, len, 0) < 0) {
		mlz_error_errno(err, errno, "cannot write '%s'", path);
		close(fd);
	} else if (close(fd) < 0) {
		mlz_error_errno(err, errno, "cannot write '%s'", path);
	} else if (savefile_put_in_place(tmp, path, force) < 0) {
		if (errno == EEXIST)
			mlz_error(err, "'%s' exists already; --force replaces it", path);
		else
			mlz_error_errno(err, errno, "cannot write '%s'", path);
	} else {
		ret = 0;
	}
	if (ret < 0) /* a partial file is worse than none */
		unlink(tmp);
	free(tmp);
	return ret;
}
