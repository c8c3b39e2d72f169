/*
 * libzmq_own.h - libzmq's own function of a name, bypassing any interposer,
 * for the benchmarks that compare the shim's wrappers with libzmq itself.
 *
 * dlsym on libzmq's handle no longer does: libzcshim.so exports dlsym and
 * answers a lookup of a name it interposes with its own wrapper, as it must
 * for bindings that call libzmq through dlsym (docs/bindings.md). libc's
 * dlsym, looked up by name in libc itself (libdl before glibc 2.34), is not
 * anyone's wrapper and answers with libzmq's.
 */
#ifndef ZCSHIM_BENCH_LIBZMQ_OWN_H
#define ZCSHIM_BENCH_LIBZMQ_OWN_H

#include <dlfcn.h>
#include <stddef.h>

static inline void *libzmq_own(const char *name)
{
	static void *(*libc_dlsym)(void *, const char *);
	static const char *const homes[] = { "libc.so.6", "libdl.so.2" };
	for (size_t i = 0; !libc_dlsym && i < sizeof homes / sizeof homes[0]; i++) {
		void *h = dlopen(homes[i], RTLD_LAZY | RTLD_NOLOAD);
		*(void **)&libc_dlsym = h ? dlsym(h, "dlsym") : NULL;
	}
	void *zmq = dlopen("libzmq.so.5", RTLD_LAZY | RTLD_NOLOAD);
	void *p = zmq && libc_dlsym ? libc_dlsym(zmq, name) : NULL;
	if (zmq)
		dlclose(zmq);
	return p;
}

#endif
