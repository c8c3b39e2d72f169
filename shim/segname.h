/*
 * segname.h - segment object names, "zcshim.<pid>.<start>.<seq>", parsed the
 * same way by the writer (which tidies up finished segments) and the reader.
 */
#ifndef ZCSHIM_SEGNAME_H
#define ZCSHIM_SEGNAME_H

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zcshim_segment.h"

/* base: a file name without directory. 0 and the fields, or -1 if the name
 * is not exactly ours: three plain decimals (no sign, no overflow). */
static inline int zcs_name_fields(const char *base, int *pid, uint64_t *start,
				  uint32_t *seq)
{
	unsigned long long field[3];
	size_t plen = strlen(ZCS_SHM_PREFIX);
	if (strncmp(base, ZCS_SHM_PREFIX, plen) != 0)
		return -1;
	const char *p = base + plen;
	for (int i = 0; i < 3; i++) {
		char *end;
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		field[i] = strtoull(p, &end, 10);
		if (errno || *end != (i < 2 ? '.' : '\0'))
			return -1;
		p = end + 1;
	}
	if (field[0] == 0 || field[0] > INT_MAX || field[2] >= UINT32_MAX)
		return -1;
	*pid = (int)field[0];
	*start = field[1];
	*seq = (uint32_t)field[2];
	return 0;
}

#endif
