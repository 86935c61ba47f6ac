// SPDX-License-Identifier: GPL-3.0-or-later
/* test-bp.c - taking breakpoints out of a fork child's copy of the memory (bp_restore_in). */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bp.h"

/* A stand-in for patched code: private memory the child gets a copy of. */
static uint8_t code[2] = { 0xcc, 0x90 };

/* A child that waits, with the same mappings as the test at the time of the fork. */
static pid_t spawn_child(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void end_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static uint8_t byte_in(pid_t pid, const void *addr)
{
	char path[64];
	uint8_t b = 0;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)(uintptr_t)addr), 1);
	close(fd);
	return b;
}

/* Only an int3 that is still there is written back; what is gone or replaced is left alone. */
static void restore_in_child(void **state)
{
	(void)state;
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *gone = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(gone != MAP_FAILED);
	munmap(gone, (size_t)page); /* a library unloaded since the breakpoint went in */
	struct bp v[3] = {
		{ .addr = (uintptr_t)&code[0], .orig = { 0x55 } },
		{ .addr = (uintptr_t)&code[1], .orig = { 0x66 } }, /* no int3 there: something else now */
		{ .addr = (uintptr_t)gone, .orig = { 0x77 } },
	};
	struct bptab bt = { .v = v, .n = 3, .alloc = 3 };
	pid_t child = spawn_child();
	struct mlz_err err = { 0 };
	assert_int_equal(bp_restore_in(child, &bt, &err), 0);
	assert_int_equal(byte_in(child, &code[0]), 0x55);
	assert_int_equal(byte_in(child, &code[1]), 0x90);
	assert_int_equal(code[0], 0xcc); /* the child's copy only */
	end_child(child);
}

/*
 * An int3 that cannot be written over is an error, not silence: a child let
 * go with it would die of SIGTRAP. A read-only shared mapping of a file opened
 * read-only is one place even /proc/PID/mem and PTRACE_POKEDATA cannot write.
 */
static void restore_in_child_fails(void **state)
{
	(void)state;
	char path[] = "/tmp/mlyze-test-bp-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\xcc", 1), 1);
	close(fd);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	uint8_t *ro = mmap(NULL, 1, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(ro != MAP_FAILED);
	close(fd);
	unlink(path);

	struct bp v[2] = {
		{ .addr = (uintptr_t)ro, .orig = { 0x55 } },
		{ .addr = (uintptr_t)&code[0], .orig = { 0x55 } },
	};
	struct bptab bt = { .v = v, .n = 2, .alloc = 2 };
	pid_t child = spawn_child();
	struct mlz_err err = { 0 };
	char want[128];
	assert_int_equal(bp_restore_in(child, &bt, &err), -1);
	snprintf(want, sizeof(want), "cannot restore 1 of 2 breakpoints in process %d, the first at %p: ", (int)child,
		 (void *)ro);
	assert_memory_equal(err.msg, want, strlen(want));
	assert_int_equal(byte_in(child, ro), 0xcc);
	assert_int_equal(byte_in(child, &code[0]), 0x55); /* the others are still restored */
	end_child(child);
	munmap(ro, 1);
}

/* A child that is gone has no memory left to run into. */
static void restore_in_gone_child(void **state)
{
	(void)state;
	struct bp v[1] = { { .addr = (uintptr_t)&code[0], .orig = { 0x55 } } };
	struct bptab bt = { .v = v, .n = 1, .alloc = 1 };
	pid_t child = spawn_child();
	end_child(child);
	struct mlz_err err = { 0 };
	assert_int_equal(bp_restore_in(child, &bt, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(restore_in_child),
		cmocka_unit_test(restore_in_child_fails),
		cmocka_unit_test(restore_in_gone_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
