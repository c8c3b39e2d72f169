/*
 * record.h - the hot path of recording: one call, one cell, a few adds.
 *
 * Every intercepted call ends in zcs_record(). It touches only this thread's
 * shard of the segment: no lock, no syscall, no allocation. A thread that owns
 * its shard adds with a plain relaxed load and store (no bus lock); threads
 * that found every shard taken share shard 0 with atomic adds. The cell is
 * found through the shared index (zcshim_segment.h): one more load, of a
 * line every thread only reads once the series exists.
 */
#ifndef ZCSHIM_RECORD_H
#define ZCSHIM_RECORD_H

#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <zmq.h>

#include "histo.h"
#include "segment.h"
#include "zcshim_segment.h"

struct zcs_hold;

#define ZCS_UNTIMED UINT64_MAX

/* Everything the shim keeps per thread. initial-exec TLS: no __tls_get_addr
 * call (which may allocate) on the hot path. */
struct zcs_tls {
	struct zcs_shard *shard; /* NULL until the thread first records */
	struct zcs_shared *shared; /* the segment's, with the shard: one load less */
	int owned;               /* shard is this thread's alone */
	unsigned shard_no;       /* which shard: its gauge lines (hold.c) */
	unsigned depth;          /* >0 while inside one of our wrappers */
	unsigned in_send;        /* >0 while inside a send wrapper (ffn thread kind) */
	uint32_t sample_left[ZCS_NCALL_OPS]; /* calls until the next timed one, per op:
	                                        one countdown would always time the
	                                        same op of a repeating call pattern */
	uint32_t thread_id;      /* 1.., 0 until first asked */
	uint32_t rng;            /* xorshift state for sampling gaps */
	int zmq_thread;          /* 0 unknown, 1 libzmq background thread, 2 not */
	struct zcs_hold *hold_free; /* magazine in use: spare buffer records (hold.c) */
	struct zcs_hold *hold_full; /* a full magazine, or NULL */
	unsigned hold_nfree;        /* records in hold_free */
	int hold_key_set;        /* the magazines go back to the depot at thread exit */
	uint64_t others_released[2]; /* the other shards' zc_released when this thread
	                                last looked: never more than now (hold.c) */
};
extern __thread struct zcs_tls zcs_tls __attribute__((tls_model("initial-exec")));

/* Slow path: claim a shard for this thread, creating the segment if it is
 * the process's first record. NULL if there is no segment. Keeps errno:
 * nothing else on the recording path touches it. */
struct zcs_shard *zcs_shard_claim(void);

static inline void zcs_add(uint64_t *p, uint64_t v, int owned)
{
	if (owned)
		__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

static inline struct zcs_shard *zcs_shard(void)
{
	struct zcs_shard *s = zcs_tls.shard;
	return __builtin_expect(s != NULL, 1) ? s : zcs_shard_claim();
}

/* Slow path: give the series its cell, or fold it into "other" when the
 * pool is used up. Returns the cell number, never 0. */
uint16_t zcs_cell_alloc(unsigned slot, unsigned op, unsigned path, unsigned size_class);

static inline struct zcs_cell *zcs_cell(struct zcs_shard *s, unsigned slot, unsigned op,
					unsigned path, size_t bytes)
{
	unsigned size_class = zcs_size_class(bytes);
	uint16_t n = __atomic_load_n(&zcs_tls.shared->cell_index[slot][op][path][size_class],
				     __ATOMIC_RELAXED);
	if (__builtin_expect(!n, 0))
		n = zcs_cell_alloc(slot, op, path, size_class);
	return &s->cell[n];
}

/* One successful call: count and bytes always, time when it was sampled. */
static inline void zcs_record(unsigned slot, unsigned op, unsigned path, size_t bytes,
			      uint64_t ns)
{
	struct zcs_shard *s = zcs_shard();
	if (!s)
		return;
	struct zcs_cell *c = zcs_cell(s, slot, op, path, bytes);
	int own = zcs_tls.owned;
	zcs_add(&c->count, 1, own);
	zcs_add(&c->bytes, bytes, own);
	if (ns != ZCS_UNTIMED) {
		zcs_add(&c->time_ns_sum, ns, own);
		zcs_add(&c->buckets[zcs_bucket(ns)], 1, own);
	}
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

/* A call that returned -1 with errno err: libzmq's answer, not a message sent. */
static inline void zcs_record_failed(unsigned slot, unsigned op, int err)
{
	struct zcs_shard *s = zcs_shard();
	if (s)
		zcs_add(&s->failed[slot][op][zcs_err_kind(err)], 1, zcs_tls.owned);
}

/* Which kind of thread ran a tracked buffer's ffn. */
static inline void zcs_record_ffn_thread(unsigned kind)
{
	struct zcs_shard *s = zcs_shard();
	if (s)
		zcs_add(&s->ffn_thread[kind], 1, zcs_tls.owned);
}

#endif
