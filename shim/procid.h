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

#include <fcntl.h>
#include <stdint.h>
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
 * that has its own PID namespace). */
static inline int zcs_proc_is_ours(void)
{
	char buf[1024];
	if (zcs_read_small("/proc/self/stat", buf, sizeof buf) <= 0)
		return 0;
	return strtol(buf, NULL, 10) == (long)getpid();
}

#endif
