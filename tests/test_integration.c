/*
 * test_integration.c - real processes, real libzmq sockets, libzcshim.so
 * preloaded: what the shim does to the app (nothing the app can see, apart
 * from conversion) and what it records (exactly what the app did).
 *
 * Each test runs build/zcapp (tests/apps/zcapp.c), which checks its own
 * messages and ffn calls and exits non-zero if anything is off, then reads
 * the segment the shim left behind and removes it.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h> /* socket type numbers */

#include "histo.h"
#include "procid.h"
#include "segread.h"
#include "seghelp.h"
#include "spawn.h"

static struct zc_proc proc;

TestSuite(shim, .init = sh_snap_setup, .fini = sh_snap_teardown, .timeout = 120);
TestSuite(stat, .init = sh_snap_setup, .fini = sh_snap_teardown, .timeout = 120);

/* With neither ZCSHIM_MODE nor ZCSHIM_THRESHOLD the shim only profiles
 * (issue 15), so every test that needs conversion says so. */
static const char *const convert_64k[] = { "ZCSHIM_MODE=convert", NULL };

/* Run zcapp under the shim; it must pass its own checks. */
static void run_app(const char *const env[], const char *const argv[])
{
	int rc = zc_run(&proc, 1, env, argv);
	cr_assert_eq(rc, 0, "zcapp exited %d\nstdout:\n%s\nstderr:\n%s", rc, proc.out,
		     proc.err);
}

/* Read the segment of the app just run, then remove it. */
static void read_segment(void)
{
	char pid[32], err[512];
	snprintf(pid, sizeof pid, "%d", (int)proc.pid);
	cr_assert_eq(zcs_find(pid, snap, err, sizeof err), 0, "%s", err);
	unlink(snap->path);
}

/* op x path x size class, summed over sockets; valid until the next call. */
static const struct zcs_cell *cell_of(unsigned op, unsigned path, unsigned size_class)
{
	static struct zcs_cell merged;
	zcs_cell_by_size(snap, op, path, size_class, &merged);
	return &merged;
}

static uint64_t count(unsigned op, unsigned path, size_t bytes)
{
	return cell_of(op, path, zcs_size_class(bytes))->count;
}

/* Calls of op on path, all sizes. */
static uint64_t count_all(unsigned op, unsigned path)
{
	uint64_t n = 0;
	for (unsigned k = 0; k < ZCS_NSIZES; k++)
		n += cell_of(op, path, k)->count;
	return n;
}

static uint64_t ffn_threads(void)
{
	uint64_t n = 0;
	for (unsigned k = 0; k < ZCS_NFFN_THREADS; k++)
		n += snap->sum.ffn_thread[k];
	return n;
}

/* ------------------------------------------------------------ convert */

Test(shim, converts_zero_copy_sends_below_the_threshold_only)
{
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100,65535,65536,1000000",
			       "--count", "50", NULL };
	run_app(convert_64k, argv);
	read_segment();
	cr_assert_eq(snap->hdr.mode, ZCS_MODE_CONVERT);
	cr_assert_eq(snap->hdr.threshold_bytes, 65536);
	cr_assert(snap->hdr.flags & ZCS_F_LAYOUT_KNOWN);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 50);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 65535), 50);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 65536), 50);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 1000000), 50);
	cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED), 100);
	cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY), 100);
	cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_COPY), 0);
	cr_assert_eq(count_all(ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY), 200);
	cr_assert_eq(cell_of(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, zcs_size_class(100))->bytes,
		     50 * 100);
	/* every buffer followed to its ffn, converted ones inside the send */
	cr_assert_eq(count_all(ZCS_OP_HOLD, ZCS_PATH_CONVERTED), 100);
	cr_assert_eq(count_all(ZCS_OP_HOLD, ZCS_PATH_ZEROCOPY), 100);
	cr_assert_eq(count_all(ZCS_OP_FFN, ZCS_PATH_CONVERTED), 100);
	cr_assert_eq(ffn_threads(), 200);
	cr_assert_eq(snap->sum.ffn_thread[ZCS_FFN_IN_SEND], 100);
	cr_assert_eq(zcs_messages(snap), 200);
	/* the app sees conversion as its ffn running inside its send */
	cr_assert_eq(zc_out_value(&proc, "ffn_in_send"), 100);
	/* sample 1: every call timed */
	const struct zcs_cell *c =
		cell_of(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, zcs_size_class(100));
	cr_assert_eq(zcs_cell_timed(c), 50);
	cr_assert_gt(zcs_cell_quantile_ns(c, 0.5), 0);
}

Test(shim, the_threshold_is_strict)
{
	const char *env[] = { "ZCSHIM_THRESHOLD=1000", NULL };
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "999,1000", "--count", "30", NULL };
	run_app(env, argv);
	read_segment();
	cr_assert_eq(snap->hdr.threshold_bytes, 1000);
	cr_assert_eq(snap->hdr.mode, ZCS_MODE_CONVERT, "a threshold alone converts");
	/* 999 and 1000 share a size class; only the path tells them apart */
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 999), 30);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 1000), 30);
}

Test(shim, zmq_sendmsg_over_tcp_is_converted_and_counted_once)
{
	const char *argv[] = { "zcapp", "pushpull", "--api", "sendmsg", "--transport", "tcp",
			       "--sizes", "100,200000", "--count", "40", NULL };
	run_app(convert_64k, argv);
	read_segment();
	cr_assert_eq(count(ZCS_OP_SENDMSG, ZCS_PATH_CONVERTED, 100), 40);
	cr_assert_eq(count(ZCS_OP_SENDMSG, ZCS_PATH_ZEROCOPY, 200000), 40);
	/* libzmq's zmq_sendmsg jumps to zmq_msg_send: not a second send */
	for (unsigned p = 0; p < ZCS_NPATHS; p++)
		cr_assert_eq(count_all(ZCS_OP_MSG_SEND, p), 0);
	/* tcp: the large buffers are released on libzmq's IO thread */
	cr_assert_eq(snap->sum.ffn_thread[ZCS_FFN_IO], 40);
	cr_assert_eq(snap->sum.ffn_thread[ZCS_FFN_IN_SEND], 40);
}

Test(shim, zmq_send_over_ipc_is_a_copy)
{
	const char *argv[] = { "zcapp", "pushpull", "--api", "send", "--transport", "ipc",
			       "--sizes", "10,5000", "--count", "25", NULL };
	run_app(convert_64k, argv);
	read_segment();
	cr_assert_eq(count(ZCS_OP_SEND, ZCS_PATH_COPY, 10), 25);
	cr_assert_eq(count(ZCS_OP_SEND, ZCS_PATH_COPY, 5000), 25);
	cr_assert_eq(zcs_messages(snap), 50);
	cr_assert_eq(count_all(ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY), 0);
}

Test(shim, zmq_send_const_is_never_converted_nor_double_counted)
{
	const char *argv[] = { "zcapp", "pushpull", "--api", "send_const", "--sizes", "100",
			       "--count", "60", NULL };
	run_app(convert_64k, argv);
	read_segment();
	cr_assert_eq(count(ZCS_OP_SEND_CONST, ZCS_PATH_CONST, 100), 60);
	/* zmq_send_const's own zmq_msg_init_data call is libzmq's, not the app's */
	cr_assert_eq(count_all(ZCS_OP_INIT_DATA, ZCS_PATH_CONST), 0);
	cr_assert_eq(zcs_messages(snap), 60);
}

Test(shim, constant_messages_are_never_converted)
{
	const char *argv[] = { "zcapp", "pushpull", "--const", "--sizes", "100", "--count",
			       "40", NULL };
	run_app(convert_64k, argv);
	cr_assert_eq(zc_out_value(&proc, "ffn_in_send"), 0);
	read_segment();
	cr_assert_eq(count(ZCS_OP_INIT_DATA, ZCS_PATH_CONST, 100), 40);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONST, 100), 40);
	cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED), 0);
}

Test(shim, copied_messages_are_recorded_as_copies)
{
	const char *argv[] = { "zcapp", "pushpull", "--copy", "--sizes", "10,100000",
			       "--count", "20", NULL };
	run_app(convert_64k, argv);
	read_segment();
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_COPY, 10), 20);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_COPY, 100000), 20);
	cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED), 0);
}

/* ------------------------------------------------------------- modes */

Test(shim, profile_mode_records_but_never_converts)
{
	const char *env[] = { "ZCSHIM_MODE=profile", NULL };
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100", "--count", "50", NULL };
	run_app(env, argv);
	read_segment();
	cr_assert_eq(snap->hdr.mode, ZCS_MODE_PROFILE);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100), 50);
	cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED), 0);
	cr_assert_eq(count_all(ZCS_OP_HOLD, ZCS_PATH_ZEROCOPY), 50);
	cr_assert_eq(snap->sum.ffn_thread[ZCS_FFN_IN_SEND], 0);
	cr_assert_eq(zc_out_value(&proc, "ffn_in_send"), 0);
}

Test(shim, off_mode_passes_through_and_leaves_no_segment)
{
	const char *env[] = { "ZCSHIM_MODE=off", NULL };
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100", "--count", "50", NULL };
	run_app(env, argv);
	char pid[32], err[512];
	snprintf(pid, sizeof pid, "%d", (int)proc.pid);
	cr_assert_eq(zcs_find(pid, snap, err, sizeof err), -1, "off mode made a segment");
	cr_assert_str_empty(proc.err);
	cr_assert_eq(zc_out_value(&proc, "ffn_in_send"), 0, "off mode converted");
}

Test(shim, sampling_times_one_call_in_n_and_counts_all)
{
	const char *env[] = { "ZCSHIM_MODE=convert", "ZCSHIM_SAMPLE=10", NULL };
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100", "--count", "200", NULL };
	run_app(env, argv);
	read_segment();
	const struct zcs_cell *c =
		cell_of(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, zcs_size_class(100));
	cr_assert_eq(c->count, 200);
	/* random gaps of 1..19: about 20 timed, never all or none */
	cr_assert(zcs_cell_timed(c) >= 8 && zcs_cell_timed(c) <= 40, "timed %llu",
		  (unsigned long long)zcs_cell_timed(c));
}

/* --------------------------------------------------- libzmq's contract */

Test(shim, ffn_that_sends_under_a_mutex_works_pyzmq_style)
{
	const char *argv[] = { "zcapp", "ffnsend", "--transport", "tcp", "--sizes",
			       "100,200000", "--count", "1000", NULL };
	run_app(convert_64k, argv);
	cr_assert_eq(zc_out_value(&proc, "collected"), 2000);
	read_segment();
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 1000);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 200000), 1000);
	/* the ffn's own 8-byte sends are the app's: recorded once each */
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_COPY, 8), 2000);
	cr_assert_eq(ffn_threads(), 2000);
}

Test(shim, failed_send_leaves_the_message_intact_and_resendable)
{
	const char *argv[] = { "zcapp", "eagain", "--sizes", "10,100,100000", NULL };
	run_app(convert_64k, argv);
	cr_assert_eq(zc_out_value(&proc, "eagain_intact"), 3);
	cr_assert_eq(zc_out_value(&proc, "resent_once"), 3);
	read_segment();
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_MSG_SEND), 3);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 10), 1);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 1);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100000), 1);
}

Test(shim, failed_send_over_tcp_too)
{
	const char *argv[] = { "zcapp", "eagain", "--transport", "tcp", "--sizes", "100,100000",
			       NULL };
	run_app(convert_64k, argv);
	cr_assert_eq(zc_out_value(&proc, "eagain_intact"), 2);
	read_segment();
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_MSG_SEND), 2);
}

Test(shim, multipart_with_router_ids_arrives_byte_identical)
{
	const char *argv[] = { "zcapp", "router", "--transport", "ipc", "--sizes", "10,100000",
			       "--count", "20", NULL };
	run_app(convert_64k, argv);
	cr_assert_eq(zc_out_value(&proc, "bad"), 0);
	read_segment();
	/* 40 messages of 3 frames: the 6 B id and part 2 (5 B or 50000 B) are
	 * converted; part 1 (10 B converted, 100000 B zero-copy) */
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 6), 40 + 20);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 10), 20);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 50000), 20);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100000), 20);
	cr_assert_eq(zcs_messages(snap), 120 + 1); /* + the dealer's hello */
}

Test(shim, shared_messages_are_freed_once_after_both_sends)
{
	const char *argv[] = { "zcapp", "msgcopy", "--sizes", "100,100000", "--count", "20",
			       NULL };
	run_app(convert_64k, argv);
	read_segment();
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 40);
	cr_assert_eq(count_all(ZCS_OP_HOLD, ZCS_PATH_CONVERTED) +
			     count_all(ZCS_OP_HOLD, ZCS_PATH_ZEROCOPY),
		     40);
}

/* ----------------------------------------------------------- segment */

Test(shim, segment_is_readable_while_running_and_after_exit)
{
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100", "--count", "70",
			       "--wait-stdin", NULL };
	zc_start(&proc, 1, convert_64k, argv);
	cr_assert_eq(zc_wait_line(&proc, "ready", 30), 0, "no ready line: %s", proc.err);
	char pid[32], err[512];
	snprintf(pid, sizeof pid, "%d", (int)proc.pid);
	cr_assert_eq(zcs_find(pid, snap, err, sizeof err), 0, "%s", err);
	cr_assert_eq(snap->live, ZCS_LIVE_RUNNING);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 70);
	cr_assert_eq(snap->hdr.exit_unix_ns, 0);

	cr_assert_eq(zc_finish(&proc, 60), 0, "%s", proc.err);
	read_segment();
	cr_assert_eq(snap->live, ZCS_LIVE_EXITED);
	cr_assert_gt(snap->hdr.exit_unix_ns, snap->hdr.start_unix_ns);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 70);
	cr_assert_str_eq(snap->hdr.exe, "zcapp");
}

Test(shim, a_killed_process_is_reported_dead)
{
	const char *argv[] = { "zcapp", "pushpull", "--count", "5", "--wait-stdin", NULL };
	zc_start(&proc, 1, convert_64k, argv);
	cr_assert_eq(zc_wait_line(&proc, "ready", 30), 0);
	kill(proc.pid, SIGKILL);
	cr_assert_eq(zc_finish(&proc, 30), 128 + SIGKILL);
	read_segment();
	cr_assert_eq(snap->live, ZCS_LIVE_DEAD);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 5);
}

Test(shim, a_forked_child_gets_its_own_segment)
{
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100", "--count", "40",
			       "--fork-after", NULL };
	run_app(convert_64k, argv);
	long child = zc_out_value(&proc, "child");
	cr_assert_gt(child, 0);
	cr_assert_neq(child, proc.pid);
	read_segment(); /* the parent's: its own sends only */
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 40);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 200), 0);
	cr_assert_eq(snap->live, ZCS_LIVE_EXITED);

	char pid[32], err[512];
	snprintf(pid, sizeof pid, "%ld", child);
	cr_assert_eq(zcs_find(pid, snap, err, sizeof err), 0, "%s", err);
	unlink(snap->path);
	cr_assert_eq(snap->hdr.pid, child);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 200), 30);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 0);
	cr_assert_eq(count_all(ZCS_OP_HOLD, ZCS_PATH_CONVERTED), 30);
	cr_assert_eq(snap->live, ZCS_LIVE_EXITED);
}

Test(shim, an_exec_retires_the_previous_images_segment)
{
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100", "--count", "40",
			       "--exec-after", NULL };
	run_app(convert_64k, argv);
	char pid[32], err[512];
	snprintf(pid, sizeof pid, "%d", (int)proc.pid);
	cr_assert_eq(zcs_find(pid, snap, err, sizeof err), 0, "%s", err);
	/* the exec'd image's: a later seq, only its own sends */
	cr_assert_geq(snap->hdr.seq, 1);
	cr_assert_eq(snap->live, ZCS_LIVE_EXITED);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 300), 20);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 0);
	/* and the only one of this process: N images cost one segment */
	struct zcs_name *names;
	size_t n, mine = 0;
	cr_assert_eq(zcs_list(&names, &n, NULL, err, sizeof err), 0);
	for (size_t i = 0; i < n; i++)
		mine += names[i].pid == (int)proc.pid &&
			names[i].start_ticks == snap->hdr.start_ticks;
	free(names);
	unlink(snap->path);
	cr_assert_eq(mine, 1, "%zu segments of one process", mine);
}

Test(shim, no_room_for_a_segment_still_converts_and_warns_once)
{
	/* a file size limit below the segment: creating it would raise SIGXFSZ */
	const char *argv[] = { "/bin/sh", "-c", "ulimit -f 1000 && exec \"$0\" pushpull --sizes 100",
			       zc_build("zcapp"), NULL };
	int rc = zc_run(&proc, 1, convert_64k, argv);
	cr_assert_eq(rc, 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "ffn_missing=0 ffn_twice=0"));
	cr_assert_eq(strncmp(proc.err, "zcshim: segment does not fit", 28), 0, "%s", proc.err);
	char *nl = strchr(proc.err, '\n');
	cr_assert(nl && nl[1] == '\0', "more than one line: %s", proc.err);
	char pid[32], err[512];
	snprintf(pid, sizeof pid, "%d", (int)proc.pid);
	/* the shell's own segment, made before its ulimit, may be there: empty */
	int found = zcs_find(pid, snap, err, sizeof err) == 0;
	if (found)
		unlink(snap->path);
	cr_assert(!found || !zcs_calls_seen(snap), "zcapp made a segment anyway");
}

Test(shim, programs_that_never_call_libzmq_say_nothing_even_when_the_shim_cannot_work)
{
	/* the file size limit stops every segment; only a libzmq user may hear
	 * of it, once: not the shell, not echo */
	const char *argv[] = { "/bin/sh", "-c", "ulimit -f 1000 && /bin/echo hi && exec /bin/true",
			       NULL };
	int rc = zc_run(&proc, 1, NULL, argv);
	cr_assert_eq(rc, 0, "%s", proc.err);
	cr_assert_str_eq(proc.out, "hi\n");
	cr_assert_str_empty(proc.err, "the shim spoke: %s", proc.err);
	char pid[32], err[512];
	snprintf(pid, sizeof pid, "%d", (int)proc.pid);
	while (zcs_find(pid, snap, err, sizeof err) == 0) /* sh's own, made before the ulimit */
		unlink(snap->path);
}

/* Tests that must run with no other beside them (make test runs them apart,
 * --filter 'alone/...'): this one finishes a dozen processes in a row, and
 * the shim then prunes every older finished segment, those of tests running
 * beside it before they read theirs. */
TestSuite(alone, .init = sh_snap_setup, .fini = sh_snap_teardown, .timeout = 120);

Test(alone, finished_segments_are_kept_to_a_bound)
{
	/* a dozen short runs: the oldest finished segments make room */
	char first[32] = "", last[32] = "", err[512];
	int pids[12];
	for (int i = 0; i < 12; i++) {
		const char *argv[] = { "zcapp", "pushpull", "--count", "1", NULL };
		run_app(NULL, argv);
		pids[i] = (int)proc.pid;
		snprintf(i ? last : first, sizeof first, "%d", (int)proc.pid);
	}
	int first_left = zcs_find(first, snap, err, sizeof err) == 0;
	if (first_left)
		unlink(snap->path);
	cr_assert_eq(zcs_find(last, snap, err, sizeof err), 0, "%s", err);
	unlink(snap->path);
	cr_assert(!first_left, "the oldest of 12 finished segments is still there");
	struct zcs_name *names;
	size_t n, mine[2] = { 0, 0 }; /* [1]: no libzmq call seen, kept apart */
	cr_assert_eq(zcs_list(&names, &n, NULL, err, sizeof err), 0);
	for (size_t i = 0; i < n; i++) {
		char stat_path[64];
		snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", names[i].pid);
		if (zcs_proc_start_ticks(stat_path) != names[i].start_ticks &&
		    zcs_read(names[i].path, snap, err, sizeof err) == 0)
			mine[!zcs_calls_seen(snap)]++;
	}
	for (size_t i = 0; i < n; i++) /* tidy up what this test left */
		for (int k = 0; k < 12; k++)
			if (names[i].pid == pids[k])
				unlink(names[i].path);
	free(names);
	cr_assert_leq(mine[0], 8 + 2, "%zu finished segments left", mine[0]); /* + other tests' */
	cr_assert_leq(mine[1], 8 + 2, "%zu finished empty segments left", mine[1]);
}

Test(shim, keep_0_removes_the_segment_at_exit)
{
	const char *env[] = { "ZCSHIM_KEEP=0", NULL };
	const char *argv[] = { "zcapp", "pushpull", NULL };
	run_app(env, argv);
	char pid[32], err[512];
	snprintf(pid, sizeof pid, "%d", (int)proc.pid);
	cr_assert_eq(zcs_find(pid, snap, err, sizeof err), -1);
}

Test(shim, bad_settings_give_one_warning_line_and_defaults)
{
	const char *env[] = { "ZCSHIM_THRESHOLD=64q", "ZCSHIM_MODE=fast",
			      "ZCSHIM_SAMPLE=-1", NULL };
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100", "--count", "10", NULL };
	run_app(env, argv);
	cr_assert_eq(strncmp(proc.err, "zcshim: ", 8), 0, "stderr: %s", proc.err);
	cr_assert_not_null(strstr(proc.err, "ZCSHIM_THRESHOLD='64q'"));
	cr_assert_not_null(strstr(proc.err, "ZCSHIM_MODE='fast'"));
	cr_assert_not_null(strstr(proc.err, "ZCSHIM_SAMPLE='-1'"));
	char *nl = strchr(proc.err, '\n');
	cr_assert(nl && nl[1] == '\0', "more than one line: %s", proc.err);
	read_segment();
	/* neither mode nor threshold given validly: profile, nothing converted */
	cr_assert_eq(snap->hdr.threshold_bytes, 65536);
	cr_assert_eq(snap->hdr.mode, ZCS_MODE_PROFILE);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100), 10);
	cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED), 0);
	cr_assert_eq(zc_out_value(&proc, "ffn_in_send"), 0);
}

Test(shim, errno_after_successful_calls_is_libzmqs)
{
	/* the app sets errno to EDOM before each send; after a successful one
	 * it may hold only what libzmq itself leaves there (EAGAIN or EINTR
	 * from its mailbox, at random), never a value of the shim's (ENOENT,
	 * EEXIST, ENOSYS from creating the segment on the first call, say) */
	static const char *const apis[] = { "msg_send", "sendmsg", "send", "send_const" };
	static const char *const modes[] = { "ZCSHIM_MODE=convert", "ZCSHIM_MODE=profile" };
	for (size_t i = 0; i < 8; i++) {
		const char *env[] = { modes[i % 2], NULL };
		const char *argv[] = { "zcapp", "pushpull", "--api", apis[i / 2], "--sizes",
				       "10,100,100000", "--count", "50", NULL };
		run_app(env, argv);
		read_segment();
		cr_assert_eq(zc_out_value(&proc, "errno_foreign"), 0, "%s %s: %s", apis[i / 2],
			     modes[i % 2], proc.out);
	}
}

Test(shim, a_good_run_prints_nothing)
{
	const char *argv[] = { "zcapp", "pushpull", NULL };
	run_app(NULL, argv);
	read_segment();
	cr_assert_str_empty(proc.err);
}

/* ------------------------------------------------------------ faults */

Test(shim, threads_made_before_and_after_the_first_call)
{
	const char *argv[] = { "zcapp", "threads", "--count", "300", NULL };
	run_app(convert_64k, argv);
	read_segment();
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 601);
	cr_assert_eq(count_all(ZCS_OP_HOLD, ZCS_PATH_CONVERTED), 601);
}

/* libzmq reached only through a module dlopen'ed after start */
static void plugin(const char *mode)
{
	const char *argv[] = { "zcdlopen", mode, zc_build("zcplugin.so"), NULL };
	run_app(convert_64k, argv);
	cr_assert_eq(strncmp(proc.out, "events=", 7), 0, "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "\nok\n"), "%s", proc.out);
	read_segment();
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 50);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100000), 50);
	cr_assert_eq(count(ZCS_OP_SEND_CONST, ZCS_PATH_CONST, 9), 1);
	cr_assert_str_empty(proc.err);
}

Test(shim, libzmq_dlopened_late_rtld_global) { plugin("plugin-global"); }
Test(shim, libzmq_dlopened_late_rtld_local) { plugin("plugin-local"); }

Test(shim, libzmq_called_through_dlsym_is_recorded_and_its_own_calls_are_not)
{
	/* the app's calls come through pointers from dlsym (tests/test_reach.c
	 * has more); libzmq's own PLT call from zmq_send_const to
	 * zmq_msg_init_data lands in the shim too, with libzmq out of the global
	 * scope, and is told apart as libzmq's */
	const char *argv[] = { "zcdlopen", "direct", NULL };
	run_app(NULL, argv);
	cr_assert_str_eq(proc.out, "ok\n");
	cr_assert_str_empty(proc.err);
	read_segment();
	cr_assert_eq(count(ZCS_OP_SEND_CONST, ZCS_PATH_CONST, 9), 100);
	cr_assert_eq(zcs_messages(snap), 100);
	cr_assert_eq(count_all(ZCS_OP_INIT_DATA, ZCS_PATH_CONST), 0, "libzmq's own call recorded");
}

Test(shim, a_first_call_racing_a_constructor_inside_dlopen_does_not_deadlock)
{
	const char *argv[] = { "zcctor", "race", zc_build("zcctorplug.so"), NULL };
	run_app(NULL, argv); /* a deadlock ends in the 60 s timeout */
	cr_assert_str_eq(proc.out, "ok\n");
	cr_assert_str_empty(proc.err);
	read_segment();
	cr_assert_eq(count(ZCS_OP_INIT_DATA, ZCS_PATH_CONST, 1), 2);
}

Test(shim, dlclose_of_a_dlopened_shim_does_not_crash_its_threads)
{
	/* not preloaded: the app loads and unloads the shim itself */
	const char *argv[] = { "zcctor", "dlclose", zc_build("libzcshim.so"), NULL };
	int rc = zc_run(&proc, 0, NULL, argv);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, proc.err);
	cr_assert_str_eq(proc.out, "ok\n");
	read_segment();
	cr_assert_eq(count(ZCS_OP_INIT_DATA, ZCS_PATH_CONST, 1), 1);
}

Test(shim, sampling_keeps_counts_exact_and_times_every_size)
{
	const char *env[] = { "ZCSHIM_MODE=convert", "ZCSHIM_SAMPLE=10", NULL };
	const char *argv[] = { "zcapp", "ffnsend", "--transport", "tcp", "--sizes", "100,200000",
			       "--count", "1000", NULL };
	run_app(env, argv);
	read_segment();
	/* only sampled buffers are followed, yet the sends every ffn makes are
	 * the app's (told by their return address) and all counted */
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_COPY, 8), 2000);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 1000);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 200000), 1000);
	uint64_t held = count(ZCS_OP_HOLD, ZCS_PATH_CONVERTED, 100) +
			count(ZCS_OP_HOLD, ZCS_PATH_ZEROCOPY, 200000);
	cr_assert(held > 80 && held < 320, "followed %llu of 2000", (unsigned long long)held);
	/* alternating sizes: random gaps time both, about 1 in 10 each */
	uint64_t small = zcs_cell_timed(cell_of(ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY,
						      zcs_size_class(100)));
	uint64_t large = zcs_cell_timed(cell_of(ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY,
						      zcs_size_class(200000)));
	cr_assert(small > 40 && small < 160 && large > 40 && large < 160,
		  "timed %llu and %llu of 1000 each", (unsigned long long)small,
		  (unsigned long long)large);
}

Test(shim, a_fixed_sample_times_one_call_in_n_and_all_are_counted)
{
	const char *env[] = { "ZCSHIM_MODE=convert", "ZCSHIM_SAMPLE=16", NULL };
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100", "--count", "3200", NULL };
	run_app(env, argv);
	read_segment();
	cr_assert_eq(snap->hdr.sample_every, 16);
	const struct zcs_cell *c =
		cell_of(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, zcs_size_class(100));
	cr_assert_eq(c->count, 3200);
	cr_assert(zcs_cell_timed(c) > 100 && zcs_cell_timed(c) < 400, "timed %llu",
		  (unsigned long long)zcs_cell_timed(c));
}

Test(shim, odd_settings_never_change_what_the_app_sees)
{
	/* 20 x 100 B and 20 x 100000 B zero-copy; converted: how many the
	 * setting converts (the app sees each as its ffn run inside the send) */
	static const struct {
		const char *env[3];
		int converted, warns;
	} cases[] = {
		{ { "ZCSHIM_THRESHOLD=-1" }, 0, 1 },
		{ { "ZCSHIM_THRESHOLD=99999999999999999999" }, 0, 1 },
		{ { "ZCSHIM_THRESHOLD=64q" }, 0, 1 },
		{ { "ZCSHIM_THRESHOLD=" }, 0, 0 },
		{ { "ZCSHIM_MODE=" }, 0, 0 },
		{ { "ZCSHIM_MODE=OFF" }, 0, 1 },
		{ { "ZCSHIM_SAMPLE=0" }, 0, 1 },
		{ { "ZCSHIM_SAMPLE=99999999999" }, 0, 1 },
		{ { "ZCSHIM_KEEP=2" }, 0, 1 },
		{ { "ZCSHIM_THRESHOLD=1G" }, 40, 0 },
		{ { "ZCSHIM_THRESHOLD=max" }, 40, 0 },
		{ { "ZCSHIM_THRESHOLD=0" }, 0, 0 },
		/* in convert mode, odd values leave the 64k default: the 100 B ones */
		{ { "ZCSHIM_MODE=convert", "ZCSHIM_THRESHOLD=-1" }, 20, 1 },
		{ { "ZCSHIM_MODE=convert", "ZCSHIM_THRESHOLD=99999999999999999999" }, 20, 1 },
		{ { "ZCSHIM_MODE=convert", "ZCSHIM_THRESHOLD=" }, 20, 0 },
		{ { "ZCSHIM_MODE=convert", "ZCSHIM_SAMPLE=0" }, 20, 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *const *env = cases[i].env;
		char what[128];
		snprintf(what, sizeof what, "%s %s", env[0], env[1] ? env[1] : "");
		const char *argv[] = { "zcapp", "pushpull", "--sizes", "100,100000", "--count",
				       "20", NULL };
		int rc = zc_run(&proc, 1, env, argv);
		cr_assert_eq(rc, 0, "%s: exit %d: %s", what, rc, proc.err);
		char *nl = strchr(proc.err, '\n');
		cr_assert(!nl || nl[1] == '\0', "%s: more than one line: %s", what, proc.err);
		cr_assert_eq(proc.err[0] != '\0', cases[i].warns, "%s: stderr '%s'", what, proc.err);
		cr_assert_eq(zc_out_value(&proc, "ffn_in_send"), cases[i].converted, "%s: %s", what,
			     proc.out);
		read_segment();
		cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED),
			     (uint64_t)cases[i].converted, "%s", what);
		cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY),
			     (uint64_t)(40 - cases[i].converted), "%s", what);
	}
}

/* ----------------------------------------------------------- mode rule */

/* One real process per combination of ZCSHIM_MODE and ZCSHIM_THRESHOLD:
 * the mode and threshold its segment records, how many of its zero-copy
 * sends (20 each of 100 B, 4000 B and 100000 B) were converted, by the
 * shim's count and by the app's own (its ffn ran inside the send), and
 * whether the one warning line came. mode -1: off, no segment. */
static void mode_rule(const char *const env[], int mode, uint64_t threshold, int converted,
		      const char *warning)
{
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100,4000,100000", "--count",
			       "20", NULL };
	run_app(env, argv);
	cr_assert_eq(zc_out_value(&proc, "ffn_in_send"), converted, "%s", proc.out);
	if (warning) {
		cr_assert_eq(strncmp(proc.err, "zcshim: ", 8), 0, "stderr: %s", proc.err);
		cr_assert_not_null(strstr(proc.err, warning), "stderr: %s", proc.err);
		char *nl = strchr(proc.err, '\n');
		cr_assert(nl && nl[1] == '\0', "more than one line: %s", proc.err);
	} else {
		cr_assert_str_empty(proc.err);
	}
	char pid[32], err[512];
	snprintf(pid, sizeof pid, "%d", (int)proc.pid);
	if (mode < 0) {
		cr_assert_eq(zcs_find(pid, snap, err, sizeof err), -1, "off made a segment");
		return;
	}
	read_segment();
	cr_assert_eq(snap->hdr.mode, (unsigned)mode, "mode %s", zcs_mode_name(snap->hdr.mode));
	cr_assert_eq(snap->hdr.threshold_bytes, threshold);
	cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED), (uint64_t)converted);
	cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY), (uint64_t)(60 - converted));
}

Test(shim, mode_rule_nothing_set_profiles_and_converts_nothing)
{
	mode_rule(NULL, ZCS_MODE_PROFILE, 65536, 0, NULL);
}

Test(shim, mode_rule_a_threshold_alone_converts_at_it)
{
	const char *env[] = { "ZCSHIM_THRESHOLD=1k", NULL };
	mode_rule(env, ZCS_MODE_CONVERT, 1024, 20, NULL);
}

Test(shim, mode_rule_threshold_max_alone_converts_everything)
{
	const char *env[] = { "ZCSHIM_THRESHOLD=max", NULL };
	mode_rule(env, ZCS_MODE_CONVERT, UINT64_MAX, 60, NULL);
}

Test(shim, mode_rule_threshold_0_alone_converts_nothing)
{
	const char *env[] = { "ZCSHIM_THRESHOLD=0", NULL };
	mode_rule(env, ZCS_MODE_CONVERT, 0, 0, NULL);
}

Test(shim, mode_rule_convert_alone_converts_below_64k)
{
	mode_rule(convert_64k, ZCS_MODE_CONVERT, 65536, 40, NULL);
}

Test(shim, mode_rule_convert_with_a_threshold_converts_at_it)
{
	const char *env[] = { "ZCSHIM_MODE=convert", "ZCSHIM_THRESHOLD=1k", NULL };
	mode_rule(env, ZCS_MODE_CONVERT, 1024, 20, NULL);
}

Test(shim, mode_rule_profile_wins_over_a_threshold_and_records_it)
{
	const char *env[] = { "ZCSHIM_MODE=profile", "ZCSHIM_THRESHOLD=1k", NULL };
	mode_rule(env, ZCS_MODE_PROFILE, 1024, 0, NULL);
}

Test(shim, mode_rule_off_wins_over_a_threshold)
{
	const char *env[] = { "ZCSHIM_MODE=off", "ZCSHIM_THRESHOLD=1k", NULL };
	mode_rule(env, -1, 0, 0, NULL);
}

Test(shim, mode_rule_a_bad_threshold_alone_profiles_and_warns)
{
	const char *env[] = { "ZCSHIM_THRESHOLD=64q", NULL };
	mode_rule(env, ZCS_MODE_PROFILE, 65536, 0,
		  "ZCSHIM_THRESHOLD='64q' is not a size (e.g. 4096, 64k, 1M, max); using profile "
		  "mode, converting nothing");
}

Test(shim, mode_rule_convert_with_a_bad_threshold_converts_at_64k_and_warns)
{
	const char *env[] = { "ZCSHIM_MODE=convert", "ZCSHIM_THRESHOLD=64q", NULL };
	mode_rule(env, ZCS_MODE_CONVERT, 65536, 40,
		  "ZCSHIM_THRESHOLD='64q' is not a size (e.g. 4096, 64k, 1M, max); using 64k");
}

Test(shim, mode_rule_a_bad_mode_with_a_threshold_converts_at_it_and_warns)
{
	const char *env[] = { "ZCSHIM_MODE=fast", "ZCSHIM_THRESHOLD=1k", NULL };
	mode_rule(env, ZCS_MODE_CONVERT, 1024, 20,
		  "ZCSHIM_MODE='fast' is not convert, profile or off; using convert");
}

Test(shim, mode_rule_a_bad_mode_alone_profiles_and_warns)
{
	const char *env[] = { "ZCSHIM_MODE=fast", NULL };
	mode_rule(env, ZCS_MODE_PROFILE, 65536, 0,
		  "ZCSHIM_MODE='fast' is not convert, profile or off; using profile");
}

/* /dev/shm replaced, in a private mount namespace, by one that is full or
 * read-only: the app runs as without the shim, and one line says why. */
static void shm_trouble(const char *mount_opts, const char *why)
{
	char script[512];
	snprintf(script, sizeof script,
		 "mount -t tmpfs -o %s tmpfs /dev/shm && "
		 "dd if=/dev/zero of=/dev/shm/filler bs=64k count=64 2>/dev/null; "
		 "exec \"$0\" pushpull --sizes 100,100000 --count 20",
		 mount_opts);
	const char *probe[] = { "/usr/bin/unshare", "--mount", "true", NULL };
	if (access(probe[0], X_OK) != 0 || zc_run(&proc, 0, NULL, probe) != 0) {
		/* CI runs as root, where this must work (the segments tests assert it too) */
		cr_assert_neq(geteuid(), 0, "unshare --mount failed as root: %s", proc.err);
		cr_skip_test("no private mount namespace here (needs root and unshare)");
	}
	const char *argv[] = { "/usr/bin/unshare", "--mount", "/bin/sh", "-c", script,
			       zc_build("zcapp"), NULL };
	int rc = zc_run(&proc, 1, convert_64k, argv);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, proc.err);
	cr_assert_not_null(strstr(proc.out, "ffn_missing=0 ffn_twice=0 ffn_in_init=0 ffn_in_send=20"),
			   "conversion must go on: %s", proc.out);
	cr_assert_eq(strncmp(proc.err, "zcshim: ", 8), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.err, why), "%s", proc.err);
	char *nl = strchr(proc.err, '\n');
	cr_assert(nl && nl[1] == '\0', "more than one line: %s", proc.err);
}

Test(shim, a_full_dev_shm_costs_the_app_nothing)
{
	shm_trouble("size=4m", "No space left on device");
}

Test(shim, a_read_only_dev_shm_costs_the_app_nothing)
{
	shm_trouble("ro", "Read-only file system");
}


/* ------------------------------------------------- per socket, in flight */

TestSuite(persocket, .init = sh_snap_setup, .fini = sh_snap_teardown, .timeout = 120);

/* The value of key=... in the app's output, as a string. */
static const char *out_word(const char *key, char *buf, size_t len)
{
	char pat[64];
	snprintf(pat, sizeof pat, "%s=", key);
	const char *p = strstr(proc.out, pat);
	cr_assert_not_null(p, "no %s in: %s", key, proc.out);
	p += strlen(pat);
	size_t n = strcspn(p, " \n");
	cr_assert_lt(n, len);
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* The table slot of the socket of this type and endpoint; fails if none. */
static unsigned slot_of(int type, const char *endpoint)
{
	for (unsigned slot = 1; slot < ZCS_NSLOTS; slot++) {
		const struct zcs_socket *row = &snap->shared.sockets[slot];
		size_t at = 0;
		for (const char *ep; row->state != ZCS_SOCK_FREE && row->type == type &&
				     (ep = zcs_endpoint_next(row, &at, NULL));)
			if (strcmp(ep, endpoint) == 0)
				return slot;
	}
	cr_assert_fail("no %s socket at %s", zcs_socket_type_name(type), endpoint);
	return 0;
}

/* Successful calls of op on path through slot, every size. */
static uint64_t slot_count(unsigned slot, unsigned op, unsigned path)
{
	uint64_t n = 0;
	for (unsigned k = 0; k < ZCS_NSIZES; k++) {
		const struct zcs_cell *c = zcs_cell_at(snap, slot, op, path, k);
		n += c ? c->count : 0;
	}
	return n;
}

static void two_sockets(const char *transport)
{
	const char *env[] = { "ZCSHIM_MODE=profile", NULL };
	const char *argv[] = { "zcapp", "sockets", "--transport", transport, "--count", "40",
			       "--sizes", "100,70000", NULL };
	run_app(env, argv);
	char push_ep[256], pub_ep[256];
	out_word("push_ep", push_ep, sizeof push_ep);
	out_word("pub_ep", pub_ep, sizeof pub_ep);
	read_segment();
	unsigned push = slot_of(ZMQ_PUSH, push_ep), pub = slot_of(ZMQ_PUB, pub_ep);
	cr_assert_neq(push, pub);
	cr_assert_eq(slot_count(push, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY), 80);
	cr_assert_eq(slot_count(push, ZCS_OP_SEND, ZCS_PATH_COPY), 0);
	cr_assert_eq(slot_count(pub, ZCS_OP_SEND, ZCS_PATH_COPY), 80, "the PUB's copies");
	cr_assert_eq(slot_count(pub, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY), 0);
	/* the PUB was closed before the app ended: marked, its figures kept */
	cr_assert_eq(snap->shared.sockets[pub].state, ZCS_SOCK_CLOSED);
	cr_assert_neq(snap->shared.sockets[pub].closed_unix_ns, 0);
	/* the PULL that received is in the table too, having sent nothing */
	slot_of(ZMQ_PULL, push_ep);
	cr_assert_eq(slot_count(ZCS_SLOT_OTHER, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY), 0,
		     "sends on known sockets went to other");
	/* held buffers are counted under the socket they were sent on */
	cr_assert_eq(slot_count(push, ZCS_OP_HOLD, ZCS_PATH_ZEROCOPY), 80);
	cr_assert_eq(zcs_messages(snap), 160);
}

Test(persocket, two_sockets_of_two_types_get_their_own_rows_inproc) { two_sockets("inproc"); }
Test(persocket, two_sockets_of_two_types_get_their_own_rows_tcp) { two_sockets("tcp"); }

Test(persocket, sockets_beyond_the_table_are_counted_under_other)
{
	const char *argv[] = { "zcapp", "many", "--count", "100", NULL };
	run_app(NULL, argv);
	read_segment();
	cr_assert_eq(snap->shared.sockets_seen, 100);
	cr_assert_eq(zcs_sockets_beyond(snap), 100 - ZCS_NSOCKETS);
	uint64_t in_table = 0;
	for (unsigned slot = 1; slot < ZCS_NSLOTS; slot++) {
		cr_assert_eq(snap->shared.sockets[slot].type, ZMQ_PUB);
		cr_assert_eq(snap->shared.sockets[slot].state, ZCS_SOCK_CLOSED);
		in_table += slot_count(slot, ZCS_OP_SEND, ZCS_PATH_COPY);
	}
	cr_assert_eq(in_table, ZCS_NSOCKETS, "one send per table socket");
	cr_assert_eq(slot_count(ZCS_SLOT_OTHER, ZCS_OP_SEND, ZCS_PATH_COPY), 100 - ZCS_NSOCKETS);
	cr_assert_eq(zcs_messages(snap), 100, "no send goes uncounted");
}

Test(persocket, more_series_than_cells_fold_into_overflow_and_stay_readable)
{
	/* 64 sockets x 16 sizes x (send, send_const): 2048 series for the
	 * 1972 cells a segment gives out to calls that succeed; then on each
	 * socket a zmq_recv and a zmq_msg_recv that fail: 128 failure series
	 * for the 64 cells kept for them */
	const char *argv[] = { "zcapp", "many", "--count", "64", "--const", "--fail", "--sizes",
			       "1,2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384,32768",
			       NULL };
	run_app(NULL, argv);
	long failed = zc_out_value(&proc, "failed");
	/* every view shows the overflow; --compare takes a dump that has it */
	char pid[32], dump[] = "/tmp/zcshim-test-overflow-XXXXXX";
	snprintf(pid, sizeof pid, "%d", (int)proc.pid);
	const char *table[] = { "zcshim-stat", pid, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, table), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "calls counted without socket and size (no series to "
					    "spare): 76\n"), "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "failed calls counted without op and errno (no series "
					    "to spare): 64\n"), "%s", proc.out);
	int fd = mkstemp(dump);
	cr_assert_geq(fd, 0);
	const char *json[] = { "zcshim-stat", "--json", pid, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, json), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "\"path\":\"any\",\"size_class\":null"));
	ssize_t wrote = write(fd, proc.out, strlen(proc.out));
	close(fd);
	const char *cmp[] = { "zcshim-stat", "--compare", dump, dump, NULL };
	int rc = wrote == (ssize_t)strlen(proc.out) ? zc_run(&proc, 0, NULL, cmp) : -1;
	unlink(dump);
	cr_assert_eq(rc, 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "\nsend       any          any "), "%s", proc.out);
	proc.pid = (pid_t)atol(pid);
	read_segment(); /* not refused as corrupt */
	const uint64_t series = 64 * 16 * 2,
		       cells = ZCS_NCELLS_MAX - ZCS_CELLS_FOR_FAILED - ZCS_CELL_FIRST;
	cr_assert_eq(zcs_messages(snap), series, "no send goes uncounted");
	cr_assert_eq(snap->shared.cells_used, ZCS_NCELLS_MAX);
	cr_assert_eq(snap->shared.cells_short, series - cells, "one lookup per folded series");
	/* failed calls never count as calls that succeeded: in their own
	 * series while the reserve lasts, then without op and errno */
	cr_assert_eq(failed, 128);
	uint64_t in_failed = 0;
	for (unsigned op = 0; op < ZCS_NCALL_OPS; op++)
		in_failed += zcs_failed_op(snap, op);
	cr_assert_eq(in_failed, ZCS_CELLS_FOR_FAILED);
	cr_assert_eq(snap->shared.failed_short, (uint64_t)failed - ZCS_CELLS_FOR_FAILED);
	cr_assert_eq(zcs_overflow_calls(snap), series - cells, "only the sends overflowed");
	uint64_t in_cells = 0, in_overflow = 0;
	for (unsigned c = 1; c < snap->sum.ncells; c++) {
		unsigned slot, op, path, k;
		if (zcs_cell_fields(snap, c, &slot, &op, &path, &k) != 0 || !zcs_op_sends(op))
			continue;
		if (c < ZCS_CELL_FIRST)
			in_overflow += snap->sum.cell[c].count;
		else
			in_cells += snap->sum.cell[c].count;
	}
	cr_assert_eq(in_cells, cells);
	cr_assert_eq(in_overflow, series - cells);
}

Test(persocket, a_child_forked_before_any_libzmq_call_has_its_own_segment)
{
	const char *argv[] = { "zcapp", "pushpull", "--fork-first", "--count", "30", NULL };
	run_app(convert_64k, argv);
	cr_assert_eq(zc_out_value(&proc, "child_ok"), 1);
	char child[32], err[512];
	snprintf(child, sizeof child, "%ld", zc_out_value(&proc, "child"));
	read_segment(); /* the parent's: its own 30 sends, not the child's too */
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 30);
	cr_assert_eq(snap->live, ZCS_LIVE_EXITED);
	cr_assert_eq(zcs_find(child, snap, err, sizeof err), 0, "%s", err);
	unlink(snap->path);
	cr_assert_eq(count(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 30);
	cr_assert_eq(snap->live, ZCS_LIVE_EXITED);
}

Test(persocket, in_flight_peak_is_the_backlog_and_the_gauge_returns_to_zero)
{
	const char *env[] = { "ZCSHIM_MODE=profile", "ZCSHIM_SAMPLE=16", NULL };
	const char *argv[] = { "zcapp", "backlog", "--count", "500", "--sizes", "1000", NULL };
	run_app(env, argv);
	cr_assert_eq(zc_out_value(&proc, "all_queued"), 1, "the backlog was not held");
	read_segment();
	/* exact, though only 1 call in 16 is timed */
	cr_assert_eq(snap->shared.inflight.peak_buffers, 500);
	cr_assert_eq(snap->shared.inflight.peak_bytes, 500 * 1000);
	cr_assert_neq(zcs_ticks_unix_ns(snap, snap->shared.inflight.peak_buffers_ticks), 0);
	uint64_t buffers, bytes;
	zcs_inflight_now(snap, &buffers, &bytes);
	cr_assert_eq(buffers, 0, "every ffn ran: nothing in flight");
	cr_assert_eq(bytes, 0);
	cr_assert_eq(snap->shared.inflight.untracked, 0);
}

Test(persocket, a_full_hwm_is_counted_as_eagain_on_its_socket)
{
	const char *argv[] = { "zcapp", "eagain", "--sizes", "10,100,100000", NULL };
	run_app(NULL, argv);
	cr_assert_eq(zc_out_value(&proc, "eagain_intact"), 3, "message not intact");
	read_segment();
	/* one PUSH per size, each failing once with EAGAIN, then sending once */
	unsigned sockets = 0;
	for (unsigned slot = 1; slot < ZCS_NSLOTS; slot++) {
		if (snap->shared.sockets[slot].type != ZMQ_PUSH ||
		    snap->shared.sockets[slot].state == ZCS_SOCK_FREE)
			continue;
		sockets++;
		cr_assert_eq(snap->sum.failed[slot][ZCS_OP_MSG_SEND][ZCS_ERR_EAGAIN], 1);
		for (unsigned e = 0; e < ZCS_NERRS; e++)
			if (e != ZCS_ERR_EAGAIN)
				cr_assert_eq(snap->sum.failed[slot][ZCS_OP_MSG_SEND][e], 0);
	}
	cr_assert_eq(sockets, 3);
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_MSG_SEND), 3);
}

static void ffn_thread_kind(const char *transport, unsigned kind)
{
	const char *env[] = { "ZCSHIM_MODE=profile", NULL };
	const char *argv[] = { "zcapp", "pushpull", "--transport", transport, "--sizes", "1000",
			       "--count", "200", NULL };
	run_app(env, argv);
	read_segment();
	cr_assert_eq(ffn_threads(), 200);
	cr_assert_eq(snap->sum.ffn_thread[kind], 200, "%s: own %llu in_send %llu io %llu other %llu",
		     transport, (unsigned long long)snap->sum.ffn_thread[ZCS_FFN_OWN],
		     (unsigned long long)snap->sum.ffn_thread[ZCS_FFN_IN_SEND],
		     (unsigned long long)snap->sum.ffn_thread[ZCS_FFN_IO],
		     (unsigned long long)snap->sum.ffn_thread[ZCS_FFN_OTHER]);
}

/* inproc hands the message itself to the receiver, whose read frees it;
 * tcp's IO thread frees it once written */
Test(persocket, ffn_runs_on_the_receivers_thread_inproc) { ffn_thread_kind("inproc", ZCS_FFN_OTHER); }
Test(persocket, ffn_runs_on_libzmqs_io_thread_tcp) { ffn_thread_kind("tcp", ZCS_FFN_IO); }

Test(persocket, a_program_that_never_calls_libzmq_is_said_to)
{
	const char *argv[] = { "/bin/true", NULL };
	run_app(NULL, argv);
	read_segment();
	cr_assert_not(zcs_calls_seen(snap));
	cr_assert_eq(snap->live, ZCS_LIVE_EXITED);
	cr_assert_str_eq(snap->hdr.exe, "true");
}

/* ------------------------------------------------------- zcshim-stat */

static int stat_run(const char *a1, const char *a2, const char *a3)
{
	const char *argv[] = { "zcshim-stat", a1, a2, a3, NULL };
	return zc_run(&proc, 0, NULL, argv);
}

/* Leave a finished app's segment behind; return its pid. */
static int app_segment(char *pid, size_t len)
{
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100,1000000", "--count", "20",
			       NULL };
	run_app(convert_64k, argv);
	snprintf(pid, len, "%d", (int)proc.pid);
	return (int)proc.pid;
}

static void remove_segment(const char *pid)
{
	char err[512];
	if (zcs_find(pid, snap, err, sizeof err) == 0)
		unlink(snap->path);
}

Test(stat, lists_and_dumps_a_table)
{
	char pid[32];
	app_segment(pid, sizeof pid);
	cr_assert_eq(stat_run(NULL, NULL, NULL), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "PROGRAM"));
	char row[64];
	snprintf(row, sizeof row, "\n%-8s exited", pid);
	cr_assert_not_null(strstr(proc.out, row), "no row for %s in:\n%s", pid, proc.out);

	cr_assert_eq(stat_run(pid, NULL, NULL), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "mode convert, threshold 64k"), "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "msg_send   converted  [64,128)            20"),
			   "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "msg_send   zerocopy   [512k,1M)           20"),
			   "%s", proc.out);
	remove_segment(pid);
}

Test(stat, dumps_json)
{
	char pid[32];
	app_segment(pid, sizeof pid);
	cr_assert_eq(stat_run("--json", pid, NULL), 0, "%s", proc.err);
	char want[64];
	snprintf(want, sizeof want, "{\"version\":%u,\"pid\":%s,", ZCS_LAYOUT_VERSION, pid);
	cr_assert_eq(strncmp(proc.out, want, strlen(want)), 0, "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "\"exe\":\"zcapp\""));
	cr_assert_not_null(strstr(proc.out, "\"state\":\"exited\""));
	cr_assert_not_null(strstr(proc.out,
				  "{\"op\":\"msg_send\",\"path\":\"converted\",\"size_class\":7,"
				  "\"size_lo\":64,\"size_hi\":127,\"count\":20,\"bytes\":2000,"));
	cr_assert_not_null(strstr(proc.out, "\"buckets\":[["));
	cr_assert_eq(strcmp(proc.out + strlen(proc.out) - 3, "]}\n"), 0);
	remove_segment(pid);
}

Test(stat, errors_are_one_line_with_exit_codes)
{
	cr_assert_eq(stat_run("999999999", NULL, NULL), 1);
	cr_assert_str_eq(proc.err, "zcshim-stat: no zcshim segment for pid 999999999 in /dev/shm\n");
	cr_assert_eq(stat_run("no-such-program", NULL, NULL), 1);
	cr_assert_not_null(strstr(proc.err, "no zcshim segment for program no-such-program"));

	char path[] = "/tmp/zcshim-garbage-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(write(fd, "not a segment, not at all, nope", 31) == 31);
	close(fd);
	cr_assert_eq(stat_run(path, NULL, NULL), 1);
	cr_assert_not_null(strstr(proc.err, "truncated"), "%s", proc.err);
	unlink(path);

	cr_assert_eq(stat_run("--bogus", NULL, NULL), 2);
	cr_assert_eq(stat_run("1", "2", NULL), 2);
	cr_assert_eq(stat_run("--help", NULL, NULL), 0);
	cr_assert_not_null(strstr(proc.out, "Usage: zcshim-stat"));
}

/* ------------------------------------------------------------- load */

/* zcstress under the shim: every message checked by the app, and the shim's
 * counts equal to the app's own. ZCSHIM_STRESS_COUNT sets the messages per
 * thread (make stress: 1,000,000; make test: 5,000). */
static void stress(const char *pattern, const char *transport, const char *extra)
{
	const char *n = getenv("ZCSHIM_STRESS_COUNT");
	char more[64];
	snprintf(more, sizeof more, "%s", extra ? extra : "");
	char *x1 = strtok(more, " "), *x2 = x1 ? strtok(NULL, " ") : NULL;
	const char *argv[] = { "zcstress", "--pattern", pattern, "--transport", transport,
			       "--threads", "8", "--count", n && *n ? n : "5000",
			       x1, x2, NULL };
	int rc = zc_run(&proc, 1, convert_64k, argv);
	cr_assert_eq(rc, 0, "zcstress exited %d\nstdout:\n%s\nstderr:\n%s", rc, proc.out,
		     proc.err);
	cr_assert_str_empty(proc.err);
	long payloads = zc_out_value(&proc, "payload_sends");
	long small = zc_out_value(&proc, "small_payloads");
	long headers = zc_out_value(&proc, "header_sends");
	long eagain = zc_out_value(&proc, "eagain");
	cr_assert_gt(payloads, 0);
	read_segment();
	cr_assert_eq(count_all(ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY), (uint64_t)payloads);
	cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED), (uint64_t)small);
	cr_assert_eq(count_all(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY), (uint64_t)(payloads - small));
	/* --gc: each ffn, and main once at the end, zmq_send a note: app sends too */
	long notes = extra && strstr(extra, "--gc") ? payloads + 1 : 0;
	cr_assert_eq(count_all(ZCS_OP_SEND, ZCS_PATH_COPY), (uint64_t)(headers + notes));
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_MSG_SEND) + zcs_failed_op(snap, ZCS_OP_SEND),
		     (uint64_t)eagain);
	/* each buffer followed to its ffn, or counted as untracked */
	cr_assert_eq(count_all(ZCS_OP_HOLD, ZCS_PATH_CONVERTED) +
			     count_all(ZCS_OP_HOLD, ZCS_PATH_ZEROCOPY) + snap->shared.inflight.untracked,
		     (uint64_t)payloads);
	cr_assert_eq(ffn_threads() + snap->shared.inflight.untracked, (uint64_t)payloads);
}

TestSuite(load, .init = sh_snap_setup, .fini = sh_snap_teardown, .timeout = 1800);

Test(load, pushpull_inproc) { stress("pushpull", "inproc", NULL); }
Test(load, pushpull_ipc) { stress("pushpull", "ipc", NULL); }
Test(load, pushpull_tcp) { stress("pushpull", "tcp", NULL); }
Test(load, router_dealer_ipc) { stress("router", "ipc", NULL); }
Test(load, pubsub_inproc) { stress("pubsub", "inproc", NULL); }
Test(load, pub_without_subscriber_drops_and_frees_in_the_send)
{
	stress("pubnosub", "inproc", NULL);
	cr_assert_eq(zc_out_value(&proc, "received"), 0);
}
Test(load, hwm_pressure_with_dontwait_tcp)
{
	stress("pushpull", "tcp", "--dontwait");
	cr_assert_gt(zc_out_value(&proc, "eagain"), 0, "no EAGAIN: no pressure was made");
}
Test(load, ffn_sends_under_a_mutex_while_senders_hit_the_hwm)
{
	stress("pushpull", "inproc", "--gc --dontwait");
}

/* ------------------------------------------------------------ bench */

/* The benchmark itself is not a test (timings are not), but its CSV is
 * the input to bench/run's tables and plots: one tiny run must produce it
 * well formed. */
static void bench_csv(const char *const argv[], int want_thr)
{
	int rc = zc_run(&proc, 0, NULL, argv);
	cr_assert_eq(rc, 0, "zcbench exited %d: %s", rc, proc.err);
	static const char header[] = "size,count,copy,transport,ffn_model,shim_mode,sends,"
				     "throughput,latency_us,";
	cr_assert_eq(strncmp(proc.out, header, strlen(header)), 0, "%s", proc.out);
	int rows = 0;
	for (char *line = strchr(proc.out, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
		char row[512];
		snprintf(row, sizeof row, "%.*s", (int)strcspn(line + 1, "\n"), line + 1);
		int fields = 1;
		for (const char *c = row; *c; c++)
			fields += *c == ',';
		cr_assert_eq(fields, 16, "row '%s'", row);
		char *f[16], *p = row;
		for (int i = 0; i < 16; i++) /* strsep keeps empty fields */
			f[i] = strsep(&p, ",");
		cr_assert(!strcmp(f[0], rows ? "100000" : "100"), "size %s", f[0]);
		cr_assert_str_eq(f[1], "200");
		if (want_thr)
			cr_assert(atof(f[6]) > 0 && atof(f[7]) > 0 && !*f[8], "%s,%s,%s", f[6], f[7], f[8]);
		else
			cr_assert(atof(f[8]) > 0 && !*f[6], "%s / %s", f[8], f[6]);
		rows++;
	}
	cr_assert_eq(rows, 2, "%s", proc.out);
}

Test(bench, zcbench_writes_well_formed_csv)
{
	const char *thr[] = { "zcbench", "thr", "--sizes", "100,100000", "--count", "200", NULL };
	bench_csv(thr, 1);
	const char *lat[] = { "zcbench", "lat", "--transport", "ipc", "--zerocopy", "--ffn",
			      "gcthread", "--sizes", "100,100000", "--count", "200", NULL };
	bench_csv(lat, 0);
}
