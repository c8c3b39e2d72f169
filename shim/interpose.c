/*
 * interpose.c - the five libzmq entry points libzcshim.so replaces.
 *
 * zmq_msg_init_data, zmq_send, zmq_msg_send, zmq_sendmsg and zmq_send_const
 * are defined here; with LD_PRELOAD the dynamic linker binds the app's calls
 * (and libzmq's own calls through its PLT) to them. Each one times the real
 * call, records it (record.h) and returns exactly what libzmq returned, with
 * libzmq's errno.
 *
 * Conversion happens at send time, not at zmq_msg_init_data. Copying at init
 * would have to call the app's ffn right away, inside zmq_msg_init_data,
 * which can deadlock a binding whose ffn takes a lock its caller holds; and
 * it would copy messages that are never sent. At send time the shim can do
 * what libzmq would do with a copied message instead:
 *   1. build a fresh message with zmq_msg_init_size and memcpy the bytes,
 *      carrying over routing id and group;
 *   2. send that copy with the real zmq_msg_send / zmq_sendmsg;
 *   3. on failure close the copy: the app's message is untouched and still
 *      the app's, as after any failed send, and errno is libzmq's;
 *   4. on success close the app's message (dropping its reference: the ffn
 *      runs now, or at the last close if the app zmq_msg_copy'd it) and leave
 *      it empty, as a successful send does.
 * So the ffn still runs exactly once per buffer, never inside
 * zmq_msg_init_data, and only once libzmq no longer reads the buffer.
 * Messages with ffn NULL (constants, zmq_send_const) are never converted.
 *
 * Re-entrancy: zcs_tls.depth counts our frames on this thread. A call that
 * arrives while depth > 0 comes from libzmq itself (zmq_send_const calls
 * zmq_msg_init_data through its PLT, zmq_sendmsg jumps to zmq_msg_send's)
 * and passes straight through unrecorded; so do calls on libzmq's own IO
 * threads (socket monitor events). The app's ffn runs with depth 0 (see
 * hold.c), so an ffn that sends, as pyzmq's does, is recorded as the app.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "config.h"
#include "hold.h"
#include "record.h"
#include "segment.h"
#include "warn.h"
#include "zmqmsg.h"

#define EXPORT __attribute__((visibility("default")))

typedef int msg_send_fn(zmq_msg_t *, void *, int); /* zmq_msg_send's order */
typedef int buf_send_fn(void *, const void *, size_t, int);
typedef int sendmsg_fn(void *, zmq_msg_t *, int);   /* zmq_sendmsg's order */

static int (*real_zmq_msg_init_data)(zmq_msg_t *, void *, size_t, zmq_free_fn *, void *);
static buf_send_fn *real_zmq_send;
static buf_send_fn *real_zmq_send_const;
static msg_send_fn *real_zmq_msg_send;
static sendmsg_fn *real_zmq_sendmsg;
/* used by conversion, not interposed */
static int (*real_zmq_msg_init)(zmq_msg_t *);
static int (*real_zmq_msg_init_size)(zmq_msg_t *, size_t);
static int (*real_zmq_msg_close)(zmq_msg_t *);
static void *(*real_zmq_msg_data)(zmq_msg_t *);
static size_t (*real_zmq_msg_size)(const zmq_msg_t *);
static void (*real_zmq_version)(int *, int *, int *);
/* draft API, absent from most builds: then apps cannot set these either */
static uint32_t (*real_zmq_msg_routing_id)(zmq_msg_t *);
static int (*real_zmq_msg_set_routing_id)(zmq_msg_t *, uint32_t);
static const char *(*real_zmq_msg_group)(zmq_msg_t *);
static int (*real_zmq_msg_set_group)(zmq_msg_t *, const char *);

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int inited;
static unsigned mode = ZCS_MODE_OFF;
static int layout_known;  /* zmqmsg.h's view of msg_t holds: classify sends */
static int can_convert;   /* layout_known and mode convert */
static uint64_t threshold_bytes;
static uint32_t sample_every = 1;

/* ------------------------------------------------------------------ init */

/* The code that made the first intercepted call: see resolve(). */
static const void *first_caller;

/* libzmq loaded RTLD_LOCAL, as a dependency of a dlopen'ed module (a Python
 * extension), is loaded but not "next" in the global scope. It is in the
 * scope of the module that calls it, though, so look it up through a handle
 * of the first caller's module, and only then through libzmq's own. (A
 * NOLOAD dlopen of libzmq itself, a mere dependency, makes the dynamic
 * linker build a search list it then loses: 152 bytes, definitely lost.)
 * The handle is never closed: our real_ pointers point into libzmq, which
 * must not be unloaded under them. */
static void *resolve(const char *name, int required)
{
	static void *caller_module, *libzmq;
	static int tried_caller, tried_libzmq;
	void *p = dlsym(RTLD_NEXT, name);
	if (!p && !tried_caller) {
		Dl_info info;
		tried_caller = 1;
		if (first_caller && dladdr(first_caller, &info) && info.dli_fname)
			caller_module = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
	}
	if (!p && caller_module)
		p = dlsym(caller_module, name);
	if (!p && required && !tried_libzmq) {
		tried_libzmq = 1; /* the caller's scope has no libzmq: last resort */
		libzmq = dlopen("libzmq.so.5", RTLD_LAZY | RTLD_NOLOAD);
	}
	if (!p && libzmq)
		p = dlsym(libzmq, name);
	return p;
}

static const char *env(const char *name)
{
	return getenv(name);
}

static void after_fork_child(void)
{
	zcs_segment_after_fork();
}

static void init(void)
{
	zcs_tls.depth++;
	*(void **)&real_zmq_msg_init_data = resolve("zmq_msg_init_data", 1);
	*(void **)&real_zmq_send = resolve("zmq_send", 1);
	*(void **)&real_zmq_send_const = resolve("zmq_send_const", 1);
	*(void **)&real_zmq_msg_send = resolve("zmq_msg_send", 1);
	*(void **)&real_zmq_sendmsg = resolve("zmq_sendmsg", 1);
	*(void **)&real_zmq_msg_init = resolve("zmq_msg_init", 1);
	*(void **)&real_zmq_msg_init_size = resolve("zmq_msg_init_size", 1);
	*(void **)&real_zmq_msg_close = resolve("zmq_msg_close", 1);
	*(void **)&real_zmq_msg_data = resolve("zmq_msg_data", 1);
	*(void **)&real_zmq_msg_size = resolve("zmq_msg_size", 1);
	*(void **)&real_zmq_version = resolve("zmq_version", 1);
	*(void **)&real_zmq_msg_routing_id = resolve("zmq_msg_routing_id", 0);
	*(void **)&real_zmq_msg_set_routing_id = resolve("zmq_msg_set_routing_id", 0);
	*(void **)&real_zmq_msg_group = resolve("zmq_msg_group", 0);
	*(void **)&real_zmq_msg_set_group = resolve("zmq_msg_set_group", 0);

	struct zcs_config cfg;
	char warn[400];
	zcs_config_load(&cfg, env, warn, sizeof warn);

	int major = 0, minor = 0, patch = 0;
	if (real_zmq_version)
		real_zmq_version(&major, &minor, &patch);
	int have_all = real_zmq_msg_init_data && real_zmq_send && real_zmq_send_const &&
		       real_zmq_msg_send && real_zmq_sendmsg && real_zmq_msg_init &&
		       real_zmq_msg_init_size && real_zmq_msg_close &&
		       real_zmq_msg_data && real_zmq_msg_size;
	struct zcs_msg_api api = { real_zmq_msg_init, real_zmq_msg_init_size,
				   real_zmq_msg_init_data, real_zmq_msg_close };
	layout_known = have_all && major == 4 && zcs_msg_selftest(&api);

	if (!have_all && cfg.mode != ZCS_MODE_OFF) {
		cfg.mode = ZCS_MODE_OFF;
		snprintf(warn + strlen(warn), sizeof warn - strlen(warn),
			 "%slibzmq symbols not found; passing through",
			 warn[0] ? "; " : "");
	} else if (!layout_known && cfg.mode == ZCS_MODE_CONVERT) {
		snprintf(warn + strlen(warn), sizeof warn - strlen(warn),
			 "%slibzmq %d.%d.%d message layout not recognised; recording only, no conversion",
			 warn[0] ? "; " : "", major, minor, patch);
	}
	if (cfg.mode != ZCS_MODE_OFF)
		zcs_clock_init();
	zcs_segment_configure(&cfg, (uint32_t)(major * 10000 + minor * 100 + patch),
			      layout_known ? ZCS_F_LAYOUT_KNOWN : 0);
	pthread_atfork(NULL, NULL, after_fork_child);

	threshold_bytes = cfg.threshold_bytes;
	sample_every = cfg.sample_every;
	can_convert = layout_known && cfg.mode == ZCS_MODE_CONVERT;
	mode = cfg.mode;
	if (warn[0])
		zcs_warn_once(warn);
	__atomic_store_n(&inited, 1, __ATOMIC_RELEASE);
	zcs_tls.depth--;
}

__attribute__((destructor)) static void fini(void)
{
	zcs_segment_exit();
}

/* ------------------------------------------------------------ hot path */

/* Should this call be recorded (and maybe converted)? Not when off; not when
 * nested in our own frame; not on a libzmq thread unless it runs the app's
 * ffn: there the only callers are libzmq's own (socket monitor events). */
static inline __attribute__((always_inline)) int active(void)
{
	if (zcs_tls.depth)
		return 0;
	if (__builtin_expect(!__atomic_load_n(&inited, __ATOMIC_ACQUIRE), 0)) {
		int saved = errno;
		first_caller = __builtin_return_address(0);
		pthread_once(&init_once, init);
		errno = saved;
	}
	if (mode == ZCS_MODE_OFF)
		return 0;
	if (__builtin_expect(zcs_tls.zmq_thread != 2, 0))
		return !zcs_on_zmq_thread() || zcs_tls.in_app_ffn;
	return 1;
}

/* Start time if this call of op is the one in sample_every to be timed, else 0. */
static inline uint64_t sample_start(unsigned op)
{
	if (zcs_tls.sample_left[op] > 1) {
		zcs_tls.sample_left[op]--;
		return 0;
	}
	zcs_tls.sample_left[op] = sample_every;
	return zcs_ticks();
}

static inline void finish(unsigned op, unsigned path, size_t bytes, uint64_t t0, int rc)
{
	int saved = errno;
	if (rc < 0)
		zcs_record_failed(op);
	else
		zcs_record(op, path, bytes, t0 ? zcs_elapsed_ns(t0, zcs_ticks()) : ZCS_UNTIMED);
	errno = saved;
}

static int enosys(void)
{
	errno = ENOSYS;
	return -1;
}

/* ---------------------------------------------------------- wrappers */

EXPORT int zmq_msg_init_data(zmq_msg_t *msg, void *data, size_t size,
			     zmq_free_fn *ffn, void *hint)
{
	if (!active())
		return real_zmq_msg_init_data ? real_zmq_msg_init_data(msg, data, size, ffn, hint)
					      : enosys();
	uint64_t t0 = sample_start(ZCS_OP_INIT_DATA);
	struct zcs_hold *h = NULL;
	if (ffn && t0 && !(h = zcs_hold_get()))
		zcs_record_untracked();
	zcs_tls.depth++;
	int rc;
	if (h) {
		h->ffn = ffn;
		h->hint = hint;
		h->t0_ticks = t0;
		h->bytes = size;
		h->thread_id = zcs_thread_id();
		h->converted = 0;
		zcs_handoff_send(h);
		rc = real_zmq_msg_init_data(msg, data, size, zcs_hold_trampoline, h);
		if (rc != 0) {
			int saved = errno;
			zcs_hold_put(h);
			errno = saved;
		}
	} else {
		rc = real_zmq_msg_init_data(msg, data, size, ffn, hint);
	}
	zcs_tls.depth--;
	finish(ZCS_OP_INIT_DATA, ffn ? ZCS_PATH_ZEROCOPY : ZCS_PATH_CONST, size, t0, rc);
	return rc;
}

static int send_buf(unsigned op, unsigned path, buf_send_fn *real_fn, void *socket,
		    const void *buf, size_t len, int flags)
{
	uint64_t t0 = sample_start(op);
	zcs_tls.depth++;
	int rc = real_fn(socket, buf, len, flags);
	zcs_tls.depth--;
	finish(op, path, len, t0, rc);
	return rc;
}

EXPORT int zmq_send(void *socket, const void *buf, size_t len, int flags)
{
	if (!active())
		return real_zmq_send ? real_zmq_send(socket, buf, len, flags) : enosys();
	return send_buf(ZCS_OP_SEND, ZCS_PATH_COPY, real_zmq_send, socket, buf, len, flags);
}

EXPORT int zmq_send_const(void *socket, const void *buf, size_t len, int flags)
{
	if (!active())
		return real_zmq_send_const ? real_zmq_send_const(socket, buf, len, flags)
					   : enosys();
	return send_buf(ZCS_OP_SEND_CONST, ZCS_PATH_CONST, real_zmq_send_const, socket,
			buf, len, flags);
}

/* Steps 1-4 of the comment at the top. Returns the send's result; *sent_copy
 * says whether the copy was made (if not, nothing was sent yet). */
static int send_converted(msg_send_fn *real_fn, zmq_msg_t *msg, void *socket,
			  int flags, size_t bytes, int *sent_copy)
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
	errno = saved;

	*sent_copy = 1;
	int rc = real_fn(&copy, socket, flags);
	int err = errno;
	if (rc < 0) {
		real_zmq_msg_close(&copy);
	} else {
		struct zcs_hold *h = zcs_hold_of(msg);
		if (h)
			__atomic_store_n(&h->converted, 1, __ATOMIC_RELAXED);
		real_zmq_msg_close(msg);
		real_zmq_msg_init(msg);
	}
	errno = err;
	return rc;
}

static int send_msg(unsigned op, msg_send_fn *real_fn, zmq_msg_t *msg, void *socket,
		    int flags)
{
	size_t bytes = real_zmq_msg_size(msg);
	unsigned path = layout_known ? zcs_msg_path(msg) : ZCS_PATH_COPY;
	uint64_t t0 = sample_start(op);
	int rc = -1, sent_copy = 0;
	zcs_tls.depth++;
	if (path == ZCS_PATH_ZEROCOPY && bytes < threshold_bytes && can_convert)
		rc = send_converted(real_fn, msg, socket, flags, bytes, &sent_copy);
	if (sent_copy)
		path = ZCS_PATH_CONVERTED;
	else
		rc = real_fn(msg, socket, flags);
	zcs_tls.depth--;
	finish(op, path, bytes, t0, rc);
	return rc;
}

EXPORT int zmq_msg_send(zmq_msg_t *msg, void *socket, int flags)
{
	if (!active() || !msg)
		return real_zmq_msg_send ? real_zmq_msg_send(msg, socket, flags) : enosys();
	return send_msg(ZCS_OP_MSG_SEND, real_zmq_msg_send, msg, socket, flags);
}

static int sendmsg_in_msg_send_order(zmq_msg_t *msg, void *socket, int flags)
{
	return real_zmq_sendmsg(socket, msg, flags);
}

EXPORT int zmq_sendmsg(void *socket, zmq_msg_t *msg, int flags)
{
	if (!active() || !msg)
		return real_zmq_sendmsg ? real_zmq_sendmsg(socket, msg, flags) : enosys();
	return send_msg(ZCS_OP_SENDMSG, sendmsg_in_msg_send_order, msg, socket, flags);
}
