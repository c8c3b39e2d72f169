/*
 * load.c - get the snapshot a view shows: find the segment (PID, NAME, or a
 * FILE path), read it, and subtract the baseline that --reset saved for
 * that process, so every format counts from the same zero point.
 */
#include <stdlib.h>
#include <string.h>

#include "stat.h"

int load_snapshot(const char *key, struct zcs_snapshot *s, int raw, uint64_t *since_ns)
{
	char err[600];
	int rc = strchr(key, '/') ? zcs_read(key, s, err, sizeof err)
				  : zcs_find(key, s, err, sizeof err);
	if (since_ns)
		*since_ns = 0;
	if (rc != 0) {
		stat_err("%s", err);
		return 1;
	}
	if (!raw && baseline_apply(s, since_ns) < 0)
		return 1;
	return 0;
}

void free_all(struct zcs_snapshot **snaps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		zcs_snapshot_free(snaps[i]);
	free(snaps);
}

int load_names(struct zcs_name **names, size_t *n, struct zcs_snapshot **scratch)
{
	char err[600];
	size_t skipped;
	if (zcs_list(names, n, &skipped, err, sizeof err) != 0) {
		stat_err("%s", err);
		return 1;
	}
	if (skipped)
		stat_err("%zu older segments not shown (at most %d are)", skipped, ZCS_LIST_MAX);
	*scratch = zcs_snapshot_new();
	if (!*scratch) {
		free(*names);
		stat_err("out of memory");
		return 1;
	}
	return 0;
}

int load_all(struct zcs_snapshot ***snaps, uint64_t **since_ns, size_t *n, int raw)
{
	struct zcs_name *names;
	size_t count;
	char err[600];
	*snaps = NULL;
	*since_ns = NULL;
	*n = 0;
	size_t skipped;
	if (zcs_list(&names, &count, &skipped, err, sizeof err) != 0) {
		stat_err("%s", err);
		return 1;
	}
	if (skipped)
		stat_err("%zu older segments not shown (at most %d are)", skipped, ZCS_LIST_MAX);
	struct zcs_snapshot **out = calloc(count ? count : 1, sizeof *out);
	uint64_t *since = calloc(count ? count : 1, sizeof *since);
	if (!out || !since) {
		free(out);
		free(since);
		free(names);
		stat_err("out of memory");
		return 1;
	}
	size_t used = 0;
	for (size_t i = 0; i < count; i++) {
		struct zcs_snapshot *s = zcs_snapshot_new();
		if (!s) {
			free(names);
			free_all(out, used);
			free(since);
			stat_err("out of memory");
			return 1;
		}
		/* one bad segment must not hide the others: name it and go on */
		if (zcs_read(names[i].path, s, err, sizeof err) != 0) {
			stat_err("%s", err);
			zcs_snapshot_free(s);
			continue;
		}
		if (!raw)
			baseline_apply(s, &since[used]);
		out[used++] = s;
	}
	free(names);
	*snaps = out;
	*since_ns = since;
	*n = used;
	return 0;
}
