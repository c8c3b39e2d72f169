/*
 * dlreal.c - find libc's own dlsym, dlvsym and dlopen (see dlreal.h).
 *
 * Why not dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34"), as MangoHud does? Our
 * reference to dlvsym binds to our own export. And a versioned reference
 * (dlsym@GLIBC_2.34, made with .symver) does not skip an unversioned
 * definition either: glibc's symbol matching accepts a definition of the
 * base version (VER_NDX_GLOBAL, which is what our exports are) for any
 * version asked, so the reference still binds to our dlsym, the first in
 * the search order. tests/apps/zcdlver.c shows both: an app's calls through
 * dlsym@GLIBC_2.34 and dlsym@GLIBC_2.2.5 arrive here.
 *
 * So the definitions are taken from the dynamic symbol table of the object
 * that has them: libc.so.6 since glibc 2.34 (dlsym@@GLIBC_2.34, with the
 * same function also as the compatibility dlsym@GLIBC_2.2.5), libdl.so.2
 * before (dlsym@@GLIBC_2.2.5; the shim links -ldl, so it is loaded). The
 * default version is taken, as a freshly linked program would bind.
 *
 * The objects are walked through _r_debug's list rather than with
 * dl_iterate_phdr: this can run inside a sanitizer's start-up, whose
 * dlsym(RTLD_NEXT) calls reach our dlsym before its own dl_iterate_phdr
 * interceptor can forward anywhere. libc and libdl are loaded with the
 * program, near the head of the list, which a concurrent dlopen only
 * appends to.
 */
#include "dlreal.h"

#include <dlfcn.h>
#include <link.h>

#include "elfdyn.h"

void *(*zcs_real_dlsym)(void *, const char *);
void *(*zcs_real_dlvsym)(void *, const char *, const char *);
void *(*zcs_real_dlopen)(const char *, int);

static const char *const homes[] = { "libc.so.6", "libdl.so.2" };

ZCS_NO_SANITIZE static void take(void **slot, void *p)
{
	void *expect = NULL;
	if (p)
		__atomic_compare_exchange_n(slot, &expect, p, 0, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED);
}

ZCS_NO_SANITIZE void zcs_dl_resolve(void)
{
	if (__atomic_load_n(&zcs_real_dlopen, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&zcs_real_dlvsym, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&zcs_real_dlsym, __ATOMIC_ACQUIRE))
		return;
	for (size_t h = 0; h < sizeof homes / sizeof homes[0]; h++) {
		for (struct link_map *l = _r_debug.r_map; l; l = l->l_next) {
			if (!l->l_name || !zcs_str_eq(zcs_basename(l->l_name), homes[h]))
				continue;
			struct zcs_elf e;
			if (zcs_elf_init(&e, l->l_addr, l->l_ld) != 0)
				break;
			take((void **)&zcs_real_dlsym, zcs_elf_lookup(&e, "dlsym", NULL));
			take((void **)&zcs_real_dlvsym, zcs_elf_lookup(&e, "dlvsym", NULL));
			take((void **)&zcs_real_dlopen, zcs_elf_lookup(&e, "dlopen", NULL));
			break;
		}
		if (zcs_real_dlsym && zcs_real_dlvsym && zcs_real_dlopen)
			return;
	}
}

void *zcs_dlsym(void *handle, const char *name)
{
	void *(*real)(void *, const char *) = __atomic_load_n(&zcs_real_dlsym, __ATOMIC_ACQUIRE);
	if (!real) {
		zcs_dl_resolve();
		real = __atomic_load_n(&zcs_real_dlsym, __ATOMIC_ACQUIRE);
	}
	return real ? real(handle, name) : NULL;
}

void *zcs_dlopen(const char *file, int mode)
{
	void *(*real)(const char *, int) = __atomic_load_n(&zcs_real_dlopen, __ATOMIC_ACQUIRE);
	if (!real) {
		zcs_dl_resolve();
		real = __atomic_load_n(&zcs_real_dlopen, __ATOMIC_ACQUIRE);
	}
	return real ? real(file, mode) : NULL;
}
