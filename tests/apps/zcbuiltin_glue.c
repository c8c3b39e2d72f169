/*
 * zcbuiltin_glue - lets Debian's libzmq.a be linked into a shared object
 * (zcbuiltin.so, libzmq built in as in zeromq.js's addon.node).
 *
 * libzmq.a is compiled as position-independent *executable* code, not
 * shared-object code: it reaches a few data objects of libc and libgssapi
 * PC-relative, which only an executable can (the linker gives it a copy of
 * each). Here the copies are made by hand: each of those objects is defined
 * hidden in zcbuiltin.so, so the PC-relative references land on it, and
 * filled from the real one when the object loads. libstdc++ and libnorm are
 * linked in statically and, like everything but zmq_* and zcplugin_*, made
 * local by the version script, for the same reason. The values: stderr and
 * the two GSS OIDs are pointers set once at start; in6addr_any is all
 * zeros; __libc_single_threaded 0 makes libstdc++'s reference counts always
 * atomic, which is right for any process.
 */
#include <dlfcn.h>

#define COPY __attribute__((visibility("hidden")))

COPY void *stderr;
COPY void *GSS_C_NT_USER_NAME;
COPY void *GSS_C_NT_HOSTBASED_SERVICE;
COPY const unsigned char in6addr_any[16];
COPY char __libc_single_threaded;

static void copy(void **to, const char *name)
{
	void **from = (void **)dlsym(RTLD_DEFAULT, name);
	if (from)
		*to = *from;
}

__attribute__((constructor)) static void fill_copies(void)
{
	copy(&stderr, "stderr");
	copy(&GSS_C_NT_USER_NAME, "GSS_C_NT_USER_NAME");
	copy(&GSS_C_NT_HOSTBASED_SERVICE, "GSS_C_NT_HOSTBASED_SERVICE");
}
