/*
 * outfile.c - --output FILE: write the whole document to a temporary file
 * in FILE's directory, then rename it over FILE, so a reader (node_exporter's
 * textfile collector scanning every few seconds) sees the old file or the
 * new one, never half of one. Same directory, because rename is atomic only
 * within one file system.
 *
 * A rename replaces a name, whatever it named: over /dev/null (as root) it
 * would leave a regular file where the device was, over a symlink it would
 * replace the link and leave its target as it was, over a FIFO it would
 * leave the reader waiting on a pipe nobody writes. So FILE must be a
 * regular file or not exist yet; anything else (device, FIFO, socket,
 * directory, symlink, /dev/stdout) is refused with one line and status 1
 * before anything is written, and left as it was. To write to a pipe or
 * a terminal, leave --output out. The new file gets FILE's permission
 * bits (and, for root, its owner and group), or 0644 if FILE is new:
 * readable by the collector, which usually runs as another user.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stat.h"

#define NEW_FILE_MODE 0644

static const char *kind(mode_t mode)
{
	return S_ISLNK(mode)   ? "a symbolic link"
	       : S_ISCHR(mode) ? "a character device"
	       : S_ISBLK(mode) ? "a block device"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISSOCK(mode) ? "a socket"
	       : S_ISDIR(mode) ? "a directory"
				: "not a regular file";
}

FILE *outfile_open(const char *path, char *tmp, size_t tmp_len)
{
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path) + 1 : 0;
	const char *base = slash ? slash + 1 : path;
	if (!*base) {
		stat_err("--output %s: not a file name", path);
		return NULL;
	}
	/* what is there now decides: lstat, so a symlink is seen as one */
	struct stat st;
	int exists = lstat(path, &st) == 0;
	if (!exists && errno != ENOENT) {
		stat_err("--output %s: %s", path, strerror(errno));
		return NULL;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		stat_err("--output %s: %s; --output writes only a regular file (replaced "
			 "whole) or a new one; leave it out to write to standard output",
			 path, kind(st.st_mode));
		return NULL;
	}
	/* a dot name: the textfile collector reads only *.prom, not this */
	int n = snprintf(tmp, tmp_len, "%.*s.%s.XXXXXX", dir_len, path, base);
	if (n < 0 || (size_t)n >= tmp_len) {
		stat_err("--output %s: name too long", path);
		return NULL;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		stat_err("--output %s: %s", path, strerror(errno));
		return NULL;
	}
	/* mkstemp makes 0600: the file takes the mode of the one it replaces.
	 * Owner first, which clears set-id bits, then the mode. Only root can
	 * give a file away; anyone else's new file is theirs, as with any
	 * rename. */
	if (exists && geteuid() == 0)
		(void)!fchown(fd, st.st_uid, st.st_gid);
	if (fchmod(fd, exists ? st.st_mode & 0777 : NEW_FILE_MODE) != 0) {
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
	/* Checked again: something else may have been put there meanwhile */
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		stat_err("--output %s: became %s while written; left as it is", path,
			 kind(st.st_mode));
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
