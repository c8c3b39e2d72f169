/*
 * test_compare.c - --compare on large and on hostile files (issue 14,
 * point 3): a 10 MB dump in memory within 10 times its size and in
 * seconds; deep nesting, huge arrays, 100,000 keys, duplicate keys,
 * invalid UTF-8, control characters and numbers past 64 bits each give a
 * result or one line of error, quickly. Every file is made here.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "segimg.h"
#include "spawn.h"

static struct zc_proc proc;
static char dir[64];

static void setup(void)
{
	seg_tmpdir(dir, sizeof dir);
}

static void teardown(void)
{
	seg_rmdir(dir);
}

TestSuite(compare, .init = setup, .fini = teardown, .timeout = 240);

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A growing string. */
struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->s = realloc(b->s, b->cap);
		cr_assert_not_null(b->s);
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

static void puts_n(struct buf *b, const char *s, size_t times)
{
	for (size_t i = 0; i < times; i++)
		put(b, s, strlen(s));
}

static const char *file_of(const char *name, const struct buf *b)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(b->s, 1, b->len, f), b->len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* A genuine dump, --json --by both, of a process with a few sockets and
 * timings spread over many buckets. */
static char *genuine_dump(void)
{
	unsigned char *img = seg_new(601, ZCS_STATE_EXITED, "bigapp");
	seg_socket(img, 1, 8, EPS("tcp://127.0.0.1:5555"), ZCS_SOCK_OPEN);
	for (unsigned k = 0; k < 20; k++) {
		uint64_t bytes = 1ull << k;
		seg_put_spread(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, bytes, 500, 100 + 97 * k);
		seg_put_spread(img, ZCS_OP_SEND, ZCS_PATH_COPY, bytes, 300, 2000 + 1000 * k);
		seg_put_on(img, 1, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, bytes, 40, 5000);
	}
	char seg[128];
	snprintf(seg, sizeof seg, "%s/zcshim.601.1.0", dir);
	seg_write(img, seg);
	free(img);
	const char *argv[] = { "zcshim-stat", "--json", "--by", "both", seg, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, argv), 0, "%s", proc.err);
	return strdup(proc.out);
}

/* zcshim-stat --compare a b: its status; *secs the time it took. */
static int compare(const char *a, const char *b, double *secs)
{
	const char *argv[] = { "zcshim-stat", "--compare", a, b, NULL };
	double t = now_s();
	int rc = zc_run(&proc, 0, NULL, argv);
	if (secs)
		*secs = now_s() - t;
	return rc;
}

/* One line on stderr, prefixed, valid UTF-8 with no control byte but its
 * newline, saying `why`. */
static void one_error_line(const char *why)
{
	cr_assert_eq(strncmp(proc.err, "zcshim-stat: ", 13), 0, "%s", proc.err);
	const char *nl = strchr(proc.err, '\n');
	cr_assert(nl && nl[1] == '\0', "not one line: %s", proc.err);
	for (const unsigned char *c = (const unsigned char *)proc.err; c < (const unsigned char *)nl;
	     c++)
		cr_assert(*c >= 0x20 && *c < 0x7f, "byte %02x in %s", *c, proc.err);
	cr_assert_not_null(strstr(proc.err, why), "'%s' does not say '%s'", proc.err, why);
}

Test(compare, a_10_mb_dump_in_bounded_memory_and_time)
{
	char *dump = genuine_dump();
	/* the same series over and over, to 10 MB: what a process with many
	 * sockets and sizes writes */
	char *series = strstr(dump, "\"series\":[\n");
	char *end = strrchr(dump, ']');
	cr_assert(series && end && end > series);
	series += strlen("\"series\":[\n");
	struct buf b = { 0 };
	put(&b, dump, (size_t)(series - dump));
	size_t copies = 0;
	while (b.len < 10u << 20) {
		if (copies++)
			put(&b, ",\n", 2);
		put(&b, series, (size_t)(end - 1 - series));
	}
	put(&b, "\n]}\n", 4);
	const char *big = file_of("big.json", &b);
	size_t bytes = b.len;
	free(b.s);

	double secs;
	cr_assert_eq(compare(big, big, &secs), 0, "%s", proc.err);
	cr_assert_lt(secs, 30.0, "%.1f s", secs);
	/* 500 + 40 sends of 1 B in every copy: counts add up, not one lost */
	char want[128];
	snprintf(want, sizeof want, "%-10s %-11s  %-19s %9zu ", "msg_send", "[1,2)",
		 "zerocopy+converted", 540 * copies);
	cr_assert_not_null(strstr(proc.out, want), "%s\n%s", want, proc.out);
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	cr_log_info("10 MB compare: %.2f s, %ld KiB peak (file %zu KiB, %zu series copies)", secs,
		    ru.ru_maxrss, bytes >> 10, copies);
#if !defined(__SANITIZE_ADDRESS__)
	/* under ASan, its quarantine and redzones are the bulk; the plain
	 * build runs this too */
	cr_assert_leq((size_t)ru.ru_maxrss * 1024, 10 * bytes, "%ld KiB for %zu KiB",
		      ru.ru_maxrss, bytes >> 10);
#endif
	free(dump);
}

Test(compare, many_series_and_many_keys_give_a_result_in_seconds)
{
	char *dump = genuine_dump();
	const char *a = file_of("a.json", &(struct buf){ dump, strlen(dump), 0 });
	char apath[128];
	snprintf(apath, sizeof apath, "%s", a);
	static const char head[] = "{\"version\":3,\"exe\":\"x\",";
	/* 100,000 keys in the document, then 100,000 in one series */
	struct buf b = { 0 };
	put(&b, "{", 1);
	char kv[64];
	for (int i = 0; i < 100000; i++) {
		snprintf(kv, sizeof kv, "\"k%d\":%d,", i, i);
		put(&b, kv, strlen(kv));
	}
	puts_n(&b, "\"version\":3,\"exe\":\"x\",\"series\":[]}", 1);
	double secs;
	cr_assert_eq(compare(apath, file_of("keys.json", &b), &secs), 0, "%s", proc.err);
	cr_assert_lt(secs, 20.0);
	b.len = 0;
	put(&b, head, strlen(head));
	puts_n(&b, "\"series\":[{\"op\":\"send\",\"path\":\"copy\",\"size_class\":3,\"count\":7,"
		   "\"bytes\":28,\"time_ns_sum\":700,\"buckets\":[[128,7]]", 1);
	for (int i = 0; i < 100000; i++) {
		snprintf(kv, sizeof kv, ",\"k%d\":%d", i, i);
		put(&b, kv, strlen(kv));
	}
	put(&b, "}]}", 3);
	cr_assert_eq(compare(apath, file_of("keys2.json", &b), &secs), 0, "%s", proc.err);
	cr_assert_lt(secs, 20.0);
	char want[64];
	snprintf(want, sizeof want, "  %-19s %9d ", "copy", 7);
	cr_assert_not_null(strstr(proc.out, want), "%s", proc.out);
	/* 100,000 series: all added up */
	b.len = 0;
	put(&b, head, strlen(head));
	put(&b, "\"series\":[", 10);
	for (int i = 0; i < 100000; i++)
		puts_n(&b, i ? ",{\"op\":\"send\",\"path\":\"copy\",\"size_class\":3,\"count\":1,"
			       "\"bytes\":4,\"time_ns_sum\":100,\"buckets\":[[128,1]]}"
			     : "{\"op\":\"send\",\"path\":\"copy\",\"size_class\":3,\"count\":1,"
			       "\"bytes\":4,\"time_ns_sum\":100,\"buckets\":[[128,1]]}", 1);
	put(&b, "]}", 2);
	cr_assert_eq(compare(apath, file_of("many.json", &b), &secs), 0, "%s", proc.err);
	cr_assert_lt(secs, 20.0);
	snprintf(want, sizeof want, "  %-19s %9d ", "copy", 100000);
	cr_assert_not_null(strstr(proc.out, want), "%s", proc.out);
	free(b.s);
	free(dump);
}

Test(compare, hostile_files_get_one_line_quickly)
{
	char a[128];
	snprintf(a, sizeof a, "%s/a.json", dir);
	seg_spit(a, "{\"version\":3,\"exe\":\"x\",\"series\":[]}");
	static const char head[] = "{\"version\":3,\"exe\":\"x\",";
	struct buf b = { 0 };
	struct {
		const char *name, *why;
	} cases[] = {
		{ "deep-series", "maximum parsing depth" },
		{ "deep-member", "maximum parsing depth" },
		{ "huge-array", "more than 32 MiB of memory" },
		{ "dup-top", "duplicate object key" },
		{ "dup-100k", "duplicate object key" },
		{ "dup-nested", "duplicate object key" },
		{ "invalid-utf8", "unable to decode byte 0xff" },
		{ "big-number", "too big integer" },
		{ "nul", "\\u0000 is not allowed" },
		{ "not-json", "JSON: " },
		{ "trailing", "the end of the file expected" },
		{ "too-large", "larger than 64 MiB" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *n = cases[i].name;
		b.len = 0;
		if (!strcmp(n, "deep-series")) {
			put(&b, head, strlen(head));
			put(&b, "\"series\":[", 10);
			puts_n(&b, "[", 100000);
			puts_n(&b, "]", 100000);
			put(&b, "]}", 2);
		} else if (!strcmp(n, "deep-member")) {
			put(&b, "{\"x\":", 5);
			puts_n(&b, "{\"a\":", 100000);
			put(&b, "1", 1);
			puts_n(&b, "}", 100000);
			put(&b, ",\"version\":3,\"exe\":\"x\",\"series\":[]}", 34);
		} else if (!strcmp(n, "huge-array")) {
			put(&b, head, strlen(head));
			put(&b, "\"sockets\":[0", 12);
			puts_n(&b, ",0", 15000000); /* 30 MB, 15 M values */
			put(&b, "],\"series\":[]}", 14);
		} else if (!strcmp(n, "dup-top")) {
			puts_n(&b, "{\"version\":3,\"exe\":\"x\",\"exe\":\"y\",\"series\":[]}", 1);
		} else if (!strcmp(n, "dup-100k")) {
			put(&b, "{\"k\":0", 6);
			puts_n(&b, ",\"k\":0", 100000);
			put(&b, "}", 1);
		} else if (!strcmp(n, "dup-nested")) {
			put(&b, head, strlen(head));
			puts_n(&b, "\"series\":[{\"op\":\"send\",\"op\":\"send\"}]}", 1);
		} else if (!strcmp(n, "invalid-utf8")) {
			puts_n(&b, "{\"version\":3,\"exe\":\"\xff\x1b[31m\",\"series\":[]}", 1);
		} else if (!strcmp(n, "big-number")) {
			put(&b, head, strlen(head));
			puts_n(&b, "\"pid\":18446744073709551616,\"series\":[]}", 1);
		} else if (!strcmp(n, "nul")) {
			puts_n(&b, "{\"version\":3,\"exe\":\"a\\u0000b\",\"series\":[]}", 1);
		} else if (!strcmp(n, "not-json")) {
			puts_n(&b, "{\"version\":3,\x1b[2J", 1);
		} else if (!strcmp(n, "trailing")) {
			puts_n(&b, "{\"version\":3,\"exe\":\"x\",\"series\":[]} {}", 1);
		} else {
			put(&b, head, strlen(head));
			put(&b, "\"series\":[", 10);
			puts_n(&b, "                ", 65u << 16); /* 65 MiB of spaces */
			put(&b, "]}", 2);
		}
		double secs;
		cr_assert_eq(compare(a, file_of(n, &b), &secs), 1, "%s: %s", n, proc.err);
		cr_assert_lt(secs, 20.0, "%s: %.1f s", n, secs);
		cr_assert_str_empty(proc.out, "%s: %s", n, proc.out);
		one_error_line(cases[i].why);
	}
	free(b.s);
}

Test(compare, control_characters_in_a_dump_are_shown_escaped)
{
	char a[128];
	snprintf(a, sizeof a, "%s/a.json", dir);
	/* our dumps hold names in their text form; a crafted one may hold
	 * escapes JSON allows: ESC, a newline, C1 CSI */
	seg_spit(a, "{\"version\":3,\"exe\":\"a\\u001b[31mb\\n\\\\xff\",\"mode\":\"\\u009b2J\","
		    "\"series\":[]}");
	cr_assert_eq(compare(a, a, NULL), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "A: pid 0 (a\\x1b[31mb\\x0a\\xff), mode \\xc2\\x9b2J,"),
			   "%s", proc.out);
	for (const unsigned char *c = (const unsigned char *)proc.out; *c; c++)
		cr_assert(*c == '\n' || (*c >= 0x20 && *c < 0x7f), "byte %02x", *c);
}
