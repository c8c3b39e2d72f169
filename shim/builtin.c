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
