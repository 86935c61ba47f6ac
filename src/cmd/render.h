/* SPDX-License-Identifier: GPL-3.0-or-later */
/* render.h - result pieces more than one command prints: a snapshot's line, one block. */
#ifndef MLZ_RENDER_H
#define MLZ_RENDER_H

struct block;
struct jv;
struct session;
struct snapshot;
struct strbuf;
struct sym;

/* A snapshot's name, time, totals and RSS as JSON (caller frees), and as one text line. */
struct jv *snapshot_jv(const struct snapshot *s);
void snapshot_text_line(const struct jv *o, struct strbuf *out);
/* One live block: address, size, site, thread, sequence number, age (caller frees). */
struct jv *block_jv(struct session *s, struct sym *sym, const struct block *b);

#endif
