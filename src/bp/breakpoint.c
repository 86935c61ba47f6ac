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

/*
 * Whether code[0..len), read from the process at addr, is what the file holds
 * there. Bytes under our own int3s count as the file's; the window is the one
 * the decoder sees, wider than one instruction: two functions in one library
 * often begin alike (endbr64, push %rbp).
 */
static int check_code(const struct bptab *bt, uint64_t addr, const uint8_t *code, size_t len, struct mlz_err *err)
{
	uint8_t file[16];
	const char *module = NULL;
	if (!bt->file_code)
		return mlz_error(err, "no file to check the code at 0x%llx against: not patched", (unsigned long long)addr);
	if (len > sizeof(file))
		len = sizeof(file);
	int n = bt->file_code(bt->file_code_arg, addr, file, len, &module, err);
	if (n < 0) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		return mlz_error(err, "%s: not patched", why);
	}
	for (int i = 0; i < n; i++) {
		if (code[i] == file[i] || (i && bp_find(bt, addr + (uint64_t)i) && code[i] == 0xcc))
			continue;
		return mlz_error(err,
				 "the code at 0x%llx in %s is not what its file holds there (byte %d is 0x%02x, the "
				 "file's 0x%02x): the process changed it, or maps another file at that path; not patched",
				 (unsigned long long)addr, module ? module : "?", i, code[i], file[i]);
	}
	return 0;
}

int bp_check(struct target *t, const struct bptab *bt, uint64_t addr, struct mlz_err *err)
{
	uint8_t code[16];
	if (target_read(t, addr, code, sizeof(code)) != (ssize_t)sizeof(code))
		return mlz_error(err, "cannot read the code at 0x%llx", (unsigned long long)addr);
	return check_code(bt, addr, code, sizeof(code), err);
}

int bp_insert(struct target *t, struct bptab *bt, struct scratch *sc, uint64_t addr, int kind, struct mlz_err *err)
{
	if (bp_find(bt, addr))
		return 0;
	uint8_t code[16];
	if (target_read(t, addr, code, sizeof(code)) != (ssize_t)sizeof(code))
		return mlz_error(err, "cannot read the code at 0x%llx", (unsigned long long)addr);
	if (code[0] == 0xcc)
		return mlz_error(err, "0x%llx already holds a breakpoint (another tracer?)", (unsigned long long)addr);
	if (check_code(bt, addr, code, sizeof(code), err) < 0)
		return -1;
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
