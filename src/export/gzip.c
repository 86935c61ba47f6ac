// SPDX-License-Identifier: GPL-3.0-or-later
/* gzip.c - a buffer as one gzip member, with zlib: pprof reads profiles gzipped. */
#include <limits.h>
#include <zlib.h>

#include "export_internal.h"
#include "strbuf.h"

int gzip_encode(const void *data, size_t len, struct strbuf *out, struct mlz_err *err)
{
	z_stream z = { 0 };
	/* windowBits 15 + 16: a gzip header and trailer rather than zlib's. */
	int r = deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	if (r != Z_OK)
		return mlz_error(err, "cannot compress: zlib: %s", z.msg ? z.msg : "deflateInit2 failed");
	const unsigned char *in = data;
	unsigned char buf[65536];
	int flush;
	do {
		/* avail_in is 32 bits wide: feed larger buffers in pieces. */
		if (!z.avail_in && len) {
			z.next_in = (unsigned char *)in;
			z.avail_in = len > UINT_MAX ? UINT_MAX : (unsigned)len;
			in += z.avail_in;
			len -= z.avail_in;
		}
		flush = len ? Z_NO_FLUSH : Z_FINISH;
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		r = deflate(&z, flush);
		if (r == Z_STREAM_ERROR) {
			deflateEnd(&z);
			return mlz_error(err, "cannot compress: zlib: %s", z.msg ? z.msg : "deflate failed");
		}
		strbuf_add(out, buf, sizeof(buf) - z.avail_out);
	} while (r != Z_STREAM_END);
	deflateEnd(&z);
	return 0;
}
