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
 * The handle of the module we resolved through is kept open and libzcshim
 * is linked with -z nodelete: our pointers point into libzmq, and our
 * trampoline sits in libzmq's messages, so neither may be unloaded under
 * the other.
 */
#include "real.h"

#include <dlfcn.h>
#include <link.h>
#include <string.h>

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

static const struct {
	const char *name;
	void **slot;
	int required;
} wanted[] = {
#define W(name, required) { #name, (void **)&real_##name, required }
	W(zmq_msg_init_data, 1), W(zmq_send, 1), W(zmq_send_const, 1), W(zmq_msg_send, 1),
	W(zmq_sendmsg, 1), W(zmq_socket, 1), W(zmq_close, 1), W(zmq_bind, 1),
	W(zmq_connect, 1), W(zmq_msg_recv, 1), W(zmq_recvmsg, 1), W(zmq_recv, 1), W(zmq_poll, 1),
	W(zmq_getsockopt, 1), W(zmq_msg_init, 1), W(zmq_msg_init_size, 1), W(zmq_msg_close, 1),
	W(zmq_msg_data, 1), W(zmq_msg_size, 1), W(zmq_msg_more, 1), W(zmq_version, 1),
	W(zmq_msg_routing_id, 0), W(zmq_msg_set_routing_id, 0), W(zmq_msg_group, 0),
	W(zmq_msg_set_group, 0),
#undef W
};
#define NWANTED (sizeof wanted / sizeof wanted[0])

static int all_found;

/* Open (no load) once and keep: the first handle found is the one used. */
static void *keep_handle(void **cache, const char *file)
{
	void *h = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
	if (h || !file)
		return h;
	h = dlopen(file, RTLD_LAZY | RTLD_NOLOAD);
	void *expect = NULL;
	if (h && !__atomic_compare_exchange_n(cache, &expect, h, 0, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE)) {
		dlclose(h); /* another thread's is kept; ours was one more reference */
		h = expect;
	}
	return h;
}

static void *lookup(const char *name, const void *caller)
{
	static void *caller_module, *libzmq;
	void *p = dlsym(RTLD_NEXT, name);
	Dl_info info;
	if (!p && caller && dladdr(caller, &info) && info.dli_fname) {
		void *module = keep_handle(&caller_module, info.dli_fname);
		if (module)
			p = dlsym(module, name);
	}
	if (!p) {
		void *h = keep_handle(&libzmq, "libzmq.so.5");
		if (h)
			p = dlsym(h, name);
	}
	return p;
}

/* The executable segment of the object holding zmq_msg_send. */
static int find_text(struct dl_phdr_info *info, size_t size, void *target)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if ((uintptr_t)target - lo < hi - lo) {
			__atomic_store_n(&zcs_libzmq_text_hi, hi, __ATOMIC_RELAXED);
			__atomic_store_n(&zcs_libzmq_text_lo, lo, __ATOMIC_RELAXED);
			return 1;
		}
	}
	return 0;
}

int zcs_resolve(const void *caller)
{
	if (__atomic_load_n(&all_found, __ATOMIC_ACQUIRE))
		return 1;
	int missing = 0;
	for (size_t i = 0; i < NWANTED; i++) {
		if (__atomic_load_n(wanted[i].slot, __ATOMIC_ACQUIRE))
			continue;
		/* optional ones only through the global scope: a miss there is
		 * the normal case, not worth a module lookup */
		void *p = wanted[i].required ? lookup(wanted[i].name, caller)
					     : dlsym(RTLD_NEXT, wanted[i].name);
		void *expect = NULL;
		if (p)
			__atomic_compare_exchange_n(wanted[i].slot, &expect, p, 0,
						    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		else
			missing += wanted[i].required;
	}
	if (missing)
		return 0;
	if (!__atomic_load_n(&zcs_libzmq_text_hi, __ATOMIC_RELAXED))
		dl_iterate_phdr(find_text, (void *)real_zmq_msg_send);
	__atomic_store_n(&all_found, 1, __ATOMIC_RELEASE);
	return 1;
}
