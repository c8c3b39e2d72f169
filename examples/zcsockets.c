/*
 * zcsockets - the bundled example for the per-socket view: three sockets,
 * each with a story zcshim can tell and libzmq cannot.
 *
 *   orders  PUSH over tcp, 64 KiB zero-copy buffers, ZMQ_DONTWAIT, high-water
 *           mark 50, to a worker that only starts reading after a while: the
 *           sender meets EAGAIN (libzmq's HWM, reported nowhere else), keeps
 *           its message (a failed send leaves it to the caller) and retries;
 *           meanwhile the buffers queued in libzmq stay pinned in memory.
 *   jobs    DEALER over inproc, 200 B zero-copy frames (as rust-zmq sends a
 *           Vec<u8> and Ruby's ffi-rzmq a string; czmq copies), to a ROUTER
 *           on a worker thread; below 64k, so with ZCSHIM_THRESHOLD=64k
 *           they go as copies.
 *   events  PUB over ipc, copies with zmq_send and no subscriber, closed
 *           before the others: its figures stay.
 *
 * Run it under libzcshim.so (examples/demo.sh does) and look with
 * `zcshim-stat --by socket <pid>`. It prints its own counts, to check the
 * shim's against.
 *
 * Usage: zcsockets [ORDERS [JOBS]]
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define ORDER_BYTES (64 << 10)
#define JOB_BYTES   200
#define EVENTS      1000
#define HWM         50

static long freed;

static void free_buffer(void *data, void *hint)
{
	(void)hint;
	free(data);
	__atomic_add_fetch(&freed, 1, __ATOMIC_RELAXED);
}

static void die(const char *what)
{
	fprintf(stderr, "zcsockets: %s: %s\n", what, zmq_strerror(zmq_errno()));
	exit(1);
}

static void zerocopy_msg(zmq_msg_t *m, size_t bytes)
{
	char *buf = malloc(bytes);
	if (!buf)
		die("malloc");
	memset(buf, 'z', bytes);
	if (zmq_msg_init_data(m, buf, bytes, free_buffer, NULL) != 0)
		die("zmq_msg_init_data");
}

struct worker {
	void *ctx;
	char endpoint[256];
	int type;          /* ZMQ_PULL or ZMQ_ROUTER */
	long expect;       /* messages (ROUTER: routing id + body) */
	unsigned delay_ms; /* before the first read */
	long got;
	pthread_t thread;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	void *s = zmq_socket(w->ctx, w->type);
	int hwm = HWM;
	zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
	if (!s || zmq_connect(s, w->endpoint) != 0)
		die(w->endpoint);
	nanosleep(&(struct timespec){ w->delay_ms / 1000, (long)(w->delay_ms % 1000) * 1000000 },
		  NULL);
	zmq_msg_t m;
	zmq_msg_init(&m);
	while (w->got < w->expect && zmq_msg_recv(&m, s, 0) >= 0)
		w->got += !zmq_msg_more(&m);
	zmq_msg_close(&m);
	zmq_close(s);
	return NULL;
}

static void bind_to(void *s, const char *endpoint, char *actual, size_t len)
{
	if (!s || zmq_bind(s, endpoint) != 0 ||
	    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, actual, &len) != 0)
		die(endpoint);
}

int main(int argc, char **argv)
{
	long orders = argc > 1 ? atol(argv[1]) : 2000;
	long jobs = argc > 2 ? atol(argv[2]) : 20000;
	void *ctx = zmq_ctx_new();
	int hwm = HWM;

	struct worker ow = { .ctx = ctx, .type = ZMQ_PULL, .expect = orders, .delay_ms = 200 };
	void *push = zmq_socket(ctx, ZMQ_PUSH);
	if (!push || zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0)
		die("orders");
	bind_to(push, "tcp://127.0.0.1:*", ow.endpoint, sizeof ow.endpoint);
	struct worker jw = { .ctx = ctx, .type = ZMQ_ROUTER, .expect = jobs };
	void *dealer = zmq_socket(ctx, ZMQ_DEALER);
	bind_to(dealer, "inproc://jobs", jw.endpoint, sizeof jw.endpoint);
	void *pub = zmq_socket(ctx, ZMQ_PUB);
	char events_ep[256];
	bind_to(pub, "ipc://@zcsockets-events", events_ep, sizeof events_ep);
	pthread_create(&ow.thread, NULL, work, &ow);
	pthread_create(&jw.thread, NULL, work, &jw);

	/* events: copies nobody subscribes to, then the socket is closed */
	for (int i = 0; i < EVENTS; i++)
		zmq_send(pub, "tick", 4, 0);
	zmq_close(pub);

	/* orders: on EAGAIN the message is still ours: wait a little, retry */
	long eagain = 0;
	for (long i = 0; i < orders; i++) {
		zmq_msg_t m;
		zerocopy_msg(&m, ORDER_BYTES);
		while (zmq_msg_send(&m, push, ZMQ_DONTWAIT) < 0) {
			if (errno != EAGAIN)
				die("orders: zmq_msg_send");
			eagain++;
			nanosleep(&(struct timespec){ 0, 100000 }, NULL);
		}
	}

	/* jobs: small frames, zero-copy as a binding would send a string */
	for (long i = 0; i < jobs; i++) {
		zmq_msg_t m;
		zerocopy_msg(&m, JOB_BYTES);
		if (zmq_msg_send(&m, dealer, 0) < 0)
			die("jobs: zmq_msg_send");
	}

	pthread_join(ow.thread, NULL);
	pthread_join(jw.thread, NULL);
	zmq_close(push);
	zmq_close(dealer);
	zmq_ctx_term(ctx);
	printf("zcsockets: pid %d: orders %ld x %d B (EAGAIN %ld times), jobs %ld x %d B, "
	       "events %d; received %ld orders, %ld jobs; %ld buffers freed\n",
	       (int)getpid(), orders, ORDER_BYTES, eagain, jobs, JOB_BYTES, EVENTS, ow.got,
	       jw.got, freed);
	return ow.got == orders && jw.got == jobs && freed == orders + jobs ? 0 : 1;
}
