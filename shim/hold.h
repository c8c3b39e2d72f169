/*
 * hold.h - follow a zero-copy buffer from zmq_msg_init_data to its ffn with
 * a record; and the in-flight gauge every followed buffer is counted in.
 *
 * Every zero-copy buffer is followed: that is what makes the gauge exact.
 * Most go through a pair trampoline (pairs.h), with no record. A buffer
 * whose init_data is timed, or whose (ffn, hint) pair has no trampoline,
 * gets a record instead: the shim hands libzmq its own free callback
 * (zcs_hold_trampoline) with a small record as hint; the record remembers
 * the app's ffn and hint, the size, the thread and the socket it went to.
 * When libzmq releases the buffer the trampoline calls the app's ffn
 * exactly once and, for a timed buffer, records hold and ffn time and
 * which kind of thread ran it; either way it takes the buffer off the
 * in-flight gauge.
 *
 * Records never come from malloc. Each thread keeps two magazines of up to
 * ZCS_HOLD_BATCH spare records in TLS, so taking and returning one is a
 * list push or pop with no shared cache line; only once per batch does a
 * thread trade a full or empty magazine with the depot, under a mutex, or
 * carve a new batch from an mmap'ed chunk. A sender whose records are
 * freed on libzmq's IO thread thus gets them back 64 at a time. When no
 * record can be had (the chunk limit is reached) the buffer goes untracked:
 * counted as such, passed to libzmq with the app's own ffn.
 */
#ifndef ZCSHIM_HOLD_H
#define ZCSHIM_HOLD_H

#include <stdint.h>
#include <zmq.h>

#include "record.h"

#define ZCS_HOLD_BATCH      64     /* records a magazine holds */
#define ZCS_HOLD_CHUNK      4096   /* records per mmap'ed chunk (256 KiB) */
#define ZCS_HOLD_MAX_CHUNKS 256    /* 1M buffers in flight can be followed */

struct zcs_hold {
	zmq_free_fn *ffn;        /* the app's */
	void *hint;              /* the app's */
	uint64_t t0_ticks;       /* zmq_msg_init_data was called; 0: not sampled */
	uint64_t bytes;
	struct zcs_hold *next;   /* in a magazine */
	struct zcs_hold *batch;  /* next magazine in the depot (first record only) */
	uint32_t thread_id;      /* zcs_thread_id() of the caller of init_data */
	uint32_t nbatch;         /* records in this magazine (first record only) */
	uint16_t slot;           /* socket it was sent on, 0 until then */
	uint8_t converted;       /* its send was turned into a copy */
	uint8_t epoch;           /* fork generation: a parent's buffer freed in a
	                            child is not on the child's gauge */
} __attribute__((aligned(64)));

/* A record crosses threads through libzmq's pipes, which ThreadSanitizer
 * cannot see when libzmq is not instrumented: say so in TSan builds. */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define zcs_handoff_send(p) __tsan_release(p)
#define zcs_handoff_recv(p) __tsan_acquire(p)
#else
#define zcs_handoff_send(p) do { (void)(p); } while (0)
#define zcs_handoff_recv(p) do { (void)(p); } while (0)
#endif

/* Slow paths of the two below, once per ZCS_HOLD_BATCH records: trade
 * magazines with the depot (hold.c); spill also notes a new thread. */
struct zcs_hold *zcs_hold_refill(void);
void zcs_hold_spill(void);
extern uint8_t zcs_hold_epoch;

/* A record for a buffer about to be handed to libzmq, or NULL. */
static inline struct zcs_hold *zcs_hold_get(void)
{
	struct zcs_hold *h = zcs_tls.hold_free;
	if (__builtin_expect(!h, 0) && !(h = zcs_hold_refill()))
		return NULL;
	zcs_tls.hold_free = h->next;
	zcs_tls.hold_nfree--;
	h->slot = ZCS_SLOT_OTHER;
	h->converted = 0;
	h->epoch = zcs_hold_epoch;
	return h;
}

/* Give a record back (its buffer's ffn ran, or its init_data failed). */
static inline void zcs_hold_put(struct zcs_hold *h)
{
	/* a thread that only frees (an inproc receiver) must give its records
	 * back when it ends, even fewer than a magazine */
	if (__builtin_expect(zcs_tls.hold_nfree >= ZCS_HOLD_BATCH || !zcs_tls.hold_key_set, 0))
		zcs_hold_spill();
	h->next = zcs_tls.hold_free;
	zcs_tls.hold_free = h;
	zcs_tls.hold_nfree++;
}
/* The gauge: a buffer of `bytes` was handed to libzmq (init_data
 * succeeded), or came back (its ffn ran on this thread). */
void zcs_gauge_handed(uint64_t bytes);
void zcs_gauge_released(uint64_t bytes);
/* A zero-copy buffer went untracked (no record to spare). */
void zcs_hold_untracked(void);
void zcs_hold_trampoline(void *data, void *hint);

/* Small per-process id of the calling thread (1, 2, ...). */
uint32_t zcs_thread_id(void);

/* Is this one of libzmq's background threads ("ZMQbg/IO/0", "ZMQbg/Reaper",
 * or "<prefix>/ZMQbg/..." with ZMQ_THREAD_NAME_PREFIX)? Asked of the kernel
 * once per thread, then cached. */
int zcs_on_zmq_thread(void);

/* Around fork (pthread_atfork); in the child (its only thread): new epoch,
 * fresh depot lock. */
void zcs_hold_lock(void);
void zcs_hold_unlock(void);
void zcs_hold_after_fork(void);

#endif
