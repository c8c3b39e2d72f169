/*
 * outfile.c - --output FILE: write the whole document to a temporary file
 * in FILE's directory, then rename it over FILE, so a reader (node_exporter's
 * textfile collector scanning every few seconds) sees the old file or the
 * new one, never half of one. Same directory, because rename is atomic only
 * within one file system.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stat.h"

FILE *outfile_open(const char *path, char *tmp, size_t tmp_len)
{
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path) + 1 : 0;
	const char *base = slash ? slash + 1 : path;
	if (!*base) {
		stat_err("--output %s: not a file name", path);
		return NULL;
	}
	/* a dot name: the textfile collector reads only *.prom, not this */
	int n = snprintf(tmp, tmp_len, "%.*s.%s.XXXXXX", dir_len, path, base);
	if (n < 0 || (size_t)n >= tmp_len) {
		stat_err("--output %s: name too long", path);
		return NULL;
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		stat_err("--output %s: %s", path, strerror(errno));
		return NULL;
	}
	/* mkstemp makes 0600; the collector usually runs as another user */
	mode_t mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0) {
		stat_err("--output %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		stat_err("--output %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
	}
	return f;
}

void outfile_abort(FILE *f, const char *tmp)
{
	fclose(f);
	unlink(tmp);
}

int outfile_commit(FILE *f, const char *tmp, const char *path)
{
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
		stat_err("--output %s: %s", path, strerror(errno));
		outfile_abort(f, tmp);
		return 1;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		stat_err("--output %s: %s", path, strerror(errno));
		unlink(tmp);
		return 1;
	}
	return 0;
}
