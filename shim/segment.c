/*
 * segment.c - create, publish and retire this process's shared-memory segment,
 * and hand out its per-thread shards.
 *
 * The segment is made when the shim loads (mode convert or profile), so
 * that a process that never calls libzmq through us (libzmq linked
 * statically, or no libzmq at all) still shows up, as "no libzmq calls
 * seen", instead of not at all. Only the header and the shared part are
 * backed then (posix_fallocate, ~128 KiB); the shards, 6 MiB, are backed
 * when the first thread records. Backing before writing matters: on a full
 * tmpfs, touching a page of a sparse mapping raises SIGBUS in the host,
 * which is exactly what a shim must never do. If anything fails the shim
 * records nothing, warns once and keeps converting or passing calls through.
 */
#include "segment.h"

#include <dirent.h>
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
#include "procstart.h"
#include "reach.h"
#include "segname.h"
#include "record.h"
#include "warn.h"
#include "zcshim_segment.h"

__thread struct zcs_tls zcs_tls __attribute__((tls_model("initial-exec")));

struct zcs_shared *zcs_shared_part;
uint32_t zcs_shards_used;

static struct {
	pthread_mutex_t lock;    /* guards creation only, never the hot path */
	int state;               /* 0 not yet, 1 ready, 2 failed */
	int shards_state;        /* 0 not backed yet, 1 backed, 2 failed */
	struct zcs_header *hdr;
	struct zcs_shard *shards;
	char name[64];
	struct zcs_config cfg;
	uint32_t libzmq_version;
	uint32_t flags;
	int shard_taken[ZCS_NSHARDS];
	pthread_key_t shard_key; /* releases an owned shard at thread exit */
	int key_ok;
} seg = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* what went wrong before the first libzmq call, said by that call */
static char pending_warning[256];

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void release_shard(void *v)
{
	int i = (int)(intptr_t)v - 1;
	if (i > 0 && i < ZCS_NSHARDS)
		__atomic_store_n(&seg.shard_taken[i], 0, __ATOMIC_RELEASE);
	zcs_tls.shard = seg.shards; /* a late record goes to the shared shard */
	zcs_tls.shared = zcs_shared_part;
	zcs_tls.shard_no = 0;
	zcs_tls.owned = 0;
	zcs_tls.others_released[0] = zcs_tls.others_released[1] = 0;
	__atomic_or_fetch(&zcs_shards_used, 1u, __ATOMIC_RELAXED);
}

static void create(void);

void zcs_segment_open(const struct zcs_config *cfg)
{
	seg.cfg = *cfg;
	seg.key_ok = pthread_key_create(&seg.shard_key, release_shard) == 0;
	pthread_mutex_lock(&seg.lock);
	if (seg.state == 0)
		create();
	pthread_mutex_unlock(&seg.lock);
}

/* What the header says about libzmq and the timing clock, known from the
 * first call on. */
static void describe_calls(struct zcs_header *h)
{
	h->tsc_hz = zcs_clock.hz;
	h->clock = zcs_clock.use_tsc ? ZCS_CLOCK_TSC : ZCS_CLOCK_MONOTONIC;
	h->libzmq_version = seg.libzmq_version;
	/* the tick count the clock showed at start_unix_ns, so that a reader
	 * can turn the ticks of a peak into wall time */
	uint64_t since_ns = wall_ns() - h->start_unix_ns;
	zcs_shared_part->start_clock_ticks =
		zcs_ticks() - (uint64_t)((double)since_ns * (double)zcs_clock.hz / 1e9);
	__atomic_or_fetch(&h->flags, seg.flags, __ATOMIC_RELEASE);
}

const char *zcs_segment_calls_seen(uint32_t libzmq_version, uint32_t flags)
{
	pthread_mutex_lock(&seg.lock);
	seg.libzmq_version = libzmq_version;
	seg.flags = flags | ZCS_F_CALLS_SEEN;
	if (seg.hdr)
		describe_calls(seg.hdr);
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

/* Segments outlive their processes (ZCSHIM_KEEP=1) so zcshim-stat works
 * after a short run; without a bound, a machine running many short zmq
 * processes would fill /dev/shm (Docker gives it 64 MiB) and starve other
 * programs. So before making its own, a process removes this user's
 * finished segments beyond the newest ZCS_KEEP_FINISHED. Finished: the
 * process named by the segment's pid and start time is gone. Segments whose
 * shards were never backed (no libzmq call: a shell, make) are kept apart,
 * as many again, so a busy shell cannot push a real run's figures out.
 * Once per process, off the hot path. */
#define ZCS_KEEP_FINISHED 8

struct finished {
	uint64_t start;
	int pid;
	char name[NAME_MAX + 1];
};

static int older_first(const void *a, const void *b)
{
	const struct finished *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Keep the newest ZCS_KEEP_FINISHED - 1 of found (ours makes one more). */
static void remove_oldest(int dir, struct finished *found, size_t n)
{
	if (n <= ZCS_KEEP_FINISHED - 1)
		return;
	qsort(found, n, sizeof found[0], older_first);
	for (size_t i = 0; i + (ZCS_KEEP_FINISHED - 1) < n; i++)
		unlinkat(dir, found[i].name, 0);
}

/* Also with ZCSHIM_KEEP=0: an image that exec'd, called _exit or was
 * killed leaves its segment behind all the same. */
static void remove_old_finished(void)
{
	DIR *d = opendir(ZCS_SHM_DIR);
	if (!d)
		return;
	enum { CAP = 256 }; /* of each kind; beyond this many, the rest wait their turn */
	static struct finished found[2][CAP]; /* [0] with calls, [1] without; under seg.lock */
	size_t n[2] = { 0, 0 };
	struct dirent *e;
	while ((e = readdir(d)) && n[0] < CAP && n[1] < CAP) {
		int pid;
		uint64_t start;
		uint32_t seq;
		struct stat st;
		char stat_path[64];
		if (zcs_name_fields(e->d_name, &pid, &start, &seq) != 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", pid);
		if (zcs_proc_start_ticks(stat_path) == start)
			continue; /* still running */
		int empty = (uint64_t)st.st_blocks * 512 < ZCS_SEGMENT_BYTES;
		struct finished *f = &found[empty][n[empty]++];
		f->start = start;
		f->pid = pid;
		snprintf(f->name, sizeof f->name, "%s", e->d_name);
	}
	remove_oldest(dirfd(d), found[0], n[0]);
	remove_oldest(dirfd(d), found[1], n[1]);
	closedir(d);
}

/* Called with seg.lock held. */
static void create(void)
{
	/* Growing a file past RLIMIT_FSIZE raises SIGXFSZ, which kills. */
	struct rlimit fsize;
	if (getrlimit(RLIMIT_FSIZE, &fsize) == 0 && fsize.rlim_cur != RLIM_INFINITY &&
	    fsize.rlim_cur < ZCS_SEGMENT_BYTES) {
		char limit[64];
		snprintf(limit, sizeof limit, "(file size limit %llu bytes)",
			 (unsigned long long)fsize.rlim_cur);
		return fail("segment does not fit", limit, EFBIG);
	}
	pid_t pid = getpid();
	uint64_t start = zcs_proc_start_ticks("/proc/self/stat");
	/* Without our own start time /proc is not ours to judge others by (not
	 * mounted, another pid namespace): running processes would look gone. */
	if (start)
		remove_old_finished();
	int fd = -1;
	uint32_t seq;
	for (seq = 0; seq < 64; seq++) {
		snprintf(seg.name, sizeof seg.name, "/" ZCS_SHM_PREFIX "%d.%llu.%u",
			 (int)pid, (unsigned long long)start, seq);
		fd = shm_open(seg.name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return fail("cannot create", seg.name, errno);
	int err = posix_fallocate(fd, 0, (off_t)ZCS_SHARDS_OFFSET);
	if (!err && ftruncate(fd, (off_t)ZCS_SEGMENT_BYTES) != 0)
		err = errno;
	if (err) {
		close(fd);
		shm_unlink(seg.name);
		return fail("cannot reserve space for", seg.name, err);
	}
	void *p = mmap(NULL, ZCS_SEGMENT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = errno;
	close(fd);
	if (p == MAP_FAILED) {
		shm_unlink(seg.name);
		return fail("cannot map", seg.name, err);
	}

	struct zcs_header *h = p;
	zcs_header_init_layout(h);
	h->pid = pid;
	h->seq = seq;
	h->start_ticks = start;
	h->start_unix_ns = wall_ns();
	h->threshold_bytes = seg.cfg.threshold_bytes;
	h->mode = seg.cfg.mode;
	h->sample_every = seg.cfg.sample_every;
	snprintf(h->exe, sizeof h->exe, "%s", program_invocation_short_name);
	struct zcs_shared *shared = (struct zcs_shared *)((char *)p + ZCS_SHARED_OFFSET);
	for (unsigned op = 0; op < ZCS_NOPS; op++)
		for (unsigned path = 0; path < ZCS_NPATHS; path++)
			for (unsigned size = 0; size < ZCS_NSIZES; size++)
				shared->cell_index[ZCS_SLOT_OTHER][op][path][size] =
					zcs_other_cell(op, path, size);
	zcs_shared_part = shared;
	if (seg.flags & ZCS_F_CALLS_SEEN) /* made after a fork, by a caller */
		describe_calls(h);

	seg.shards = (struct zcs_shard *)((char *)p + ZCS_SHARDS_OFFSET);
	seg.hdr = h;
	zcs_reach_publish(h);
	/* Publish: everything above before the state a reader trusts. */
	__atomic_store_n(&h->state, ZCS_STATE_RUNNING, __ATOMIC_RELEASE);
	__atomic_store_n(&seg.state, 1, __ATOMIC_RELEASE);
}

/* The one place on the recording path that may make syscalls (once per
 * thread, once per process): it keeps errno, so the hot path need not. */
static struct zcs_shard *claim(void);

struct zcs_shard *zcs_shard_claim(void)
{
	int saved = errno;
	struct zcs_shard *s = claim();
	errno = saved;
	return s;
}

/* Reserve the shards' pages; the mapping already covers them. Through a
 * new descriptor: the app may have closed any we kept (daemons close every
 * fd) and put a file of its own under its number. Called with seg.lock held. */
static void back_shards(void)
{
	int fd = shm_open(seg.name, O_RDWR | O_CLOEXEC, 0600);
	int err = fd < 0 ? errno
			 : posix_fallocate(fd, (off_t)ZCS_SHARDS_OFFSET,
					   (off_t)(ZCS_SEGMENT_BYTES - ZCS_SHARDS_OFFSET));
	if (fd >= 0)
		close(fd);
	if (err) {
		char line[256];
		snprintf(line, sizeof line, "cannot reserve space for %s: %s; not recording "
			 "(conversion unaffected)", seg.name, strerror(err));
		warn_or_keep(line);
	}
	__atomic_store_n(&seg.shards_state, err ? 2 : 1, __ATOMIC_RELEASE);
}

/* The segment, made now if it was not at load (in a forked child). */
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

static struct zcs_shard *claim(void)
{
	if (!ready())
		return NULL;
	if (__atomic_load_n(&seg.shards_state, __ATOMIC_ACQUIRE) == 0) {
		pthread_mutex_lock(&seg.lock);
		if (seg.shards_state == 0)
			back_shards();
		pthread_mutex_unlock(&seg.lock);
	}
	if (__atomic_load_n(&seg.shards_state, __ATOMIC_ACQUIRE) != 1)
		return NULL;
	for (int i = 1; i < ZCS_NSHARDS && seg.key_ok; i++) {
		int expect = 0;
		if (__atomic_compare_exchange_n(&seg.shard_taken[i], &expect, 1, 0,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			pthread_setspecific(seg.shard_key, (void *)(intptr_t)(i + 1));
			zcs_tls.shard = &seg.shards[i];
			zcs_tls.shared = zcs_shared_part;
			zcs_tls.shard_no = (unsigned)i;
			zcs_tls.owned = 1;
			zcs_tls.others_released[0] = zcs_tls.others_released[1] = 0;
			__atomic_or_fetch(&zcs_shards_used, 1u << i, __ATOMIC_RELAXED);
			return zcs_tls.shard;
		}
	}
	zcs_tls.shard = &seg.shards[0];
	zcs_tls.shared = zcs_shared_part;
	zcs_tls.shard_no = 0;
	zcs_tls.owned = 0;
	zcs_tls.others_released[0] = zcs_tls.others_released[1] = 0;
	__atomic_or_fetch(&zcs_shards_used, 1u, __ATOMIC_RELAXED);
	return zcs_tls.shard;
}

void zcs_segment_after_fork(void)
{
	/* The parent's mapping stays valid here but is the parent's to write. */
	zcs_reach_publish(NULL);
	if (seg.hdr)
		munmap(seg.hdr, ZCS_SEGMENT_BYTES);
	seg.hdr = NULL;
	seg.shards = NULL;
	zcs_shared_part = NULL;
	zcs_shards_used = 0;
	seg.state = 0;
	seg.shards_state = 0;
	pthread_mutex_init(&seg.lock, NULL);
	memset(seg.shard_taken, 0, sizeof seg.shard_taken);
	if (seg.key_ok)
		pthread_setspecific(seg.shard_key, NULL);
	zcs_tls.shard = NULL;
	zcs_tls.owned = 0;
}

void zcs_segment_exit(void)
{
	/* No segment made from now on: nobody would mark or remove it. */
	pthread_mutex_lock(&seg.lock);
	if (seg.state == 0)
		__atomic_store_n(&seg.state, 2, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&seg.lock);
	struct zcs_header *h = seg.hdr;
	if (!h)
		return;
	h->exit_unix_ns = wall_ns();
	__atomic_store_n(&h->state, ZCS_STATE_EXITED, __ATOMIC_RELEASE);
	if (!seg.cfg.keep)
		shm_unlink(seg.name);
	/* Not unmapped: libzmq's threads may still run ffns and record. */
}

uint16_t zcs_cell_alloc(unsigned slot, unsigned op, unsigned path, unsigned size_class)
{
	struct zcs_shared *sh = zcs_shared_part;
	uint16_t other = zcs_other_cell(op, path, size_class);
	if (slot == ZCS_SLOT_OTHER)
		return other; /* filled in at creation; not reached */
	uint32_t used = __atomic_load_n(&sh->cells_used, __ATOMIC_RELAXED);
	while (used < ZCS_NPOOL_CELLS) {
		if (!__atomic_compare_exchange_n(&sh->cells_used, &used, used + 1, 1,
						 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			continue;
		/* A thread that loses this race wastes the cell it took: rare,
		 * and nothing is counted in it. */
		uint16_t n = (uint16_t)(1 + ZCS_NOTHER_CELLS + used), expect = 0;
		return __atomic_compare_exchange_n(&sh->cell_index[slot][op][path][size_class],
						   &expect, n, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)
			       ? n
			       : expect;
	}
	/* Pool used up: this call goes to "other", and so will the next one of
	 * this series (its index entry stays 0, which a reader takes as "no
	 * cell": pointing it at other's cell would count the calls twice). */
	__atomic_fetch_add(&sh->cells_short, 1, __ATOMIC_RELAXED);
	return other;
}
