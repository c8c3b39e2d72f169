/*
 * zcrecv - the receive side as an app uses it, for the integration tests
 * (tests/test_pipeline.c) to compare what the shim recorded with what the
 * app itself counted. Each scenario checks its own messages and prints its
 * counts as key=value lines; it exits 0 only if every check held.
 *
 *   zcrecv counts [--api A] [--transport T] [--sizes L] [--count N]
 *                 [--parts K] [--buf B] [--zerocopy]
 *     a PUSH sends N messages of K frames each (frame sizes cycle through
 *     L); a PULL on its own socket takes them with A: recv (zmq_recv into a
 *     B-byte buffer, so larger frames are truncated as libzmq does),
 *     msg_recv or recvmsg. --zerocopy: frames sent zero-copy
 *     (zmq_msg_init_data), which over inproc arrive as the sender's buffer.
 *   zcrecv fail [--count N]
 *     a PULL with no peer: N zmq_recv with ZMQ_DONTWAIT, N zmq_recv that
 *     time out (ZMQ_RCVTIMEO 2 ms), N zmq_msg_recv and N zmq_recvmsg with
 *     ZMQ_DONTWAIT (all EAGAIN); one zmq_recv interrupted by a signal
 *     (EINTR); one zmq_recv ended by zmq_ctx_shutdown (ETERM).
 *   zcrecv poll [--count N]
 *     N zmq_poll calls on a PULL: the even ones find a message waiting (and
 *     it is then read with zmq_msg_recv), the odd ones time out after 1 ms.
 *
 * T: inproc (default) | ipc | tcp.  L: comma-separated byte sizes (100).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_SIZES 16

static struct {
	const char *api, *transport;
	size_t sizes[MAX_SIZES];
	int nsizes;
	long count, parts;
	size_t buf;
	int zerocopy;
} opt = { "msg_recv", "inproc", { 100 }, 1, 100, 1, 65536, 0 };

static int failures;
#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "zcrecv: check failed: " __VA_ARGS__); \
			fputc('\n', stderr);                                \
			failures++;                                         \
		}                                                           \
	} while (0)

static unsigned char pattern(long seq, size_t i)
{
	return (unsigned char)(seq * 131 + i * 7 + (i >> 8));
}

static void fill(unsigned char *b, long seq, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++)
		b[i] = pattern(seq, i);
}

static int content_ok(long seq, const unsigned char *b, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++)
		if (b[i] != pattern(seq, i))
			return 0;
	return 1;
}

static void ffn_free(void *data, void *hint)
{
	(void)hint;
	free(data);
}

static void endpoint(void *s, char *ep, size_t len)
{
	if (strcmp(opt.transport, "tcp") == 0)
		snprintf(ep, len, "tcp://127.0.0.1:*");
	else if (strcmp(opt.transport, "ipc") == 0)
		snprintf(ep, len, "ipc:///tmp/zcrecv-%d", (int)getpid());
	else
		snprintf(ep, len, "inproc://zcrecv");
	CHECK(zmq_bind(s, ep) == 0, "bind %s: %s", ep, zmq_strerror(errno));
	zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len);
}

/* ---- counts ---- */

/* One frame as the chosen API receives it: its full size, more flag, and
 * whether its bytes are the ones sent (as far as they were kept). */
static int recv_frame(void *s, long seq, size_t want, int *more)
{
	if (strcmp(opt.api, "recv") == 0) {
		unsigned char *b = malloc(opt.buf ? opt.buf : 1);
		int rc = zmq_recv(s, opt.buf ? b : NULL, opt.buf, 0);
		if (rc >= 0) {
			size_t kept = (size_t)rc < opt.buf ? (size_t)rc : opt.buf;
			CHECK((size_t)rc == want && content_ok(seq, b, kept),
			      "zmq_recv frame %ld: %d bytes, want %zu", seq, rc, want);
		}
		free(b);
		int m = 0;
		size_t len = sizeof m;
		zmq_getsockopt(s, ZMQ_RCVMORE, &m, &len);
		*more = m;
		return rc;
	}
	zmq_msg_t m;
	zmq_msg_init(&m);
	int rc = strcmp(opt.api, "recvmsg") == 0 ? zmq_recvmsg(s, &m, 0) : zmq_msg_recv(&m, s, 0);
	if (rc >= 0)
		CHECK(zmq_msg_size(&m) == want && content_ok(seq, zmq_msg_data(&m), want),
		      "frame %ld: %zu bytes, want %zu", seq, zmq_msg_size(&m), want);
	*more = zmq_msg_more(&m);
	zmq_msg_close(&m);
	return rc;
}

static void scenario_counts(void)
{
	void *ctx = zmq_ctx_new();
	void *push = zmq_socket(ctx, ZMQ_PUSH), *pull = zmq_socket(ctx, ZMQ_PULL);
	int hwm = 0; /* no limit: the sender never waits for the receiver */
	zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
	char ep[256];
	endpoint(pull, ep, sizeof ep);
	CHECK(zmq_connect(push, ep) == 0, "connect %s", ep);
	long frames = 0, sent_bytes = 0;
	for (long m = 0; m < opt.count; m++)
		for (long p = 0; p < opt.parts; p++, frames++) {
			size_t bytes = opt.sizes[frames % opt.nsizes];
			int flags = p + 1 < opt.parts ? ZMQ_SNDMORE : 0, rc;
			unsigned char *b = malloc(bytes ? bytes : 1);
			fill(b, frames, bytes);
			if (opt.zerocopy) {
				zmq_msg_t msg;
				zmq_msg_init_data(&msg, b, bytes, ffn_free, NULL);
				rc = zmq_msg_send(&msg, push, flags);
			} else {
				rc = zmq_send(push, b, bytes, flags);
				free(b);
			}
			CHECK(rc == (int)bytes, "send: %s", zmq_strerror(errno));
			sent_bytes += (long)bytes;
		}
	long got_frames = 0, got_msgs = 0, got_bytes = 0, more_wrong = 0;
	for (long m = 0; m < opt.count; m++)
		for (long p = 0; p < opt.parts; p++) {
			int more;
			size_t want = opt.sizes[got_frames % opt.nsizes];
			int rc = recv_frame(pull, got_frames, want, &more);
			CHECK(rc >= 0, "receive: %s", zmq_strerror(errno));
			if (rc < 0)
				goto done;
			got_frames++;
			got_bytes += rc;
			more_wrong += more != (p + 1 < opt.parts);
			got_msgs += !more;
		}
done:
	printf("sent_frames=%ld sent_msgs=%ld sent_bytes=%ld\n", frames, opt.count, sent_bytes);
	printf("recv_frames=%ld recv_msgs=%ld recv_bytes=%ld\n", got_frames, got_msgs, got_bytes);
	CHECK(more_wrong == 0, "more flag wrong on %ld frames", more_wrong);
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
}

/* ---- fail ---- */

static void on_signal(int sig)
{
	(void)sig;
}

struct blocked {
	void *s;
	int rc, err;
	volatile int started, done;
};

static void *recv_blocked(void *arg)
{
	struct blocked *b = arg;
	char buf[16];
	b->started = 1;
	b->rc = zmq_recv(b->s, buf, sizeof buf, 0);
	b->err = errno;
	b->done = 1;
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void scenario_fail(void)
{
	void *ctx = zmq_ctx_new();
	void *pull = zmq_socket(ctx, ZMQ_PULL);
	char ep[256], buf[16];
	endpoint(pull, ep, sizeof ep);
	long eagain_recv = 0, eagain_msg_recv = 0, eagain_recvmsg = 0;
	for (long i = 0; i < opt.count; i++)
		eagain_recv += zmq_recv(pull, buf, sizeof buf, ZMQ_DONTWAIT) < 0 && errno == EAGAIN;
	int timeout_ms = 2;
	zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
	for (long i = 0; i < opt.count; i++)
		eagain_recv += zmq_recv(pull, buf, sizeof buf, 0) < 0 && errno == EAGAIN;
	timeout_ms = -1;
	zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
	zmq_msg_t m;
	zmq_msg_init(&m);
	for (long i = 0; i < opt.count; i++) {
		eagain_msg_recv += zmq_msg_recv(&m, pull, ZMQ_DONTWAIT) < 0 && errno == EAGAIN;
		eagain_recvmsg += zmq_recvmsg(pull, &m, ZMQ_DONTWAIT) < 0 && errno == EAGAIN;
	}
	zmq_msg_close(&m);

	/* EINTR: a signal without SA_RESTART while blocked in zmq_recv; sent
	 * again until it lands inside the call (one before it is harmless) */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	struct blocked b = { .s = pull };
	pthread_t t;
	pthread_create(&t, NULL, recv_blocked, &b);
	for (int i = 0; i < 500 && !b.done; i++) {
		sleep_ms(10);
		if (b.started)
			pthread_kill(t, SIGUSR1);
	}
	pthread_join(t, NULL);
	long eintr = b.rc < 0 && b.err == EINTR;

	/* ETERM: blocked again, and the context shut down under it */
	struct blocked c = { .s = pull };
	pthread_create(&t, NULL, recv_blocked, &c);
	while (!c.started)
		sleep_ms(1);
	sleep_ms(50);
	zmq_ctx_shutdown(ctx);
	pthread_join(t, NULL);
	long eterm = c.rc < 0 && c.err == ETERM;
	printf("eagain_recv=%ld eagain_msg_recv=%ld eagain_recvmsg=%ld eintr=%ld eterm=%ld\n",
	       eagain_recv, eagain_msg_recv, eagain_recvmsg, eintr, eterm);
	CHECK(eagain_recv == 2 * opt.count && eagain_msg_recv == opt.count &&
		      eagain_recvmsg == opt.count && eintr == 1 && eterm == 1,
	      "a receive did not fail as expected");
	zmq_close(pull);
	zmq_ctx_term(ctx);
}

/* ---- poll ---- */

static void scenario_poll(void)
{
	void *ctx = zmq_ctx_new();
	void *push = zmq_socket(ctx, ZMQ_PUSH), *pull = zmq_socket(ctx, ZMQ_PULL);
	char ep[256];
	endpoint(pull, ep, sizeof ep);
	zmq_connect(push, ep);
	long polls = 0, ready = 0, received = 0;
	for (long i = 0; i < opt.count; i++) {
		if (i % 2 == 0)
			zmq_send(push, "x", 1, 0);
		zmq_pollitem_t item = { pull, 0, ZMQ_POLLIN, 0 };
		/* a message sent over tcp may take a moment: wait for it */
		int rc = zmq_poll(&item, 1, i % 2 == 0 ? 5000 : 1);
		polls += rc >= 0;
		if (rc > 0 && (item.revents & ZMQ_POLLIN)) {
			ready++;
			zmq_msg_t m;
			zmq_msg_init(&m);
			received += zmq_msg_recv(&m, pull, 0) >= 0;
			zmq_msg_close(&m);
		}
	}
	printf("polls=%ld ready=%ld received=%ld\n", polls, ready, received);
	CHECK(polls == opt.count && ready == (opt.count + 1) / 2 && received == ready,
	      "poll results");
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
}

/* ---- options ---- */

static long number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "zcrecv: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: zcrecv counts|fail|poll [options]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--zerocopy")) {
			opt.zerocopy = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "zcrecv: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--api"))
			opt.api = v;
		else if (!strcmp(a, "--transport"))
			opt.transport = v;
		else if (!strcmp(a, "--count"))
			opt.count = number(v);
		else if (!strcmp(a, "--parts"))
			opt.parts = number(v) ? number(v) : 1;
		else if (!strcmp(a, "--buf"))
			opt.buf = (size_t)number(v);
		else if (!strcmp(a, "--sizes")) {
			char copy[256];
			snprintf(copy, sizeof copy, "%s", v);
			opt.nsizes = 0;
			for (char *t = strtok(copy, ","); t && opt.nsizes < MAX_SIZES; t = strtok(NULL, ","))
				opt.sizes[opt.nsizes++] = (size_t)number(t);
			if (!opt.nsizes)
				return 2;
		} else {
			fprintf(stderr, "zcrecv: unknown option %s\n", a);
			return 2;
		}
	}
	if (!strcmp(argv[1], "counts"))
		scenario_counts();
	else if (!strcmp(argv[1], "fail"))
		scenario_fail();
	else if (!strcmp(argv[1], "poll"))
		scenario_poll();
	else {
		fprintf(stderr, "zcrecv: unknown scenario %s\n", argv[1]);
		return 2;
	}
	printf("pid=%d\n", (int)getpid());
	return failures ? 1 : 0;
}
