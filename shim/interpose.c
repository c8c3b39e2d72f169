/*
 * interpose.c - the libzmq entry points libzcshim.so replaces.
 *
 * zmq_msg_init_data, zmq_send, zmq_msg_send, zmq_sendmsg and zmq_send_const
 * are defined here, and zmq_socket, zmq_bind, zmq_connect and zmq_close for
 * the socket table (sockets.h); with LD_PRELOAD the dynamic linker binds the
 * app's calls (and libzmq's own calls through its PLT) to them. Each one
 * times the real call, records it (record.h) under the socket it went to
 * and returns exactly what libzmq returned, with libzmq's errno.
 *
 * Each wrapper is a test and a tail call: when the shim is off, or the call
 * is libzmq's own, it jumps straight to libzmq; the recording path is a
 * separate function, so the pass-through pays for none of its registers.
 *
 * Conversion happens at send time, not at zmq_msg_init_data. Copying at init
 * would have to call the app's ffn right away, inside zmq_msg_init_data,
 * which can deadlock a binding whose ffn takes a lock its caller holds; and
 * it would copy messages that are never sent. At send time the shim can do
 * what libzmq would do with a copied message instead:
 *   1. build a fresh message with zmq_msg_init_size and memcpy the bytes,
 *      carrying over routing id and group;
 *   2. send that copy with the real zmq_msg_send / zmq_sendmsg;
 *   3. on failure close the copy: the app's message is the app's again, as
 *      after any failed send, with the `more` flag libzmq gave the copy, and
 *      errno is libzmq's;
 *   4. on success close the app's message (dropping its reference: the ffn
 *      runs now, or at the last close if the app zmq_msg_copy'd it) and leave
 *      it empty, as a successful send does.
 * So the ffn still runs exactly once per buffer, never inside
 * zmq_msg_init_data, and only once libzmq no longer reads the buffer.
 * Messages with ffn NULL (constants, zmq_send_const) are never converted.
 *
 * Whose call: libzmq calls some of these itself through its PLT (zmq_sendmsg
 * jumps to zmq_msg_send, zmq_send_const calls zmq_msg_init_data, monitor
 * events call zmq_msg_send). A call whose return address is in libzmq's code
 * (real.h) passes straight through unrecorded. zcs_tls.depth counts our own
 * frames on this thread and does the same for calls made under them. The
 * app's ffn runs with depth 0 (hold.c, and around the close in step 4), so
 * an ffn that sends, as pyzmq's does, is recorded as the app. A libzmq
 * built into an object with other code has no text range: builtin.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "builtin.h"
#include "clock.h"
#include "config.h"
#include "dlreal.h"
#include "hold.h"
#include "reach.h"
#include "real.h"
#include "record.h"
#include "segment.h"
#include "sockets.h"
#include "warn.h"
#include "zmqmsg.h"

#define EXPORT __attribute__((visibility("default")))

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int inited;
static unsigned mode = ZCS_MODE_OFF;
static int layout_known;  /* zmqmsg.h's view of msg_t holds: classify sends */
static int can_convert;   /* layout_known and mode convert */
static uint64_t threshold_bytes;
static int msg_fast;      /* layout_known, and no built-in libzmq's own sockets
                             to look out for (builtin.h) */
static uint32_t sample_every = 1;
static struct zcs_config cfg; /* read at load */
static char warn[400];        /* said at the first call, if anything is wrong */

/* ------------------------------------------------------------------ init */

static const char *env(const char *name)
{
	return getenv(name);
}

/* fork: our locks are taken before, so that the child gets none held
 * halfway (a record chunk half carved, a socket row half written); the
 * child then forgets the parent's segment, sockets and records. */
static void before_fork(void)
{
	zcs_sockets_lock();
	zcs_segment_lock();
	zcs_hold_lock();
}

static void after_fork_parent(void)
{
	zcs_hold_unlock();
	zcs_segment_unlock();
	zcs_sockets_unlock();
}

static void after_fork_child(void)
{
	zcs_segment_after_fork();
	zcs_sockets_after_fork();
	zcs_hold_after_fork();
}

/* Once per process, by the first thread to make an intercepted call, after
 * it resolved libzmq's functions (outside this, see resolve.c). */
static void init(void)
{
	zcs_tls.depth++;
	int have_all = zcs_resolve(NULL);
	int major = 0, minor = 0, patch = 0;
	if (real_zmq_version)
		real_zmq_version(&major, &minor, &patch);
	if (!have_all && cfg.mode != ZCS_MODE_OFF) {
		cfg.mode = ZCS_MODE_OFF;
		snprintf(warn + strlen(warn), sizeof warn - strlen(warn),
			 "%slibzmq functions not found; passing through", warn[0] ? "; " : "");
	}
	if (cfg.mode != ZCS_MODE_OFF) { /* off: nothing of ours runs */
		struct zcs_msg_api api = { real_zmq_msg_init, real_zmq_msg_init_size,
					   real_zmq_msg_init_data, real_zmq_msg_close,
					   real_zmq_msg_more };
		layout_known = major == 4 && zcs_msg_selftest(&api);
		if (!layout_known)
			snprintf(warn + strlen(warn), sizeof warn - strlen(warn),
				 "%slibzmq %d.%d.%d message layout not recognised; "
				 "zmq_msg_send and zmq_sendmsg pass through unrecorded",
				 warn[0] ? "; " : "", major, minor, patch);
		zcs_clock_init();
		const char *seg_warn =
			zcs_segment_calls_seen((uint32_t)(major * 10000 + minor * 100 + patch),
					       layout_known ? ZCS_F_LAYOUT_KNOWN : 0);
		if (seg_warn[0])
			snprintf(warn + strlen(warn), sizeof warn - strlen(warn), "%s%s",
				 warn[0] ? "; " : "", seg_warn);
	}
	threshold_bytes = cfg.threshold_bytes;
	sample_every = cfg.sample_every;
	can_convert = layout_known && cfg.mode == ZCS_MODE_CONVERT;
	msg_fast = layout_known && !__atomic_load_n(&zcs_libzmq_builtin, __ATOMIC_ACQUIRE);
	mode = cfg.mode;
	if (warn[0])
		zcs_warn_once(warn);
	__atomic_store_n(&inited, 1, __ATOMIC_RELEASE);
	zcs_tls.depth--;
}

/* At load: read the settings and make the segment, so that a process that
 * never calls libzmq through us shows up as such. Resolve early when libzmq
 * is already loaded, so the first intercepted call, maybe made inside
 * someone's dlopen, has less to do. */
__attribute__((constructor)) static void at_load(void)
{
	int saved = errno;
	zcs_dl_resolve(); /* our dlsym and dlopen, and every dl* call of ours */
	zcs_warn_init();
	zcs_config_load(&cfg, env, warn, sizeof warn);
	zcs_reach_set_on(cfg.mode != ZCS_MODE_OFF);
	if (cfg.mode != ZCS_MODE_OFF) {
		/* before the segment exists: a child forked before the first
		 * libzmq call must not write into its parent's */
		pthread_atfork(before_fork, after_fork_parent, after_fork_child);
		zcs_segment_open(&cfg);
	}
	zcs_resolve(NULL);
	errno = saved;
}

__attribute__((destructor)) static void fini(void)
{
	if (cfg.keep) /* else nobody will read why */
		zcs_reach_at_exit();
	zcs_segment_exit();
}

/* ------------------------------------------------------------ hot path */

static __attribute__((noinline)) void start(const void *caller)
{
	int saved = errno;
	zcs_resolve(caller); /* outside pthread_once: it takes ld.so's lock */
	pthread_once(&init_once, init);
	errno = saved;
}

/* Should this call be recorded (and maybe converted)? Not when off; not when
 * nested in our own frame; not when libzmq itself made it. caller is the
 * wrapper's return address. */
static inline __attribute__((always_inline)) int active(const void *caller)
{
	if (zcs_tls.depth)
		return 0;
	if (__builtin_expect(!__atomic_load_n(&inited, __ATOMIC_ACQUIRE), 0))
		start(caller);
	return mode != ZCS_MODE_OFF && !zcs_called_by_libzmq(caller);
}

/* Start time if this call of op is to be timed, else 0. Gaps between timed
 * calls are random, 1 to 2N-1 (mean N): a fixed stride would always time
 * the same member of a repeating pattern (every other size, say). */
static inline uint64_t sample_start(unsigned op)
{
	if (zcs_tls.sample_left[op] > 1) {
		zcs_tls.sample_left[op]--;
		return 0;
	}
	uint32_t gap = 1;
	if (sample_every > 1) {
		uint32_t x = zcs_tls.rng ? zcs_tls.rng : 2463534242u ^ zcs_thread_id();
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		zcs_tls.rng = x;
		gap = 1 + x % (2 * sample_every - 1);
	}
	zcs_tls.sample_left[op] = gap;
	return zcs_ticks();
}

static __attribute__((noinline)) void finish_timed_or_failed(unsigned slot, unsigned op,
								 unsigned path, size_t bytes,
								 uint64_t t0, int rc)
{
	if (rc < 0)
		zcs_record_failed(slot, op, errno);
	else
		zcs_record(slot, op, path, bytes, zcs_elapsed_ns(t0, zcs_ticks()));
}

/* Record the call. errno is libzmq's and stays so: recording touches it only
 * in zcs_shard_claim, which keeps it. The common case, a success not timed,
 * is two adds, inline. */
static inline void finish(unsigned slot, unsigned op, unsigned path, size_t bytes,
			  uint64_t t0, int rc)
{
	if (__builtin_expect(rc >= 0 && !t0, 1))
		zcs_record(slot, op, path, bytes, ZCS_UNTIMED);
	else
		finish_timed_or_failed(slot, op, path, bytes, t0, rc);
}

static int enosys(void)
{
	errno = ENOSYS;
	return -1;
}

/* ---------------------------------------------------------- wrappers */

#define NOINLINE __attribute__((noinline))

static NOINLINE int init_data(zmq_msg_t *msg, void *data, size_t size, zmq_free_fn *ffn,
			      void *hint)
{
	uint64_t t0 = sample_start(ZCS_OP_INIT_DATA);
	/* Every zero-copy buffer is followed to its ffn (hold.h): that is what
	 * makes the in-flight gauge exact. Not without a segment to count in;
	 * a forked child makes its own here, on its first buffer. */
	if (ffn && !zcs_shared_part)
		zcs_segment_shared();
	struct zcs_hold *h = ffn && zcs_shared_part ? zcs_hold_get() : NULL;
	zcs_tls.depth++;
	int rc;
	if (h) {
		h->ffn = ffn;
		h->hint = hint;
		h->t0_ticks = t0;
		h->bytes = size;
		h->thread_id = t0 ? zcs_thread_id() : 0;
		zcs_handoff_send(h);
		rc = real_zmq_msg_init_data(msg, data, size, zcs_hold_trampoline, h);
	} else {
		rc = real_zmq_msg_init_data(msg, data, size, ffn, hint);
	}
	/* none of these touch errno (their slow paths keep it) */
	if (h && rc == 0)
		zcs_hold_started(h);
	else if (h)
		zcs_hold_put(h);
	else if (ffn && rc == 0 && zcs_shared_part)
		zcs_hold_untracked();
	zcs_tls.depth--;
	finish(ZCS_SLOT_OTHER, ZCS_OP_INIT_DATA, ffn ? ZCS_PATH_ZEROCOPY : ZCS_PATH_CONST, size,
	       t0, rc);
	return rc;
}

EXPORT int zmq_msg_init_data(zmq_msg_t *msg, void *data, size_t size,
			     zmq_free_fn *ffn, void *hint)
{
	if (!active(__builtin_return_address(0)))
		return real_zmq_msg_init_data ? real_zmq_msg_init_data(msg, data, size, ffn, hint)
					      : enosys();
	return init_data(msg, data, size, ffn, hint);
}

static NOINLINE int send_buf(unsigned op, unsigned path, buf_send_fn *real_fn, void *socket,
			     const void *buf, size_t len, int flags)
{
	unsigned slot = zcs_socket_slot(socket);
	uint64_t t0 = sample_start(op);
	zcs_tls.depth++;
	zcs_tls.in_send++;
	int rc = real_fn(socket, buf, len, flags);
	zcs_tls.in_send--;
	zcs_tls.depth--;
	finish(slot, op, path, len, t0, rc);
	return rc;
}

EXPORT int zmq_send(void *socket, const void *buf, size_t len, int flags)
{
	if (!active(__builtin_return_address(0)))
		return real_zmq_send ? real_zmq_send(socket, buf, len, flags) : enosys();
	return send_buf(ZCS_OP_SEND, ZCS_PATH_COPY, real_zmq_send, socket, buf, len, flags);
}

EXPORT int zmq_send_const(void *socket, const void *buf, size_t len, int flags)
{
	if (!active(__builtin_return_address(0)))
		return real_zmq_send_const ? real_zmq_send_const(socket, buf, len, flags)
					   : enosys();
	return send_buf(ZCS_OP_SEND_CONST, ZCS_PATH_CONST, real_zmq_send_const, socket,
			buf, len, flags);
}

/* Steps 1-4 of the comment at the top. Returns the send's result; *sent_copy
 * says whether the copy was made (if not, nothing was sent yet). */
static int send_converted(msg_send_fn *real_fn, zmq_msg_t *msg, void *socket,
			  int flags, size_t bytes, struct zcs_hold *h, int *sent_copy)
{
	zmq_msg_t copy;
	int saved = errno;
	*sent_copy = 0;
	if (real_zmq_msg_init_size(&copy, bytes) != 0) {
		errno = saved;
		return -1;
	}
	if (bytes)
		memcpy(real_zmq_msg_data(&copy), real_zmq_msg_data(msg), bytes);
	uint32_t routing_id = real_zmq_msg_routing_id ? real_zmq_msg_routing_id(msg) : 0;
	if (routing_id && real_zmq_msg_set_routing_id)
		real_zmq_msg_set_routing_id(&copy, routing_id);
	const char *group = real_zmq_msg_group ? real_zmq_msg_group(msg) : NULL;
	if (group && *group && real_zmq_msg_set_group)
		real_zmq_msg_set_group(&copy, group);
	/* libzmq sets or clears `more` on the message before a send can still
	 * fail: let it do that to the copy, then mirror it back on failure */
	zcs_msg_set_more(&copy, zcs_msg_more(msg));
	errno = saved;

	*sent_copy = 1;
	int rc = real_fn(&copy, socket, flags);
	int err = errno;
	if (rc < 0) {
		zcs_msg_set_more(msg, zcs_msg_more(&copy));
		real_zmq_msg_close(&copy);
	} else {
		if (h)
			__atomic_store_n(&h->converted, 1, __ATOMIC_RELAXED);
		/* An untracked ffn runs right here, inside our frame: whatever
		 * it calls is the app's, as in the trampoline. */
		unsigned depth = zcs_tls.depth;
		zcs_tls.depth = 0;
		real_zmq_msg_close(msg);
		zcs_tls.depth = depth;
		real_zmq_msg_init(msg);
	}
	errno = err;
	return rc;
}

/* Off the common path (msg_fast clear): may this send be recorded? Not if
 * zmqmsg.h does not know this libzmq's messages, nor if it is a built-in
 * libzmq's monitor event, sent on a socket of its own (builtin.h). */
static __attribute__((noinline, cold)) int recordable_slow(zmq_msg_t *msg, void *socket)
{
	return layout_known && zcs_msg_valid(msg) && !zcs_own_socket(socket);
}

static NOINLINE int send_msg(unsigned op, msg_send_fn *real_fn, zmq_msg_t *msg, void *socket,
			     int flags)
{
	/* A message libzmq would refuse (closed, never initialised) goes
	 * straight to libzmq: even zmq_msg_size would assert on it. */
	if ((__builtin_expect(!msg_fast, 0) && !recordable_slow(msg, socket)) ||
	    !zcs_msg_valid(msg))
		return real_fn(msg, socket, flags);
	unsigned slot = zcs_socket_slot(socket);
	/* one look at the content block gives path, size and our record */
	const struct zcs_zmq_content *content = zcs_msg_zerocopy(msg);
	unsigned path = content ? ZCS_PATH_ZEROCOPY : zcs_msg_path(msg);
	size_t bytes = content ? content->size : real_zmq_msg_size(msg);
	struct zcs_hold *h = content && content->ffn == zcs_hold_trampoline ? content->hint
									  : NULL;
	uint64_t t0 = sample_start(op);
	int rc = -1, sent_copy = 0;
	zcs_tls.depth++;
	zcs_tls.in_send++;
	if (h) { /* before the send: its ffn may run inside it; atomic like
		    converted, for the same reason (TSan cannot see libzmq's pipe) */
		__atomic_store_n(&h->slot, (uint16_t)slot, __ATOMIC_RELAXED);
		zcs_handoff_send(h); /* the send hands it on, with all we did to it */
	}
	if (path == ZCS_PATH_ZEROCOPY && bytes < threshold_bytes && can_convert)
		rc = send_converted(real_fn, msg, socket, flags, bytes, h, &sent_copy);
	if (sent_copy)
		path = ZCS_PATH_CONVERTED;
	else
		rc = real_fn(msg, socket, flags);
	zcs_tls.in_send--;
	zcs_tls.depth--;
	finish(slot, op, path, bytes, t0, rc);
	return rc;
}

EXPORT int zmq_msg_send(zmq_msg_t *msg, void *socket, int flags)
{
	if (!active(__builtin_return_address(0)) || !msg)
		return real_zmq_msg_send ? real_zmq_msg_send(msg, socket, flags) : enosys();
	return send_msg(ZCS_OP_MSG_SEND, real_zmq_msg_send, msg, socket, flags);
}

static int sendmsg_in_msg_send_order(zmq_msg_t *msg, void *socket, int flags)
{
	return real_zmq_sendmsg(socket, msg, flags);
}

EXPORT int zmq_sendmsg(void *socket, zmq_msg_t *msg, int flags)
{
	if (!active(__builtin_return_address(0)) || !msg)
		return real_zmq_sendmsg ? real_zmq_sendmsg(socket, msg, flags) : enosys();
	return send_msg(ZCS_OP_SENDMSG, sendmsg_in_msg_send_order, msg, socket, flags);
}

/* ------------------------------------------------- the socket table */

EXPORT void *zmq_socket(void *ctx, int type)
{
	if (!active(__builtin_return_address(0))) {
		void *own = real_zmq_socket ? real_zmq_socket(ctx, type) : (enosys(), NULL);
		if (zcs_in_monitor && own) /* a built-in libzmq's monitor socket */
			zcs_own_socket_add(own);
		return own;
	}
	void *socket = real_zmq_socket(ctx, type);
	if (socket)
		zcs_socket_opened(socket, type);
	return socket;
}

static int endpoint_call(int (*real_fn)(void *, const char *), void *socket,
			 const char *endpoint, int bound)
{
	int rc = real_fn(socket, endpoint);
	if (rc == 0 && endpoint)
		zcs_socket_endpoint(socket, endpoint, bound);
	return rc;
}

EXPORT int zmq_bind(void *socket, const char *endpoint)
{
	if (!active(__builtin_return_address(0)))
		return real_zmq_bind ? real_zmq_bind(socket, endpoint) : enosys();
	return endpoint_call(real_zmq_bind, socket, endpoint, 1);
}

EXPORT int zmq_connect(void *socket, const char *endpoint)
{
	if (!active(__builtin_return_address(0)))
		return real_zmq_connect ? real_zmq_connect(socket, endpoint) : enosys();
	return endpoint_call(real_zmq_connect, socket, endpoint, 0);
}

EXPORT int zmq_close(void *socket)
{
	/* a built-in libzmq's monitor socket: its address may be a new one's next */
	if (__atomic_load_n(&zcs_libzmq_builtin, __ATOMIC_RELAXED))
		zcs_own_socket_remove(socket);
	if (!active(__builtin_return_address(0)))
		return real_zmq_close ? real_zmq_close(socket) : enosys();
	unsigned slot = zcs_socket_closing(socket);
	int rc = real_zmq_close(socket);
	if (rc == 0)
		zcs_socket_closed(socket, slot);
	return rc;
}

/* Counts as a frame of ours: the socket libzmq makes for the monitor, and
 * its zmq_bind and zmq_close, are libzmq's own. With a built-in libzmq the
 * socket is noted, so that the events sent on it are told apart too. */
EXPORT int zmq_socket_monitor(void *socket, const char *endpoint, int events)
{
	if (!active(__builtin_return_address(0)))
		return real_zmq_socket_monitor ? real_zmq_socket_monitor(socket, endpoint, events)
					       : enosys();
	unsigned builtin = __atomic_load_n(&zcs_libzmq_builtin, __ATOMIC_RELAXED) != 0;
	zcs_tls.depth++;
	zcs_in_monitor += builtin;
	int rc = real_zmq_socket_monitor ? real_zmq_socket_monitor(socket, endpoint, events)
					 : enosys();
	zcs_in_monitor -= builtin;
	zcs_tls.depth--;
	return rc;
}
