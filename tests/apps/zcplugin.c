/*
 * zcplugin - a shared object that uses libzmq, for zcdlopen to load at run
 * time: as a Python extension or any plugin is (zcplugin.so, linked against
 * libzmq.so.5), with libzmq built in and its zmq_* symbols exported as
 * zeromq.js's addon.node has it (zcbuiltin.so), or built in and hidden
 * (zcbuiltin-hidden.so), and in an executable (zcstatic).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

int zcplugin_run(int count);

static int freed;

static void ffn(void *data, void *hint)
{
	(void)hint;
	free(data);
	__atomic_add_fetch(&freed, 1, __ATOMIC_RELAXED);
}

/* Events waiting on the monitor's PAIR socket (two frames each). */
static int drain_events(void *events)
{
	int n = 0;
	char buf[256];
	while (zmq_recv(events, buf, sizeof buf, ZMQ_DONTWAIT) >= 0) {
		int more = 0;
		size_t len = sizeof more;
		zmq_getsockopt(events, ZMQ_RCVMORE, &more, &len);
		n += !more;
	}
	return n;
}

/* Sends count zero-copy messages of 100 B and count of 100 kB from a PUSH
 * to a PULL over ipc, receives them, and one constant. The PULL is
 * monitored: libzmq makes a PAIR socket of its own and sends it events, from
 * this thread (bind) and its IO thread (accept, handshake), which a PAIR of
 * ours reads. Prints the events read; returns the number of things that
 * went wrong. */
int zcplugin_run(int count)
{
	char endpoint[64];
	snprintf(endpoint, sizeof endpoint, "ipc:///tmp/zcplugin-%d", (int)getpid());
	void *ctx = zmq_ctx_new();
	void *push = zmq_socket(ctx, ZMQ_PUSH), *pull = zmq_socket(ctx, ZMQ_PULL);
	void *events = zmq_socket(ctx, ZMQ_PAIR);
	int bad = zmq_socket_monitor(pull, "inproc://zcplugin-monitor", ZMQ_EVENT_ALL) != 0;
	bad += zmq_connect(events, "inproc://zcplugin-monitor") != 0;
	bad += zmq_bind(pull, endpoint) != 0;
	bad += zmq_connect(push, endpoint) != 0;
	for (int i = 0; i < 2 * count; i++) {
		size_t bytes = i % 2 ? 100000 : 100;
		char *buf = malloc(bytes);
		memset(buf, i & 0xff, bytes);
		zmq_msg_t m;
		zmq_msg_init_data(&m, buf, bytes, ffn, NULL);
		bad += zmq_msg_send(&m, push, 0) != (int)bytes;
		zmq_msg_t r;
		zmq_msg_init(&r);
		bad += zmq_msg_recv(&r, pull, 0) != (int)bytes ||
		       ((unsigned char *)zmq_msg_data(&r))[bytes - 1] != (i & 0xff);
		zmq_msg_close(&r);
	}
	static const char hello[] = "constant";
	bad += zmq_send_const(push, hello, sizeof hello, 0) != (int)sizeof hello;
	char got[16];
	bad += zmq_recv(pull, got, sizeof got, 0) != (int)sizeof hello;
	int seen = drain_events(events);
	bad += zmq_socket_monitor(pull, NULL, 0) != 0; /* libzmq closes its PAIR */
	printf("events=%d\n", seen);
	zmq_close(events);
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	bad += freed != 2 * count;
	return bad;
}
