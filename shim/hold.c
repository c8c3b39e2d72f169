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
	zcs_tls.others_released[0] = zcs_tls.others_released[1] = 0;
}

/* ------------------------------------------------------------ the gauge */

/* Add up the gauge lines of the shards in `used`, a bit per shard. Acquire
 * loads (plain moves on x86): what is read after them is read after. */
static void sum_lines(const struct zcs_gauge_line *lines, uint32_t used, uint64_t out[2])
{
	out[0] = out[1] = 0;
	for (unsigned i = 0; used >> i; i++) {
		if (used >> i & 1) {
			out[0] += __atomic_load_n(&lines[i].buffers, __ATOMIC_ACQUIRE);
			out[1] += __atomic_load_n(&lines[i].bytes, __ATOMIC_ACQUIRE);
		}
	}
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

static uint64_t minus(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* The gauge (zcshim_segment.h) has no shared counter for threads to fight
 * over: one costs ~25 ns a buffer when the ffn runs on another core. A new
 * peak can only be reached as a buffer is handed over, so the handing
 * thread checks then: in flight = everybody's handed - everybody's
 * released, the handed counts read first (a release read after them may
 * count a buffer handed since, which only lowers the result; the other way
 * round it could exceed any value the gauge took). Its own shard's counts
 * it knows; the other shards' handed counts are lines nobody writes in the
 * common one-sender case; the other shards' released counts are the lines
 * libzmq's IO thread keeps writing, so it uses what it read last time,
 * which can only have grown since. That upper bound is mostly at or below
 * the peak, and then there is nothing to do; else it reads them afresh and
 * raises the peak with the true value. With several senders at once, each
 * may miss the other's latest buffer: the peak can be short by the buffers
 * handed over in the same instant. */
void zcs_hold_started(struct zcs_hold *h)
{
	struct zcs_shard *s = zcs_shard();
	if (!s)
		return;
	struct zcs_inflight *g = &zcs_tls.shared->inflight;
	unsigned mine = zcs_tls.shard_no;
	int own = zcs_tls.owned;
	zcs_add(&g->handed[mine].buffers, 1, own);
	zcs_add(&g->handed[mine].bytes, h->bytes, own);

	uint32_t used = __atomic_load_n(&zcs_shards_used, __ATOMIC_RELAXED) | 1u << mine;
	uint64_t handed[2], mine_released[2], *others = zcs_tls.others_released;
	sum_lines(g->handed, used, handed); /* before released, see above */
	sum_lines(g->released, 1u << mine, mine_released);
	uint64_t peak_buffers = __atomic_load_n(&g->peak_buffers, __ATOMIC_RELAXED);
	uint64_t peak_bytes = __atomic_load_n(&g->peak_bytes, __ATOMIC_RELAXED);
	if (minus(handed[0], mine_released[0] + others[0]) <= peak_buffers &&
	    minus(handed[1], mine_released[1] + others[1]) <= peak_bytes)
		return;
	sum_lines(g->released, used & ~(1u << mine), others);
	uint64_t in_buffers = minus(handed[0], mine_released[0] + others[0]);
	uint64_t in_bytes = minus(handed[1], mine_released[1] + others[1]);
	if (in_buffers > peak_buffers)
		raise_peak(&g->peak_buffers, &g->peak_buffers_ticks, in_buffers);
	if (in_bytes > peak_bytes)
		raise_peak(&g->peak_bytes, &g->peak_bytes_ticks, in_bytes);
}

static void released(uint64_t bytes)
{
	struct zcs_shard *s = zcs_shard();
	if (!s)
		return;
	struct zcs_gauge_line *line = &zcs_tls.shared->inflight.released[zcs_tls.shard_no];
	zcs_add(&line->buffers, 1, zcs_tls.owned);
	zcs_add(&line->bytes, bytes, zcs_tls.owned);
}

void zcs_hold_untracked(void)
{
	struct zcs_shared *sh = zcs_shared_part;
	if (sh)
		__atomic_fetch_add(&sh->inflight.untracked, 1, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- misc */

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

/* ---------------------------------------------------------- trampoline */

/* A sampled buffer, or one handed over before a fork: timed, recorded. */
static __attribute__((noinline)) void trampoline_sampled(void *data, struct zcs_hold *h)
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
		released(bytes);
		if (t0) {
			unsigned kind = zcs_tls.in_send ? ZCS_FFN_IN_SEND
					: zcs_on_zmq_thread() ? ZCS_FFN_IO
					: zcs_thread_id() == thread_id ? ZCS_FFN_OWN : ZCS_FFN_OTHER;
			zcs_record(slot, ZCS_OP_HOLD, path, bytes, zcs_elapsed_ns(t0, freed));
			zcs_record(slot, ZCS_OP_FFN, path, bytes, zcs_elapsed_ns(freed, done));
			zcs_record_ffn_thread(kind);
		}
	}
	errno = saved_errno;
}

/* libzmq calls this, with our record as hint, when it lets go of a buffer;
 * errno is the app's ffn's: nothing on the way here touches it (the slow
 * paths of zcs_hold_put and zcs_shard keep it). */
void zcs_hold_trampoline(void *data, void *hint)
{
	struct zcs_hold *h = hint;
	zcs_handoff_recv(h); /* first: it also orders the shim's init before us */
	if (h->t0_ticks || h->epoch != zcs_hold_epoch)
		return trampoline_sampled(data, h);
	zmq_free_fn *ffn = h->ffn;
	void *app_hint = h->hint;
	uint64_t bytes = h->bytes;
	zcs_hold_put(h);

	/* The app's ffn is app code: whatever libzmq calls it makes are the
	 * app's own (their return address is in the app), recorded and
	 * converted like any other, even on libzmq's IO thread. */
	unsigned depth = zcs_tls.depth;
	zcs_tls.depth = 0;
	ffn(data, app_hint);
	zcs_tls.depth = depth;
	released(bytes); /* off the gauge once the app has its buffer back */
}
