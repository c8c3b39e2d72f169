/*
 * test_pipeline.c - the receive side and the pipeline view, with real
 * processes under libzcshim.so.
 *
 * The recv suite: build/zcrecv (tests/apps/zcrecv.c) receives as an app does and
 * prints its own counts; what the shim recorded per socket must equal
 * them: frames, whole messages, bytes, failures by errno, polls, and no
 * call of libzmq's own counted.
 *
 * The time and pipeline suites: the example pipeline (examples/zcpipe.c, built as
 * zcsource, zcmiddle and zcsink) in separate processes; the model behind
 * `zcshim-stat --pipeline` (tools/zcshim-stat/pipeline.c) read over their segments must
 * give the stages' own counts, their own split of time (within 10 %), the
 * messages queued between them, what the apps lost, and the bottleneck.
 *
 * Every wait is bounded; margins are generous where the machine's load
 * decides (time shares), and none where the count is exact.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h> /* socket type numbers */

#include "histo.h"
#include "pipeline.h"
#include "segread.h"
#include "seghelp.h"
#include "spawn.h"

static struct zc_proc proc;

/* The value of key=... in p's output; fails if missing. */
static long value_of(const struct zc_proc *p, const char *key)
{
	long v = zc_out_value(p, key);
	cr_assert_geq(v, 0, "no %s= in: %s\nstderr: %s", key, p->out, p->err);
	return v;
}

/* Read the segment of pid into s, then remove it (unless keep). */
static void read_pid(pid_t pid, struct zcs_snapshot *s, int keep)
{
	char key[32], err[512];
	snprintf(key, sizeof key, "%d", (int)pid);
	cr_assert_eq(zcs_find(key, s, err, sizeof err), 0, "%s", err);
	if (!keep)
		unlink(s->path);
}

/* The only socket of this type in snap; fails unless there is one. */
static unsigned slot_of_type(const struct zcs_snapshot *s, int type)
{
	unsigned found = 0;
	for (unsigned slot = 1; slot < ZCS_NSLOTS; slot++) {
		const struct zcs_socket *row = &s->shared.sockets[slot];
		if (row->state == ZCS_SOCK_FREE || row->type != type)
			continue;
		cr_assert_eq(found, 0, "two %s sockets", zcs_socket_type_name(type));
		found = slot;
	}
	cr_assert_neq(found, 0, "no %s socket", zcs_socket_type_name(type));
	return found;
}

/* Calls (frames) of op on slot, every path but failed, every size. */
static uint64_t op_calls(unsigned slot, unsigned op)
{
	uint64_t n = 0;
	for (unsigned p = 0; p < ZCS_NPATHS; p++)
		for (unsigned k = 0; p != ZCS_PATH_FAILED && k < ZCS_NSIZES; k++) {
			const struct zcs_cell *c = zcs_cell_at(snap, slot, op, p, k);
			n += c ? c->count : 0;
		}
	return n;
}

/* ================================================================ recv */

TestSuite(recv, .init = sh_snap_setup, .fini = sh_snap_teardown, .timeout = 120);

static void run_zcrecv(const char *const argv[])
{
	int rc = zc_run(&proc, 1, NULL, argv);
	cr_assert_eq(rc, 0, "zcrecv exited %d\nstdout:\n%s\nstderr:\n%s", rc, proc.out, proc.err);
	read_pid(proc.pid, snap, 0);
}

/* Per socket: what the PULL received and the PUSH sent equal the app's own
 * counts; frames, whole messages and bytes each. */
static void counts(const char *api, const char *transport, const char *sizes, const char *n,
		   const char *parts, unsigned op)
{
	const char *argv[] = { "zcrecv", "counts", "--api", api, "--transport", transport,
			       "--sizes", sizes, "--count", n, "--parts", parts, "--buf", "1000",
			       NULL };
	run_zcrecv(argv);
	unsigned pull = slot_of_type(snap, ZMQ_PULL), push = slot_of_type(snap, ZMQ_PUSH);
	struct zcs_traffic in, out;
	zcs_traffic(snap, pull, &in);
	zcs_traffic(snap, push, &out);
	cr_assert_eq(in.recv_frames, (uint64_t)value_of(&proc, "recv_frames"));
	cr_assert_eq(in.recv_msgs, (uint64_t)value_of(&proc, "recv_msgs"));
	cr_assert_eq(in.recv_bytes, (uint64_t)value_of(&proc, "recv_bytes"));
	cr_assert_eq(out.sent_frames, (uint64_t)value_of(&proc, "sent_frames"));
	cr_assert_eq(out.sent_msgs, (uint64_t)value_of(&proc, "sent_msgs"));
	cr_assert_eq(out.sent_bytes, (uint64_t)value_of(&proc, "sent_bytes"));
	/* nothing crossed over: the PULL sent nothing, the PUSH received nothing */
	cr_assert_eq(in.sent_frames, 0);
	cr_assert_eq(out.recv_frames, 0);
	/* every frame under the op the app called, and only there */
	cr_assert_eq(op_calls(pull, op), in.recv_frames);
	for (unsigned o = ZCS_OP_RECV; o <= ZCS_OP_RECVMSG; o++)
		if (o != op)
			cr_assert_eq(op_calls(pull, o), 0, "%s counted too", zcs_op_name(o));
	/* by size class: the app's sizes, each frame in its own class */
	long frames = value_of(&proc, "recv_frames");
	size_t list[8];
	int nsizes = 0;
	char copy[64];
	snprintf(copy, sizeof copy, "%s", sizes);
	for (char *t = strtok(copy, ","); t; t = strtok(NULL, ","))
		list[nsizes++] = (size_t)atol(t);
	for (int i = 0; i < nsizes; i++) {
		uint64_t want = 0;
		for (long f = 0; f < frames; f++)
			want += zcs_size_class(list[f % nsizes]) == zcs_size_class(list[i]);
		const struct zcs_cell *c =
			zcs_cell_at(snap, pull, op, ZCS_PATH_COPY, zcs_size_class(list[i]));
		cr_assert_not_null(c, "no cell for %zu B", list[i]);
		cr_assert_eq(c->count, want, "%zu B: %llu frames, want %llu", list[i],
			     (unsigned long long)c->count, (unsigned long long)want);
	}
}

Test(recv, zmq_msg_recv_counts_equal_the_apps_inproc)
{
	counts("msg_recv", "inproc", "10,300,5000", "200", "1", ZCS_OP_MSG_RECV);
}

Test(recv, zmq_recv_counts_equal_the_apps_tcp)
{
	/* 5000 B frames into a 1000 B buffer: truncated, but 5000 B arrived */
	counts("recv", "tcp", "10,300,5000", "200", "1", ZCS_OP_RECV);
}

Test(recv, zmq_recvmsg_counts_equal_the_apps_ipc)
{
	counts("recvmsg", "ipc", "10,300,5000", "200", "1", ZCS_OP_RECVMSG);
}

Test(recv, multipart_frames_and_whole_messages_are_told_apart)
{
	counts("msg_recv", "tcp", "1,20,300", "150", "3", ZCS_OP_MSG_RECV);
	struct zcs_traffic in;
	zcs_traffic(snap, slot_of_type(snap, ZMQ_PULL), &in);
	cr_assert_eq(in.recv_frames, 450);
	cr_assert_eq(in.recv_msgs, 150);
}

Test(recv, multipart_through_zmq_recv_keeps_the_more_flag)
{
	counts("recv", "inproc", "7,70", "100", "4", ZCS_OP_RECV);
	struct zcs_traffic in;
	zcs_traffic(snap, slot_of_type(snap, ZMQ_PULL), &in);
	cr_assert_eq(in.recv_frames, 400);
	cr_assert_eq(in.recv_msgs, 100);
}

/* libzmq's zmq_recvmsg jumps to zmq_msg_recv through its PLT, which the
 * shim interposes too: that second call is libzmq's and is not counted. */
Test(recv, zmq_recvmsg_is_counted_once_not_again_as_zmq_msg_recv)
{
	counts("recvmsg", "tcp", "100", "300", "2", ZCS_OP_RECVMSG);
	unsigned pull = slot_of_type(snap, ZMQ_PULL);
	cr_assert_eq(op_calls(pull, ZCS_OP_RECVMSG), 600);
	cr_assert_eq(op_calls(pull, ZCS_OP_MSG_RECV), 0);
	cr_assert_eq(op_calls(ZCS_SLOT_OTHER, ZCS_OP_MSG_RECV), 0);
}

Test(recv, a_zero_copy_frame_received_over_inproc_is_said_to_be_one)
{
	const char *argv[] = { "zcrecv", "counts", "--zerocopy", "--sizes", "100,70000", "--count",
			       "50", NULL };
	run_zcrecv(argv);
	unsigned pull = slot_of_type(snap, ZMQ_PULL);
	uint64_t zc = 0, copy = 0;
	for (unsigned k = 0; k < ZCS_NSIZES; k++) {
		const struct zcs_cell *z = zcs_cell_at(snap, pull, ZCS_OP_MSG_RECV, ZCS_PATH_ZEROCOPY, k);
		const struct zcs_cell *c = zcs_cell_at(snap, pull, ZCS_OP_MSG_RECV, ZCS_PATH_COPY, k);
		zc += z ? z->count : 0;
		copy += c ? c->count : 0;
	}
	/* inproc hands the sender's message over as it is: the app's buffer
	 * with its ffn, whatever its size */
	cr_assert_eq(zc + copy, 50);
	cr_assert_eq(zc, 50, "zero-copy frames received: %llu", (unsigned long long)zc);
}

Test(recv, failed_receives_are_counted_by_errno)
{
	const char *argv[] = { "zcrecv", "fail", "--count", "20", NULL };
	run_zcrecv(argv);
	unsigned pull = slot_of_type(snap, ZMQ_PULL);
	const uint64_t(*f)[ZCS_NERRS] = snap->sum.failed[pull];
	/* 20 with ZMQ_DONTWAIT, 20 timed out, 1 interrupted, 1 ended by the context */
	cr_assert_eq(f[ZCS_OP_RECV][ZCS_ERR_EAGAIN], 40);
	cr_assert_eq(f[ZCS_OP_RECV][ZCS_ERR_EINTR], 1);
	cr_assert_eq(f[ZCS_OP_RECV][ZCS_ERR_ETERM], 1);
	cr_assert_eq(f[ZCS_OP_MSG_RECV][ZCS_ERR_EAGAIN], 20);
	cr_assert_eq(f[ZCS_OP_RECVMSG][ZCS_ERR_EAGAIN], 20);
	cr_assert_eq(f[ZCS_OP_RECVMSG][ZCS_ERR_OTHER] + f[ZCS_OP_MSG_RECV][ZCS_ERR_OTHER] +
			     f[ZCS_OP_RECV][ZCS_ERR_OTHER],
		     0);
	/* a failed receive is not a frame */
	struct zcs_traffic in;
	zcs_traffic(snap, pull, &in);
	cr_assert_eq(in.recv_frames, 0);
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_RECV), 42);
	/* the 20 that timed out waited 2 ms each: time in receives says so */
	struct zcs_time_split t;
	zcs_time_split(snap, pull, &t);
	cr_assert_geq(t.wait_ns, 20 * 2e6 * 0.9, "wait %.0f ns", t.wait_ns);
}

Test(recv, polls_are_counted_under_other_with_their_wait)
{
	const char *argv[] = { "zcrecv", "poll", "--count", "60", NULL };
	run_zcrecv(argv);
	cr_assert_eq(value_of(&proc, "polls"), 60);
	const struct zcs_cell *c = zcs_cell_at(snap, ZCS_SLOT_OTHER, ZCS_OP_POLL, ZCS_PATH_WAIT, 0);
	cr_assert_not_null(c);
	cr_assert_eq(c->count, 60);
	cr_assert_eq(zcs_cell_timed(c), 60, "ZCSHIM_SAMPLE=1: every poll timed");
	/* 30 polls timed out after 1 ms each */
	cr_assert_geq(c->time_ns_sum, 30 * 1000000ull);
	unsigned pull = slot_of_type(snap, ZMQ_PULL);
	cr_assert_eq(op_calls(pull, ZCS_OP_MSG_RECV), 30);
	struct zcs_time_split all;
	zcs_time_split(snap, ZCS_ALL, &all);
	cr_assert_geq(all.wait_ns, (double)c->time_ns_sum);
}

/* ================================================================ stages */

/* One stage of the example pipeline, as a process under the shim, and the
 * two readings of its segment the model takes (see pipeline.c). */
struct stage {
	struct zc_proc p;
	char path[4096]; /* its segment, once found */
	struct zcs_snapshot *early, *late;
	int finished;    /* exited; its segment read for good into late, and removed */
};

#define MAX_STAGES 4
/* How the stages are timed: the default unless a test says otherwise. */
static const char *stage_sample;
static struct stage stages[MAX_STAGES];
static struct pl_model model;
static struct pl_host host;
static char ipc_dir[64];

static void stages_setup(void)
{
	stage_sample = "ZCSHIM_SAMPLE=auto";
	memset(stages, 0, sizeof stages);
	for (int i = 0; i < MAX_STAGES; i++) {
		stages[i].early = zcs_snapshot_new();
		stages[i].late = zcs_snapshot_new();
		cr_assert(stages[i].early && stages[i].late);
	}
	memset(&model, 0, sizeof model);
	cr_assert_eq(pl_host_probe(&host, NULL), 0);
	snprintf(ipc_dir, sizeof ipc_dir, "/tmp/zcpl-%d-%ld", (int)getpid(), (long)time(NULL));
}

static void stages_teardown(void)
{
	for (int i = 0; i < MAX_STAGES; i++) {
		struct stage *s = &stages[i];
		if (s->p.pid && !s->finished)
			zc_finish(&s->p, 10);
		if (s->path[0])
			unlink(s->path);
		zcs_snapshot_free(s->early);
		zcs_snapshot_free(s->late);
	}
	pl_free(&model);
	pl_host_free(&host);
}

/* Start stage i as prog with the arguments of lists (each NULL-ended; the
 * list of lists too), under the shim with its default sampling (auto), as
 * a user runs it. */
static void start_lists(int i, const char *prog, const char *const *const lists[])
{
	const char *argv[48] = { prog };
	size_t n = 1;
	for (size_t l = 0; lists[l]; l++)
		for (size_t k = 0; lists[l][k] && n < 47; k++)
			argv[n++] = lists[l][k];
	argv[n] = NULL;
	const char *env[] = { stage_sample, NULL };
	zc_start(&stages[i].p, 1, env, argv);
}

/* The same, the arguments following (NULL-ended). */
static void start(int i, const char *prog, ...)
{
	const char *args[40];
	size_t n = 0;
	va_list ap;
	va_start(ap, prog);
	for (const char *a; (a = va_arg(ap, const char *)) && n < 39;)
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	const char *const *const lists[] = { args, NULL };
	start_lists(i, prog, lists);
}

/* The port stage i bound ("bound=tcp://0.0.0.0:41234" -> "41234"). */
static const char *bound_port(int i, char *buf, size_t len);
static void bound_port_of(int i, char *buf, size_t len)
{
	bound_port(i, buf, len);
}

static const char *bound_port(int i, char *buf, size_t len)
{
	char ep[256];
	cr_assert_eq(zc_wait_prefix(&stages[i].p, "bound=", ep, sizeof ep, 20), 0,
		     "no bound= from stage %d: %s%s", i, stages[i].p.out, stages[i].p.err);
	const char *colon = strrchr(ep, ':');
	cr_assert_not_null(colon);
	snprintf(buf, len, "%s", colon + 1);
	return buf;
}

static void wait_line(int i, const char *line)
{
	cr_assert_eq(zc_wait_line(&stages[i].p, line, 30), 0, "stage %d never said %s:\n%s%s", i,
		     line, stages[i].p.out, stages[i].p.err);
}

static void say(int i, const char *line)
{
	cr_assert_eq(write(stages[i].p.in_fd, line, strlen(line)), (ssize_t)strlen(line));
}

/* Let stage i end (stdin closed), check it exited 0, read its segment for
 * good and remove it at once: a finished segment left lying is pruned when
 * any process of this user starts once 8 newer ones have finished
 * (shim/ledger.c), and the tests run two at a time. */
static void finish(int i);

/* Stages n-1 .. 0: a sender run with --hold must not go before its
 * downstream has read everything. Over ipc, libzmq 4.3.4 drops what a
 * connection still held (the kernel's buffers) when the sender exits
 * while the receiver is at its high-water mark, whatever the sender's
 * ZMQ_LINGER (over tcp it delivers it): the apps would see that loss too,
 * but the tests mean to count loss only where they ask for it. */
static void finish_downstream_first(int n)
{
	for (int i = n - 1; i >= 0; i--)
		finish(i);
}

static void read_stage(struct stage *s, struct zcs_snapshot *into);

static void finish(int i)
{
	struct stage *s = &stages[i];
	int rc = zc_finish(&s->p, 60);
	s->finished = 1;
	cr_assert_eq(rc, 0, "stage %d exited %d:\n%s%s", i, rc, s->p.out, s->p.err);
	read_stage(s, s->late);
	unlink(s->path);
}

static void read_stage(struct stage *s, struct zcs_snapshot *into)
{
	char err[600];
	if (!s->path[0]) {
		char key[32];
		snprintf(key, sizeof key, "%d", (int)s->p.pid);
		cr_assert_eq(zcs_find(key, into, err, sizeof err), 0, "%s", err);
		snprintf(s->path, sizeof s->path, "%s", into->path);
		return;
	}
	cr_assert_eq(zcs_read(s->path, into, err, sizeof err), 0, "%s", err);
}

/* The model over stages 0..n-1, each running one read twice as
 * zcshim-stat does (a finished one: as read when it finished). */
static void build(int n)
{
	struct pl_input in[MAX_STAGES];
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++)
			if (!stages[i].finished)
				read_stage(&stages[i], pass ? stages[i].late : stages[i].early);
	for (int i = 0; i < n; i++)
		in[i] = (struct pl_input){ stages[i].late,
					   stages[i].finished ? NULL : stages[i].early, NULL, 0, 1 };
	pl_free(&model);
	cr_assert_eq(pl_build(&model, in, (size_t)n, &host), 0);
}

/* The endpoint where stages a and b both have a side; fails unless one. */
static const struct pl_endpoint *between(int a, int b)
{
	const struct pl_endpoint *found = NULL;
	for (size_t e = 0; e < model.neps; e++) {
		const struct pl_endpoint *E = &model.eps[e];
		int has_a = 0, has_b = 0;
		for (size_t i = 0; i < E->nsides; i++) {
			has_a |= model.sides[E->first_side + i].proc == (size_t)a;
			has_b |= model.sides[E->first_side + i].proc == (size_t)b;
		}
		if (has_a && has_b) {
			cr_assert_null(found, "two endpoints between stages %d and %d", a, b);
			found = E;
		}
	}
	cr_assert_not_null(found, "no endpoint between stages %d and %d", a, b);
	return found;
}

/* Stage i's side of endpoint E. */
static const struct pl_side *side_of(const struct pl_endpoint *E, int i)
{
	for (size_t k = 0; k < E->nsides; k++)
		if (model.sides[E->first_side + k].proc == (size_t)i)
			return &model.sides[E->first_side + k];
	cr_assert_fail("stage %d has no side in %s", i, E->name);
	return NULL;
}

/* Every stage's shares, for failure messages. */
static const char *shares(void)
{
	static char buf[512];
	size_t used = 0;
	for (size_t p = 0; p < model.nprocs && used < sizeof buf; p++) {
		const struct pl_proc *P = &model.procs[p];
		int n = snprintf(buf + used, sizeof buf - used,
				 "%s: blocked %.3f waiting %.3f working %.3f busy %.0f ms; ",
				 P->s->hdr.exe, P->blocked, P->waiting, P->working, P->busy_ns / 1e6);
		used += n > 0 ? (size_t)n : 0;
	}
	return buf;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void ipc_ep(char *buf, size_t len, const char *prefix, const char *name)
{
	snprintf(buf, len, "%sipc://%s-%s", prefix, ipc_dir, name);
}

static void bound_port_of(int i, char *buf, size_t len);

/* Source (stage 0) -> middle (1) -> sink (2) over tcp, as the example runs:
 * the source and the sink bound to the wildcard address, the middle
 * connected to both through localhost; with each stage's own options. Over
 * tcp libzmq applies --sockbuf, so little waits in kernel buffers and a
 * slow stage holds its upstream back at once. The source waits for the
 * middle to be connected (its first send would wait for a peer), the
 * senders hold on until the test lets them go (finish_downstream_first). */
static void three_stages(const char *const *src, const char *const *mid, const char *const *snk)
{
	static const char *const sink_base[] = { "--in", "@tcp://*:*", NULL };
	static const char *const src_base[] = { "--out", "@tcp://*:*", "--gate", "--hold", NULL };
	const char *const *const sink_lists[] = { sink_base, snk, NULL };
	const char *const *const src_lists[] = { src_base, src, NULL };
	start_lists(2, "zcsink", sink_lists);
	start_lists(0, "zcsource", src_lists);
	char p0[16], p2[16], in[64], out[64];
	bound_port_of(0, p0, sizeof p0);
	bound_port_of(2, p2, sizeof p2);
	snprintf(in, sizeof in, "tcp://localhost:%s", p0);
	snprintf(out, sizeof out, "tcp://localhost:%s", p2);
	const char *const mid_base[] = { "--in", in, "--out", out, "--hold", NULL };
	const char *const *const mid_lists[] = { mid_base, mid, NULL };
	start_lists(1, "zcmiddle", mid_lists);
	wait_line(0, "gate");
	sleep_ms(150); /* connected (loopback: a few ms), little of anyone's life spent waiting */
	say(0, "\n");
	finish_downstream_first(3);
	build(3);
}

/* ================================================================ time */

TestSuite(time, .init = stages_setup, .fini = stages_teardown, .timeout = 180);

/* The app's own share of its time: part / busy, from its key=value lines. */
static double own_share(int i, const char *part)
{
	double busy = (double)value_of(&stages[i].p, "busy_ns");
	cr_assert_gt(busy, 0);
	if (!strcmp(part, "work_ns"))
		return (busy - (double)value_of(&stages[i].p, "send_ns") -
			(double)value_of(&stages[i].p, "recv_ns")) / busy;
	return (double)value_of(&stages[i].p, part) / busy;
}

/* The shim's share (model) is within 10 % of the app's own (its clock
 * around its calls); shares too small to be worth 10 % of are within 0.02. */
static void within_10_percent(int i, double shim, double own, const char *what)
{
	double margin = own > 0.2 ? 0.10 * own : 0.02;
	cr_assert(fabs(shim - own) <= margin,
		  "stage %d %s: shim %.3f, the app's own %.3f (margin %.3f)\n%s", i, what, shim,
		  own, margin, stages[i].p.out);
}

/* A source that sleeps 4 ms per message, a middle 1 ms: the middle waits
 * about 3/4 of its time and works 1/4; the sink waits almost all of it. */
Test(time, a_stage_that_works_a_known_time_per_message_is_seen_so)
{
	if (zc_under_a_tool())
		cr_skip_test("its assertions are about time: meaningless under valgrind (make test runs it)");
	static const char *const src_o[] = { "--count", "200", "--work-us", "4000", NULL };
	static const char *const mid_o[] = { "--count", "200", "--work-us", "1000", NULL };
	static const char *const snk_o[] = { "--count", "200", NULL };
	three_stages(src_o, mid_o, snk_o);
	const struct pl_proc *src = &model.procs[0], *mid = &model.procs[1], *snk = &model.procs[2];
	within_10_percent(1, mid->working, own_share(1, "work_ns"), "working");
	within_10_percent(1, mid->waiting, own_share(1, "recv_ns"), "waiting");
	within_10_percent(1, mid->blocked, own_share(1, "send_ns"), "blocked");
	within_10_percent(0, src->working, own_share(0, "work_ns"), "working");
	within_10_percent(2, snk->waiting, own_share(2, "recv_ns"), "waiting");
	/* and the duty cycle as designed, with room for a loaded machine's
	 * oversleeping: 1 ms of 4 */
	cr_assert(mid->working > 0.15 && mid->working < 0.45, "middle working %.3f", mid->working);
	cr_assert_gt(snk->waiting, 0.8);
	/* the source sets the pace: it is the bottleneck */
	cr_assert(model.bn.found, "%s", shares());
	cr_assert_eq(model.bn.proc, 0, "%s", shares());
}

/* A source that works 1 ms per message into a middle that needs 2 ms, with
 * small queues: the source is blocked sending about half its time. */
Test(time, a_stage_held_at_the_high_water_mark_is_seen_blocked)
{
	if (zc_under_a_tool())
		cr_skip_test("its assertions are about time: meaningless under valgrind (make test runs it)");
	static const char *const src_o[] = { "--count", "250", "--work-us", "1000", "--size", "2000",
					   "--hwm", "2", "--sockbuf", "4096", NULL };
	static const char *const mid_o[] = { "--count", "250", "--work-us", "2000", "--hwm", "2",
					   "--sockbuf", "4096", NULL };
	static const char *const snk_o[] = { "--count", "250", NULL };
	three_stages(src_o, mid_o, snk_o);
	const struct pl_proc *src = &model.procs[0], *mid = &model.procs[1];
	within_10_percent(0, src->blocked, own_share(0, "send_ns"), "blocked");
	within_10_percent(0, src->working, own_share(0, "work_ns"), "working");
	within_10_percent(1, mid->working, own_share(1, "work_ns"), "working");
	cr_assert(src->blocked > 0.25 && src->blocked < 0.75, "source blocked %.3f", src->blocked);
	cr_assert_eq(model.bn.proc, 1, "bottleneck: stage %zu; %s", model.bn.proc, shares());
}

/* A source at full speed into a middle that takes 500 us a message: the
 * source is blocked nearly all its time, in bursts (libzmq lets a held
 * sender go a few messages at a time: most sends return at once, one in a
 * few waits long). With every call timed the split is the app's own. */
static void full_speed_source(void)
{
	static const char *const src_o[] = { "--count", "2000", "--size", "1000", "--hwm", "10",
					     "--sockbuf", "8192", NULL };
	static const char *const mid_o[] = { "--count", "2000", "--work-us", "500", "--hwm", "10",
					     "--sockbuf", "8192", NULL };
	static const char *const snk_o[] = { "--count", "2000", "--hwm", "10", "--sockbuf", "8192",
					     NULL };
	three_stages(src_o, mid_o, snk_o);
	within_10_percent(0, model.procs[0].blocked, own_share(0, "send_ns"), "blocked");
	within_10_percent(1, model.procs[1].working, own_share(1, "work_ns"), "working");
	within_10_percent(2, model.procs[2].waiting, own_share(2, "recv_ns"), "waiting");
	cr_assert_gt(model.procs[0].blocked, 0.6, "%s", shares());
}

Test(time, a_source_held_in_bursts_is_seen_blocked_when_every_call_is_timed)
{
	if (zc_under_a_tool())
		cr_skip_test("its assertions are about time: meaningless under valgrind (make test runs it)");
	stage_sample = "ZCSHIM_SAMPLE=1";
	full_speed_source();
	cr_assert_eq(model.procs[0].timed, 1.0);
}

/* The same under the default sampling. ZCSHIM_SAMPLE=auto draws each gap
 * from the calls just before it, so after a long (blocked) call it times
 * a fast one of the burst that follows: a mean of the timed calls said
 * blocked 0.69 where the app measured 0.98, in about half the runs. Each
 * timed call weighed by the calls of its gap (shim/sample.c) is the app's. */
Test(time, a_source_held_in_bursts_is_seen_blocked_under_auto_sampling)
{
	if (zc_under_a_tool())
		cr_skip_test("its assertions are about time: meaningless under valgrind (make test runs it)");
	full_speed_source();
}

/* A sink whose first receive waits 400 ms for the source: that wait is in
 * its time, as the app counts it. */
Test(time, a_first_receive_that_waits_long_is_inside_the_callers_time)
{
	if (zc_under_a_tool())
		cr_skip_test("its assertions are about time: meaningless under valgrind (make test runs it)");
	char a[128], a_c[128];
	ipc_ep(a, sizeof a, "@", "a");
	ipc_ep(a_c, sizeof a_c, "", "a");
	start(0, "zcsource", "--out", a, "--count", "50", "--gate", "--hold", NULL);
	wait_line(0, "gate");
	start(1, "zcsink", "--in", a_c, "--count", "50", NULL);
	sleep_ms(400);
	say(0, "\n");
	finish_downstream_first(2);
	build(2);
	const struct pl_proc *snk = &model.procs[1];
	cr_assert_geq(snk->busy_ns, 0.9 * (double)value_of(&stages[1].p, "busy_ns"),
		      "callers' time %.0f ns, the app's %ld", snk->busy_ns,
		      value_of(&stages[1].p, "busy_ns"));
	within_10_percent(1, snk->waiting, own_share(1, "recv_ns"), "waiting");
}

/* The same for a first send that waits for its peer: sends note the caller
 * before the call, as receives do (wrap.h zcs_caller_started). */
Test(time, a_first_send_that_waits_for_its_peer_is_inside_the_callers_time)
{
	if (zc_under_a_tool())
		cr_skip_test("its assertions are about time: meaningless under valgrind (make test runs it)");
	char a[128], a_c[128];
	ipc_ep(a, sizeof a, "@", "a");
	ipc_ep(a_c, sizeof a_c, "", "a");
	start(0, "zcsource", "--out", a, "--count", "50", "--hold", NULL);
	sleep_ms(400); /* the source's first send waits for a peer */
	start(1, "zcsink", "--in", a_c, "--count", "50", NULL);
	finish_downstream_first(2);
	build(2);
	const struct pl_proc *src = &model.procs[0];
	cr_assert_geq(src->busy_ns, 0.9 * (double)value_of(&stages[0].p, "busy_ns"));
	within_10_percent(0, src->blocked, own_share(0, "send_ns"), "blocked");
}

/* ================================================================ pipeline */

TestSuite(pipeline, .init = stages_setup, .fini = stages_teardown, .timeout = 180);

/* The traffic of stage i's socket in endpoint E equals what the stage
 * itself says it sent and received. */
static void side_counts_are_the_apps(const struct pl_endpoint *E, int i, int sends)
{
	const struct pl_side *sd = side_of(E, i);
	if (sends) {
		cr_assert_eq(sd->sent_msgs, (uint64_t)value_of(&stages[i].p, "sent"), "%s stage %d sent",
			     E->name, i);
		cr_assert_eq(sd->sent_bytes, (uint64_t)value_of(&stages[i].p, "sent_bytes"));
	} else {
		cr_assert_eq(sd->recv_msgs, (uint64_t)value_of(&stages[i].p, "received"),
			     "%s stage %d received", E->name, i);
		cr_assert_eq(sd->recv_bytes, (uint64_t)value_of(&stages[i].p, "received_bytes"));
	}
}

/* Source -> middle -> sink over tcp, each bound to the wildcard and reached
 * through localhost; the middle stops reading after its first message, so
 * the source is held at its high-water mark: messages sit in the first
 * endpoint's queues. Then it reads on; at the end nothing is queued, and
 * once all have exited nothing was lost; every count is the stage's own. */
Test(pipeline, in_queues_while_held_at_the_hwm_then_none_and_every_count_the_apps)
{
	char sink_port[16], src_port[16], in[64], out[64];
	start(2, "zcsink", "--in", "@tcp://*:*", "--count", "600", "--hold", NULL);
	start(0, "zcsource", "--out", "@tcp://*:*", "--count", "600", "--size", "1000", "--hwm",
	      "10", "--sockbuf", "8192", "--hold", NULL);
	snprintf(in, sizeof in, "tcp://localhost:%s", bound_port(0, src_port, sizeof src_port));
	snprintf(out, sizeof out, "tcp://127.0.0.1:%s", bound_port(2, sink_port, sizeof sink_port));
	start(1, "zcmiddle", "--in", in, "--out", out, "--count", "600", "--hwm", "10",
	      "--sockbuf", "8192", "--gate", "--hold", NULL);
	wait_line(1, "gate");
	/* held: the source's count stops moving (bounded wait) */
	uint64_t last = UINT64_MAX;
	double stable_since = now_s(), deadline = now_s() + 20;
	for (;;) {
		build(3);
		uint64_t sent = side_of(between(0, 1), 0)->sent_msgs;
		if (sent != last) {
			last = sent;
			stable_since = now_s();
		} else if (now_s() - stable_since > 0.5) {
			break;
		}
		cr_assert_lt(now_s(), deadline, "the source never settled at its high-water mark");
		sleep_ms(50);
	}
	const struct pl_endpoint *first = between(0, 1);
	const struct pl_side *src = side_of(first, 0), *mid = side_of(first, 1);
	cr_assert(first->running && first->p2p);
	cr_assert_lt(src->sent_msgs, 600, "the source was not held: sent all");
	cr_assert_eq(mid->recv_msgs, 1, "the middle took its first message, then waited");
	cr_assert_gt(first->in_queues, 0);
	cr_assert_eq((uint64_t)first->in_queues, src->sent_msgs - mid->recv_msgs);
	cr_assert_eq(first->not_delivered, -1, "nothing is lost while sides run");
	/* the wildcard binds were joined to their localhost and 127.0.0.1
	 * connects, and named by this host's address */
	cr_assert(src->bound && !mid->bound);
	char want[128];
	snprintf(want, sizeof want, "tcp://%s%s%s:%s", strchr(host.address, ':') ? "[" : "",
		 host.address, strchr(host.address, ':') ? "]" : "", src_port);
	cr_assert_str_eq(first->name, want);

	say(1, "\n"); /* the middle reads on */
	for (int i = 0; i < 3; i++)
		wait_line(i, "done");
	build(3);
	for (int k = 0; k < 2; k++) {
		const struct pl_endpoint *E = k ? between(1, 2) : between(0, 1);
		cr_assert(E->running, "%s: every side holds on", E->name);
		cr_assert_eq(E->in_queues, 0, "%s: %lld still queued", E->name,
			     (long long)E->in_queues);
		cr_assert_eq(E->sent_msgs, 600);
		cr_assert_eq(E->recv_msgs, 600);
	}
	/* the command itself, on these live segments: its JSON against the
	 * schema, and the same figures */
	static struct zc_proc cmd;
	char pids[3][16];
	for (int i = 0; i < 3; i++)
		snprintf(pids[i], sizeof pids[i], "%d", (int)stages[i].p.pid);
	const char *stat_argv[] = { "zcshim-stat", "--pipeline", "--json", pids[0], pids[1],
				    pids[2], NULL };
	cr_assert_eq(zc_run(&cmd, 0, NULL, stat_argv), 0, "%s", cmd.err);
	char json_path[96];
	snprintf(json_path, sizeof json_path, "%s-out.json", ipc_dir);
	FILE *jf = fopen(json_path, "w");
	cr_assert_not_null(jf);
	fputs(cmd.out, jf);
	fclose(jf);
	const char *schema[] = { "/usr/bin/env", "python3", "tests/pipeline-schema.py", json_path,
				 NULL };
	int schema_rc = zc_run(&cmd, 0, NULL, schema);
	unlink(json_path);
	cr_assert_eq(schema_rc, 0, "%s%s", cmd.err, cmd.out);
	cr_assert(strstr(cmd.out, "\nd0.endpoints.0.in_queues=0\n") &&
			  strstr(cmd.out, "\nd0.endpoints.1.in_queues=0\n") &&
			  strstr(cmd.out, "\nd0.endpoints.0.sent.messages=600\n") &&
			  strstr(cmd.out, "\nd0.endpoints.1.received.messages=600\n"),
		  "%s", cmd.out);
	for (int i = 0; i < 3; i++)
		finish(i);
	build(3);
	const struct pl_endpoint *a = between(0, 1), *b = between(1, 2);
	cr_assert(!a->running && !b->running);
	cr_assert_eq(a->not_delivered, 0);
	cr_assert_eq(b->not_delivered, 0);
	cr_assert_eq(a->in_queues, 0);
	side_counts_are_the_apps(a, 0, 1);
	side_counts_are_the_apps(a, 1, 0);
	side_counts_are_the_apps(b, 1, 1);
	side_counts_are_the_apps(b, 2, 0);
	cr_assert_eq(value_of(&stages[2].p, "received"), 600);
	cr_assert_eq(model.neps, 2, "two endpoints, not more");
}

/* A source that queues 200 x 64 KiB for a receiver that has stopped
 * reading, then closes with ZMQ_LINGER 0: libzmq drops what it still
 * held. What the apps lost (sent - received, by their own counts) is what
 * --pipeline says was not delivered. */
Test(pipeline, not_delivered_is_what_the_apps_lost)
{
	char port[16], in[64];
	start(0, "zcsource", "--out", "@tcp://*:*", "--count", "200", "--size", "65536", "--hwm",
	      "1000", "--sockbuf", "65536", "--linger", "0", "--gate", NULL);
	snprintf(in, sizeof in, "tcp://localhost:%s", bound_port(0, port, sizeof port));
	start(1, "zcsink", "--in", in, "--count", "200", "--hwm", "5", "--sockbuf", "65536",
	      "--idle-ms", "1000", "--gate", NULL);
	sleep_ms(300);
	say(0, "\n");
	wait_line(1, "gate");
	finish(0); /* sent everything into its queue, closed with linger 0, exited */
	say(1, "\n");
	finish(1);
	long sent = value_of(&stages[0].p, "sent"), got = value_of(&stages[1].p, "received");
	cr_assert_eq(sent, 200);
	cr_assert_gt(sent - got, 0, "nothing was lost: the test proves nothing (got %ld)", got);
	build(2);
	const struct pl_endpoint *E = between(0, 1);
	cr_assert(!E->running);
	cr_assert_eq(E->not_delivered, sent - got, "not delivered %lld, the apps lost %ld",
		     (long long)E->not_delivered, sent - got);
	side_counts_are_the_apps(E, 0, 1);
	side_counts_are_the_apps(E, 1, 0);
}

/* A PUB into a subscriber that takes 200 us a message: the PUB drops at its
 * high-water mark. Published and got are the apps' own counts. */
Test(pipeline, a_pub_with_a_slow_subscriber_shows_published_and_got)
{
	if (zc_under_a_tool())
		cr_skip_test("it orders processes by sleeping: meaningless under valgrind (make test runs it)");
	char port[16], in[64];
	start(0, "zcsource", "--pattern", "pub", "--out", "@tcp://*:*", "--count", "3000",
	      "--hwm", "50", "--gate", NULL);
	snprintf(in, sizeof in, "tcp://localhost:%s", bound_port(0, port, sizeof port));
	/* linger 0: a SUB whose PUB has gone would wait for ever at its end to
	 * deliver its subscription (libzmq's default linger is infinite) */
	start(1, "zcsink", "--pattern", "pub", "--in", in, "--count", "3000", "--hwm", "50",
	      "--work-us", "200", "--idle-ms", "1000", "--linger", "0", NULL);
	sleep_ms(500); /* the subscription reaches the PUB */
	say(0, "\n");
	finish(0);
	finish(1);
	build(2);
	const struct pl_endpoint *E = between(0, 1);
	cr_assert(E->fanout);
	cr_assert_str_eq(E->pattern, "pub/sub");
	long published = value_of(&stages[0].p, "sent"), got = value_of(&stages[1].p, "received");
	cr_assert_eq(E->sent_msgs, (uint64_t)published);
	const struct pl_side *sub = side_of(E, 1);
	cr_assert_eq(sub->recv_msgs, (uint64_t)got);
	cr_assert_eq(sub->missed, published - got);
	cr_assert(got > 0 && got < published, "the subscriber was not slow: got %ld of %ld", got,
		  published);
	cr_assert_eq(E->in_queues, -1, "no in-queue count for a fan-out");
	cr_assert_eq(E->not_delivered, -1);
}

/* One wildcard bind; one process connects through localhost, another
 * through 127.0.0.1, a third to the same port on an address that is not
 * this host's (a different host's endpoint): the first two are sides of
 * the bind's endpoint, the third is not. */
Test(pipeline, a_wildcard_bind_is_joined_to_localhost_connects_only)
{
	if (zc_under_a_tool())
		cr_skip_test("it orders processes by sleeping: meaningless under valgrind (make test runs it)");
	char port[16], c1[64], c2[64], c3[64];
	start(0, "zcsource", "--out", "@tcp://*:*", "--count", "40", "--hwm", "0", "--gate",
	      "--hold", NULL);
	bound_port(0, port, sizeof port);
	snprintf(c1, sizeof c1, "tcp://localhost:%s", port);
	snprintf(c2, sizeof c2, "tcp://127.0.0.1:%s", port);
	/* TEST-NET-3 (RFC 5737): an address of nobody's */
	cr_assert_eq(pl_match("tcp://203.0.113.7:1", 0, "tcp://0.0.0.0:1", 0, 1, 0, &host), 0,
		     "this host has 203.0.113.7: pick another address for the test");
	snprintf(c3, sizeof c3, "tcp://203.0.113.7:%s", port);
	start(1, "zcsink", "--in", c1, "--count", "20", NULL);
	start(2, "zcsink", "--in", c2, "--count", "20", NULL);
	start(3, "zcsink", "--in", c3, "--count", "1", "--idle-ms", "300", "--linger", "0", NULL);
	sleep_ms(300); /* both connected: the PUSH deals 20 to each */
	say(0, "\n");
	finish(3);
	finish(2);
	finish(1);
	finish(0);
	build(4);
	const struct pl_endpoint *E = between(0, 1);
	cr_assert_eq(E, between(0, 2));
	cr_assert_eq(E->nsides, 3);
	cr_assert(side_of(E, 0)->bound && !side_of(E, 1)->bound && !side_of(E, 2)->bound);
	cr_assert_eq(E->sent_msgs, 40);
	cr_assert_eq(E->recv_msgs, 40);
	cr_assert_eq(E->not_delivered, 0);
	cr_assert_eq(model.neps, 2, "the unreachable connect is an endpoint of its own");
	for (size_t k = 0; k < E->nsides; k++)
		cr_assert_neq(model.sides[E->first_side + k].proc, 3);
}

/* The bottleneck, in two layouts of the same three stages. */
static void layout(const char *middle_us, const char *sink_us, size_t want)
{
	const char *const src[] = { "--count", "300", "--size", "1000", "--hwm", "5", "--sockbuf",
				    "4096", NULL };
	const char *const mid[] = { "--count", "300", "--hwm", "5", "--sockbuf", "4096",
				    "--work-us", middle_us, NULL };
	const char *const snk[] = { "--count", "300", "--hwm", "5", "--sockbuf", "4096",
				    "--work-us", sink_us, NULL };
	three_stages(src, mid, snk);
	const struct pl_bottleneck *bn = &model.bn;
	cr_assert(bn->found, "no bottleneck named; %s", shares());
	cr_assert_eq(bn->proc, want, "bottleneck: stage %zu (%s), want %zu; %s", bn->proc,
		     model.procs[bn->proc].s->hdr.exe, want, shares());
	cr_assert_eq(bn->up_proc, (long)want - 1, "upstream");
	cr_assert_eq(bn->down_proc, want == 2 ? -1 : (long)want + 1, "downstream");
}

Test(pipeline, the_bottleneck_is_a_slow_middle)
{
	if (zc_under_a_tool())
		cr_skip_test("its assertions are about time: meaningless under valgrind (make test runs it)");
	layout("2000", "0", 1);
}

Test(pipeline, the_bottleneck_is_a_slow_sink)
{
	if (zc_under_a_tool())
		cr_skip_test("its assertions are about time: meaningless under valgrind (make test runs it)");
	layout("0", "2000", 2);
}
