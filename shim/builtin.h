/*
 * builtin.h - libzmq built into an object that holds other code too
 * (zeromq.js 6's addon.node; a plugin linked with libzmq.a that exports
 * its zmq_* symbols): telling libzmq's own calls from the binding's.
 *
 * With libzmq alone in its object, a call whose return address is in that
 * object's code is libzmq's own (real.h). Here the binding's code shares
 * the object, so resolve.c sets no text range and sets zcs_libzmq_builtin
 * instead. What libzmq calls through the shim by itself is then told apart
 * otherwise:
 *   - calls nested in one of our wrappers (zmq_sendmsg jumping to
 *     zmq_msg_send, zmq_send_const calling zmq_msg_init_data): the depth
 *     counter, kept by forwarders the real_* pointers are set to
 *     (zcs_builtin_nest), so a libzmq of its own pays nothing for it;
 *   - the socket zmq_socket_monitor makes (socket_base_t::monitor calls
 *     zmq_socket, zmq_bind and zmq_close): our zmq_socket_monitor wrapper
 *     counts as a frame of ours and notes that socket here;
 *   - the events libzmq sends on that socket with zmq_msg_send, from the
 *     app's thread or its own: a send on a socket noted here is libzmq's.
 * zmq_proxy and zmq_proxy_steerable call no zmq_* function through the PLT
 * (they use socket_base_t directly, libzmq 3.2 to 4.3.5): nothing to do.
 */
#ifndef ZCSHIM_BUILTIN_H
#define ZCSHIM_BUILTIN_H

extern int zcs_libzmq_builtin;

/* >0 on this thread while inside our zmq_socket_monitor wrapper */
extern __thread unsigned zcs_in_monitor __attribute__((tls_model("initial-exec")));

/* Point the real_* functions that can call back through our entry points
 * at forwarders that count a frame of ours. Once, when resolve.c finds
 * libzmq built in, after every pointer was found. */
void zcs_builtin_nest(void);

/* Sockets libzmq made itself (monitor sockets), at most a few at a time. */
void zcs_own_socket_add(void *socket);
void zcs_own_socket_remove(void *socket);
int zcs_own_socket(const void *socket);

#endif
