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
void snapshot_text_line(const struct jv *o, unsigned size_flags, struct strbuf *out);
struct cmd_ctx;
/*
 * Take a snapshot of the live set now, as `snapshot [NAME] [--force]` does
 * (NULL name: the next sN); it is the session's last. NULL with c->err set.
 */
const struct snapshot *snapshot_take_now(struct cmd_ctx *c, const char *name, bool force);
/*
 * Write s to path as `save` does (where it was taken, the symbols its stacks
 * need; through savefile_write): 0 with *written the file's size, or -1 with
 * c->err set.
 */
int snapshot_write_file(struct cmd_ctx *c, const struct snapshot *s, const char *path, bool force, size_t *written);
/*
 * A moment of the timeline (a snapshot or a mark) as JSON: name, kind,
 * seconds, live blocks and bytes, glibc's heap in use, free and mmapped (null
 * when not walked), RSS (null when unknown), note; and its figures as text
 * ("heap 1.5 MiB in use, ...; RSS 3.2 MiB"), without a newline.
 */
struct tl_point;
struct jv *tl_point_jv(const struct tl_point *p);
void moment_text(const struct jv *o, unsigned size_flags, struct strbuf *out);
/* One live block: address, size, site, thread, sequence number, age (caller frees). */
struct jv *block_jv(struct session *s, struct sym *sym, const struct block *b);

/* Heap walks: {"chunks", "bytes"}, glibc's mallinfo2 fields, every chunk kind as keys of o. */
struct heap_count;
struct heap_mallinfo;
struct jv *heap_count_jv(const struct heap_count *c);
struct jv *heap_mallinfo_jv(const struct heap_mallinfo *mi);
void heap_kinds_jv(struct jv *o, const struct heap_count *by_kind);
/* A table of every chunk kind of o, and one row of that table (chunks < 0: none); sz as strbuf_add_size's. */
void heap_kinds_text(const struct jv *o, unsigned sz, struct strbuf *out);
void heap_row_text(struct strbuf *out, const char *label, int64_t chunks, int64_t bytes, unsigned sz);
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
/*
 * A traced allocation's stack as memcheck's loss records show it: from the
 * function the program called (malloc by its public name, or operator new),
 * every frame outwards, inlined ones as their own. As JSON objects {pc,
 * function, file, line, module, inlined} appended to arr; as frames for
 * suppressions (names owned by sym, valid until its next refresh) in *out,
 * which the caller frees, returning the count.
 */
struct supp_frame;
void leak_stack_jv(struct sym *sym, const uint64_t *pcs, int depth, struct jv *arr);
size_t leak_stack_supp_frames(struct sym *sym, const uint64_t *pcs, int depth, struct supp_frame **out);
/* The pause setting, the last pause (forked or not, how long the process stopped, when) and why it could not fork. */
struct jv *pause_jv(struct session *s);
void pause_text_line(const struct jv *o, struct strbuf *out);

/*
 * The instant a process's reference graph stands for, as o's "graph": {"taken_at" (local time),
 * "seconds_ago", "reused" (built by an earlier command)}; nothing on a core. The text form is one
 * line, "graph as of 14:03:12, 3.2 s ago", for a reused graph only.
 */
void graph_instant_jv(struct session *s, struct jv *o);
void graph_instant_text(const struct jv *o, struct strbuf *out);

struct cmd_ctx;
/* The block of g that holds the address word names, or -1 with an error in c. */
long graph_block_arg(struct cmd_ctx *c, const struct graph *g, const char *word, const char *cmd);

/*
 * The reference graph's blocks added up by type, untyped ones by size,
 * largest first: {by, blocks, bytes, typed_blocks, typed_bytes, groups: [{type
 * or block_size, blocks, bytes, conflicts}]} (caller frees); the first top
 * groups (0: all) that filter (a glob on the type, or NULL) passes. NULL with
 * c->err set when there is no graph.
 */
struct jv *type_table_jv(struct cmd_ctx *c, long top, const char *filter);
/* B's groups with their differences from A's (tables of type_table_jv), by growth in bytes (caller frees). */
struct jv *type_table_diff(const struct jv *a, const struct jv *b, long top, const char *filter);
/* Either as text: diff for type_table_diff's. */
void type_table_text(const struct jv *r, bool diff, struct strbuf *out);

#endif
