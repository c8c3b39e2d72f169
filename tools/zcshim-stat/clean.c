/*
 * clean.c - --clean: remove the segments nobody will read any more.
 *
 * A segment stays after its process ends (ZCSHIM_KEEP=1, the default) so
 * that zcshim-stat PID works after a short run; each takes 6.4 MB of
 * /dev/shm, which is RAM. Removed: segments whose process is gone
 * (exited, dead) or has exec'd (replaced). Kept, always: a running or
 * starting process's (it is still writing), another user's (even for root:
 * not ours to judge), anything that does not parse (we do not know what it
 * is). Then baselines (--reset) whose segment is gone.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stat.h"

static void clean_baselines(FILE *f)
{
	char dir[PATH_MAX];
	/* no state directory: no baselines to clean, and nothing to say */
	if ((!getenv("XDG_STATE_HOME") && !getenv("HOME")) ||
	    baseline_dir(dir, sizeof dir) != 0)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		struct zcs_name nm;
		char seg[PATH_MAX], path[PATH_MAX * 2];
		struct stat st;
		if (zcs_parse_name(e->d_name, &nm) != 0)
			continue;
		snprintf(seg, sizeof seg, "%s/%s", zcs_dir(), e->d_name);
		if (lstat(seg, &st) == 0 || errno != ENOENT)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (unlink(path) == 0)
			fprintf(f, "removed baseline %s (its segment is gone)\n", path);
	}
	closedir(d);
}

int clean_run(FILE *f)
{
	struct zcs_name *names;
	struct zcs_snapshot *s;
	size_t n, removed = 0, kept = 0;
	char err[600];
	if (load_names(&names, &n, &s) != 0)
		return 1;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (lstat(names[i].path, &st) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid())
			continue; /* gone meanwhile, or not a file of ours */
		if (zcs_read(names[i].path, s, err, sizeof err) != 0) {
			kept++;
			continue;
		}
		if (s->live != ZCS_LIVE_EXITED && s->live != ZCS_LIVE_DEAD &&
		    s->live != ZCS_LIVE_REPLACED) {
			kept++;
			continue;
		}
		if (unlink(names[i].path) != 0) {
			stat_err("%s: %s", names[i].path, strerror(errno));
			rc = 1;
			continue;
		}
		removed++;
		char name[ESC_NAME_MAX];
		fprintf(f, "removed %s (pid %d, %s, %s)\n", names[i].path, s->hdr.pid,
			esc_name(s->hdr.exe, name, sizeof name), zcs_live_name(s->live));
	}
	fprintf(f, "%zu segment%s removed, %zu kept\n", removed, removed == 1 ? "" : "s",
		kept);
	zcs_snapshot_free(s);
	free(names);
	clean_baselines(f);
	return rc;
}
