/*
 * test_recommend.c - --recommend on segments where the right answer is
 * known: the line fit alone, then synthetic apps whose zero-copy and copy
 * costs follow chosen lines (timings spread over +-10 % so the buckets
 * blur them as they blur real ones), checked against the crossover the
 * lines imply; and every way there is not enough data.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histo.h"
#include "segimg.h"
#include "spawn.h"
#include "stat.h"

static struct zc_proc proc;
static char dir[64], path[128];
static unsigned char *img;

static void setup(void)
{
	seg_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/zcshim.1.4242.1.0", dir);
	img = seg_new(4242, ZCS_STATE_EXITED, "synthetic");
}

static void teardown(void)
{
	free(img);
	seg_rmdir(dir);
}

TestSuite(recommend, .init = setup, .fini = teardown, .timeout = 60);

Test(recommend, fit_recovers_an_exact_line)
{
	double x[] = { 64, 1024, 65536, 1048576 }, y[4];
	for (int i = 0; i < 4; i++)
		y[i] = 350 + 0.125 * x[i];
	struct rec_line l;
	cr_assert_eq(rec_fit(x, y, 4, &l), 0);
	cr_assert_float_eq(l.fixed_ns, 350, 1e-6);
	cr_assert_float_eq(l.per_byte_ns, 0.125, 1e-9);
	cr_assert_eq(l.points, 4);
	cr_assert_eq(rec_fit(x, y, 1, &l), -1, "one point is no line");
	double same[] = { 64, 64 };
	cr_assert_eq(rec_fit(same, y, 2, &l), -1, "one size is no line");
}

/* Each size both ways, zero-copy = zc_fixed + zc_byte * size (split between
 * init_data and msg_send), copy = cp_fixed + cp_byte * size. */
static void model(double zc_fixed, double zc_byte, double cp_fixed, double cp_byte,
		  uint64_t samples)
{
	static const uint64_t sizes[] = { 64, 512, 4096, 32768, 262144, 1048576 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		double s = (double)sizes[i];
		double zc = zc_fixed + zc_byte * s;
		seg_put_spread(img, ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY, sizes[i], samples,
			       (uint64_t)(zc * 0.25));
		seg_put_spread(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, sizes[i], samples,
			       (uint64_t)(zc * 0.75));
		seg_put_spread(img, ZCS_OP_SEND, ZCS_PATH_COPY, sizes[i], samples,
			       (uint64_t)(cp_fixed + cp_byte * s));
	}
}

static struct rec_result *compute(void)
{
	static struct rec_result r;
	static struct zcs_snapshot *s;
	char err[300];
	if (!s)
		s = zcs_snapshot_new();
	cr_assert_eq(zcs_parse(img, ZCS_SEGMENT_BYTES, s, err, sizeof err), 0, "%s", err);
	rec_compute(s, &r);
	return &r;
}

static void run(void)
{
	seg_write(img, path);
	const char *argv[] = { "zcshim-stat", "--recommend", path, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, argv), 0, "%s", proc.err);
}

Test(recommend, finds_the_crossover_of_two_known_lines)
{
	/* copies: 200 ns + 0.1 ns/B; zero-copy: 2 us + 0.01 ns/B: equal at 20000 B */
	model(2000, 0.01, 200, 0.1, 1000);
	struct rec_result *r = compute();
	cr_assert_eq(r->verdict, REC_CROSSOVER);
	cr_assert_eq(r->from_fit, 1);
	cr_assert_float_eq(r->zc.per_byte_ns, 0.01, 0.002);
	cr_assert_float_eq(r->cp.per_byte_ns, 0.1, 0.01);
	cr_assert(fabs(r->crossover_bytes - 20000) < 2000, "crossover %.0f", r->crossover_bytes);
	cr_assert(r->threshold_bytes >= 18 * 1024 && r->threshold_bytes <= 22 * 1024,
		  "threshold %llu", (unsigned long long)r->threshold_bytes);
	run();
	char want[64];
	snprintf(want, sizeof want, "suggestion: ZCSHIM_THRESHOLD=%lluk (now 64k)\n",
		 (unsigned long long)r->threshold_bytes / 1024);
	cr_assert_not_null(strstr(proc.out, want), "%s\n%s", want, proc.out);
	/* the evidence: each class, both paths, their samples, the winner */
	cr_assert_not_null(strstr(proc.out, "\n[64,128)            64 "), "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "  copy (zero-copy "), "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "  zero-copy (copy "), "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "     1000 "), "samples: %s", proc.out);
	cr_assert_not_null(strstr(proc.out, "crossover: "), "%s", proc.out);
}

Test(recommend, copies_cheaper_everywhere_suggests_max)
{
	model(5000, 0.01, 100, 0.001, 200);
	struct rec_result *r = compute();
	cr_assert_eq(r->verdict, REC_ALWAYS_COPY);
	cr_assert_eq(r->threshold_bytes, UINT64_MAX);
	run();
	cr_assert_not_null(strstr(proc.out, "suggestion: ZCSHIM_THRESHOLD=max"), "%s", proc.out);
}

Test(recommend, zero_copy_cheaper_everywhere_suggests_0)
{
	model(300, 0.001, 500, 0.2, 200);
	struct rec_result *r = compute();
	cr_assert_eq(r->verdict, REC_ALWAYS_ZC);
	cr_assert_eq(r->threshold_bytes, 0);
	run();
	cr_assert_not_null(strstr(proc.out, "suggestion: ZCSHIM_THRESHOLD=0 "), "%s", proc.out);
}

/* A convert-mode run measured small zero-copy sends only as conversions:
 * the suggestion says it is an extrapolation; profile mode says nothing. */
Test(recommend, a_convert_run_says_its_small_sizes_were_not_measured)
{
	model(300, 0.001, 500, 0.2, 200);
	run();
	cr_assert_null(strstr(proc.out, "note: "), "%s", proc.out);
	seg_hdr(img)->mode = ZCS_MODE_CONVERT;
	run();
	cr_assert_not_null(strstr(proc.out, "\nnote: this run converted zero-copy sends below 64k, "
					    "so their zero-copy cost was not measured; "),
			   "%s", proc.out);
}

Test(recommend, too_few_samples_is_not_enough_data)
{
	model(2000, 0.01, 200, 0.1, REC_MIN_SAMPLES - 1);
	struct rec_result *r = compute();
	cr_assert_eq(r->verdict, REC_NO_DATA);
	run();
	cr_assert_not_null(strstr(proc.out, "not enough data (both paths)"), "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "suggestion: not enough data"), "%s", proc.out);
}

Test(recommend, one_path_short_in_one_class_is_named)
{
	model(2000, 0.01, 200, 0.1, 100);
	/* a class sent zero-copy only, 5 times: evidence for neither line */
	seg_put(img, ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY, 8 << 20, 5, 100);
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 8 << 20, 5, 100);
	run();
	cr_assert_not_null(strstr(proc.out, "[8M,16M)"), "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "not enough data (both paths)"), "%s", proc.out);
	struct rec_result *r = compute();
	cr_assert_eq(r->zc.points, 6, "the short class is left out of the fit");
	cr_assert_eq(r->verdict, REC_CROSSOVER);
}

Test(recommend, without_lines_measured_classes_decide)
{
	/* one class only, both paths: no line, but a direct comparison */
	seg_put_spread(img, ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY, 300000, 100, 200);
	seg_put_spread(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 300000, 100, 800);
	seg_put_spread(img, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 300000, 100, 30000);
	seg_put_spread(img, ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY, 100, 100, 200);
	seg_put_spread(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100, 100, 800);
	seg_put_spread(img, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100, 100, 300);
	struct rec_result *r = compute();
	cr_assert_eq(r->from_fit, 1, "two classes on each path make lines");
	/* now a single class */
	free(img);
	img = seg_new(4242, ZCS_STATE_EXITED, "synthetic");
	seg_put_spread(img, ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY, 300000, 100, 200);
	seg_put_spread(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 300000, 100, 800);
	seg_put_spread(img, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 300000, 100, 30000);
	r = compute();
	cr_assert_eq(r->from_fit, 0);
	cr_assert_eq(r->verdict, REC_ALWAYS_ZC);
	run();
	cr_assert_not_null(strstr(proc.out, "zero-copy: not enough data (needs 2 size classes)"),
			   "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "zero-copy (copy "), "%s", proc.out);
}

Test(recommend, nothing_sent_says_so)
{
	run();
	cr_assert_not_null(strstr(proc.out, "(no sends recorded)"), "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "suggestion: not enough data"), "%s", proc.out);
}
