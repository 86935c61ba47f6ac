/* SPDX-License-Identifier: GPL-3.0-or-later */
/* err.h - errors as values: every layer below the CLI returns -1 and fills a struct mlz_err. */
#ifndef MLZ_ERR_H
#define MLZ_ERR_H

#include <stdarg.h>

enum mlz_errkind {
	MLZ_E_NONE = 0,
	MLZ_E_FAIL,        /* the request failed; the session goes on */
	MLZ_E_USAGE,       /* the user typed something malformed */
	MLZ_E_GONE,        /* the target process no longer exists */
	MLZ_E_INTERRUPTED, /* the user pressed Ctrl-C */
	MLZ_E_REFUSED,     /* mlyze would not do it: the process's seccomp filtering forbids it, or may */
};

struct mlz_err {
	enum mlz_errkind kind;
	int errnum;     /* errno behind the failure, 0 if none */
	char msg[512];  /* lowercase, no final period, subject quoted (git's rules) */
};

/* Fill *e (which may be NULL) with a failure of kind MLZ_E_FAIL; returns -1. */
int mlz_error(struct mlz_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with an explicit kind. */
int mlz_error_kind(struct mlz_err *e, enum mlz_errkind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, appending ": strerror(errnum)" and recording errnum. */
int mlz_error_errno(struct mlz_err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An invariant mlyze itself broke: abort with file:line (the crash handler still detaches). */
#define BUG(...) mlz_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void mlz_bug(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
