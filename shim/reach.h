/*
 * reach.h - what the shim knows of how libzmq's calls reach it, for the
 * segment header's reach block (zcshim_segment.h): the object libzmq was
 * found in, the ways calls came (symbol binding, dlsym pointers, redirected
 * RTLD_DEEPBIND objects, a libzmq built into another object), and, when no
 * call came at all, which case that is, decided at exit.
 *
 * Events are kept in process memory and copied into the header whenever
 * there is one (a segment made later, or after fork, gets them too). None
 * of this is on the hot path.
 */
#ifndef ZCSHIM_REACH_H
#define ZCSHIM_REACH_H

#include "zcshim_segment.h"

/* dlsym and dlopen change nothing when the shim is off (ZCSHIM_MODE=off).
 * Set at load; on until then, which is harmless (our wrappers pass
 * through when off). */
extern int zcs_reach_on;
void zcs_reach_set_on(int on);

/* Is name (a path or soname) libzmq's own object: "libzmq*.so*"? */
int zcs_reach_is_libzmq_name(const char *name);

/* resolve.c: libzmq found in object (dl_iterate_phdr's name, "" for the
 * executable); builtin when that object holds other code too. */
void zcs_reach_libzmq(const char *object, int builtin);
/* dlsym.c: one more of our wrappers handed to a dlsym/dlvsym caller. */
void zcs_reach_handed(void);
/* deepbind.c: the GOT of the object with this dynamic section redirected;
 * or a DEEPBIND dlopen of file passed through unredirected. */
void zcs_reach_patched(const void *dynamic);
void zcs_reach_lost(const char *file);

/* segment.c: the header to keep up to date (a new segment, or NULL when it
 * goes away in a forked child). Called with the segment lock held. */
void zcs_reach_publish(struct zcs_header *h);

/* At exit, before the segment is marked exited: how calls came (symbol
 * binding), and if none did, why. Walks the loaded objects. */
void zcs_reach_at_exit(void);

#endif
