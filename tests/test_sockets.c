/*
 * test_sockets.c - what layout 2 added, as zcshim-stat shows it: series
 * split by socket (--by socket|both) with the socket's type, endpoints and
 * state, the "other" group, failures by socket and errno, the zero-copy
 * in-flight gauge, and the one line for a process that loaded the shim but
 * never called libzmq; in the table, JSON, CSV and Prometheus alike. Every
 * segment is synthetic, so each number on screen is known.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonq.h"
#include "segimg.h"
#include "spawn.h"

static struct zc_proc proc;
static char dir[64], seg[128];

static void setup(void)
{
	seg_tmpdir(dir, sizeof dir);
	snprintf(seg, sizeof seg, "%s/zcshim.1.301.7.0", dir);
}

static void teardown(void)
{
	seg_rmdir(dir);
}

TestSuite(sockets, .init = setup, .fini = teardown, .timeout = 60);

/* A PUSH socket (open) and a PUB (closed) with sends; a PULL that never
 * sent; init_data under other; 66 sockets seen, so 2 beyond the table.
 * short_cells: and what a full cell pool leaves, 4 sends in send's
 * overflow series and 3 failed calls without op and errno. */
static void sockets_image(int short_cells)
{
	unsigned char *img = seg_new(301, ZCS_STATE_EXITED, "sockapp");
	seg_socket(img, 1, 8, EPS("tcp://127.0.0.1:5555"), ZCS_SOCK_OPEN);
	seg_socket(img, 2, 1, EPS("ipc:///tmp/a", "inproc://b\"q"), ZCS_SOCK_CLOSED);
	seg_socket(img, 3, 7, EPS("tcp://*:5556"), ZCS_SOCK_OPEN);
	seg_put_on(img, 1, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 1 << 20, 200, 600);
	seg_put_on(img, 1, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100, 1000, 300);
	seg_put_on(img, 1, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 200, 10, 300);
	seg_put_on(img, 2, ZCS_OP_SEND, ZCS_PATH_COPY, 100, 50, 900);
	seg_put(img, ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY, 100, 1210, 50);
	seg_fail_on(img, 1, ZCS_OP_MSG_SEND, ZCS_ERR_EAGAIN, 12);
	seg_fail_on(img, 1, ZCS_OP_MSG_SEND, ZCS_ERR_ETERM, 1);
	seg_fail_on(img, 0, ZCS_OP_SEND, ZCS_ERR_EHOSTUNREACH, 2);
	struct zcs_shared *sd = seg_shared(img);
	sd->sockets_seen = 66;
	sd->cells_short = 4;
	seg_shard(img, 1)->handed.buffers = 5; /* 5 handed over, 2 released: 3 */
	seg_shard(img, 1)->handed.bytes = 5242880;
	seg_shard(img, 1)->released.buffers = 2;
	seg_shard(img, 1)->released.bytes = 2097152;
	sd->peak.buffers = 17;
	sd->peak.buffers_ticks = sd->start_clock_ticks + 1500000000ull; /* +1.5 s */
	sd->peak.bytes = 17825792;
	sd->peak.bytes_ticks = sd->start_clock_ticks + 2250000000ull;
	sd->untracked = 2;
	if (short_cells) {
		struct zcs_counts *k = (struct zcs_counts *)(seg_shard(img, 1) + 1) + 1 + ZCS_OP_SEND;
		k->calls = k->msgs = 5;
		k->bytes = 500;
		sd->failed_short = 3;
	}
	seg_write(img, seg);
	free(img);
}

static void three_sockets(void)
{
	sockets_image(0);
}

static int stat_argv(const char *const argv[])
{
	/* TZ fixed: the peaks' wall times are in local time */
	const char *env[] = { "TZ=UTC", NULL };
	return zc_run(&proc, 0, env, argv);
}

static void has(const char *want)
{
	cr_assert_not_null(strstr(proc.out, want), "no '%s' in:\n%s", want, proc.out);
}

/* ---------------------------------------------------------- the table */

Test(sockets, by_size_is_the_old_table_summed_over_sockets)
{
	three_sockets();
	const char *argv[] = { "zcshim-stat", seg, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	has("\nop         path       size             count");
	has("\nmsg_send   converted  [64,128)          1000        100000 ");
	has("\ninit_data  zerocopy   [64,128)          1210 ");
	cr_assert_null(strstr(proc.out, "\nsocket 1"), "%s", proc.out);
	has("\nfailed calls: init_data 0 send 2 msg_send 13 sendmsg 0 send_const 0 recv 0 msg_recv 0 recvmsg 0 poll 0\n");
}

Test(sockets, by_socket_heads_each_sockets_rows_and_sums_sizes)
{
	three_sockets();
	const char *argv[] = { "zcshim-stat", "--by", "socket", seg, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	has("\nsocket 1 PUSH tcp://127.0.0.1:5555 (open)\n"
	    "  op         path            count         bytes      p50");
	/* [64,128) and [128,256) converted, one row */
	has("\n  msg_send   converted        1010        102000 ");
	has("\n  msg_send   zerocopy          200     209715200 ");
	has("\nsocket 2 PUB ipc:///tmp/a inproc://b\\x22q (closed)\n");
	has("\n  send       copy               50          5000 ");
	has("\nother (sockets beyond the table of 64: 2; calls on no socket)\n");
	has("\n  init_data  zerocopy         1210 ");
	cr_assert_null(strstr(proc.out, "socket 3"), "a socket without calls: %s", proc.out);
	/* sockets first, other last */
	cr_assert_lt(strstr(proc.out, "socket 2 PUB"), strstr(proc.out, "\nother ("));
}

Test(sockets, by_both_keeps_size_classes_within_each_socket)
{
	three_sockets();
	const char *argv[] = { "zcshim-stat", "-b", "both", seg, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	has("\nsocket 1 PUSH tcp://127.0.0.1:5555 (open)\n"
	    "  op         path       size             count");
	has("\n  msg_send   converted  [64,128)          1000        100000 ");
	has("\n  msg_send   converted  [128,256)           10          2000 ");
}

Test(sockets, other_is_left_out_when_it_is_empty)
{
	unsigned char *img = seg_new(301, ZCS_STATE_EXITED, "sockapp");
	seg_socket(img, 1, 8, EPS("tcp://127.0.0.1:5555"), ZCS_SOCK_OPEN);
	seg_put_on(img, 1, ZCS_OP_SEND, ZCS_PATH_COPY, 10, 5, 100);
	seg_write(img, seg);
	free(img);
	const char *argv[] = { "zcshim-stat", "--by", "socket", seg, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	has("socket 1 PUSH");
	cr_assert_null(strstr(proc.out, "\nother"), "%s", proc.out);
}

Test(sockets, failures_in_flight_and_short_cells_are_shown)
{
	sockets_image(1);
	const char *argv[] = { "zcshim-stat", seg, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	has("\nfailed: socket 1 PUSH msg_send EAGAIN 12, ETERM 1\n"
	    "failed: other send EHOSTUNREACH 2\n");
	has("\nzero-copy in flight now: 3 buffers, 3145728 bytes\n"
	    "peak in flight: 17 buffers at 2023-11-14 22:13:21.500, "
	    "17825792 bytes at 2023-11-14 22:13:22.250\n");
	has("\nzero-copy buffers not followed to their ffn (no record to spare): 2\n");
	has("\ncalls counted without socket and size (no series to spare): 5\n"
	    "failed calls counted without op and errno (no series to spare): 3\n");
	has("\nsend       any        any                  5           500 ");
	const char *js[] = { "zcshim-stat", "--json", seg, NULL };
	cr_assert_eq(stat_argv(js), 0, "%s", proc.err);
	has("\"cells_short\":4,\"failed_short\":3,");
	has("\"op\":\"send\",\"path\":\"any\",\"size_class\":null,\"size_lo\":null,"
	    "\"size_hi\":null,\"count\":5,\"bytes\":500,");
	const char *prom[] = { "zcshim-stat", "--prometheus", seg, NULL };
	cr_assert_eq(stat_argv(prom), 0, "%s", proc.err);
	has("\nzcshim_failed_short_total{pid=\"301\",seq=\"0\",exe=\"sockapp\"} 3\n");
}

Test(sockets, bad_by_is_a_usage_error)
{
	three_sockets();
	const char *argv[] = { "zcshim-stat", "--by", "thread", seg, NULL };
	cr_assert_eq(stat_argv(argv), 2);
	cr_assert_str_eq(proc.err, "zcshim-stat: --by 'thread': size, socket or both\n"
				   "Try 'zcshim-stat --help' for more information.\n");
	const char *watch[] = { "zcshim-stat", "--by", "socket", "--watch", seg, NULL };
	cr_assert_eq(stat_argv(watch), 2);
}

/* ---------------------------------------------------------------- JSON */

static json_t *json_of(const char *by)
{
	const char *argv[] = { "zcshim-stat", "--json", "--by", by, seg, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	return jq_parse(proc.out);
}

static uint64_t u64(const json_t *v, const char *key)
{
	uint64_t n = UINT64_MAX;
	cr_assert(jq_u64(v, key, &n), "no %s", key);
	return n;
}

Test(sockets, json_has_sockets_inflight_and_socket_objects_on_series)
{
	three_sockets();
	json_t *doc = json_of("both");
	cr_assert(json_is_true(json_object_get(doc, "calls_seen")));
	cr_assert_str_eq(jq_str(doc, "by"), "both");
	cr_assert_eq(u64(doc, "sockets_seen"), 66);
	cr_assert_eq(u64(doc, "cells_short"), 4);
	cr_assert_eq(u64(doc, "hold_untracked"), 2, "the old key is kept");
	const json_t *in = json_object_get(doc, "inflight");
	cr_assert_eq(u64(in, "buffers"), 3);
	cr_assert_eq(u64(in, "bytes"), 3145728);
	cr_assert_eq(u64(in, "peak_buffers"), 17);
	cr_assert_eq(u64(in, "peak_buffers_unix_ns"), 1700000001500000000ull);
	cr_assert_eq(u64(in, "peak_bytes_unix_ns"), 1700000002250000000ull);
	cr_assert_eq(u64(in, "untracked"), 2);
	cr_assert_eq(u64(json_object_get(doc, "failed"), "msg_send"), 13);

	/* sockets 1, 2, 3 (table rows in use), then other */
	const json_t *ss = json_object_get(doc, "sockets");
	cr_assert(json_is_array(ss) && json_array_size(ss) == 4, "%s", proc.out);
	const json_t *push = json_array_get(ss, 0), *pub = json_array_get(ss, 1),
		     *other = json_array_get(ss, 3);
	cr_assert_eq(u64(push, "id"), 1);
	cr_assert_str_eq(jq_str(push, "type"), "PUSH");
	cr_assert_str_eq(jq_str(push, "state"), "open");
	cr_assert_eq(u64(push, "opened_unix_ns"), 1700000001000000000ull);
	cr_assert_eq(u64(push, "closed_unix_ns"), 0);
	const json_t *f = json_object_get(json_object_get(push, "failed"), "msg_send");
	cr_assert_eq(u64(f, "EAGAIN"), 12);
	cr_assert_eq(u64(f, "ETERM"), 1);
	cr_assert_null(json_object_get(f, "EINTR"), "zeros are left out");
	const json_t *eps = json_object_get(pub, "endpoints");
	cr_assert(json_is_array(eps) && json_array_size(eps) == 2);
	cr_assert_str_eq(json_string_value(json_array_get(eps, 0)), "ipc:///tmp/a");
	cr_assert_str_eq(json_string_value(json_array_get(eps, 1)), "inproc://b\"q");
	cr_assert(json_is_false(json_object_get(pub, "endpoints_cut")));
	cr_assert_str_eq(jq_str(pub, "state"), "closed");
	cr_assert_eq(u64(other, "id"), 0);
	cr_assert_str_eq(jq_str(other, "type"), "other");
	cr_assert_eq(u64(json_object_get(json_object_get(other, "failed"), "send"), "EHOSTUNREACH"), 2);

	/* every series names its socket */
	const json_t *series = json_object_get(doc, "series");
	int on_push = 0;
	for (size_t i = 0; i < json_array_size(series); i++) {
		const json_t *so = json_object_get(json_array_get(series, i), "socket");
		cr_assert_not_null(so, "series %zu without socket", i);
		if (u64(so, "id") == 1) {
			on_push++;
			cr_assert_str_eq(jq_str(so, "type"), "PUSH");
			cr_assert_str_eq(json_string_value(json_array_get(
						 json_object_get(so, "endpoints"), 0)),
					 "tcp://127.0.0.1:5555");
		}
	}
	cr_assert_eq(on_push, 3);
	json_decref(doc);
}

Test(sockets, json_by_size_has_no_socket_key_and_by_socket_no_size)
{
	three_sockets();
	json_t *doc = json_of("size");
	const json_t *series = json_object_get(doc, "series");
	cr_assert_gt(json_array_size(series), 0, "%s", proc.out);
	for (size_t i = 0; i < json_array_size(series); i++)
		cr_assert_null(json_object_get(json_array_get(series, i), "socket"));
	json_decref(doc);
	doc = json_of("socket");
	series = json_object_get(doc, "series");
	cr_assert_eq(json_array_size(series), 4, "%s", proc.out);
	for (size_t i = 0; i < json_array_size(series); i++) {
		cr_assert_not_null(json_object_get(json_array_get(series, i), "socket"));
		cr_assert_null(json_object_get(json_array_get(series, i), "size_class"));
	}
	json_decref(doc);
}

Test(sockets, compare_reads_by_both_dumps_and_refuses_by_socket)
{
	three_sockets();
	char both[128], sock[128];
	snprintf(both, sizeof both, "%s/both.json", dir);
	snprintf(sock, sizeof sock, "%s/sock.json", dir);
	json_decref(json_of("both"));
	seg_spit(both, proc.out);
	json_decref(json_of("socket"));
	seg_spit(sock, proc.out);
	const char *argv[] = { "zcshim-stat", "--compare", both, both, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	has("\nmsg_send   [64,128)     converted                1000 ");
	const char *bad[] = { "zcshim-stat", "--compare", both, sock, NULL };
	cr_assert_eq(stat_argv(bad), 1);
	cr_assert_not_null(strstr(proc.err, "a --by socket dump has no size classes"), "%s",
			   proc.err);
}

/* ------------------------------------------------------ CSV, Prometheus */

Test(sockets, csv_rows_carry_socket_id_and_type)
{
	three_sockets();
	const char *argv[] = { "zcshim-stat", "--csv", "--by", "both", seg, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	has(",p99_ns,max_ns,socket,socket_type,endpoints,endpoints_cut\n");
	has(",msg_send,converted,7,64,127,1000,100000,");
	has(",1,PUSH,tcp://127.0.0.1:5555,0\n");
	has(",send,copy,7,64,127,50,5000,");
	has(",2,PUB,\"ipc:///tmp/a inproc://b\"\"q\",0\n");
	has(",0,other,,\n");
	const char *by_socket[] = { "zcshim-stat", "--csv", "--by", "socket", seg, NULL };
	cr_assert_eq(stat_argv(by_socket), 0, "%s", proc.err);
	has(",msg_send,converted,,,,1010,102000,"); /* no size class */
	const char *by_size[] = { "zcshim-stat", "--csv", seg, NULL };
	cr_assert_eq(stat_argv(by_size), 0, "%s", proc.err);
	has(",msg_send,converted,7,64,127,1000,100000,");
	cr_assert_null(strstr(proc.out, ",1,PUSH"), "%s", proc.out);
}

Test(sockets, prometheus_labels_sockets_and_keeps_their_details_in_info)
{
	three_sockets();
	const char *argv[] = { "zcshim-stat", "--prometheus", "--by", "both", seg, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	const char *p = "{pid=\"301\",seq=\"0\",exe=\"sockapp\"";
	char want[512];
	snprintf(want, sizeof want, "zcshim_calls_total%s,socket=\"1\",socket_type=\"PUSH\","
		 "op=\"msg_send\",path=\"converted\",size_class=\"[64,128)\"} 1000\n", p);
	has(want);
	snprintf(want, sizeof want, "zcshim_socket_info%s,socket=\"2\",socket_type=\"PUB\","
		 "endpoints=\"ipc:///tmp/a inproc://b\\\"q\",endpoints_cut=\"0\",state=\"closed\"} 1\n",
		 p);
	has(want);
	snprintf(want, sizeof want, "zcshim_failed_total%s,socket=\"1\",socket_type=\"PUSH\","
		 "op=\"msg_send\",errno=\"EAGAIN\"} 12\n", p);
	has(want);
	snprintf(want, sizeof want, "zcshim_failed_total%s,socket=\"0\",socket_type=\"other\","
		 "op=\"send\",errno=\"EHOSTUNREACH\"} 2\n", p);
	has(want);
	snprintf(want, sizeof want, "zcshim_inflight_buffers%s} 3\n", p);
	has(want);
	snprintf(want, sizeof want, "zcshim_inflight_peak_bytes%s} 17825792\n", p);
	has(want);
	snprintf(want, sizeof want, "zcshim_inflight_peak_bytes_timestamp_seconds%s} "
		 "1700000002.250\n", p);
	has(want);
	snprintf(want, sizeof want, "zcshim_calls_seen%s} 1\n", p);
	has(want);
	/* by size (the default): no socket label on the series */
	const char *by_size[] = { "zcshim-stat", "--prometheus", seg, NULL };
	cr_assert_eq(stat_argv(by_size), 0, "%s", proc.err);
	snprintf(want, sizeof want, "zcshim_calls_total%s,op=\"msg_send\",path=\"converted\","
		 "size_class=\"[64,128)\"} 1000\n", p);
	has(want);
}

/* ------------------------------------------------------- no calls seen */

static void no_calls(const char *name, int pid)
{
	unsigned char *img = seg_new(pid, ZCS_STATE_EXITED, "static");
	seg_hdr(img)->flags = 0;
	seg_hdr(img)->libzmq_version = 0;
	seg_hdr(img)->reach_why = ZCS_WHY_STATIC; /* in the executable: no object named */
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	/* the shards are not backed yet: a file of the header and shared part */
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(img, 1, ZCS_SHARDS_OFFSET, f), ZCS_SHARDS_OFFSET);
	fclose(f);
	free(img);
}

Test(sockets, no_calls_seen_is_one_line_in_every_view)
{
	no_calls("zcshim.1.401.7.0", 401);
	char path[128];
	snprintf(path, sizeof path, "%s/zcshim.1.401.7.0", dir);
	const char *argv[] = { "zcshim-stat", path, NULL };
	cr_assert_eq(stat_argv(argv), 0, "%s", proc.err);
	static const char line[] =
		"pid 401 (static): exited, no libzmq calls seen: libzmq is linked into the "
		"executable without exported symbols, which the shim cannot interpose: nothing "
		"to show\n";
	cr_assert_str_eq(proc.out, line);
	const char *rec[] = { "zcshim-stat", "--recommend", path, NULL };
	cr_assert_eq(stat_argv(rec), 0, "%s", proc.err);
	cr_assert_str_eq(proc.out, line);

	const char *list[] = { "zcshim-stat", "--dir", dir, NULL };
	cr_assert_eq(stat_argv(list), 0, "%s", proc.err);
	has("\n401      exited    profile  64k       1/1    -                none: static  "
	    "static\n");

	const char *js[] = { "zcshim-stat", "--json", path, NULL };
	cr_assert_eq(stat_argv(js), 0, "%s", proc.err);
	json_t *doc = jq_parse(proc.out);
	cr_assert(json_is_false(json_object_get(doc, "calls_seen")));
	cr_assert(json_is_null(json_object_get(doc, "libzmq")));
	cr_assert_eq(json_array_size(json_object_get(doc, "series")), 0);
	const json_t *reach = json_object_get(doc, "reach");
	cr_assert_not_null(reach);
	cr_assert_str_eq(json_string_value(json_object_get(reach, "why")), "static");
	cr_assert(json_is_null(json_object_get(reach, "how")));
	cr_assert(json_is_null(json_object_get(reach, "object")), "the executable");
	cr_assert_eq(json_array_size(json_object_get(reach, "ways")), 0);
	cr_assert_str_eq(json_string_value(json_object_get(reach, "text")),
			 "libzmq is linked into the executable without exported symbols, which "
			 "the shim cannot interpose");
	json_decref(doc);

	const char *csv[] = { "zcshim-stat", "--csv", path, NULL };
	cr_assert_eq(stat_argv(csv), 0, "%s", proc.err);
	cr_assert_null(strchr(strchr(proc.out, '\n') + 1, '\n'), "only the header: %s", proc.out);

	/* --clean removes it like any finished process's */
	const char *clean[] = { "zcshim-stat", "--dir", dir, "--clean", NULL };
	cr_assert_eq(stat_argv(clean), 0, "%s", proc.err);
	has("1 segment removed, 0 kept");
}

/* Needs the layout 2 writer (libzcshim.so makes a segment at load time in
 * every process) and layout 3's reach block: /bin/true loads no libzmq. */
Test(sockets, zcshim_run_says_when_the_command_never_called_libzmq)
{
	const char *san = getenv("ZCSHIM_TEST_PRELOAD_FIRST");
	char preload[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", san && *san ? san : "");
	const char *env[] = { preload, NULL };
	const char *argv[] = { "zcshim-run", "/bin/true", NULL };
	cr_assert_eq(zc_run(&proc, 0, san && *san ? env : NULL, argv), 0, "%s", proc.err);
	cr_assert_str_eq(proc.err, "zcshim-run: /bin/true: no libzmq calls seen: no libzmq was "
				   "loaded; nothing recorded\n");
}
