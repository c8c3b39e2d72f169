/*
 * segread.c - find, copy, validate and sum zcshim segments (see segread.h).
 */
#include "segread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "histo.h"
#include "procstart.h"
#include "segname.h"

#define ERR(...) (snprintf(err, err_len, __VA_ARGS__), -1)

/* Largest file we will read: a valid segment is ZCS_SEGMENT_BYTES. */
#define MAX_READ (ZCS_SEGMENT_BYTES + (1u << 20))

static const char *shm_dir = ZCS_SHM_DIR;

void zcs_set_dir(const char *dir)
{
	shm_dir = dir && *dir ? dir : ZCS_SHM_DIR;
}

const char *zcs_dir(void)
{
	return shm_dir;
}

const char *zcs_live_name(unsigned live)
{
	static const char *const names[] = { "starting", "running", "exited", "dead",
					     "replaced" };
	return live <= ZCS_LIVE_REPLACED ? names[live] : "?";
}

int zcs_parse_name(const char *name, struct zcs_name *out)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	int pid;
	uint64_t start;
	uint32_t seq;
	if (zcs_name_fields(base, &pid, &start, &seq) != 0)
		return -1;
	if (slash)
		snprintf(out->path, sizeof out->path, "%s", name);
	else
		snprintf(out->path, sizeof out->path, "%s/%s", shm_dir, name);
	out->pid = pid;
	out->start_ticks = start;
	out->seq = seq;
	return 0;
}

/* No control bytes: names and endpoints go to terminals. */
static void printable(char *str, size_t len)
{
	str[len - 1] = '\0';
	for (char *c = str; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

/* Check the shared part copied into sh: every index entry a cell number
 * below ZCS_NCELLS that no other key uses, table sockets' from the pool; a
 * known state per row. Slot 0's entries are fixed by the layout and row 0
 * is never written, so both are set here rather than believed. */
static int check_shared(struct zcs_shared *sh, char *err, size_t err_len)
{
	unsigned char taken[ZCS_NCELLS] = { 0 };
	memset(&sh->sockets[0], 0, sizeof sh->sockets[0]);
	for (unsigned op = 0; op < ZCS_NOPS; op++)
		for (unsigned p = 0; p < ZCS_NPATHS; p++)
			for (unsigned k = 0; k < ZCS_NSIZES; k++)
				sh->cell_index[0][op][p][k] = zcs_other_cell(op, p, k);
	for (unsigned slot = 1; slot < ZCS_NSLOTS; slot++) {
		struct zcs_socket *row = &sh->sockets[slot];
		if (row->state > ZCS_SOCK_CLOSED)
			return ERR("corrupt: socket %u in state %u", slot, row->state);
		printable(row->endpoints, sizeof row->endpoints);
		const uint16_t *idx = &sh->cell_index[slot][0][0][0];
		for (size_t i = 0; i < (size_t)ZCS_NOPS * ZCS_NPATHS * ZCS_NSIZES; i++) {
			unsigned c = idx[i];
			if (!c)
				continue;
			if (c <= ZCS_NOTHER_CELLS || c >= ZCS_NCELLS || taken[c])
				return ERR("corrupt: socket %u's cell index holds %u (%s)", slot, c,
					   c >= ZCS_NCELLS ? "beyond the cells"
					   : c <= ZCS_NOTHER_CELLS ? "one of other's cells"
								   : "used twice");
			taken[c] = 1;
		}
	}
	return 0;
}

/* dst[i] += the i-th uint64_t at src (which may be unaligned), for bytes/8 words. */
static void add_words(uint64_t *dst, const unsigned char *src, size_t bytes)
{
	for (size_t i = 0; i < bytes / sizeof(uint64_t); i++) {
		uint64_t v;
		memcpy(&v, src + i * sizeof v, sizeof v);
		dst[i] += v;
	}
}

int zcs_parse(const void *buf, size_t len, struct zcs_snapshot *out,
	      char *err, size_t err_len)
{
	struct zcs_header h;
	if (len < sizeof h)
		return ERR("truncated: %zu bytes, a header needs %zu", len, sizeof h);
	memcpy(&h, buf, sizeof h);
	if (h.magic != ZCS_MAGIC)
		return ERR("not a zcshim segment (bad magic)");
	_Static_assert(ZCS_STATE_INIT == 0, "a fresh segment's state is INIT");
	if (h.state == ZCS_STATE_INIT && h.layout_version == ZCS_LAYOUT_VERSION) {
		/* being created: nothing but the magic can be trusted yet */
		memset(&out->hdr, 0, sizeof out->hdr);
		memset(&out->shared, 0, sizeof out->shared);
		memset(&out->sum, 0, sizeof out->sum);
		out->hdr.layout_version = ZCS_LAYOUT_VERSION;
		out->live = ZCS_LIVE_STARTING;
		return 0;
	}
	if (h.layout_version != ZCS_LAYOUT_VERSION)
		return ERR("layout version %u, this zcshim-stat reads version %u",
			   h.layout_version, ZCS_LAYOUT_VERSION);
	if (h.header_bytes != sizeof h || h.layout_hash != ZCS_LAYOUT_HASH ||
	    h.shared_bytes != sizeof(struct zcs_shared) ||
	    h.shard_bytes != sizeof(struct zcs_shard) || h.nshards != ZCS_NSHARDS)
		return ERR("layout does not match version %u (header %u B, shared %llu B, "
			   "shard %llu B, %u shards)",
			   ZCS_LAYOUT_VERSION, h.header_bytes, (unsigned long long)h.shared_bytes,
			   (unsigned long long)h.shard_bytes, h.nshards);
	/* header, shared part, shards: in this order, apart, inside the segment */
	if (h.shared_offset < sizeof h || h.shared_offset % 8 ||
	    h.shared_offset > h.segment_bytes ||
	    h.segment_bytes - h.shared_offset < h.shared_bytes)
		return ERR("corrupt: shared part at offset %llu does not fit in %llu bytes",
			   (unsigned long long)h.shared_offset,
			   (unsigned long long)h.segment_bytes);
	if (h.shards_offset < h.shared_offset + h.shared_bytes || h.shards_offset % 8 ||
	    h.shards_offset > h.segment_bytes ||
	    (h.segment_bytes - h.shards_offset) / h.shard_bytes < h.nshards)
		return ERR("corrupt: shards at offset %llu do not fit in %llu bytes",
			   (unsigned long long)h.shards_offset,
			   (unsigned long long)h.segment_bytes);
	/* Without calls the shards are not read, so need not be there. */
	int calls_seen = (h.flags & ZCS_F_CALLS_SEEN) != 0;
	uint64_t need = calls_seen ? h.segment_bytes : h.shared_offset + h.shared_bytes;
	if (need > len)
		return ERR("truncated: header says %llu bytes, only %zu read",
			   (unsigned long long)need, len);
	if (h.state > ZCS_STATE_EXITED || h.mode > ZCS_MODE_OFF || h.pid <= 0 ||
	    h.sample_every == 0)
		return ERR("corrupt: state %u, mode %u, pid %d, sample %u", h.state, h.mode,
			   h.pid, h.sample_every);
	if (h.reach_why >= ZCS_NWHY || h.reach_how >= ZCS_NHOW || (h.reach_ways & ~ZCS_WAY_ALL))
		return ERR("corrupt: reach why %u, how %u, ways %#x", h.reach_why, h.reach_how,
			   h.reach_ways);
	printable(h.exe, sizeof h.exe);
	printable(h.reach_libzmq, sizeof h.reach_libzmq);
	printable(h.reach_object, sizeof h.reach_object);
	memcpy(&out->shared, (const unsigned char *)buf + h.shared_offset, sizeof out->shared);
	if (check_shared(&out->shared, err, err_len) != 0)
		return -1;

	out->hdr = h;
	out->live = h.state == ZCS_STATE_INIT	     ? ZCS_LIVE_STARTING
		    : h.state == ZCS_STATE_RUNNING ? ZCS_LIVE_RUNNING
						   : ZCS_LIVE_EXITED;
	/* Every field of a shard is a uint64_t counter: add them as arrays, the
	 * fields before the cells word by word, a cell only if its count is not
	 * 0 in that shard (the writer counts every time it writes a cell; most
	 * of the 1,325 cells are never used). */
	_Static_assert(sizeof(struct zcs_shard) % sizeof(uint64_t) == 0, "shard of u64");
	_Static_assert(sizeof(struct zcs_cell) % sizeof(uint64_t) == 0, "cell of u64");
	memset(&out->sum, 0, sizeof out->sum);
	for (uint32_t s = 0; calls_seen && s < h.nshards; s++) {
		const unsigned char *shard =
			(const unsigned char *)buf + h.shards_offset + s * h.shard_bytes;
		add_words((uint64_t *)&out->sum, shard, offsetof(struct zcs_shard, cell));
		for (size_t c = 0; c < ZCS_NCELLS; c++) {
			const unsigned char *cell =
				shard + offsetof(struct zcs_shard, cell) + c * sizeof(struct zcs_cell);
			uint64_t count;
			memcpy(&count, cell + offsetof(struct zcs_cell, count), sizeof count);
			if (count)
				add_words((uint64_t *)&out->sum.cell[c], cell, sizeof(struct zcs_cell));
		}
	}
	return 0;
}

static unsigned liveness(const struct zcs_snapshot *s)
{
	if (s->live != ZCS_LIVE_RUNNING)
		return s->live;
	const struct zcs_header *h = &s->hdr;
	/* exec() keeps pid and start time but skips exit handlers: the new
	 * image made the next seq, beside this one, which was never marked exited. */
	char path[PATH_MAX];
	struct stat st;
	const char *slash = strrchr(s->path, '/');
	int dir_len = slash ? (int)(slash - s->path) : 1;
	snprintf(path, sizeof path, "%.*s/" ZCS_SHM_PREFIX "%d.%llu.%u", dir_len,
		 slash ? s->path : ".", h->pid, (unsigned long long)h->start_ticks, h->seq + 1);
	/* only a file the same user could have made: /dev/shm is anyone's */
	if (h->seq < UINT32_MAX - 1 && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid())
		return ZCS_LIVE_REPLACED;
	snprintf(path, sizeof path, "/proc/%d/stat", h->pid);
	int alive = kill(h->pid, 0) == 0 || errno == EPERM;
	if (!alive || zcs_proc_start_ticks(path) != h->start_ticks)
		return ZCS_LIVE_DEAD;
	return ZCS_LIVE_RUNNING;
}

struct zcs_snapshot *zcs_snapshot_new(void)
{
	return calloc(1, sizeof(struct zcs_snapshot));
}

void zcs_snapshot_free(struct zcs_snapshot *s)
{
	free(s);
}

int zcs_read(const char *path, struct zcs_snapshot *out, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return ERR("%s: %s", path, errno == ELOOP ? "is a symlink; not followed"
							   : strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ERR("%s: not a regular file", path);
	}
	/* Even root: a segment is another user's input, and the shim writes
	 * its segments with its own uid, so the app's user can always read. */
	if (st.st_uid != geteuid()) {
		close(fd);
		return ERR("%s: owned by uid %u, not by you (uid %u); run zcshim-stat as that user",
			   path, (unsigned)st.st_uid, (unsigned)geteuid());
	}
	size_t want = (size_t)st.st_size < MAX_READ ? (size_t)st.st_size : MAX_READ;
	unsigned char *buf = malloc(want ? want : 1);
	if (!buf) {
		close(fd);
		return ERR("%s: out of memory", path);
	}
	size_t got = 0;
	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* shrank while we read: parse what we have */
		got += (size_t)n;
	}
	close(fd);
	char why[200];
	int rc = zcs_parse(buf, got, out, why, sizeof why);
	free(buf);
	if (rc != 0)
		return ERR("%s: %s", path, why);
	snprintf(out->path, sizeof out->path, "%s", path);
	out->live = liveness(out);
	return 0;
}

static int newer_first(const void *a, const void *b)
{
	const struct zcs_name *x = a, *y = b;
	if (x->start_ticks != y->start_ticks)
		return x->start_ticks < y->start_ticks ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int zcs_list(struct zcs_name **names, size_t *n, char *err, size_t err_len)
{
	DIR *d = opendir(shm_dir);
	*names = NULL;
	*n = 0;
	if (!d)
		return ERR("%s: %s", shm_dir, strerror(errno));
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		struct zcs_name nm;
		if (zcs_parse_name(e->d_name, &nm) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct zcs_name *grown = realloc(*names, cap * sizeof **names);
			if (!grown) {
				closedir(d);
				return ERR("out of memory");
			}
			*names = grown;
		}
		(*names)[(*n)++] = nm;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof **names, newer_first);
	return 0;
}

int zcs_find(const char *key, struct zcs_snapshot *out, char *err, size_t err_len)
{
	struct zcs_name *names;
	size_t n;
	if (zcs_list(&names, &n, err, err_len) != 0)
		return -1;
	char *end;
	long pid = strtol(key, &end, 10);
	int by_pid = *key && !*end;
	char why[300] = "";
	int rc = -1;
	/* Newest first: the live process of a recycled pid wins. */
	for (size_t i = n; i-- > 0 && rc != 0;) {
		if (by_pid && names[i].pid != pid)
			continue;
		if (zcs_read(names[i].path, out, why, sizeof why) != 0)
			continue; /* e.g. a file someone else put there: try older */
		if (by_pid || strcmp(out->hdr.exe, key) == 0)
			rc = 0;
	}
	free(names);
	if (rc != 0) {
		if (why[0] && by_pid)
			return ERR("%s", why);
		return ERR("no zcshim segment for %s %s in %s", by_pid ? "pid" : "program",
			   key, shm_dir);
	}
	return 0;
}

uint64_t zcs_cell_timed(const struct zcs_cell *c)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < ZCS_NBUCKETS; i++)
		n += c->buckets[i];
	return n;
}

uint64_t zcs_cell_quantile_ns(const struct zcs_cell *c, double q)
{
	uint64_t total = zcs_cell_timed(c);
	if (!total)
		return 0;
	/* the smallest bucket whose cumulative count reaches q of the total */
	uint64_t rank = (uint64_t)(q * (double)total + 0.5);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < ZCS_NBUCKETS; i++) {
		seen += c->buckets[i];
		if (seen >= rank)
			return zcs_bucket_hi(i);
	}
	return zcs_bucket_hi(ZCS_NBUCKETS - 1);
}

uint64_t zcs_cell_max_ns(const struct zcs_cell *c)
{
	for (unsigned i = ZCS_NBUCKETS; i-- > 0;)
		if (c->buckets[i])
			return zcs_bucket_hi(i);
	return 0;
}

double zcs_cell_mid_mean_ns(const struct zcs_cell *c, double lo_q, double hi_q)
{
	uint64_t total = zcs_cell_timed(c);
	if (!total || !(hi_q > lo_q))
		return 0;
	double lo_rank = lo_q * (double)total, hi_rank = hi_q * (double)total;
	double sum = 0, weight = 0, seen = 0;
	for (unsigned i = 0; i < ZCS_NBUCKETS; i++) {
		if (!c->buckets[i])
			continue;
		double from = seen, to = seen + (double)c->buckets[i];
		seen = to;
		double a = from > lo_rank ? from : lo_rank, b = to < hi_rank ? to : hi_rank;
		if (b <= a)
			continue;
		uint64_t lo = zcs_bucket_lo(i), hi = zcs_bucket_hi(i);
		/* a bucket holds lo..hi-1 ns; the open last one only its start */
		double mid = hi == UINT64_MAX ? (double)lo : ((double)lo + (double)(hi - 1)) / 2;
		sum += (b - a) * mid;
		weight += b - a;
	}
	return weight > 0 ? sum / weight : 0;
}

int zcs_calls_seen(const struct zcs_snapshot *s)
{
	return (s->hdr.flags & ZCS_F_CALLS_SEEN) != 0;
}

const struct zcs_cell *zcs_cell_at(const struct zcs_snapshot *s, unsigned slot, unsigned op,
				   unsigned path, unsigned size_class)
{
	if (slot >= ZCS_NSLOTS || op >= ZCS_NOPS || path >= ZCS_NPATHS ||
	    size_class >= ZCS_NSIZES)
		return NULL;
	unsigned c = s->shared.cell_index[slot][op][path][size_class];
	return c && c < ZCS_NCELLS ? &s->sum.cell[c] : NULL; /* checked by zcs_parse */
}

unsigned zcs_slot_at(unsigned i)
{
	return (i + 1) % ZCS_NSLOTS;
}

/* Add the cells of slots [slot_lo, slot_hi) and sizes [k_lo, k_hi) of op x
 * path into out; its count. */
static uint64_t merge(const struct zcs_snapshot *s, unsigned slot_lo, unsigned slot_hi,
		      unsigned op, unsigned path, unsigned k_lo, unsigned k_hi,
		      struct zcs_cell *out)
{
	memset(out, 0, sizeof *out);
	for (unsigned slot = slot_lo; slot < slot_hi; slot++)
		for (unsigned k = k_lo; k < k_hi; k++) {
			const struct zcs_cell *c = zcs_cell_at(s, slot, op, path, k);
			if (c && c->count)
				zcs_cell_add(out, c);
		}
	return out->count;
}

uint64_t zcs_cell_by_size(const struct zcs_snapshot *s, unsigned op, unsigned path,
			  unsigned size_class, struct zcs_cell *out)
{
	return merge(s, 0, ZCS_NSLOTS, op, path, size_class, size_class + 1, out);
}

int zcs_series_next_by(const struct zcs_snapshot *s, unsigned by, size_t *it,
		       struct zcs_series *out)
{
	/* the key's last dimension varies fastest; merged ones are left out */
	const size_t nslots = by == ZCS_BY_SIZE ? 1 : ZCS_NSLOTS;
	const size_t nsizes = by == ZCS_BY_SOCKET ? 1 : ZCS_NSIZES;
	const size_t n = nslots * ZCS_NOPS * ZCS_NPATHS * nsizes;
	for (; *it < n; (*it)++) {
		size_t i = *it;
		unsigned k = (unsigned)(i % nsizes);
		unsigned p = (unsigned)(i / nsizes % ZCS_NPATHS);
		unsigned op = (unsigned)(i / nsizes / ZCS_NPATHS % ZCS_NOPS);
		unsigned slot = zcs_slot_at((unsigned)(i / nsizes / ZCS_NPATHS / ZCS_NOPS));
		const struct zcs_cell *c;
		if (by == ZCS_BY_BOTH) {
			c = zcs_cell_at(s, slot, op, p, k);
		} else if (by == ZCS_BY_SOCKET) {
			k = ZCS_ALL;
			c = merge(s, slot, slot + 1, op, p, 0, ZCS_NSIZES, &out->merged)
				    ? &out->merged : NULL;
		} else {
			slot = ZCS_ALL;
			c = merge(s, 0, ZCS_NSLOTS, op, p, k, k + 1, &out->merged) ? &out->merged
										   : NULL;
		}
		if (c && c->count) {
			out->slot = slot;
			out->op = op;
			out->path = p;
			out->size_class = k;
			out->cell = c;
			(*it)++;
			return 1;
		}
	}
	return 0;
}

int zcs_series_next(const struct zcs_snapshot *s, size_t *it, struct zcs_series *out)
{
	return zcs_series_next_by(s, ZCS_BY_SIZE, it, out);
}

int zcs_slot_used(const struct zcs_snapshot *s, unsigned slot)
{
	if (slot >= ZCS_NSLOTS)
		return 0;
	const uint64_t *f = &s->sum.failed[slot][0][0];
	for (size_t i = 0; i < (size_t)ZCS_NCALL_OPS * ZCS_NERRS; i++)
		if (f[i])
			return 1;
	const uint16_t *idx = &s->shared.cell_index[slot][0][0][0];
	for (size_t i = 0; i < (size_t)ZCS_NOPS * ZCS_NPATHS * ZCS_NSIZES; i++)
		if (idx[i] && s->sum.cell[idx[i]].count)
			return 1;
	return 0;
}

uint64_t zcs_sockets_beyond(const struct zcs_snapshot *s)
{
	/* rows are given out in order and never reused: the table fills first */
	uint32_t seen = s->shared.sockets_seen;
	return seen > ZCS_NSOCKETS ? seen - ZCS_NSOCKETS : 0;
}

const char *zcs_sock_state_name(const struct zcs_socket *row)
{
	if (row->seq % 2)
		return "unknown"; /* caught while written */
	return row->state == ZCS_SOCK_OPEN ? "open"
	       : row->state == ZCS_SOCK_CLOSED ? "closed" : "unknown";
}

uint64_t zcs_failed_op(const struct zcs_snapshot *s, unsigned op)
{
	uint64_t n = 0;
	for (unsigned slot = 0; op < ZCS_NCALL_OPS && slot < ZCS_NSLOTS; slot++)
		for (unsigned e = 0; e < ZCS_NERRS; e++)
			n += s->sum.failed[slot][op][e];
	return n;
}

uint64_t zcs_ticks_unix_ns(const struct zcs_snapshot *s, uint64_t ticks)
{
	uint64_t hz = s->hdr.tsc_hz, start = s->shared.start_clock_ticks;
	if (!ticks || !hz || ticks < start)
		return 0;
	/* 128 bits: a day of a 3 GHz clock times 1e9 is past 2^64 */
	unsigned __int128 ns = (unsigned __int128)(ticks - start) * 1000000000u / hz;
	ns += s->hdr.start_unix_ns;
	return ns > UINT64_MAX ? 0 : (uint64_t)ns;
}

uint64_t zcs_messages(const struct zcs_snapshot *s)
{
	uint64_t n = 0;
	struct zcs_series x;
	for (size_t it = 0; zcs_series_next_by(s, ZCS_BY_BOTH, &it, &x);)
		if (x.op == ZCS_OP_SEND || x.op == ZCS_OP_MSG_SEND || x.op == ZCS_OP_SENDMSG ||
		    x.op == ZCS_OP_SEND_CONST)
			n += x.cell->count;
	return n;
}

void zcs_snapshot_sub(struct zcs_snapshot *out, const struct zcs_snapshot *a,
		      const struct zcs_snapshot *b)
{
	const uint64_t *x = (const uint64_t *)&a->sum, *y = (const uint64_t *)&b->sum;
	uint64_t *d = (uint64_t *)&out->sum;
	const size_t words = sizeof(struct zcs_shard) / sizeof(uint64_t);
	for (size_t i = 0; i < words; i++)
		d[i] = x[i] > y[i] ? x[i] - y[i] : 0;
	if (out != a) {
		memcpy(out->path, a->path, sizeof out->path);
		out->hdr = a->hdr;
		out->live = a->live;
		out->shared = a->shared;
	}
	/* in shared, only these two count up; the rest are gauges and tables */
	struct zcs_shared *o = &out->shared;
	const struct zcs_shared *bs = &b->shared;
	o->inflight.untracked = o->inflight.untracked > bs->inflight.untracked
					? o->inflight.untracked - bs->inflight.untracked : 0;
	o->cells_short = o->cells_short > bs->cells_short ? o->cells_short - bs->cells_short : 0;
}

void zcs_cell_add(struct zcs_cell *dst, const struct zcs_cell *src)
{
	_Static_assert(sizeof(struct zcs_cell) % sizeof(uint64_t) == 0, "cell of u64");
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;
	for (size_t i = 0; i < sizeof *dst / sizeof *d; i++)
		d[i] += s[i];
}

int zcs_cell_add_bucket(struct zcs_cell *c, uint64_t upper_ns, uint64_t n)
{
	unsigned i = upper_ns == UINT64_MAX ? ZCS_NBUCKETS - 1
		   : upper_ns == 0	    ? 0
					    : zcs_bucket(upper_ns - 1);
	if (zcs_bucket_hi(i) != upper_ns)
		return -1;
	c->buckets[i] += n;
	return 0;
}

uint64_t zcs_cell_count_below(const struct zcs_cell *c, uint64_t ns)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < ZCS_NBUCKETS && zcs_bucket_hi(i) <= ns; i++)
		n += c->buckets[i];
	return n;
}

unsigned char *zcs_snapshot_image(const struct zcs_snapshot *s, size_t *len)
{
	unsigned char *img = calloc(1, ZCS_SEGMENT_BYTES);
	if (!img)
		return NULL;
	struct zcs_header h = s->hdr;
	zcs_header_init_layout(&h);
	memcpy(img, &h, sizeof h);
	memcpy(img + ZCS_SHARED_OFFSET, &s->shared, sizeof s->shared);
	memcpy(img + ZCS_SHARDS_OFFSET, &s->sum, sizeof s->sum);
	*len = ZCS_SEGMENT_BYTES;
	return img;
}

void zcs_inflight_now(const struct zcs_snapshot *s, uint64_t *buffers, uint64_t *bytes)
{
	const struct zcs_inflight *g = &s->shared.inflight;
	uint64_t handed[2] = { 0, 0 }, released[2] = { 0, 0 };
	for (unsigned i = 0; i < ZCS_NSHARDS; i++) {
		handed[0] += g->handed[i].buffers;
		handed[1] += g->handed[i].bytes;
		released[0] += g->released[i].buffers;
		released[1] += g->released[i].bytes;
	}
	/* read while buffers came and went: a release may be seen without its
	 * handing over, never the other way round for long */
	*buffers = handed[0] > released[0] ? handed[0] - released[0] : 0;
	*bytes = handed[1] > released[1] ? handed[1] - released[1] : 0;
}
