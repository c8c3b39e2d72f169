/*
 * hold.c - the record pool and the ffn trampoline (see hold.h).
 */
#include "hold.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>

#include "clock.h"
#include "record.h"
#include "zmqmsg.h"

static struct zcs_hold pool[ZCS_HOLD_POOL];
static uint32_t pool_fresh;   /* records never handed out start here */
static uint64_t free_top;     /* ABA tag << 32 | index + 1 of the top record */
static uint32_t next_thread_id;

struct zcs_hold *zcs_hold_get(void)
{
	uint64_t top = __atomic_load_n(&free_top, __ATOMIC_ACQUIRE);
	while ((uint32_t)top) {
		struct zcs_hold *h = &pool[(uint32_t)top - 1];
		uint64_t next = ((top >> 32) + 1) << 32 |
				__atomic_load_n(&h->next, __ATOMIC_RELAXED);
		if (__atomic_compare_exchange_n(&free_top, &top, next, 1,
						__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			return h;
	}
	/* Touch the pool's pages only as far as it is used. */
	if (__atomic_load_n(&pool_fresh, __ATOMIC_RELAXED) >= ZCS_HOLD_POOL)
		return NULL;
	uint32_t i = __atomic_fetch_add(&pool_fresh, 1, __ATOMIC_RELAXED);
	return i < ZCS_HOLD_POOL ? &pool[i] : NULL;
}

void zcs_hold_put(struct zcs_hold *h)
{
	uint64_t index = (uint64_t)(h - pool) + 1;
	uint64_t top = __atomic_load_n(&free_top, __ATOMIC_RELAXED);
	uint64_t next;
	do {
		__atomic_store_n(&h->next, (uint32_t)top, __ATOMIC_RELAXED);
		next = ((top >> 32) + 1) << 32 | index;
	} while (!__atomic_compare_exchange_n(&free_top, &top, next, 1,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

struct zcs_hold *zcs_hold_of(const zmq_msg_t *msg)
{
	struct zcs_zmq_content *c = zcs_msg_zerocopy(msg);
	return c && c->ffn == zcs_hold_trampoline ? c->hint : NULL;
}

uint32_t zcs_thread_id(void)
{
	if (!zcs_tls.thread_id)
		zcs_tls.thread_id = __atomic_add_fetch(&next_thread_id, 1, __ATOMIC_RELAXED);
	return zcs_tls.thread_id;
}

int zcs_on_zmq_thread(void)
{
	if (!zcs_tls.zmq_thread) {
		int saved = errno;
		char name[17] = "";
		prctl(PR_GET_NAME, name, 0, 0, 0);
		zcs_tls.zmq_thread = strstr(name, "ZMQbg") ? 1 : 2;
		errno = saved;
	}
	return zcs_tls.zmq_thread == 1;
}

void zcs_hold_trampoline(void *data, void *hint)
{
	int saved_errno = errno;
	struct zcs_hold *h = hint;
	zcs_handoff_recv(h); /* first: it also orders the shim's init before us */
	uint64_t freed = zcs_ticks();
	zmq_free_fn *ffn = h->ffn;
	void *app_hint = h->hint;
	uint64_t t0 = h->t0_ticks, bytes = h->bytes;
	unsigned path = __atomic_load_n(&h->converted, __ATOMIC_RELAXED) ? ZCS_PATH_CONVERTED
									  : ZCS_PATH_ZEROCOPY;
	unsigned kind = zcs_tls.in_send     ? ZCS_FFN_IN_SEND
			: zcs_on_zmq_thread() ? ZCS_FFN_IO
			: zcs_thread_id() == h->thread_id ? ZCS_FFN_OWN
							  : ZCS_FFN_OTHER;
	zcs_hold_put(h);

	/* The app's ffn is app code: whatever libzmq calls it makes are the
	 * app's own (their return address is in the app), recorded and
	 * converted like any other, even on libzmq's IO thread. */
	unsigned depth = zcs_tls.depth;
	zcs_tls.depth = 0;
	errno = saved_errno;
	ffn(data, app_hint);
	saved_errno = errno;
	zcs_tls.depth = depth;

	uint64_t done = zcs_ticks();
	zcs_record(ZCS_OP_HOLD, path, bytes, zcs_elapsed_ns(t0, freed));
	zcs_record(ZCS_OP_FFN, path, bytes, zcs_elapsed_ns(freed, done));
	zcs_record_ffn_thread(kind);
	errno = saved_errno;
}
