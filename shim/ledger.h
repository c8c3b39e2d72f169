/*
 * ledger.h - keep /dev/shm bounded without ever scanning it.
 *
 * Segments outlive their processes (ZCSHIM_KEEP=1) so that zcshim-stat works
 * after a short run; a machine running many short ZeroMQ processes would
 * fill /dev/shm (Docker gives it 64 MiB) and starve its neighbours. So each
 * user has a ledger, one 4 KiB file in /dev/shm listing the segments that
 * user's processes made. A process adds itself when it makes its segment
 * and marks itself finished at exit (moving to the end: the list is in
 * order of start for the running, of exit for the finished); each time,
 * under the ledger's lock, finished segments beyond the ZCS_KEEP_FINISHED
 * that finished last (of those with calls, and as many again of those
 * without) are removed. The
 * work is bounded by the ledger's size, not by what /dev/shm holds: other
 * users' files, even a flood of names like ours, cost nothing.
 *
 * Finished means proven finished: marked so at exit, or gone from the
 * pruning process's own PID namespace (procid.h). A segment of another
 * namespace that was not marked is kept, whatever its age: zcshim-stat
 * --clean, run where that namespace can be seen, removes it.
 */
#ifndef ZCSHIM_LEDGER_H
#define ZCSHIM_LEDGER_H

#include <sys/types.h>

#include "segname.h"

#define ZCS_KEEP_FINISHED 8

/* Add id's segment (just made, its file owned by owner: our euid) to
 * owner's ledger and prune that ledger. 0 done; 1 not now (the lock held
 * too long, no room): zcs_ledger_finish lists it at exit; -1 never: the
 * ledger's name is taken by a file not ours, nothing will bound this
 * segment, and the caller must not keep it after exit. */
int zcs_ledger_add(const struct zcs_ident *id, uid_t owner);

/* id's segment file now belongs to `to` (root gave it away, creds.c): move
 * its entry from `from`'s ledger to `to`'s. Root only. Returns as
 * zcs_ledger_add for `to`'s ledger. */
int zcs_ledger_move(const struct zcs_ident *id, uid_t from, uid_t to);

/* id's process is finishing: mark it in owner's ledger, listing it if it
 * was not (removed: its segment is gone, ZCSHIM_KEEP=0), then prune. */
void zcs_ledger_finish(const struct zcs_ident *id, uid_t owner, int has_calls, int removed);

#endif
