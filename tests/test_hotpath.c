/*
 * test_hotpath.c - what the hot path promises beyond exact counts: convert
 * mode never nests ffns without bound, and adaptive sampling times every
 * call of a slow socket but few of a busy one, within its budget.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "histo.h"
#include "segread.h"
#include "seghelp.h"
#include "spawn.h"

static struct zc_proc proc;

TestSuite(hotpath, .init = sh_snap_setup, .fini = sh_snap_teardown, .timeout = 180);

static void read_segment(void)
{
	char pid[32], err[512];
	snprintf(pid, sizeof pid, "%d", (int)proc.pid);
	cr_assert_eq(zcs_find(pid, snap, err, sizeof err), 0, "%s", err);
	unlink(snap->path);
}

/* The series of op on socket slot, all sizes and paths but failures added. */
static struct zcs_cell series(unsigned slot, unsigned op, unsigned path)
{
	struct zcs_cell sum;
	memset(&sum, 0, sizeof sum);
	for (unsigned c = 1; c < snap->sum.ncells; c++) {
		unsigned s, o, p, k;
		if (zcs_cell_fields(snap, c, &s, &o, &p, &k) == 0 && s == slot && o == op &&
		    p == path)
			zcs_cell_add(&sum, &snap->sum.cell[c]);
	}
	return sum;
}

/* The table slot of the first socket of zmq type `type`. */
static unsigned slot_of_type(int type)
{
	for (unsigned slot = 1; slot < ZCS_NSLOTS; slot++)
		if (snap->shared.sockets[slot].state != ZCS_SOCK_FREE &&
		    snap->shared.sockets[slot].type == type)
			return slot;
	cr_assert_fail("no socket of type %d", type);
	return 0;
}

/* ------------------------------------------------------------ nesting */

/* Each message's ffn sends the next. Converted, the ffn runs inside the
 * send; without a bound, 100,000 links would be 100,000 nested frames
 * (~22,600 crashed the stack before). */
Test(hotpath, a_chain_of_100000_ffn_sends_under_convert_behaves_as_without_the_shim)
{
	const char *argv[] = { "zcchain", "--count", "100000", NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, argv), 0, "without the shim: %s", proc.err);
	const char *env[] = { "ZCSHIM_MODE=convert", "ZCSHIM_SAMPLE=auto", NULL };
	int rc = zc_run(&proc, 1, env, argv);
	cr_assert_eq(rc, 0, "under convert: exit %d\n%s%s", rc, proc.out, proc.err);
	cr_assert_not_null(strstr(proc.out, "sent=100000 received=100000 ffn_calls=100000"),
			   "%s", proc.out);
	read_segment();
	unsigned push = slot_of_type(ZMQ_PUSH);
	uint64_t converted = series(push, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED).count;
	uint64_t zc = series(push, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY).count;
	cr_assert_eq(converted + zc, 100000, "every send counted once");
	cr_assert_gt(converted, 0);
	cr_assert_gt(zc, 0, "past the bound, sends go unconverted");
	cr_assert_eq(snap->shared.unconverted_nested, zc, "and are counted as such");
	/* at most ZCS_CONVERT_NEST_MAX converted in a row on one stack */
	cr_assert_leq(converted, zc * ZCS_CONVERT_NEST_MAX);
}

Test(hotpath, a_chain_under_profile_is_never_cut)
{
	const char *env[] = { "ZCSHIM_MODE=profile", NULL };
	const char *argv[] = { "zcchain", "--count", "20000", NULL };
	cr_assert_eq(zc_run(&proc, 1, env, argv), 0, "%s%s", proc.out, proc.err);
	read_segment();
	struct zcs_cell sent = series(slot_of_type(ZMQ_PUSH), ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY);
	cr_assert_eq(sent.count, 20000);
	cr_assert_eq(snap->shared.unconverted_nested, 0);
	/* every call timed (the tests' default): each stands for itself */
	cr_assert_eq(sent.est_ns, sent.time_ns_sum);
}

/* A busy socket's estimated time (each timed call times the calls of its
 * gap) agrees with the mean of its timed calls times its count: the calls
 * are all alike, so both say the same, within the noise of a sample. */
static void estimate_agrees_with_the_mean(const struct zcs_cell *c)
{
	double mean_times_count =
		(double)c->time_ns_sum / (double)zcs_cell_timed(c) * (double)c->count;
	double ratio = (double)c->est_ns / mean_times_count;
	cr_assert(ratio > 0.75 && ratio < 1.33, "estimated %llu ns, the mean says %.0f",
		  (unsigned long long)c->est_ns, mean_times_count);
}

/* ------------------------------------------------------------ sampling */

/* One thread: a socket sending flat out, another 100 times a second. */
Test(hotpath, adaptive_sampling_times_a_slow_socket_fully_and_a_busy_one_within_budget)
{
	if (zc_under_a_tool())
		cr_skip_test("its assertions are about time: meaningless under valgrind (make test runs it)");
	const char *env[] = { "ZCSHIM_SAMPLE=", NULL }; /* the default: auto */
	const char *argv[] = { "zcpace", "--slow", "50", "--interval-us", "10000", NULL };
	cr_assert_eq(zc_run(&proc, 1, env, argv), 0, "%s", proc.err);
	long fast = zc_out_value(&proc, "fast"), elapsed_ns = zc_out_value(&proc, "elapsed_ns");
	read_segment();
	cr_assert_eq(snap->hdr.sample_every, 0, "auto is the default");
	struct zcs_cell slow = series(2, ZCS_OP_SEND, ZCS_PATH_COPY);
	struct zcs_cell busy = series(1, ZCS_OP_SEND, ZCS_PATH_COPY);
	cr_assert_eq(slow.count, 50);
	cr_assert_eq(zcs_cell_timed(&slow), 50, "every call of the slow socket timed");
	cr_assert_eq(slow.est_ns, slow.time_ns_sum, "each standing for itself");
	cr_assert_eq(busy.count, (uint64_t)fast, "counts stay exact");
	uint64_t timed = zcs_cell_timed(&busy);
	cr_assert_gt(timed, 100, "the busy socket is sampled, not forgotten");
	/* how many depends on how long a call takes (sanitizers: longer) */
	cr_assert_lt(timed * 5, busy.count, "at most 1 in 5 of %lld timed: %llu",
		     (long long)busy.count, (unsigned long long)timed);
	/* a bound on how many calls are timed, not a measured cost: at ~40 ns
	 * per timed call (two clock reads and a histogram add on this VM),
	 * what they cost stays under 2 % of the thread's time (the target is
	 * about 1 %; the rest is room for a loaded machine) */
	cr_assert_lt((double)timed * 40.0, 0.02 * (double)elapsed_ns,
		     "%llu timed calls in %ld ns", (unsigned long long)timed, elapsed_ns);
	estimate_agrees_with_the_mean(&busy);
}

Test(hotpath, a_fixed_rate_still_times_one_call_in_n)
{
	if (zc_under_a_tool())
		cr_skip_test("its assertions are about time: meaningless under valgrind (make test runs it)");
	const char *env[] = { "ZCSHIM_SAMPLE=100", NULL };
	const char *argv[] = { "zcpace", "--slow", "20", "--interval-us", "5000", NULL };
	cr_assert_eq(zc_run(&proc, 1, env, argv), 0, "%s", proc.err);
	read_segment();
	struct zcs_cell busy = series(1, ZCS_OP_SEND, ZCS_PATH_COPY);
	double share = (double)zcs_cell_timed(&busy) / (double)busy.count;
	cr_assert(share > 0.005 && share < 0.02, "1 in %.0f timed", 1 / share);
	estimate_agrees_with_the_mean(&busy);
}
