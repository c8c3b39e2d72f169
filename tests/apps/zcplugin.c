/*
 * zcplugin - a shared object linked against libzmq, as a Python extension
 * or any plugin is, for zcdlopen to load at run time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int zcplugin_run(int count);

static int freed;

static void ffn(void *data, void *hint)
{
	(void)hint;
	free(data);
	__atomic_add_fetch(&freed, 1, __ATOMIC_RELAXED);
}

/* Sends count zero-copy messages of 100 B and count of 100 kB over inproc,
 * receives them, and returns the number of things that went wrong. */
int zcplugin_run(int count)
{
	void *ctx = zmq_ctx_new();
	void *push = zmq_socket(ctx, ZMQ_PUSH), *pull = zmq_socket(ctx, ZMQ_PULL);
	int bad = zmq_bind(pull, "inproc://plugin") != 0;
	bad += zmq_connect(push, "inproc://plugin") != 0;
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
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	bad += freed != 2 * count;
	return bad;
}
