/* SPDX-License-Identifier: GPL-3.0-or-later */
/* core.h - an ELF core file read as a process image: threads, registers, mappings, memory. */
#ifndef MLZ_CORE_H
#define MLZ_CORE_H

#include <libelf.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "err.h"
#include "proc.h"

/*
 * Usage:
 *	struct core *c = core_open("core.123", NULL, &err);   // clear errors for bad files
 *	core_read(c, addr, buf, len);  core_maps(c, &maps);
 *	core_close(c);
 * Normally used through target_open_core(), which makes it a target that never runs.
 */
struct core_load {
	uint64_t vaddr, memsz, offset, filesz;
	uint32_t flags; /* PF_R, PF_W, PF_X */
};

struct core_file {
	uint64_t start, end, offset; /* offset in the file, in bytes */
	char *path;
	int fd;                      /* -1 not opened yet, -2 missing */
	uint64_t size;               /* the file's size once opened: the pages past its end cannot be read */
};

struct core_thread {
	pid_t tid;
	int cursig;
	struct user_regs_struct regs;
	char name[16]; /* its comm from mlyze's note, "" when the core does not say */
};

/*
 * The note `dump` adds for what a Linux core has no place for: owner "MLYZE",
 * type NT_MLYZE_THREADS, a desc of records { int32 tid; char comm[16] } (comm
 * NUL-padded), one per thread whose /proc/PID/task/TID/comm could be read.
 * gdb and the kernel's readers skip notes of an owner they do not know.
 */
#define MLYZE_NOTE_OWNER "MLYZE"
#define NT_MLYZE_THREADS 0x4d4c5a54 /* "MLZT", as NT_FILE is "FILE": BFD reads 1 of any owner as NT_PRSTATUS */
#define MLYZE_THREAD_RECORD 20

struct core {
	char *path, *exe;
	const char *exe_path;  /* the program's path as the core names it (points into files) */
	int fd;
	uint64_t size;
	Elf *elf;
	pid_t pid;
	char name[17];
	char args[81];
	struct core_load *loads;
	size_t nloads;
	struct core_file *files;
	size_t nfiles;
	struct core_thread *threads;
	size_t nthreads;
	uint8_t *auxv;
	size_t auxv_len;
};

struct core *core_open(const char *path, const char *exe, struct mlz_err *err);
/* Bytes read (short at a hole), or -1. Pages the kernel did not dump come from the mapped file. */
ssize_t core_read(struct core *c, uint64_t addr, void *buf, size_t len);
/* The mappings as /proc/PID/maps would list them (perms from the segment flags, paths from NT_FILE). */
int core_maps(const struct core *c, struct maps *m);
/* Writable segments the kernel left out (its coredump_filter): a heap there cannot be walked. */
size_t core_undumped_writable(const struct core *c);
/* The name of thread tid: its own from mlyze's note, the process's for its leader; NULL if unknown. */
const char *core_thread_name(const struct core *c, pid_t tid);
void core_close(struct core *c);

#endif
