/*
 * segment.h - the writer's side of the shared-memory segment.
 */
#ifndef ZCSHIM_SEGMENT_WRITER_H
#define ZCSHIM_SEGMENT_WRITER_H

#include <stdint.h>

#include "config.h"
#include "zcshim_segment.h"

/* At load: keep the settings and make the segment, its shards not yet
 * backed. Failure is warned about once; the shim then passes through. */
void zcs_segment_open(const struct zcs_config *cfg);

/* At the first intercepted call: libzmq's version and ZCS_F_* flags, and
 * ZCS_F_CALLS_SEEN, into the header (and into any segment made later).
 * Returns what went wrong before (kept until a libzmq call), or "". */
const char *zcs_segment_calls_seen(uint32_t libzmq_version, uint32_t flags);

/* Around fork (pthread_atfork): no creation half done in the child. */
void zcs_segment_lock(void);
void zcs_segment_unlock(void);

/* The shared part (socket table, gauge, cell index), or NULL if there is no
 * segment. Makes the segment in a forked child. Keeps errno. */
struct zcs_shared *zcs_segment_shared(void);

/* Set while a segment exists: the way to the shared part for code that has
 * no shard yet (the hot path goes through zcs_tls.shared). */
extern struct zcs_shared *zcs_shared_part;
extern uint32_t zcs_shards_used; /* bit i: shard i has had a thread */

/* In a forked child: forget the parent's segment and shards; the child makes
 * its own on its first record or socket. Runs in the child's only thread. */
void zcs_segment_after_fork(void);

/* At exit: mark the segment exited, and remove it if ZCSHIM_KEEP=0. */
void zcs_segment_exit(void);

#endif
