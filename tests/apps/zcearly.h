/*
 * zcearly.h - what zcearlylib's constructor saw, for zcearly to print.
 */
#ifndef ZCSHIM_TESTS_ZCEARLY_H
#define ZCSHIM_TESTS_ZCEARLY_H

#define ZCEARLY_COUNT 100

struct zcearly_seen {
	long sent, received;
	long ffns;        /* ffn calls, each buffer's */
	long ffn_in_send; /* ... run inside zmq_msg_send: the send was converted */
};

const struct zcearly_seen *zcearly_seen(void);

#endif
