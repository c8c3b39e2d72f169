/*
 * segment.h - the writer's side of the shared-memory segment.
 */
#ifndef ZCSHIM_SEGMENT_WRITER_H
#define ZCSHIM_SEGMENT_WRITER_H

#include <stdint.h>
#include <sys/types.h>

#include "zcshim_segment.h"

/* At load, with zcs_settings(): make the segment, only its header and
 * shared part backed. Failure is warned about once (at the first libzmq
 * call); the shim then passes through. */
void zcs_segment_open(void);

/* At the first intercepted call: libzmq's version and ZCS_F_* flags, and
 * ZCS_F_CALLS_SEEN, into the header (and into any segment made later).
 * Returns what went wrong before (kept until a libzmq call), or "". */
const char *zcs_segment_calls_seen(uint32_t libzmq_version, uint32_t flags);

/* Around fork (pthread_atfork): no creation half done in the child. */
void zcs_segment_lock(void);
void zcs_segment_unlock(void);

/* The shared part (socket table, gauge peaks, cell index), or NULL if there
 * is no segment. Makes the segment in a forked child. Keeps errno. */
struct zcs_shared *zcs_segment_shared(void);

/* Set while a segment exists: the way to the shared part. */
extern struct zcs_shared *zcs_shared_part;

/* Shard areas by number (NULL: none), for the gauge (hold.c), and which
 * are in use (bit s), as in zcs_shared.shards_used. */
extern struct zcs_shard_head *zcs_shard_area[ZCS_NSHARDS];

/* The process is about to become euid `uid` (creds.c, before a setuid-
 * family call while still privileged): give the segment to that user, so
 * it can still back pages, be read by that user and be removed at exit.
 * Returns the uid to give it back to if the call fails, or -1 (nothing
 * done). */
long zcs_segment_give_to(uid_t uid);

/* In a forked child: forget the parent's segment and shards; the child makes
 * its own on its first record or socket. Runs in the child's only thread. */
void zcs_segment_after_fork(void);

/* At exit: mark the segment exited, and remove it if ZCSHIM_KEEP=0. */
void zcs_segment_exit(void);

#endif
