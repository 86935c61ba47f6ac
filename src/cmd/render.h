/* SPDX-License-Identifier: GPL-3.0-or-later */
/* render.h - result pieces more than one command prints: a snapshot's line, one block. */
#ifndef MLZ_RENDER_H
#define MLZ_RENDER_H

#include <stdbool.h>
#include <stdint.h>

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

/* Heap walks: {"chunks", "bytes"}, glibc's mallinfo2 fields, every chunk kind as keys of o. */
struct heap_count;
struct heap_mallinfo;
struct jv *heap_count_jv(const struct heap_count *c);
struct jv *heap_mallinfo_jv(const struct heap_mallinfo *mi);
void heap_kinds_jv(struct jv *o, const struct heap_count *by_kind);
void heap_kinds_text(const struct jv *o, struct strbuf *out);
struct heap_report;
struct jv *heap_problems_jv(const struct heap_report *r);
void heap_problems_text(const struct jv *o, struct strbuf *out);

/* The reference graph's pieces: a block, a root (with symbol or stack frame), a step of a chain. */
struct graph;
struct root_ref;
struct jv *graph_block_jv(struct session *s, struct sym *sym, const struct graph *g, uint32_t i);
struct jv *graph_root_jv(struct session *s, struct sym *sym, const struct root_ref *r);
/* Sets "offset" (off: -1 when not found) and "field" (the typed field there, or null) of step o for block i. */
void graph_offset_jv(struct session *s, const struct graph *g, uint32_t i, long off, struct jv *o);
long graph_pointer_offset(struct session *s, const struct graph *g, uint32_t i, uint32_t j);
void graph_step_text(const struct jv *o, struct strbuf *out);
struct cmd_ctx;
/* The block of g that holds the address word names, or -1 with an error in c. */
long graph_block_arg(struct cmd_ctx *c, const struct graph *g, const char *word, const char *cmd);

/*
 * The reference graph's blocks added up by type, untyped ones by size,
 * largest first: {by, count, size, typed_count, typed_size, groups: [{type
 * or block_size, count, size, conflicts}]} (caller frees); the first top
 * groups (0: all) that filter (a glob on the type, or NULL) passes. NULL with
 * c->err set when there is no graph.
 */
struct jv *type_table_jv(struct cmd_ctx *c, long top, const char *filter);
/* B's groups with their differences from A's (tables of type_table_jv), by growth in bytes (caller frees). */
struct jv *type_table_diff(const struct jv *a, const struct jv *b, long top, const char *filter);
/* Either as text: diff for type_table_diff's. */
void type_table_text(const struct jv *r, bool diff, struct strbuf *out);

#endif
