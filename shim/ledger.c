/*
 * ledger.c - the per-user list of segments that keeps /dev/shm bounded
 * (see ledger.h). Runs at segment creation and at exit, never per call.
 *
 * The file is "zcshim.ledger.<user namespace inode>.<uid>" in /dev/shm:
 * the user namespace is in the name because a container's root and the
 * host's root are both uid 0 to themselves. A segment is listed in the
 * ledger of the uid that owns its file, and moves with it when a daemon
 * started as root gives it to the user it becomes (creds.c), so that
 * user's starts prune it. A ledger is used only if it is a regular file of
 * that uid with one link; it is changed only under flock, which is waited
 * for a few milliseconds at most (a holder that is stopped must not stop
 * us). Whatever goes wrong, the process goes on; only the bound suffers.
 */
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "procid.h"

#define LEDGER_MAGIC  UINT64_C(0x7265676465736367) /* "gcsedger": any fixed word */
#define LEDGER_SLOTS  127
#define E_FINISHED    0x1u
#define E_CALLS       0x2u
#define ZCS_LEDGER_WAIT_NS 4000000u /* longest wait for the lock, per use */

struct entry {
	uint64_t pidns;
	uint64_t start_ticks;
	int32_t pid;
	uint32_t seq;
	uint32_t flags;
	uint32_t reserved;
};

struct ledger {
	uint64_t magic;
	uint32_t n;               /* entries in use, oldest first */
	uint32_t reserved[5];
	struct entry e[LEDGER_SLOTS];
};
_Static_assert(sizeof(struct ledger) == 4096, "one page");

static void seg_path(const struct entry *e, char *buf, size_t len)
{
	struct zcs_ident id = { e->pidns, e->pid, e->start_ticks, e->seq };
	char name[96];
	zcs_name_make(&id, name, sizeof name);
	snprintf(buf, len, ZCS_SHM_DIR "/%s", name);
}

/* The user namespace, read once: at exit /proc may be gone, or be one of
 * another PID namespace where /proc/self is not us ("unshare -p
 * --mount-proc" leaves its parent so), and the ledger must not change. */
static uint64_t user_ns(void)
{
	static uint64_t ino;
	static int known;
	if (!__atomic_load_n(&known, __ATOMIC_ACQUIRE)) {
		ino = zcs_ns_inode("/proc/self/ns/user");
		__atomic_store_n(&known, 1, __ATOMIC_RELEASE);
	}
	return ino;
}

/* ledger_open() failed: for now (lock held too long, no room, no
 * descriptor), or for good (its name is taken by a file not ours to use). */
#define LEDGER_BUSY    (-1)
#define LEDGER_FOREIGN (-2)

/* Open, check and lock uid's ledger; a descriptor, LEDGER_BUSY or
 * LEDGER_FOREIGN. Another user's ledger only as root (a setuid daemon's
 * segment changing hands), and then it is made for that user if missing. */
static int ledger_open(struct ledger *l, uid_t uid)
{
	char path[128];
	uid_t me = geteuid();
	if (me != uid && me != 0)
		return LEDGER_FOREIGN;
	snprintf(path, sizeof path, ZCS_SHM_DIR "/" ZCS_SHM_PREFIX "ledger.%llu.%u",
		 (unsigned long long)user_ns(), (unsigned)uid);
	/* not O_CREAT on an existing file: with fs.protected_regular even root
	 * may not open another user's file that way in the sticky /dev/shm */
	int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	int fd = open(path, flags);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, flags | O_CREAT | O_EXCL, 0600);
		if (fd >= 0 && uid != me && fchown(fd, uid, (gid_t)-1) != 0) {
			unlink(path); /* a uid this user namespace does not map */
			close(fd);
			return LEDGER_FOREIGN;
		}
		if (fd < 0 && errno == EEXIST)
			fd = open(path, flags);
	}
	if (fd < 0) /* ELOOP: a symlink; EACCES: another user's file */
		return errno == ELOOP || errno == EACCES || errno == EPERM || errno == ENXIO
			       ? LEDGER_FOREIGN : LEDGER_BUSY;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return LEDGER_BUSY;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != uid || st.st_nlink != 1 ||
	    (st.st_size != 0 && st.st_size != sizeof *l)) {
		close(fd);
		return LEDGER_FOREIGN;
	}
	/* a few ms at most, by the clock (a sleep of 0.2 ms can take more):
	 * the holder only does what we are about to do, in microseconds, so
	 * longer means it is stopped, and we go on without */
	uint64_t deadline_ns = 0;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t now_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		if (!deadline_ns)
			deadline_ns = now_ns + ZCS_LEDGER_WAIT_NS;
		if (errno != EWOULDBLOCK || now_ns >= deadline_ns) {
			close(fd);
			return LEDGER_BUSY;
		}
		ts = (struct timespec){ 0, 200000 };
		nanosleep(&ts, NULL);
	}
	memset(l, 0, sizeof *l);
	if (pread(fd, l, sizeof *l, 0) != (ssize_t)sizeof *l || l->magic != LEDGER_MAGIC ||
	    l->n > LEDGER_SLOTS) {
		memset(l, 0, sizeof *l); /* new, or not ours to believe: start afresh */
		l->magic = LEDGER_MAGIC;
	}
	return fd;
}

static void ledger_close(int fd, const struct ledger *l)
{
	ssize_t w = pwrite(fd, l, sizeof *l, 0);
	(void)w; /* a short write leaves a ledger the next reader starts afresh */
	close(fd); /* drops the lock */
}

static void drop(struct ledger *l, uint32_t i)
{
	memmove(&l->e[i], &l->e[i + 1], (l->n - i - 1) * sizeof l->e[0]);
	l->n--;
}

static int same(const struct entry *e, const struct zcs_ident *id)
{
	return e->pidns == id->pidns && e->pid == id->pid && e->start_ticks == id->start_ticks &&
	       e->seq == id->seq;
}

static int find(const struct ledger *l, const struct zcs_ident *id)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (same(&l->e[i], id))
			return (int)i;
	return -1;
}

static void append(struct ledger *l, const struct zcs_ident *id, uint32_t flags)
{
	if (l->n == LEDGER_SLOTS)
		drop(l, 0); /* all running: forget the oldest (zcshim-stat --clean finds it) */
	struct entry *e = &l->e[l->n++];
	memset(e, 0, sizeof *e);
	e->pidns = id->pidns;
	e->pid = id->pid;
	e->start_ticks = id->start_ticks;
	e->seq = id->seq;
	e->flags = flags;
}

/* Remove what is proven finished beyond the newest ZCS_KEEP_FINISHED of each
 * kind; forget entries whose segment is gone. uid owns the ledger; my_pidns
 * is the caller's PID namespace: only processes of that one can be judged
 * (procid.h), whatever /proc shows. */
static void prune(struct ledger *l, uid_t uid, uint64_t my_pidns)
{
	int proc_ours = my_pidns && zcs_proc_is_ours();
	unsigned char finished[LEDGER_SLOTS] = { 0 }, calls[LEDGER_SLOTS] = { 0 };
	unsigned kept[2] = { 0, 0 };
	for (uint32_t i = l->n; i-- > 0;) { /* newest first */
		struct entry *e = &l->e[i];
		char path[128];
		struct stat st;
		seg_path(e, path, sizeof path);
		if (lstat(path, &st) != 0) {
			if (errno == ENOENT)
				finished[i] = 2; /* gone: forget */
			continue;
		}
		if (!S_ISREG(st.st_mode) || st.st_uid != uid)
			continue; /* not ours any more (replaced): leave it */
		if (e->flags & E_FINISHED)
			finished[i] = 1;
		else if (my_pidns && e->pidns == my_pidns)
			finished[i] = zcs_proc_fate(e->pid, e->start_ticks, proc_ours) ==
				      ZCS_PROC_GONE;
		calls[i] = (e->flags & E_CALLS) ||
			   (uint64_t)st.st_blocks * 512 > ZCS_BASE_BYTES;
		if (finished[i] == 1 && ++kept[calls[i]] <= ZCS_KEEP_FINISHED)
			finished[i] = 0; /* one of the newest: keep */
	}
	for (uint32_t i = l->n; i-- > 0;) {
		if (!finished[i])
			continue;
		if (finished[i] == 1) {
			char path[128];
			seg_path(&l->e[i], path, sizeof path);
			unlink(path);
		}
		drop(l, i);
	}
}

int zcs_ledger_add(const struct zcs_ident *id, uid_t owner)
{
	struct ledger l;
	int fd = ledger_open(&l, owner);
	if (fd < 0)
		return fd == LEDGER_FOREIGN ? -1 : 1;
	prune(&l, owner, id->pidns);
	append(&l, id, 0);
	ledger_close(fd, &l);
	return 0;
}

int zcs_ledger_move(const struct zcs_ident *id, uid_t from, uid_t to)
{
	struct ledger l;
	uint32_t flags = 0;
	int fd = ledger_open(&l, from);
	if (fd >= 0) {
		int i = find(&l, id);
		if (i >= 0) {
			flags = l.e[i].flags;
			drop(&l, (uint32_t)i);
		}
		ledger_close(fd, &l);
	}
	fd = ledger_open(&l, to);
	if (fd < 0) /* busy: the new owner's ledger gets it at exit */
		return fd == LEDGER_FOREIGN ? -1 : 1;
	if (find(&l, id) < 0)
		append(&l, id, flags);
	ledger_close(fd, &l);
	return 0;
}

void zcs_ledger_finish(const struct zcs_ident *id, uid_t owner, int has_calls, int removed)
{
	struct ledger l;
	int fd = ledger_open(&l, owner);
	if (fd < 0)
		return;
	/* Out of its place in start order, and, unless removed, back in as
	 * the newest: the newest finished are kept, and a daemon that ends
	 * after a hundred short runs that began after it is one of them.
	 * Not listed (the ledger was busy at start, or forgot it): listed now. */
	int i = find(&l, id);
	if (i >= 0)
		drop(&l, (uint32_t)i);
	if (!removed)
		append(&l, id, E_FINISHED | (has_calls ? E_CALLS : 0));
	prune(&l, owner, id->pidns);
	ledger_close(fd, &l);
}
