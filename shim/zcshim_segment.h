/*
 * zcshim_segment.h - the shared-memory segment layout, shared by writer and reader.
 *
 * This header *is* the file format. libzcshim.so (the writer, inside the host
 * process) and zcshim-stat (the reader) both compile against it, so any change
 * to a struct, a dimension or an enum below must bump ZCS_LAYOUT_VERSION; the
 * reader refuses segments whose version, sizes or layout hash differ from its
 * own. tests/test_layout.c pins the offsets so a change cannot slip by.
 *
 * One segment per process, in POSIX shm: /dev/shm/zcshim.<pid>.<start>.<seq>
 * where <start> is the process start time in clock ticks after boot (field 22
 * of /proc/<pid>/stat), so a recycled pid never aliases an older segment, and
 * <seq> counts exec()s of one process image into another (same pid and start).
 *
 * Publishing (after Varnish VSM): the writer fills the header, issues a
 * release fence and only then stores state = ZCS_STATE_RUNNING. A reader that
 * sees ZCS_STATE_INIT must not trust anything else.
 *
 * What every thread shares sits in struct zcs_shared, right after the header:
 * the socket table, the zero-copy in-flight gauge and the cell index. A
 * series is keyed (socket slot, op, path, size class); the index maps a key
 * to a cell number, the same in every shard. Slot 0, "other", has all its
 * cells from the start (numbers 1..ZCS_NOTHER_CELLS) and takes calls on no
 * socket (zmq_msg_init_data, hold and ffn of buffers never sent), sends on
 * sockets beyond the table, and anything that finds the cell pool used up,
 * so no call goes uncounted. Table sockets take cells from the pool on
 * first use (the writer CASes the index entry from 0).
 *
 * Counters are per-thread shards (struct zcs_shard). A thread that owns a
 * shard adds with a relaxed load+store; shard 0 is shared by threads that
 * found no free shard and takes relaxed atomic adds. Every counter is an
 * aligned 64-bit word, so a reader never sees a torn value; it sums the
 * shards. Cells are not a consistent snapshot of each other (a count may run
 * one ahead of its buckets), which is all a histogram dump needs.
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
 * Their cells hold the buffers whose init_data was sampled (timed), not all. */
enum zcs_op {
	ZCS_OP_INIT_DATA,
	ZCS_OP_SEND,
	ZCS_OP_MSG_SEND,
	ZCS_OP_SENDMSG,
	ZCS_OP_SEND_CONST,
	ZCS_OP_HOLD,
	ZCS_OP_FFN,
	ZCS_NOPS
};
#define ZCS_NCALL_OPS ZCS_OP_HOLD /* ops below this are calls, which can fail */

/* How the bytes travelled. COPY: libzmq owns a copy (zmq_send,
 * zmq_msg_init_size). ZEROCOPY: the app's buffer with its ffn went to libzmq.
 * CONVERTED: a zero-copy send the shim turned into a copy. CONST: ffn NULL. */
enum zcs_path {
	ZCS_PATH_COPY,
	ZCS_PATH_ZEROCOPY,
	ZCS_PATH_CONVERTED,
	ZCS_PATH_CONST,
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
                                   then libzmq_version, tsc_hz, clock and the shards
                                   mean nothing, and the shards may not be backed yet */

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
 * each power of two splits into ZCS_SUB buckets (25 % wide). 144 buckets
 * reach 2^37 ns (137 s); anything longer lands in the last bucket. */
#define ZCS_SUB_BITS 2
#define ZCS_SUB      (1u << ZCS_SUB_BITS)
#define ZCS_NBUCKETS 144

#define ZCS_NSHARDS 4 /* shard 0 shared (atomic adds), 1..3 owned by one thread */

/* Sockets: slot 0 is "other"; slots 1..ZCS_NSOCKETS are table rows, given
 * out in the order sockets are first seen and never reused, so a slot number
 * is the socket's id for the life of the process. */
#define ZCS_NSOCKETS     64
#define ZCS_NSLOTS       (ZCS_NSOCKETS + 1)
#define ZCS_SLOT_OTHER   0
#define ZCS_ENDPOINTS_MAX 216 /* bytes of "ep ep ...", NUL included */

#define ZCS_NOTHER_CELLS (ZCS_NOPS * ZCS_NPATHS * ZCS_NSIZES)
#define ZCS_NPOOL_CELLS  512  /* cells for table sockets, on first use */
#define ZCS_NCELLS       (1 + ZCS_NOTHER_CELLS + ZCS_NPOOL_CELLS) /* cell 0 unused */

/* Why a call returned -1, by errno. EAGAIN on a send is the high-water mark
 * (or ZMQ_DONTWAIT with nowhere to send), which libzmq reports nowhere else. */
enum zcs_err {
	ZCS_ERR_EAGAIN,
	ZCS_ERR_EHOSTUNREACH,
	ZCS_ERR_ETERM,
	ZCS_ERR_EINTR,
	ZCS_ERR_OTHER,
	ZCS_NERRS
};

enum zcs_sock_state { ZCS_SOCK_FREE, ZCS_SOCK_OPEN, ZCS_SOCK_CLOSED };

struct zcs_cell {
	uint64_t count;                /* calls that succeeded (exact) */
	uint64_t bytes;                /* message bytes of those calls (exact) */
	uint64_t time_ns_sum;          /* sum of the timed samples below */
	uint64_t buckets[ZCS_NBUCKETS];/* timed samples (1 in sample_every) */
};

/* Cache-line aligned so two threads' shards never share a line. */
struct zcs_shard {
	uint64_t failed[ZCS_NSLOTS][ZCS_NCALL_OPS][ZCS_NERRS]; /* calls that returned -1 */
	uint64_t ffn_thread[ZCS_NFFN_THREADS];   /* sampled zero-copy ffn runs, by thread kind */
	uint64_t reserved[4];
	struct zcs_cell cell[ZCS_NCELLS] __attribute__((aligned(64)));
	                                         /* numbered by zcs_shared.cell_index */
} __attribute__((aligned(64)));

/* One row of the socket table. Written off the hot path (zmq_socket,
 * zmq_bind, zmq_connect, zmq_close) under a seqlock: seq is odd while the
 * writer changes the row, and a reader retries until it reads the same even
 * seq before and after. */
struct zcs_socket {
	uint32_t seq;
	uint32_t state;              /* enum zcs_sock_state */
	int32_t  type;               /* ZMQ_PUSH, ZMQ_PUB, ... (zmq.h numbers) */
	uint32_t reserved0;
	uint64_t opened_unix_ns;     /* first seen */
	uint64_t closed_unix_ns;     /* zmq_close, 0 while open */
	char     endpoints[ZCS_ENDPOINTS_MAX]; /* every bind/connect, space-separated,
	                                          ends in "..." when cut */
};

/* Zero-copy buffers handed to libzmq with zmq_msg_init_data whose ffn has
 * not run yet: exact, because every such buffer is followed (hold.c). Each
 * shard's threads count what they handed over and what they released (the
 * ffn ran on them), on lines of their own, so no cache line is fought over
 * per buffer; in flight = sum of handed - sum of released. They sit here,
 * side by side, rather than in the shards, because the writer of a peak
 * reads every shard's handed counts on each buffer: one page, not four.
 * Peaks are the highest values the gauge has taken, with the timing clock's
 * ticks when they were reached (convert with start_clock_ticks below and
 * the header's tsc_hz); written only when a peak rises. */
struct zcs_gauge_line {
	uint64_t buffers;
	uint64_t bytes;
	uint64_t reserved[6];
};

struct zcs_inflight {
	struct zcs_gauge_line handed[ZCS_NSHARDS];   /* by shard */
	struct zcs_gauge_line released[ZCS_NSHARDS];
	uint64_t peak_buffers;
	uint64_t peak_buffers_ticks;
	uint64_t peak_bytes;
	uint64_t peak_bytes_ticks;
	uint64_t untracked;          /* buffers not followed (no record to spare): not in
	                                the gauge, their hold and ffn not recorded */
	uint64_t reserved[3];
};

/* Everything the threads share; read-mostly except the gauge, which has
 * cache lines of its own. */
struct zcs_shared {
	struct zcs_inflight inflight __attribute__((aligned(64)));
	uint64_t start_clock_ticks __attribute__((aligned(64))); /* timing clock at start_unix_ns */
	uint32_t sockets_seen;       /* distinct sockets, table rows and beyond */
	uint32_t cells_used;         /* pool cells given out, up to ZCS_NPOOL_CELLS */
	uint64_t cells_short;        /* calls counted under "other" for want of a cell */
	uint64_t reserved[5];
	struct zcs_socket sockets[ZCS_NSLOTS]; /* [0], "other", stays FREE */
	uint16_t cell_index[ZCS_NSLOTS][ZCS_NOPS][ZCS_NPATHS][ZCS_NSIZES]; /* 0: no cell yet */
};

struct zcs_header {
	uint64_t magic;
	uint32_t layout_version;
	uint32_t header_bytes;   /* sizeof(struct zcs_header) */
	uint64_t layout_hash;    /* ZCS_LAYOUT_HASH */
	uint64_t segment_bytes;  /* size of the whole object */
	uint64_t shared_offset;  /* struct zcs_shared, from the start of the segment */
	uint64_t shared_bytes;   /* sizeof(struct zcs_shared) */
	uint64_t shards_offset;  /* from the start of the segment */
	uint64_t shard_bytes;    /* sizeof(struct zcs_shard) */
	uint32_t nshards;
	uint32_t state;          /* enum zcs_state; stored last, with release */
	int32_t  pid;
	uint32_t seq;            /* exec generation, as in the object name */
	uint64_t start_ticks;    /* process start, clock ticks after boot */
	uint64_t start_unix_ns;  /* wall clock when the segment was created */
	uint64_t exit_unix_ns;   /* wall clock at exit, 0 while running */
	uint64_t threshold_bytes;/* zero-copy sends below this are converted */
	uint32_t mode;           /* enum zcs_mode */
	uint32_t sample_every;   /* 1 in N calls is timed */
	uint64_t tsc_hz;         /* ticks per second of the timing clock */
	uint32_t clock;          /* enum zcs_clock */
	uint32_t libzmq_version; /* major * 10000 + minor * 100 + patch */
	uint32_t flags;          /* ZCS_F_*, set with atomic or */
	uint32_t reserved0;
	char     exe[64];        /* program_invocation_short_name, NUL-terminated */
	uint64_t reserved[6];

	/* ---- reach (layout 3): how libzmq's calls got to the shim, or why
	 * none did. Written by shim/reach.c: ways and counts as they happen,
	 * why and how at exit (when the process exits normally). One block, so
	 * that a later layout can carry it over whole. ---- */
	uint32_t reach_ways;     /* ZCS_WAY_* bits */
	uint32_t reach_why;      /* enum zcs_reach_why */
	uint32_t reach_how;      /* enum zcs_reach_how, with ZCS_WHY_BYPASSED */
	uint32_t reach_dlsym;    /* wrappers handed to dlsym/dlvsym callers */
	uint32_t reach_patched;  /* RTLD_DEEPBIND objects whose GOT was redirected */
	uint32_t reach_lost;     /* RTLD_DEEPBIND dlopens passed through unredirected */
	char     reach_libzmq[160]; /* the object libzmq was found in (a path), "" if none;
	                               ends in "..." when cut */
	char     reach_object[160]; /* the object reach_why / reach_how name, or the first
	                               reach_lost file; "" if none */
};

#define ZCS_LAYOUT_HASH                                                     \
	((uint64_t)ZCS_LAYOUT_VERSION << 56 | (uint64_t)ZCS_NOPS << 48 |     \
	 (uint64_t)ZCS_NPATHS << 40 | (uint64_t)ZCS_NSIZES << 32 |           \
	 (uint64_t)ZCS_NSOCKETS << 24 | (uint64_t)ZCS_NBUCKETS << 16 |       \
	 (uint64_t)ZCS_NSHARDS << 8 | (uint64_t)ZCS_NERRS << 4 |             \
	 (uint64_t)ZCS_SUB_BITS)

/* The whole object: header, then the shared part, then the shards, each
 * page-aligned. The writer backs the header and shared part at once and
 * the shards at the first recorded call, so a process that loads the shim
 * but never calls libzmq costs one small file. */
#define ZCS_PAGE_ROUND(x) (((uint64_t)(x) + 4095u) & ~(uint64_t)4095u)
#define ZCS_SHARED_OFFSET 4096u
#define ZCS_SHARDS_OFFSET (ZCS_SHARED_OFFSET + ZCS_PAGE_ROUND(sizeof(struct zcs_shared)))
#define ZCS_SEGMENT_BYTES \
	(ZCS_SHARDS_OFFSET + (uint64_t)ZCS_NSHARDS * sizeof(struct zcs_shard))

/* Cell number of slot 0's (op, path, size): fixed, so "other" always has one. */
static inline uint16_t zcs_other_cell(unsigned op, unsigned path, unsigned size_class)
{
	return (uint16_t)(1 + (op * ZCS_NPATHS + path) * ZCS_NSIZES + size_class);
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
	h->shards_offset = ZCS_SHARDS_OFFSET;
	h->shard_bytes = sizeof(struct zcs_shard);
	h->nshards = ZCS_NSHARDS;
}

/* ---- names, as they appear in every output format ---- */

static inline const char *zcs_op_name(unsigned op)
{
	static const char *const names[ZCS_NOPS] = {
		"init_data", "send", "msg_send", "sendmsg", "send_const", "hold", "ffn",
	};
	return op < ZCS_NOPS ? names[op] : "?";
}

static inline const char *zcs_path_name(unsigned path)
{
	static const char *const names[ZCS_NPATHS] = {
		"copy", "zerocopy", "converted", "const",
	};
	return path < ZCS_NPATHS ? names[path] : "?";
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
