/*
 * zcpace - one thread, two sockets: one sending as fast as it can, one at a
 * slow, steady rate. The adaptive sampler must time (nearly) every call of
 * the slow one and few of the fast one.
 *
 *   zcpace [--slow N] [--interval-us U]
 *
 * Both are PUB sockets without subscribers: libzmq drops each message at
 * once, so the loop measures only the calls. Runs until the slow socket
 * has sent N messages, one every U microseconds (default 50 x 10000 us).
 * Prints fast=, slow=, elapsed_ns=.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long slow_n = 50, interval_us = 10000;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "0";
		if (!strcmp(argv[i], "--slow"))
			slow_n = atol(v), i++;
		else if (!strcmp(argv[i], "--interval-us"))
			interval_us = atol(v), i++;
		else {
			fprintf(stderr, "usage: zcpace [--slow N] [--interval-us U]\n");
			return 2;
		}
	}
	void *ctx = zmq_ctx_new();
	void *fast = zmq_socket(ctx, ZMQ_PUB), *slow = zmq_socket(ctx, ZMQ_PUB);
	if (!fast || !slow || zmq_bind(fast, "inproc://fast") || zmq_bind(slow, "inproc://slow"))
		return 1;
	char buf[100] = { 0 };
	long fast_n = 0, slow_sent = 0;
	uint64_t t0 = now_ns(), next = t0;
	while (slow_sent < slow_n) {
		for (int i = 0; i < 256; i++)
			fast_n += zmq_send(fast, buf, sizeof buf, 0) == (int)sizeof buf;
		uint64_t t = now_ns();
		if (t >= next) {
			slow_sent += zmq_send(slow, buf, sizeof buf, 0) == (int)sizeof buf;
			next = t + (uint64_t)interval_us * 1000u;
		}
	}
	uint64_t elapsed = now_ns() - t0;
	zmq_close(fast);
	zmq_close(slow);
	zmq_ctx_term(ctx);
	printf("fast=%ld slow=%ld elapsed_ns=%llu\n", fast_n, slow_sent,
	       (unsigned long long)elapsed);
	return 0;
}
