/* SPDX-License-Identifier: GPL-3.0-or-later */
/* savefile.h - a whole file written safely: a new file next to it, renamed into place once complete. */
#ifndef MLZ_SAVEFILE_H
#define MLZ_SAVEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/*
 * Usage:
 *	if (savefile_check(path, force, "export", &err) < 0) ...   // before the work, to fail early
 *	...
 *	if (savefile_write(path, buf, len, 0644, force, "export", &err) < 0) ...
 *
 * A symbolic link at path is always refused (whoever planted it chose where
 * the file would go), an existing file unless force, a directory always; who
 * names the command in the messages. The data goes to "DIR/.NAME.XXXXXX",
 * created exclusively with mode (not subject to the umask), and takes path's
 * name only when whole (without force, only if path is still free then): a
 * failure, a full disk above all, leaves nothing behind.
 */
int savefile_check(const char *path, bool force, const char *who, struct mlz_err *err);
int savefile_write(const char *path, const void *buf, size_t len, mode_t mode, bool force, const char *who,
		   struct mlz_err *err);

/*
 * The steps of savefile_write, for a writer that streams (dump): the new
 * file's descriptor with *tmp its name (caller frees), or -1; then, once it
 * is written and closed, put it in place (errno set on failure, EEXIST when
 * path was taken meanwhile without force). On failure the caller unlinks tmp.
 */
int savefile_create_temp(const char *path, mode_t mode, char **tmp, struct mlz_err *err);
int savefile_put_in_place(const char *tmp, const char *path, bool force);
/*
 * All len bytes at offset off, or -1 with errno set: a full disk first shows
 * as a short write, which sets no errno, so ENOSPC is set then.
 */
int savefile_pwrite_all(int fd, const void *buf, size_t len, off_t off);

#endif
