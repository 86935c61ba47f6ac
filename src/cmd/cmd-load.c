// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-load.c - `load FILE [NAME]`: a snapshot `save` wrote joins the session's snapshots. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "cmd.h"
#include "jv.h"
#include "render.h"
#include "session.h"
#include "snapfile.h"
#include "snapshot.h"
#include "strbuf.h"
#include "xalloc.h"

/* The whole of a regular file (caller frees), or NULL with err set. */
static uint8_t *read_whole(const char *path, size_t *len, struct mlz_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mlz_error_errno(err, errno, "load: cannot open '%s'", path), NULL;
	struct stat st;
	bool stat_ok = fstat(fd, &st) == 0;
	if (!stat_ok || !S_ISREG(st.st_mode)) {
		int e = stat_ok ? 0 : errno;
		close(fd);
		if (stat_ok && S_ISDIR(st.st_mode))
			return mlz_error(err, "load: '%s' is a directory", path), NULL;
		return mlz_error_errno(err, e ? e : EINVAL, "load: '%s' is not a regular file", path), NULL;
	}
	size_t cap = (size_t)st.st_size, n = 0;
	uint8_t *buf = xmalloc(cap ? cap : 1);
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;
			free(buf);
			close(fd);
			return mlz_error_errno(err, e, "load: cannot read '%s'", path), NULL;
		}
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return buf;
}

const struct snapshot *snapshot_load(struct session *s, const char *path, const char *name, struct mlz_err *err)
{
	if (name && !strcmp(name, "now"))
		return mlz_error_kind(err, MLZ_E_USAGE, "load: 'now' names the live set, not a snapshot"), NULL;
	if (name && snapshot_find(&s->snaps, name))
		return mlz_error_kind(err, MLZ_E_USAGE, "load: a snapshot named '%s' exists already", name), NULL;
	struct sym *sym = session_sym(s, err);
	if (!sym)
		return NULL;
	size_t len;
	uint8_t *data = read_whole(path, &len, err);
	if (!data)
		return NULL;
	struct snapshot snap;
	int r = snapfile_decode(data, len, path, SNAPFILE_MAX_PAYLOAD, session_live(s), sym, &snap, err);
	free(data);
	if (r < 0)
		return NULL;
	if (name) {
		free(snap.name);
		snap.name = xstrdup(name);
	} else if (snapshot_find(&s->snaps, snap.name) || !strcmp(snap.name, "now")) {
		mlz_error_kind(err, MLZ_E_USAGE, "load: '%s' holds a snapshot named '%s', a name taken already; "
			       "'load FILE NAME' gives it another", path, snap.name);
		snapshot_release(&snap);
		return NULL;
	}
	snap.file = xstrdup(path);
	return snapshots_add(&s->snaps, &snap);
}

static int cmd_load_exec(struct cmd_ctx *c)
{
	double t0 = mono_ms();
	const char *name = c->args->argc == 2 ? c->args->argv[1] : NULL;
	const struct snapshot *s = snapshot_load(c->s, c->args->argv[0], name, &c->err);
	if (!s)
		return -1;
	c->result = snapshot_jv(s);
	jv_set(c->result, "ms", jv_double(mono_ms() - t0));
	return 0;
}

static void cmd_load_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	snapshot_text_line(r, t->bytes ? SIZE_EXACT : 0, out);
}

const struct cmd_entry cmd_load_entry = {
	.name = "load",
	.usage = "load FILE [NAME]",
	.summary = "add the snapshot save wrote to FILE to this session's snapshots, as NAME",
	.help = "Reads a snapshot 'save' wrote and adds it to this session's snapshots under NAME (default: the "
		"name it was saved with; a name taken already is refused). Its stacks come with the frames "
		"resolved when it was saved, so top, compare, blocks and export read it without the process it "
		"came from: compared with this session's snapshots or 'now', groups by site, function and file "
		"match by name, and stacks by their frames' names when the two come from different sessions. "
		"A file that is not mlyze's, was written by a newer mlyze, is truncated or fails its checksum is "
		"refused with what is wrong.",
	.min_args = 1,
	.max_args = 2,
	.exec = cmd_load_exec,
	.text = cmd_load_text,
};
