/*
 * pairs.c - the (ffn, hint) table and its ZCS_NPAIRS trampolines (pairs.h).
 */
#include "pairs.h"

#include <errno.h>
#include <pthread.h>

#include "hold.h"

struct zcs_pair zcs_pairs[ZCS_NPAIRS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned pair_hash(zmq_free_fn *ffn, void *hint)
{
	uintptr_t x = (uintptr_t)ffn ^ ((uintptr_t)hint * 31);
	return (unsigned)((x >> 4) * UINT64_C(0x9e3779b97f4a7c15) >> 58) & (ZCS_NPAIRS - 1);
}

static int lookup(zmq_free_fn *ffn, void *hint, int *empty)
{
	*empty = -1;
	for (unsigned i = pair_hash(ffn, hint), n = 0; n < ZCS_PAIR_PROBE;
	     i = (i + 1) & (ZCS_NPAIRS - 1), n++) {
		zmq_free_fn *f = __atomic_load_n(&zcs_pairs[i].ffn, __ATOMIC_ACQUIRE);
		if (!f) {
			*empty = (int)i;
			return -1;
		}
		if (f == ffn && zcs_pairs[i].hint == hint)
			return (int)i;
	}
	return -1;
}

int zcs_pair_find(zmq_free_fn *ffn, void *hint)
{
	int empty;
	int k = lookup(ffn, hint, &empty);
	if (k >= 0 || empty < 0)
		return k;
	int saved = errno;
	pthread_mutex_lock(&lock);
	k = lookup(ffn, hint, &empty); /* another thread may have just added it */
	if (k < 0 && empty >= 0) {
		zcs_pairs[empty].hint = hint;
		__atomic_store_n(&zcs_pairs[empty].ffn, ffn, __ATOMIC_RELEASE);
		k = empty;
	}
	pthread_mutex_unlock(&lock);
	errno = saved;
	return k;
}

/* libzmq lets go of a buffer of pair k: the app's ffn, then off the gauge. */
static void released(unsigned k, void *data, void *code)
{
	uintptr_t c = (uintptr_t)code;
	zcs_handoff_recv(&zcs_pairs[k]);
	/* The app's ffn is app code: whatever libzmq calls it makes are the
	 * app's own, recorded and converted like any other. */
	unsigned depth = zcs_tls.depth;
	zcs_tls.depth = 0;
	zcs_pairs[k].ffn(data, zcs_pairs[k].hint);
	zcs_tls.depth = depth;
	if ((uint8_t)c == zcs_hold_epoch) /* else handed over before a fork */
		zcs_gauge_released(c >> 8);
}

/* One static trampoline per pair: libzmq's hint slot is taken by the
 * buffer's size and epoch, so the pair is known by the function itself. */
#define T(n, i) \
	__attribute__((noinline)) static void t##n##i(void *d, void *h) \
	{ released((n) * 8 + (i), d, h); }
#define T8(n) T(n, 0) T(n, 1) T(n, 2) T(n, 3) T(n, 4) T(n, 5) T(n, 6) T(n, 7)
T8(0) T8(1) T8(2) T8(3) T8(4) T8(5) T8(6) T8(7)
#undef T
#undef T8

#define T(n, i) t##n##i,
#define T8(n) T(n, 0) T(n, 1) T(n, 2) T(n, 3) T(n, 4) T(n, 5) T(n, 6) T(n, 7)
zmq_free_fn *const zcs_pair_trampolines[ZCS_NPAIRS] = {
	T8(0) T8(1) T8(2) T8(3) T8(4) T8(5) T8(6) T8(7)
};
#undef T
#undef T8
