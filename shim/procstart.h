/*
 * procstart.h - a process's start time, which with its pid names it uniquely.
 *
 * Field 22 of /proc/<pid>/stat, in clock ticks after boot. Shared by the
 * writer (to name its segment) and the reader (to tell whether the pid that
 * wrote a segment is still the same process), so both parse it one way.
 */
#ifndef ZCSHIM_PROCSTART_H
#define ZCSHIM_PROCSTART_H

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

/* From /proc/<pid>/stat ("/proc/self/stat" for the caller); 0 if gone. */
static inline uint64_t zcs_proc_start_ticks(const char *stat_path)
{
	char buf[1024];
	int fd = open(stat_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return zcs_stat_start_ticks(buf);
}

#endif
