/*
 * segment.c - create, grow, publish and retire this process's shared-memory
 * segment, and hand out its cells and per-thread shards.
 *
 * The segment is made when the shim loads (mode convert or profile), so
 * that a process that never calls libzmq through us still shows up, as "no
 * libzmq calls seen", instead of not at all. Then only the header and the
 * shared part exist (~40 KiB). The rest of the (sparse) file is mapped and
 * backed piece by piece as it is used: a shard area when a thread first
 * records, a page of every shard's counts and a histogram's pages when a
 * series first appears. Backing before writing matters: on a full tmpfs,
 * touching a page of a sparse mapping raises SIGBUS in the host, which is
 * exactly what a shim must never do. Pages are backed through the mapping
 * (MADV_POPULATE_WRITE), which needs no descriptor, so a process that
 * closes every fd or changes its uid keeps recording; mapping a new piece
 * needs one, kept at a high number and checked before each use. If
 * anything fails the shim stops growing the segment, warns once and keeps
 * converting or passing calls through; what was backed keeps counting.
 */
#include "segment.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "ledger.h"
#include "procid.h"
#include "reach.h"
#include "record.h"
#include "segname.h"
#include "utf8.h"
#include "warn.h"
#include "zcshim_segment.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

__thread struct zcs_tls zcs_tls __attribute__((tls_model("initial-exec")));

struct zcs_shared *zcs_shared_part;
struct zcs_shard_head *zcs_shard_area[ZCS_NSHARDS];
struct zcs_hist *zcs_hist_chunk[ZCS_NHIST_CHUNKS];

/* interpose.c: the settings, read once, whoever asks first */
const struct zcs_config *zcs_settings(void);

static struct {
	pthread_mutex_t lock;    /* guards creation and growth, never the hot path */
	int state;               /* 0 not yet, 1 ready, 2 failed or exiting */
	int full;                /* growing failed once: nothing more is backed */
	struct zcs_header *hdr;
	struct zcs_ident id;
	char name[96];           /* "/zcshim.<pidns>.<pid>.<start>.<seq>" */
	int fd;                  /* kept descriptor, -1 if none */
	dev_t dev;
	ino_t ino;
	uint64_t file_bytes;     /* size the file has been given */
	uint32_t libzmq_version;
	uint32_t flags;
	int shard_taken[ZCS_NSHARDS];
	int overflow_backed;     /* the overflow cells' histograms: before any shard */
	int unlisted;            /* no ledger can list it (its name is another user's):
	                            nothing would ever prune it, so it goes at exit,
	                            kept or not (ledger.h) */
	uint32_t counts_backed;  /* cells whose counts are backed in every mapped shard */
	pthread_key_t shard_key; /* releases an owned shard at thread exit */
	int key_ok;
} seg = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

/* set in a thread whose shard went back at its exit: records go to shard 0 */
static __thread int shard_released __attribute__((tls_model("initial-exec")));

/* what went wrong before the first libzmq call, said by that call */
static char pending_warning[256];

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ warnings */

/* "<what> <object>: <why>; ..." as the process's one warning line. Said at
 * once after the first libzmq call; before it, kept for that call to say:
 * a shell or a compiler that inherited LD_PRELOAD should hear nothing. */
static void warn_or_keep(const char *line)
{
	if (seg.flags & ZCS_F_CALLS_SEEN)
		zcs_warn_once(line);
	else if (!pending_warning[0])
		snprintf(pending_warning, sizeof pending_warning, "%s", line);
}

static void fail(const char *what, const char *object, int err)
{
	char line[256];
	snprintf(line, sizeof line, "%s %s: %s; not recording (conversion unaffected)",
		 what, object, strerror(err));
	warn_or_keep(line);
	__atomic_store_n(&seg.state, 2, __ATOMIC_RELEASE);
}

/* Growing failed: keep what there is, say so once. Called with seg.lock. */
static void grow_failed(const char *what, int err)
{
	if (seg.full)
		return;
	__atomic_store_n(&seg.full, 1, __ATOMIC_RELAXED); /* zcs_cell_get reads it unlocked */
	if (seg.hdr)
		__atomic_or_fetch(&seg.hdr->flags, ZCS_F_FULL, __ATOMIC_RELEASE);
	char line[256];
	snprintf(line, sizeof line, "cannot back %s of %s: %s; recording only what fits",
		 what, seg.name, strerror(err));
	warn_or_keep(line);
}

/* --------------------------------------------------- file and mappings */

/* Keep fd out of the app's way: high, close-on-exec. */
static int keep_high(int fd)
{
	int high = fcntl(fd, F_DUPFD_CLOEXEC, 512);
	if (high < 0)
		return fd;
	close(fd);
	return high;
}

/* Our descriptor of the segment: the kept one if the app has not closed it
 * (or put a file of its own under its number), else reopened by name (the
 * file follows a setuid, see zcs_segment_give_to). -1 if neither. Called
 * with seg.lock held. */
static int seg_fd(void)
{
	struct stat st;
	if (seg.fd >= 0 && fstat(seg.fd, &st) == 0 && st.st_dev == seg.dev &&
	    st.st_ino == seg.ino)
		return seg.fd;
	seg.fd = -1; /* not ours any more: never close it */
	int fd = shm_open(seg.name, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_dev != seg.dev || st.st_ino != seg.ino) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	seg.fd = keep_high(fd);
	return seg.fd;
}

/* Would a file of `bytes` pass RLIMIT_FSIZE? Growing past it raises
 * SIGXFSZ, which kills. */
static int fits_fsize(uint64_t bytes)
{
	struct rlimit fsize;
	return getrlimit(RLIMIT_FSIZE, &fsize) != 0 || fsize.rlim_cur == RLIM_INFINITY ||
	       fsize.rlim_cur >= bytes;
}

/* Back [addr, addr+len) of the mapping of file offset `off` (page-aligned):
 * through the mapping, or (kernels before 5.14) with fallocate. 0 or errno. */
static int back(void *addr, uint64_t len, uint64_t off)
{
	if (madvise(addr, len, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno == EFAULT) /* the fault a write would have taken: SIGBUS, no room */
		return ENOSPC;
	if (errno != EINVAL)
		return errno;
	int fd = seg_fd();
	return fd < 0 ? errno : posix_fallocate(fd, (off_t)off, (off_t)len);
}

/* Map len bytes of the file at off (growing the file to cover them), or
 * NULL with errno. Called with seg.lock held. */
static void *map_piece(uint64_t off, uint64_t len)
{
	int fd = seg_fd();
	if (fd < 0)
		return NULL;
	if (off + len > seg.file_bytes) {
		if (!fits_fsize(off + len)) {
			errno = EFBIG;
			return NULL;
		}
		if (ftruncate(fd, (off_t)(off + len)) != 0)
			return NULL;
		seg.file_bytes = off + len;
	}
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	return p == MAP_FAILED ? NULL : p;
}

/* ------------------------------------------------------------ creation */

/* A new image of this process (exec) retires its predecessors' segments:
 * they are finished, and a process that reloads itself N times must cost
 * one segment, not N. They sit at the other seq numbers of our name. */
static void retire_predecessors(uint32_t mine)
{
	/* without namespace and start time the other seqs of our name may be
	 * a process of another container (segname.h): leave them */
	if (!zcs_ident_known(&seg.id))
		return;
	for (uint32_t s = 0; s < ZCS_SEQ_MAX; s++) {
		if (s == mine)
			continue;
		struct zcs_ident id = seg.id;
		char name[96], path[128];
		struct stat st;
		id.seq = s;
		zcs_name_make(&id, name, sizeof name);
		snprintf(path, sizeof path, ZCS_SHM_DIR "/%s", name);
		if (lstat(path, &st) != 0) {
			if (s > mine)
				break; /* images take the lowest free number: none beyond */
			continue;
		}
		if (S_ISREG(st.st_mode) && st.st_uid == geteuid())
			unlink(path);
	}
}

/* Called with seg.lock held. */
static void create(void)
{
	const struct zcs_config *cfg = zcs_settings();
	/* all or nothing: a segment that could not grow to its full size
	 * would stop recording at some thread or series, unexplained */
	if (!fits_fsize(ZCS_SEGMENT_BYTES)) {
		char limit[64];
		snprintf(limit, sizeof limit, "(file size limit below %llu bytes)",
			 (unsigned long long)ZCS_SEGMENT_BYTES);
		return fail("segment does not fit", limit, EFBIG);
	}
	seg.id.pidns = zcs_ns_inode("/proc/self/ns/pid");
	seg.id.pid = getpid();
	seg.id.start_ticks = zcs_proc_start_ticks("/proc/self/stat");
	int fd = -1;
	for (seg.id.seq = 0; seg.id.seq < ZCS_SEQ_MAX; seg.id.seq++) {
		seg.name[0] = '/';
		zcs_name_make(&seg.id, seg.name + 1, sizeof seg.name - 1);
		fd = shm_open(seg.name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return fail("cannot create", seg.name, errno);
	struct stat st;
	int err = fstat(fd, &st) != 0 ? errno : 0;
	if (!err && ftruncate(fd, (off_t)ZCS_BASE_BYTES) != 0)
		err = errno;
	void *p = err ? MAP_FAILED
		      : mmap(NULL, ZCS_BASE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!err && p == MAP_FAILED)
		err = errno;
	seg.fd = keep_high(fd);
	seg.dev = st.st_dev;
	seg.ino = st.st_ino;
	seg.file_bytes = ZCS_BASE_BYTES;
	if (!err)
		err = back(p, ZCS_BASE_BYTES, 0);
	if (err) {
		if (p != MAP_FAILED)
			munmap(p, ZCS_BASE_BYTES);
		close(seg.fd);
		seg.fd = -1;
		shm_unlink(seg.name);
		return fail("cannot reserve space for", seg.name, err);
	}

	struct zcs_header *h = p;
	zcs_header_init_layout(h);
	h->pid = seg.id.pid;
	h->seq = seg.id.seq;
	h->pidns = seg.id.pidns;
	h->start_ticks = seg.id.start_ticks;
	h->start_unix_ns = wall_ns();
	h->threshold_bytes = cfg->threshold_bytes;
	h->mode = cfg->mode;
	h->sample_every = cfg->sample_every;
	h->uid = (uint32_t)geteuid();
	zcs_utf8_copy(h->exe, sizeof h->exe, program_invocation_short_name);
	struct zcs_shared *shared = (struct zcs_shared *)((char *)p + ZCS_SHARED_OFFSET);
	shared->cells_used = ZCS_CELL_FIRST;
	zcs_shared_part = shared;
	seg.hdr = h;
	if (seg.flags & ZCS_F_CALLS_SEEN) { /* made after a fork, by a caller */
		h->tsc_hz = zcs_clock.hz;
		h->clock = zcs_clock.use_tsc ? ZCS_CLOCK_TSC : ZCS_CLOCK_MONOTONIC;
		h->libzmq_version = seg.libzmq_version;
		shared->start_clock_ticks = zcs_ticks();
		h->flags = seg.flags;
	}
	zcs_reach_publish(h);
	/* Publish: everything above before the state a reader trusts. */
	__atomic_store_n(&h->state, ZCS_STATE_RUNNING, __ATOMIC_RELEASE);
	__atomic_store_n(&seg.state, 1, __ATOMIC_RELEASE);

	retire_predecessors(seg.id.seq);
	seg.unlisted = zcs_ledger_add(&seg.id, geteuid()) < 0;
}

static void release_shard(void *v);

void zcs_segment_open(void)
{
	seg.key_ok = pthread_key_create(&seg.shard_key, release_shard) == 0;
	pthread_mutex_lock(&seg.lock);
	if (seg.state == 0)
		create();
	pthread_mutex_unlock(&seg.lock);
}

const char *zcs_segment_calls_seen(uint32_t libzmq_version, uint32_t flags)
{
	pthread_mutex_lock(&seg.lock);
	seg.libzmq_version = libzmq_version;
	seg.flags = flags | ZCS_F_CALLS_SEEN;
	struct zcs_header *h = seg.hdr;
	if (h) {
		h->tsc_hz = zcs_clock.hz;
		h->clock = zcs_clock.use_tsc ? ZCS_CLOCK_TSC : ZCS_CLOCK_MONOTONIC;
		h->libzmq_version = libzmq_version;
		/* the tick count the clock showed at start_unix_ns, so that a
		 * reader can turn the ticks of a peak into wall time */
		uint64_t since_ns = wall_ns() - h->start_unix_ns;
		zcs_shared_part->start_clock_ticks =
			zcs_ticks() - (uint64_t)((double)since_ns * (double)zcs_clock.hz / 1e9);
		__atomic_or_fetch(&h->flags, seg.flags, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&seg.lock);
	return pending_warning;
}

void zcs_segment_lock(void)
{
	pthread_mutex_lock(&seg.lock);
}

void zcs_segment_unlock(void)
{
	pthread_mutex_unlock(&seg.lock);
}

/* The segment, made now if it was not at load (a forked child, or a call
 * from a constructor that ran before ours). */
static int ready(void)
{
	int state = __atomic_load_n(&seg.state, __ATOMIC_ACQUIRE);
	if (state == 0) {
		pthread_mutex_lock(&seg.lock);
		if (seg.state == 0)
			create();
		pthread_mutex_unlock(&seg.lock);
		state = __atomic_load_n(&seg.state, __ATOMIC_ACQUIRE);
	}
	return state == 1;
}

struct zcs_shared *zcs_segment_shared(void)
{
	int saved = errno;
	struct zcs_shared *s = ready() ? zcs_shared_part : NULL;
	errno = saved;
	return s;
}

/* ------------------------------------------------ cells and their pages */

/* Page-aligned [lo, hi) around [a, b). */
static void page_span(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi)
{
	*lo = a & ~(ZCS_PAGE - 1);
	*hi = ZCS_PAGE_ROUND(b);
}

/* Back the histograms of cells [from, to). Called with seg.lock held. */
static int back_hists(uint32_t from, uint32_t to)
{
	for (uint32_t c = from; c < to;) {
		unsigned chunk = c / ZCS_HIST_CHUNK_CELLS;
		if (!zcs_hist_chunk[chunk]) {
			void *p = map_piece(zcs_hist_chunk_offset(chunk), ZCS_HIST_CHUNK_BYTES);
			if (!p)
				return errno;
			__atomic_store_n(&zcs_hist_chunk[chunk], p, __ATOMIC_RELEASE);
		}
		uint32_t end = (chunk + 1) * ZCS_HIST_CHUNK_CELLS;
		if (end > to)
			end = to;
		uint64_t lo, hi;
		page_span((uint64_t)(c % ZCS_HIST_CHUNK_CELLS) * sizeof(struct zcs_hist),
			  (uint64_t)(end - chunk * ZCS_HIST_CHUNK_CELLS) * sizeof(struct zcs_hist),
			  &lo, &hi);
		int err = back((char *)zcs_hist_chunk[chunk] + lo, hi - lo,
			       zcs_hist_chunk_offset(chunk) + lo);
		if (err)
			return err;
		c = end;
	}
	return 0;
}

/* Cells whose counts fit in the pages that hold cell `cells - 1`'s. */
static uint32_t cells_in_pages(uint32_t cells)
{
	uint64_t bytes = ZCS_PAGE_ROUND(zcs_shard_used_bytes(cells));
	uint64_t n = (bytes - sizeof(struct zcs_shard_head)) / sizeof(struct zcs_counts);
	return n < ZCS_NCELLS_MAX ? (uint32_t)n : ZCS_NCELLS_MAX;
}

/* Back shard s's head and counts of cells below `cells`. With seg.lock. */
static int back_shard(unsigned s, uint32_t cells)
{
	return back(zcs_shard_area[s], ZCS_PAGE_ROUND(zcs_shard_used_bytes(cells)),
		    zcs_shard_offset(s));
}

/* Make every mapped shard's counts of cell n writable. With seg.lock. */
static int back_counts_for(uint32_t n)
{
	if (n < seg.counts_backed)
		return 0;
	uint32_t cells = cells_in_pages(n + 1);
	for (unsigned s = 0; s < ZCS_NSHARDS; s++) {
		int err = zcs_shard_area[s] ? back_shard(s, cells) : 0;
		if (err)
			return err;
	}
	seg.counts_backed = cells;
	return 0;
}

static uint16_t index_find(uint32_t key, uint32_t *free_at)
{
	uint32_t *index = zcs_shared_part->index;
	for (uint32_t i = zcs_key_hash(key), n = 0; n < ZCS_INDEX_SIZE;
	     i = (i + 1) & (ZCS_INDEX_SIZE - 1), n++) {
		uint32_t e = __atomic_load_n(&index[i], __ATOMIC_ACQUIRE);
		if (!e) {
			if (free_at)
				*free_at = i;
			return 0;
		}
		if (e >> ZCS_INDEX_CELL_BITS == key)
			return (uint16_t)(e & ZCS_INDEX_CELL_MASK);
	}
	if (free_at)
		*free_at = UINT32_MAX;
	return 0;
}

uint16_t zcs_cell_get(unsigned slot, unsigned op, unsigned path, unsigned size_class)
{
	uint32_t key = zcs_key(slot, op, path, size_class);
	struct zcs_shared *shp = zcs_shared_part;
	uint16_t cell = shp ? index_find(key, NULL) : 0;
	if (cell)
		return cell;
	uint32_t room = path == ZCS_PATH_FAILED ? ZCS_NCELLS_MAX
						: ZCS_NCELLS_MAX - ZCS_CELLS_FOR_FAILED;
	/* no cell left to give, for good: the overflow cell without the lock
	 * (a thread moving between series would take it on every call) */
	if (shp && (__atomic_load_n(&shp->cells_used, __ATOMIC_ACQUIRE) >= room ||
		    __atomic_load_n(&seg.full, __ATOMIC_RELAXED))) {
		if (path != ZCS_PATH_FAILED)
			__atomic_fetch_add(&shp->cells_short, 1, __ATOMIC_RELAXED);
		return (uint16_t)(1 + op);
	}
	int saved = errno;
	pthread_mutex_lock(&seg.lock);
	uint32_t at = UINT32_MAX;
	struct zcs_shared *sh = seg.state == 1 ? zcs_shared_part : NULL;
	cell = sh ? index_find(key, &at) : 0;
	if (!cell && sh && !seg.full && at != UINT32_MAX && sh->cells_used < room) {
		uint32_t n = sh->cells_used;
		int err = back_hists(n, n + 1);
		if (!err)
			err = back_counts_for(n);
		if (err) {
			grow_failed("a new series", err);
		} else {
			__atomic_store_n(&sh->cells_used, n + 1, __ATOMIC_RELEASE);
			__atomic_store_n(&sh->index[at], key << ZCS_INDEX_CELL_BITS | n,
					 __ATOMIC_RELEASE);
			cell = (uint16_t)n;
		}
	}
	if (!cell) { /* the op's overflow cell: counts stay exact (a failed call's
		      * caller counts it in failed_short instead) */
		if (sh && path != ZCS_PATH_FAILED)
			__atomic_fetch_add(&sh->cells_short, 1, __ATOMIC_RELAXED);
		cell = (uint16_t)(1 + op);
	}
	pthread_mutex_unlock(&seg.lock);
	errno = saved;
	return cell;
}

void zcs_failed_short(void)
{
	struct zcs_shared *sh = zcs_shared_part;
	if (sh)
		__atomic_fetch_add(&sh->failed_short, 1, __ATOMIC_RELAXED);
}

/* --------------------------------------------------------------- shards */

/* Map shard s and back its head and the counts of every cell given out so
 * far (and the overflow cells, with the histogram chunk they sit in, for
 * the first shard). With seg.lock held. */
static int map_shard(unsigned s)
{
	/* Not "is chunk 0 mapped": a failed backing leaves it mapped with
	 * these pages missing, and a timed call on an overflow cell would
	 * then write a page tmpfs has no room for (SIGBUS). */
	if (!seg.overflow_backed) {
		int err = back_hists(1, ZCS_CELL_FIRST);
		if (err)
			return err;
		seg.overflow_backed = 1;
	}
	if (!seg.counts_backed)
		seg.counts_backed = cells_in_pages(zcs_shared_part->cells_used);
	if (!zcs_shard_area[s]) {
		void *p = map_piece(zcs_shard_offset(s), ZCS_SHARD_AREA_BYTES);
		if (!p)
			return errno ? errno : ENOMEM;
		zcs_shard_area[s] = p;
		int err = back_shard(s, seg.counts_backed);
		if (err) {
			munmap(p, ZCS_SHARD_AREA_BYTES);
			zcs_shard_area[s] = NULL;
			return err;
		}
		__atomic_or_fetch(&zcs_shared_part->shards_used[s / 64], UINT64_C(1) << (s % 64),
				  __ATOMIC_RELEASE);
	}
	return 0;
}

static void use_shard(unsigned s, int owned)
{
	struct zcs_shard_head *head = zcs_shard_area[s];
	zcs_tls.head = head;
	zcs_tls.counts = (struct zcs_counts *)(head + 1);
	zcs_tls.owned = owned;
	zcs_tls.gauge_slack[0] = zcs_tls.gauge_slack[1] = 0;
}

static struct zcs_counts *claim(int call)
{
	if (!zcs_tls.counts) {
		if (!ready())
			return NULL;
		pthread_mutex_lock(&seg.lock);
		int got = -1, err;
		for (unsigned s = 1; s < ZCS_NSHARDS && seg.key_ok && !shard_released &&
				     seg.state == 1 && got < 0;
		     s++) {
			if (__atomic_load_n(&seg.shard_taken[s], __ATOMIC_ACQUIRE) ||
			    (!zcs_shard_area[s] && seg.full))
				continue;
			if ((err = map_shard(s)) != 0) {
				grow_failed("a thread's shard", err);
				break;
			}
			__atomic_store_n(&seg.shard_taken[s], 1, __ATOMIC_RELAXED);
			got = (int)s;
		}
		if (got > 0) {
			pthread_setspecific(seg.shard_key, (void *)(intptr_t)got);
			zcs_shard_area[got]->threads++;
			use_shard((unsigned)got, 1);
		} else if (seg.state == 1 && !zcs_shard_area[0] && !seg.full &&
			   (err = map_shard(0)) != 0) {
			grow_failed("the shared shard", err);
		}
		if (got <= 0 && zcs_shard_area[0])
			use_shard(0, 0);
		pthread_mutex_unlock(&seg.lock);
		if (!zcs_tls.counts)
			return NULL;
	}
	if (call) {
		/* from now on this thread's time counts as a caller's */
		if (zcs_tls.owned && !zcs_tls.head->busy_since_unix_ns)
			zcs_tls.head->busy_since_unix_ns = wall_ns();
		zcs_tls.calls = zcs_tls.counts;
	}
	return zcs_tls.counts;
}

/* The one place on the recording path that may make syscalls (once per
 * thread, or per new series): it keeps errno, so the hot path need not. */
struct zcs_counts *zcs_claim_for_call(void)
{
	int saved = errno;
	struct zcs_counts *c = claim(1);
	errno = saved;
	return c;
}

struct zcs_counts *zcs_claim_for_event(void)
{
	int saved = errno;
	struct zcs_counts *c = claim(0);
	errno = saved;
	return c;
}

/* A thread ends: its caller time is done, its shard free for the next. */
static void release_shard(void *v)
{
	unsigned s = (unsigned)(intptr_t)v;
	if (s == 0 || s >= ZCS_NSHARDS)
		return;
	struct zcs_shard_head *head = zcs_shard_area[s];
	if (head && head->busy_since_unix_ns) {
		uint64_t now = wall_ns(), since = head->busy_since_unix_ns;
		head->busy_ns_done += now > since ? now - since : 0;
		head->busy_since_unix_ns = 0;
	}
	__atomic_store_n(&seg.shard_taken[s], 0, __ATOMIC_RELEASE);
	/* a late record (another key's destructor) goes to the shared shard */
	zcs_tls.calls = zcs_tls.counts = NULL;
	zcs_tls.head = NULL;
	zcs_tls.owned = 0;
	shard_released = 1;
}

/* ------------------------------------------------------------ lifecycle */

long zcs_segment_give_to(uid_t uid)
{
	long back_to = -1;
	int saved = errno;
	pthread_mutex_lock(&seg.lock);
	struct zcs_header *h = seg.hdr;
	if (h && seg.state == 1 && h->uid != (uint32_t)uid && geteuid() == 0) {
		int fd = seg_fd();
		if (fd >= 0 && fchown(fd, uid, (gid_t)-1) == 0) {
			back_to = (long)h->uid;
			/* and into that user's ledger, which that user's starts
			 * prune: root's could not remove a file of theirs */
			if (zcs_ledger_move(&seg.id, (uid_t)back_to, uid) < 0)
				seg.unlisted = 1;
			h->uid = (uint32_t)uid;
		}
	}
	pthread_mutex_unlock(&seg.lock);
	errno = saved;
	return back_to;
}

void zcs_segment_after_fork(void)
{
	/* The parent's mappings stay valid here but are the parent's to write. */
	zcs_reach_publish(NULL);
	if (seg.hdr)
		munmap(seg.hdr, ZCS_BASE_BYTES);
	for (unsigned c = 0; c < ZCS_NHIST_CHUNKS; c++)
		if (zcs_hist_chunk[c])
			munmap(zcs_hist_chunk[c], ZCS_HIST_CHUNK_BYTES);
	for (unsigned s = 0; s < ZCS_NSHARDS; s++)
		if (zcs_shard_area[s])
			munmap(zcs_shard_area[s], ZCS_SHARD_AREA_BYTES);
	memset(zcs_hist_chunk, 0, sizeof zcs_hist_chunk);
	memset(zcs_shard_area, 0, sizeof zcs_shard_area);
	if (seg.fd >= 0)
		close(seg.fd);
	seg.fd = -1;
	seg.hdr = NULL;
	zcs_shared_part = NULL;
	seg.state = 0;
	seg.full = 0;
	seg.overflow_backed = 0;
	seg.counts_backed = 0;
	pthread_mutex_init(&seg.lock, NULL);
	memset(seg.shard_taken, 0, sizeof seg.shard_taken);
	if (seg.key_ok)
		pthread_setspecific(seg.shard_key, NULL);
	zcs_tls.calls = zcs_tls.counts = NULL;
	zcs_tls.head = NULL;
	zcs_tls.owned = 0;
	memset(zcs_tls.cache, 0, sizeof zcs_tls.cache);
	shard_released = 0;
}

void zcs_segment_exit(void)
{
	/* No segment made from now on: nobody would mark or remove it. */
	pthread_mutex_lock(&seg.lock);
	if (seg.state == 0)
		__atomic_store_n(&seg.state, 2, __ATOMIC_RELEASE);
	struct zcs_header *h = seg.hdr;
	pthread_mutex_unlock(&seg.lock);
	if (!h)
		return;
	uint64_t now = wall_ns();
	for (unsigned s = 1; s < ZCS_NSHARDS; s++) {
		struct zcs_shard_head *head = zcs_shard_area[s];
		uint64_t since = head ? head->busy_since_unix_ns : 0;
		if (since) { /* threads still running at exit end here */
			head->busy_ns_done += now > since ? now - since : 0;
			head->busy_since_unix_ns = 0;
		}
	}
	h->exit_unix_ns = now;
	__atomic_store_n(&h->state, ZCS_STATE_EXITED, __ATOMIC_RELEASE);
	/* A segment no ledger lists would never be pruned: another user who
	 * squats our ledger's name must not make /dev/shm fill with ours. */
	int keep = zcs_settings()->keep && !seg.unlisted;
	if (!keep)
		shm_unlink(seg.name);
	zcs_ledger_finish(&seg.id, (uid_t)h->uid, (h->flags & ZCS_F_CALLS_SEEN) != 0, !keep);
	/* Not unmapped: libzmq's threads may still run ffns and record. */
}
