/*
 * test_tools.c - the commands around the views: --compare on two saved
 * dumps, --reset (a baseline that never touches the app's segment),
 * --clean (dead and exited segments only, and only ours), zcshim-run, and
 * `make install` into a DESTDIR.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "histo.h"
#include "jsonq.h"
#include "procid.h"
#include "segimg.h"
#include "segread.h"

static unsigned long long my_ns(void)
{
	return (unsigned long long)zcs_ns_inode("/proc/self/ns/pid");
}
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

TestSuite(tools, .init = setup, .fini = teardown, .timeout = 120);

static int stat_argv(const char *const env[], const char *const argv[])
{
	return zc_run(&proc, 0, env, argv);
}

static void in_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* ------------------------------------------------------------ compare */

/* Save `zcshim-stat --json seg` as name in dir. */
static void dump(const char *seg, const char *name)
{
	const char *argv[] = { "zcshim-stat", "--json", seg, NULL };
	cr_assert_eq(stat_argv(NULL, argv), 0, "%s", proc.err);
	char path[128];
	in_dir(path, sizeof path, name);
	seg_spit(path, proc.out);
}

Test(tools, compare_shows_both_runs_per_class_with_ratios)
{
	char seg[128], a[128], b[128];
	/* A: profile, zero-copy at 2 us; B: convert, converted at 500 ns */
	unsigned char *img = seg_new(201, ZCS_STATE_EXITED, "app");
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100, 1000, 2000);
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 1 << 20, 50, 9000);
	in_dir(seg, sizeof seg, "zcshim.1.201.1.0");
	seg_write(img, seg);
	free(img);
	dump(seg, "a.json");
	img = seg_new(202, ZCS_STATE_EXITED, "app");
	seg_hdr(img)->mode = ZCS_MODE_CONVERT;
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100, 1000, 500);
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 1 << 20, 50, 9000);
	seg_put(img, ZCS_OP_SEND, ZCS_PATH_COPY, 10, 40, 300);
	in_dir(seg, sizeof seg, "zcshim.1.202.1.0");
	seg_write(img, seg);
	free(img);
	dump(seg, "b.json");

	in_dir(a, sizeof a, "a.json");
	in_dir(b, sizeof b, "b.json");
	const char *argv[] = { "zcshim-stat", "--compare", a, b, NULL };
	cr_assert_eq(stat_argv(NULL, argv), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "A: pid 201 (app), mode profile, threshold 64k, "
					    "1050 messages"), "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "B: pid 202 (app), mode convert,"), "%s", proc.out);
	/* means 2000 -> 500 ns, p99 buckets 2048 -> 512 ns: both 0.25x */
	cr_assert_not_null(strstr(proc.out, "msg_send   [64,128)     zerocopy                 1000 "
					    "   2.0us    2.0us  converted                1000    500ns"
					    "    512ns     0.25x     0.25x\n"),
			   "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "     1.00x     1.00x\n"), "same 1 MiB sends: %s",
			   proc.out);
	/* a row only B has */
	cr_assert_not_null(strstr(proc.out, "send       [8,16)       -                           0"),
			   "%s", proc.out);
}

Test(tools, compare_refuses_what_is_not_one_of_our_dumps)
{
	char a[128], b[128];
	in_dir(a, sizeof a, "a.json");
	in_dir(b, sizeof b, "b.json");
	seg_spit(a, "{\"version\":1,\"exe\":\"x\",\"series\":[]}");
	static const struct { const char *text, *why; } cases[] = {
		{ "{\"version\":1,", "JSON: " },
		{ "[1,2]", "not a zcshim-stat --json document" },
		{ "{\"processes\":[]}", "an --all document" },
		{ "{\"version\":9,\"exe\":\"x\",\"series\":[]}", "layout version 9" },
		{ "{\"version\":1,\"exe\":\"x\",\"series\":[{\"op\":\"fly\"}]}", "series 0: missing" },
		{ "{\"version\":1,\"exe\":\"x\",\"series\":[{\"op\":\"send\",\"path\":\"copy\","
		  "\"size_class\":7,\"count\":1,\"bytes\":1,\"time_ns_sum\":1,\"buckets\":[[17,1]]}]}",
		  "bucket 0 is not" },
		/* the overflow path "any" goes with a null size class, and only it */
		{ "{\"version\":3,\"exe\":\"x\",\"series\":[{\"op\":\"send\",\"path\":\"any\","
		  "\"size_class\":7,\"count\":1,\"bytes\":1,\"time_ns_sum\":1,\"buckets\":[]}]}",
		  "series 0: missing" },
		{ "{\"version\":3,\"exe\":\"x\",\"series\":[{\"op\":\"send\",\"path\":\"copy\","
		  "\"size_class\":null,\"count\":1,\"bytes\":1,\"time_ns_sum\":1,\"buckets\":[]}]}",
		  "series 0: missing" },
		{ "{\"version\":3,\"exe\":\"x\",\"series\":[{\"op\":\"send\",\"path\":\"any\","
		  "\"count\":1,\"bytes\":1,\"time_ns_sum\":1,\"buckets\":[]}]}",
		  "series 0: missing" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		seg_spit(b, cases[i].text);
		const char *argv[] = { "zcshim-stat", "--compare", a, b, NULL };
		cr_assert_eq(stat_argv(NULL, argv), 1, "case %zu", i);
		cr_assert_not_null(strstr(proc.err, cases[i].why), "case %zu: %s", i, proc.err);
		cr_assert_eq(strncmp(proc.err, "zcshim-stat: ", 13), 0);
		cr_assert_eq(strchr(proc.err, '\n')[1], '\0', "one line: %s", proc.err);
	}
	const char *argv[] = { "zcshim-stat", "--compare", a, "/nonexistent.json", NULL };
	cr_assert_eq(stat_argv(NULL, argv), 1);
	cr_assert_not_null(strstr(proc.err, "No such file"), "%s", proc.err);
	/* a FIFO nobody writes to, a directory, a device: refused, not read */
	char fifo[128];
	in_dir(fifo, sizeof fifo, "fifo.json");
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	const char *odd[] = { fifo, dir, "/dev/zero" };
	for (size_t i = 0; i < 3; i++) {
		const char *o[] = { "zcshim-stat", "--compare", a, odd[i], NULL };
		cr_assert_eq(stat_argv(NULL, o), 1, "%s", odd[i]);
		cr_assert_not_null(strstr(proc.err, ": not a regular file\n"), "%s", proc.err);
	}
	/* an empty run compares with itself */
	const char *same[] = { "zcshim-stat", "--compare", a, a, NULL };
	cr_assert_eq(stat_argv(NULL, same), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "(no calls recorded in either run)"));
	/* output that cannot be written is an error, whatever the command */
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s --compare %s %s >/dev/full", zc_build("zcshim-stat"), a, a);
	const char *full[] = { "/bin/sh", "-c", cmd, NULL };
	cr_assert_eq(stat_argv(NULL, full), 1, "%s", proc.err);
	cr_assert_not_null(strstr(proc.err, "zcshim-stat: writing output: "), "%s", proc.err);
}

/* -------------------------------------------------------------- reset */

Test(tools, reset_counts_from_zero_without_touching_the_segment)
{
	char seg[128], state_env[160], base[256];
	unsigned char *img = seg_new(0, ZCS_STATE_RUNNING, "resettable");
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100, 70, 500);
	snprintf(seg, sizeof seg, "%s/zcshim.%llu.%d.9.0", dir, my_ns(), (int)getpid());
	seg_write(img, seg);
	snprintf(state_env, sizeof state_env, "XDG_STATE_HOME=%s/state", dir);
	const char *env[] = { state_env, NULL };
	size_t before_len, after_len;
	char *before = seg_slurp(seg, &before_len);

	const char *reset[] = { "zcshim-stat", "--reset", seg, NULL };
	cr_assert_eq(stat_argv(env, reset), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "counts reset to zero"), "%s", proc.out);
	char *after = seg_slurp(seg, &after_len);
	cr_assert(before_len == after_len && !memcmp(before, after, before_len),
		  "--reset wrote to the app's segment");
	free(before);
	free(after);
	snprintf(base, sizeof base, "%s/state/zcshim/zcshim.%llu.%d.%llu.0", dir, my_ns(),
		 (int)getpid(),
		 (unsigned long long)seg_hdr(img)->start_ticks);
	struct stat st;
	cr_assert_eq(stat(base, &st), 0, "no baseline at %s", base);
	cr_assert_eq(st.st_mode & 0777, 0600);

	/* 30 more sends: the views show those, --raw all 100 */
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100, 30, 500);
	seg_write(img, seg);
	const char *js[] = { "zcshim-stat", "--json", seg, NULL };
	cr_assert_eq(stat_argv(env, js), 0, "%s", proc.err);
	json_t *doc = jq_parse(proc.out);
	uint64_t n = 0, since = 0;
	cr_assert(jq_u64(doc, "messages", &n));
	cr_assert_eq(n, 30);
	cr_assert(jq_u64(doc, "baseline_unix_ns", &since) && since > 0);
	json_decref(doc);
	/* --all subtracts it too, and says since when */
	const char *all[] = { "zcshim-stat", "--dir", dir, "--all", "--json", NULL };
	cr_assert_eq(stat_argv(env, all), 0, "%s", proc.err);
	doc = jq_parse(proc.out);
	const json_t *one = json_array_get(json_object_get(doc, "processes"), 0);
	uint64_t all_since = 0;
	cr_assert(jq_u64(one, "messages", &n));
	cr_assert_eq(n, 30);
	cr_assert(jq_u64(one, "baseline_unix_ns", &all_since));
	cr_assert_eq(all_since, since);
	json_decref(doc);
	const char *table[] = { "zcshim-stat", seg, NULL };
	cr_assert_eq(stat_argv(env, table), 0);
	cr_assert_not_null(strstr(proc.out, "counts since the --reset of "), "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "msg_send   converted  [64,128)            30 "),
			   "%s", proc.out);
	const char *raw[] = { "zcshim-stat", "--raw", "--csv", seg, NULL };
	cr_assert_eq(stat_argv(env, raw), 0);
	cr_assert_not_null(strstr(proc.out, ",msg_send,converted,7,64,127,100,10000,"), "%s",
			   proc.out);
	/* with another state directory there is no baseline: totals */
	const char *other_env[] = { "XDG_STATE_HOME=/nonexistent", NULL };
	const char *csv[] = { "zcshim-stat", "--csv", seg, NULL };
	cr_assert_eq(stat_argv(other_env, csv), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, ",msg_send,converted,7,64,127,100,10000,"), "%s",
			   proc.out);
	free(img);
}

Test(tools, a_corrupt_baseline_is_named_not_applied)
{
	char seg[128], state_env[160], base_dir[160], base[256];
	unsigned char *img = seg_new(0, ZCS_STATE_RUNNING, "x");
	seg_put(img, ZCS_OP_SEND, ZCS_PATH_COPY, 100, 10, 500);
	snprintf(seg, sizeof seg, "%s/zcshim.%llu.%d.9.0", dir, my_ns(), (int)getpid());
	seg_write(img, seg);
	snprintf(state_env, sizeof state_env, "XDG_STATE_HOME=%s", dir);
	snprintf(base_dir, sizeof base_dir, "%s/zcshim", dir);
	mkdir(base_dir, 0700);
	snprintf(base, sizeof base, "%s/zcshim.%llu.%d.%llu.0", base_dir, my_ns(), (int)getpid(),
		 (unsigned long long)seg_hdr(img)->start_ticks);
	seg_spit(base, "garbage");
	const char *env[] = { state_env, NULL };
	const char *argv[] = { "zcshim-stat", seg, NULL };
	cr_assert_eq(stat_argv(env, argv), 1);
	cr_assert_not_null(strstr(proc.err, "baseline"), "%s", proc.err);
	cr_assert_not_null(strstr(proc.err, "--raw"), "%s", proc.err);
	const char *raw[] = { "zcshim-stat", "--raw", seg, NULL };
	cr_assert_eq(stat_argv(env, raw), 0, "%s", proc.err);
	free(img);
}

/* -------------------------------------------------------------- clean */

static void put_segment(const char *name, int pid, unsigned state)
{
	char path[160];
	unsigned char *img = seg_new(pid, state, "c"); /* pid 0: this process */
	struct zcs_name nm;
	cr_assert_eq(zcs_parse_name(name, &nm), 0);
	seg_hdr(img)->seq = nm.seq; /* the header says what the name says */
	snprintf(path, sizeof path, "%s/%s", dir, name);
	seg_put(img, ZCS_OP_SEND, ZCS_PATH_COPY, 10, 1, 100);
	seg_write(img, path);
	free(img);
}

static int exists(const char *name)
{
	char path[160];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

Test(tools, clean_removes_only_our_segments_of_processes_that_are_gone)
{
	char me[64], me_next[64], dead[64], exited[64], theirs[64];
	unsigned long long start = zcs_proc_start_ticks("/proc/self/stat");
	int gone = seg_dead_pid(), gone2 = seg_dead_pid(), gone3 = seg_dead_pid();
	unsigned long long ns = my_ns();
	snprintf(me, sizeof me, "zcshim.%llu.%d.%llu.0", ns, (int)getpid(), start);
	snprintf(me_next, sizeof me_next, "zcshim.%llu.%d.%llu.1", ns, (int)getpid(), start);
	snprintf(dead, sizeof dead, "zcshim.%llu.%d.12345.0", ns, gone);
	snprintf(exited, sizeof exited, "zcshim.%llu.%d.12345.0", ns, gone2);
	snprintf(theirs, sizeof theirs, "zcshim.%llu.%d.12345.0", ns, gone3);
	put_segment(me, 0, ZCS_STATE_RUNNING);      /* exec'd: replaced by me_next */
	put_segment(me_next, 0, ZCS_STATE_RUNNING); /* running */
	put_segment(dead, gone, ZCS_STATE_RUNNING); /* killed: never marked */
	put_segment(exited, gone2, ZCS_STATE_EXITED);
	put_segment(theirs, gone3, ZCS_STATE_RUNNING);
	char path[160];
	snprintf(path, sizeof path, "%s/zcshim.1.77.1.0", dir);
	seg_spit(path, "not a segment");
	int root = geteuid() == 0;
	if (root) {
		snprintf(path, sizeof path, "%s/%s", dir, theirs);
		cr_assert_eq(chown(path, 65534, 65534), 0);
	}
	/* baselines: one of a segment about to go, one of a live one */
	char state_env[160], base[256];
	snprintf(state_env, sizeof state_env, "XDG_STATE_HOME=%s/state", dir);
	snprintf(base, sizeof base, "%s/state", dir);
	mkdir(base, 0700);
	snprintf(base, sizeof base, "%s/state/zcshim", dir);
	mkdir(base, 0700);
	snprintf(base, sizeof base, "%s/state/zcshim/%s", dir, dead);
	seg_spit(base, "x");
	snprintf(base, sizeof base, "%s/state/zcshim/%s", dir, me_next);
	seg_spit(base, "x");

	const char *env[] = { state_env, NULL };
	const char *argv[] = { "zcshim-stat", "--dir", dir, "--clean", NULL };
	cr_assert_eq(stat_argv(env, argv), 0, "%s", proc.err);
	cr_assert(!exists(me), "replaced kept:\n%s", proc.out);
	cr_assert(exists(me_next), "a running process's segment removed");
	cr_assert(!exists(dead), "dead kept");
	cr_assert(!exists(exited), "exited kept");
	cr_assert(exists("zcshim.1.77.1.0"), "a file that is not a segment was removed");
	if (root)
		cr_assert(exists(theirs), "another user's segment removed");
	cr_assert_not_null(strstr(proc.out, root ? "3 segments removed, 2 kept" :
						   "4 segments removed, 2 kept"), "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "replaced)\n"), "%s", proc.out);
	snprintf(base, sizeof base, "%s/state/zcshim/%s", dir, dead);
	cr_assert_neq(access(base, F_OK), 0, "baseline of a removed segment kept");
	snprintf(base, sizeof base, "%s/state/zcshim/%s", dir, me_next);
	cr_assert_eq(access(base, F_OK), 0, "baseline of a live segment removed");
}

/* --------------------------------------------------------- zcshim-run */

/* In make test-asan the programs need the ASan runtime preloaded first, as
 * a user running a sanitizer would have it; zcshim-run must keep it first. */
static const char *sanitizer_first(void)
{
	const char *san = getenv("ZCSHIM_TEST_PRELOAD_FIRST");
	return san && *san ? san : NULL;
}

Test(tools, run_preloads_sets_the_env_and_says_where_the_segment_is)
{
	const char *argv[] = { "zcshim-run", "--threshold", "1000", "--mode", "profile",
			       "--sample", "2", "--", "zcapp", "pushpull", "--sizes", "100",
			       "--count", "30", NULL };
	char app[4096], preload[4200];
	snprintf(app, sizeof app, "%s", zc_build("zcapp"));
	argv[8] = app;
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", sanitizer_first() ? sanitizer_first() : "");
	const char *env[] = { preload, NULL };
	cr_assert_eq(zc_run(&proc, 0, sanitizer_first() ? env : NULL, argv), 0, "%s", proc.err);
	long pid = zc_out_value(&proc, "pid");
	cr_assert_gt(pid, 0, "%s", proc.out);
	char want[128];
	snprintf(want, sizeof want, "zcshim-run: pid %ld: zcshim-stat %ld ", pid, pid);
	cr_assert_eq(strncmp(proc.err, want, strlen(want)), 0, "%s", proc.err);
	cr_assert_eq(strchr(proc.err, '\n')[1], '\0', "one line: %s", proc.err);
	char key[32], err[600];
	snprintf(key, sizeof key, "%ld", pid);
	struct zcs_snapshot *s = zcs_snapshot_new();
	cr_assert_eq(zcs_find(key, s, err, sizeof err), 0, "%s", err);
	unlink(s->path);
	cr_assert_eq(s->hdr.threshold_bytes, 1000);
	cr_assert_eq(s->hdr.mode, ZCS_MODE_PROFILE);
	cr_assert_eq(s->hdr.sample_every, 2);
	zcs_snapshot_free(s);
}

Test(tools, run_prepends_to_ld_preload_and_passes_the_status_on)
{
	const char *san = sanitizer_first();
	char preload[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s%slibm.so.6", san ? san : "", san ? ":" : "");
	const char *env[] = { preload, "ZCSHIM_MODE=off", NULL };
	const char *argv[] = { "zcshim-run", "--keep", "0", "/bin/sh", "-c",
			       "echo \"$LD_PRELOAD|$ZCSHIM_MODE|$ZCSHIM_KEEP\"; exit 7", NULL };
	cr_assert_eq(zc_run(&proc, 0, env, argv), 7, "%s", proc.err);
	char want[8400];
	snprintf(want, sizeof want, "%s%s%s:libm.so.6|off|0\n", san ? san : "", san ? ":" : "",
		 zc_build("libzcshim.so"));
	cr_assert_str_eq(proc.out, want);
	char san_only[4200];
	snprintf(san_only, sizeof san_only, "LD_PRELOAD=%s", san ? san : "");
	const char *san_env[] = { san_only, NULL };
	const char *const *renv = san ? san_env : NULL;
	cr_assert_not_null(strstr(proc.err, ": no segment ("), "%s", proc.err);

	const char *killed[] = { "zcshim-run", "/bin/sh", "-c", "kill -KILL $$", NULL };
	cr_assert_eq(zc_run(&proc, 0, renv, killed), 128 + 9);
	const char *missing[] = { "zcshim-run", "--", "/nonexistent/cmd", NULL };
	cr_assert_eq(zc_run(&proc, 0, renv, missing), 127);
	cr_assert_str_eq(proc.err, "zcshim-run: /nonexistent/cmd: No such file or directory\n");
	const char *bad[] = { "zcshim-run", "--threshold", "64q", "true", NULL };
	cr_assert_eq(zc_run(&proc, 0, renv, bad), 125);
	cr_assert_eq(strncmp(proc.err, "zcshim-run: --threshold '64q'", 29), 0, "%s", proc.err);
	const char *bad_mode[] = { "zcshim-run", "-m", "fast", "true", NULL };
	cr_assert_eq(zc_run(&proc, 0, renv, bad_mode), 125);
	const char *none[] = { "zcshim-run", NULL };
	cr_assert_eq(zc_run(&proc, 0, renv, none), 125);
	cr_assert_not_null(strstr(proc.err, "no command to run"));
	const char *help[] = { "zcshim-run", "--help", NULL };
	cr_assert_eq(zc_run(&proc, 0, renv, help), 0);
	cr_assert_not_null(strstr(proc.out, "Usage: zcshim-run"));
}

/* zcshim-run and the mode rule: with no option the app is only profiled;
 * --threshold converts at it even where the caller's environment says
 * ZCSHIM_MODE=profile; --mode, given, decides. opts are zcshim-run's options,
 * env the caller's environment; the app sends 20 each of 100 B, 4000 B and
 * 100000 B zero-copy. mode -1: off, no segment. */
static void run_mode(const char *const opts[], const char *caller_mode, int mode,
		     uint64_t threshold, long converted)
{
	const char *argv[16] = { "zcshim-run" };
	size_t n = 1;
	for (size_t i = 0; opts[i]; i++)
		argv[n++] = opts[i];
	const char *app[] = { "--", zc_build("zcapp"), "pushpull", "--sizes", "100,4000,100000",
			      "--count", "20", NULL };
	for (size_t i = 0; app[i]; i++)
		argv[n++] = app[i];
	argv[n] = NULL;
	char preload[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", sanitizer_first() ? sanitizer_first() : "");
	const char *env[3] = { NULL };
	size_t e = 0;
	if (sanitizer_first())
		env[e++] = preload;
	if (caller_mode)
		env[e++] = caller_mode;
	cr_assert_eq(zc_run(&proc, 0, env, argv), 0, "%s", proc.err);
	cr_assert_eq(zc_out_value(&proc, "ffn_in_send"), converted, "%s", proc.out);
	char key[32], err[600];
	snprintf(key, sizeof key, "%ld", zc_out_value(&proc, "pid"));
	struct zcs_snapshot *s = zcs_snapshot_new();
	int found = zcs_find(key, s, err, sizeof err) == 0;
	if (found)
		unlink(s->path);
	if (mode < 0) {
		cr_assert_not(found, "off made a segment");
	} else {
		cr_assert(found, "%s", err);
		cr_assert_eq(s->hdr.mode, (unsigned)mode, "mode %s", zcs_mode_name(s->hdr.mode));
		cr_assert_eq(s->hdr.threshold_bytes, threshold);
	}
	zcs_snapshot_free(s);
}

Test(tools, run_without_options_only_profiles)
{
	const char *opts[] = { NULL };
	run_mode(opts, NULL, ZCS_MODE_PROFILE, 65536, 0);
}

Test(tools, run_threshold_implies_convert_over_the_callers_mode)
{
	const char *opts[] = { "--threshold", "1k", NULL };
	run_mode(opts, "ZCSHIM_MODE=profile", ZCS_MODE_CONVERT, 1024, 20);
}

Test(tools, run_mode_convert_alone_converts_below_64k)
{
	const char *opts[] = { "-m", "convert", NULL };
	run_mode(opts, NULL, ZCS_MODE_CONVERT, 65536, 40);
}

Test(tools, run_mode_given_wins_over_threshold)
{
	const char *profile[] = { "--threshold", "1k", "--mode", "profile", NULL };
	run_mode(profile, NULL, ZCS_MODE_PROFILE, 1024, 0);
	const char *off[] = { "--mode", "off", "-t", "1k", NULL };
	run_mode(off, NULL, -1, 0, 0);
}

/* --sample auto restores the default over a caller's fixed rate (the tests
 * run with ZCSHIM_SAMPLE=1); a bad value names itself. */
Test(tools, run_sample_auto_or_a_number)
{
	const char *argv[] = { "zcshim-run", "--sample", "auto", "--", zc_build("zcapp"),
			       "pushpull", "--sizes", "100", "--count", "30", NULL };
	char preload[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", sanitizer_first() ? sanitizer_first() : "");
	const char *env[] = { preload, NULL };
	const char *const *renv = sanitizer_first() ? env : NULL;
	cr_assert_eq(zc_run(&proc, 0, renv, argv), 0, "%s", proc.err);
	char key[32], err[600];
	snprintf(key, sizeof key, "%ld", zc_out_value(&proc, "pid"));
	struct zcs_snapshot *s = zcs_snapshot_new();
	cr_assert_eq(zcs_find(key, s, err, sizeof err), 0, "%s", err);
	unlink(s->path);
	cr_assert_eq(s->hdr.sample_every, 0, "auto: %u", s->hdr.sample_every);
	zcs_snapshot_free(s);
	const char *bad[] = { "zcshim-run", "--sample", "often", "true", NULL };
	cr_assert_eq(zc_run(&proc, 0, renv, bad), 125);
	cr_assert_str_eq(proc.err,
			 "zcshim-run: --sample 'often': auto or a whole number from 1 to 1000000\n");
	/* getopt's own messages too name the program, not the path it ran by */
	const char *unknown[] = { "zcshim-run", "--often", "true", NULL };
	cr_assert_eq(zc_run(&proc, 0, renv, unknown), 125);
	cr_assert_eq(strncmp(proc.err, "zcshim-run: unrecognized option '--often'", 41), 0, "%s",
		     proc.err);
}

/* ------------------------------------------------------------ install */

Test(tools, make_install_lays_out_prefix_under_destdir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "make -s install DESTDIR=%s/root PREFIX=/usr", dir);
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, argv), 0, "%s%s", proc.out, proc.err);
	static const struct { const char *file; unsigned mode; } files[] = {
		{ "usr/lib/libzcshim.so", 0644 },
		{ "usr/bin/zcshim-stat", 0755 },
		{ "usr/bin/zcshim-run", 0755 },
		{ "usr/share/man/man7/zcshim.7", 0644 },
		{ "usr/share/man/man1/zcshim-stat.1", 0644 },
		{ "usr/share/man/man1/zcshim-run.1", 0644 },
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[256];
		struct stat st;
		snprintf(path, sizeof path, "%s/root/%s", dir, files[i].file);
		cr_assert_eq(stat(path, &st), 0, "%s not installed", files[i].file);
		cr_assert_eq(st.st_mode & 0777, files[i].mode, "%s mode %o", files[i].file,
			     st.st_mode & 0777);
		if (strstr(files[i].file, "/man")) {
			char *text = seg_slurp(path, NULL);
			cr_assert_not_null(strstr(text, "\n.TH "), "%s: no .TH", files[i].file);
			free(text);
		}
	}
	/* the installed launcher finds the installed library, in ../lib */
	char run[256], want[256];
	snprintf(run, sizeof run, "%s/root/usr/bin/zcshim-run", dir);
	snprintf(want, sizeof want, "%s/root/usr/lib/libzcshim.so\n", dir);
	const char *echo[] = { run, "/bin/sh", "-c", "echo \"$LD_PRELOAD\"", NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, echo), 0, "%s", proc.err);
	cr_assert_str_eq(proc.out, want);
	/* and uninstall takes it all away again */
	snprintf(cmd, sizeof cmd, "make -s uninstall DESTDIR=%s/root PREFIX=/usr && "
		 "test -z \"$(find %s/root -type f)\"", dir, dir);
	cr_assert_eq(zc_run(&proc, 0, NULL, argv), 0, "%s%s", proc.out, proc.err);
}
