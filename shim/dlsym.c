/*
 * dlsym.c - a lookup in a given object that finds one of the libzmq
 * functions the shim defines hands out the shim's definition instead, the
 * same function a PLT call reaches (Ruby-FFI, FFI::Platypus, ctypes, cffi,
 * LuaJIT, Julia's ccall all call libzmq through such pointers).
 *
 * Reached from dlentry.S's dlsym and dlvsym for a real handle only; RTLD_NEXT
 * and RTLD_DEFAULT never come here. Only when the address found is the very
 * function the shim forwards to (real_<name>): a second libzmq in the
 * process keeps its own functions, since forwarding its sockets to ours
 * would crash the host. If the shim has not chosen its libzmq yet, it
 * chooses now (zcs_resolve_from), which may look other names up: any error
 * that leaves in dlerror() is consumed, so that the caller sees the state
 * its own successful lookup left (no error), and errno is kept.
 */
#include <dlfcn.h>
#include <errno.h>

#include "dlreal.h"
#include "interposed.h"
#include "reach.h"
#include "real.h"

/* For dlentry.S, which jumps here. */
void *zcs_dlsym_handle(void *handle, const char *name);
void *zcs_dlvsym_handle(void *handle, const char *name, const char *version);

static void *substitute(const char *name, void *found)
{
	if (!found || !__atomic_load_n(&zcs_reach_on, __ATOMIC_RELAXED))
		return found;
	const struct zcs_interposed *w = zcs_interposed_find(name);
	if (!w || found == w->own)
		return found;
	void *real = __atomic_load_n(w->real, __ATOMIC_ACQUIRE);
	if (!real) {
		int saved = errno;
		zcs_resolve_from(found);
		(void)dlerror();
		errno = saved;
		real = __atomic_load_n(w->real, __ATOMIC_ACQUIRE);
	}
	if (found != real)
		return found;
	zcs_reach_handed();
	return w->own;
}

void *zcs_dlsym_handle(void *handle, const char *name)
{
	return substitute(name, zcs_dlsym(handle, name));
}

void *zcs_dlvsym_handle(void *handle, const char *name, const char *version)
{
	void *(*real)(void *, const char *, const char *) =
		__atomic_load_n(&zcs_real_dlvsym, __ATOMIC_ACQUIRE);
	if (!real) {
		zcs_dl_resolve();
		real = __atomic_load_n(&zcs_real_dlvsym, __ATOMIC_ACQUIRE);
	}
	return real ? substitute(name, real(handle, name, version)) : NULL;
}
