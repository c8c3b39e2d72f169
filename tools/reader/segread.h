/*
 * segread.h - the reader's side of the segment: find, copy, validate, sum.
 *
 * After Varnish's libvarnishapi: nothing here prints or exits. Every call
 * returns 0 or -1 and, on -1, a one-line reason in the caller's buffer; the
 * tool decides what to show. A segment is copied into private memory before
 * anything in it is trusted, so a writer truncating or rewriting it cannot
 * fault the reader, and every field that sizes or locates something is
 * checked against what was actually read.
 */
#ifndef ZCSHIM_SEGREAD_H
#define ZCSHIM_SEGREAD_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "zcshim_segment.h"

/* What became of the process behind a segment. */
enum zcs_live {
	ZCS_LIVE_STARTING, /* header not published yet */
	ZCS_LIVE_RUNNING,
	ZCS_LIVE_EXITED,   /* exited normally, segment marked */
	ZCS_LIVE_DEAD,     /* gone without marking it: killed, _exit, crash */
	ZCS_LIVE_REPLACED, /* exec'd a new image, which has its own segment */
	ZCS_LIVE_UNKNOWN,  /* running by its header, in a PID namespace this reader
	                      cannot see into: never taken for gone */
};

struct zcs_order;

/* One series of a snapshot: every thread's counts, and the histogram. */
struct zcs_cell {
	uint64_t count;                /* calls that returned (exact): frames */
	uint64_t bytes;                /* message bytes of those calls (exact) */
	uint64_t msgs;                 /* calls that ended a message (exact) */
	uint64_t est_ns;               /* the timed calls' ns weighed by the calls each
	                                  stands for (zcs_counts.est_ns) */
	uint64_t time_ns_sum;          /* sum of the timed calls below */
	uint64_t buckets[ZCS_NBUCKETS];/* timed calls (sampled) by duration */
};

/* The zero-copy in-flight gauge, summed over the shards. */
struct zcs_inflight {
	uint64_t handed_buffers, handed_bytes;     /* ever given to libzmq */
	uint64_t released_buffers, released_bytes; /* ... and had back */
	uint64_t peak_buffers, peak_buffers_ticks;
	uint64_t peak_bytes, peak_bytes_ticks;
	uint64_t untracked;          /* buffers not followed: not in the gauge */
};

/* The reader's view of the shared part: validated, the index unpacked. */
struct zcs_view {
	struct zcs_inflight inflight;
	uint64_t start_clock_ticks;
	uint32_t sockets_seen;
	uint32_t cells_used;
	uint64_t cells_short;        /* see zcs_shared */
	uint64_t failed_short;       /* see zcs_shared */
	uint64_t unconverted_nested; /* see zcs_shared */
	struct zcs_socket sockets[ZCS_NSLOTS]; /* endpoint lists terminated */
	uint32_t cell_key[ZCS_NCELLS_MAX];     /* cell -> key (zcs_key()), 0: none */
};

/* Everything the shards add up to. */
struct zcs_sum {
	uint64_t failed[ZCS_NSLOTS][ZCS_NCALL_OPS][ZCS_NERRS]; /* calls that returned -1 */
	uint64_t ffn_thread[ZCS_NFFN_THREADS]; /* timed zero-copy ffn runs, by thread kind */
	uint64_t threads;        /* threads that recorded, ever (owned shards) */
	uint64_t busy_ns;        /* caller threads' time, first call to end (or now) */
	uint32_t ncells;         /* cells below: the segment's cells_used */
	struct zcs_cell *cell;   /* by cell number; cells 1..ZCS_NOPS are the ops'
	                            overflow cells */
};

struct zcs_snapshot {
	char path[PATH_MAX];
	struct zcs_header hdr;  /* validated; exe is NUL-terminated but holds the app's
	                           bytes: control bytes and invalid UTF-8 included */
	unsigned live;          /* enum zcs_live */
	struct zcs_view shared; /* validated: every index entry a cell number below
	                           cells_used used by one key only; row 0 is zero,
	                           strings are terminated */
	struct zcs_sum sum;     /* all shards added up; zero unless calls_seen */
	struct zcs_order *order[3]; /* series in view order, by enum zcs_by: built
	                               when first walked, dropped when sums change */
};

/* A segment's identity, from its name alone. */
struct zcs_name {
	char path[PATH_MAX];
	uint64_t pidns;         /* PID namespace inode; 0 unknown */
	int pid;
	uint64_t start_ticks;
	unsigned seq;
};

const char *zcs_live_name(unsigned live);

/* "zcshim.<pid>.<start>.<seq>" -> fields; -1 if the name is not one of ours. */
int zcs_parse_name(const char *name, struct zcs_name *out);

/* Validate a segment image of len bytes and sum its shards into out->sum.
 * out->live is set from the header alone (STARTING, RUNNING or EXITED). */
int zcs_parse(const void *buf, size_t len, struct zcs_snapshot *out,
	      char *err, size_t err_len);

/* Read and parse the segment file at path (symlinks are refused, so are
 * files of other users, root's included), then tell whether its process
 * still runs. out must come from zcs_snapshot_new(). */
int zcs_read(const char *path, struct zcs_snapshot *out, char *err, size_t err_len);

struct zcs_snapshot *zcs_snapshot_new(void);
void zcs_snapshot_free(struct zcs_snapshot *s);

/* Look for segments in dir instead of ZCS_SHM_DIR (segments copied from
 * another machine, tests); NULL restores the default. dir is not copied. */
void zcs_set_dir(const char *dir);
const char *zcs_dir(void);

/* Segment names in zcs_dir() that are files of this user, newest process
 * last, at most ZCS_LIST_MAX of them (the newest); *skipped (may be NULL)
 * counts this user's left out beyond the cap. Other users' files are
 * passed over without a word. *names is malloc'd; free it. */
#define ZCS_LIST_MAX 4096
int zcs_list(struct zcs_name **names, size_t *n, size_t *skipped, char *err, size_t err_len);

/* Find the segment for "1234" (newest of that pid) or "name" (newest
 * process of that exe). */
int zcs_find(const char *pid_or_name, struct zcs_snapshot *out, char *err,
	     size_t err_len);

/* Bucket statistics of one cell, in ns: the upper bound of the bucket where
 * the q-quantile of timed samples falls; 0 if nothing was timed. */
uint64_t zcs_cell_timed(const struct zcs_cell *c);
uint64_t zcs_cell_quantile_ns(const struct zcs_cell *c, double q);
uint64_t zcs_cell_max_ns(const struct zcs_cell *c);
/* Mean of the timed samples ranked between quantiles lo_q and hi_q, each
 * taken at its bucket's midpoint: 0.25, 0.75 is the interquartile mean,
 * which calls that blocked (high-water mark) or were preempted do not
 * move. 0 if nothing was timed. */
double zcs_cell_mid_mean_ns(const struct zcs_cell *c, double lo_q, double hi_q);

/* Did any libzmq call go through the shim? If not, libzmq_version, tsc_hz,
 * clock and every counter mean nothing (see ZCS_F_CALLS_SEEN). */
int zcs_calls_seen(const struct zcs_snapshot *s);

/* The cell of one key, or NULL if that key has none (never used). */
const struct zcs_cell *zcs_cell_at(const struct zcs_snapshot *s, unsigned slot, unsigned op,
				   unsigned path, unsigned size_class);

/* out = the cells of op x path x size_class over every socket (the layout
 * 1 cell); returns its count. */
uint64_t zcs_cell_by_size(const struct zcs_snapshot *s, unsigned op, unsigned path,
			  unsigned size_class, struct zcs_cell *out);

/* How series are keyed: by size class summed over sockets (the view of
 * layout 1), by socket summed over size classes, or by both. */
enum zcs_by { ZCS_BY_SIZE, ZCS_BY_SOCKET, ZCS_BY_BOTH };
#define ZCS_ALL UINT_MAX /* slot or size_class of a series merged over it */

/* One histogram with at least one call. Every output format walks these.
 * cell points into the snapshot, or at merged when the series adds up
 * several cells: use it through the series it came with. */
struct zcs_series {
	unsigned slot;       /* ZCS_ALL with ZCS_BY_SIZE */
	unsigned op, path;
	unsigned size_class; /* ZCS_ALL with ZCS_BY_SOCKET */
	const struct zcs_cell *cell;
	struct zcs_cell merged;
};

/* Walk the non-empty series in a fixed order: sockets 1..ZCS_NSOCKETS, then
 * slot 0 ("other"); within one, op, path, size class:
 *   struct zcs_series x; size_t it = 0;
 *   while (zcs_series_next_by(snap, ZCS_BY_BOTH, &it, &x)) ...           */
int zcs_series_next_by(const struct zcs_snapshot *s, unsigned by, size_t *it,
		       struct zcs_series *out);
/* The same, by size (ZCS_BY_SIZE), for views that do not tell sockets apart. */
int zcs_series_next(const struct zcs_snapshot *s, size_t *it, struct zcs_series *out);

/* Slots in the order views show them: 1..ZCS_NSOCKETS, then 0 ("other"). */
unsigned zcs_slot_at(unsigned i);

/* Does slot hold anything: a call, or a failed one? */
int zcs_slot_used(const struct zcs_snapshot *s, unsigned slot);

/* Sockets counted under "other" because the table was full. */
uint64_t zcs_sockets_beyond(const struct zcs_snapshot *s);

/* "open", "closed", "unknown" (a row not written yet, or being written). */
const char *zcs_sock_state_name(const struct zcs_socket *row);

/* Calls of op that failed, over every socket and errno. */
uint64_t zcs_failed_op(const struct zcs_snapshot *s, unsigned op);

/* A timing-clock value (the in-flight peaks) as wall-clock ns; 0 for 0 or
 * a value that cannot be placed (before the segment, no clock rate). */
uint64_t zcs_ticks_unix_ns(const struct zcs_snapshot *s, uint64_t ticks);

/* Zero-copy buffers and bytes in flight when the snapshot was taken: every
 * shard's handed minus every shard's released (zcshim_segment.h). */
/* The key of cell c (slot, op, path, size class); -1 if c holds none. The
 * overflow cells 1..ZCS_NOPS give slot 0 and size class ZCS_ALL. */
int zcs_cell_fields(const struct zcs_snapshot *s, unsigned c, unsigned *slot, unsigned *op,
		    unsigned *path, unsigned *size_class);

/* The endpoints of a socket's row, one at a time, as the app gave them
 * (any byte but NUL: escape them to show them), *bound (may be NULL) set
 * to whether it was bound or connected; NULL after the last:
 *   size_t it = 0; const char *ep;
 *   while ((ep = zcs_endpoint_next(row, &it, NULL))) ...
 * Safe on any row zcs_parse accepted. */
const char *zcs_endpoint_next(const struct zcs_socket *row, size_t *it, int *bound);
/* Did an endpoint not fit (the list ends before all the socket's)? */
int zcs_endpoints_cut(const struct zcs_socket *row);

void zcs_inflight_now(const struct zcs_snapshot *s, uint64_t *buffers, uint64_t *bytes);

/* Messages sent: successful calls of the four send operations. */
uint64_t zcs_messages(const struct zcs_snapshot *s);

/* Calls counted in the ops' overflow cells (the "any" series; hold and ffn
 * left out: buffers, not calls): no series was left to give. */
uint64_t zcs_overflow_calls(const struct zcs_snapshot *s);

/* What one socket (slot; ZCS_ALL: every socket) moved: frames and whole
 * messages and bytes sent (successful sends) and received. */
struct zcs_traffic {
	uint64_t sent_frames, sent_msgs, sent_bytes;
	uint64_t recv_frames, recv_msgs, recv_bytes;
};
void zcs_traffic(const struct zcs_snapshot *s, unsigned slot, struct zcs_traffic *out);

/* Where the callers' time went (slot; ZCS_ALL: every socket, and poll):
 * ns estimated inside send calls (blocked: the high-water mark, a slow
 * downstream) and inside receives and polls (waiting: a slow upstream),
 * the cells' est_ns summed (each timed call weighed by the calls of its
 * gap: the whole of a socket's op is estimated, not each series); and the
 * callers' own time (sum.busy_ns) that both are shares of. Calls of a
 * socket's op with none timed are left out, and counted in untimed_calls. */
struct zcs_time_split {
	double send_ns, wait_ns;
	uint64_t busy_ns;
	uint64_t untimed_calls;
};
void zcs_time_split(const struct zcs_snapshot *s, unsigned slot, struct zcs_time_split *out);

/* out->sum = a->sum - b->sum counter by counter, never below 0 (a baseline
 * from a corrupt file must not wrap), and so are the counters in shared
 * (untracked, cells_short); out->hdr, live and the rest of shared, gauges
 * and tables, are a's. out may be a. */
void zcs_snapshot_sub(struct zcs_snapshot *out, const struct zcs_snapshot *a,
		      const struct zcs_snapshot *b);

/* dst += src, every field. For views that merge series (per size class). */
void zcs_cell_add(struct zcs_cell *dst, const struct zcs_cell *src);

/* Put n samples into the bucket whose exclusive upper bound is upper_ns
 * (UINT64_MAX for the last), as printed in JSON; -1 if no bucket ends there. */
int zcs_cell_add_bucket(struct zcs_cell *c, uint64_t upper_ns, uint64_t n);

/* Samples timed below ns (ns a bucket bound: exact; otherwise the buckets
 * that end at or below it). For cumulative exports. */
uint64_t zcs_cell_count_below(const struct zcs_cell *c, uint64_t ns);

/* A valid segment image holding s (its header, shared part, histograms,
 * its sums in shard 1), which zcs_parse reads back as s. malloc'd, *len
 * bytes (up to the end of shard 1); NULL if out of memory. Baselines are
 * stored this way, so they are checked like segments and refused when the
 * layout changes. */
unsigned char *zcs_snapshot_image(const struct zcs_snapshot *s, size_t *len);

#endif
