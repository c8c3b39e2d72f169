/*
 * wrap.h - what every exported wrapper does around the real libzmq call:
 * decide whether the call is the app's to record, choose whether to time
 * it, and count it afterwards. Used by interpose.c (sends, sockets) and
 * recv.c (receives, poll).
 *
 * Each wrapper is a test and a tail call: when the shim is off, or the call
 * is libzmq's own, it jumps straight to libzmq; the recording path is a
 * separate function, so the pass-through pays for none of its registers.
 * errno is libzmq's and stays so: recording touches it only on slow paths
 * that keep it.
 */
#ifndef ZCSHIM_WRAP_H
#define ZCSHIM_WRAP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "builtin.h"
#include "clock.h"
#include "real.h"
#include "record.h"
#include "zcshim_segment.h"

/* Every function of ours that calls into libzmq sits in one section, the
 * exported wrappers included: a call that reaches a wrapper with its return
 * address in there was made by libzmq while serving our call (libzmq's
 * zmq_sendmsg tail-jumps to zmq_msg_send, so the return address is the
 * caller's, ours), and is not the app's. One range check, no counter to
 * keep per call. */
#define OURS     __attribute__((section("zcs_calls_libzmq")))
#define EXPORT   __attribute__((visibility("default"))) OURS
#define NOINLINE __attribute__((noinline)) OURS

extern const char __start_zcs_calls_libzmq[], __stop_zcs_calls_libzmq[];

/* Was this call made by libzmq itself, or under one of our calls? */
static inline int zcs_not_the_apps(const void *caller)
{
	uintptr_t a = (uintptr_t)caller, lo = (uintptr_t)__start_zcs_calls_libzmq;
	return zcs_called_by_libzmq(caller) || a - lo < (uintptr_t)__stop_zcs_calls_libzmq - lo;
}

/* Set once by init (interpose.c), read on every call. */
extern int zcs_inited;
extern unsigned zcs_mode;
extern int zcs_layout_known; /* zmqmsg.h's view of msg_t holds: classify messages */

/* First call on this process: resolve libzmq and init (interpose.c). */
void zcs_start(const void *caller) __attribute__((cold));

/* Should this call be recorded (and maybe converted)? Not when off; not when
 * nested in a wrapper of a libzmq built into an app object; not when
 * libzmq itself made it, on its own or under our call. caller is the
 * wrapper's return address. */
static inline __attribute__((always_inline)) int zcs_active(const void *caller)
{
	if (zcs_tls.depth)
		return 0;
	if (__builtin_expect(!__atomic_load_n(&zcs_inited, __ATOMIC_ACQUIRE), 0))
		zcs_start(caller);
	return zcs_mode != ZCS_MODE_OFF && !zcs_not_the_apps(caller);
}

/* A thread's caller time (zcs_shard_head.busy_*), which the time spent
 * blocked and waiting is a share of, starts at its first call; a first call
 * often waits longest (for a peer to start), so the thread is noted before
 * the call, not after: its wait is then inside its time. After that, one
 * load and a branch. Keeps errno. */
static inline __attribute__((always_inline)) void zcs_caller_started(void)
{
	(void)zcs_calls();
}

/* A timed call ended: into the histogram and the estimate of its cell's
 * time, and the next gap drawn. */
static __attribute__((noinline)) void zcs_timed(struct zcs_counts *counts, unsigned cell,
						uint64_t t0, struct zcs_sample *smp)
{
	uint64_t t1 = zcs_ticks();
	uint64_t ns = zcs_elapsed_ns(t0, t1);
	zcs_time(cell, ns);
	zcs_add(&counts[cell].est_ns, zcs_sample_next(smp, t1, ns), zcs_tls.owned);
}

/* A call of op on slot returned successfully: count it (last: it ended a
 * message), and time it if t0. */
static inline __attribute__((always_inline)) void
zcs_done(unsigned op, unsigned slot, unsigned path, size_t bytes, int last, uint64_t t0,
	 struct zcs_sample *smp)
{
	struct zcs_counts *counts = zcs_calls();
	if (__builtin_expect(!counts, 0))
		return;
	unsigned cell = zcs_cell(op, slot, path, zcs_size_class(bytes));
	zcs_count(counts, cell, bytes, last);
	if (__builtin_expect(t0 != 0, 0))
		zcs_timed(counts, cell, t0, smp);
}

/* ... returned -1 with errno err: counted by errno kind, timed like any
 * call (a send that blocked until ZMQ_SNDTIMEO is time spent blocked).
 * With no series left for it (zcs_failed_short), its time is lost, but
 * the sampler still draws its next gap. */
static __attribute__((noinline)) void zcs_failed(unsigned op, unsigned slot, int err,
						 uint64_t t0, struct zcs_sample *smp)
{
	struct zcs_counts *counts = zcs_calls();
	if (!counts)
		return;
	unsigned cell = zcs_cell(op, slot, ZCS_PATH_FAILED, zcs_err_kind(err));
	if (cell < ZCS_CELL_FIRST) { /* an overflow cell would count a success */
		zcs_failed_short();
		if (t0) {
			uint64_t t1 = zcs_ticks();
			(void)zcs_sample_next(smp, t1, zcs_elapsed_ns(t0, t1));
		}
		return;
	}
	zcs_count(counts, cell, 0, 0);
	if (t0)
		zcs_timed(counts, cell, t0, smp);
}

static inline int zcs_enosys(void)
{
	errno = ENOSYS;
	return -1;
}

#endif
