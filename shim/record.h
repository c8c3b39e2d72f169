/*
 * record.h - the hot path of recording: one call, one cell, a few adds.
 *
 * Every intercepted call ends here. Counts go to this thread's shard of the
 * segment (zcshim_segment.h): no lock, no syscall, no allocation, and for a
 * thread that owns its shard no bus lock either (a relaxed load and store).
 * The cell of a series is found through a one-entry cache per op in TLS,
 * keyed (socket, path, size class): a thread sending one kind of message
 * to one socket never looks at the shared index. Histograms are written
 * only by timed calls, with atomic adds, since they are shared.
 *
 * Sampling (which calls are timed) keeps its state per socket and op, so a
 * socket sending 100 messages a second gets every call timed while a busy
 * one next to it is sampled; see zcs_sample_due() and sample.c.
 */
#ifndef ZCSHIM_RECORD_H
#define ZCSHIM_RECORD_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "histo.h"
#include "zcshim_segment.h"

struct zcs_hold;

/* One op's last socket and series on this thread. The socket's slot holds
 * while epoch is zcs_sockets_epoch (a zmq_socket or zmq_close since may
 * have put another socket at that address); the cell, while path and size
 * class are the same. cell 0: none cached. */
struct zcs_cache_entry {
	void *socket;
	uint32_t epoch;
	uint16_t cell;
	uint8_t slot;
	uint8_t path;
	uint8_t size_class;
};

/* When the next call of one (socket, op) is timed. */
struct zcs_sample {
	uint32_t left;       /* calls until the next timed one; 0 or 1: this one */
	uint32_t gap;        /* calls since the last timed one when this one is due:
	                        the gap drawn, plus any the budget refused */
	uint64_t last_ticks; /* when the last timed call ended */
	uint64_t span_ticks; /* auto: ticks and calls of the last gaps, each */
	uint32_t span_calls; /* gap's share decaying by 1/8 at every timed call */
};

/* Everything the shim keeps per thread. initial-exec TLS: no __tls_get_addr
 * call (which may allocate) on the hot path. Kept small: a shim dlopen'ed
 * late must fit in the static TLS glibc keeps spare (512 bytes by default). */
struct zcs_tls {
	struct zcs_counts *calls; /* this thread's shard's counts once it made a call,
	                             else NULL (the slow path notes the call) */
	struct zcs_counts *counts;/* the same for buffer events (an IO thread's ffns) */
	struct zcs_shard_head *head;
	int owned;               /* the shard is this thread's alone: plain adds */
	unsigned depth;          /* >0 while inside a wrapper whose libzmq calls back
	                            through our entry points (libzmq built into an app
	                            object); 0 otherwise */
	unsigned in_send;        /* >0 while inside a send wrapper (ffn thread kind) */
	unsigned convert_nest;   /* converted sends on this thread's stack */
	struct zcs_cache_entry cache[ZCS_NCALL_OPS];
	struct zcs_sample other_sample[2]; /* init_data and poll: no socket, per thread */
	uint64_t allow_ticks;    /* adaptive sampling: timing this thread may still spend */
	uint64_t allow_at;       /* ... as of this tick */
	uint32_t thread_id;      /* 1.., 0 until first asked */
	uint32_t rng;            /* xorshift state for sampling gaps */
	int zmq_thread;          /* 0 unknown, 1 libzmq background thread, 2 not */
	int hold_key_set;        /* the magazines go back to the depot at thread exit */
	struct zcs_hold *hold_free; /* magazine in use: spare buffer records (hold.c) */
	struct zcs_hold *hold_full; /* a full magazine, or NULL */
	unsigned hold_nfree;        /* records in hold_free */
	unsigned pair;              /* follow.c: the last (ffn, hint) pair's number + 1 */
	void *pair_ffn, *pair_hint; /* ... and the pair */
	int64_t gauge_slack[2];     /* buffers and bytes this thread may still hand
	                               over before the in-flight peak could be passed
	                               (hold.c); <= 0: look */
};
extern __thread struct zcs_tls zcs_tls __attribute__((tls_model("initial-exec")));

/* ---- cells */

/* Slow paths (segment.c). Claim a shard for this thread, making the segment
 * in a forked child; note, for a call, that the thread makes calls. NULL if
 * there is nowhere to count. Keep errno. */
struct zcs_counts *zcs_claim_for_call(void);
struct zcs_counts *zcs_claim_for_event(void);

/* The cell of a series: found in the index or given out now (backed first);
 * the op's overflow cell when none can be had. Keeps errno. */
uint16_t zcs_cell_get(unsigned slot, unsigned op, unsigned path, unsigned size_class);

/* A failed call whose series found no cell: counted in the shared part. */
void zcs_failed_short(void);

/* Histogram chunks, mapped as cells are given out (segment.c). */
extern struct zcs_hist *zcs_hist_chunk[ZCS_NHIST_CHUNKS];

static inline void zcs_add(uint64_t *p, uint64_t v, int owned)
{
	if (owned)
		__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

/* Socket table epoch (sockets.c): bumped whenever a handle may change slot. */
extern uint32_t zcs_sockets_epoch;
unsigned zcs_socket_slot_slow(void *handle);

/* The slot of the socket op's call went to: the cache, else the map. */
static inline unsigned zcs_slot_of(unsigned op, void *socket)
{
	struct zcs_cache_entry *c = &zcs_tls.cache[op];
	uint32_t epoch = __atomic_load_n(&zcs_sockets_epoch, __ATOMIC_ACQUIRE);
	if (__builtin_expect(c->socket == socket && c->epoch == epoch, 1))
		return c->slot;
	unsigned slot = zcs_socket_slot_slow(socket);
	c->socket = socket;
	c->epoch = epoch;
	c->slot = (uint8_t)slot;
	c->cell = 0;
	return slot;
}

/* The cell of op's series on the slot zcs_slot_of() just gave. */
static inline unsigned zcs_cell(unsigned op, unsigned slot, unsigned path, unsigned size_class)
{
	struct zcs_cache_entry *c = &zcs_tls.cache[op];
	if (__builtin_expect(c->cell && c->path == path && c->size_class == size_class &&
			     c->slot == slot, 1))
		return c->cell;
	uint16_t cell = zcs_cell_get(slot, op, path, size_class);
	c->slot = (uint8_t)slot;
	c->path = (uint8_t)path;
	c->size_class = (uint8_t)size_class;
	c->cell = cell;
	return cell;
}

/* Add one call to counts[cell]. last: it ended a message. */
static inline void zcs_count(struct zcs_counts *counts, unsigned cell, uint64_t bytes,
			     int last)
{
	struct zcs_counts *n = &counts[cell];
	int own = zcs_tls.owned;
	zcs_add(&n->calls, 1, own);
	zcs_add(&n->bytes, bytes, own);
	zcs_add(&n->msgs, last ? 1 : 0, own);
}

/* A timed call: into the cell's histogram, shared by every thread. */
static inline void zcs_time(unsigned cell, uint64_t ns)
{
	struct zcs_hist *chunk = __atomic_load_n(&zcs_hist_chunk[cell / ZCS_HIST_CHUNK_CELLS],
						 __ATOMIC_ACQUIRE);
	if (!chunk)
		return;
	struct zcs_hist *h = &chunk[cell % ZCS_HIST_CHUNK_CELLS];
	__atomic_fetch_add(&h->time_ns_sum, ns, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->buckets[zcs_bucket(ns)], 1, __ATOMIC_RELAXED);
}

/* This thread's counts for a call, or NULL if there is nowhere to count. */
static inline struct zcs_counts *zcs_calls(void)
{
	struct zcs_counts *c = zcs_tls.calls;
	return __builtin_expect(c != NULL, 1) ? c : zcs_claim_for_call();
}

/* ... for a buffer event (hold, ffn, the gauge). */
static inline struct zcs_counts *zcs_events(void)
{
	struct zcs_counts *c = zcs_tls.counts;
	return __builtin_expect(c != NULL, 1) ? c : zcs_claim_for_event();
}

static inline unsigned zcs_err_kind(int err)
{
	switch (err) {
	case EAGAIN: return ZCS_ERR_EAGAIN;
	case EHOSTUNREACH: return ZCS_ERR_EHOSTUNREACH;
	case ETERM: return ZCS_ERR_ETERM;
	case EINTR: return ZCS_ERR_EINTR;
	default: return ZCS_ERR_OTHER;
	}
}

/* ---- sampling (sample.c) */

/* Per (socket slot, call op), process-wide: a socket is used by one thread
 * at a time (libzmq sockets are not thread-safe), so these lines stay with
 * that thread. Races on thread-safe sockets only blur the sampling. */
struct zcs_slot_samples {
	struct zcs_sample op[ZCS_NCALL_OPS];
} __attribute__((aligned(64)));
extern struct zcs_slot_samples zcs_samples[ZCS_NSLOTS];

/* The sampler of (slot, op). */
static inline struct zcs_sample *zcs_sampler(unsigned slot, unsigned op)
{
	if (slot == ZCS_SLOT_OTHER && (op == ZCS_OP_INIT_DATA || op == ZCS_OP_POLL))
		return &zcs_tls.other_sample[op == ZCS_OP_POLL];
	return &zcs_samples[slot].op[op];
}

/* Slow path: is this call to be timed after all (adaptive sampling may
 * refuse when the thread's timing budget is spent)? Returns the start
 * ticks, or 0. */
uint64_t zcs_sample_start(struct zcs_sample *s);

/* Start ticks if this call is to be timed, else 0. The common case is a
 * decrement. */
static inline uint64_t zcs_sample_due(struct zcs_sample *s)
{
	uint32_t left = __atomic_load_n(&s->left, __ATOMIC_RELAXED);
	if (__builtin_expect(left > 1, 1)) {
		__atomic_store_n(&s->left, left - 1, __ATOMIC_RELAXED);
		return 0;
	}
	return zcs_sample_start(s);
}

/* A timed call of ns ended at end_ticks: draw the gap to the next. Returns
 * the ns the calls it stands for (its gap's) are estimated to have taken. */
uint64_t zcs_sample_next(struct zcs_sample *s, uint64_t end_ticks, uint64_t ns);

#endif
