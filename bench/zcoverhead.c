/*
 * zcoverhead - what libzcshim.so adds to one intercepted libzmq call.
 *
 * Run under LD_PRELOAD=libzcshim.so, every loop is timed twice in the same
 * process, batch after batch alternately: once calling libzmq's own entry
 * points (looked up in libzmq.so.5 with libc's dlsym, so the shim is
 * bypassed: libzmq_own.h) and
 * once calling the same names as an app does (so the shim's wrappers run).
 * The median of the paired batch differences, divided by the intercepted
 * calls per iteration, is the ns the shim adds per call; pairing adjacent
 * batches cancels the drift of a shared machine. Without the preload both
 * sides are libzmq, and the difference shows the noise floor.
 *
 * Loops avoid the network and other threads: sends go to a PUB socket with
 * no subscriber, which libzmq drops at once (closing the message, so a
 * zero-copy ffn runs inside the send, as whenever libzmq drops a message).
 *
 *   init_close     zmq_msg_init_data (ffn) + zmq_msg_close      1 call
 *   send           zmq_send, copied                            1 call
 *   msg_send_copy  zmq_msg_init_size + memcpy + zmq_msg_send   1 call
 *   msg_send_zc    zmq_msg_init_data (ffn) + zmq_msg_send      2 calls
 *   recv           zmq_recv of a message already queued (inproc)   1 call
 *   msg_recv       zmq_msg_recv, likewise                          1 call
 *   pp_<tr>_copy   PUSH/PULL over inproc or ipc to a receiver thread of
 *   pp_<tr>_zc     the same process: the time until the receiver has all
 *                  of a batch, so direct/shim is the msgs/s ratio the shim
 *                  costs (copy: zmq_send; zc: init_data + zmq_msg_send);
 *                  the receiver uses the same side's zmq_msg_recv (with
 *                  --drain-direct, libzmq's own: only the sends recorded)
 *   send_x<K>      with --threads K[,K...]: K threads at once, each
 *                  zmq_send copying to a PUB socket of its own, direct and
 *                  shimmed batches in lockstep; each batch timed in its
 *                  thread's CPU time (16 threads on 2 cores are not
 *                  charged for waiting their turn), averaged over threads.
 *                  What sharing the shim's counters between threads
 *                  costs shows here. --op threads: these rows only.
 *
 * Output: CSV op,calls,bytes,direct_ns,shim_ns,added_ns_per_call,
 * iterations,pairs,shim_mode,tag,speed_ratio (ns per iteration are
 * medians; speed_ratio is the median over pairs of direct_ns / shim_ns).
 */
#include <dlfcn.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "libzmq_own.h"

#define MAX_PAIRS 1001
#define MAX_THREADS 64

struct api {
	int (*init_data)(zmq_msg_t *, void *, size_t, zmq_free_fn *, void *);
	int (*init_size)(zmq_msg_t *, size_t);
	int (*close)(zmq_msg_t *);
	void *(*data)(zmq_msg_t *);
	int (*send)(void *, const void *, size_t, int);
	int (*msg_send)(zmq_msg_t *, void *, int);
	int (*recv)(void *, void *, size_t, int);
	int (*msg_recv)(zmq_msg_t *, void *, int);
};

static unsigned long ffn_runs;
static char payload[1 << 16];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count_ffn(void *data, void *hint)
{
	(void)data;
	(void)hint;
	__atomic_add_fetch(&ffn_runs, 1, __ATOMIC_RELAXED); /* may run on another thread */
}

static void fail(const char *what)
{
	fprintf(stderr, "zcoverhead: %s: %s\n", what, zmq_strerror(zmq_errno()));
	exit(1);
}

static void op_init_close(const struct api *a, void *pub, size_t bytes, long n)
{
	(void)pub;
	zmq_msg_t m;
	for (long i = 0; i < n; i++) {
		if (a->init_data(&m, payload, bytes, count_ffn, NULL) != 0)
			fail("zmq_msg_init_data");
		a->close(&m);
	}
}

static void op_send(const struct api *a, void *pub, size_t bytes, long n)
{
	for (long i = 0; i < n; i++)
		if (a->send(pub, payload, bytes, 0) < 0)
			fail("zmq_send");
}

static void op_msg_send_copy(const struct api *a, void *pub, size_t bytes, long n)
{
	zmq_msg_t m;
	for (long i = 0; i < n; i++) {
		if (a->init_size(&m, bytes) != 0)
			fail("zmq_msg_init_size");
		memcpy(a->data(&m), payload, bytes);
		if (a->msg_send(&m, pub, 0) < 0)
			fail("zmq_msg_send");
	}
}

static void op_msg_send_zc(const struct api *a, void *pub, size_t bytes, long n)
{
	zmq_msg_t m;
	for (long i = 0; i < n; i++) {
		if (a->init_data(&m, payload, bytes, count_ffn, NULL) != 0)
			fail("zmq_msg_init_data");
		if (a->msg_send(&m, pub, 0) < 0)
			fail("zmq_msg_send");
	}
}

/* A queue of n messages waiting on a PULL socket (inproc, no HWM), filled
 * with libzmq's own zmq_send before a receive batch is timed. */
static struct {
	void *push, *pull;
	const struct api *direct;
} queue;

static void queue_fill(size_t bytes, long n)
{
	for (long i = 0; i < n; i++)
		if (queue.direct->send(queue.push, payload, bytes, 0) < 0)
			fail("zmq_send (queue)");
}

static void op_recv(const struct api *a, void *pub, size_t bytes, long n)
{
	(void)pub;
	(void)bytes;
	char buf[1 << 16];
	for (long i = 0; i < n; i++)
		if (a->recv(queue.pull, buf, sizeof buf, 0) < 0)
			fail("zmq_recv");
}

static void op_msg_recv(const struct api *a, void *pub, size_t bytes, long n)
{
	(void)pub;
	(void)bytes;
	zmq_msg_t m;
	zmq_msg_init(&m);
	for (long i = 0; i < n; i++)
		if (a->msg_recv(&m, queue.pull, 0) < 0)
			fail("zmq_msg_recv");
	zmq_msg_close(&m);
}

/* A PUSH socket and the thread that drains its PULL peer. */
struct pushpull {
	const char *endpoint;
	void *push;
	void *pull;
	pthread_t thread;
	const struct api *api; /* the side being timed: the drain receives with it */
	long received;      /* by the drain thread, atomic */
	long expected;      /* sent so far, by the timing thread */
};

/* --drain-direct: the receiver always takes libzmq's own zmq_msg_recv. */
static const struct api *drain_only;

static struct pushpull pp_inproc = { .endpoint = "inproc://zcoverhead-pp" };
static struct pushpull pp_ipc = { .endpoint = "ipc://@zcoverhead-pp" };

static void *drain(void *arg)
{
	struct pushpull *pp = arg;
	zmq_msg_t m;
	zmq_msg_init(&m);
	for (;;) {
		const struct api *a = __atomic_load_n(&pp->api, __ATOMIC_ACQUIRE);
		if (drain_only)
			a = drain_only;
		if (a->msg_recv(&m, pp->pull, 0) < 0)
			break;
		if (zmq_msg_size(&m) == 0)
			break;
		__atomic_add_fetch(&pp->received, 1, __ATOMIC_RELEASE);
	}
	zmq_msg_close(&m);
	return NULL;
}

static void pushpull_open(void *ctx, struct pushpull *pp)
{
	pp->push = zmq_socket(ctx, ZMQ_PUSH);
	pp->pull = zmq_socket(ctx, ZMQ_PULL);
	if (!pp->push || !pp->pull || zmq_bind(pp->pull, pp->endpoint) != 0 ||
	    zmq_connect(pp->push, pp->endpoint) != 0)
		fail(pp->endpoint);
	if (pthread_create(&pp->thread, NULL, drain, pp) != 0)
		fail("pthread_create");
}

static void pushpull_close(struct pushpull *pp)
{
	zmq_send(pp->push, "", 0, 0);
	pthread_join(pp->thread, NULL);
	int linger = 0;
	zmq_setsockopt(pp->push, ZMQ_LINGER, &linger, sizeof linger);
	zmq_close(pp->push);
	zmq_close(pp->pull);
}

/* Send n, then wait until the drain thread has them all. */
static void pushpull_batch(const struct api *a, struct pushpull *pp, int zc, size_t bytes, long n)
{
	zmq_msg_t m;
	__atomic_store_n(&pp->api, a, __ATOMIC_RELEASE);
	for (long i = 0; i < n; i++) {
		if (zc) {
			if (a->init_data(&m, payload, bytes, count_ffn, NULL) != 0)
				fail("zmq_msg_init_data");
			if (a->msg_send(&m, pp->push, 0) < 0)
				fail("zmq_msg_send");
		} else if (a->send(pp->push, payload, bytes, 0) < 0) {
			fail("zmq_send");
		}
	}
	pp->expected += n;
	while (__atomic_load_n(&pp->received, __ATOMIC_ACQUIRE) < pp->expected)
		sched_yield();
}

static void op_pp_inproc_copy(const struct api *a, void *pub, size_t bytes, long n)
{
	(void)pub;
	pushpull_batch(a, &pp_inproc, 0, bytes, n);
}

static void op_pp_inproc_zc(const struct api *a, void *pub, size_t bytes, long n)
{
	(void)pub;
	pushpull_batch(a, &pp_inproc, 1, bytes, n);
}

static void op_pp_ipc_copy(const struct api *a, void *pub, size_t bytes, long n)
{
	(void)pub;
	pushpull_batch(a, &pp_ipc, 0, bytes, n);
}

static void op_pp_ipc_zc(const struct api *a, void *pub, size_t bytes, long n)
{
	(void)pub;
	pushpull_batch(a, &pp_ipc, 1, bytes, n);
}

static const struct {
	const char *name;
	int calls; /* intercepted calls per iteration */
	void (*run)(const struct api *a, void *pub, size_t bytes, long n);
	void (*prepare)(size_t bytes, long n); /* before a batch, not timed */
} ops[] = {
	{ "init_close", 1, op_init_close, NULL },
	{ "send", 1, op_send, NULL },
	{ "msg_send_copy", 1, op_msg_send_copy, NULL },
	{ "msg_send_zc", 2, op_msg_send_zc, NULL },
	{ "recv", 1, op_recv, queue_fill },
	{ "msg_recv", 1, op_msg_recv, queue_fill },
	{ "pp_inproc_copy", 1, op_pp_inproc_copy, NULL },
	{ "pp_inproc_zc", 2, op_pp_inproc_zc, NULL },
	{ "pp_ipc_copy", 1, op_pp_ipc_copy, NULL },
	{ "pp_ipc_zc", 2, op_pp_ipc_zc, NULL },
};

/* The names as the app sees them: the shim's wrappers when preloaded. */
static const struct api app_api = {
	zmq_msg_init_data, zmq_msg_init_size, zmq_msg_close, zmq_msg_data,
	zmq_send, zmq_msg_send, zmq_recv, zmq_msg_recv,
};

/* libzmq's own, bypassing any interposer. */
static void direct_api(struct api *a)
{
	*(void **)&a->init_data = libzmq_own("zmq_msg_init_data");
	*(void **)&a->init_size = libzmq_own("zmq_msg_init_size");
	*(void **)&a->close = libzmq_own("zmq_msg_close");
	*(void **)&a->data = libzmq_own("zmq_msg_data");
	*(void **)&a->send = libzmq_own("zmq_send");
	*(void **)&a->msg_send = libzmq_own("zmq_msg_send");
	*(void **)&a->recv = libzmq_own("zmq_recv");
	*(void **)&a->msg_recv = libzmq_own("zmq_msg_recv");
	if (!a->init_data || !a->init_size || !a->close || !a->data || !a->send || !a->msg_send ||
	    !a->recv || !a->msg_recv) {
		fprintf(stderr, "zcoverhead: libzmq symbols missing\n");
		exit(1);
	}
}

static const char *shim_mode(const struct api *direct)
{
	if ((void *)direct->msg_send == (void *)app_api.msg_send)
		return "none";
	/* the shim's rule: ZCSHIM_MODE if given, else convert when a threshold
	 * is, else profile */
	const char *m = getenv("ZCSHIM_MODE"), *t = getenv("ZCSHIM_THRESHOLD");
	return m && *m ? m : t && *t ? "convert" : "profile";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double batch_ns(const struct api *a, int k, void *pub, size_t bytes, long n)
{
	if (ops[k].prepare)
		ops[k].prepare(bytes, n);
	uint64_t t0 = now_ns();
	ops[k].run(a, pub, bytes, n);
	return (double)(now_ns() - t0) / (double)n;
}

/* ---- K sending threads */

struct sender {
	pthread_t t;
	void *pub;
	double d_ns[MAX_PAIRS], s_ns[MAX_PAIRS]; /* CPU ns per call, by pair */
};

static struct {
	const struct api *direct;
	size_t bytes;
	long n;
	int pairs;
	pthread_barrier_t step;
	struct sender s[MAX_THREADS];
} team;

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double sender_batch(const struct api *a, void *pub, long n)
{
	uint64_t t0 = cpu_ns();
	op_send(a, pub, team.bytes, n);
	return (double)(cpu_ns() - t0) / (double)n;
}

static void *sender_run(void *arg)
{
	struct sender *me = arg;
	/* warm both paths: the shim claims this thread's shard here */
	op_send(&app_api, me->pub, team.bytes, 2000);
	op_send(team.direct, me->pub, team.bytes, 2000);
	for (int i = 0; i < team.pairs; i++) {
		/* every thread on the same side at once, alternating which first */
		pthread_barrier_wait(&team.step);
		if (i % 2)
			me->s_ns[i] = sender_batch(&app_api, me->pub, team.n);
		else
			me->d_ns[i] = sender_batch(team.direct, me->pub, team.n);
		pthread_barrier_wait(&team.step);
		if (i % 2)
			me->d_ns[i] = sender_batch(team.direct, me->pub, team.n);
		else
			me->s_ns[i] = sender_batch(&app_api, me->pub, team.n);
	}
	return NULL;
}

/* One row, send_x<k>: k threads sending at once. */
static void run_threads(void *ctx, const struct api *direct, int k, size_t bytes,
			double batch_ms, int pairs, const char *mode, const char *tag)
{
	team.direct = direct;
	team.bytes = bytes;
	team.pairs = pairs;
	for (int i = 0; i < k; i++) {
		char ep[64];
		snprintf(ep, sizeof ep, "inproc://zcoverhead-x%d-%d", k, i);
		team.s[i].pub = zmq_socket(ctx, ZMQ_PUB);
		if (!team.s[i].pub || zmq_bind(team.s[i].pub, ep) != 0)
			fail("PUB socket");
	}
	/* a batch: about batch_ms of one thread's CPU */
	op_send(&app_api, team.s[0].pub, bytes, 2000);
	double per = sender_batch(&app_api, team.s[0].pub, 20000);
	team.n = (long)(batch_ms * 1e6 / (per > 1 ? per : 1));
	if (team.n < 1000)
		team.n = 1000;
	pthread_barrier_init(&team.step, NULL, (unsigned)k);
	for (int i = 0; i < k; i++)
		if (pthread_create(&team.s[i].t, NULL, sender_run, &team.s[i]) != 0)
			fail("pthread_create");
	for (int i = 0; i < k; i++)
		pthread_join(team.s[i].t, NULL);
	pthread_barrier_destroy(&team.step);
	static double d[MAX_PAIRS], sh[MAX_PAIRS], diff[MAX_PAIRS], ratio[MAX_PAIRS];
	for (int p = 0; p < pairs; p++) {
		d[p] = sh[p] = 0;
		for (int i = 0; i < k; i++) {
			d[p] += team.s[i].d_ns[p] / k;
			sh[p] += team.s[i].s_ns[p] / k;
		}
		diff[p] = sh[p] - d[p];
		ratio[p] = d[p] / sh[p];
	}
	double added = median(diff, pairs);
	printf("send_x%d,1,%zu,%.2f,%.2f,%.2f,%ld,%d,%s,%s,%.4f\n", k, bytes, median(d, pairs),
	       median(sh, pairs), added, team.n, pairs, mode, tag, median(ratio, pairs));
	fflush(stdout);
	for (int i = 0; i < k; i++)
		zmq_close(team.s[i].pub);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bytes", required_argument, NULL, 'b' },
		{ "ms", required_argument, NULL, 'm' },
		{ "pairs", required_argument, NULL, 'p' },
		{ "tag", required_argument, NULL, 't' },
		{ "op", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 'T' },
		{ "no-header", no_argument, NULL, 'H' },
		{ "drain-direct", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t bytes = 100;
	double batch_ms = 10;
	int pairs = 21, header = 1, drain_direct = 0, c;
	const char *tag = "", *only_op = NULL;
	int threads[16], nthreads = 0;
	while ((c = getopt_long(argc, argv, "b:m:p:t:o:T:HDh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': bytes = strtoul(optarg, NULL, 10); break;
		case 'm': batch_ms = strtod(optarg, NULL); break;
		case 'p': pairs = atoi(optarg); break;
		case 't': tag = optarg; break;
		case 'o': only_op = optarg; break;
		case 'T':
			for (char *t = strtok(optarg, ","); t; t = strtok(NULL, ",")) {
				int k = atoi(t);
				if (k < 1 || k > MAX_THREADS || nthreads == 16) {
					fprintf(stderr, "zcoverhead: --threads: 1 to %d, at most 16 "
							"counts, not '%s'\n", MAX_THREADS, t);
					return 2;
				}
				threads[nthreads++] = k;
			}
			break;
		case 'H': header = 0; break;
		case 'D': drain_direct = 1; break;
		case 'h':
			printf("Usage: zcoverhead [--bytes B] [--ms MS] [--pairs N] [--op NAME|threads]\n"
			       "                  [--threads K[,K...]] [--tag T] [--no-header] [--drain-direct]\n"
			       "Run under LD_PRELOAD=libzcshim.so: ns the shim adds per intercepted call,\n"
			       "from alternating batches of direct and interposed libzmq calls;\n"
			       "--threads: also with K threads sending at once (rows send_x<K>);\n"
			       "--drain-direct: pp_* receivers call libzmq directly (sends recorded only).\n");
			return 0;
		default: return 2;
		}
	}
	if (bytes < 1 || bytes > sizeof payload || pairs < 1 || pairs > MAX_PAIRS ||
	    !(batch_ms > 0 && batch_ms < 10000)) {
		fprintf(stderr, "zcoverhead: want 1 <= --bytes <= %zu, 1 <= --pairs <= %d, --ms in (0, 10000)\n",
			sizeof payload, MAX_PAIRS);
		return 2;
	}
	memset(payload, 'o', sizeof payload);
	struct api direct;
	direct_api(&direct);
	void *ctx = zmq_ctx_new();
	void *pub = ctx ? zmq_socket(ctx, ZMQ_PUB) : NULL;
	if (!pub || zmq_bind(pub, "inproc://zcoverhead") != 0)
		fail("PUB socket");
	pp_inproc.api = pp_ipc.api = &direct;
	if (drain_direct)
		drain_only = &direct;
	pushpull_open(ctx, &pp_inproc);
	pushpull_open(ctx, &pp_ipc);
	int hwm = 0;
	queue.direct = &direct;
	queue.push = zmq_socket(ctx, ZMQ_PUSH);
	queue.pull = zmq_socket(ctx, ZMQ_PULL);
	if (!queue.push || !queue.pull ||
	    zmq_setsockopt(queue.push, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
	    zmq_setsockopt(queue.pull, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
	    zmq_bind(queue.pull, "inproc://zcoverhead-queue") != 0 ||
	    zmq_connect(queue.push, "inproc://zcoverhead-queue") != 0)
		fail("queue sockets");
	const char *mode = shim_mode(&direct);
	static double d_ns[MAX_PAIRS], s_ns[MAX_PAIRS], diff_ns[MAX_PAIRS], ratio[MAX_PAIRS];
	if (header)
		printf("op,calls,bytes,direct_ns,shim_ns,added_ns_per_call,iterations,pairs,shim_mode,tag,speed_ratio\n");
	for (int k = 0; k < (int)(sizeof ops / sizeof ops[0]); k++) {
		if (only_op && strcmp(only_op, ops[k].name) != 0)
			continue;
		/* Warm both paths up (the shim makes its segment on its first
		 * record), then size a batch to about batch_ms. */
		if (ops[k].prepare)
			ops[k].prepare(bytes, 4000);
		ops[k].run(&app_api, pub, bytes, 2000);
		ops[k].run(&direct, pub, bytes, 2000);
		double per = batch_ns(&app_api, k, pub, bytes, 20000);
		long n = (long)(batch_ms * 1e6 / (per > 1 ? per : 1));
		if (n < 1000)
			n = 1000;
		for (int i = 0; i < pairs; i++) {
			/* alternate which goes first, so neither always follows the other */
			if (i % 2) {
				s_ns[i] = batch_ns(&app_api, k, pub, bytes, n);
				d_ns[i] = batch_ns(&direct, k, pub, bytes, n);
			} else {
				d_ns[i] = batch_ns(&direct, k, pub, bytes, n);
				s_ns[i] = batch_ns(&app_api, k, pub, bytes, n);
			}
			diff_ns[i] = s_ns[i] - d_ns[i];
			ratio[i] = d_ns[i] / s_ns[i];
		}
		double added = median(diff_ns, pairs) / ops[k].calls;
		printf("%s,%d,%zu,%.2f,%.2f,%.2f,%ld,%d,%s,%s,%.4f\n", ops[k].name, ops[k].calls, bytes,
		       median(d_ns, pairs), median(s_ns, pairs), added, n, pairs, mode, tag,
		       median(ratio, pairs));
		fflush(stdout);
	}
	for (int i = 0; i < nthreads && (!only_op || !strcmp(only_op, "threads")); i++)
		run_threads(ctx, &direct, threads[i], bytes, batch_ms, pairs, mode, tag);
	if (only_op && !strcmp(only_op, "threads"))
		ffn_runs++; /* no zero-copy op ran: nothing to check */
	pushpull_close(&pp_inproc);
	pushpull_close(&pp_ipc);
	zmq_close(queue.push);
	zmq_close(queue.pull);
	zmq_close(pub);
	zmq_ctx_term(ctx);
	return ffn_runs ? 0 : 1;
}
