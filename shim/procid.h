/*
 * procid.h - what identifies a process across PID namespaces and exec:
 * its PID namespace, its pid there, and its start time.
 *
 * Start time is field 22 of /proc/<pid>/stat, in clock ticks after boot;
 * with the pid it names a process uniquely within one PID namespace (a
 * recycled pid starts later). Containers that share /dev/shm (pods,
 * --ipc=host, a bind mount) run processes of other namespaces under the
 * same numbers, so the namespace's inode goes with them. /proc speaks for
 * one namespace only, the one it was mounted in: a process can judge
 * another's liveness by /proc only when both are in that namespace.
 * Shared by the writer (names, pruning) and the reader (liveness).
 */
#ifndef ZCSHIM_PROCID_H
#define ZCSHIM_PROCID_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* From the text of a stat file; 0 if malformed. The command name (field 2)
 * may hold spaces and parentheses, so fields are counted from the last ')'. */
static inline uint64_t zcs_stat_start_ticks(const char *stat)
{
	const char *p = strrchr(stat, ')');
	for (int field = 3; field <= 22 && p; field++)
		p = strchr(p + 1, ' '); /* the space before field `field` */
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* Read a small /proc file into buf (NUL-terminated); its length or -1. */
static inline ssize_t zcs_read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* From /proc/<pid>/stat ("/proc/self/stat" for the caller); 0 if gone. */
static inline uint64_t zcs_proc_start_ticks(const char *stat_path)
{
	char buf[1024];
	return zcs_read_small(stat_path, buf, sizeof buf) > 0 ? zcs_stat_start_ticks(buf) : 0;
}

/* Inode of a namespace link such as "/proc/self/ns/pid"; 0 if unreadable. */
static inline uint64_t zcs_ns_inode(const char *ns_path)
{
	struct stat st;
	return stat(ns_path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Does /proc show the caller's own PID namespace (so that /proc/<pid> of a
 * process of that namespace can be believed)? Not when /proc is missing,
 * or was mounted from another namespace (the host's /proc in a container
 * that has its own PID namespace). NSpid lists a task's pid in the /proc's
 * namespace and in every one below it down to its own: one field, equal
 * to getpid(), only when the /proc is of the caller's own namespace.
 * Kernels before 4.1 have no NSpid: then the pid /proc/self names must be
 * the caller's. */
static inline int zcs_proc_is_ours(void)
{
	char buf[2048];
	if (zcs_read_small("/proc/self/status", buf, sizeof buf) > 0) {
		const char *nspid = strstr(buf, "\nNSpid:");
		if (nspid) {
			char *end;
			long pid = strtol(nspid + 7, &end, 10);
			return pid == (long)getpid() && (*end == '\n' || *end == '\0');
		}
	}
	if (zcs_read_small("/proc/self/stat", buf, sizeof buf) <= 0)
		return 0;
	return strtol(buf, NULL, 10) == (long)getpid();
}

/* What the caller can prove about process `pid` of its own PID namespace
 * that started at start_ticks. kill() speaks for the caller's namespace
 * whatever /proc is mounted: no such pid means gone. A pid that exists may
 * be another process by now (pids are recycled): only the start time read
 * from a /proc of our own namespace tells; when that cannot be read (a
 * /proc of another namespace, hidepid), nothing is proven. */
enum zcs_proc_fate { ZCS_PROC_UNSURE, ZCS_PROC_ALIVE, ZCS_PROC_GONE };

static inline enum zcs_proc_fate zcs_proc_fate(int pid, uint64_t start_ticks, int proc_ours)
{
	if (pid <= 0)
		return ZCS_PROC_UNSURE;
	int saved = errno;
	int gone = kill(pid, 0) != 0 && errno == ESRCH;
	errno = saved;
	if (gone)
		return ZCS_PROC_GONE;
	if (!proc_ours || !start_ticks)
		return ZCS_PROC_UNSURE;
	char stat_path[64];
	snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", pid);
	uint64_t now = zcs_proc_start_ticks(stat_path);
	if (!now)
		return ZCS_PROC_UNSURE; /* hidden from us, or went just now */
	return now == start_ticks ? ZCS_PROC_ALIVE : ZCS_PROC_GONE;
}

#endif
