/*
 * real.h - libzmq's own functions, as the shim calls them (after libfaketime:
 * one real_<name> pointer per function, all found in one place).
 */
#ifndef ZCSHIM_REAL_H
#define ZCSHIM_REAL_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef int msg_send_fn(zmq_msg_t *, void *, int); /* zmq_msg_send's order */
typedef int buf_send_fn(void *, const void *, size_t, int);
typedef int sendmsg_fn(void *, zmq_msg_t *, int);   /* zmq_sendmsg's order */

/* interposed */
extern int (*real_zmq_msg_init_data)(zmq_msg_t *, void *, size_t, zmq_free_fn *, void *);
extern buf_send_fn *real_zmq_send;
extern buf_send_fn *real_zmq_send_const;
extern msg_send_fn *real_zmq_msg_send;
extern sendmsg_fn *real_zmq_sendmsg;
extern void *(*real_zmq_socket)(void *, int);
extern int (*real_zmq_close)(void *);
extern int (*real_zmq_bind)(void *, const char *);
extern int (*real_zmq_connect)(void *, const char *);
extern int (*real_zmq_msg_recv)(zmq_msg_t *, void *, int);
extern int (*real_zmq_recvmsg)(void *, zmq_msg_t *, int);
extern int (*real_zmq_recv)(void *, void *, size_t, int);
extern int (*real_zmq_poll)(zmq_pollitem_t *, int, long);
extern int (*real_zmq_socket_monitor)(void *, const char *, int); /* builtin.h: its socket */
/* the socket table's type and bound address */
extern int (*real_zmq_getsockopt)(void *, int, void *, size_t *);
/* used by conversion and the layout self-test */
extern int (*real_zmq_msg_init)(zmq_msg_t *);
extern int (*real_zmq_msg_init_size)(zmq_msg_t *, size_t);
extern int (*real_zmq_msg_close)(zmq_msg_t *);
extern void *(*real_zmq_msg_data)(zmq_msg_t *);
extern size_t (*real_zmq_msg_size)(const zmq_msg_t *);
extern int (*real_zmq_msg_more)(const zmq_msg_t *);
extern void (*real_zmq_version)(int *, int *, int *);
/* draft API, absent from most builds (Debian's): then apps cannot set these */
extern uint32_t (*real_zmq_msg_routing_id)(zmq_msg_t *);
extern int (*real_zmq_msg_set_routing_id)(zmq_msg_t *, uint32_t);
extern const char *(*real_zmq_msg_group)(zmq_msg_t *);
extern int (*real_zmq_msg_set_group)(zmq_msg_t *, const char *);

/* Find them all. Safe from any thread at any time, and again (only what is
 * still missing is looked up; a found pointer changes once at most: to a
 * forwarder, for a libzmq built into another object, builtin.h). caller: code
 * in the module that called us, for a libzmq loaded RTLD_LOCAL; may be
 * NULL. Returns 1 once every required function is found. Takes the dynamic
 * linker's lock: never call it with a lock of ours held. */
int zcs_resolve(const void *caller);

/* The same, for a libzmq function found some other way (dlsym on a handle,
 * an RTLD_DEEPBIND object's binding): when no libzmq is in the global scope,
 * libzmq is the object that holds found. Same rules as zcs_resolve. */
int zcs_resolve_from(const void *found);

/* libzmq's code, so that its own calls through its PLT (zmq_sendmsg jumping
 * to zmq_msg_send, zmq_send_const calling zmq_msg_init_data, socket monitor
 * events) are told from the app's. [0, 0) until libzmq is found, and for
 * good when libzmq is built into an object that holds other code too
 * (builtin.h). */
extern uintptr_t zcs_libzmq_text_lo, zcs_libzmq_text_hi;

static inline int zcs_called_by_libzmq(const void *return_address)
{
	uintptr_t a = (uintptr_t)return_address;
	return a - zcs_libzmq_text_lo < zcs_libzmq_text_hi - zcs_libzmq_text_lo;
}

#endif
