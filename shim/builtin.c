/*
 * builtin.c - the sockets a built-in libzmq made itself (see builtin.h).
 *
 * A handful of slots, claimed and cleared with compare-and-swap: one per
 * monitored socket at most, so a linear scan up to the highest slot ever
 * used is as quick as anything. Consulted only when zcs_libzmq_builtin is
 * set, on sends that already left the common path.
 */
#include "builtin.h"

#include <stddef.h>
#include <zmq.h>

#include "real.h"
#include "record.h"

int zcs_libzmq_builtin;
__thread unsigned zcs_in_monitor __attribute__((tls_model("initial-exec")));

#define NOWN 64

static void *own[NOWN];
static unsigned high; /* slots [0, high) may be in use */

void zcs_own_socket_add(void *socket)
{
	for (unsigned i = 0; i < NOWN; i++) {
		void *expect = NULL;
		if (__atomic_compare_exchange_n(&own[i], &expect, socket, 0, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED)) {
			unsigned h = __atomic_load_n(&high, __ATOMIC_RELAXED);
			while (h < i + 1 && !__atomic_compare_exchange_n(&high, &h, i + 1, 1,
									  __ATOMIC_RELEASE,
									  __ATOMIC_RELAXED))
				;
			return;
		}
	}
	/* more monitored sockets than slots: the rest's events count as the app's */
}

void zcs_own_socket_remove(void *socket)
{
	unsigned h = __atomic_load_n(&high, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < h; i++) {
		void *expect = socket;
		if (__atomic_compare_exchange_n(&own[i], &expect, NULL, 0, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			return;
	}
}

int zcs_own_socket(const void *socket)
{
	unsigned h = __atomic_load_n(&high, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < h; i++)
		if (__atomic_load_n(&own[i], __ATOMIC_ACQUIRE) == socket)
			return 1;
	return 0;
}

/* ---------------------------------------------------------- depth */

#define NEST(ret, name, params, args)                                         \
	static ret (*orig_##name) params;                                     \
	static ret nest_##name params                                         \
	{                                                                     \
		zcs_tls.depth++;                                              \
		ret r = orig_##name args;                                     \
		zcs_tls.depth--;                                              \
		return r;                                                     \
	}
NEST(int, zmq_msg_init_data, (zmq_msg_t *m, void *d, size_t n, zmq_free_fn *f, void *h),
     (m, d, n, f, h))
NEST(int, zmq_send, (void *s, const void *b, size_t n, int f), (s, b, n, f))
NEST(int, zmq_send_const, (void *s, const void *b, size_t n, int f), (s, b, n, f))
NEST(int, zmq_msg_send, (zmq_msg_t *m, void *s, int f), (m, s, f))
NEST(int, zmq_sendmsg, (void *s, zmq_msg_t *m, int f), (s, m, f))
NEST(int, zmq_msg_recv, (zmq_msg_t *m, void *s, int f), (m, s, f))
NEST(int, zmq_recvmsg, (void *s, zmq_msg_t *m, int f), (s, m, f))
NEST(int, zmq_recv, (void *s, void *b, size_t n, int f), (s, b, n, f))
NEST(int, zmq_poll, (zmq_pollitem_t *i, int n, long t), (i, n, t))
NEST(void *, zmq_socket, (void *c, int t), (c, t))
NEST(int, zmq_bind, (void *s, const char *e), (s, e))
NEST(int, zmq_connect, (void *s, const char *e), (s, e))
NEST(int, zmq_close, (void *s), (s))
#undef NEST

void zcs_builtin_nest(void)
{
	static int done;
	if (__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
		return; /* a forwarder must never forward to itself */
#define SWAP(name)                                                            \
	do {                                                                  \
		orig_##name = real_##name;                                    \
		if (orig_##name)                                              \
			__atomic_store_n(&real_##name, nest_##name, __ATOMIC_RELEASE); \
	} while (0)
	SWAP(zmq_msg_init_data);
	SWAP(zmq_send);
	SWAP(zmq_send_const);
	SWAP(zmq_msg_send);
	SWAP(zmq_sendmsg);
	SWAP(zmq_msg_recv);
	SWAP(zmq_recvmsg);
	SWAP(zmq_recv);
	SWAP(zmq_poll);
	SWAP(zmq_socket);
	SWAP(zmq_bind);
	SWAP(zmq_connect);
	SWAP(zmq_close);
#undef SWAP
}
