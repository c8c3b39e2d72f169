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
 * A converted send closes the app's message inside our frame, so its ffn
 * runs there; an ffn that sends the next zero-copy message (a chain) would
 * nest one send in another without end. Past ZCS_CONVERT_NEST_MAX converted
 * sends on one thread's stack, a send is passed through unconverted (and
 * counted as such): its ffn then runs later, off this stack, as it would
 * without the shim.
 *
 * Whose call: libzmq calls some of these itself through its PLT (zmq_sendmsg
 * jumps to zmq_msg_send, zmq_send_const calls zmq_msg_init_data, monitor
 * events call zmq_msg_send). A call whose return address is in libzmq's code
 * (real.h) passes straight through unrecorded, and so does one whose return
 * address is in our own functions that call libzmq (wrap.h: zmq_sendmsg
 * tail-jumps to zmq_msg_send, so that call returns straight to us). An
 * ffn that sends, as pyzmq's does, is app code and is recorded as the app.
 *
 * A libzmq built into an object with other code (zeromq.js's addon.node)
 * has no text range: calls nested in our wrappers are then told by the
 * depth counter, kept only in that case, and its own sockets by builtin.h.
 *
 * The receive side (zmq_recv, zmq_msg_recv, zmq_recvmsg, zmq_poll) is in
 * recv.c; what every wrapper shares, in wrap.h.
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
#include "pairs.h"
#include "reach.h"
#include "real.h"
#include "record.h"
#include "segment.h"
#include "sockets.h"
#include "warn.h"
#include "wrap.h"
#include "zmqmsg.h"

int zcs_inited;
unsigned zcs_mode = ZCS_MODE_OFF;
int zcs_layout_known;
static int can_convert;   /* layout_known and mode convert */
static int msg_fast;      /* layout_known, and no built-in libzmq's own sockets
                             to look out for (builtin.h) */
static uint64_t threshold_bytes;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static char warn[400];    /* said at the first call, if anything is wrong */

extern uint32_t zcs_sample_every;
extern uint64_t zcs_sample_cost_ticks;

/* ------------------------------------------------------------------ init */

static pthread_once_t settings_once = PTHREAD_ONCE_INIT;
static struct zcs_config cfg;

static const char *env(const char *name)
{
	return getenv(name);
}

static void load_settings(void)
{
	zcs_warn_init();
	zcs_config_load(&cfg, env, warn, sizeof warn);
}

/* The settings, read once by whoever needs them first: our constructor,
 * or a libzmq call from a constructor that ran before ours. */
const struct zcs_config *zcs_settings(void)
{
	int saved = errno;
	pthread_once(&settings_once, load_settings);
	errno = saved;
	return &cfg;
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

/* What timing one call costs, in clock ticks: two clock reads and the
 * histogram's adds, measured once. */
static uint64_t timing_cost_ticks(void)
{
	uint64_t t0 = zcs_ticks(), t = t0;
	for (int i = 0; i < 64; i++)
		t = zcs_ticks();
	uint64_t read = (t - t0) / 64;
	/* + ~25 ns for the adds and the gap */
	return 2 * read + (uint64_t)(25.0 * (double)zcs_clock.hz / 1e9) + 1;
}

/* Once per process, by the first thread to make an intercepted call, after
 * it resolved libzmq's functions (outside this, see resolve.c). */
static void init(void)
{
	zcs_settings();
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
		struct zcs_msg_api api = { real_zmq_msg_init, real_zmq_msg_size,
					   real_zmq_msg_init_size, real_zmq_msg_init_data,
					   real_zmq_msg_close, real_zmq_msg_more };
		zcs_layout_known = major == 4 && zcs_msg_selftest(&api);
		if (!zcs_layout_known)
			snprintf(warn + strlen(warn), sizeof warn - strlen(warn),
				 "%slibzmq %d.%d.%d message layout not recognised; "
				 "zmq_msg_send, zmq_sendmsg and receives of messages pass "
				 "through unrecorded",
				 warn[0] ? "; " : "", major, minor, patch);
		zcs_clock_init();
		zcs_sample_cost_ticks = timing_cost_ticks();
		const char *seg_warn =
			zcs_segment_calls_seen((uint32_t)(major * 10000 + minor * 100 + patch),
					       zcs_layout_known ? ZCS_F_LAYOUT_KNOWN : 0);
		if (seg_warn[0])
			snprintf(warn + strlen(warn), sizeof warn - strlen(warn), "%s%s",
				 warn[0] ? "; " : "", seg_warn);
	}
	threshold_bytes = cfg.threshold_bytes;
	zcs_sample_every = cfg.sample_every;
	can_convert = zcs_layout_known && cfg.mode == ZCS_MODE_CONVERT;
	msg_fast = zcs_layout_known && !__atomic_load_n(&zcs_libzmq_builtin, __ATOMIC_ACQUIRE);
	zcs_mode = cfg.mode;
	if (warn[0])
		zcs_warn_once(warn);
	__atomic_store_n(&zcs_inited, 1, __ATOMIC_RELEASE);
}

/* At load: read the settings and make the segment, so that a process that
 * never calls libzmq through us shows up as such. Resolve early when libzmq
 * is already loaded, so the first intercepted call, maybe made inside
 * someone's dlopen, has less to do. */
__attribute__((constructor)) static void at_load(void)
{
	int saved = errno;
	zcs_dl_resolve(); /* our dlsym and dlopen, and every dl* call of ours */
	const struct zcs_config *c = zcs_settings();
	zcs_reach_set_on(c->mode != ZCS_MODE_OFF);
	if (c->mode != ZCS_MODE_OFF) {
		/* before the segment exists: a child forked before the first
		 * libzmq call must not write into its parent's */
		pthread_atfork(before_fork, after_fork_parent, after_fork_child);
		zcs_segment_open();
	}
	zcs_resolve(NULL);
	errno = saved;
}

__attribute__((destructor)) static void fini(void)
{
	int saved = errno; /* other destructors may still look at it */
	if (zcs_settings()->keep) /* else nobody will read why */
		zcs_reach_at_exit();
	zcs_segment_exit();
	errno = saved;
}

/* ------------------------------------------------------------ hot path */

void zcs_start(const void *caller)
{
	int saved = errno;
	zcs_resolve(caller); /* outside pthread_once: it takes ld.so's lock */
	pthread_once(&init_once, init);
	errno = saved;
}

/* ---------------------------------------------------------- wrappers */

static NOINLINE int init_data(zmq_msg_t *msg, void *data, size_t size, zmq_free_fn *ffn,
			      void *hint)
{
	struct zcs_sample *smp = zcs_sampler(ZCS_SLOT_OTHER, ZCS_OP_INIT_DATA);
	uint64_t t0 = zcs_sample_due(smp);
	int rc;
	if (!ffn) {
		rc = real_zmq_msg_init_data(msg, data, size, ffn, hint);
		if (rc == 0)
			zcs_done(ZCS_OP_INIT_DATA, ZCS_SLOT_OTHER, ZCS_PATH_CONST, size, 1, t0, smp);
		return rc;
	}
	/* Every zero-copy buffer is followed to its ffn: that is what makes
	 * the in-flight gauge exact (hold.h, pairs.h). Not without a segment
	 * to count in; a forked child makes its own here, on its first. */
	if (!zcs_shared_part)
		zcs_segment_shared();
	int followed = zcs_shared_part != NULL;
	zmq_free_fn *tramp = followed && !t0 && size <= ZCS_PAIR_MAX_BYTES
				     ? zcs_pair_trampoline(ffn, hint) : NULL;
	if (tramp) {
		zcs_handoff_send(&zcs_pairs[zcs_tls.pair - 1]);
		rc = real_zmq_msg_init_data(msg, data, size, tramp,
					    (void *)((uintptr_t)size << 8 | zcs_hold_epoch));
	} else {
		struct zcs_hold *h = followed ? zcs_hold_get() : NULL;
		if (h) {
			h->ffn = ffn;
			h->hint = hint;
			h->t0_ticks = t0;
			h->bytes = size;
			h->thread_id = t0 ? zcs_thread_id() : 0;
			zcs_handoff_send(h);
			rc = real_zmq_msg_init_data(msg, data, size, zcs_hold_trampoline, h);
			if (rc != 0)
				zcs_hold_put(h); /* keeps errno */
		} else {
			rc = real_zmq_msg_init_data(msg, data, size, ffn, hint);
			if (rc == 0 && followed)
				zcs_hold_untracked();
			followed = 0;
		}
	}
	/* neither touches errno (their slow paths keep it) */
	if (rc == 0 && followed)
		zcs_gauge_handed(size);
	if (rc == 0)
		zcs_done(ZCS_OP_INIT_DATA, ZCS_SLOT_OTHER, ZCS_PATH_ZEROCOPY, size, 1, t0, smp);
	else
		zcs_failed(ZCS_OP_INIT_DATA, ZCS_SLOT_OTHER, errno, t0, smp);
	return rc;
}

EXPORT int zmq_msg_init_data(zmq_msg_t *msg, void *data, size_t size,
			     zmq_free_fn *ffn, void *hint)
{
	if (!zcs_active(__builtin_return_address(0)))
		return real_zmq_msg_init_data ? real_zmq_msg_init_data(msg, data, size, ffn, hint)
					      : zcs_enosys();
	return init_data(msg, data, size, ffn, hint);
}

/* zmq_send and zmq_send_const: one body, made twice with op and path as
 * constants (send_copy, send_const below). */
static inline __attribute__((always_inline)) int
send_buf(unsigned op, unsigned path, buf_send_fn *real_fn, void *socket, const void *buf,
	 size_t len, int flags)
{
	unsigned slot = zcs_slot_of(op, socket);
	struct zcs_sample *smp = zcs_sampler(slot, op);
	uint64_t t0 = zcs_sample_due(smp);
	zcs_caller_started();
	zcs_tls.in_send++;
	int rc = real_fn(socket, buf, len, flags);
	zcs_tls.in_send--;
	if (__builtin_expect(rc >= 0, 1))
		zcs_done(op, slot, path, len, !(flags & ZMQ_SNDMORE), t0, smp);
	else
		zcs_failed(op, slot, errno, t0, smp);
	return rc;
}

static NOINLINE int send_copy(void *socket, const void *buf, size_t len, int flags)
{
	return send_buf(ZCS_OP_SEND, ZCS_PATH_COPY, real_zmq_send, socket, buf, len, flags);
}

static NOINLINE int send_const(void *socket, const void *buf, size_t len, int flags)
{
	return send_buf(ZCS_OP_SEND_CONST, ZCS_PATH_CONST, real_zmq_send_const, socket, buf,
			len, flags);
}

EXPORT int zmq_send(void *socket, const void *buf, size_t len, int flags)
{
	if (!zcs_active(__builtin_return_address(0)))
		return real_zmq_send ? real_zmq_send(socket, buf, len, flags) : zcs_enosys();
	return send_copy(socket, buf, len, flags);
}

EXPORT int zmq_send_const(void *socket, const void *buf, size_t len, int flags)
{
	if (!zcs_active(__builtin_return_address(0)))
		return real_zmq_send_const ? real_zmq_send_const(socket, buf, len, flags)
					   : zcs_enosys();
	return send_const(socket, buf, len, flags);
}

/* Steps 1-4 of the comment at the top. Returns the send's result; *sent_copy
 * says whether the copy was made (if not, nothing was sent yet). */
static OURS int send_converted(msg_send_fn *real_fn, zmq_msg_t *msg, void *socket,
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
		/* the app's ffn may run right here, inside our frame: whatever
		 * it calls is the app's (its return address is the app's) */
		real_zmq_msg_close(msg);
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
	return zcs_layout_known && zcs_msg_valid(msg) && !zcs_own_socket(socket);
}

/* zmq_msg_send and zmq_sendmsg: one body, made twice (msg_send, sendmsg). */
static inline __attribute__((always_inline)) int
send_msg(unsigned op, msg_send_fn *real_fn, zmq_msg_t *msg, void *socket, int flags)
{
	/* A message libzmq would refuse (closed, never initialised) goes
	 * straight to libzmq: even zmq_msg_size would assert on it. */
	if ((__builtin_expect(!msg_fast, 0) && !recordable_slow(msg, socket)) ||
	    !zcs_msg_valid(msg))
		return real_fn(msg, socket, flags);
	unsigned slot = zcs_slot_of(op, socket);
	/* one look at the content block gives path, size and our record */
	const struct zcs_zmq_content *content = zcs_msg_zerocopy(msg);
	unsigned path = content ? ZCS_PATH_ZEROCOPY : zcs_msg_path(msg);
	size_t bytes = zcs_msg_size(msg);
	struct zcs_hold *h = content && content->ffn == zcs_hold_trampoline ? content->hint
									  : NULL;
	struct zcs_sample *smp = zcs_sampler(slot, op);
	uint64_t t0 = zcs_sample_due(smp);
	int rc = -1, sent_copy = 0;
	zcs_caller_started();
	zcs_tls.in_send++;
	if (h) { /* before the send: its ffn may run inside it; atomic like
		    converted, for the same reason (TSan cannot see libzmq's pipe) */
		__atomic_store_n(&h->slot, (uint16_t)slot, __ATOMIC_RELAXED);
		zcs_handoff_send(h); /* the send hands it on, with all we did to it */
	}
	if (path == ZCS_PATH_ZEROCOPY && bytes < threshold_bytes && can_convert) {
		if (zcs_tls.convert_nest < ZCS_CONVERT_NEST_MAX) {
			zcs_tls.convert_nest++;
			rc = send_converted(real_fn, msg, socket, flags, bytes, h, &sent_copy);
			zcs_tls.convert_nest--;
		} else if (zcs_shared_part) {
			__atomic_fetch_add(&zcs_shared_part->unconverted_nested, 1,
					   __ATOMIC_RELAXED);
		}
	}
	if (sent_copy)
		path = ZCS_PATH_CONVERTED;
	else
		rc = real_fn(msg, socket, flags);
	zcs_tls.in_send--;
	if (__builtin_expect(rc >= 0, 1))
		zcs_done(op, slot, path, bytes, !(flags & ZMQ_SNDMORE), t0, smp);
	else
		zcs_failed(op, slot, errno, t0, smp);
	return rc;
}

static OURS int sendmsg_in_msg_send_order(zmq_msg_t *msg, void *socket, int flags)
{
	return real_zmq_sendmsg(socket, msg, flags);
}

static NOINLINE int msg_send(zmq_msg_t *msg, void *socket, int flags)
{
	return send_msg(ZCS_OP_MSG_SEND, real_zmq_msg_send, msg, socket, flags);
}

static NOINLINE int sendmsg(zmq_msg_t *msg, void *socket, int flags)
{
	return send_msg(ZCS_OP_SENDMSG, sendmsg_in_msg_send_order, msg, socket, flags);
}

EXPORT int zmq_msg_send(zmq_msg_t *msg, void *socket, int flags)
{
	if (!zcs_active(__builtin_return_address(0)) || !msg)
		return real_zmq_msg_send ? real_zmq_msg_send(msg, socket, flags) : zcs_enosys();
	return msg_send(msg, socket, flags);
}

EXPORT int zmq_sendmsg(void *socket, zmq_msg_t *msg, int flags)
{
	if (!zcs_active(__builtin_return_address(0)) || !msg)
		return real_zmq_sendmsg ? real_zmq_sendmsg(socket, msg, flags) : zcs_enosys();
	return sendmsg(msg, socket, flags);
}

/* ------------------------------------------------- the socket table */

EXPORT void *zmq_socket(void *ctx, int type)
{
	if (!zcs_active(__builtin_return_address(0))) {
		void *own = real_zmq_socket ? real_zmq_socket(ctx, type) : (zcs_enosys(), NULL);
		if (zcs_in_monitor && own) /* a built-in libzmq's monitor socket */
			zcs_own_socket_add(own);
		return own;
	}
	void *socket = real_zmq_socket(ctx, type);
	if (socket)
		zcs_socket_opened(socket, type);
	return socket;
}

static OURS int endpoint_call(int (*real_fn)(void *, const char *), void *socket,
			      const char *endpoint, int bound)
{
	int rc = real_fn(socket, endpoint);
	if (rc == 0 && endpoint)
		zcs_socket_endpoint(socket, endpoint, bound);
	return rc;
}

EXPORT int zmq_bind(void *socket, const char *endpoint)
{
	if (!zcs_active(__builtin_return_address(0)))
		return real_zmq_bind ? real_zmq_bind(socket, endpoint) : zcs_enosys();
	return endpoint_call(real_zmq_bind, socket, endpoint, 1);
}

EXPORT int zmq_connect(void *socket, const char *endpoint)
{
	if (!zcs_active(__builtin_return_address(0)))
		return real_zmq_connect ? real_zmq_connect(socket, endpoint) : zcs_enosys();
	return endpoint_call(real_zmq_connect, socket, endpoint, 0);
}

EXPORT int zmq_close(void *socket)
{
	/* a built-in libzmq's monitor socket: its address may be a new one's next */
	if (__atomic_load_n(&zcs_libzmq_builtin, __ATOMIC_RELAXED))
		zcs_own_socket_remove(socket);
	if (!zcs_active(__builtin_return_address(0)))
		return real_zmq_close ? real_zmq_close(socket) : zcs_enosys();
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
	if (!zcs_active(__builtin_return_address(0)))
		return real_zmq_socket_monitor ? real_zmq_socket_monitor(socket, endpoint, events)
					       : zcs_enosys();
	unsigned builtin = __atomic_load_n(&zcs_libzmq_builtin, __ATOMIC_RELAXED) != 0;
	zcs_tls.depth++;
	zcs_in_monitor += builtin;
	int rc = real_zmq_socket_monitor ? real_zmq_socket_monitor(socket, endpoint, events)
					 : zcs_enosys();
	zcs_in_monitor -= builtin;
	zcs_tls.depth--;
	return rc;
}
