/*
 * seghelp.h - what the reach and binding tests ask of a finished process's
 * segment: read it (and remove it), counts by op, path and size, sockets by
 * type and endpoint.
 */
#ifndef ZCSHIM_TESTS_SEGHELP_H
#define ZCSHIM_TESTS_SEGHELP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "segread.h"

/* The snapshot the integration suites read segments into: made by
 * sh_snap_setup (a suite's .init), freed by sh_snap_teardown (its .fini).
 * Criterion runs each test in a process of its own, so one is enough. */
extern struct zcs_snapshot *snap;
void sh_snap_setup(void);
void sh_snap_teardown(void);

/* The newest segment of pid into s, then removed; fails the test if none. */
void sh_read(struct zcs_snapshot *s, pid_t pid);

/* Successful calls of op on path at this size's class, over every socket. */
uint64_t sh_count(const struct zcs_snapshot *s, unsigned op, unsigned path, size_t bytes);
/* ... at every size. */
uint64_t sh_count_all(const struct zcs_snapshot *s, unsigned op, unsigned path);

/* The table slot of the socket of this type whose endpoints include
 * endpoint; 0 if none. Rows of that type. */
unsigned sh_slot_of(const struct zcs_snapshot *s, int type, const char *endpoint);
unsigned sh_rows(const struct zcs_snapshot *s, int type);

/* Calls of op on path through slot at this size's class (SIZE_MAX: all). */
uint64_t sh_slot_count(const struct zcs_snapshot *s, unsigned slot, unsigned op,
		       unsigned path, size_t bytes);

/* Zero-copy buffers in flight when the segment was read. */
uint64_t sh_inflight(const struct zcs_snapshot *s);

/* "LD_PRELOAD=[sanitizer:]shim[:extra]", as spawn.c builds it. */
const char *sh_preload_with(const char *extra);

/* "LD_PRELOAD=sanitizer" when one is preloaded, else NULL: to run a
 * program without the shim but otherwise as with it. */
const char *sh_preload_without_shim(void);

/* A sanitizer runtime is preloaded (make test-asan): it aborts any
 * dlopen with RTLD_DEEPBIND, so those tests cannot run there. */
int sh_sanitizer_preloaded(void);

#endif
