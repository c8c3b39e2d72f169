/*
 * baseline.c - --reset without writing to the app's segment.
 *
 * The segment belongs to the app and is written lock-free by its threads;
 * zeroing it from outside would race with them and could lose counts. So
 * --reset saves what the reader sees now as a baseline, a file of the same
 * format as a segment (header + summed counters, so it is validated like
 * one and refused if the layout changes), named after the process (pid,
 * start time, exec seq) so it can never apply to another process. Views
 * subtract it. It lives in $XDG_STATE_HOME/zcshim (~/.local/state/zcshim),
 * per user; --clean removes the baselines of processes whose segment is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stat.h"

int baseline_dir(char *buf, size_t len)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;
	/* the XDG spec: a relative XDG_STATE_HOME is invalid and ignored */
	if (state && state[0] == '/')
		n = snprintf(buf, len, "%s/zcshim", state);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.local/state/zcshim", home);
	else {
		stat_err("neither XDG_STATE_HOME nor HOME is set: nowhere to keep baselines");
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		stat_err("baseline directory name too long");
		return -1;
	}
	return 0;
}

int baseline_path(const struct zcs_header *h, char *buf, size_t len)
{
	char dir[PATH_MAX - 64];
	if (baseline_dir(dir, sizeof dir) != 0)
		return -1;
	snprintf(buf, len, "%s/" ZCS_SHM_PREFIX "%" PRIu64 ".%d.%" PRIu64 ".%u", dir, h->pidns,
		 h->pid, h->start_ticks, h->seq);
	return 0;
}

/* mkdir -p, private: baselines are as personal as the segments. */
static int make_dirs(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", dir);
	for (char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(path, 0700) != 0 && errno != EEXIST) {
				stat_err("%s: %s", path, strerror(errno));
				return -1;
			}
			*p = c;
			if (!c)
				return 0;
		}
	}
}

/* Write the image sparsely: a segment is mostly zero pages. */
static int write_sparse(int fd, const unsigned char *img, size_t len)
{
	static const unsigned char zero[4096];
	for (size_t off = 0; off < len; off += sizeof zero) {
		size_t n = len - off < sizeof zero ? len - off : sizeof zero;
		if (memcmp(img + off, zero, n) == 0)
			continue;
		for (size_t done = 0; done < n;) {
			ssize_t w = pwrite(fd, img + off + done, n - done, (off_t)(off + done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			done += (size_t)w;
		}
	}
	return ftruncate(fd, (off_t)len);
}

int baseline_save(const struct zcs_snapshot *s, char *path, size_t len)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 16];
	if (baseline_dir(dir, sizeof dir) != 0 || make_dirs(dir) != 0 ||
	    baseline_path(&s->hdr, path, len) != 0)
		return -1;
	size_t img_len;
	unsigned char *img = zcs_snapshot_image(s, &img_len);
	if (!img) {
		stat_err("out of memory");
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		stat_err("%s: %s", tmp, strerror(errno));
		free(img);
		return -1;
	}
	int ok = write_sparse(fd, img, img_len) == 0 && fsync(fd) == 0;
	int e = errno;
	free(img);
	if (close(fd) != 0 && ok) {
		ok = 0;
		e = errno;
	}
	if (!ok || rename(tmp, path) != 0) {
		if (ok)
			e = errno;
		stat_err("%s: %s", path, strerror(e));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int baseline_apply(struct zcs_snapshot *s, uint64_t *since_ns)
{
	char path[PATH_MAX], err[600];
	struct stat st;
	if (since_ns)
		*since_ns = 0;
	if (!getenv("XDG_STATE_HOME") && !getenv("HOME"))
		return 0; /* nowhere a baseline could be: nothing to subtract */
	if (baseline_path(&s->hdr, path, sizeof path) != 0)
		return 0;
	if (lstat(path, &st) != 0)
		return 0;
	struct zcs_snapshot *base = zcs_snapshot_new();
	if (!base) {
		stat_err("out of memory");
		return -1;
	}
	int rc = zcs_read(path, base, err, sizeof err);
	if (rc != 0 || base->hdr.pid != s->hdr.pid ||
	    base->hdr.start_ticks != s->hdr.start_ticks || base->hdr.seq != s->hdr.seq) {
		stat_err("baseline %s: %s; remove it, or use --raw", path,
			 rc ? err : "it is another process's");
		zcs_snapshot_free(base);
		return -1;
	}
	zcs_snapshot_sub(s, s, base);
	zcs_snapshot_free(base);
	if (since_ns)
		*since_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	return 1;
}

int reset_run(const char *key)
{
	struct zcs_snapshot *s = zcs_snapshot_new();
	char path[PATH_MAX];
	if (!s) {
		stat_err("out of memory");
		return 1;
	}
	int rc = load_snapshot(key, s, 1, NULL);
	if (rc == 0 && baseline_save(s, path, sizeof path) != 0)
		rc = 1;
	char name[ESC_NAME_MAX];
	if (rc == 0)
		printf("pid %d (%s): counts reset to zero for zcshim-stat (baseline %s; the "
		       "app's segment is unchanged, --raw shows it whole)\n",
		       s->hdr.pid, esc_name(s->hdr.exe, name, sizeof name), path);
	zcs_snapshot_free(s);
	return rc;
}
