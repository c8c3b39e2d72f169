/*
 * zcchain - a chain of zero-copy sends, each sent by the previous one's ffn.
 *
 *   zcchain [--count N] [--bytes B]
 *
 * The main thread sends the first message and then only waits; from then
 * on every message's ffn sends the next one, until N have gone. Without
 * the shim the ffn runs when libzmq lets go of the buffer, on its IO
 * thread, so the chain is a loop in time, not in depth. A shim that runs
 * ffns inside the send (converting it into a copy) must not turn it into
 * N nested frames. A PULL on its own thread counts what arrives.
 * Prints sent=, received=, ffn_calls= and exits 0 when all N arrived.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static long count = 100000, sent, ffn_calls, received;
static size_t bytes = 100;
static void *push;
static char payload[1 << 16];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static int failed;

static void send_next(void);

static void next_ffn(void *data, void *hint)
{
	(void)data;
	(void)hint;
	__atomic_add_fetch(&ffn_calls, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&sent, __ATOMIC_RELAXED) < count)
		send_next();
}

/* Called by exactly one thread at a time: the chain has one link in hand. */
static void send_next(void)
{
	zmq_msg_t m;
	if (zmq_msg_init_data(&m, payload, bytes, next_ffn, NULL) != 0) {
		failed = 1;
		return;
	}
	__atomic_add_fetch(&sent, 1, __ATOMIC_RELAXED);
	if (zmq_msg_send(&m, push, ZMQ_DONTWAIT) < 0) {
		fprintf(stderr, "zcchain: send %ld: %s\n", sent, zmq_strerror(zmq_errno()));
		failed = 1;
		zmq_msg_close(&m);
	}
}

static void *pull_all(void *pull)
{
	char buf[64];
	long n = 0;
	while (n < count && zmq_recv(pull, buf, sizeof buf, 0) >= 0)
		n++;
	pthread_mutex_lock(&lock);
	received = n ? n : -1;
	pthread_cond_signal(&done);
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "0";
		if (!strcmp(argv[i], "--count"))
			count = atol(v), i++;
		else if (!strcmp(argv[i], "--bytes"))
			bytes = strtoul(v, NULL, 10), i++;
		else {
			fprintf(stderr, "usage: zcchain [--count N] [--bytes B]\n");
			return 2;
		}
	}
	if (count < 1 || bytes < 1 || bytes > sizeof payload) {
		fprintf(stderr, "zcchain: bad --count or --bytes\n");
		return 2;
	}
	void *ctx = zmq_ctx_new();
	void *pull = zmq_socket(ctx, ZMQ_PULL);
	push = zmq_socket(ctx, ZMQ_PUSH);
	int hwm = 0, timeout_ms = 20000; /* a broken chain ends the wait */
	zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
	zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
	if (zmq_bind(pull, "tcp://127.0.0.1:*") != 0)
		return 1;
	char ep[256];
	size_t len = sizeof ep;
	zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, ep, &len);
	if (zmq_connect(push, ep) != 0)
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, pull_all, pull);
	send_next();
	pthread_mutex_lock(&lock);
	while (!received)
		pthread_cond_wait(&done, &lock);
	pthread_mutex_unlock(&lock);
	pthread_join(t, NULL);
	int linger = 0;
	zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	printf("sent=%ld received=%ld ffn_calls=%ld\n", sent, received, ffn_calls);
	return !failed && received == count && sent == count && ffn_calls == count ? 0 : 1;
}
