/*
 * test_reach.c - libzmq reached however a binding binds to it (issue 12),
 * with real processes: an app that calls libzmq only through dlsym pointers;
 * plugins opened with RTLD_DEEPBIND (bound at load, lazily, by a bare name,
 * and by a caller whose search path the shim cannot reproduce); a plugin
 * with libzmq built in and exported, as zeromq.js's addon.node; a second
 * preload that uses dlsym(RTLD_NEXT); every other lookup unchanged; and the
 * segment saying precisely why nothing was seen when nothing was.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h> /* socket type numbers */

#include "seghelp.h"
#include "spawn.h"

static struct zc_proc proc;

TestSuite(reach, .init = sh_snap_setup, .fini = sh_snap_teardown, .timeout = 120);

/* The plugins' sends below 64k are to be converted: issue 15 made profile
 * the default, so these runs ask for convert. */
static const char *const convert_64k[] = { "ZCSHIM_MODE=convert", NULL };

static void run_ok(int preload, const char *const env[], const char *const argv[])
{
	int rc = zc_run(&proc, preload, env, argv);
	cr_assert_eq(rc, 0, "%s exited %d\nstdout:\n%s\nstderr:\n%s", argv[0], rc, proc.out,
		     proc.err);
}

static void no_deepbind_under_a_sanitizer(void)
{
	if (sh_sanitizer_preloaded())
		cr_skip_test("ASan and TSan abort any dlopen with RTLD_DEEPBIND; the plain "
			     "suite runs this");
}

/* a file name per test and process: ipc endpoints must not collide */
static const char *endpoint(const char *what)
{
	static char ep[128];
	snprintf(ep, sizeof ep, "ipc:///tmp/zcshim-reach-%s-%d", what, (int)getpid());
	return ep;
}

static int ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);
	return a >= b && !strcmp(s + a - b, tail);
}

/* ------------------------------------------------------------- dlsym */

/* zcdlsym send: zero-copy 100 B and 1 MiB, through dlsym pointers only */
static void dlsym_app(const char *mode_env, const char *threshold_env)
{
	const char *ep = endpoint("dlsym");
	const char *env[] = { mode_env, threshold_env, NULL };
	const char *argv[] = { "zcdlsym", "send", ep, "20", NULL };
	run_ok(1, env, argv);
	cr_assert_not_null(strstr(proc.out, "sent_small=20 sent_large=20 received=40 bad=0 "
					    "freed=40 dlerror_clean=1"),
			   "%s", proc.out);
	cr_assert_str_empty(proc.err);
	sh_read(snap, proc.pid);
	unsigned push = sh_slot_of(snap, ZMQ_PUSH, ep), pull = sh_slot_of(snap, ZMQ_PULL, ep);
	cr_assert(push && pull, "sockets with their endpoint");
	cr_assert_eq(snap->shared.sockets[push].state, ZCS_SOCK_CLOSED);
	cr_assert_eq(snap->shared.sockets[pull].state, ZCS_SOCK_CLOSED);
	cr_assert_eq(sh_count_all(snap, ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY), 40);
	int profile = strstr(mode_env, "profile") != NULL, max = threshold_env != NULL;
	uint64_t zc_small = sh_slot_count(snap, push, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100);
	uint64_t cv_small = sh_slot_count(snap, push, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100);
	uint64_t zc_large =
		sh_slot_count(snap, push, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 1048576);
	uint64_t cv_large =
		sh_slot_count(snap, push, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 1048576);
	cr_assert_eq(zc_small, profile ? 20 : 0);
	cr_assert_eq(cv_small, profile ? 0 : 20);
	cr_assert_eq(zc_large, profile || !max ? 20 : 0);
	cr_assert_eq(cv_large, !profile && max ? 20 : 0);
	cr_assert_eq(zcs_messages(snap), 40, "no send counted twice, none missed");
	/* every buffer followed to its ffn: the gauge back to 0 */
	cr_assert_eq(sh_count_all(snap, ZCS_OP_HOLD, ZCS_PATH_ZEROCOPY) +
			     sh_count_all(snap, ZCS_OP_HOLD, ZCS_PATH_CONVERTED),
		     40);
	cr_assert_eq(sh_inflight(snap), 0);
	cr_assert_geq(snap->shared.inflight.peak_buffers, 1);
	/* init_data, socket, bind, connect, msg_send, msg_recv, close: seven
	 * handed out; the receives are the app's too */
	cr_assert(snap->hdr.reach_ways & ZCS_WAY_DLSYM);
	cr_assert_eq(snap->hdr.reach_dlsym, 7);
	struct zcs_traffic t;
	zcs_traffic(snap, pull, &t);
	cr_assert_eq(t.recv_msgs, 40);
	cr_assert_eq(snap->hdr.reach_why, ZCS_WHY_SEEN);
	cr_assert(ends_with(snap->hdr.reach_libzmq, "libzmq.so.5"), "%s", snap->hdr.reach_libzmq);
}

Test(reach, an_app_calling_libzmq_only_through_dlsym_is_recorded_profile)
{
	dlsym_app("ZCSHIM_MODE=profile", NULL);
}

Test(reach, an_app_calling_libzmq_only_through_dlsym_is_recorded_convert)
{
	dlsym_app("ZCSHIM_MODE=convert", NULL);
}

Test(reach, an_app_calling_libzmq_only_through_dlsym_is_recorded_threshold_max)
{
	dlsym_app("ZCSHIM_MODE=convert", "ZCSHIM_THRESHOLD=max");
}

Test(reach, every_other_lookup_is_what_it_is_without_the_shim)
{
	const char *argv[] = { "zcdlsym", "lookups", NULL };
	const char *plain[] = { sh_preload_without_shim(), NULL };
	run_ok(0, plain, argv);
	char without[sizeof proc.out];
	snprintf(without, sizeof without, "%s", proc.out);
	run_ok(1, NULL, argv);
	cr_assert_str_eq(proc.out, without, "with the shim:\n%s\nwithout:\n%s", proc.out, without);
	/* and the test sees what it means to */
	cr_assert_not_null(strstr(without, "vnext realpath@GLIBC_2.3: libc.so.6+"));
	cr_assert_not_null(strstr(without, "libzmq zmq_ctx_new: libzmq.so.5+"));
	cr_assert_not_null(strstr(without, "libzmq zmq_no_such: NULL ("));
	sh_read(snap, proc.pid);
	cr_assert_eq(snap->hdr.reach_dlsym, 0, "nothing of ours was looked up");
}

Test(reach, lookups_from_four_threads_while_another_dlopens)
{
	const char *argv[] = { "zcdlsym", "threads", NULL };
	run_ok(1, NULL, argv);
	cr_assert_str_eq(proc.out, "threads_bad=0\n");
	sh_read(snap, proc.pid);
	cr_assert_eq(snap->hdr.reach_dlsym, 4 * 3 * 2001, "zmq_send, zmq_msg_send, zmq_close "
							  "handed out by every lookup");
}

Test(reach, versioned_references_to_dlsym_reach_the_shims_dlsym)
{
	/* which is why the shim finds libc's dlsym in libc's symbol table
	 * rather than through a versioned reference of its own (dlreal.c) */
	const char *argv[] = { "zcdlsym", "versions", NULL };
	run_ok(1, NULL, argv);
	cr_assert_str_eq(proc.out, "bound: dlsym@GLIBC_2.34=libzcshim.so "
				   "dlsym@GLIBC_2.2.5=libzcshim.so dlvsym@GLIBC_2.34=libzcshim.so\n"
				   "zmq_send: dlsym@GLIBC_2.34=libzcshim.so "
				   "dlsym@GLIBC_2.2.5=libzcshim.so\n");
	sh_read(snap, proc.pid);
	const char *plain[] = { sh_preload_without_shim(), NULL };
	run_ok(0, plain, argv);
	cr_assert_str_eq(proc.out, "bound: dlsym@GLIBC_2.34=libc.so.6 "
				   "dlsym@GLIBC_2.2.5=libc.so.6 dlvsym@GLIBC_2.34=libc.so.6\n"
				   "zmq_send: dlsym@GLIBC_2.34=libzmq.so.5 "
				   "dlsym@GLIBC_2.2.5=libzmq.so.5\n");
}

Test(reach, a_second_libzmq_keeps_its_own_functions)
{
	/* the shim forwards to libzmq.so.5; zcbuiltin.so has a libzmq of its
	 * own: a lookup in it must not hand out our wrapper */
	const char *argv[] = { "zcdlsym", "second", zc_build("zcbuiltin.so"), NULL };
	run_ok(1, NULL, argv);
	cr_assert_str_eq(proc.out, "first=libzcshim.so second=zcbuiltin.so\n");
	sh_read(snap, proc.pid);
}

Test(reach, off_mode_hands_out_libzmqs_own_functions)
{
	const char *env[] = { "ZCSHIM_MODE=off", NULL };
	const char *argv[] = { "zcdlsym", "versions", NULL };
	run_ok(1, env, argv);
	cr_assert_not_null(strstr(proc.out, "zmq_send: dlsym@GLIBC_2.34=libzmq.so.5 "
					    "dlsym@GLIBC_2.2.5=libzmq.so.5\n"), "%s", proc.out);
}

Test(reach, a_preload_after_the_shim_finds_libc_with_rtld_next)
{
	/* its constructor runs before the shim's, and its dlsym is ours */
	char next[4096];
	snprintf(next, sizeof next, "%s", zc_build("libzcnext.so"));
	const char *env[] = { sh_preload_with(next), "ZCSHIM_SAMPLE=1", "ZCSHIM_MODE=convert",
			      NULL };
	const char *argv[] = { "zcapp", "pushpull", "--sizes", "100", "--count", "30", NULL };
	run_ok(0, env, argv);
	cr_assert_eq(strncmp(proc.err, "zcnext: next=libc.so.6 calls=", 29), 0, "%s", proc.err);
	cr_assert_gt(atol(proc.err + 29), 0, "its wrapper was used: %s", proc.err);
	sh_read(snap, proc.pid);
	cr_assert_eq(sh_count(snap, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 30);
}

/* -------------------------------------------------------- RTLD_DEEPBIND */

/* zcplugin's run: 50 zero-copy sends of 100 B (converted) and 50 of 100 kB,
 * one constant, a monitored PULL whose events are libzmq's, not the app's */
static void plugin_counts(const char *what)
{
	cr_assert_not_null(strstr(proc.out, "ok\n"), "%s", proc.out);
	cr_assert_geq(atoi(strstr(proc.out, "events=") + 7), 2, "%s: no monitor events: %s", what,
		      proc.out);
	sh_read(snap, proc.pid);
	cr_assert_eq(sh_count(snap, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 50, "%s", what);
	cr_assert_eq(sh_count(snap, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100000), 50, "%s", what);
	cr_assert_eq(sh_count(snap, ZCS_OP_SEND_CONST, ZCS_PATH_CONST, 9), 1, "%s", what);
	cr_assert_eq(zcs_messages(snap), 101, "%s: monitor events counted as the app's", what);
	/* zmq_send_const's own zmq_msg_init_data is libzmq's */
	cr_assert_eq(sh_count_all(snap, ZCS_OP_INIT_DATA, ZCS_PATH_CONST), 0, "%s", what);
	cr_assert_eq(sh_count_all(snap, ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY), 100, "%s", what);
	char ep[64];
	snprintf(ep, sizeof ep, "ipc:///tmp/zcplugin-%d", (int)proc.pid);
	cr_assert(sh_slot_of(snap, ZMQ_PUSH, ep) && sh_slot_of(snap, ZMQ_PULL, ep), "%s", what);
	/* ours, not libzmq's monitor socket */
	cr_assert_eq(sh_rows(snap, ZMQ_PAIR), 1, "%s", what);
	cr_assert_eq(sh_inflight(snap), 0, "%s", what);
	cr_assert_str_empty(proc.err, "%s: %s", what, proc.err);
}

static void deepbind(const char *mode, const char *plugin, const char *const env[])
{
	no_deepbind_under_a_sanitizer();
	const char *argv[] = { "zcdlopen", mode, plugin, NULL };
	run_ok(1, env ? env : convert_64k, argv);
	plugin_counts(plugin);
	cr_assert(snap->hdr.reach_ways & ZCS_WAY_DEEPBIND, "ways %#x", snap->hdr.reach_ways);
	cr_assert_eq(snap->hdr.reach_patched, 1);
	cr_assert_eq(snap->hdr.reach_lost, 0);
	cr_assert_eq(snap->hdr.reach_why, ZCS_WHY_SEEN);
}

Test(reach, a_deepbind_plugin_bound_at_load_is_redirected)
{
	deepbind("plugin-deepbind", zc_build("zcplugin.so"), NULL);
}

Test(reach, a_deepbind_plugin_bound_lazily_is_redirected)
{
	deepbind("plugin-deepbind-lazy", zc_build("zcplugin.so"), NULL);
}

Test(reach, a_deepbind_plugin_with_a_read_only_got_is_redirected)
{
	deepbind("plugin-deepbind", zc_build("zcplugin-now.so"), NULL);
	deepbind("plugin-deepbind-lazy", zc_build("zcplugin-now.so"), NULL);
}

Test(reach, a_deepbind_plugin_named_without_a_path_is_redirected)
{
	/* zcdlopen has no DT_RPATH or DT_RUNPATH: the search from our frame is
	 * the search from its */
	char llp[4200];
	snprintf(llp, sizeof llp, "LD_LIBRARY_PATH=%s", zc_build(""));
	const char *env[] = { llp, "ZCSHIM_MODE=convert", NULL };
	deepbind("plugin-deepbind", "zcplugin.so", env);
}

Test(reach, a_deepbind_plugin_the_shim_cannot_redirect_is_named)
{
	/* zcdlopen-rpath finds "zcplugin.so" through its own DT_RUNPATH, which
	 * dlopen uses only if it sees zcdlopen-rpath as its caller: so the call
	 * passed through untouched, and went unredirected */
	no_deepbind_under_a_sanitizer();
	const char *argv[] = { "zcdlopen-rpath", "plugin-deepbind", "zcplugin.so", NULL };
	run_ok(1, NULL, argv);
	cr_assert_not_null(strstr(proc.out, "ok\n"), "%s", proc.out);
	sh_read(snap, proc.pid);
	cr_assert_not(zcs_calls_seen(snap), "libzmq bound to itself: nothing reached the shim");
	cr_assert_eq(snap->hdr.reach_lost, 1);
	cr_assert_eq(snap->hdr.reach_patched, 0);
	cr_assert_eq(snap->hdr.reach_why, ZCS_WHY_BYPASSED);
	cr_assert_eq(snap->hdr.reach_how, ZCS_HOW_DEEPBIND);
	cr_assert(ends_with(snap->hdr.reach_object, "/zcplugin.so"), "%s", snap->hdr.reach_object);
	cr_assert(ends_with(snap->hdr.reach_libzmq, "libzmq.so.5"), "%s", snap->hdr.reach_libzmq);
}

Test(reach, off_mode_leaves_deepbind_alone)
{
	no_deepbind_under_a_sanitizer();
	const char *env[] = { "ZCSHIM_MODE=off", NULL };
	const char *argv[] = { "zcdlopen", "plugin-deepbind", zc_build("zcplugin-now.so"), NULL };
	run_ok(1, env, argv);
	cr_assert_not_null(strstr(proc.out, "ok\n"));
	char key[32], err[512];
	snprintf(key, sizeof key, "%d", (int)proc.pid);
	cr_assert_neq(zcs_find(key, snap, err, sizeof err), 0, "off mode made a segment");
}

/* ------------------------------------------------------ libzmq built in */

Test(reach, a_plugin_linked_against_libzmq_so_monitored)
{
	const char *argv[] = { "zcdlopen", "plugin-local", zc_build("zcplugin.so"), NULL };
	run_ok(1, convert_64k, argv);
	plugin_counts("zcplugin.so");
	cr_assert_not(snap->hdr.reach_ways & ZCS_WAY_BUILTIN);
	cr_assert(snap->hdr.reach_ways & ZCS_WAY_BINDING);
}

Test(reach, a_plugin_with_libzmq_built_in_and_exported_is_recorded_as_the_app)
{
	/* as zeromq.js's addon.node: the plugin's calls are the app's,
	 * libzmq's own (zmq_send_const's zmq_msg_init_data, the monitor's
	 * socket and events) are not, and nothing is counted twice */
	const char *argv[] = { "zcdlopen", "plugin-local", zc_build("zcbuiltin.so"), NULL };
	run_ok(1, convert_64k, argv);
	plugin_counts("zcbuiltin.so");
	cr_assert(snap->hdr.reach_ways & ZCS_WAY_BUILTIN, "ways %#x", snap->hdr.reach_ways);
	cr_assert(ends_with(snap->hdr.reach_libzmq, "/zcbuiltin.so"), "%s", snap->hdr.reach_libzmq);
	cr_assert_eq(snap->hdr.libzmq_version, 40304, "the version built into the plugin");
	cr_assert_eq(snap->hdr.reach_why, ZCS_WHY_SEEN);
}

Test(reach, a_plugin_with_libzmq_built_in_under_threshold_max)
{
	const char *env[] = { "ZCSHIM_THRESHOLD=max", NULL };
	const char *argv[] = { "zcdlopen", "plugin-local", zc_build("zcbuiltin.so"), NULL };
	run_ok(1, env, argv);
	sh_read(snap, proc.pid);
	cr_assert_eq(sh_count_all(snap, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED), 100);
	cr_assert_eq(zcs_messages(snap), 101);
	cr_assert_eq(sh_inflight(snap), 0);
}

/* ------------------------------------------------- why nothing was seen */

static void stat_line(const char *want)
{
	char pid[32];
	snprintf(pid, sizeof pid, "%d", (int)proc.pid);
	const char *argv[] = { "zcshim-stat", pid, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, argv), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.out, want), "%s", proc.out);
	cr_assert_null(strstr(proc.out, "statically"), "%s", proc.out);
}

static void nothing_seen(const char *const argv[], unsigned why, const char *object_tail,
			 const char *words)
{
	run_ok(1, NULL, argv);
	pid_t pid = proc.pid;
	stat_line(words);
	proc.pid = pid;
	sh_read(snap, pid);
	cr_assert_not(zcs_calls_seen(snap));
	cr_assert_eq(snap->hdr.reach_why, why, "why %u", snap->hdr.reach_why);
	if (object_tail[0])
		cr_assert(ends_with(snap->hdr.reach_object, object_tail), "'%s'",
			  snap->hdr.reach_object);
	else
		cr_assert_str_empty(snap->hdr.reach_object);
}

Test(reach, libzmq_linked_into_the_executable_is_said_to_be)
{
	const char *argv[] = { "zcstatic", NULL };
	nothing_seen(argv, ZCS_WHY_STATIC, "",
		     "no libzmq calls seen: libzmq is linked into the executable without exported "
		     "symbols, which the shim cannot interpose: nothing to show");
}

Test(reach, libzmq_linked_into_a_plugin_without_exports_is_named)
{
	const char *argv[] = { "zcdlopen", "plugin-local", zc_build("zcbuiltin-hidden.so"), NULL };
	nothing_seen(argv, ZCS_WHY_STATIC, "/zcbuiltin-hidden.so",
		     "zcbuiltin-hidden.so without exported symbols");
}

Test(reach, libzmq_loaded_and_never_called_is_not_called_static)
{
	const char *argv[] = { "zcdlopen", "load-only", NULL };
	nothing_seen(argv, ZCS_WHY_BYPASSED, "",
		     "no libzmq calls seen: libzmq was loaded (");
	cr_assert(ends_with(snap->hdr.reach_libzmq, "libzmq.so.5"), "%s", snap->hdr.reach_libzmq);
	cr_assert_eq(snap->hdr.reach_how, ZCS_HOW_UNKNOWN);
}

Test(reach, libzmq_in_another_namespace_is_said_to_be)
{
	if (zc_under_a_tool())
		cr_skip_test("valgrind's string functions do not reach the libc dlmopen loads: false errors (make test runs it)");
	if (sh_sanitizer_preloaded()) /* the plugin's own copy of the runtime, in there */
		cr_skip_test("a sanitizer runtime cannot run twice, as a new namespace would "
			     "load it; the plain suite runs this");
	const char *argv[] = { "zcdlopen", "plugin-dlmopen", zc_build("zcplugin.so"), NULL };
	nothing_seen(argv, ZCS_WHY_BYPASSED, "",
		     "into another link-map namespace (dlmopen), where the shim is not");
	cr_assert_eq(snap->hdr.reach_how, ZCS_HOW_NAMESPACE);
}

Test(reach, no_libzmq_at_all_is_said_to_be)
{
	const char *argv[] = { "/bin/true", NULL };
	nothing_seen(argv, ZCS_WHY_NO_LIBZMQ, "", "no libzmq calls seen: no libzmq was loaded: "
						  "nothing to show");
}

/* A library whose file was cut short after it was loaded (upgraded in
 * place): its pages past the new end raise SIGBUS when read. At exit the
 * shim reads every object's dynamic section and read-only data (where did
 * the calls go, is a libzmq linked in); it leaves such an object alone,
 * and the host exits 0, as it does without the shim (zcrodata.so has
 * nothing the dynamic linker touches at exit). */
Test(reach, a_library_cut_short_after_loading_does_not_kill_the_host_at_exit)
{
	if (sh_sanitizer_preloaded()) /* LeakSanitizer reads every module at exit */
		cr_skip_test("under a sanitizer the host dies of the cut file without the shim "
			     "too; the plain suite runs this");
	char lib[] = "/tmp/zcshim-test-lib-XXXXXX";
	int fd = mkstemp(lib);
	cr_assert_geq(fd, 0);
	FILE *in = fopen(zc_build("zcrodata.so"), "rb");
	cr_assert_not_null(in, "%s", zc_build("zcrodata.so"));
	char buf[65536];
	for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;)
		cr_assert_eq(write(fd, buf, n), (ssize_t)n);
	fclose(in);
	struct zc_proc p;
	const char *argv[] = { "zcdlopen", "hold", lib, NULL };
	zc_start(&p, 1, NULL, argv);
	int loaded = zc_wait_line(&p, "loaded", 30);
	int cut = ftruncate(fd, 0);
	close(fd);
	int st = zc_finish(&p, 30);
	unlink(lib);
	cr_assert_eq(loaded, 0, "%s", p.err);
	cr_assert_eq(cut, 0);
	cr_assert_eq(st, 0, "exit %d (135: SIGBUS): %s", st, p.err);
	sh_read(snap, p.pid);
	cr_assert_eq(snap->hdr.reach_why, ZCS_WHY_NO_LIBZMQ);
}

Test(reach, the_deepbind_case_in_every_view)
{
	no_deepbind_under_a_sanitizer();
	const char *app[] = { "zcdlopen-rpath", "plugin-deepbind", "zcplugin.so", NULL };
	const char *words = "but every call bypassed the shim: ";
	run_ok(1, NULL, app);
	char pid[32];
	snprintf(pid, sizeof pid, "%d", (int)proc.pid);
	pid_t app_pid = proc.pid;
	const char *table[] = { "zcshim-stat", pid, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, table), 0);
	cr_assert_not_null(strstr(proc.out, words), "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "/zcplugin.so was opened with RTLD_DEEPBIND and "
					    "could not be redirected"), "%s", proc.out);
	const char *json[] = { "zcshim-stat", "--json", pid, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, json), 0);
	cr_assert_not_null(strstr(proc.out, "\"why\":\"bypassed\",\"how\":\"deepbind\",\"object\":"),
			   "%s", proc.out);
	cr_assert_not_null(strstr(proc.out, "\"deepbind_lost\":1,"), "%s", proc.out);
	const char *list[] = { "zcshim-stat", NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, list), 0);
	cr_assert_not_null(strstr(proc.out, "none: bypassed  zcdlopen-rpath"), "%s", proc.out);
	proc.pid = app_pid;
	sh_read(snap, app_pid);

	/* zcshim-run's closing line says the same */
	const char *run[] = { "zcshim-run", zc_build("zcdlopen-rpath"), "plugin-deepbind",
			      "zcplugin.so", NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, run), 0, "%s", proc.err);
	cr_assert_not_null(strstr(proc.err, "no libzmq calls seen: libzmq was loaded ("), "%s",
			   proc.err);
	cr_assert_not_null(strstr(proc.err, "could not be redirected; nothing recorded\n"), "%s",
			   proc.err);
	char err[512];
	while (zcs_find("zcdlopen-rpath", snap, err, sizeof err) == 0)
		unlink(snap->path);
}
