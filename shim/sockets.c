/*
 * sockets.c - the socket table: rows in the segment, the handle map in
 * process memory (see sockets.h).
 *
 * Everything here runs in zmq_socket, zmq_bind, zmq_connect and zmq_close,
 * or once per unknown handle, never per send, so it takes a plain mutex. It
 * calls nothing of the app's and no libzmq function that could call back
 * into us, so the lock cannot nest.
 */
#include "sockets.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "real.h"
#include "segment.h"
#include "utf8.h"

struct zcs_sockmap_entry zcs_sockmap[ZCS_SOCKMAP_SIZE];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned rows_used; /* table rows given out, slots 1..rows_used; read without lock */

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The row of slot, or NULL when there is no segment to hold it. */
static struct zcs_socket *row(unsigned slot)
{
	struct zcs_shared *sh = zcs_segment_shared();
	return sh && slot ? &sh->sockets[slot] : NULL;
}

/* Seqlock: odd while the row changes (zcshim_segment.h). */
static void row_begin(struct zcs_socket *r)
{
#if defined(__SANITIZE_THREAD__)
	/* TSan refuses fences; the reader is another process anyway */
	__atomic_fetch_add(&r->seq, 1, __ATOMIC_ACQ_REL);
#else
	/* the odd seq before any of the row's stores, on any CPU */
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
#endif
}

static void row_end(struct zcs_socket *r)
{
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELEASE);
}

static struct zcs_sockmap_entry *find(void *handle)
{
	for (unsigned i = zcs_sockmap_hash(handle);; i = (i + 1) & (ZCS_SOCKMAP_SIZE - 1)) {
		void *h = zcs_sockmap[i].handle;
		if (h == handle)
			return &zcs_sockmap[i];
		if (!h)
			return NULL;
	}
}

/* Give handle the next row, if any is left. Called with lock held. */
static unsigned enter(void *handle, int type)
{
	struct zcs_shared *sh = zcs_segment_shared();
	if (sh)
		__atomic_fetch_add(&sh->sockets_seen, 1, __ATOMIC_RELAXED);
	if (rows_used >= ZCS_NSOCKETS)
		return ZCS_SLOT_OTHER;
	unsigned slot = rows_used + 1;
	struct zcs_socket *r = row(slot);
	if (r) {
		row_begin(r);
		r->state = ZCS_SOCK_OPEN;
		r->type = type;
		r->opened_unix_ns = wall_ns();
		r->closed_unix_ns = 0;
		r->endpoints[0] = '\0';
		row_end(r);
	}
	/* at most ZCS_NSOCKETS entries ever, in 4 times as many places: an
	 * empty one is always found */
	unsigned i = zcs_sockmap_hash(handle);
	while (zcs_sockmap[i].handle)
		i = (i + 1) & (ZCS_SOCKMAP_SIZE - 1);
	zcs_sockmap[i].slot = slot;
	__atomic_store_n(&zcs_sockmap[i].handle, handle, __ATOMIC_RELEASE);
	__atomic_store_n(&rows_used, slot, __ATOMIC_RELEASE);
	return slot;
}

/* The socket at slot is gone: its row says so and keeps its figures.
 * Called with lock held. */
static void mark_closed(unsigned slot)
{
	struct zcs_socket *r = row(slot);
	if (r && r->state == ZCS_SOCK_OPEN) {
		row_begin(r);
		r->state = ZCS_SOCK_CLOSED;
		r->closed_unix_ns = wall_ns();
		row_end(r);
	}
}

void zcs_socket_opened(void *handle, int type)
{
	int saved = errno;
	pthread_mutex_lock(&lock);
	/* libzmq just returned this address for a new socket: an entry for it
	 * is a closed socket's whose zmq_close has not got to us yet */
	struct zcs_sockmap_entry *e = find(handle);
	if (e) {
		__atomic_store_n(&e->handle, ZCS_SOCKMAP_TOMB, __ATOMIC_RELEASE);
		mark_closed(e->slot);
	}
	enter(handle, type);
	pthread_mutex_unlock(&lock);
	errno = saved;
}

unsigned zcs_socket_miss(void *handle)
{
	if (__atomic_load_n(&rows_used, __ATOMIC_ACQUIRE) >= ZCS_NSOCKETS)
		return ZCS_SLOT_OTHER;
	int saved = errno;
	/* Made before we were loaded. libzmq checks the handle here as its
	 * send is about to: not a socket, and it stays "other". Asked before
	 * taking our lock: libzmq may take the socket's own mutex, which a
	 * thread inside a send holds, whose ffn may come to us. */
	int type;
	size_t len = sizeof type;
	int is_socket = real_zmq_getsockopt(handle, ZMQ_TYPE, &type, &len) == 0;
	unsigned slot = ZCS_SLOT_OTHER;
	pthread_mutex_lock(&lock);
	struct zcs_sockmap_entry *e = find(handle);
	if (e)
		slot = e->slot;
	else if (is_socket)
		slot = enter(handle, type);
	pthread_mutex_unlock(&lock);
	errno = saved;
	return slot;
}

/* Is endpoint already in the row's list (NUL-terminated strings ending
 * with an empty one: zcshim_segment.h)? */
static int listed(const char *list, const char *endpoint)
{
	for (const char *p = list; *p; p += strlen(p) + 1)
		if (strcmp(p, endpoint) == 0)
			return 1;
	return 0;
}

/* Add endpoint to the row's list, once. One that does not fit goes in cut
 * on a character boundary (if a character fits), the row is marked
 * ZCS_SOCK_F_ENDPOINTS_CUT, and the list takes no more. */
static void append(struct zcs_socket *r, const char *endpoint)
{
	char *list = r->endpoints;
	size_t end = 0, len = strlen(endpoint), keep = len;
	if (!len || (r->flags & ZCS_SOCK_F_ENDPOINTS_CUT) || listed(list, endpoint))
		return;
	while (list[end]) /* end: the empty string that closes the list */
		end += strlen(list + end) + 1;
	/* the endpoint, its NUL, then the closing empty string */
	if (end + len + 2 > ZCS_ENDPOINTS_MAX) {
		r->flags |= ZCS_SOCK_F_ENDPOINTS_CUT;
		keep = end + 2 < ZCS_ENDPOINTS_MAX
			       ? zcs_utf8_cut(endpoint, len, ZCS_ENDPOINTS_MAX - end - 2) : 0;
		if (!keep)
			return;
	}
	memcpy(list + end, endpoint, keep);
	list[end + keep] = '\0';
	list[end + keep + 1] = '\0';
}

void zcs_socket_endpoint(void *handle, const char *endpoint, int bound)
{
	int saved = errno;
	/* a wildcard bind (tcp port or ipc path given as a star) lands where
	 * libzmq chooses: ask where */
	char last[256];
	size_t len = sizeof last;
	if (bound && strchr(endpoint, '*') &&
	    real_zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, last, &len) == 0 && len > 1) {
		last[sizeof last - 1] = '\0';
		endpoint = last;
	}
	unsigned slot = zcs_socket_slot(handle);
	pthread_mutex_lock(&lock);
	struct zcs_socket *r = row(slot);
	if (r) {
		row_begin(r);
		append(r, endpoint);
		row_end(r);
	}
	pthread_mutex_unlock(&lock);
	errno = saved;
}

unsigned zcs_socket_closing(void *handle)
{
	pthread_mutex_lock(&lock);
	struct zcs_sockmap_entry *e = find(handle);
	unsigned slot = e ? e->slot : ZCS_SLOT_OTHER;
	pthread_mutex_unlock(&lock);
	return slot;
}

void zcs_socket_closed(void *handle, unsigned slot)
{
	int saved = errno;
	pthread_mutex_lock(&lock);
	/* a new socket may get this address: it must not find our row (unless
	 * it already has, and has its own) */
	struct zcs_sockmap_entry *e = find(handle);
	if (e && e->slot == slot)
		__atomic_store_n(&e->handle, ZCS_SOCKMAP_TOMB, __ATOMIC_RELEASE);
	if (slot != ZCS_SLOT_OTHER)
		mark_closed(slot);
	pthread_mutex_unlock(&lock);
	errno = saved;
}

void zcs_sockets_lock(void)
{
	pthread_mutex_lock(&lock);
}

void zcs_sockets_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

void zcs_sockets_after_fork(void)
{
	pthread_mutex_init(&lock, NULL);
	memset(zcs_sockmap, 0, sizeof zcs_sockmap);
	rows_used = 0;
}
