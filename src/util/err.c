// SPDX-License-Identifier: GPL-3.0-or-later
/* err.c - building error values; nothing here prints except BUG(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static int fill(struct mlz_err *e, enum mlz_errkind kind, int errnum, const char *fmt, va_list ap)
{
	if (!e)
		return -1;
	e->kind = kind;
	e->errnum = errnum;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (errnum) {
		size_t n = strlen(e->msg);
		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(errnum));
	}
	return -1;
}

int mlz_error(struct mlz_err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fill(e, MLZ_E_FAIL, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int mlz_error_kind(struct mlz_err *e, enum mlz_errkind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fill(e, kind, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int mlz_error_errno(struct mlz_err *e, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fill(e, errnum == ESRCH ? MLZ_E_GONE : MLZ_E_FAIL, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

void mlz_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "mlyze: BUG at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
