// SPDX-License-Identifier: GPL-3.0-or-later
/* breakpoint.c - int3 breakpoints with out-of-line slots, registered for cleanup before they are written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bp.h"
#include "ool.h"
#include "target.h"
#include "xalloc.h"

int bp_insert(struct target *t, struct bptab *bt, struct scratch *sc, uint64_t addr, int kind, struct mlz_err *err)
{
	if (bp_find(bt, addr))
		return 0;
	uint8_t code[16];
	if (target_read(t, addr, code, sizeof(code)) != (ssize_t)sizeof(code))
		return mlz_error(err, "cannot read the code at 0x%llx", (unsigned long long)addr);
	if (code[0] == 0xcc)
		return mlz_error(err, "0x%llx already holds a breakpoint (another tracer?)", (unsigned long long)addr);
	size_t used = sc->code_used;
	uint64_t slot = scratch_take(sc, OOL_SLOT);
	if (!slot)
		return mlz_error(err, "the scratch area is full");
	uint8_t out[OOL_SLOT];
	size_t outlen;
	int len = ool_build(code, sizeof(code), addr, slot, out, &outlen, err);
	if (len < 0 || target_write(t, slot, out, outlen, err) < 0) {
		sc->code_used = used; /* the slot goes back */
		return -1;
	}
	struct bp b = { .addr = addr, .ool = slot, .len = (uint8_t)len, .kind = kind };
	memcpy(b.orig, code, sizeof(b.orig));
	/* The undo is registered before the byte is written: no exit path can miss it. */
	static const uint8_t int3 = 0xcc;
	b.cleanup_id = cleanup_add_bytes(&t->cleanup, addr, code, &int3, 1);
	if (target_write(t, addr, &int3, 1, err) < 0) {
		cleanup_forget(&t->cleanup, b.cleanup_id);
		return -1;
	}
	ALLOC_GROW(bt->v, bt->n + 1, bt->alloc);
	bt->v[bt->n++] = b;
	return 0;
}

const struct bp *bp_find(const struct bptab *bt, uint64_t addr)
{
	for (size_t i = 0; i < bt->n; i++)
		if (bt->v[i].addr == addr)
			return &bt->v[i];
	return NULL;
}

void bp_drop(struct target *t, struct bptab *bt, uint64_t addr)
{
	for (size_t i = 0; i < bt->n; i++) {
		if (bt->v[i].addr == addr) {
			cleanup_forget(&t->cleanup, bt->v[i].cleanup_id);
			bt->v[i] = bt->v[--bt->n];
			return;
		}
	}
}

int bp_restore_in(pid_t pid, const struct bptab *bt, struct mlz_err *err)
{
	size_t failed = 0;
	uint64_t first = 0;
	struct mlz_err why = { 0 };
	for (size_t i = 0; i < bt->n; i++) {
		uint8_t now;
		errno = 0;
		ssize_t n = target_read_pid(pid, bt->v[i].addr, &now, 1);
		if (n < 0 && errno == ENOENT)
			return 0; /* gone, and its memory with it */
		if (n == 1 && now != 0xcc)
			continue; /* unloaded since, something else there: not ours to write */
		if (n == 0 || (n < 0 && errno == EIO))
			continue; /* no memory left (it exited), or nothing mapped there (unloaded) */
		struct mlz_err e;
		if (target_write_pid(pid, bt->v[i].addr, bt->v[i].orig, 1, &e) < 0 && failed++ == 0) {
			first = bt->v[i].addr;
			why = e;
		}
	}
	if (failed)
		return mlz_error(err, "cannot restore %zu of %zu breakpoints in process %d, the first at 0x%llx: %s",
				 failed, bt->n, pid, (unsigned long long)first, why.msg);
	return 0;
}

void bp_forget_all(struct bptab *bt)
{
	bt->n = 0;
}
