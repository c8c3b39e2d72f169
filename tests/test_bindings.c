/*
 * test_bindings.c - the ZeroMQ bindings Debian packages, run as their users
 * run them, under the shim: Ruby ffi-rzmq (dlsym), Perl ZMQ::FFI (dlsym),
 * PHP php-zmq (an RTLD_DEEPBIND extension), Python pyzmq (an extension's
 * PLT calls) and cppzmq (a C++ program's PLT calls). Each script in
 * tests/bindings/ sends 100 B and 1 MiB messages PUSH to PULL over ipc and
 * prints its own counts; zcshim's must equal them, on the right op and path,
 * on the PUSH socket with its endpoint, with the in-flight gauge back to 0,
 * in profile and convert mode and with ZCSHIM_THRESHOLD=max alike.
 *
 * tools/install-deps installs every binding, so none is skipped in CI. The
 * paths are Debian's: /usr/bin/python3 rather than whatever python3 comes
 * first on PATH.
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

TestSuite(bindings, .init = sh_snap_setup, .fini = sh_snap_teardown, .timeout = 180);

#define COUNT 20
#define SMALL 100
#define LARGE 1048576

enum mode { PROFILE, CONVERT, MAX };

/* What a binding does with a send, in ordinary use. */
struct binding {
	const char *name;
	const char *interpreter;   /* NULL: the program itself (cppzmq) */
	const char *script;        /* in tests/bindings/, or the program in the build dir */
	unsigned op;               /* the call its send makes */
	int zerocopy;              /* its sends are zmq_msg_init_data buffers */
	int deepbind;              /* loaded with RTLD_DEEPBIND (PHP) */
	unsigned way;              /* how its calls reach the shim */
	int python_nocopy;         /* also COUNT x 1 MiB with copy=False */
};

static const char *script_path(const struct binding *b)
{
	static char path[4200];
	char cwd[4096];
	if (!b->interpreter)
		return zc_build(b->script);
	if (!getcwd(cwd, sizeof cwd))
		cr_assert_fail("getcwd");
	snprintf(path, sizeof path, "%s/tests/bindings/%s", cwd, b->script);
	return path;
}

static void expect_sends(unsigned push, unsigned op, unsigned size, int zerocopy, enum mode m)
{
	unsigned want_path = ZCS_PATH_COPY;
	if (zerocopy)
		want_path = m == PROFILE || (m == CONVERT && size >= 65536) ? ZCS_PATH_ZEROCOPY
									  : ZCS_PATH_CONVERTED;
	for (unsigned path = 0; path < ZCS_NPATHS; path++)
		cr_assert_eq(sh_slot_count(snap, push, op, path, size),
			     path == want_path ? COUNT : 0, "%s %u B on %s", zcs_op_name(op), size,
			     zcs_path_name(path));
}

static void run_binding(const struct binding *b, enum mode m)
{
	if (b->deepbind && sh_sanitizer_preloaded())
		cr_skip_test("ASan and TSan abort any dlopen with RTLD_DEEPBIND, as PHP makes "
			     "for every extension; the plain suite runs this");
	static const char *const modes[] = { "ZCSHIM_MODE=profile", "ZCSHIM_MODE=convert",
					     "ZCSHIM_MODE=convert" };
	char ep[128];
	snprintf(ep, sizeof ep, "ipc:///tmp/zcshim-binding-%s-%d-%d", b->name, (int)getpid(), m);
	/* every call timed (spawn.c's default), so every buffer is followed */
	const char *env[] = { modes[m], m == MAX ? "ZCSHIM_THRESHOLD=max" : "ZCSHIM_KEEP=1",
			      /* the interpreters' own leaks are not the shim's */
			      "ASAN_OPTIONS=detect_leaks=0", NULL };
	char count[16];
	snprintf(count, sizeof count, "%d", COUNT);
	const char *prog_argv[] = { script_path(b), ep, count, NULL };
	const char *interp_argv[] = { b->interpreter, script_path(b), ep, count, NULL };
	int rc = zc_run(&proc, 1, env, b->interpreter ? interp_argv : prog_argv);
	cr_assert_eq(rc, 0, "%s exited %d\nstdout:\n%s\nstderr:\n%s", b->name, rc, proc.out,
		     proc.err);
	cr_assert_str_empty(proc.err, "%s said: %s", b->name, proc.err);
	/* the app's own counts: the same in every mode */
	char want[160];
	snprintf(want, sizeof want, "sent_small=%d sent_large=%d%s received=%d bad=0\n", COUNT,
		 COUNT, b->python_nocopy ? " sent_large_nocopy=20" : "",
		 (b->python_nocopy ? 3 : 2) * COUNT);
	cr_assert_str_eq(proc.out, want, "%s", b->name);

	sh_read(snap, proc.pid);
	unsigned push = sh_slot_of(snap, ZMQ_PUSH, ep), pull = sh_slot_of(snap, ZMQ_PULL, ep);
	cr_assert(push, "%s: no PUSH socket at %s", b->name, ep);
	cr_assert(pull, "%s: no PULL socket at %s", b->name, ep);
	cr_assert_eq(snap->shared.sockets[push].state, ZCS_SOCK_CLOSED, "%s", b->name);
	cr_assert_eq(snap->shared.sockets[pull].state, ZCS_SOCK_CLOSED, "%s", b->name);

	/* on the PUSH: exactly what the app sent, on the right op and path */
	expect_sends(push, b->op, SMALL, b->zerocopy, m);
	uint64_t large = sh_slot_count(snap, push, b->op, ZCS_PATH_COPY, LARGE) +
			 sh_slot_count(snap, push, b->op, ZCS_PATH_ZEROCOPY, LARGE) +
			 sh_slot_count(snap, push, b->op, ZCS_PATH_CONVERTED, LARGE);
	if (!b->python_nocopy) {
		expect_sends(push, b->op, LARGE, b->zerocopy, m);
	} else {
		/* 20 copied, 20 zero-copy (copy=False): 1 MiB is over pyzmq's
		 * 64 KiB copy threshold and ours */
		cr_assert_eq(large, 2 * COUNT);
		cr_assert_eq(sh_slot_count(snap, push, b->op, ZCS_PATH_COPY, LARGE), COUNT);
		cr_assert_eq(sh_slot_count(snap, push, b->op,
					   m == MAX ? ZCS_PATH_CONVERTED : ZCS_PATH_ZEROCOPY, LARGE),
			     COUNT);
	}
	uint64_t on_push = 0;
	for (unsigned op = 0; op < ZCS_NCALL_OPS; op++)
		for (unsigned path = 0; path < ZCS_NPATHS; path++)
			on_push += sh_slot_count(snap, push, op, path, SIZE_MAX);
	cr_assert_eq(on_push, (b->python_nocopy ? 3 : 2) * COUNT, "%s: sends on the PUSH",
		     b->name);

	/* zero-copy buffers: each handed over once, each freed: the gauge at 0 */
	uint64_t handed = b->zerocopy ? 2 * COUNT : b->python_nocopy ? COUNT : 0;
	cr_assert_eq(sh_count_all(snap, ZCS_OP_INIT_DATA, ZCS_PATH_ZEROCOPY), handed, "%s",
		     b->name);
	cr_assert_eq(sh_inflight(snap), 0, "%s: in flight at exit", b->name);
	if (handed) {
		cr_assert_geq(snap->shared.inflight.peak_buffers, 1, "%s", b->name);
		cr_assert_eq(sh_count_all(snap, ZCS_OP_FFN, ZCS_PATH_ZEROCOPY) +
				     sh_count_all(snap, ZCS_OP_FFN, ZCS_PATH_CONVERTED),
			     handed, "%s: ffns followed", b->name);
	}
	cr_assert(snap->hdr.reach_ways & b->way, "%s: ways %#x", b->name, snap->hdr.reach_ways);
	cr_assert_eq(snap->hdr.reach_why, ZCS_WHY_SEEN);
	cr_assert_eq(snap->hdr.libzmq_version, 40304);
}

static const struct binding ruby = { "ruby", "/usr/bin/ruby", "pushpull.rb", ZCS_OP_SENDMSG, 1,
				     0, ZCS_WAY_DLSYM, 0 };
static const struct binding perl = { "perl", "/usr/bin/perl", "pushpull.pl", ZCS_OP_SEND, 0, 0,
				     ZCS_WAY_DLSYM, 0 };
static const struct binding php = { "php", "/usr/bin/php", "pushpull.php", ZCS_OP_SENDMSG, 0, 1,
				    ZCS_WAY_DEEPBIND, 0 };
static const struct binding python = { "python", "/usr/bin/python3", "pushpull.py",
				       ZCS_OP_MSG_SEND, 0, 0, ZCS_WAY_BINDING, 1 };
static const struct binding cppzmq = { "cppzmq", NULL, "zccppzmq", ZCS_OP_SEND, 0, 0,
				       ZCS_WAY_BINDING, 0 };

Test(bindings, ruby_ffi_rzmq_profile) { run_binding(&ruby, PROFILE); }
Test(bindings, ruby_ffi_rzmq_convert) { run_binding(&ruby, CONVERT); }
Test(bindings, ruby_ffi_rzmq_threshold_max) { run_binding(&ruby, MAX); }
Test(bindings, perl_zmq_ffi_profile) { run_binding(&perl, PROFILE); }
Test(bindings, perl_zmq_ffi_convert) { run_binding(&perl, CONVERT); }
Test(bindings, perl_zmq_ffi_threshold_max) { run_binding(&perl, MAX); }
Test(bindings, php_zmq_profile) { run_binding(&php, PROFILE); }
Test(bindings, php_zmq_convert) { run_binding(&php, CONVERT); }
Test(bindings, php_zmq_threshold_max) { run_binding(&php, MAX); }
Test(bindings, python_pyzmq_profile) { run_binding(&python, PROFILE); }
Test(bindings, python_pyzmq_convert) { run_binding(&python, CONVERT); }
Test(bindings, python_pyzmq_threshold_max) { run_binding(&python, MAX); }
Test(bindings, cppzmq_profile) { run_binding(&cppzmq, PROFILE); }
Test(bindings, cppzmq_convert) { run_binding(&cppzmq, CONVERT); }
Test(bindings, cppzmq_threshold_max) { run_binding(&cppzmq, MAX); }
