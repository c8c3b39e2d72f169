/*
 * warn.c - one warning line per process, no stdio.
 *
 * The host owns stderr. A shim that chattered would be noticed for the wrong
 * reasons, so everything that goes wrong is folded into a single line, the
 * first one; the rest is visible to zcshim-stat or not at all. The line is
 * escaped here (utf8.h), so whatever went into it, it stays one line of
 * valid UTF-8 with no control bytes.
 */
#include "warn.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utf8.h"

static int warned;
static struct stat stderr_at_start; /* st_ino 0: fd 2 was not open */

/* A daemon may close fd 2, and the number may come back as a socket: a line
 * written there would corrupt someone's stream. Only the stderr the process
 * started with gets our line. */
void zcs_warn_init(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	int saved = errno;
	if (fstat(STDERR_FILENO, &stderr_at_start) != 0)
		stderr_at_start.st_ino = 0;
	errno = saved;
}

static int same_stderr(void)
{
	struct stat now;
	return stderr_at_start.st_ino && fstat(STDERR_FILENO, &now) == 0 &&
	       now.st_ino == stderr_at_start.st_ino && now.st_dev == stderr_at_start.st_dev;
}

void zcs_warn_once(const char *line)
{
	if (__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
		return;
	int saved = errno;
	if (!same_stderr()) {
		errno = saved;
		return;
	}
	/* one line, whatever the caller's text holds: a newline or escape
	 * sequence from a setting or a path is shown as \xNN */
	char buf[512] = "zcshim: ";
	zcs_escape_line(buf, sizeof buf - 1, line, strlen(line), 0);
	size_t n = strlen(buf);
	buf[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, buf, n);
	(void)w;
	errno = saved;
}
