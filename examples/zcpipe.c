/*
 * zcpipe - the bundled example for `zcshim-stat --pipeline`: one stage of a
 * pipeline in its own process. Built three times, as zcsource, zcmiddle and
 * zcsink (the stage is the program's name, so each shows under its own
 * name); examples/demo.sh runs a fast source, a slow middle and a sink:
 *
 *   zcsource: a PUSH bound to every address, port 5557 (--out '@tcp://STAR:5557',
 *             STAR being the wildcard '*')
 *   zcmiddle --in tcp://localhost:5557 --out tcp://localhost:5558 --work-us 500
 *   zcsink:   a PULL bound to every address, port 5558
 *
 * Every message the source sends the middle receives, works on (a sleep of
 * --work-us stands for the work) and passes on; the sink counts them. An
 * endpoint starting with '@' is bound, any other connected (czmq's
 * convention). A bind's real endpoint (a wildcard port resolved) is printed
 * as "bound=...". At the end each stage prints its own counts and its own
 * split of time, measured with the clock around its libzmq calls, for the
 * shim's figures to be checked against:
 *
 *   stage=middle pid=N sent=M received=M sent_bytes=B received_bytes=B
 *   send_ns=... recv_ns=... busy_ns=... work_ns=...
 *
 * busy_ns runs from just before the first send or receive to the end;
 * send_ns and recv_ns are the time inside those calls.
 *
 * Options (all stages):
 *   --in EP, --out EP   where to receive from / send to
 *   --count N           messages to send (source) or to take before
 *                       stopping (middle, sink); default 2000
 *   --size B            bytes per message (source); default 100
 *   --work-us US        time per message spent outside ZeroMQ; default 0
 *   --hwm N             ZMQ_SNDHWM and ZMQ_RCVHWM; default 1000 (libzmq's)
 *   --sockbuf B         ZMQ_SNDBUF and ZMQ_RCVBUF (kernel buffers); default: the OS's
 *   --pattern P         push (PUSH/PULL, default) or pub (the source a PUB, the
 *                       sink a SUB taking everything)
 *   --linger MS         ZMQ_LINGER of the sockets; default -1 (deliver all)
 *   --idle-ms MS        middle, sink: stop after MS with nothing to receive
 *   --gate              print "gate" and wait for a line on stdin: the source
 *                       before its first send, the others after their first
 *                       message
 *   --hold              at the end print "done" and wait for stdin to close
 *                       before closing the sockets
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

enum stage { SOURCE, MIDDLE, SINK };

static struct {
	enum stage stage;
	const char *in, *out, *pattern;
	long count, size, work_us, hwm, sockbuf, linger, idle_ms;
	int gate, hold;
} opt = { SOURCE, NULL, NULL, "push", 2000, 100, 0, 1000, -1, -1, 0, 0, 0 };

static const char *const stage_names[] = { "source", "middle", "sink" };

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "zc%s: %s%s%s: %s\n", stage_names[opt.stage], what, arg ? " " : "",
		arg ? arg : "", zmq_strerror(zmq_errno()));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A socket of type, bound ('@') or connected to ep, with the options. */
static void *open_socket(void *ctx, int type, const char *ep)
{
	void *s = zmq_socket(ctx, type);
	if (!s)
		die("zmq_socket", NULL);
	int hwm = (int)opt.hwm, linger = (int)opt.linger;
	zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	if (opt.sockbuf > 0) {
		int b = (int)opt.sockbuf;
		zmq_setsockopt(s, ZMQ_SNDBUF, &b, sizeof b);
		zmq_setsockopt(s, ZMQ_RCVBUF, &b, sizeof b);
	}
	if (type == ZMQ_SUB)
		zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
	if (ep[0] == '@') {
		if (zmq_bind(s, ep + 1) != 0)
			die("bind", ep + 1);
		char last[256];
		size_t len = sizeof last;
		zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, last, &len);
		printf("bound=%s\n", last);
		fflush(stdout);
	} else if (zmq_connect(s, ep[0] == '>' ? ep + 1 : ep) != 0) {
		die("connect", ep);
	}
	return s;
}

static void wait_line(const char *say)
{
	printf("%s\n", say);
	fflush(stdout);
	char c;
	while (read(0, &c, 1) == 1 && c != '\n')
		;
}

static void work(void)
{
	if (opt.work_us <= 0)
		return;
	struct timespec ts = { opt.work_us / 1000000, opt.work_us % 1000000 * 1000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static long number(const char *name, const char *s, long lo)
{
	char *end;
	errno = 0;
	long v = s ? strtol(s, &end, 10) : 0;
	if (!s || !*s || *end || errno || v < lo) {
		fprintf(stderr, "zcpipe: %s '%s': a whole number from %ld\n", name, s ? s : "", lo);
		exit(2);
	}
	return v;
}

static void options(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	int i = 1;
	const char *stage = strncmp(name, "zc", 2) == 0 ? name + 2 : name;
	if (argc > 1 && argv[1][0] != '-')
		stage = argv[i++];
	if (!strcmp(stage, "source"))
		opt.stage = SOURCE;
	else if (!strcmp(stage, "middle"))
		opt.stage = MIDDLE;
	else if (!strcmp(stage, "sink"))
		opt.stage = SINK;
	else {
		fprintf(stderr, "usage: zcsource|zcmiddle|zcsink [--in EP] [--out EP] [OPTION]...\n");
		exit(2);
	}
	for (; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--gate")) {
			opt.gate = 1;
			continue;
		}
		if (!strcmp(a, "--hold")) {
			opt.hold = 1;
			continue;
		}
		i++;
		if (!strcmp(a, "--in") && v)
			opt.in = v;
		else if (!strcmp(a, "--out") && v)
			opt.out = v;
		else if (!strcmp(a, "--pattern") && v && (!strcmp(v, "push") || !strcmp(v, "pub")))
			opt.pattern = v;
		else if (!strcmp(a, "--count"))
			opt.count = number(a, v, 0);
		else if (!strcmp(a, "--size"))
			opt.size = number(a, v, 0);
		else if (!strcmp(a, "--work-us"))
			opt.work_us = number(a, v, 0);
		else if (!strcmp(a, "--hwm"))
			opt.hwm = number(a, v, 0);
		else if (!strcmp(a, "--sockbuf"))
			opt.sockbuf = number(a, v, 1);
		else if (!strcmp(a, "--linger"))
			opt.linger = number(a, v, -1);
		else if (!strcmp(a, "--idle-ms"))
			opt.idle_ms = number(a, v, 1);
		else {
			fprintf(stderr, "zcpipe: bad option %s%s%s\n", a, v ? " " : "", v ? v : "");
			exit(2);
		}
	}
	if ((opt.stage != SOURCE && !opt.in) || (opt.stage != SINK && !opt.out)) {
		fprintf(stderr, "zc%s: needs%s%s\n", stage_names[opt.stage],
			opt.stage != SOURCE && !opt.in ? " --in EP" : "",
			opt.stage != SINK && !opt.out ? " --out EP" : "");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	options(argc, argv);
	int pub = !strcmp(opt.pattern, "pub");
	void *ctx = zmq_ctx_new();
	void *in = opt.in ? open_socket(ctx, pub && opt.stage == SINK ? ZMQ_SUB : ZMQ_PULL, opt.in)
			  : NULL;
	void *out = opt.out ? open_socket(ctx, pub && opt.stage == SOURCE ? ZMQ_PUB : ZMQ_PUSH,
					  opt.out)
			    : NULL;
	if (in && opt.idle_ms > 0) {
		int t = (int)opt.idle_ms;
		zmq_setsockopt(in, ZMQ_RCVTIMEO, &t, sizeof t);
	}
	char *payload = calloc(1, opt.size ? (size_t)opt.size : 1);
	char *buf = malloc(1 << 20);
	if (!payload || !buf)
		die("out of memory", NULL);
	if (opt.gate && opt.stage == SOURCE)
		wait_line("gate");
	long sent = 0, received = 0, sent_bytes = 0, received_bytes = 0;
	uint64_t send_ns = 0, recv_ns = 0, work_ns = 0, start = now_ns();
	while (opt.stage == SOURCE ? sent < opt.count : received < opt.count) {
		int bytes = (int)opt.size;
		if (in) {
			uint64_t t0 = now_ns();
			bytes = zmq_recv(in, buf, 1 << 20, 0);
			recv_ns += now_ns() - t0;
			if (bytes < 0) {
				if (zmq_errno() == EAGAIN)
					break; /* --idle-ms: nothing more is coming */
				die("zmq_recv", NULL);
			}
			received++;
			received_bytes += bytes;
			if (opt.gate && received == 1)
				wait_line("gate");
		}
		uint64_t t1 = now_ns();
		work();
		work_ns += now_ns() - t1;
		if (out) {
			uint64_t t0 = now_ns();
			int rc = zmq_send(out, in ? buf : payload, (size_t)(bytes < (1 << 20) ? bytes : 1 << 20), 0);
			send_ns += now_ns() - t0;
			if (rc < 0)
				die("zmq_send", NULL);
			sent++;
			sent_bytes += rc;
		}
	}
	if (opt.hold)
		wait_line("done");
	if (in)
		zmq_close(in);
	if (out)
		zmq_close(out);
	zmq_ctx_term(ctx);
	printf("stage=%s pid=%d sent=%ld received=%ld sent_bytes=%ld received_bytes=%ld\n"
	       "send_ns=%llu recv_ns=%llu busy_ns=%llu work_ns=%llu\n",
	       stage_names[opt.stage], (int)getpid(), sent, received, sent_bytes, received_bytes,
	       (unsigned long long)send_ns, (unsigned long long)recv_ns,
	       (unsigned long long)(now_ns() - start), (unsigned long long)work_ns);
	free(payload);
	free(buf);
	return 0;
}
