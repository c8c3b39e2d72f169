/*
 * test_stat_formats.c - zcshim-stat's machine-readable outputs, read back
 * the way their consumers read them: the JSON with a real parser (jansson),
 * the CSV by its columns, the Prometheus text against the exposition
 * format's rules (and promtool, from the Debian package prometheus),
 * on a real app's segment and on synthetic ones; --all, --output, errors.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "histo.h"
#include "jsonq.h"
#include "segimg.h"
#include "segread.h"
#include "spawn.h"

static struct zc_proc proc;
static char dir[64];
static char app_pid[32];

static void setup(void)
{
	seg_tmpdir(dir, sizeof dir);
}

static void teardown(void)
{
	seg_rmdir(dir);
	if (app_pid[0]) { /* the real app's segment: ours to remove */
		struct zcs_snapshot *s = zcs_snapshot_new();
		char err[600];
		if (s && zcs_find(app_pid, s, err, sizeof err) == 0)
			unlink(s->path);
		zcs_snapshot_free(s);
		app_pid[0] = '\0';
	}
}

TestSuite(formats, .init = setup, .fini = teardown, .timeout = 120);

static int stat_argv(const char *const argv[])
{
	return zc_run(&proc, 0, NULL, argv);
}

/* A real app under the shim in convert mode: 20 x 100 B converted, 20 x 1 MB
 * zero-copy. */
static void real_app(void)
{
	const char *env[] = { "ZCSHIM_MODE=convert", NULL };
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100,1000000", "--count", "20",
			       NULL };
	cr_assert_eq(zc_run(&proc, 1, env, argv), 0, "%s", proc.err);
	snprintf(app_pid, sizeof app_pid, "%d", (int)proc.pid);
}

/* A synthetic segment in dir, of a process that exited. */
static void synthetic(const char *name, int pid, const char *exe)
{
	unsigned char *img = seg_new(pid, ZCS_STATE_EXITED, exe);
	seg_put(img, ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY, 100, 40, 300);
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100, 30, 2000);
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100, 10, 70000);
	seg_put(img, ZCS_OP_SEND, ZCS_PATH_COPY, 5000, 7, 900);
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	seg_write(img, path);
	free(img);
}

/* ---------------------------------------------------------------- JSON */

static const json_t *series_of(const json_t *doc, const char *op, const char *path,
			       uint64_t size_class)
{
	const json_t *s = json_object_get(doc, "series");
	cr_assert(json_is_array(s));
	for (size_t i = 0; i < json_array_size(s); i++) {
		uint64_t k;
		const json_t *x = json_array_get(s, i);
		const char *o = jq_str(x, "op"), *p = jq_str(x, "path");
		if (o && p && !strcmp(o, op) && !strcmp(p, path) &&
		    jq_u64(x, "size_class", &k) && k == size_class)
			return x;
	}
	return NULL;
}

Test(formats, json_of_a_real_app_parses_and_holds_its_counts)
{
	real_app();
	const char *argv[] = { "zcshim-stat", "--json", app_pid, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	json_t *doc = jq_parse(proc.out);
	uint64_t pid = 0, messages = 0, count = 0, timed = 0, bytes = 0;
	cr_assert(jq_u64(doc, "pid", &pid));
	cr_assert_eq(pid, (uint64_t)atol(app_pid));
	cr_assert_str_eq(jq_str(doc, "exe"), "zcapp");
	cr_assert_str_eq(jq_str(doc, "state"), "exited");
	cr_assert(jq_u64(doc, "messages", &messages));
	cr_assert_eq(messages, 40);
	const json_t *conv = series_of(doc, "msg_send", "converted", zcs_size_class(100));
	cr_assert_not_null(conv);
	cr_assert(jq_u64(conv, "count", &count) && count == 20);
	cr_assert(jq_u64(conv, "bytes", &bytes) && bytes == 2000);
	cr_assert(jq_u64(conv, "timed", &timed) && timed == 20);
	/* the buckets add up to timed */
	const json_t *b = json_object_get(conv, "buckets");
	uint64_t sum = 0;
	for (size_t i = 0; i < json_array_size(b); i++)
		sum += (uint64_t)json_integer_value(json_array_get(json_array_get(b, i), 1));
	cr_assert_eq(sum, timed);
	cr_assert_not_null(series_of(doc, "msg_send", "zerocopy", zcs_size_class(1000000)));
	json_decref(doc);
}

Test(formats, json_all_is_one_document_of_every_segment)
{
	synthetic("zcshim.1.101.5.0", 101, "one");
	synthetic("zcshim.1.102.6.0", 102, "two,\"quoted\"");
	const char *argv[] = { "zcshim-stat", "--dir", dir, "--all", "--json", NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	json_t *doc = jq_parse(proc.out);
	const json_t *ps = json_object_get(doc, "processes");
	cr_assert(json_is_array(ps) && json_array_size(ps) == 2, "%s", proc.out);
	cr_assert_str_eq(jq_str(json_array_get(ps, 0), "exe"), "one");
	cr_assert_str_eq(jq_str(json_array_get(ps, 1), "exe"), "two,\"quoted\"");
	json_decref(doc);
}

/* ----------------------------------------------------------------- CSV */

/* Split one CSV line (RFC 4180 quotes) into fields; returns their number. */
static size_t csv_fields(const char *line, char fields[][128], size_t max)
{
	size_t n = 0, used = 0;
	int quoted = 0;
	fields[0][0] = '\0';
	for (const char *p = line; *p && *p != '\n'; p++) {
		if (quoted && *p == '"' && p[1] == '"') {
			fields[n][used++] = '"';
			p++;
		} else if (*p == '"') {
			quoted = !quoted;
		} else if (*p == ',' && !quoted) {
			fields[n][used] = '\0';
			cr_assert_lt(++n, max);
			used = 0;
		} else if (used < 127) {
			fields[n][used++] = *p;
		}
	}
	fields[n][used] = '\0';
	return n + 1;
}

static const char *const csv_columns[] = {
	"pid", "seq", "exe", "state", "mode", "op", "path", "size_class", "size_lo",
	"size_hi", "count", "bytes", "timed", "time_ns_sum", "mean_ns", "p50_ns", "p90_ns",
	"p99_ns", "max_ns", "socket", "socket_type", "endpoints", "endpoints_cut",
};
#define NCOLS (sizeof csv_columns / sizeof csv_columns[0])

Test(formats, csv_has_its_header_and_one_row_per_series)
{
	real_app();
	const char *argv[] = { "zcshim-stat", "--csv", app_pid, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	char f[32][128];
	const char *line = proc.out;
	cr_assert_eq(csv_fields(line, f, 32), NCOLS, "%s", proc.out);
	for (size_t i = 0; i < NCOLS; i++)
		cr_assert_str_eq(f[i], csv_columns[i]);
	int rows = 0, found = 0;
	while ((line = strchr(line, '\n')) && *++line) {
		rows++;
		cr_assert_eq(csv_fields(line, f, 32), NCOLS, "row %d: %.200s", rows, line);
		cr_assert_str_eq(f[0], app_pid);
		cr_assert_str_eq(f[2], "zcapp");
		if (!strcmp(f[5], "msg_send") && !strcmp(f[6], "converted")) {
			found = 1;
			cr_assert_str_eq(f[7], "7");
			cr_assert_str_eq(f[8], "64");
			cr_assert_str_eq(f[9], "127");
			cr_assert_str_eq(f[10], "20");
			cr_assert_str_eq(f[11], "2000");
			cr_assert_gt(atof(f[14]), 0, "mean_ns");
		}
	}
	cr_assert(found, "%s", proc.out);
	/* as many rows as the table has */
	const char *targv[] = { "zcshim-stat", app_pid, NULL };
	cr_assert_eq(stat_argv(targv), 0);
	const char *start = strstr(proc.out, "\nop "), *end = strstr(proc.out, "\nffn ran on");
	cr_assert(start && end, "%s", proc.out);
	int table_rows = -1; /* less the header line */
	for (const char *p = start + 1; p <= end; p = strchr(p, '\n') + 1)
		table_rows++;
	cr_assert_eq(rows, table_rows, "csv %d rows, table %d", rows, table_rows);
}

Test(formats, csv_quotes_odd_program_names_and_leaves_unknowns_empty)
{
	synthetic("zcshim.1.102.6.0", 102, "a,b\"c");
	char path[128];
	snprintf(path, sizeof path, "%s/zcshim.1.102.6.0", dir);
	const char *argv[] = { "zcshim-stat", "--csv", path, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "\n102,0,\"a,b\"\"c\",exited,profile,"), "%s", proc.out);
	char f[32][128];
	const char *row = strstr(proc.out, "send,copy");
	cr_assert_not_null(row);
	while (row[-1] != '\n')
		row--;
	cr_assert_eq(csv_fields(row, f, 32), NCOLS);
	cr_assert_str_eq(f[2], "a,b\"c");
	cr_assert_str_eq(f[10], "7");
	cr_assert_str_eq(f[13], "6300");
	cr_assert_str_eq(f[14], "900.0");
}

/* ---------------------------------------------------------- Prometheus */

/* Check text against the exposition format: HELP and TYPE before each
 * family's samples, samples of a family together, no label set twice,
 * histogram buckets cumulative with le ascending and ending in +Inf equal
 * to _count. Returns the number of histogram series seen. */
static int check_prometheus(const char *text)
{
	char family[128] = "", type[32] = "", prev_key[1024] = "";
	double prev_le = -1;
	uint64_t prev_count = 0, inf_count = 0;
	int histograms = 0, in_hist_series = 0;
	static char seen[4096][2048 + 8];
	int nseen = 0;
	char line[2048];
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		cr_assert_not_null(nl, "last line not terminated");
		size_t len = (size_t)(nl - p);
		cr_assert_lt(len, sizeof line);
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl + 1;
		if (!strncmp(line, "# HELP ", 7)) {
			char name[128];
			cr_assert_eq(sscanf(line + 7, "%127s", name), 1);
			cr_assert_str_neq(name, family, "family %s twice", name);
			snprintf(family, sizeof family, "%s", name);
			type[0] = '\0';
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			char name[128];
			cr_assert_eq(sscanf(line + 7, "%127s %31s", name, type), 2, "%s", line);
			cr_assert_str_eq(name, family, "TYPE without HELP: %s", line);
			cr_assert(!strcmp(type, "counter") || !strcmp(type, "gauge") ||
				  !strcmp(type, "histogram"), "%s", line);
			continue;
		}
		cr_assert_neq(line[0], '#', "%s", line);
		cr_assert_neq(type[0], '\0', "sample before TYPE: %s", line);
		/* name{labels} value */
		char *brace = strchr(line, '{'), *close = strrchr(line, '}');
		cr_assert(brace && close && close > brace && close[1] == ' ', "%s", line);
		*brace = '\0';
		const char *name = line;
		for (const char *c = name; *c; c++)
			cr_assert(strchr("abcdefghijklmnopqrstuvwxyz_:", *c), "name %s", name);
		char *end;
		double value = strtod(close + 2, &end);
		cr_assert(*end == '\0' && end != close + 2, "value in %s", close + 2);
		cr_assert_geq(value, 0);
		size_t flen = strlen(family);
		cr_assert(!strncmp(name, family, flen), "%s outside family %s", name, family);
		const char *suffix = name + flen;
		*close = '\0';
		char labels[1024];
		snprintf(labels, sizeof labels, "%s", brace + 1);
		/* every label: name="value" */
		for (const char *l = labels; *l;) {
			const char *eq = strchr(l, '=');
			cr_assert(eq && eq[1] == '"', "labels %s", labels);
			const char *v = eq + 2;
			while (*v && *v != '"')
				v += *v == '\\' ? 2 : 1;
			cr_assert_eq(*v, '"', "labels %s", labels);
			l = v[1] == ',' ? v + 2 : v + 1;
			cr_assert(*l == '\0' || v[1] == ',', "labels %s", labels);
		}
		char key[2048 + 8];
		snprintf(key, sizeof key, "%.1000s{%.1000s}", name, labels);
		for (int i = 0; i < nseen; i++)
			cr_assert_str_neq(seen[i], key, "duplicate series %s", key);
		cr_assert_lt(nseen, 4096);
		snprintf(seen[nseen++], sizeof seen[0], "%s", key);

		if (strcmp(type, "histogram") != 0) {
			cr_assert_str_empty(suffix, "%s", name);
			if (!strcmp(type, "counter"))
				cr_assert(flen > 6 && !strcmp(family + flen - 6, "_total"), "%s", family);
			continue;
		}
		if (!strcmp(suffix, "_bucket")) {
			char *le = strstr(labels, ",le=\"");
			cr_assert_not_null(le, "%s", labels);
			double le_v = !strncmp(le + 5, "+Inf\"", 5) ? 1e300 : strtod(le + 5, NULL);
			*le = '\0';
			if (!in_hist_series || strcmp(prev_key, labels) != 0) {
				cr_assert(!in_hist_series, "series %s ended without +Inf", prev_key);
				snprintf(prev_key, sizeof prev_key, "%s", labels);
				prev_le = -1;
				prev_count = 0;
				in_hist_series = 1;
				histograms++;
			}
			cr_assert_gt(le_v, prev_le, "le not ascending in %s", labels);
			cr_assert_geq((uint64_t)value, prev_count, "buckets not cumulative in %s", labels);
			prev_le = le_v;
			prev_count = (uint64_t)value;
			if (le_v == 1e300) {
				in_hist_series = 0;
				inf_count = prev_count;
			}
		} else if (!strcmp(suffix, "_count")) {
			cr_assert(!in_hist_series, "_count before +Inf");
			cr_assert_eq((uint64_t)value, inf_count, "+Inf bucket != _count for %s", labels);
		} else {
			cr_assert_str_eq(suffix, "_sum", "%s", name);
		}
	}
	cr_assert(!in_hist_series, "last histogram has no +Inf");
	return histograms;
}

Test(formats, prometheus_output_follows_the_exposition_format)
{
	real_app();
	char out[128];
	snprintf(out, sizeof out, "%s/zcshim.prom", dir);
	const char *argv[] = { "zcshim-stat", "--prometheus", "--output", out, app_pid, NULL };
	mode_t mask = umask(077); /* a umask that would make it 0600 */
	int rc = stat_argv(argv);
	umask(mask);
	cr_assert_eq(rc, 0, "%s", proc.err);
	cr_assert_str_empty(proc.out, "--output writes nothing to stdout");
	char *text = seg_slurp(out, NULL);
	int series = check_prometheus(text);
	cr_assert_geq(series, 4, "%s", text);
	char want[256];
	snprintf(want, sizeof want,
		 "zcshim_calls_total{pid=\"%s\",seq=\"0\",exe=\"zcapp\",op=\"msg_send\","
		 "path=\"converted\",size_class=\"[64,128)\"} 20\n", app_pid);
	cr_assert_not_null(strstr(text, want), "%s", want);
	snprintf(want, sizeof want,
		 "zcshim_send_seconds_count{pid=\"%s\",seq=\"0\",exe=\"zcapp\",op=\"msg_send\","
		 "path=\"converted\",size_class=\"[64,128)\"} 20\n", app_pid);
	cr_assert_not_null(strstr(text, want), "%s", want);
	cr_assert_not_null(strstr(text, ",le=\"+Inf\"} 20\n"));
	free(text);
	/* a new file is 0644 whatever the umask: the textfile collector runs as
	 * another user */
	struct stat st;
	cr_assert_eq(stat(out, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644);

	/* and so must Prometheus's own checker */
	zc_promtool_check(&proc, out);
}

Test(formats, prometheus_buckets_are_exact_at_their_bounds)
{
	synthetic("zcshim.1.101.5.0", 101, "one");
	char path[128];
	snprintf(path, sizeof path, "%s/zcshim.1.101.5.0", dir);
	const char *argv[] = { "zcshim-stat", "--prometheus", path, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	check_prometheus(proc.out);
	/* msg_send zerocopy: 30 at 2000 ns, 10 at 70000 ns. 2000 < 2048: in
	 * le 2047 ns, not le 1023 ns; 70000 < 131072 */
	const char *lbl = "zcshim_send_seconds_bucket{pid=\"101\",seq=\"0\",exe=\"one\","
			  "op=\"msg_send\",path=\"zerocopy\",size_class=\"[64,128)\",le=";
	char want[512];
	static const struct { const char *le; int n; } b[] = {
		{ "1.023e-06", 0 }, { "2.047e-06", 30 }, { "6.5535e-05", 30 },
		{ "0.000131071", 40 }, { "+Inf", 40 },
	};
	for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
		snprintf(want, sizeof want, "%s\"%s\"} %d\n", lbl, b[i].le, b[i].n);
		cr_assert_not_null(strstr(proc.out, want), "no %s", want);
	}
	cr_assert_not_null(strstr(proc.out, "size_class=\"[64,128)\"} 0.00076\n"), "_sum: 30 x 2 us "
			   "+ 10 x 70 us");
}

Test(formats, prometheus_all_labels_every_process)
{
	synthetic("zcshim.1.101.5.0", 101, "one");
	synthetic("zcshim.1.102.6.0", 102, "two");
	/* an older segment of pid 102 (a recycled pid): its labels would repeat */
	synthetic("zcshim.1.102.3.0", 102, "old");
	char out[128];
	snprintf(out, sizeof out, "%s/all.prom", dir);
	const char *argv[] = { "zcshim-stat", "--dir", dir, "--all", "--prometheus", "-o", out,
			       NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	char *text = seg_slurp(out, NULL);
	cr_assert_eq(check_prometheus(text), 2 * 3, "3 series in each of 2 processes");
	cr_assert_not_null(strstr(text, "zcshim_info{pid=\"101\",seq=\"0\",exe=\"one\","));
	cr_assert_not_null(strstr(text, "zcshim_info{pid=\"102\",seq=\"0\",exe=\"two\","));
	cr_assert_null(strstr(text, "exe=\"old\""));
	free(text);
}

Test(formats, output_replaces_the_file_whole_and_leaves_no_temporary)
{
	synthetic("zcshim.1.101.5.0", 101, "one");
	char out[128], seg[128];
	snprintf(out, sizeof out, "%s/x.prom", dir);
	snprintf(seg, sizeof seg, "%s/zcshim.1.101.5.0", dir);
	seg_spit(out, "old\n");
	const char *argv[] = { "zcshim-stat", "--prometheus", "--output", out, seg, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	char *text = seg_slurp(out, NULL);
	cr_assert_eq(strncmp(text, "# HELP zcshim_info", 18), 0);
	free(text);
	/* nothing else in the directory: the temporary was renamed */
	const char *ls[] = { "/bin/ls", "-A", dir, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, ls), 0);
	cr_assert_str_eq(proc.out, "x.prom\nzcshim.1.101.5.0\n");

	/* a failed read leaves the old file as it was */
	const char *bad[] = { "zcshim-stat", "--prometheus", "--output", out, "/nonexistent/x",
			      NULL };
	cr_assert_eq(stat_argv(bad), 1);
	text = seg_slurp(out, NULL);
	cr_assert_eq(strncmp(text, "# HELP zcshim_info", 18), 0);
	free(text);
	/* into a directory that does not exist: one line, status 1 */
	const char *nodir[] = { "zcshim-stat", "--json", "-o", "/nonexistent/dir/x.json", seg,
				NULL };
	cr_assert_eq(stat_argv(nodir), 1);
	cr_assert_eq(strncmp(proc.err, "zcshim-stat: --output /nonexistent/dir/x.json: ", 47), 0,
		     "%s", proc.err);
}

/* ------------------------------------------------------------- errors */

Test(formats, usage_errors_exit_2_with_one_line)
{
	static const char *const cases[][6] = {
		{ "--json", "--csv", "1", NULL },
		{ "--all", "1", NULL },
		{ "--watch", NULL },
		{ "--watch", "-i", "0.01", "1", NULL },
		{ "-i", "2", "1", NULL },
		{ "--compare", "a.json", NULL },
		{ "--clean", "1", NULL },
		{ "--recommend", "--json", "1", NULL },
		{ "--watch", "--recommend", "1", NULL },
		{ "--csv", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *argv[8] = { "zcshim-stat" };
		for (size_t j = 0; cases[i][j]; j++)
			argv[j + 1] = cases[i][j];
		cr_assert_eq(stat_argv(argv), 2, "case %zu: %s", i, proc.err);
		cr_assert_eq(strncmp(proc.err, "zcshim-stat: ", 13), 0, "case %zu: %s", i, proc.err);
	}
}

Test(formats, a_malformed_segment_is_refused_in_every_format)
{
	char path[128];
	snprintf(path, sizeof path, "%s/zcshim.1.1.2.0", dir);
	unsigned char *img = seg_new(101, ZCS_STATE_EXITED, "x");
	seg_shared(img)->cells_used = ZCS_NCELLS_MAX + 1;
	seg_write(img, path);
	free(img);
	static const char *const fmts[] = { "--json", "--csv", "--prometheus", "--recommend",
					    "--watch" };
	for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		const char *argv[] = { "zcshim-stat", fmts[i], path, NULL };
		cr_assert_eq(stat_argv(argv), 1, "%s: %s", fmts[i], proc.err);
		cr_assert_not_null(strstr(proc.err, "cells used"), "%s", proc.err);
		cr_assert_str_empty(proc.out);
	}
	/* --all names the bad one and shows the rest */
	synthetic("zcshim.1.101.5.0", 101, "one");
	const char *all[] = { "zcshim-stat", "--dir", dir, "--all", "--csv", NULL };
	cr_assert_eq(stat_argv(all), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.err, "zcshim.1.1.2.0: corrupt"), "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "\n101,0,one,"), "%s", proc.out);
}

Test(formats, prometheus_by_socket_and_both_follow_the_exposition_format)
{
	unsigned char *img = seg_new(103, ZCS_STATE_EXITED, "socks");
	seg_socket(img, 1, 8, EPS("tcp://127.0.0.1:1", "\"quoted\\ep\""), ZCS_SOCK_OPEN);
	seg_put_on(img, 1, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100, 5, 2000);
	seg_put_on(img, 1, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 5000, 5, 2000);
	seg_put(img, ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY, 100, 10, 300);
	seg_fail_on(img, 1, ZCS_OP_MSG_SEND, ZCS_ERR_EAGAIN, 3);
	char path[128];
	snprintf(path, sizeof path, "%s/zcshim.1.103.5.0", dir);
	seg_write(img, path);
	free(img);
	static const char *const bys[] = { "socket", "both" };
	for (size_t i = 0; i < 2; i++) {
		const char *argv[] = { "zcshim-stat", "--prometheus", "--by", bys[i], path, NULL };
		cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
		cr_assert_eq(check_prometheus(proc.out), i ? 3 : 2, "--by %s:\n%s", bys[i], proc.out);
		cr_assert_not_null(strstr(proc.out, "endpoints=\"tcp://127.0.0.1:1 \\\"quoted\\\\ep\\\"\""),
				   "%s", proc.out);
		char out[128];
		snprintf(out, sizeof out, "%s/by.prom", dir);
		seg_spit(out, proc.out);
		zc_promtool_check(&proc, out);
	}
}
