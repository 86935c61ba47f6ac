/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bp.h - breakpoints that never come out: int3 stays, the displaced instruction runs from a scratch page. */
#ifndef MLZ_BP_H
#define MLZ_BP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct target;

/*
 * A scratch area mapped into the target by an injected mmap: a code part
 * (read+execute) holding out-of-line slots and trampolines, and a data part
 * (read+write) the trampolines store into. Written through /proc/PID/mem.
 */
struct scratch {
	uint64_t base, size;   /* the whole mapping */
	uint64_t code, code_size;
	uint64_t data, data_size;
	size_t code_used;      /* bytes of code handed out, from the start */
};

/*
 * Map a scratch area within 2 GiB of [near, near_end) (so RIP-relative operands
 * of code there reach), using the stopped thread tid and the `syscall`
 * instruction at insn. Returns 0 or -1.
 */
int scratch_map(struct target *t, pid_t tid, uint64_t insn, uint64_t near, uint64_t near_end, size_t code_size,
		size_t data_size, struct scratch *sc, struct mlz_err *err);
/* Take code bytes from the scratch area (16-byte aligned); 0 when full. */
uint64_t scratch_take(struct scratch *sc, size_t len);
/* Whether code at addr in the scratch can reach [lo, hi) with 32-bit displacements. */
bool scratch_reaches(const struct scratch *sc, uint64_t lo, uint64_t hi);
/* Unmap it (injected munmap). */
int scratch_unmap(struct target *t, pid_t tid, uint64_t insn, struct scratch *sc, struct mlz_err *err);

struct bp {
	uint64_t addr;
	uint64_t ool;       /* its out-of-line slot */
	uint8_t orig[16];   /* the displaced instruction */
	uint8_t len;
	int kind;           /* the owner's tag */
	int cleanup_id;     /* its entry in the target's cleanup registry */
};

struct bptab {
	struct bp *v;
	size_t n, alloc;
	/*
	 * What the code at addr is in the file it comes from, as sym_file_code()
	 * answers: up to len bytes into buf and their count, 0 when the code
	 * comes from no file, -1 (err set) when it cannot be known. Set by the
	 * owner; bp_insert() patches nothing without it.
	 */
	int (*file_code)(void *arg, uint64_t addr, uint8_t *buf, size_t len, const char **module, struct mlz_err *err);
	void *file_code_arg;
};

/*
 * Insert an int3 at addr: relocate the instruction there into a slot of sc,
 * register the original byte with the target's cleanup registry, write 0xcc.
 * The target must be stopped (or the thread about to run it must be).
 * First the bytes at addr, read from the process, must be those of the file
 * the code comes from (bt->file_code; our own int3s nearby aside): a process
 * that changed its code, or a file that is not the one it maps (another mount
 * namespace, a replaced library), would have an instruction decoded and an
 * int3 written at an address that is not the function's; that is refused
 * with an error naming the module and the address.
 */
int bp_insert(struct target *t, struct bptab *bt, struct scratch *sc, uint64_t addr, int kind, struct mlz_err *err);
/* That check alone, for an owner that wants to know before it inserts anything. Returns 0 or -1. */
int bp_check(struct target *t, const struct bptab *bt, uint64_t addr, struct mlz_err *err);
/* The breakpoint at addr, or NULL. */
const struct bp *bp_find(const struct bptab *bt, uint64_t addr);
/* Forget the breakpoint at addr without writing: its code is gone. */
void bp_drop(struct target *t, struct bptab *bt, uint64_t addr);
/*
 * Write the original bytes of every breakpoint into another process (a fork
 * child, with a copy of the target's memory), where an int3 of ours still is.
 * Returns 0, or -1 when some int3 is left there (the process would die of
 * SIGTRAP on reaching it) with err naming the first address and the reason.
 */
int bp_restore_in(pid_t pid, const struct bptab *bt, struct mlz_err *err);
/* Forget every breakpoint without writing (the address space is gone). */
void bp_forget_all(struct bptab *bt);

#endif
