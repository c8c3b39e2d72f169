/*
 * zcdemo - the bundled example: a small ZeroMQ app that sends zero-copy.
 *
 * A PUSH socket sends 100 B and 1 MiB messages with zmq_msg_init_data and a
 * free callback (the zero-copy API), plus a few plain zmq_send copies, to a
 * PULL socket on a receiver thread over tcp loopback. Run it under
 * libzcshim.so (examples/demo.sh does) and look with zcshim-stat.
 *
 * Usage: zcdemo [SMALL_COUNT [LARGE_COUNT]]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define SMALL_BYTES 100
#define LARGE_BYTES (1 << 20)
#define COPIES      100

static int freed;

static void free_buffer(void *data, void *hint)
{
	(void)hint;
	free(data);
	__atomic_add_fetch(&freed, 1, __ATOMIC_RELAXED);
}

struct receiver {
	void *ctx;
	char endpoint[256];
	long expect;
	long got;
	long long bytes;
};

static void *receive(void *arg)
{
	struct receiver *r = arg;
	void *pull = zmq_socket(r->ctx, ZMQ_PULL);
	zmq_connect(pull, r->endpoint);
	zmq_msg_t m;
	zmq_msg_init(&m);
	while (r->got < r->expect && zmq_msg_recv(&m, pull, 0) >= 0) {
		r->got++;
		r->bytes += (long long)zmq_msg_size(&m);
	}
	zmq_msg_close(&m);
	zmq_close(pull);
	return NULL;
}

static int send_zerocopy(void *push, size_t bytes)
{
	char *buf = malloc(bytes);
	if (!buf)
		return -1;
	memset(buf, 'z', bytes);
	zmq_msg_t m;
	if (zmq_msg_init_data(&m, buf, bytes, free_buffer, NULL) != 0) {
		free(buf);
		return -1;
	}
	if (zmq_msg_send(&m, push, 0) < 0) {
		zmq_msg_close(&m); /* runs free_buffer */
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long small = argc > 1 ? atol(argv[1]) : 10000;
	long large = argc > 2 ? atol(argv[2]) : 200;
	void *ctx = zmq_ctx_new();
	void *push = zmq_socket(ctx, ZMQ_PUSH);
	struct receiver r = { .ctx = ctx, .expect = small + large + COPIES };
	size_t len = sizeof r.endpoint;
	if (zmq_bind(push, "tcp://127.0.0.1:*") != 0 ||
	    zmq_getsockopt(push, ZMQ_LAST_ENDPOINT, r.endpoint, &len) != 0) {
		fprintf(stderr, "zcdemo: bind: %s\n", zmq_strerror(zmq_errno()));
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, receive, &r);

	static const char hello[SMALL_BYTES] = "copied with zmq_send";
	for (long i = 0; i < COPIES; i++)
		zmq_send(push, hello, sizeof hello, 0);
	for (long i = 0; i < small; i++)
		if (send_zerocopy(push, SMALL_BYTES) != 0)
			return 1;
	for (long i = 0; i < large; i++)
		if (send_zerocopy(push, LARGE_BYTES) != 0)
			return 1;

	pthread_join(t, NULL);
	zmq_close(push);
	zmq_ctx_term(ctx);
	printf("zcdemo: sent %ld x %d B and %ld x %d B zero-copy, %d B x %d copied; "
	       "received %ld messages, %lld bytes; %d buffers freed\n",
	       small, SMALL_BYTES, large, LARGE_BYTES, SMALL_BYTES, COPIES, r.got, r.bytes,
	       __atomic_load_n(&freed, __ATOMIC_RELAXED));
	return r.got == r.expect && freed == small + large ? 0 : 1;
}
