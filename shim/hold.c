/*
 * hold.c - buffer records, their magazines, the in-flight gauge and the ffn
 * trampoline (see hold.h).
 */
#include "hold.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "clock.h"
#include "record.h"
#include "segment.h"
#include "zmqmsg.h"

static struct {
	pthread_mutex_t lock;
	struct zcs_hold *full;      /* magazines, linked by ->batch */
	struct zcs_hold *chunk;     /* carving from here */
	unsigned chunk_left;
	unsigned chunks;
	pthread_once_t key_once;
	pthread_key_t key;          /* gives a thread's magazines back at its exit */
	int key_ok;
} depot = { .lock = PTHREAD_MUTEX_INITIALIZER, .key_once = PTHREAD_ONCE_INIT };

uint8_t zcs_hold_epoch;
static uint32_t next_thread_id;

static void give_back(void *unused);

static void make_key(void)
{
	depot.key_ok = pthread_key_create(&depot.key, give_back) == 0;
}

/* Magazines are per thread; make sure this thread's go back when it ends. */
static void note_thread(void)
{
	zcs_tls.hold_key_set = 1;
	pthread_once(&depot.key_once, make_key);
	if (depot.key_ok)
		pthread_setspecific(depot.key, (void *)1);
}

/* Called with depot.lock held. */
static void depot_push(struct zcs_hold *first, unsigned n)
{
	first->nbatch = n;
	first->batch = depot.full;
	depot.full = first;
}

/* A magazine from the depot, or carved from a chunk; NULL when the chunk
 * limit is reached. Called with depot.lock held. */
static struct zcs_hold *depot_pop(unsigned *n)
{
	struct zcs_hold *first = depot.full;
	if (first) {
		depot.full = first->batch;
		*n = first->nbatch;
		return first;
	}
	if (!depot.chunk_left) {
		if (depot.chunks >= ZCS_HOLD_MAX_CHUNKS)
			return NULL;
		void *p = mmap(NULL, ZCS_HOLD_CHUNK * sizeof(struct zcs_hold),
			       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		depot.chunk = p;
		depot.chunk_left = ZCS_HOLD_CHUNK;
		depot.chunks++;
	}
	first = depot.chunk;
	*n = depot.chunk_left < ZCS_HOLD_BATCH ? depot.chunk_left : ZCS_HOLD_BATCH;
	for (unsigned i = 0; i + 1 < *n; i++)
		first[i].next = &first[i + 1];
	first[*n - 1].next = NULL;
	depot.chunk += *n;
	depot.chunk_left -= *n;
	return first;
}

struct zcs_hold *zcs_hold_refill(void)
{
	struct zcs_hold *h;
	unsigned n = ZCS_HOLD_BATCH;
	if (zcs_tls.hold_full) {
		h = zcs_tls.hold_full;
		zcs_tls.hold_full = NULL;
	} else {
		int saved = errno;
		if (!zcs_tls.hold_key_set)
			note_thread();
		pthread_mutex_lock(&depot.lock);
		h = depot_pop(&n);
		pthread_mutex_unlock(&depot.lock);
		errno = saved;
		if (!h)
			return NULL;
	}
	zcs_tls.hold_free = h;
	zcs_tls.hold_nfree = n;
	return h;
}

void zcs_hold_spill(void)
{
	int saved = errno;
	if (!zcs_tls.hold_key_set)
		note_thread();
	if (zcs_tls.hold_nfree < ZCS_HOLD_BATCH) { /* only noted */
		errno = saved;
		return;
	}
	if (zcs_tls.hold_full) {
		pthread_mutex_lock(&depot.lock);
		depot_push(zcs_tls.hold_full, ZCS_HOLD_BATCH);
		pthread_mutex_unlock(&depot.lock);
	}
	zcs_tls.hold_full = zcs_tls.hold_free;
	zcs_tls.hold_free = NULL;
	zcs_tls.hold_nfree = 0;
	errno = saved;
}

static void give_back(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&depot.lock);
	if (zcs_tls.hold_full)
		depot_push(zcs_tls.hold_full, ZCS_HOLD_BATCH);
	if (zcs_tls.hold_free)
		depot_push(zcs_tls.hold_free, zcs_tls.hold_nfree);
	pthread_mutex_unlock(&depot.lock);
	zcs_tls.hold_full = zcs_tls.hold_free = NULL;
	zcs_tls.hold_nfree = 0;
	zcs_tls.hold_key_set = 0; /* a later put (another key's destructor) sets it again */
}

void zcs_hold_lock(void)
{
	pthread_mutex_lock(&depot.lock);
}

void zcs_hold_unlock(void)
{
	pthread_mutex_unlock(&depot.lock);
}

void zcs_hold_after_fork(void)
{
	pthread_mutex_init(&depot.lock, NULL);
	zcs_hold_epoch++;
	zcs_tls.gauge_slack[0] = zcs_tls.gauge_slack[1] = 0;
}

/* ------------------------------------------------------------ the gauge */

/* Add up every used shard's gauge lines: in = handed - released, handed
 * read first (a release read after them may count a buffer handed since,
 * which only lowers the result; the other way round it could exceed any
 * value the gauge took). */
static void gauge_now(uint64_t in[2])
{
	uint64_t handed[2] = { 0, 0 }, rel[2] = { 0, 0 };
	const struct zcs_shared *sh = zcs_shared_part;
	uint64_t used[ZCS_NSHARDS / 64];
	for (unsigned w = 0; w < ZCS_NSHARDS / 64; w++)
		used[w] = __atomic_load_n(&sh->shards_used[w], __ATOMIC_ACQUIRE);
	for (int pass = 0; pass < 2; pass++) { /* handed, then released */
		uint64_t *sum = pass ? rel : handed;
		for (unsigned w = 0; w < ZCS_NSHARDS / 64; w++)
			for (uint64_t bits = used[w]; bits; bits &= bits - 1) {
				const struct zcs_shard_head *h =
					zcs_shard_area[w * 64 + (unsigned)__builtin_ctzll(bits)];
				if (!h)
					continue;
				const struct zcs_gauge_line *l = pass ? &h->released : &h->handed;
				sum[0] += __atomic_load_n(&l->buffers, __ATOMIC_ACQUIRE);
				sum[1] += __atomic_load_n(&l->bytes, __ATOMIC_ACQUIRE);
			}
	}
	in[0] = handed[0] > rel[0] ? handed[0] - rel[0] : 0;
	in[1] = handed[1] > rel[1] ? handed[1] - rel[1] : 0;
}

/* Peaks only rise. The ticks follow the value, so a reader may briefly see
 * a new peak with the previous one's time; of two raising at once, the
 * one whose value is no longer the peak leaves the time alone. */
static void raise_peak(uint64_t *peak, uint64_t *peak_ticks, uint64_t now)
{
	uint64_t p = __atomic_load_n(peak, __ATOMIC_RELAXED);
	while (now > p)
		if (__atomic_compare_exchange_n(peak, &p, now, 1, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			uint64_t t = zcs_ticks();
			if (__atomic_load_n(peak, __ATOMIC_RELAXED) == now)
				__atomic_store_n(peak_ticks, t, __ATOMIC_RELAXED);
			return;
		}
}

/* Read the whole gauge, raise the peaks it passed, and give this thread its
 * slack: how much it may hand over before the peaks could be passed. */
static __attribute__((noinline)) void gauge_look(void)
{
	struct zcs_peaks *pk = &zcs_shared_part->peak;
	uint64_t in[2];
	gauge_now(in);
	if (in[0] > __atomic_load_n(&pk->buffers, __ATOMIC_RELAXED))
		raise_peak(&pk->buffers, &pk->buffers_ticks, in[0]);
	if (in[1] > __atomic_load_n(&pk->bytes, __ATOMIC_RELAXED))
		raise_peak(&pk->bytes, &pk->bytes_ticks, in[1]);
	uint64_t pb = __atomic_load_n(&pk->buffers, __ATOMIC_RELAXED);
	uint64_t py = __atomic_load_n(&pk->bytes, __ATOMIC_RELAXED);
	zcs_tls.gauge_slack[0] = (int64_t)(pb - (in[0] < pb ? in[0] : pb));
	zcs_tls.gauge_slack[1] = (int64_t)(py - (in[1] < py ? in[1] : py));
}

/* The gauge has no shared counter for threads to fight over: one costs
 * ~25 ns a buffer when the ffn runs on another core. Each shard counts
 * what its threads handed over and had back, on lines of their own. A new
 * peak can only be reached as a buffer is handed over, and only by at most
 * what was handed since the gauge was last read; so a thread reads the
 * whole gauge only when what it handed since its last look, less what it
 * had back itself, exceeds the room left under the peak then. With one
 * sending thread (the IO thread only releasing) the peak is exact; with
 * several sending at once, each checks its own handing, and the peak can
 * be short by what the others handed over in the same window. */
void zcs_gauge_handed(uint64_t bytes)
{
	if (!zcs_events())
		return;
	struct zcs_shard_head *me = zcs_tls.head;
	int own = zcs_tls.owned;
	zcs_add(&me->handed.buffers, 1, own);
	zcs_add(&me->handed.bytes, bytes, own);
	zcs_tls.gauge_slack[0] -= 1;
	zcs_tls.gauge_slack[1] -= (int64_t)bytes;
	if (__builtin_expect(zcs_tls.gauge_slack[0] < 0 || zcs_tls.gauge_slack[1] < 0, 0))
		gauge_look();
}

void zcs_gauge_released(uint64_t bytes)
{
	if (!zcs_events())
		return;
	struct zcs_shard_head *me = zcs_tls.head;
	zcs_add(&me->released.buffers, 1, zcs_tls.owned);
	zcs_add(&me->released.bytes, bytes, zcs_tls.owned);
	/* the gauge fell: room for as much again under the peak */
	zcs_tls.gauge_slack[0] += 1;
	zcs_tls.gauge_slack[1] += (int64_t)bytes;
}

void zcs_hold_untracked(void)
{
	struct zcs_shared *sh = zcs_shared_part;
	if (sh)
		__atomic_fetch_add(&sh->untracked, 1, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- misc */

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

/* ---------------------------------------------------------- trampoline */

/* A timed buffer: hold time, ffn cost and thread kind, recorded. */
static __attribute__((noinline)) void trampoline_timed(void *data, struct zcs_hold *h)
{
	int saved_errno = errno;
	uint64_t t0 = h->t0_ticks, freed = zcs_ticks();
	zmq_free_fn *ffn = h->ffn;
	void *app_hint = h->hint;
	uint64_t bytes = h->bytes;
	unsigned slot = __atomic_load_n(&h->slot, __ATOMIC_RELAXED);
	int ours = h->epoch == zcs_hold_epoch;
	unsigned path = __atomic_load_n(&h->converted, __ATOMIC_RELAXED) ? ZCS_PATH_CONVERTED
									  : ZCS_PATH_ZEROCOPY;
	uint32_t thread_id = h->thread_id;
	zcs_hold_put(h);

	unsigned depth = zcs_tls.depth;
	zcs_tls.depth = 0;
	errno = saved_errno;
	ffn(data, app_hint);
	saved_errno = errno;
	zcs_tls.depth = depth;

	if (ours) { /* else handed over before a fork, in the parent's segment */
		uint64_t done = zcs_ticks();
		zcs_gauge_released(bytes);
		struct zcs_counts *counts = zcs_events();
		if (counts) {
			unsigned kind = zcs_tls.in_send ? ZCS_FFN_IN_SEND
					: zcs_on_zmq_thread() ? ZCS_FFN_IO
					: zcs_thread_id() == thread_id ? ZCS_FFN_OWN : ZCS_FFN_OTHER;
			unsigned k = zcs_size_class(bytes);
			unsigned hold = zcs_cell_get(slot, ZCS_OP_HOLD, path, k);
			unsigned fc = zcs_cell_get(slot, ZCS_OP_FFN, path, k);
			zcs_count(counts, hold, bytes, 1);
			zcs_time(hold, zcs_elapsed_ns(t0, freed));
			zcs_count(counts, fc, bytes, 1);
			zcs_time(fc, zcs_elapsed_ns(freed, done));
			zcs_add(&zcs_tls.head->ffn_thread[kind], 1, zcs_tls.owned);
		}
	}
	errno = saved_errno;
}

/* libzmq calls this, with our record as hint, when it lets go of a buffer;
 * errno is the app's ffn's: nothing on the way here touches it (the slow
 * paths of zcs_hold_put and the shard claim keep it). */
void zcs_hold_trampoline(void *data, void *hint)
{
	struct zcs_hold *h = hint;
	zcs_handoff_recv(h); /* first: it also orders the shim's init before us */
	if (h->t0_ticks)
		return trampoline_timed(data, h);
	zmq_free_fn *ffn = h->ffn;
	void *app_hint = h->hint;
	uint64_t bytes = h->bytes;
	int ours = h->epoch == zcs_hold_epoch;
	zcs_hold_put(h);

	/* The app's ffn is app code: whatever libzmq calls it makes are the
	 * app's own (their return address is in the app), recorded and
	 * converted like any other, even on libzmq's IO thread. */
	unsigned depth = zcs_tls.depth;
	zcs_tls.depth = 0;
	ffn(data, app_hint);
	zcs_tls.depth = depth;
	if (ours) /* off the gauge once the app has its buffer back */
		zcs_gauge_released(bytes);
}
