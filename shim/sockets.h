/*
 * sockets.h - which socket a send went to: the socket table's slot of a
 * libzmq socket handle.
 *
 * zmq_socket, zmq_bind, zmq_connect and zmq_close (sockets.c) keep a small
 * map from handle to slot, off the hot path and under a lock; sends only
 * read it. The map is open addressing on the handle's address, 4 times
 * larger than the table and never holding more entries than the table has
 * rows (closed sockets leave a tombstone; slots are never reused), so a
 * lookup is a hash, a load and a compare, and a miss ends at the first
 * empty entry a probe or two later.
 */
#ifndef ZCSHIM_SOCKETS_H
#define ZCSHIM_SOCKETS_H

#include <stdint.h>

#include "zcshim_segment.h"

#define ZCS_SOCKMAP_SIZE (4 * ZCS_NSOCKETS)
#define ZCS_SOCKMAP_TOMB ((void *)1)

struct zcs_sockmap_entry {
	void *handle;  /* NULL empty, ZCS_SOCKMAP_TOMB closed; stored last, with release */
	uint32_t slot;
};
extern struct zcs_sockmap_entry zcs_sockmap[ZCS_SOCKMAP_SIZE];

/* A handle the map does not hold: a socket made before the shim was loaded
 * (dlopen) is entered now; beyond the table, or not a socket, it is "other". */
unsigned zcs_socket_miss(void *handle);

static inline unsigned zcs_sockmap_hash(const void *handle)
{
	/* handles are heap addresses: the low bits carry little */
	return (unsigned)(((uintptr_t)handle >> 4) * UINT64_C(0x9e3779b97f4a7c15) >> 56) &
	       (ZCS_SOCKMAP_SIZE - 1);
}

/* The slot calls on this socket are counted under (the hot path caches it
 * per op in TLS, record.h, until zcs_sockets_epoch moves). */
static inline unsigned zcs_socket_slot(void *handle)
{
	for (unsigned i = zcs_sockmap_hash(handle);; i = (i + 1) & (ZCS_SOCKMAP_SIZE - 1)) {
		void *h = __atomic_load_n(&zcs_sockmap[i].handle, __ATOMIC_ACQUIRE);
		if (h == handle)
			return zcs_sockmap[i].slot;
		if (!h)
			return zcs_socket_miss(handle);
	}
}

/* Bumped (with release) whenever a handle may have changed slot: a socket
 * made or closed. */
extern uint32_t zcs_sockets_epoch;
unsigned zcs_socket_slot_slow(void *handle);

/* Called by the wrappers after libzmq succeeded; errno is kept. */
void zcs_socket_opened(void *handle, int type);
void zcs_socket_endpoint(void *handle, const char *endpoint, int bound);
/* zmq_close: the slot before libzmq closes it, then the slot to retire. */
unsigned zcs_socket_closing(void *handle);
void zcs_socket_closed(void *handle, unsigned slot);

/* Around fork (pthread_atfork); in the child the parent's sockets are not
 * the child's to use. */
void zcs_sockets_lock(void);
void zcs_sockets_unlock(void);
void zcs_sockets_after_fork(void);

#endif
