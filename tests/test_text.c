/*
 * test_text.c - names and endpoints made of any bytes, end to end (issue
 * 14, points 2, 4 and 5): a real app under the shim, started through a
 * link whose name holds multi-byte characters, invalid UTF-8, quotes,
 * backslashes, a newline, a comma, a space and an escape sequence, binding
 * endpoints as odd; then every format zcshim-stat writes, read back by
 * tests/formats_check.py with Python's json and csv modules and a strict
 * Prometheus lexer (and promtool), must give back those
 * very bytes. Also: a name cut on a character boundary, an endpoint list
 * that does not fit, and the shim's warning line with hostile settings.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonq.h"
#include "segimg.h"
#include "segread.h"
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

TestSuite(text, .init = setup, .fini = teardown, .timeout = 120);

/* Run zcapp, under the shim, as dir/name; returns its segment's path. */
static const char *run_as(const char *name, const char *const args[])
{
	static char seg[PATH_MAX];
	char link[PATH_MAX];
	snprintf(link, sizeof link, "%s/%s", dir, name);
	char target[PATH_MAX];
	snprintf(target, sizeof target, "%s", zc_build("zcapp"));
	if (target[0] != '/') { /* the link must not depend on where it is */
		char cwd[PATH_MAX / 2];
		cr_assert_not_null(getcwd(cwd, sizeof cwd));
		snprintf(target, sizeof target, "%s/%s", cwd, zc_build("zcapp"));
	}
	cr_assert_eq(symlink(target, link), 0, "symlink %s", link);
	const char *argv[24] = { link };
	for (size_t i = 0; args[i] && i < 22; i++)
		argv[i + 1] = args[i];
	cr_assert_eq(zc_run(&proc, 1, NULL, argv), 0, "%s%s", proc.out, proc.err);
	cr_assert_str_empty(proc.err, "the shim said: %s", proc.err);
	char pid[32], err[600];
	snprintf(pid, sizeof pid, "%ld", zc_out_value(&proc, "pid"));
	struct zcs_snapshot *s = zcs_snapshot_new();
	cr_assert_eq(zcs_find(pid, s, err, sizeof err), 0, "%s", err);
	snprintf(seg, sizeof seg, "%s", s->path);
	zcs_snapshot_free(s);
	return seg;
}

/* zcshim-stat ARGS... --by socket SEG > dir/file */
static void save(const char *fmt, const char *seg, const char *file)
{
	const char *argv[] = { "zcshim-stat", "--by", "socket", seg, NULL, NULL };
	if (fmt) {
		argv[1] = fmt;
		argv[2] = "--by";
		argv[3] = "socket";
		argv[4] = seg;
	}
	cr_assert_eq(zc_run(&proc, 0, NULL, argv), 0, "%s %s", fmt ? fmt : "table", proc.err);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	seg_spit(path, proc.out);
}

static void hex(char *out, size_t len, const char *bytes)
{
	out[0] = '\0';
	for (const unsigned char *c = (const unsigned char *)bytes; *c; c++)
		snprintf(out + strlen(out), len - strlen(out), "%02x", *c);
}

Test(text, any_bytes_in_names_and_endpoints_parse_back_in_every_format)
{
	/* é, a quote, a backslash before x, two backslashes, space, comma,
	 * newline, an invalid byte, and ESC [31m */
	static const char name[] = "h\xc3\xa9 \"q\\x\\\\ a,b\nc\xff\x1b[31m";
	char ep[3][256];
	snprintf(ep[0], sizeof ep[0], "ipc://%s/a b \"q\".ipc", dir);
	snprintf(ep[1], sizeof ep[1], "ipc://%s/x\xfey\nz\xc3\xa9", dir);
	snprintf(ep[2], sizeof ep[2], "inproc://c,d\\x41 \xe2\x82\xac");
	const char *args[] = { "binds", "--count", "5", "--bind", ep[0], "--bind", ep[1],
			       "--bind", ep[2], NULL };
	const char *seg = run_as(name, args);
	save(NULL, seg, "table.txt");
	save("--json", seg, "json.json");
	save("--csv", seg, "csv.csv");
	save("--prometheus", seg, "prom.prom");

	char exe_hex[256], eps_hex[2048] = "", one[600];
	hex(exe_hex, sizeof exe_hex, name);
	for (int i = 0; i < 3; i++) {
		hex(one, sizeof one, ep[i]);
		snprintf(eps_hex + strlen(eps_hex), sizeof eps_hex - strlen(eps_hex), "%s%s",
			 i ? "," : "", one);
	}
	const char *check[] = { "/usr/bin/env", "python3", "tests/formats_check.py", dir,
				exe_hex, eps_hex, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, check), 0, "%s%s", proc.out, proc.err);
	cr_assert_str_eq(proc.out, "ok\n");

	char prom[256];
	snprintf(prom, sizeof prom, "%s/prom.prom", dir);
	zc_promtool_check(&proc, prom);
	unlink(seg);
}

/* The same bytes through --pipeline: no escape sequence or invalid byte in
 * the table, JSON that a strict parser takes, Prometheus text promtool
 * takes. */
Test(text, any_bytes_in_names_and_endpoints_are_escaped_by_the_pipeline_view)
{
	static const char name[] = "h\xc3\xa9 \"q\\x a,b\nc\xff\x1b[31m";
	char ep[256];
	snprintf(ep, sizeof ep, "ipc://%s/x\xfey\nz\x1b[31m\xc3\xa9", dir);
	const char *args[] = { "binds", "--count", "5", "--bind", ep, NULL };
	const char *seg = run_as(name, args);
	const char *table[] = { "zcshim-stat", "--pipeline", seg, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, table), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, "\\x1b[31m"), "%s", proc.out);
	for (const unsigned char *c = (const unsigned char *)proc.out; *c; c++)
		cr_assert(*c != 0x1b && *c != 0xff && *c != 0xfe, "raw byte %02x in: %s", *c,
			  proc.out);
	const char *js[] = { "zcshim-stat", "--pipeline", "--json", seg, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, js), 0, "%s", proc.err);
	json_t *doc = jq_parse(proc.out); /* jansson refuses invalid UTF-8 */
	json_t *side = json_array_get(
		json_object_get(json_array_get(json_object_get(doc, "endpoints"), 0), "sides"), 0);
	cr_assert(json_is_false(json_object_get(side, "endpoints_cut")), "%s", proc.out);
	json_decref(doc);
	const char *prom[] = { "zcshim-stat", "--pipeline", "--prometheus", seg, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, prom), 0, "%s", proc.err);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/pipeline.prom", dir);
	seg_spit(path, proc.out);
	zc_promtool_check(&proc, path);
	unlink(seg);
}

Test(text, a_long_name_is_cut_on_a_character_boundary)
{
	char name[128] = "";
	for (int i = 0; i < 40; i++) /* 80 bytes: 63 would end in half an é */
		strcat(name, "\xc3\xa9");
	const char *args[] = { "pushpull", "--count", "3", NULL };
	const char *seg = run_as(name, args);
	const char *argv[] = { "zcshim-stat", "--json", seg, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, argv), 0, "%s", proc.err);
	json_t *doc = jq_parse(proc.out); /* jansson refuses invalid UTF-8 */
	cr_assert_eq(strlen(jq_str(doc, "exe")), 62, "%s", jq_str(doc, "exe"));
	cr_assert_eq(strncmp(jq_str(doc, "exe"), name, 62), 0);
	json_decref(doc);
	unlink(seg);
}

Test(text, an_endpoint_list_that_does_not_fit_is_cut_and_says_so)
{
	/* 159 bytes fit (an entry is its kind byte, the endpoint and a NUL);
	 * the next, 69 bytes of which only 61 would fit, is not taken: the
	 * shim keeps whole endpoints only, so none is split, let alone in the
	 * middle of an é; nor is a third, which would fit: the list says it
	 * was cut where it was */
	char a[200] = "inproc://", b[100] = "inproc://";
	memset(a + 9, 'a', 150);
	for (int i = 0; i < 30; i++)
		strcat(b, "\xc3\xa9");
	const char *args[] = { "binds", "--count", "3", "--bind", a, "--bind", b, "--bind",
			       "inproc://z", NULL };
	const char *seg = run_as("cutapp", args);
	const char *argv[] = { "zcshim-stat", "--json", seg, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, argv), 0, "%s", proc.err);
	json_t *doc = jq_parse(proc.out);
	const json_t *push = json_array_get(json_object_get(doc, "sockets"), 0);
	const json_t *eps = json_object_get(push, "endpoints");
	cr_assert_eq(json_array_size(eps), 1, "%s", proc.out);
	cr_assert_str_eq(json_string_value(json_array_get(eps, 0)), a);
	cr_assert(json_is_true(json_object_get(push, "endpoints_cut")));
	json_decref(doc);
	const char *table[] = { "zcshim-stat", "--by", "socket", seg, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, table), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, " ... (closed)\n"), "%s", proc.out);
	unlink(seg);
}

Test(text, hostile_settings_give_one_escaped_warning_line)
{
	const char *env[] = { "ZCSHIM_MODE=fa\nst\x1b[31m\xff", "ZCSHIM_KEEP=0", NULL };
	const char *argv[] = { "zcapp", "pushpull", "--count", "3", NULL };
	cr_assert_eq(zc_run(&proc, 1, env, argv), 0, "%s", proc.err);
	cr_assert_str_eq(proc.err, "zcshim: ZCSHIM_MODE='fa\\x0ast\\x1b[31m\\xff' is not "
				   "convert, profile or off; using profile\n");
}
