/*
 * zcload - a steady ZeroMQ sender for the views that need traffic: --watch
 * (rates while it runs) and --recommend (both paths at several sizes).
 *
 * Every size is sent both ways in turn, a copy (zmq_send) and a zero-copy
 * message (zmq_msg_init_data with a free callback, zmq_msg_send), over tcp
 * loopback to a PULL socket on a receiver thread; so a profile-mode run
 * gives each size class a cost on each path, which is what --recommend
 * fits. zcapp checks the shim's contract; this one only makes load.
 *
 *   zcload [--sizes L] [--count N] [--seconds S] [--until-stdin]
 *     L: comma-separated byte sizes (default 64,1024,16384,262144)
 *     N: messages per size and path (default 1000), or, with --seconds or
 *        --until-stdin, send until S seconds passed or stdin closed.
 * Prints "ready" once the first round is sent (the segment exists), and
 * "sent=N" at the end.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_SIZES 16

static size_t sizes[MAX_SIZES] = { 64, 1024, 16384, 262144 };
static int nsizes = 4;
static long total_sent = -1; /* set when sending ends; the receiver stops there */

static void free_buffer(void *data, void *hint)
{
	(void)hint;
	free(data);
}

struct receiver {
	void *ctx;
	char endpoint[256];
	long got;
};

static void *receive(void *arg)
{
	struct receiver *r = arg;
	void *pull = zmq_socket(r->ctx, ZMQ_PULL);
	int timeout_ms = 100;
	zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
	zmq_connect(pull, r->endpoint);
	zmq_msg_t m;
	zmq_msg_init(&m);
	for (;;) {
		long want = __atomic_load_n(&total_sent, __ATOMIC_ACQUIRE);
		if (want >= 0 && r->got >= want)
			break;
		if (zmq_msg_recv(&m, pull, 0) >= 0)
			r->got++;
	}
	zmq_msg_close(&m);
	zmq_close(pull);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Has stdin closed (or sent anything)? Checked between rounds, not per message. */
static int stdin_done(void)
{
	struct pollfd p = { 0, POLLIN, 0 };
	return poll(&p, 1, 0) > 0;
}

int main(int argc, char **argv)
{
	long count = 1000;
	double seconds = 0;
	int until_stdin = 0;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(argv[i], "--sizes")) {
			char *copy = strdup(v), *save = NULL;
			nsizes = 0;
			for (char *t = strtok_r(copy, ",", &save); t && nsizes < MAX_SIZES;
			     t = strtok_r(NULL, ",", &save))
				sizes[nsizes++] = strtoull(t, NULL, 10);
			free(copy);
			i++;
		} else if (!strcmp(argv[i], "--count")) {
			count = atol(v), i++;
		} else if (!strcmp(argv[i], "--seconds")) {
			seconds = atof(v), i++;
		} else if (!strcmp(argv[i], "--until-stdin")) {
			until_stdin = 1;
		} else {
			fprintf(stderr, "usage: zcload [--sizes L] [--count N] [--seconds S] "
					"[--until-stdin]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	void *ctx = zmq_ctx_new();
	void *push = zmq_socket(ctx, ZMQ_PUSH);
	struct receiver r = { .ctx = ctx };
	size_t len = sizeof r.endpoint;
	if (zmq_bind(push, "tcp://127.0.0.1:*") != 0 ||
	    zmq_getsockopt(push, ZMQ_LAST_ENDPOINT, r.endpoint, &len) != 0) {
		fprintf(stderr, "zcload: bind: %s\n", zmq_strerror(zmq_errno()));
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, receive, &r);
	size_t max = 0;
	for (int k = 0; k < nsizes; k++)
		max = sizes[k] > max ? sizes[k] : max;
	char *copy_src = calloc(1, max ? max : 1);
	long sent = 0, failed = 0;
	double end = now_s() + seconds;
	int endless = seconds > 0 || until_stdin;
	for (long round = 0; endless || round < count; round++) {
		for (int k = 0; k < nsizes; k++) {
			if (zmq_send(push, copy_src, sizes[k], 0) < 0)
				failed++;
			else
				sent++;
			char *buf = malloc(sizes[k] ? sizes[k] : 1);
			memset(buf, 'z', sizes[k]);
			zmq_msg_t m;
			zmq_msg_init_data(&m, buf, sizes[k], free_buffer, NULL);
			if (zmq_msg_send(&m, push, 0) < 0) {
				zmq_msg_close(&m);
				failed++;
			} else {
				sent++;
			}
		}
		if (round == 0)
			printf("ready\n");
		if (endless && round % 64 == 63 &&
		    ((seconds > 0 && now_s() >= end) || (until_stdin && stdin_done())))
			break;
	}
	__atomic_store_n(&total_sent, sent, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	zmq_close(push);
	zmq_ctx_term(ctx);
	free(copy_src);
	printf("sent=%ld received=%ld failed=%ld pid=%d\n", sent, r.got, failed, (int)getpid());
	return failed || r.got != sent ? 1 : 0;
}
