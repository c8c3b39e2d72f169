/*
 * dlreal.h - libc's own dlsym, dlvsym and dlopen, for the shim's exports of
 * the same names (dlentry.S) and for every dl* call the shim makes itself.
 *
 * The shim exports dlsym, dlvsym and dlopen, so any reference to those names
 * it makes, versioned or not, binds to its own exports. The real ones are
 * therefore looked up by hand in libc's (glibc >= 2.34) or libdl's (older)
 * dynamic symbol table: see dlreal.c for why a versioned reference would not
 * do.
 */
#ifndef ZCSHIM_DLREAL_H
#define ZCSHIM_DLREAL_H

/* NULL until zcs_dl_resolve() found them; then never changed. */
extern void *(*zcs_real_dlsym)(void *, const char *);
extern void *(*zcs_real_dlvsym)(void *, const char *, const char *);
extern void *(*zcs_real_dlopen)(const char *, int);

/* Find them. Any thread, any time (from other libraries' constructors, a
 * sanitizer's start-up), again and again: no lock, no libc call. */
void zcs_dl_resolve(void);

/* The real dlsym and dlopen, resolved first if need be. A caller that passes
 * RTLD_NEXT or RTLD_DEFAULT gets the answer for the shim's own object. */
void *zcs_dlsym(void *handle, const char *name);
void *zcs_dlopen(const char *file, int mode);

#endif
