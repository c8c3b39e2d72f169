/*
 * segname.h - segment object names, "zcshim.<pidns>.<pid>.<start>.<seq>",
 * made and parsed one way by the writer and the reader.
 */
#ifndef ZCSHIM_SEGNAME_H
#define ZCSHIM_SEGNAME_H

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcshim_segment.h"

struct zcs_ident {
	uint64_t pidns; /* 0: unknown */
	int pid;
	uint64_t start_ticks;
	uint32_t seq;
};

#define ZCS_SEQ_MAX 64 /* images of one process that can have a name at once */

/* Is the identity whole: namespace and start time read from /proc? Without
 * them (no /proc, or one of a namespace the process is not in) two
 * processes of two containers can have the same name but for seq, so
 * nothing may be concluded from a name alone: no image retires another
 * (segment.c), no reader calls one replaced (segread.c). */
static inline int zcs_ident_known(const struct zcs_ident *id)
{
	return id->pidns != 0 && id->start_ticks != 0;
}

/* "zcshim.<pidns>.<pid>.<start>.<seq>" into buf (no leading slash). */
static inline void zcs_name_make(const struct zcs_ident *id, char *buf, size_t len)
{
	snprintf(buf, len, ZCS_SHM_PREFIX "%llu.%d.%llu.%u", (unsigned long long)id->pidns,
		 id->pid, (unsigned long long)id->start_ticks, id->seq);
}

/* base: a file name without directory. 0 and the fields, or -1 if the name
 * is not exactly ours: four plain decimals (no sign, no overflow). */
static inline int zcs_name_fields(const char *base, struct zcs_ident *id)
{
	unsigned long long field[4];
	size_t plen = strlen(ZCS_SHM_PREFIX);
	if (strncmp(base, ZCS_SHM_PREFIX, plen) != 0)
		return -1;
	const char *p = base + plen;
	for (int i = 0; i < 4; i++) {
		char *end;
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		field[i] = strtoull(p, &end, 10);
		if (errno || *end != (i < 3 ? '.' : '\0'))
			return -1;
		p = end + 1;
	}
	if (field[1] == 0 || field[1] > INT_MAX || field[3] >= UINT32_MAX)
		return -1;
	id->pidns = field[0];
	id->pid = (int)field[1];
	id->start_ticks = field[2];
	id->seq = (uint32_t)field[3];
	return 0;
}

#endif
