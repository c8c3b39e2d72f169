/*
 * zcearlylib - a library whose constructor uses ZeroMQ (issue 13, point 4).
 *
 * Linked into zcearly (not dlopen'ed), so the dynamic linker runs this
 * constructor before the constructor of a preloaded libzcshim.so: the
 * shim's first intercepted call comes before its own initialisation, and
 * its settings must be in force all the same. Sends ZCEARLY_COUNT (100)
 * zero-copy messages of 100 bytes PUSH -> PULL over inproc, reads them
 * back, and keeps what it saw for zcearly to print.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "zcearly.h"

static struct zcearly_seen seen;
static __thread int in_send;

static void ffn(void *data, void *hint)
{
	(void)hint;
	seen.ffns++;
	seen.ffn_in_send += in_send;
	free(data);
}

__attribute__((constructor)) static void send_while_loading(void)
{
	void *ctx = zmq_ctx_new();
	void *pull = zmq_socket(ctx, ZMQ_PULL), *push = zmq_socket(ctx, ZMQ_PUSH);
	if (zmq_bind(pull, "inproc://early") != 0 || zmq_connect(push, "inproc://early") != 0)
		return;
	for (int i = 0; i < ZCEARLY_COUNT; i++) {
		char *buf = malloc(100);
		memset(buf, 'a' + i % 26, 100);
		zmq_msg_t m;
		zmq_msg_init_data(&m, buf, 100, ffn, NULL);
		in_send = 1;
		seen.sent += zmq_msg_send(&m, push, 0) == 100;
		in_send = 0;
	}
	char got[128];
	for (int i = 0; i < ZCEARLY_COUNT; i++)
		seen.received += zmq_recv(pull, got, sizeof got, 0) == 100 && got[0] == 'a' + i % 26;
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
}

const struct zcearly_seen *zcearly_seen(void)
{
	return &seen;
}
