/*
 * hold.h - follow a zero-copy buffer from zmq_msg_init_data to its ffn.
 *
 * The shim hands libzmq its own free callback (zcs_hold_trampoline) with a
 * small record as hint; the record remembers the app's ffn and hint, when
 * and on which thread the buffer was handed over. When libzmq releases the
 * buffer the trampoline records the hold time, which thread it runs on and
 * what the app's ffn costs, then calls the app's ffn exactly once. Only
 * buffers whose zmq_msg_init_data call was sampled are followed.
 *
 * Records come from a fixed pool (no malloc on the hot path), handed out
 * and returned through a lock-free stack: ffns run on libzmq's IO threads,
 * so a record is usually freed by another thread than the one that took it.
 * An empty pool is no error: the buffer just goes untracked.
 */
#ifndef ZCSHIM_HOLD_H
#define ZCSHIM_HOLD_H

#include <stdint.h>
#include <zmq.h>

#define ZCS_HOLD_POOL 16384 /* buffers in flight that can be tracked at once */

struct zcs_hold {
	zmq_free_fn *ffn;   /* the app's */
	void *hint;         /* the app's */
	uint64_t t0_ticks;  /* zmq_msg_init_data was called */
	uint64_t bytes;
	uint32_t thread_id; /* zcs_thread_id() of the caller of init_data */
	uint32_t next;      /* free-stack link: index + 1, 0 ends */
	int converted;      /* its send was turned into a copy */
};

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

struct zcs_hold *zcs_hold_get(void);
void zcs_hold_put(struct zcs_hold *h);
void zcs_hold_trampoline(void *data, void *hint);

/* The record behind msg if the shim tracks it, else NULL. */
struct zcs_hold *zcs_hold_of(const zmq_msg_t *msg);

/* Small per-process id of the calling thread (1, 2, ...). */
uint32_t zcs_thread_id(void);

/* Is this one of libzmq's background threads ("ZMQbg/IO/0", "ZMQbg/Reaper",
 * or "<prefix>/ZMQbg/..." with ZMQ_THREAD_NAME_PREFIX)? Asked of the kernel
 * once per thread, then cached. */
int zcs_on_zmq_thread(void);

#endif
