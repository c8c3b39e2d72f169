/*
 * interposed.h - the libzmq functions libzcshim.so defines, by name: the
 * shim's own definition of each (the function a PLT call reaches) and the
 * real_<name> pointer it forwards to.
 *
 * dlsym.c hands these definitions out to dlsym callers and deepbind.c
 * writes them into RTLD_DEEPBIND objects' GOT slots, so every way in ends
 * in the same function.
 */
#ifndef ZCSHIM_INTERPOSED_H
#define ZCSHIM_INTERPOSED_H

struct zcs_interposed {
	const char *name;
	void *own;   /* our definition, as our dynamic symbol table gives it */
	void **real; /* &real_<name> (real.h): NULL until resolved */
};

/* The entry for name, or NULL if the shim does not define it (or its own
 * definition cannot be found). Any thread, any time. */
const struct zcs_interposed *zcs_interposed_find(const char *name);

/* Is p one of our definitions? */
int zcs_interposed_own(const void *p);

#endif
