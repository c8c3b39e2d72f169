/*
 * resolve.c - find libzmq's real functions, wherever libzmq was loaded.
 *
 * Normally dlsym(RTLD_NEXT) finds them: libzmq comes after us in the global
 * scope. A libzmq loaded RTLD_LOCAL, as a dependency of a dlopen'ed module
 * (a Python extension), is not in the global scope but is in the scope of
 * the module that calls it, so the calling module's handle finds it. Only
 * as a last resort is libzmq itself opened with RTLD_NOLOAD: for a mere
 * dependency of a dlopen'ed module that makes the dynamic linker build a
 * search list it then loses (valgrind: 152 bytes definitely lost).
 *
 * This runs outside any lock of ours: dlsym takes the dynamic linker's lock,
 * and a thread inside dlopen (holding it) may be running a constructor that
 * calls libzmq, i.e. us. Several threads may resolve at once; each pointer
 * is published with a compare-and-swap from NULL, so the first value wins
 * and nobody writes a pointer another thread may be reading.
 *
 * A binding that reaches libzmq only through dlsym pointers, or through an
 * RTLD_DEEPBIND object, may make no call through our exports at all: then
 * the libzmq its lookup found is the one (zcs_resolve_from, called by
 * dlsym.c and deepbind.c), unless one is in the global scope, whose PLT
 * callers we already intercept and so must forward to.
 *
 * The handle of the module we resolved through is kept open and libzcshim
 * is linked with -z nodelete: our pointers point into libzmq, and our
 * trampoline sits in libzmq's messages, so neither may be unloaded under
 * the other.
 *
 * Every dl* call here goes to libc's own (dlreal.h): ours are exports.
 */
#include "real.h"

#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "builtin.h"
#include "dlreal.h"
#include "elfdyn.h"
#include "reach.h"

int (*real_zmq_msg_init_data)(zmq_msg_t *, void *, size_t, zmq_free_fn *, void *);
buf_send_fn *real_zmq_send;
buf_send_fn *real_zmq_send_const;
msg_send_fn *real_zmq_msg_send;
sendmsg_fn *real_zmq_sendmsg;
void *(*real_zmq_socket)(void *, int);
int (*real_zmq_close)(void *);
int (*real_zmq_bind)(void *, const char *);
int (*real_zmq_connect)(void *, const char *);
int (*real_zmq_msg_recv)(zmq_msg_t *, void *, int);
int (*real_zmq_recvmsg)(void *, zmq_msg_t *, int);
int (*real_zmq_recv)(void *, void *, size_t, int);
int (*real_zmq_poll)(zmq_pollitem_t *, int, long);
int (*real_zmq_socket_monitor)(void *, const char *, int);
int (*real_zmq_getsockopt)(void *, int, void *, size_t *);
int (*real_zmq_msg_init)(zmq_msg_t *);
int (*real_zmq_msg_init_size)(zmq_msg_t *, size_t);
int (*real_zmq_msg_close)(zmq_msg_t *);
void *(*real_zmq_msg_data)(zmq_msg_t *);
size_t (*real_zmq_msg_size)(const zmq_msg_t *);
int (*real_zmq_msg_more)(const zmq_msg_t *);
void (*real_zmq_version)(int *, int *, int *);
uint32_t (*real_zmq_msg_routing_id)(zmq_msg_t *);
int (*real_zmq_msg_set_routing_id)(zmq_msg_t *, uint32_t);
const char *(*real_zmq_msg_group)(zmq_msg_t *);
int (*real_zmq_msg_set_group)(zmq_msg_t *, const char *);

uintptr_t zcs_libzmq_text_lo, zcs_libzmq_text_hi;

/* REQUIRED: the shim passes through without it. LOCAL: worth looking up
 * beyond the global scope (the draft API is absent from most builds, and a
 * miss there is the normal case). */
enum { REQUIRED = 1, LOCAL = 2, BOTH = REQUIRED | LOCAL };

static const struct {
	const char *name;
	void **slot;
	int how;
} wanted[] = {
#define W(name, how) { #name, (void **)&real_##name, how }
	W(zmq_msg_init_data, BOTH), W(zmq_send, BOTH), W(zmq_send_const, BOTH),
	W(zmq_msg_send, BOTH), W(zmq_sendmsg, BOTH), W(zmq_socket, BOTH), W(zmq_close, BOTH),
	W(zmq_bind, BOTH), W(zmq_connect, BOTH), W(zmq_msg_recv, BOTH), W(zmq_recvmsg, BOTH),
	W(zmq_recv, BOTH), W(zmq_poll, BOTH), W(zmq_getsockopt, BOTH), W(zmq_msg_init, BOTH),
	W(zmq_msg_init_size, BOTH), W(zmq_msg_close, BOTH), W(zmq_msg_data, BOTH),
	W(zmq_msg_size, BOTH), W(zmq_msg_more, BOTH), W(zmq_version, BOTH),
	W(zmq_socket_monitor, LOCAL),
	W(zmq_msg_routing_id, 0), W(zmq_msg_set_routing_id, 0), W(zmq_msg_group, 0),
	W(zmq_msg_set_group, 0),
#undef W
};
#define NWANTED (sizeof wanted / sizeof wanted[0])

static int all_found;
static int classified; /* classify() ran */

/* Open (no load) once and keep: the first handle found is the one used. */
static void *keep_handle(void **cache, const char *file)
{
	void *h = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
	if (h || !file)
		return h;
	h = zcs_dlopen(file, RTLD_LAZY | RTLD_NOLOAD);
	void *expect = NULL;
	if (h && !__atomic_compare_exchange_n(cache, &expect, h, 0, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE)) {
		dlclose(h); /* another thread's is kept; ours was one more reference */
		h = expect;
	}
	return h;
}

/* Where to look beyond the global scope: the module of the call that
 * brought us here, or the object holding a libzmq function found by a
 * lookup. Either may be NULL. */
struct where {
	const void *caller;
	const void *found;
};

/* name through the module holding addr, kept open in *cache */
static void *through(void **cache, const void *addr, const char *name)
{
	Dl_info info;
	if (!addr || !dladdr(addr, &info) || !info.dli_fname)
		return NULL;
	void *module = keep_handle(cache, info.dli_fname);
	return module ? zcs_dlsym(module, name) : NULL;
}

static void *lookup(const char *name, const struct where *w)
{
	static void *caller_module, *found_module, *libzmq;
	void *p = zcs_dlsym(RTLD_NEXT, name);
	if (!p)
		p = through(&caller_module, w->caller, name);
	if (!p)
		p = through(&found_module, w->found, name);
	if (!p) {
		void *h = keep_handle(&libzmq, "libzmq.so.5");
		if (h)
			p = zcs_dlsym(h, name);
	}
	return p;
}

/* The object holding zmq_msg_send: libzmq's own code is its executable
 * segment, if the object is libzmq alone; an object with libzmq built in
 * holds the binding's code too, which must not be taken for libzmq's
 * (builtin.h). */
static int classify(struct dl_phdr_info *info, size_t size, void *target)
{
	(void)size;
	if (!zcs_phdr_contains(info, (uintptr_t)target))
		return 0;
	const ElfW(Dyn) *dyn = zcs_phdr_dynamic(info);
	struct zcs_elf e;
	const char *soname = dyn && zcs_elf_init(&e, info->dlpi_addr, dyn) == 0 ? e.soname : NULL;
	int pure = zcs_reach_is_libzmq_name(info->dlpi_name) ||
		   (soname && zcs_reach_is_libzmq_name(soname));
	zcs_reach_libzmq(info->dlpi_name, !pure);
	if (!pure) {
		__atomic_store_n(&zcs_libzmq_builtin, 1, __ATOMIC_RELEASE);
		return 1;
	}
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if ((uintptr_t)target - lo < hi - lo) {
			__atomic_store_n(&zcs_libzmq_text_hi, hi, __ATOMIC_RELAXED);
			__atomic_store_n(&zcs_libzmq_text_lo, lo, __ATOMIC_RELAXED);
		}
	}
	return 1;
}

static int resolve(const struct where *w)
{
	if (__atomic_load_n(&all_found, __ATOMIC_ACQUIRE))
		return 1;
	int missing = 0;
	for (size_t i = 0; i < NWANTED; i++) {
		if (__atomic_load_n(wanted[i].slot, __ATOMIC_ACQUIRE))
			continue;
		void *p = wanted[i].how & LOCAL ? lookup(wanted[i].name, w)
						: zcs_dlsym(RTLD_NEXT, wanted[i].name);
		void *expect = NULL;
		if (p)
			__atomic_compare_exchange_n(wanted[i].slot, &expect, p, 0,
						    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		else
			missing += wanted[i].how & REQUIRED;
	}
	if (missing)
		return 0;
	if (!__atomic_load_n(&classified, __ATOMIC_ACQUIRE)) {
		dl_iterate_phdr(classify, (void *)real_zmq_msg_send);
		if (__atomic_load_n(&zcs_libzmq_builtin, __ATOMIC_ACQUIRE))
			zcs_builtin_nest(); /* once, whoever gets here first */
		__atomic_store_n(&classified, 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&all_found, 1, __ATOMIC_RELEASE);
	return 1;
}

int zcs_resolve(const void *caller)
{
	struct where w = { caller, NULL };
	return resolve(&w);
}

int zcs_resolve_from(const void *found)
{
	struct where w = { NULL, found };
	return resolve(&w);
}
