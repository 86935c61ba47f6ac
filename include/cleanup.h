/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cleanup.h - the one registry of changes made to the target, undone on every exit path. */
#ifndef MLZ_CLEANUP_H
#define MLZ_CLEANUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Whoever patches target memory, swaps a register or maps a page registers the
 * undo here first and unregisters it when it undoes the change itself. On
 * detach, quit, error, a fatal signal or a crash, cleanup_run() undoes what is
 * left, newest first, while every thread is stopped. Entries live in a plain
 * array so the crash handler can walk it without allocating.
 */
enum cleanup_kind {
	CLEANUP_BYTES, /* write `len` original bytes back at addr */
	CLEANUP_FUNC,  /* call fn(arg): for undo that needs more than bytes (registers, unmap) */
};

struct cleanup_entry {
	enum cleanup_kind kind;
	bool active;
	uint64_t addr;
	uint8_t orig[16];
	uint8_t patched[16]; /* what mlyze wrote there: restored only while it is still there */
	size_t len;
	int (*fn)(void *arg);
	void *arg;
};

/*
 * How cleanup puts bytes back into the target: orig where patched still is
 * (code unloaded since, and something else mapped there, is left alone).
 * Returns 0 or -1.
 */
typedef int (*cleanup_write_fn)(void *ctx, uint64_t addr, const void *orig, const void *patched, size_t len);

struct cleanup {
	struct cleanup_entry *v;
	size_t n, alloc;
	bool running; /* cleanup_run is undoing: nothing may be added (the array must not move) */
};

/* Register original bytes at addr and what replaces them (len <= 16); returns an id for cleanup_forget(). */
int cleanup_add_bytes(struct cleanup *c, uint64_t addr, const void *orig, const void *patched, size_t len);
/* -1 while cleanup_run runs: an undo that itself needs undoing (an injected call) is not registered. */
int cleanup_add_func(struct cleanup *c, int (*fn)(void *), void *arg);
/* The change was undone by its owner: drop the entry. */
void cleanup_forget(struct cleanup *c, int id);
/* Entries still to undo. */
size_t cleanup_pending(const struct cleanup *c);
/*
 * Undo every active entry, newest first, with write() for bytes. Returns the
 * number of entries that failed (0 when everything was restored). Async-signal
 * safe as long as write() and the registered functions are.
 */
int cleanup_run(struct cleanup *c, cleanup_write_fn write, void *ctx);
void cleanup_release(struct cleanup *c);

#endif
