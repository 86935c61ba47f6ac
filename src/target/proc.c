// SPDX-License-Identifier: GPL-3.0-or-later
/* proc.c - reading /proc/PID files: state, status fields, threads, memory totals and mappings. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "strbuf.h"
#include "xalloc.h"

char *read_text_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			strbuf_release(&sb);
			errno = e;
			return NULL;
		}
		strbuf_add(&sb, buf, n);
	}
	close(fd);
	return strbuf_detach(&sb);
}

char proc_state(pid_t pid, pid_t tid)
{
	char path[64];
	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	char *s = read_text_file(path);
	if (!s)
		return 0;
	/* The command name may hold spaces and parentheses: the state follows the last ')'. */
	char *p = strrchr(s, ')');
	char state = p && p[1] == ' ' ? p[2] : 0;
	free(s);
	return state;
}

static char *status_line(pid_t pid, const char *field)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	char *s = read_text_file(path);
	if (!s)
		return NULL;
	size_t flen = strlen(field);
	for (char *line = s; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			char *end = strchr(line, '\n');
			char *v = xstrndup(line + flen + 1, end ? (size_t)(end - line - flen - 1) : strlen(line + flen + 1));
			free(s);
			return v;
		}
	}
	free(s);
	return NULL;
}

uint64_t proc_stat_field(pid_t pid, int n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	char *s = read_text_file(path);
	/* The command name (field 2) may hold spaces and parentheses: count from the last ')'. */
	char *p = s ? strrchr(s, ')') : NULL;
	uint64_t v = 0;
	for (int field = 2; p && *p; p++) {
		if (*p == ' ' && ++field == n) {
			v = strtoull(p + 1, NULL, 10);
			break;
		}
	}
	free(s);
	return v;
}

bool proc_is_kernel_thread(pid_t pid)
{
	return proc_stat_field(pid, 9) & 0x00200000; /* flags: PF_KTHREAD */
}

bool proc_thread_ended(pid_t pid, pid_t tid)
{
	char st = proc_state(pid, tid);
	return st == 0 || st == 'Z' || st == 'X';
}

long proc_status_field(pid_t pid, const char *field)
{
	char *v = status_line(pid, field);
	if (!v)
		return -1;
	long n = strtol(v, NULL, 10);
	free(v);
	return n;
}

long proc_status_uid(pid_t pid, int which)
{
	char *v = status_line(pid, "Uid");
	if (!v)
		return -1;
	long ids[4] = { -1, -1, -1, -1 };
	sscanf(v, "%ld %ld %ld %ld", &ids[0], &ids[1], &ids[2], &ids[3]);
	free(v);
	return ids[which & 3];
}

void proc_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid ? tid : pid);
	char *s = read_text_file(path);
	buf[0] = '\0';
	if (!s)
		return;
	s[strcspn(s, "\n")] = '\0';
	snprintf(buf, len, "%s", s);
	free(s);
}

char *proc_exe(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int proc_tids(pid_t pid, pid_t **tids)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	size_t n = 0, alloc = 0;
	*tids = NULL;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		ALLOC_GROW(*tids, n + 1, alloc);
		(*tids)[n++] = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	qsort(*tids, n, sizeof(pid_t), cmp_pid);
	return (int)n;
}

int proc_memory(pid_t pid, struct proc_mem *m, struct mlz_err *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	char *s = read_text_file(path);
	*m = (struct proc_mem){ -1, -1, -1, -1, -1, -1 };
	if (!s)
		return mlz_error_errno(err, errno, "cannot read '%s'", path);
	static const struct { const char *name; size_t off; } fields[] = {
		{ "Rss:", offsetof(struct proc_mem, rss) },
		{ "Pss:", offsetof(struct proc_mem, pss) },
		{ "Swap:", offsetof(struct proc_mem, swap) },
		{ "Anonymous:", offsetof(struct proc_mem, anon) },
	};
	for (char *line = s; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			size_t l = strlen(fields[i].name);
			if (!strncmp(line, fields[i].name, l))
				*(int64_t *)((char *)m + fields[i].off) = strtoll(line + l, NULL, 10) * 1024;
		}
	}
	for (char *line = s; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, "Private_Clean:", 14) || !strncmp(line, "Private_Dirty:", 14))
			m->private_bytes = (m->private_bytes < 0 ? 0 : m->private_bytes) + strtoll(line + 14, NULL, 10) * 1024;
	free(s);
	if (m->rss >= 0 && m->anon >= 0)
		m->file = m->rss - m->anon;
	return 0;
}

int64_t proc_rss(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/statm", pid);
	char *s = read_text_file(path);
	long long size, resident;
	int64_t rss = s && sscanf(s, "%lld %lld", &size, &resident) == 2 ? resident * sysconf(_SC_PAGESIZE) : -1;
	free(s);
	return rss;
}

int proc_data_runs(pid_t pid, uint64_t start, uint64_t end, void (*fn)(void *arg, uint64_t lo, uint64_t hi), void *arg)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	uint64_t buf[4096], run = 0, last = end / 4096;
	bool in_run = false;
	int r = 0;
	for (uint64_t page = start / 4096; page < last;) {
		uint64_t want = last - page < sizeof(buf) / 8 ? last - page : sizeof(buf) / 8;
		ssize_t n = pread(fd, buf, want * 8, (off_t)(page * 8));
		if (n <= 0) {
			r = -1;
			break;
		}
		for (ssize_t i = 0; i < n / 8; i++, page++) {
			bool data = buf[i] >> 62; /* bit 63 present, bit 62 swapped */
			if (data && !in_run)
				run = page;
			else if (!data && in_run)
				fn(arg, run * 4096, page * 4096);
			in_run = data;
		}
	}
	if (r == 0 && in_run)
		fn(arg, run * 4096, last * 4096);
	close(fd);
	return r;
}

int64_t proc_resident(pid_t pid, uint64_t start, uint64_t end)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int64_t pages = 0;
	uint64_t buf[4096];
	for (uint64_t page = start / 4096; page < (end + 4095) / 4096;) {
		uint64_t want = (end + 4095) / 4096 - page;
		if (want > sizeof(buf) / 8)
			want = sizeof(buf) / 8;
		ssize_t n = pread(fd, buf, want * 8, (off_t)(page * 8));
		if (n <= 0) {
			pages = -1;
			break;
		}
		for (ssize_t i = 0; i < n / 8; i++)
			pages += (int64_t)(buf[i] >> 63); /* bit 63: present in RAM */
		page += (uint64_t)n / 8;
	}
	close(fd);
	return pages < 0 ? -1 : pages * 4096;
}

int maps_parse(const char *text, struct maps *m, struct mlz_err *err)
{
	const char *line = text;
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = xstrndup(line, len);
		struct map_entry e = { 0 };
		int pathpos = -1;
		if (sscanf(copy, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %15s %" SCNu64 " %n",
			   &e.start, &e.end, e.perms, &e.offset, e.dev, &e.inode, &pathpos) < 6 || pathpos < 0) {
			if (pathpos < 0 && sscanf(copy, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %15s %" SCNu64,
						  &e.start, &e.end, e.perms, &e.offset, e.dev, &e.inode) == 6) {
				pathpos = (int)len;
			} else {
				mlz_error(err, "malformed maps line '%s'", copy);
				free(copy);
				return -1;
			}
		}
		e.path = xstrdup(pathpos < (int)len ? copy + pathpos : "");
		free(copy);
		ALLOC_GROW(m->v, m->n + 1, m->alloc);
		m->v[m->n++] = e;
		line = end ? end + 1 : NULL;
	}
	return 0;
}

int proc_maps(pid_t pid, struct maps *m, struct mlz_err *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	char *s = read_text_file(path);
	if (!s)
		return mlz_error_errno(err, errno, "cannot read '%s'", path);
	int r = maps_parse(s, m, err);
	free(s);
	return r;
}

const struct map_entry *maps_find(const struct maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}

void maps_release(struct maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = m->alloc = 0;
}

bool proc_has_shadow_stack(pid_t pid)
{
	const char *force = getenv("MLYZE_ASSUME_SHADOW_STACK");
	if (force && !strcmp(force, "1"))
		return true;
	char *v = status_line(pid, "x86_Thread_features");
	bool on = v && strstr(v, "shstk");
	free(v);
	return on;
}

/*
 * Read into a buffer on the stack, not through read_text_file: the check
 * before an injected system call runs on every detach path, and a thread's
 * status ends long after its Seccomp lines.
 */
int proc_seccomp(pid_t pid, pid_t tid, int *mode, long *nfilters)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	/* No line at all: a kernel without CONFIG_SECCOMP, where nothing is filtered. */
	const char *m = strstr(buf, "\nSeccomp:"), *f = strstr(buf, "\nSeccomp_filters:");
	*mode = m ? (int)strtol(m + strlen("\nSeccomp:"), NULL, 10) : 0;
	*nfilters = f ? strtol(f + strlen("\nSeccomp_filters:"), NULL, 10) : -1;
	return 0;
}

int proc_open_mapped(pid_t pid, const struct map_entry *e)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)e->start,
		 (unsigned long long)e->end);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || e->path[0] != '/')
		return fd;
	snprintf(path, sizeof(path), "/proc/%d/root%s", pid, e->path);
	return open(path, O_RDONLY | O_CLOEXEC);
}
