/*
 * compare.c - --compare A.json B.json: two saved runs side by side, e.g.
 * the app in profile mode (A) and in convert mode (B), per op and size
 * class, with B/A ratios of the mean and the p99, so a user sees what
 * converting did to their app's sends.
 *
 * Rows merge the paths of an op and size class (profile's zerocopy and
 * convert's converted are the same sends, treated two ways); the path
 * column says which. Percentiles come from the merged buckets through
 * segread's quantile function, so they match what zcshim-stat prints. The
 * documents are parsed by json.c and checked field by field: a file that is
 * not one of ours is refused with the reason, never half-read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "stat.h"

#define MAX_JSON_BYTES (64u << 20)

struct agg {
	unsigned paths;      /* bit per enum zcs_path seen */
	struct zcs_cell cell;/* count, bytes, time_ns_sum, buckets merged */
};

struct side {
	const char *file;
	struct json *doc;
	struct agg agg[ZCS_NOPS][ZCS_NSIZES];
};

static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		stat_err("%s: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 1 << 16, used = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + used, 1, cap - used, f);
		used += n;
		if (used < cap)
			break;
		if (cap >= MAX_JSON_BYTES) {
			free(buf);
			fclose(f);
			stat_err("%s: larger than %u MiB: not one of our documents", path,
				 MAX_JSON_BYTES >> 20);
			return -1;
		}
		char *grown = realloc(buf, cap * 2);
		if (!grown) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = grown;
		cap *= 2;
	}
	const char *why = !buf ? "out of memory" : ferror(f) ? "read error" : NULL;
	fclose(f);
	if (why) {
		free(buf);
		stat_err("%s: %s", path, why);
		return -1;
	}
	*text = buf;
	*len = used;
	return 0;
}

static int index_of(const char *name, const char *(*names)(unsigned), unsigned n)
{
	for (unsigned i = 0; name && i < n; i++)
		if (strcmp(names(i), name) == 0)
			return (int)i;
	return -1;
}

/* Check one series object and add it to its row. */
static int add_series(struct side *sd, const struct json *x, size_t i)
{
	const char *op_name = json_get_str(x, "op"), *path_name = json_get_str(x, "path");
	int op = index_of(op_name, zcs_op_name, ZCS_NOPS);
	int path = index_of(path_name, zcs_path_name, ZCS_NPATHS);
	uint64_t k, count, bytes, time_ns_sum;
	const struct json *b = json_get(x, "buckets");
	if (op < 0 || path < 0 || !json_get_u64(x, "size_class", &k) || k >= ZCS_NSIZES ||
	    !json_get_u64(x, "count", &count) || !json_get_u64(x, "bytes", &bytes) ||
	    !json_get_u64(x, "time_ns_sum", &time_ns_sum) || !b || b->type != JSON_ARRAY) {
		stat_err("%s: series %zu: missing or bad op, path, size_class, count, bytes, "
			 "time_ns_sum or buckets",
			 sd->file, i);
		return -1;
	}
	struct agg *a = &sd->agg[op][k];
	a->paths |= 1u << path;
	a->cell.count += count;
	a->cell.bytes += bytes;
	a->cell.time_ns_sum += time_ns_sum;
	for (size_t j = 0; j < b->n; j++) {
		const struct json *pair = &b->items[j];
		int ok = pair->type == JSON_ARRAY && pair->n == 2 &&
			 pair->items[1].type == JSON_UINT &&
			 (pair->items[0].type == JSON_UINT || pair->items[0].type == JSON_NULL);
		uint64_t upper = ok && pair->items[0].type == JSON_UINT ? pair->items[0].u
									: UINT64_MAX;
		if (!ok || zcs_cell_add_bucket(&a->cell, upper, pair->items[1].u) != 0) {
			stat_err("%s: series %zu: bucket %zu is not [upper_ns, count] at a "
				 "bucket bound",
				 sd->file, i, j);
			return -1;
		}
	}
	return 0;
}

static int load_side(struct side *sd, const char *file)
{
	char *text, err[200];
	size_t len;
	memset(sd, 0, sizeof *sd);
	sd->file = file;
	if (read_file(file, &text, &len) != 0)
		return -1;
	sd->doc = json_parse(text, len, err, sizeof err);
	free(text);
	if (!sd->doc) {
		stat_err("%s: %s", file, err);
		return -1;
	}
	uint64_t version;
	const struct json *series = json_get(sd->doc, "series");
	if (json_get(sd->doc, "processes")) {
		stat_err("%s: an --all document; --compare takes one process per file "
			 "(zcshim-stat --json PID)", file);
		return -1;
	}
	if (!json_get_u64(sd->doc, "version", &version) || !series ||
	    series->type != JSON_ARRAY || !json_get_str(sd->doc, "exe")) {
		stat_err("%s: not a zcshim-stat --json document", file);
		return -1;
	}
	/* version 1 wrote the same series, by size: still comparable */
	if (version != ZCS_LAYOUT_VERSION && version != 1) {
		stat_err("%s: layout version %" PRIu64 ", this zcshim-stat reads version %u", file,
			 version, ZCS_LAYOUT_VERSION);
		return -1;
	}
	const char *by = json_get_str(sd->doc, "by");
	if (by && !strcmp(by, "socket")) {
		stat_err("%s: a --by socket dump has no size classes to compare; dump with "
			 "--by size or --by both", file);
		return -1;
	}
	for (size_t i = 0; i < series->n; i++)
		if (add_series(sd, &series->items[i], i) != 0)
			return -1;
	return 0;
}

static void describe(FILE *f, const char *tag, const struct side *sd)
{
	uint64_t pid = 0, messages = 0, thr = 0;
	json_get_u64(sd->doc, "pid", &pid);
	json_get_u64(sd->doc, "messages", &messages);
	const struct json *t = json_get(sd->doc, "threshold");
	char thr_s[24] = "?";
	if (t && t->type == JSON_NULL)
		snprintf(thr_s, sizeof thr_s, "max");
	else if (json_get_u64(sd->doc, "threshold", &thr))
		zcs_format_size(thr, thr_s, sizeof thr_s);
	const char *mode = json_get_str(sd->doc, "mode");
	fprintf(f, "%s: pid %" PRIu64 " (%s), mode %s, threshold %s, %" PRIu64 " messages  [%s]\n",
		tag, pid, json_get_str(sd->doc, "exe"), mode ? mode : "?", thr_s, messages,
		sd->file);
}

static const char *paths(unsigned mask, char *buf, size_t len)
{
	buf[0] = '\0';
	for (unsigned p = 0; p < ZCS_NPATHS; p++)
		if (mask & 1u << p)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "+" : "",
				 zcs_path_name(p));
	return buf[0] ? buf : "-";
}

static double mean(const struct zcs_cell *c)
{
	uint64_t timed = zcs_cell_timed(c);
	return timed ? (double)c->time_ns_sum / (double)timed : 0;
}

static void ratio(FILE *f, double b, double a)
{
	if (a > 0 && b > 0)
		fprintf(f, " %8.2fx", b / a);
	else
		fprintf(f, " %9s", "-");
}

static void side_cols(FILE *f, const struct agg *a)
{
	char p[48], m[24], q[24];
	fprintf(f, "  %-19s %9" PRIu64 " %8s %8s", paths(a->paths, p, sizeof p), a->cell.count,
		fmt_ns_f(mean(&a->cell), m, sizeof m),
		fmt_ns(zcs_cell_quantile_ns(&a->cell, 0.99), q, sizeof q));
}

int compare_run(FILE *f, const char *a_file, const char *b_file)
{
	struct side *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	int rc = 1;
	if (!a || !b) {
		stat_err("out of memory");
		goto out;
	}
	if (load_side(a, a_file) != 0 || load_side(b, b_file) != 0)
		goto out;
	describe(f, "A", a);
	describe(f, "B", b);
	fprintf(f, "%-10s %-11s  %-19s %9s %8s %8s  %-19s %9s %8s %8s %9s %9s\n", "op", "size",
		"A path", "count", "mean", "p99", "B path", "count", "mean", "p99", "mean B/A",
		"p99 B/A");
	int rows = 0;
	for (unsigned op = 0; op < ZCS_NOPS; op++) {
		for (unsigned k = 0; k < ZCS_NSIZES; k++) {
			const struct agg *x = &a->agg[op][k], *y = &b->agg[op][k];
			char cls[40];
			if (!x->cell.count && !y->cell.count)
				continue;
			rows++;
			fprintf(f, "%-10s %-11s", zcs_op_name(op), fmt_class(k, cls, sizeof cls));
			side_cols(f, x);
			side_cols(f, y);
			ratio(f, mean(&y->cell), mean(&x->cell));
			ratio(f, (double)zcs_cell_quantile_ns(&y->cell, 0.99),
			      (double)zcs_cell_quantile_ns(&x->cell, 0.99));
			fputc('\n', f);
		}
	}
	if (!rows)
		fprintf(f, "(no calls recorded in either run)\n");
	rc = 0;
out:
	if (a)
		json_free(a->doc);
	if (b)
		json_free(b->doc);
	free(a);
	free(b);
	return rc;
}
