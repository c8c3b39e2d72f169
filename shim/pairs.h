/*
 * pairs.h - follow an untimed zero-copy buffer to its ffn without a record.
 *
 * To keep the in-flight gauge exact the shim must see every buffer's ffn
 * run. Giving every buffer a record (hold.h) costs a magazine pop and push;
 * most apps pass the same (ffn, hint) for every buffer (C apps: free and
 * NULL; Ruby ffi-rzmq: libc free), so the shim instead gives each distinct
 * pair one of ZCS_NPAIRS static trampolines, and libzmq's hint slot carries
 * what the trampoline needs: the buffer's size and the fork epoch it was
 * handed over in, as (bytes << 8 | epoch). The trampoline calls the app's
 * ffn with the app's hint, then takes the buffer off the gauge.
 *
 * Timed buffers still get a record (their hold time and ffn cost are
 * measured), and so do buffers whose hint changes per buffer (pyzmq,
 * rust-zmq) once the table is full: a pair is registered the first time it
 * is seen, while there is room within ZCS_PAIR_PROBE places of its hash.
 */
#ifndef ZCSHIM_PAIRS_H
#define ZCSHIM_PAIRS_H

#include <stdint.h>
#include <zmq.h>

#include "record.h"

#define ZCS_NPAIRS      64
#define ZCS_PAIR_PROBE  8
#define ZCS_PAIR_MAX_BYTES (UINTPTR_MAX >> 8) /* larger buffers take a record */

struct zcs_pair {
	zmq_free_fn *ffn; /* stored last, with release: NULL is an empty place */
	void *hint;
};
extern struct zcs_pair zcs_pairs[ZCS_NPAIRS];
extern zmq_free_fn *const zcs_pair_trampolines[ZCS_NPAIRS];

/* Slow path: the pair's number, registering it if there is room; -1 if not. */
int zcs_pair_find(zmq_free_fn *ffn, void *hint);

/* The trampoline for (ffn, hint), or NULL: a record is needed. */
static inline zmq_free_fn *zcs_pair_trampoline(zmq_free_fn *ffn, void *hint)
{
	if (__builtin_expect(zcs_tls.pair && zcs_tls.pair_ffn == ffn && zcs_tls.pair_hint == hint,
			     1))
		return zcs_pair_trampolines[zcs_tls.pair - 1];
	int k = zcs_pair_find(ffn, hint);
	if (k < 0)
		return NULL;
	zcs_tls.pair = (unsigned)k + 1;
	zcs_tls.pair_ffn = ffn;
	zcs_tls.pair_hint = hint;
	return zcs_pair_trampolines[k];
}

#endif
