// SPDX-License-Identifier: GPL-3.0-or-later
/* cmd-maps.c - `maps`: the process's memory mappings. */
#include <inttypes.h>
#include <stdlib.h>

#include "cmd.h"
#include "jv.h"
#include "proc.h"
#include "session.h"
#include "strbuf.h"
#include "target.h"

static int cmd_maps_exec(struct cmd_ctx *c)
{
	struct maps m = { 0 };
	if (target_maps(c->s->target, &m, &c->err) < 0)
		return -1;
	struct jv *r = jv_object();
	struct jv *list = jv_set(r, "maps", jv_array());
	for (size_t i = 0; i < m.n; i++) {
		struct jv *o = jv_push(list, jv_object());
		jv_set(o, "start", jv_addr(m.v[i].start));
		jv_set(o, "end", jv_addr(m.v[i].end));
		jv_set(o, "size", jv_int((int64_t)(m.v[i].end - m.v[i].start)));
		jv_set(o, "perms", jv_string(m.v[i].perms));
		jv_set(o, "offset", jv_addr(m.v[i].offset));
		jv_set(o, "path", jv_string(m.v[i].path));
	}
	maps_release(&m);
	c->result = r;
	return 0;
}

static void cmd_maps_text(const struct jv *r, const struct text_opts *t, struct strbuf *out)
{
	(void)t;
	const struct jv *list = jv_get(r, "maps");
	strbuf_addf(out, "%-18s %-18s %8s %-5s %-10s %s\n", "START", "END", "SIZE", "PERM", "OFFSET", "PATH");
	for (size_t i = 0; i < jv_len(list); i++) {
		const struct jv *o = jv_at(list, i);
		int64_t size = jv_get_int(o, "size", 0);
		char sz[32];
		if (size >= 1 << 20)
			snprintf(sz, sizeof(sz), "%" PRId64 "M", size >> 20);
		else
			snprintf(sz, sizeof(sz), "%" PRId64 "K", size >> 10);
		strbuf_addf(out, "%-18s %-18s %8s %-5s %-10s ", jv_get_str(o, "start", ""), jv_get_str(o, "end", ""), sz,
			    jv_get_str(o, "perms", ""), jv_get_str(o, "offset", ""));
		strbuf_add_escaped(out, jv_get_str(o, "path", ""));
		strbuf_addch(out, '\n');
	}
}

const struct cmd_entry cmd_maps_entry = {
	.name = "maps",
	.usage = "maps",
	.summary = "memory mappings: address range, size, permissions, file",
	.help = "Lists /proc/PID/maps: each mapping's start and end address, size, permissions, file "
		"offset and path ([heap], [stack], anonymous, or the mapped file).",
	.max_args = 0,
	.flags = CMD_NEEDS_IMAGE,
	.exec = cmd_maps_exec,
	.text = cmd_maps_text,
};
