/*
 * segment.c - create, publish and retire this process's shared-memory segment,
 * and hand out its per-thread shards.
 *
 * The segment is made lazily, by the first thread that records, so a process
 * that loads the shim through an inherited LD_PRELOAD but never calls libzmq
 * (a shell, ls, make) leaves nothing in /dev/shm. Space is reserved with
 * posix_fallocate before the first write: on a full tmpfs, touching a page of
 * a sparse mapping raises SIGBUS in the host, which is exactly what a shim
 * must never do. If anything fails the shim records nothing, warns once and
 * keeps converting or passing calls through.
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
#include "segname.h"
#include "record.h"
#include "warn.h"
#include "zcshim_segment.h"

__thread struct zcs_tls zcs_tls __attribute__((tls_model("initial-exec")));

static struct {
	pthread_mutex_t lock;    /* guards creation only, never the hot path */
	int state;               /* 0 not yet, 1 ready, 2 failed */
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
	zcs_tls.owned = 0;
}

void zcs_segment_configure(const struct zcs_config *cfg, uint32_t libzmq_version,
			   uint32_t flags)
{
	seg.cfg = *cfg;
	seg.libzmq_version = libzmq_version;
	seg.flags = flags;
	seg.key_ok = pthread_key_create(&seg.shard_key, release_shard) == 0;
}

/* "<what> <object>: <why>; ..." as the process's one warning line. */
static void fail(const char *what, const char *object, int err)
{
	char line[256];
	snprintf(line, sizeof line, "%s %s: %s; not recording (conversion unaffected)",
		 what, object, strerror(err));
	zcs_warn_once(line);
	__atomic_store_n(&seg.state, 2, __ATOMIC_RELEASE);
}

/* Segments outlive their processes (ZCSHIM_KEEP=1) so zcshim-stat works
 * after a short run; without a bound, a machine running many short zmq
 * processes would fill /dev/shm (Docker gives it 64 MiB) and starve other
 * programs. So before making its own, a process removes this user's
 * finished segments beyond the newest ZCS_KEEP_FINISHED. Finished: the
 * process named by the segment's pid and start time is gone. Once per
 * process, off the hot path. */
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

static void remove_old_finished(void)
{
	DIR *d = opendir(ZCS_SHM_DIR);
	if (!d)
		return;
	struct finished found[256]; /* beyond this many, the rest wait their turn */
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < sizeof found / sizeof found[0]) {
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
		found[n].start = start;
		found[n].pid = pid;
		snprintf(found[n].name, sizeof found[n].name, "%s", e->d_name);
		n++;
	}
	if (n > ZCS_KEEP_FINISHED - 1) {
		qsort(found, n, sizeof found[0], older_first);
		for (size_t i = 0; i + (ZCS_KEEP_FINISHED - 1) < n; i++)
			unlinkat(dirfd(d), found[i].name, 0);
	}
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
	if (seg.cfg.keep)
		remove_old_finished();
	pid_t pid = getpid();
	uint64_t start = zcs_proc_start_ticks("/proc/self/stat");
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
	int err = posix_fallocate(fd, 0, (off_t)ZCS_SEGMENT_BYTES);
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
	h->tsc_hz = zcs_clock.hz;
	h->clock = zcs_clock.use_tsc ? ZCS_CLOCK_TSC : ZCS_CLOCK_MONOTONIC;
	h->libzmq_version = seg.libzmq_version;
	h->flags = seg.flags;
	snprintf(h->exe, sizeof h->exe, "%s", program_invocation_short_name);

	seg.shards = (struct zcs_shard *)((char *)p + ZCS_SHARDS_OFFSET);
	seg.hdr = h;
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

static struct zcs_shard *claim(void)
{
	int state = __atomic_load_n(&seg.state, __ATOMIC_ACQUIRE);
	if (state == 2)
		return NULL;
	if (state == 0) {
		pthread_mutex_lock(&seg.lock);
		if (seg.state == 0)
			create();
		pthread_mutex_unlock(&seg.lock);
		if (__atomic_load_n(&seg.state, __ATOMIC_ACQUIRE) != 1)
			return NULL;
	}
	for (int i = 1; i < ZCS_NSHARDS && seg.key_ok; i++) {
		int expect = 0;
		if (__atomic_compare_exchange_n(&seg.shard_taken[i], &expect, 1, 0,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			pthread_setspecific(seg.shard_key, (void *)(intptr_t)(i + 1));
			zcs_tls.shard = &seg.shards[i];
			zcs_tls.owned = 1;
			return zcs_tls.shard;
		}
	}
	zcs_tls.shard = &seg.shards[0];
	zcs_tls.owned = 0;
	return zcs_tls.shard;
}

void zcs_segment_after_fork(void)
{
	/* The parent's mapping stays valid here but is the parent's to write. */
	if (seg.hdr)
		munmap(seg.hdr, ZCS_SEGMENT_BYTES);
	seg.hdr = NULL;
	seg.shards = NULL;
	seg.state = 0;
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
