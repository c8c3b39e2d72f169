/*
 * ledger.c - the per-user list of segments that keeps /dev/shm bounded
 * (see ledger.h). Runs at segment creation and at exit, never per call.
 *
 * The file is "zcshim.ledger.<user namespace inode>.<euid>" in /dev/shm:
 * the user namespace is in the name because a container's root and the
 * host's root are both uid 0 to themselves. It is used only if it is a
 * regular file of ours; it is changed only under flock, which is waited
 * for a few milliseconds at most (a holder that is stopped must not stop
 * us). Whatever goes wrong, the process goes on; only the bound suffers.
 */
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "procid.h"

#define LEDGER_MAGIC  UINT64_C(0x7265676465736367) /* "gcsedger": any fixed word */
#define LEDGER_SLOTS  127
#define E_FINISHED    0x1u
#define E_CALLS       0x2u

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

/* Open, check and lock the ledger; -1 if it cannot be used now. */
static int ledger_open(struct ledger *l)
{
	char path[128];
	snprintf(path, sizeof path, ZCS_SHM_DIR "/" ZCS_SHM_PREFIX "ledger.%llu.%u",
		 (unsigned long long)zcs_ns_inode("/proc/self/ns/user"), (unsigned)geteuid());
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_size != 0 && st.st_size != sizeof *l)) {
		close(fd);
		return -1;
	}
	/* a few ms at most: the holder only does what we are about to do */
	for (int i = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; i++) {
		if (errno != EWOULDBLOCK || i == 50) {
			close(fd);
			return -1;
		}
		struct timespec ts = { 0, 200000 };
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

/* Remove what is proven finished beyond the newest ZCS_KEEP_FINISHED of each
 * kind; forget entries whose segment is gone. */
static void prune(struct ledger *l)
{
	uint64_t my_ns = zcs_ns_inode("/proc/self/ns/pid");
	int judge = my_ns && zcs_proc_is_ours();
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
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue; /* not ours any more (setuid, or replaced): leave it */
		if (e->flags & E_FINISHED) {
			finished[i] = 1;
		} else if (judge && e->pidns == my_ns) {
			char stat_path[64];
			snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", e->pid);
			finished[i] = zcs_proc_start_ticks(stat_path) != e->start_ticks;
		}
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

void zcs_ledger_add(const struct zcs_ident *id)
{
	struct ledger l;
	int fd = ledger_open(&l);
	if (fd < 0)
		return;
	prune(&l);
	if (l.n == LEDGER_SLOTS)
		drop(&l, 0); /* all running: forget the oldest (zcshim-stat --clean finds it) */
	struct entry *e = &l.e[l.n++];
	memset(e, 0, sizeof *e);
	e->pidns = id->pidns;
	e->pid = id->pid;
	e->start_ticks = id->start_ticks;
	e->seq = id->seq;
	ledger_close(fd, &l);
}

void zcs_ledger_finish(const struct zcs_ident *id, int has_calls, int removed)
{
	struct ledger l;
	int fd = ledger_open(&l);
	if (fd < 0)
		return;
	for (uint32_t i = 0; i < l.n; i++) {
		if (!same(&l.e[i], id))
			continue;
		/* newest is what finished last: a long run that just ended
		 * must not be the first to go because it started early */
		struct entry e = l.e[i];
		drop(&l, i);
		if (!removed) {
			e.flags |= E_FINISHED | (has_calls ? E_CALLS : 0);
			l.e[l.n++] = e;
		}
		break;
	}
	prune(&l);
	ledger_close(fd, &l);
}
