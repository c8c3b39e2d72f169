/*
 * zcinstr - N iterations of one operation, for counting instructions:
 * bench/instructions runs it under valgrind --tool=callgrind with and
 * without the shim, at two N, so that set-up cancels out. The operations
 * are zcoverhead's (100 B; sends to a PUB without subscribers).
 *
 *   zcinstr send|msg_send_copy|init_close|msg_send_zc|recv|msg_recv N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static void ffn(void *data, void *hint)
{
	(void)data;
	(void)hint;
}

int main(int argc, char **argv)
{
	static const char *const ops[] = { "send",	  "msg_send_copy", "init_close",
					   "msg_send_zc", "recv",	   "msg_recv" };
	int op = -1;
	for (int i = 0; argc == 3 && i < 6; i++)
		if (!strcmp(argv[1], ops[i]))
			op = i;
	long n = argc == 3 ? atol(argv[2]) : 0;
	if (op < 0 || n <= 0) {
		fprintf(stderr, "usage: zcinstr send|msg_send_copy|init_close|msg_send_zc|"
				"recv|msg_recv N\n");
		return 2;
	}
	void *ctx = zmq_ctx_new();
	void *pub = zmq_socket(ctx, ZMQ_PUB);
	void *push = zmq_socket(ctx, ZMQ_PUSH), *pull = zmq_socket(ctx, ZMQ_PULL);
	int hwm = 0; /* every message queued for the receive loops */
	zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
	if (zmq_bind(pub, "inproc://pub") || zmq_bind(pull, "inproc://q") ||
	    zmq_connect(push, "inproc://q")) {
		fprintf(stderr, "zcinstr: %s\n", zmq_strerror(zmq_errno()));
		return 1;
	}
	static char buf[100];
	zmq_msg_t m;
	if (op >= 4)
		for (long i = 0; i < n; i++)
			zmq_send(push, buf, sizeof buf, 0);
	for (long i = 0; i < n; i++) {
		switch (op) {
		case 0: zmq_send(pub, buf, sizeof buf, 0); break;
		case 1:
			zmq_msg_init_size(&m, sizeof buf);
			zmq_msg_send(&m, pub, 0);
			break;
		case 2:
			zmq_msg_init_data(&m, buf, sizeof buf, ffn, NULL);
			zmq_msg_close(&m);
			break;
		case 3:
			zmq_msg_init_data(&m, buf, sizeof buf, ffn, NULL);
			zmq_msg_send(&m, pub, 0);
			break;
		case 4: zmq_recv(pull, buf, sizeof buf, 0); break;
		default:
			zmq_msg_init(&m);
			zmq_msg_recv(&m, pull, 0);
			zmq_msg_close(&m);
		}
	}
	zmq_close(pub);
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	return 0;
}
