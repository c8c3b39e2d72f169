/*
 * segment.h - the writer's side of the shared-memory segment.
 */
#ifndef ZCSHIM_SEGMENT_WRITER_H
#define ZCSHIM_SEGMENT_WRITER_H

#include <stdint.h>

#include "config.h"

/* What the header will say; stored at init, used when the segment is made
 * (lazily, by the first thread that records). */
void zcs_segment_configure(const struct zcs_config *cfg, uint32_t libzmq_version,
			   uint32_t flags);

/* In a forked child: forget the parent's segment and shards; the child makes
 * its own on its first record. Runs in the child's only thread. */
void zcs_segment_after_fork(void);

/* At exit: mark the segment exited, and remove it if ZCSHIM_KEEP=0. */
void zcs_segment_exit(void);

#endif
