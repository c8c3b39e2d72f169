/*
 * zcdelay.c - a reference interposer that only waits: libzcdelay.so forwards
 * zmq_msg_init_data, zmq_send and zmq_msg_send to libzmq after spinning
 * ZCDELAY_SPINS empty loop turns (default 0: a bare forwarder).
 *
 * It answers a question about the benchmark rather than about zcshim: how
 * much of zcoverhead's PUSH/PULL msgs/s ratio does a given number of ns per
 * call cost, whatever the interposer does with them? Run zcoverhead under it
 * with a few spin counts; each run prints the ns it added per call (the
 * single-call ops) next to the ratios (the pp_ ops). See README, "Results".
 *
 *   ZCDELAY_SPINS=40 LD_PRELOAD=build/libzcdelay.so build/zcoverhead
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <zmq.h>

static int (*real_init_data)(zmq_msg_t *, void *, size_t, zmq_free_fn *, void *);
static int (*real_send)(void *, const void *, size_t, int);
static int (*real_msg_send)(zmq_msg_t *, void *, int);
static unsigned spins;

__attribute__((constructor)) static void resolve(void)
{
	const char *s = getenv("ZCDELAY_SPINS");
	spins = s ? (unsigned)strtoul(s, NULL, 10) : 0;
	real_init_data = (int (*)(zmq_msg_t *, void *, size_t, zmq_free_fn *, void *))
		dlsym(RTLD_NEXT, "zmq_msg_init_data");
	real_send = (int (*)(void *, const void *, size_t, int))dlsym(RTLD_NEXT, "zmq_send");
	real_msg_send = (int (*)(zmq_msg_t *, void *, int))dlsym(RTLD_NEXT, "zmq_msg_send");
}

static inline void wait_a_little(void)
{
	for (unsigned i = 0; i < spins; i++)
		__asm__ volatile("" ::: "memory");
}

int zmq_msg_init_data(zmq_msg_t *msg, void *data, size_t size, zmq_free_fn *ffn, void *hint)
{
	wait_a_little();
	return real_init_data(msg, data, size, ffn, hint);
}

int zmq_send(void *socket, const void *buf, size_t len, int flags)
{
	wait_a_little();
	return real_send(socket, buf, len, flags);
}

int zmq_msg_send(zmq_msg_t *msg, void *socket, int flags)
{
	wait_a_little();
	return real_msg_send(msg, socket, flags);
}
