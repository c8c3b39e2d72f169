/*
 * zcshim_segment.h - the shared-memory segment layout, shared by writer and reader.
 *
 * This header *is* the file format. libzcshim.so (the writer, inside the host
 * process) and zcshim-stat (the reader) both compile against it, so any change
 * to a struct, a dimension or an enum below must bump ZCS_LAYOUT_VERSION; the
 * reader refuses segments whose version, sizes or layout hash differ from its
 * own. tests/test_layout.c pins the offsets so a change cannot slip by.
 *
 * One segment per process image, in POSIX shm:
 *   /dev/shm/zcshim.<pidns>.<pid>.<start>.<seq>
 * <pidns> is the inode of the writer's PID namespace (0 if it could not be
 * read), so a process in a container that shares /dev/shm is never taken
 * for the host's process of the same number; <start> is the process start
 * in clock ticks after boot (field 22 of /proc/<pid>/stat), so a recycled
 * pid never aliases an older segment; <seq> counts exec()s of one process
 * (same pid and start). A new image retires its predecessors' segments, so
 * a process that re-execs itself costs one segment, not one per image.
 *
 * Publishing (after Varnish VSM): the writer fills the header, issues a
 * release fence and only then stores state = ZCS_STATE_RUNNING. A reader that
 * sees ZCS_STATE_INIT must not trust anything else.
 *
 * The file is sparse and grows into its regions as the process uses them;
 * every page is backed (allocated in tmpfs) before its first write, so a
 * full /dev/shm stops the recording, never the host (no SIGBUS):
 *
 *   [header, 1 page][shared part][histogram chunks ...][shard areas ...]
 *
 * - The shared part (struct zcs_shared), backed at load: the socket table,
 *   the cell index, and the counters every thread shares.
 * - Series are keyed (socket slot, op, path, size class). The cell index, an
 *   open-addressing table of ZCS_INDEX_SIZE entries, maps a key to a cell
 *   number, the same in the histogram region and in every shard. Cells are
 *   given out in order from ZCS_CELL_FIRST; cells 1..ZCS_NOPS take the
 *   calls of an op whose series found no cell (pool used up or no room to
 *   back it): their counts stay exact, their socket and size are lost.
 *   The last ZCS_CELLS_FOR_FAILED cells go only to series of failed calls,
 *   which must never fall into an overflow cell (it would count them as
 *   calls that succeeded); past those, failed calls are counted in
 *   zcs_shared.failed_short.
 * - Histograms (struct zcs_hist), one per cell, in chunks of
 *   ZCS_HIST_CHUNK_CELLS, shared by all threads: only timed calls write
 *   them (atomic adds), and timing is sampled.
 * - Shard areas, one per thread that records (up to ZCS_NSHARDS - 1 at a
 *   time; shard 0 is shared by any beyond, with atomic adds): the thread's
 *   exact counts per cell (struct zcs_counts), its side of the zero-copy
 *   in-flight gauge, and how long it has run. A thread adds to its own
 *   shard with plain relaxed stores, no bus lock, no shared cache line.
 *   Counts are backed a page at a time as cells are given out.
 *
 * Every counter is an aligned 64-bit word, so a reader never sees a torn
 * value; it sums the shards. Cells are not a consistent snapshot of each
 * other (a count may run one ahead of its histogram), which is all a
 * dump needs.
 */
#ifndef ZCSHIM_SEGMENT_H
#define ZCSHIM_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#define ZCS_MAGIC          UINT64_C(0x6765736d6873637a) /* "zcshmseg" little-endian */
#define ZCS_LAYOUT_VERSION 3u
#define ZCS_SHM_DIR        "/dev/shm"
#define ZCS_SHM_PREFIX     "zcshim."

/* What was called. HOLD and FFN are not calls but zero-copy buffer events:
 * HOLD is zmq_msg_init_data -> the app's ffn running; FFN is the ffn itself.
 * Their cells hold the buffers whose init_data was timed, not all. */
enum zcs_op {
	ZCS_OP_INIT_DATA,
	ZCS_OP_SEND,
	ZCS_OP_MSG_SEND,
	ZCS_OP_SENDMSG,
	ZCS_OP_SEND_CONST,
	ZCS_OP_RECV,        /* zmq_recv */
	ZCS_OP_MSG_RECV,    /* zmq_msg_recv */
	ZCS_OP_RECVMSG,     /* zmq_recvmsg */
	ZCS_OP_POLL,        /* zmq_poll: waiting, on no one socket */
	ZCS_OP_HOLD,
	ZCS_OP_FFN,
	ZCS_NOPS
};
#define ZCS_NCALL_OPS ZCS_OP_HOLD /* ops below this are calls, which can fail */

/* How the bytes travelled. COPY: libzmq owns a copy (zmq_send,
 * zmq_msg_init_size, anything received into libzmq's memory). ZEROCOPY: the
 * app's buffer with its ffn went to libzmq (or, received over inproc, came
 * out of it). CONVERTED: a zero-copy send the shim turned into a copy.
 * CONST: ffn NULL. WAIT: zmq_poll. FAILED: the call returned -1; the
 * cell's size class is then the errno kind (enum zcs_err), not a size. */
enum zcs_path {
	ZCS_PATH_COPY,
	ZCS_PATH_ZEROCOPY,
	ZCS_PATH_CONVERTED,
	ZCS_PATH_CONST,
	ZCS_PATH_WAIT,
	ZCS_PATH_FAILED,
	ZCS_NPATHS
};

/* Which thread ran a zero-copy buffer's ffn. */
enum zcs_ffn_thread {
	ZCS_FFN_OWN,    /* the thread that called zmq_msg_init_data, outside a send */
	ZCS_FFN_IN_SEND,/* any thread, inside a zmq send call (drop, conversion) */
	ZCS_FFN_IO,     /* a libzmq background thread ("ZMQbg/...") */
	ZCS_FFN_OTHER,  /* another app thread, e.g. an inproc receiver */
	ZCS_NFFN_THREADS
};

enum zcs_mode { ZCS_MODE_CONVERT, ZCS_MODE_PROFILE, ZCS_MODE_OFF };

enum zcs_state { ZCS_STATE_INIT, ZCS_STATE_RUNNING, ZCS_STATE_EXITED };

enum zcs_clock { ZCS_CLOCK_MONOTONIC, ZCS_CLOCK_TSC };

/* header.flags */
#define ZCS_F_LAYOUT_KNOWN 0x1u /* libzmq's zmq_msg_t layout passed the self-test:
                                   sends are classified and conversion is possible */
#define ZCS_F_CALLS_SEEN   0x2u /* a libzmq function was called through the shim; until
                                   then libzmq_version, tsc_hz and clock mean nothing */
#define ZCS_F_FULL         0x4u /* backing a page failed (/dev/shm full, or a limit):
                                   what came after is counted under the op's
                                   overflow cell or shard 0, or not at all */

/* header.reach_ways: the ways calls reached the shim */
#define ZCS_WAY_BINDING  0x1u /* symbol binding: an object's PLT/GOT bound to the shim */
#define ZCS_WAY_DLSYM    0x2u /* pointers the shim's dlsym/dlvsym handed out */
#define ZCS_WAY_DEEPBIND 0x4u /* an RTLD_DEEPBIND object's GOT, redirected */
#define ZCS_WAY_BUILTIN  0x8u /* libzmq built into reach_libzmq, which holds other code
                                 too (zeromq.js's addon.node) */
#define ZCS_WAY_ALL      0xfu

/* header.reach_why: decided at exit; UNKNOWN before (running, or killed) */
enum zcs_reach_why {
	ZCS_WHY_UNKNOWN,
	ZCS_WHY_SEEN,        /* libzmq calls reached the shim */
	ZCS_WHY_NO_LIBZMQ,   /* no libzmq was loaded */
	ZCS_WHY_STATIC,      /* libzmq linked into reach_object (the executable when "")
	                        without exported symbols */
	ZCS_WHY_BYPASSED,    /* libzmq loaded (reach_libzmq), no call reached the shim */
	ZCS_NWHY
};

/* header.reach_how: with ZCS_WHY_BYPASSED, what is known of the way round */
enum zcs_reach_how {
	ZCS_HOW_UNKNOWN,     /* not called, or called through pointers not from the shim */
	ZCS_HOW_DEEPBIND,    /* reach_object was opened RTLD_DEEPBIND and not redirected */
	ZCS_HOW_DIRECT,      /* reach_object's GOT points straight into libzmq
	                        (RTLD_DEEPBIND, or -Bsymbolic) */
	ZCS_HOW_NAMESPACE,   /* libzmq was loaded into another namespace (dlmopen) */
	ZCS_NHOW
};
#define ZCS_REACH_NAME_MAX 160

/* Size classes: class 0 is 0 bytes; class k in 1..27 holds [2^(k-1), 2^k),
 * so class 27 ends at 128 MiB; class 28 holds everything from 128 MiB up. */
#define ZCS_NSIZES 29

/* Latency buckets, log-linear in ns: values below ZCS_SUB are exact, then
 * each power of two splits into ZCS_SUB buckets (25 % wide). The last of
 * the 143 buckets holds everything from 2^36 * 1.75 ns (120 s) up. 143, so
 * that a histogram is 1152 bytes and 64 of them fill whole pages. */
#define ZCS_SUB_BITS 2
#define ZCS_SUB      (1u << ZCS_SUB_BITS)
#define ZCS_NBUCKETS 143

/* Sockets: slot 0 is "other"; slots 1..ZCS_NSOCKETS are table rows, given
 * out in the order sockets are first seen and never reused, so a slot number
 * is the socket's id for the life of the process. */
#define ZCS_NSOCKETS      64
#define ZCS_NSLOTS        (ZCS_NSOCKETS + 1)
#define ZCS_SLOT_OTHER    0
#define ZCS_ENDPOINTS_MAX 224 /* bytes of the endpoint list, see struct zcs_socket */

/* Why a call returned -1, by errno. EAGAIN on a send is the high-water mark
 * (or ZMQ_DONTWAIT with nowhere to send), which libzmq reports nowhere else;
 * on a receive it is "nothing there" with ZMQ_DONTWAIT, or a timeout. */
enum zcs_err {
	ZCS_ERR_EAGAIN,
	ZCS_ERR_EHOSTUNREACH,
	ZCS_ERR_ETERM,
	ZCS_ERR_EINTR,
	ZCS_ERR_OTHER,
	ZCS_NERRS
};

enum zcs_sock_state { ZCS_SOCK_FREE, ZCS_SOCK_OPEN, ZCS_SOCK_CLOSED };

/* ---- cells */

#define ZCS_NCELLS_MAX       2048                /* cell 0 is never used */
#define ZCS_CELL_FIRST       (1 + ZCS_NOPS)      /* cells 1..ZCS_NOPS: overflow, per op */
#define ZCS_CELLS_FOR_FAILED 64                  /* the last cells: failed-call series only */
#define ZCS_INDEX_SIZE       4096                /* twice the cells: short probes */
#define ZCS_HIST_CHUNK_CELLS 64

/* A key packed into an index entry: entry = key << ZCS_INDEX_CELL_BITS | cell,
 * 0 = empty. key = ((slot * ZCS_NOPS + op) * ZCS_NPATHS + path) * ZCS_NSIZES
 * + size_class, plus 1 so that no key is 0. */
#define ZCS_INDEX_CELL_BITS 12
#define ZCS_INDEX_CELL_MASK ((1u << ZCS_INDEX_CELL_BITS) - 1)
#define ZCS_NKEYS ((uint32_t)ZCS_NSLOTS * ZCS_NOPS * ZCS_NPATHS * ZCS_NSIZES)

static inline uint32_t zcs_key(unsigned slot, unsigned op, unsigned path, unsigned size_class)
{
	return ((slot * ZCS_NOPS + op) * ZCS_NPATHS + path) * ZCS_NSIZES + size_class + 1;
}

static inline void zcs_key_fields(uint32_t key, unsigned *slot, unsigned *op,
				  unsigned *path, unsigned *size_class)
{
	key -= 1;
	*size_class = key % ZCS_NSIZES;
	key /= ZCS_NSIZES;
	*path = key % ZCS_NPATHS;
	key /= ZCS_NPATHS;
	*op = key % ZCS_NOPS;
	*slot = key / ZCS_NOPS;
}

/* Where a key's probe starts. */
static inline uint32_t zcs_key_hash(uint32_t key)
{
	return (key * UINT32_C(0x9e3779b1)) >> (32 - 12) & (ZCS_INDEX_SIZE - 1);
}

/* One thread's exact counts of one series. */
struct zcs_counts {
	uint64_t calls;   /* calls that returned (sends, receives: frames) */
	uint64_t bytes;   /* message bytes of those calls */
	uint64_t msgs;    /* calls that ended a message (no more-flag): whole messages */
	uint64_t est_ns;  /* timed calls' ns, each times the calls its sample stands for
	                     (sample.c); summed over a socket's op, the time in its calls */
};

/* The timed calls of one series, all threads together. */
struct zcs_hist {
	uint64_t time_ns_sum;           /* sum of the timed calls' durations */
	uint64_t buckets[ZCS_NBUCKETS]; /* timed calls by duration */
};

#define ZCS_HIST_CHUNK_BYTES ((uint64_t)ZCS_HIST_CHUNK_CELLS * sizeof(struct zcs_hist))
#define ZCS_NHIST_CHUNKS     (ZCS_NCELLS_MAX / ZCS_HIST_CHUNK_CELLS)

/* ---- shards */

#define ZCS_NSHARDS 128 /* shard 0 shared (atomic adds), 1..127 owned by one thread */

/* One side of a shard's in-flight gauge, on a cache line of its own. */
struct zcs_gauge_line {
	uint64_t buffers;
	uint64_t bytes;
	uint64_t reserved[6];
};

/* The head of a shard area. */
struct zcs_shard_head {
	struct zcs_gauge_line handed;   /* zero-copy buffers this shard's threads gave libzmq */
	struct zcs_gauge_line released; /* ... and had back (their ffn ran on these threads) */
	uint64_t threads;               /* threads that have owned this shard */
	uint64_t busy_ns_done;          /* lifetimes of its past owners that made calls, from
	                                   their first call to their end */
	uint64_t busy_since_unix_ns;    /* the current owner's first call; 0: none yet */
	uint64_t ffn_thread[ZCS_NFFN_THREADS]; /* timed zero-copy ffn runs, by thread kind */
	uint64_t reserved[9];
};

#define ZCS_SHARD_AREA_BYTES \
	ZCS_PAGE_ROUND(sizeof(struct zcs_shard_head) + (uint64_t)ZCS_NCELLS_MAX * sizeof(struct zcs_counts))

/* ---- the shared part */

/* One row of the socket table. Written off the hot path (zmq_socket,
 * zmq_bind, zmq_connect, zmq_close) under a seqlock: seq is odd while the
 * writer changes the row, and a reader retries until it reads the same even
 * seq before and after. */
struct zcs_socket {
	uint32_t seq;
	uint32_t state;              /* enum zcs_sock_state */
	int32_t  type;               /* ZMQ_PUSH, ZMQ_PUB, ... (zmq.h numbers) */
	uint32_t flags;              /* ZCS_SOCK_F_* */
	uint64_t opened_unix_ns;     /* first seen */
	uint64_t closed_unix_ns;     /* zmq_close, 0 while open */
	char     endpoints[ZCS_ENDPOINTS_MAX]; /* every bind and connect that succeeded:
	                                          entries one after the other, each
	                                          'b' (bound) or 'c' (connected), the
	                                          endpoint, a NUL; an empty entry ends
	                                          the list; cut on whole entries */
};
#define ZCS_SOCK_F_CUT 0x1u /* an endpoint did not fit: the list is not all */

/* Zero-copy buffers handed to libzmq with zmq_msg_init_data whose ffn has
 * not run yet: in flight = every shard's handed - every shard's released
 * (struct zcs_shard_head). Peaks are the highest values the gauge has
 * taken, with the timing clock's ticks when they were reached (convert with
 * start_clock_ticks below and the header's tsc_hz). */
struct zcs_peaks {
	uint64_t buffers;
	uint64_t buffers_ticks;
	uint64_t bytes;
	uint64_t bytes_ticks;
};

struct zcs_shared {
	struct zcs_peaks peak;
	uint64_t start_clock_ticks;  /* timing clock at header.start_unix_ns */
	uint64_t shards_used[ZCS_NSHARDS / 64]; /* bit s: shard s's area exists */
	uint32_t cells_used;         /* cells given out, numbers below this; from
	                                ZCS_CELL_FIRST */
	uint32_t sockets_seen;       /* distinct sockets, table rows and beyond */
	uint64_t cells_short;        /* lookups of a series of successful calls that found
	                                no cell (its calls go to the op's overflow cell; a
	                                thread asks again when it comes back to it) */
	uint64_t untracked;          /* zero-copy buffers not followed: not in the gauge */
	uint64_t unconverted_nested; /* zero-copy sends left unconverted because an ffn
	                                sending them ran inside a converted send already
	                                ZCS_CONVERT_NEST_MAX deep */
	uint64_t failed_short;       /* failed calls whose series found no cell: counted
	                                here only (op and errno lost) */
	uint64_t reserved[5];
	struct zcs_socket sockets[ZCS_NSLOTS]; /* [0], "other", stays FREE */
	uint32_t index[ZCS_INDEX_SIZE];        /* key -> cell, see zcs_key() */
};

#define ZCS_CONVERT_NEST_MAX 4

/* ---- the header */

struct zcs_header {
	uint64_t magic;
	uint32_t layout_version;
	uint32_t header_bytes;   /* sizeof(struct zcs_header) */
	uint64_t layout_hash;    /* ZCS_LAYOUT_HASH */
	uint64_t segment_bytes;  /* size of the whole (sparse) object */
	uint64_t shared_offset;  /* struct zcs_shared, from the start of the segment */
	uint64_t shared_bytes;   /* sizeof(struct zcs_shared) */
	uint64_t hist_offset;    /* histogram chunk 0 */
	uint64_t shards_offset;  /* shard area 0 */
	uint64_t shard_area_bytes; /* ZCS_SHARD_AREA_BYTES */
	uint32_t nshards;
	uint32_t state;          /* enum zcs_state; stored last, with release */
	int32_t  pid;
	uint32_t seq;            /* exec generation, as in the object name */
	uint64_t pidns;          /* PID namespace inode, as in the object name; 0 unknown */
	uint64_t start_ticks;    /* process start, clock ticks after boot */
	uint64_t start_unix_ns;  /* wall clock when the segment was created */
	uint64_t exit_unix_ns;   /* wall clock at exit, 0 while running */
	uint64_t threshold_bytes;/* zero-copy sends below this are converted (mode convert) */
	uint32_t mode;           /* enum zcs_mode */
	uint32_t sample_every;   /* 1 in N calls is timed; 0: adaptive (ZCSHIM_SAMPLE=auto) */
	uint64_t tsc_hz;         /* ticks per second of the timing clock */
	uint32_t clock;          /* enum zcs_clock */
	uint32_t libzmq_version; /* major * 10000 + minor * 100 + patch */
	uint32_t flags;          /* ZCS_F_*, set with atomic or */
	uint32_t uid;            /* effective uid that owns the segment */
	char     exe[64];        /* program_invocation_short_name, NUL-terminated,
	                            cut on a UTF-8 character boundary */
	uint64_t reserved[8];

	/* ---- reach: how libzmq's calls got to the shim, or why none did.
	 * Written by shim/reach.c: ways and counts as they happen, why and how
	 * at exit (when the process exits normally). ---- */
	uint32_t reach_ways;     /* ZCS_WAY_* bits */
	uint32_t reach_why;      /* enum zcs_reach_why */
	uint32_t reach_how;      /* enum zcs_reach_how, with ZCS_WHY_BYPASSED */
	uint32_t reach_dlsym;    /* wrappers handed to dlsym/dlvsym callers */
	uint32_t reach_patched;  /* RTLD_DEEPBIND objects whose GOT was redirected */
	uint32_t reach_lost;     /* RTLD_DEEPBIND dlopens passed through unredirected */
	char     reach_libzmq[ZCS_REACH_NAME_MAX]; /* the object libzmq was found in (a path),
	                                              "" if none; ends in "..." when cut */
	char     reach_object[ZCS_REACH_NAME_MAX]; /* the object reach_why / reach_how name,
	                                              or the first reach_lost file; "" if none */
};

#define ZCS_LAYOUT_HASH                                                     \
	((uint64_t)ZCS_LAYOUT_VERSION << 56 | (uint64_t)ZCS_NOPS << 48 |     \
	 (uint64_t)ZCS_NPATHS << 44 | (uint64_t)ZCS_NSIZES << 36 |           \
	 (uint64_t)ZCS_NSOCKETS << 28 | (uint64_t)ZCS_NBUCKETS << 20 |       \
	 (uint64_t)(ZCS_NSHARDS - 1) << 13 | (uint64_t)ZCS_NERRS << 10 |     \
	 (uint64_t)(ZCS_NCELLS_MAX >> 6) << 2 | (uint64_t)ZCS_SUB_BITS)

#define ZCS_PAGE ((uint64_t)4096)
#define ZCS_PAGE_ROUND(x) (((uint64_t)(x) + ZCS_PAGE - 1) & ~(ZCS_PAGE - 1))
#define ZCS_SHARED_OFFSET ZCS_PAGE
#define ZCS_HIST_OFFSET   (ZCS_SHARED_OFFSET + ZCS_PAGE_ROUND(sizeof(struct zcs_shared)))
#define ZCS_SHARDS_OFFSET \
	(ZCS_HIST_OFFSET + (uint64_t)ZCS_NHIST_CHUNKS * ZCS_HIST_CHUNK_BYTES)
#define ZCS_SEGMENT_BYTES \
	(ZCS_SHARDS_OFFSET + (uint64_t)ZCS_NSHARDS * ZCS_SHARD_AREA_BYTES)
/* Backed at load, before any libzmq call: the header and the shared part. */
#define ZCS_BASE_BYTES ZCS_HIST_OFFSET

static inline uint64_t zcs_hist_chunk_offset(unsigned chunk)
{
	return ZCS_HIST_OFFSET + (uint64_t)chunk * ZCS_HIST_CHUNK_BYTES;
}

static inline uint64_t zcs_shard_offset(unsigned shard)
{
	return ZCS_SHARDS_OFFSET + (uint64_t)shard * ZCS_SHARD_AREA_BYTES;
}

/* Bytes of a shard area that hold the counts of cells below ncells. */
static inline uint64_t zcs_shard_used_bytes(uint32_t ncells)
{
	return sizeof(struct zcs_shard_head) + (uint64_t)ncells * sizeof(struct zcs_counts);
}

/* Fill the fields that describe the layout itself (everything a reader
 * checks before trusting the rest); the writer adds the process's fields. */
static inline void zcs_header_init_layout(struct zcs_header *h)
{
	h->magic = ZCS_MAGIC;
	h->layout_version = ZCS_LAYOUT_VERSION;
	h->header_bytes = sizeof *h;
	h->layout_hash = ZCS_LAYOUT_HASH;
	h->segment_bytes = ZCS_SEGMENT_BYTES;
	h->shared_offset = ZCS_SHARED_OFFSET;
	h->shared_bytes = sizeof(struct zcs_shared);
	h->hist_offset = ZCS_HIST_OFFSET;
	h->shards_offset = ZCS_SHARDS_OFFSET;
	h->shard_area_bytes = ZCS_SHARD_AREA_BYTES;
	h->nshards = ZCS_NSHARDS;
}

/* ---- names, as they appear in every output format ---- */

static inline const char *zcs_op_name(unsigned op)
{
	static const char *const names[ZCS_NOPS] = {
		"init_data", "send", "msg_send", "sendmsg", "send_const",
		"recv", "msg_recv", "recvmsg", "poll", "hold", "ffn",
	};
	return op < ZCS_NOPS ? names[op] : "?";
}

/* Is op one that sends a message / takes one out? */
static inline int zcs_op_sends(unsigned op)
{
	return op == ZCS_OP_SEND || op == ZCS_OP_MSG_SEND || op == ZCS_OP_SENDMSG ||
	       op == ZCS_OP_SEND_CONST;
}

static inline int zcs_op_receives(unsigned op)
{
	return op == ZCS_OP_RECV || op == ZCS_OP_MSG_RECV || op == ZCS_OP_RECVMSG;
}

static inline const char *zcs_path_name(unsigned path)
{
	/* ZCS_NPATHS: an op's overflow cell, whose calls took any path */
	static const char *const names[ZCS_NPATHS + 1] = {
		"copy", "zerocopy", "converted", "const", "wait", "failed", "any",
	};
	return path <= ZCS_NPATHS ? names[path] : "?";
}

static inline const char *zcs_mode_name(unsigned mode)
{
	static const char *const names[] = { "convert", "profile", "off" };
	return mode <= ZCS_MODE_OFF ? names[mode] : "?";
}

static inline const char *zcs_ffn_thread_name(unsigned kind)
{
	static const char *const names[ZCS_NFFN_THREADS] = {
		"own", "in_send", "io", "other",
	};
	return kind < ZCS_NFFN_THREADS ? names[kind] : "?";
}

static inline const char *zcs_reach_why_name(unsigned why)
{
	static const char *const names[ZCS_NWHY] = {
		"unknown", "seen", "no_libzmq", "static", "bypassed",
	};
	return why < ZCS_NWHY ? names[why] : "?";
}

static inline const char *zcs_reach_how_name(unsigned how)
{
	static const char *const names[ZCS_NHOW] = {
		"unknown", "deepbind", "direct", "namespace",
	};
	return how < ZCS_NHOW ? names[how] : "?";
}

static inline const char *zcs_way_name(unsigned bit)
{
	switch (bit) {
	case ZCS_WAY_BINDING: return "binding";
	case ZCS_WAY_DLSYM: return "dlsym";
	case ZCS_WAY_DEEPBIND: return "deepbind";
	case ZCS_WAY_BUILTIN: return "builtin";
	default: return "?";
	}
}

static inline const char *zcs_err_name(unsigned err)
{
	static const char *const names[ZCS_NERRS] = {
		"EAGAIN", "EHOSTUNREACH", "ETERM", "EINTR", "other",
	};
	return err < ZCS_NERRS ? names[err] : "?";
}

/* zmq.h's socket type numbers, 0 (PAIR) to 20 (CHANNEL). */
static inline const char *zcs_socket_type_name(int type)
{
	static const char *const names[] = {
		"PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH",
		"XPUB", "XSUB", "STREAM", "SERVER", "CLIENT", "RADIO", "DISH", "GATHER",
		"SCATTER", "DGRAM", "PEER", "CHANNEL",
	};
	return type >= 0 && type < (int)(sizeof names / sizeof names[0]) ? names[type] : "?";
}

#endif
