/*
 * warn.c - one warning line per process, no stdio.
 *
 * The host owns stderr. A shim that chattered would be noticed for the wrong
 * reasons, so everything that goes wrong is folded into a single line, the
 * first one; the rest is visible to zcshim-stat or not at all.
 */
#include "warn.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int warned;

void zcs_warn_once(const char *line)
{
	if (__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
		return;
	int saved = errno;
	char buf[512];
	size_t n = 0, len = strlen(line);
	static const char prefix[] = "zcshim: ";
	memcpy(buf, prefix, sizeof prefix - 1);
	n = sizeof prefix - 1;
	if (len > sizeof buf - n - 1)
		len = sizeof buf - n - 1;
	memcpy(buf + n, line, len);
	n += len;
	buf[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, buf, n);
	(void)w;
	errno = saved;
}
