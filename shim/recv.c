/*
 * recv.c - the receive side: zmq_recv, zmq_msg_recv, zmq_recvmsg, zmq_poll.
 *
 * Per socket and size class, exact: frames received (calls), their bytes,
 * and whole messages (frames without the more flag); failed receives by
 * errno (EAGAIN: nothing there with ZMQ_DONTWAIT, or ZMQ_RCVTIMEO ran
 * out). The time inside these calls is sampled like a send's: it is time
 * the thread waited for its upstream, which the pipeline view weighs
 * against the time it spent blocked sending downstream.
 *
 * zmq_recv copies into the app's buffer and hides the message, and with it
 * the more flag; asking libzmq (ZMQ_RCVMORE) after every call would cost a
 * call. So, with the message layout known, the wrapper does what libzmq's
 * own zmq_recv does (src/zmq.cpp): receive into a message of its own with
 * zmq_msg_recv, copy what fits, close it, return the message's full size;
 * and reads size and more flag from the message on the way.
 *
 * zmq_poll is recorded under "other" (it waits on many sockets at once):
 * calls, and time waited. libzmq's own calls (zmq_recvmsg jumps to
 * zmq_msg_recv) pass through unrecorded, as for sends.
 *
 * A first receive often waits longest (for the upstream to start): the
 * thread is noted as a caller before the call (wrap.h).
 */
#include <errno.h>
#include <string.h>
#include <zmq.h>

#include "wrap.h"
#include "zmqmsg.h"

/* zmq_msg_recv's argument order for both message receives. */
typedef int msg_recv_fn(zmq_msg_t *, void *, int);

/* zmq_msg_recv and zmq_recvmsg: one body, made twice (msg_recv, recvmsg). */
static inline __attribute__((always_inline)) int
recv_msg(unsigned op, msg_recv_fn *real_fn, zmq_msg_t *msg, void *socket, int flags)
{
	unsigned slot = zcs_slot_of(op, socket);
	struct zcs_sample *smp = zcs_sampler(slot, op);
	zcs_caller_started();
	uint64_t t0 = zcs_sample_due(smp);
	int rc = real_fn(msg, socket, flags);
	if (__builtin_expect(rc < 0, 0)) {
		zcs_failed(op, slot, errno, t0, smp);
		return rc;
	}
	/* received over inproc, a zero-copy message arrives as the sender's
	 * buffer with its ffn: say so */
	unsigned path = zcs_msg_zerocopy(msg) ? ZCS_PATH_ZEROCOPY : ZCS_PATH_COPY;
	zcs_done(op, slot, path, zcs_msg_size(msg), !zcs_msg_more(msg), t0, smp);
	return rc;
}

static OURS int recvmsg_in_msg_recv_order(zmq_msg_t *msg, void *socket, int flags)
{
	return real_zmq_recvmsg(socket, msg, flags);
}

static NOINLINE int msg_recv(zmq_msg_t *msg, void *socket, int flags)
{
	return recv_msg(ZCS_OP_MSG_RECV, real_zmq_msg_recv, msg, socket, flags);
}

static NOINLINE int recvmsg(zmq_msg_t *msg, void *socket, int flags)
{
	return recv_msg(ZCS_OP_RECVMSG, recvmsg_in_msg_recv_order, msg, socket, flags);
}

EXPORT int zmq_msg_recv(zmq_msg_t *msg, void *socket, int flags)
{
	if (!zcs_active(__builtin_return_address(0)) || !msg || !zcs_layout_known)
		return real_zmq_msg_recv ? real_zmq_msg_recv(msg, socket, flags) : zcs_enosys();
	return msg_recv(msg, socket, flags);
}

EXPORT int zmq_recvmsg(void *socket, zmq_msg_t *msg, int flags)
{
	if (!zcs_active(__builtin_return_address(0)) || !msg || !zcs_layout_known)
		return real_zmq_recvmsg ? real_zmq_recvmsg(socket, msg, flags) : zcs_enosys();
	return recvmsg(msg, socket, flags);
}

/* libzmq's zmq_recv, through zmq_msg_recv (see the top). */
static NOINLINE int recv_buf(void *socket, void *buf, size_t len, int flags)
{
	unsigned slot = zcs_slot_of(ZCS_OP_RECV, socket);
	struct zcs_sample *smp = zcs_sampler(slot, ZCS_OP_RECV);
	zcs_caller_started();
	uint64_t t0 = zcs_sample_due(smp);
	zmq_msg_t msg;
	real_zmq_msg_init(&msg);
	int rc = real_zmq_msg_recv(&msg, socket, flags);
	if (__builtin_expect(rc < 0, 0)) {
		int err = errno;
		real_zmq_msg_close(&msg);
		zcs_failed(ZCS_OP_RECV, slot, err, t0, smp);
		errno = err;
		return -1;
	}
	size_t bytes = zcs_msg_size(&msg);
	int last = !zcs_msg_more(&msg);
	size_t to_copy = (size_t)rc < len ? (size_t)rc : len; /* oversized: truncated */
	if (to_copy)
		memcpy(buf, real_zmq_msg_data(&msg), to_copy);
	real_zmq_msg_close(&msg);
	zcs_done(ZCS_OP_RECV, slot, ZCS_PATH_COPY, bytes, last, t0, smp);
	return rc;
}

EXPORT int zmq_recv(void *socket, void *buf, size_t len, int flags)
{
	/* a NULL buffer with a length is libzmq's to refuse (it asserts) */
	if (!zcs_active(__builtin_return_address(0)) || !zcs_layout_known || (!buf && len) ||
	    !real_zmq_msg_recv)
		return real_zmq_recv ? real_zmq_recv(socket, buf, len, flags) : zcs_enosys();
	return recv_buf(socket, buf, len, flags);
}

static NOINLINE int poll_items(zmq_pollitem_t *items, int nitems, long timeout)
{
	struct zcs_sample *smp = zcs_sampler(ZCS_SLOT_OTHER, ZCS_OP_POLL);
	zcs_caller_started();
	uint64_t t0 = zcs_sample_due(smp);
	int rc = real_zmq_poll(items, nitems, timeout);
	if (rc >= 0)
		zcs_done(ZCS_OP_POLL, ZCS_SLOT_OTHER, ZCS_PATH_WAIT, 0, 1, t0, smp);
	else
		zcs_failed(ZCS_OP_POLL, ZCS_SLOT_OTHER, errno, t0, smp);
	return rc;
}

EXPORT int zmq_poll(zmq_pollitem_t *items, int nitems, long timeout)
{
	if (!zcs_active(__builtin_return_address(0)))
		return real_zmq_poll ? real_zmq_poll(items, nitems, timeout) : zcs_enosys();
	return poll_items(items, nitems, timeout);
}
