/*
 * segread.c - find, copy, validate and sum zcshim segments (see segread.h).
 *
 * A segment is read piece by piece, never mapped: the header and shared
 * part first, then only the histogram chunks and shard areas that the
 * validated shared part says are in use. Every piece is copied before it
 * is believed, and every number that sizes or places something is checked
 * against the layout before it is used.
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
#include <time.h>
#include <unistd.h>

#include "histo.h"
#include "procid.h"
#include "segname.h"
#include "utf8.h"

#define ERR(...) (snprintf(err, err_len, __VA_ARGS__), -1)

/* The initial PID namespace's inode, fixed by the kernel (PROC_PID_INIT_INO):
 * a reader there sees every process of every namespace in its /proc. */
#define PIDNS_INIT UINT64_C(0xEFFFFFFC)

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
					     "replaced", "unknown" };
	return live <= ZCS_LIVE_UNKNOWN ? names[live] : "?";
}

int zcs_parse_name(const char *name, struct zcs_name *out)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	struct zcs_ident id;
	if (zcs_name_fields(base, &id) != 0)
		return -1;
	int n = slash ? snprintf(out->path, sizeof out->path, "%s", name)
		      : snprintf(out->path, sizeof out->path, "%s/%s", shm_dir, name);
	if (n < 0 || (size_t)n >= sizeof out->path)
		return -1;
	out->pidns = id.pidns;
	out->pid = id.pid;
	out->start_ticks = id.start_ticks;
	out->seq = id.seq;
	return 0;
}

/* Names and endpoints are the app's bytes, and stay so: every view escapes
 * them as its format requires (zcshim-stat's format/escape.c). Here they
 * are only closed, so no walk over them leaves the array. */
static void terminate(char *str, size_t len)
{
	str[len - 1] = '\0';
}

/* The shim's own words about a process (reach: paths of objects) are shown
 * as they are by every view, so they are put in their text form here: a
 * control byte or invalid UTF-8 as \xNN, cut on a character boundary. */
static void text_form(char *str, size_t len)
{
	char text[4 * ZCS_REACH_NAME_MAX + 1] = "";
	terminate(str, len);
	zcs_escape_line(text, sizeof text, str, strlen(str), 0);
	zcs_utf8_copy(str, len, text);
}

/* ------------------------------------------------------------ sources */

/* Where a segment is read from: a buffer (tests, the fuzzer, baselines) or
 * a file, piece by piece. */
struct src {
	const unsigned char *buf;
	uint64_t len;   /* of buf, or of the file */
	int fd;         /* -1: buf */
};

/* Copy [off, off+n) to dst; -1 if it is not all there. */
static int src_read(const struct src *s, uint64_t off, void *dst, size_t n)
{
	if (off > s->len || s->len - off < n)
		return -1;
	if (s->fd < 0) {
		memcpy(dst, s->buf + off, n);
		return 0;
	}
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(s->fd, (char *)dst + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1; /* shrank while we read */
		got += (size_t)r;
	}
	return 0;
}

/* ------------------------------------------------------------ validation */

/* Endpoint lists: force the terminating empty entry, cut the last entry if
 * it ran past the array (the writer never lets it). */
static void terminate_endpoints(struct zcs_socket *row)
{
	row->endpoints[ZCS_ENDPOINTS_MAX - 1] = '\0';
	row->endpoints[ZCS_ENDPOINTS_MAX - 2] = '\0';
}

const char *zcs_endpoint_next(const struct zcs_socket *row, size_t *it, int *bound)
{
	const char *list = row->endpoints;
	while (*it < ZCS_ENDPOINTS_MAX && list[*it]) {
		const char *entry = list + *it;
		size_t len = strnlen(entry, ZCS_ENDPOINTS_MAX - *it);
		*it += len + 1;
		if (len < 2 || (entry[0] != 'b' && entry[0] != 'c'))
			continue; /* not an entry the writer makes: skip it */
		if (bound)
			*bound = entry[0] == 'b';
		return entry + 1;
	}
	return NULL;
}

int zcs_endpoints_cut(const struct zcs_socket *row)
{
	return (row->flags & ZCS_SOCK_F_CUT) != 0;
}


/* Check the shared part sh and unpack it into v: cells_used in range,
 * every index entry a key of the layout and a cell given out, no cell and
 * no key twice; a known state per row; strings terminated. Row 0 is never
 * written, so it is cleared rather than believed. */
static int check_shared(struct zcs_shared *sh, struct zcs_view *v, char *err, size_t err_len)
{
	if (sh->cells_used < ZCS_CELL_FIRST || sh->cells_used > ZCS_NCELLS_MAX)
		return ERR("corrupt: %u cells used (%u to %u possible)", sh->cells_used,
			   ZCS_CELL_FIRST, ZCS_NCELLS_MAX);
	memset(&sh->sockets[0], 0, sizeof sh->sockets[0]);
	for (unsigned slot = 1; slot < ZCS_NSLOTS; slot++) {
		struct zcs_socket *row = &sh->sockets[slot];
		if (row->state > ZCS_SOCK_CLOSED || row->flags & ~ZCS_SOCK_F_CUT)
			return ERR("corrupt: socket %u in state %u, flags 0x%x", slot, row->state,
				   row->flags);
		terminate_endpoints(row);
	}
	memset(v->cell_key, 0, sizeof v->cell_key);
	static unsigned char key_seen[(ZCS_NKEYS + 8) / 8];
	memset(key_seen, 0, sizeof key_seen);
	for (unsigned i = 0; i < ZCS_INDEX_SIZE; i++) {
		uint32_t e = sh->index[i];
		if (!e)
			continue;
		uint32_t key = e >> ZCS_INDEX_CELL_BITS, cell = e & ZCS_INDEX_CELL_MASK;
		if (!key || key > ZCS_NKEYS)
			return ERR("corrupt: index entry %u holds key %u", i, key);
		unsigned slot, op, path, k;
		zcs_key_fields(key, &slot, &op, &path, &k);
		if (path == ZCS_PATH_FAILED && (op >= ZCS_NCALL_OPS || k >= ZCS_NERRS))
			return ERR("corrupt: index entry %u: failed %s with errno kind %u", i,
				   zcs_op_name(op), k);
		if (cell < ZCS_CELL_FIRST || cell >= sh->cells_used || v->cell_key[cell])
			return ERR("corrupt: index entry %u holds cell %u (%s)", i, cell,
				   cell >= sh->cells_used ? "not given out"
				   : cell < ZCS_CELL_FIRST ? "an overflow cell" : "used twice");
		if (key_seen[key / 8] >> (key % 8) & 1)
			return ERR("corrupt: index entry %u holds key %u twice", i, key);
		key_seen[key / 8] |= (unsigned char)(1u << (key % 8));
		v->cell_key[cell] = key;
	}
	v->inflight.peak_buffers = sh->peak.buffers;
	v->inflight.peak_buffers_ticks = sh->peak.buffers_ticks;
	v->inflight.peak_bytes = sh->peak.bytes;
	v->inflight.peak_bytes_ticks = sh->peak.bytes_ticks;
	v->inflight.untracked = sh->untracked;
	v->start_clock_ticks = sh->start_clock_ticks;
	v->sockets_seen = sh->sockets_seen;
	v->cells_used = sh->cells_used;
	v->cells_short = sh->cells_short;
	v->failed_short = sh->failed_short;
	v->unconverted_nested = sh->unconverted_nested;
	memcpy(v->sockets, sh->sockets, sizeof v->sockets);
	return 0;
}

/* out->sum.cell has room for n cells. */
static int cells_room(struct zcs_snapshot *out, uint32_t n)
{
	struct zcs_cell *c = realloc(out->sum.cell, (n ? n : 1) * sizeof *c);
	if (!c)
		return -1;
	out->sum.cell = c;
	out->sum.ncells = n;
	memset(c, 0, n * sizeof *c);
	return 0;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Add the histograms and every used shard into out->sum. */
static int sum_shards(const struct src *src, const struct zcs_shared *sh,
		      struct zcs_snapshot *out, char *err, size_t err_len)
{
	uint32_t n = sh->cells_used;
	if (cells_room(out, n) != 0)
		return ERR("out of memory");
	int any = 0;
	for (unsigned w = 0; w < ZCS_NSHARDS / 64; w++)
		any |= sh->shards_used[w] != 0;
	if (!any) /* no thread recorded: nothing past the shared part to read */
		return 0;
	static struct zcs_hist chunk[ZCS_HIST_CHUNK_CELLS];
	for (uint32_t c0 = 0; c0 < n; c0 += ZCS_HIST_CHUNK_CELLS) {
		uint32_t cells = n - c0 < ZCS_HIST_CHUNK_CELLS ? n - c0 : ZCS_HIST_CHUNK_CELLS;
		if (src_read(src, zcs_hist_chunk_offset(c0 / ZCS_HIST_CHUNK_CELLS), chunk,
			     cells * sizeof chunk[0]) != 0)
			return ERR("truncated: histograms of cells %u.. missing", c0);
		for (uint32_t i = 0; i < cells; i++) {
			struct zcs_cell *c = &out->sum.cell[c0 + i];
			c->time_ns_sum = chunk[i].time_ns_sum;
			memcpy(c->buckets, chunk[i].buckets, sizeof c->buckets);
		}
	}
	static unsigned char area[ZCS_SHARD_AREA_BYTES];
	uint64_t used_bytes = zcs_shard_used_bytes(n), now = wall_ns();
	for (unsigned s = 0; s < ZCS_NSHARDS; s++) {
		if (!(sh->shards_used[s / 64] >> (s % 64) & 1))
			continue;
		if (src_read(src, zcs_shard_offset(s), area, used_bytes) != 0)
			return ERR("truncated: shard %u missing", s);
		struct zcs_shard_head head;
		memcpy(&head, area, sizeof head);
		struct zcs_inflight *g = &out->shared.inflight;
		g->handed_buffers += head.handed.buffers;
		g->handed_bytes += head.handed.bytes;
		g->released_buffers += head.released.buffers;
		g->released_bytes += head.released.bytes;
		for (unsigned k = 0; k < ZCS_NFFN_THREADS; k++)
			out->sum.ffn_thread[k] += head.ffn_thread[k];
		if (s) { /* shard 0's threads are counted nowhere */
			out->sum.threads += head.threads;
			out->sum.busy_ns += head.busy_ns_done;
			if (head.busy_since_unix_ns && out->hdr.state == ZCS_STATE_RUNNING &&
			    now > head.busy_since_unix_ns)
				out->sum.busy_ns += now - head.busy_since_unix_ns;
		}
		const unsigned char *counts = area + sizeof head;
		for (uint32_t c = 1; c < n; c++) {
			struct zcs_counts k;
			memcpy(&k, counts + (size_t)c * sizeof k, sizeof k);
			out->sum.cell[c].count += k.calls;
			out->sum.cell[c].bytes += k.bytes;
			out->sum.cell[c].msgs += k.msgs;
			out->sum.cell[c].est_ns += k.est_ns;
		}
	}
	/* failures, by errno kind, out of their cells */
	for (uint32_t c = ZCS_CELL_FIRST; c < n; c++) {
		unsigned slot, op, path, k;
		if (!out->shared.cell_key[c])
			continue;
		zcs_key_fields(out->shared.cell_key[c], &slot, &op, &path, &k);
		if (path == ZCS_PATH_FAILED)
			out->sum.failed[slot][op][k] += out->sum.cell[c].count;
	}
	return 0;
}

static void drop_orders(struct zcs_snapshot *s);

static int parse(const struct src *src, struct zcs_snapshot *out, char *err, size_t err_len)
{
	struct zcs_header h;
	drop_orders(out);
	struct zcs_cell *cells = out->sum.cell;
	memset(&out->sum, 0, sizeof out->sum);
	out->sum.cell = cells;
	memset(&out->shared.inflight, 0, sizeof out->shared.inflight);
	if (src_read(src, 0, &h, sizeof h) != 0)
		return ERR("truncated: %llu bytes, a header needs %zu",
			   (unsigned long long)src->len, sizeof h);
	if (h.magic != ZCS_MAGIC)
		return ERR("not a zcshim segment (bad magic)");
	_Static_assert(ZCS_STATE_INIT == 0, "a fresh segment's state is INIT");
	if (h.state == ZCS_STATE_INIT && h.layout_version == ZCS_LAYOUT_VERSION) {
		/* being created: nothing but the magic can be trusted yet */
		memset(&out->hdr, 0, sizeof out->hdr);
		memset(&out->shared, 0, sizeof out->shared);
		out->hdr.layout_version = ZCS_LAYOUT_VERSION;
		out->live = ZCS_LIVE_STARTING;
		return 0;
	}
	if (h.layout_version != ZCS_LAYOUT_VERSION)
		return ERR("layout version %u, this zcshim-stat reads version %u",
			   h.layout_version, ZCS_LAYOUT_VERSION);
	if (h.header_bytes != sizeof h || h.layout_hash != ZCS_LAYOUT_HASH ||
	    h.segment_bytes != ZCS_SEGMENT_BYTES || h.shared_offset != ZCS_SHARED_OFFSET ||
	    h.shared_bytes != sizeof(struct zcs_shared) || h.hist_offset != ZCS_HIST_OFFSET ||
	    h.shards_offset != ZCS_SHARDS_OFFSET || h.shard_area_bytes != ZCS_SHARD_AREA_BYTES ||
	    h.nshards != ZCS_NSHARDS)
		return ERR("layout does not match version %u (header %u B, shared %llu B, "
			   "shard area %llu B, %u shards)",
			   ZCS_LAYOUT_VERSION, h.header_bytes, (unsigned long long)h.shared_bytes,
			   (unsigned long long)h.shard_area_bytes, h.nshards);
	if (h.state > ZCS_STATE_EXITED || h.mode > ZCS_MODE_OFF || h.pid <= 0 ||
	    h.sample_every > 1000000)
		return ERR("corrupt: state %u, mode %u, pid %d, sample %u", h.state, h.mode,
			   h.pid, h.sample_every);
	if (h.reach_why >= ZCS_NWHY || h.reach_how >= ZCS_NHOW || (h.reach_ways & ~ZCS_WAY_ALL))
		return ERR("corrupt: reach why %u, how %u, ways %#x", h.reach_why, h.reach_how,
			   h.reach_ways);
	text_form(h.reach_libzmq, sizeof h.reach_libzmq);
	text_form(h.reach_object, sizeof h.reach_object);
	terminate(h.exe, sizeof h.exe);
	static struct zcs_shared sh;
	if (src_read(src, ZCS_SHARED_OFFSET, &sh, sizeof sh) != 0)
		return ERR("truncated: the shared part (%zu bytes at %llu) is not all there",
			   sizeof sh, (unsigned long long)ZCS_SHARED_OFFSET);
	if (check_shared(&sh, &out->shared, err, err_len) != 0)
		return -1;
	out->hdr = h;
	out->live = h.state == ZCS_STATE_RUNNING ? ZCS_LIVE_RUNNING : ZCS_LIVE_EXITED;
	/* Without calls nothing beyond the shared part need be there. */
	if (!(h.flags & ZCS_F_CALLS_SEEN))
		return cells_room(out, 0) == 0 ? 0 : ERR("out of memory");
	return sum_shards(src, &sh, out, err, err_len);
}

int zcs_parse(const void *buf, size_t len, struct zcs_snapshot *out,
	      char *err, size_t err_len)
{
	struct src src = { buf, len, -1 };
	return parse(&src, out, err, err_len);
}

/* ------------------------------------------------------------- liveness */

/* Every process this reader's /proc shows: PID namespace (0 if its link
 * cannot be read: another user's, or a process that changed uid), pid in
 * its own namespace (the last NSpid field), start ticks. Read when a
 * segment of another namespace asks, and kept for a second. */
struct proc_row {
	uint64_t pidns, start;
	int pid;
};
static struct {
	struct proc_row *rows;
	size_t n;
	int hidden;        /* processes whose status could not be read: the list is
	                      not all, absence proves nothing */
	uint64_t built_ns; /* wall clock when the list was read */
} procs;

static void procs_build(void)
{
	free(procs.rows);
	procs.rows = NULL;
	procs.n = 0;
	procs.hidden = 0;
	procs.built_ns = wall_ns();
	DIR *d = opendir("/proc");
	if (!d) {
		procs.hidden = 1;
		return;
	}
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || strlen(e->d_name) > 20)
			continue;
		char path[300], buf[4096];
		snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
		if (zcs_read_small(path, buf, sizeof buf) <= 0) {
			/* gone since readdir: not there; anything else: hidden */
			procs.hidden |= errno != ENOENT && errno != ESRCH;
			continue;
		}
		const char *nspid = strstr(buf, "\nNSpid:");
		if (!nspid) {
			procs.hidden = 1; /* a kernel before 4.1: no pid to match */
			continue;
		}
		const char *eol = strchr(nspid + 1, '\n'), *last = nspid + 7;
		for (const char *p = nspid + 7; *p && p != eol; p++)
			if (*p == '\t' || *p == ' ')
				last = p + 1;
		snprintf(path, sizeof path, "/proc/%s/ns/pid", e->d_name);
		uint64_t ns = zcs_ns_inode(path);
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		if (procs.n == cap) {
			cap = cap ? 2 * cap : 256;
			struct proc_row *grown = realloc(procs.rows, cap * sizeof *grown);
			if (!grown) {
				procs.hidden = 1;
				break;
			}
			procs.rows = grown;
		}
		procs.rows[procs.n++] = (struct proc_row){ ns, zcs_proc_start_ticks(path),
							  (int)strtol(last, NULL, 10) };
	}
	closedir(d);
}

static unsigned liveness(const struct zcs_snapshot *s)
{
	if (s->live != ZCS_LIVE_RUNNING)
		return s->live;
	const struct zcs_header *h = &s->hdr;
	struct zcs_ident id = { h->pidns, h->pid, h->start_ticks, h->seq };
	/* exec() keeps pid and start time but skips exit handlers: the new
	 * image made the next seq beside this one, and retires this one; if
	 * it is still here, it is being retired. Only for a whole identity:
	 * without one, the next seq may be another container's process. */
	char path[PATH_MAX];
	struct stat st;
	const char *slash = strrchr(s->path, '/');
	int dir_len = slash ? (int)(slash - s->path) : 1;
	struct zcs_ident next = id;
	next.seq++;
	char name[96];
	zcs_name_make(&next, name, sizeof name);
	snprintf(path, sizeof path, "%.*s/%s", dir_len, slash ? s->path : ".", name);
	/* only a file the same user could have made: /dev/shm is anyone's */
	if (zcs_ident_known(&id) && h->seq < UINT32_MAX - 1 && lstat(path, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_uid == geteuid())
		return ZCS_LIVE_REPLACED;
	uint64_t mine = zcs_ns_inode("/proc/self/ns/pid");
	int proc_ours = mine && zcs_proc_is_ours();
	if (mine && h->pidns == mine) {
		switch (zcs_proc_fate(h->pid, h->start_ticks, proc_ours)) {
		case ZCS_PROC_GONE: return ZCS_LIVE_DEAD;
		case ZCS_PROC_ALIVE: return ZCS_LIVE_RUNNING;
		default: return ZCS_LIVE_UNKNOWN;
		}
	}
	/* Another namespace. Our /proc shows every process of our namespace
	 * and of the namespaces below it: found there, it runs. Not found, it
	 * is gone only if we see all of its namespace: from the initial one
	 * (every namespace is below it), or when some process of that
	 * namespace is in view (so it is below ours), and nothing was hidden
	 * from us. Anywhere else (a sibling container, a parent): not ours to
	 * judge. */
	if (!proc_ours || !zcs_ident_known(&id))
		return ZCS_LIVE_UNKNOWN;
	/* read again when a second old (--watch), or older than the segment:
	 * a process that started since is not in it */
	uint64_t now = wall_ns();
	if (!procs.built_ns || now - procs.built_ns > 1000000000u ||
	    h->start_unix_ns + 10000000u >= procs.built_ns)
		procs_build();
	int ns_seen = mine == PIDNS_INIT;
	for (size_t i = 0; i < procs.n; i++) {
		const struct proc_row *r = &procs.rows[i];
		/* a namespace link we may not read: pid and start time alone */
		if ((r->pidns == h->pidns || !r->pidns) && r->pid == h->pid &&
		    r->start == h->start_ticks)
			return ZCS_LIVE_RUNNING;
		ns_seen |= r->pidns == h->pidns;
	}
	return ns_seen && !procs.hidden ? ZCS_LIVE_DEAD : ZCS_LIVE_UNKNOWN;
}

struct zcs_snapshot *zcs_snapshot_new(void)
{
	return calloc(1, sizeof(struct zcs_snapshot));
}

void zcs_snapshot_free(struct zcs_snapshot *s)
{
	if (s) {
		drop_orders(s);
		free(s->sum.cell);
	}
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
	struct src src = { NULL, (uint64_t)st.st_size, fd };
	char why[200];
	int rc = parse(&src, out, why, sizeof why);
	close(fd);
	if (rc != 0)
		return ERR("%s: %s", path, why);
	snprintf(out->path, sizeof out->path, "%s", path);
	out->live = liveness(out);
	return 0;
}

/* ------------------------------------------------------------- listing */

static int newer_first(const void *a, const void *b)
{
	const struct zcs_name *x = a, *y = b;
	if (x->start_ticks != y->start_ticks)
		return x->start_ticks < y->start_ticks ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int zcs_list(struct zcs_name **names, size_t *n, size_t *skipped, char *err, size_t err_len)
{
	DIR *d = opendir(shm_dir);
	*names = NULL;
	*n = 0;
	if (skipped)
		*skipped = 0;
	if (!d)
		return ERR("%s: %s", shm_dir, strerror(errno));
	size_t cap = 0;
	struct dirent *e;
	/* Other users' files cost a stat each and nothing else; past the cap
	 * the oldest are dropped, so memory stays bounded whatever the
	 * directory holds. */
	while ((e = readdir(d))) {
		struct zcs_name nm;
		struct stat st;
		if (zcs_parse_name(e->d_name, &nm) != 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue; /* not ours: not ours to show, nor to say */
		if (*n == ZCS_LIST_MAX) {
			/* keep the newest: drop the oldest we hold, if older */
			size_t oldest = 0;
			for (size_t i = 1; i < *n; i++)
				if (newer_first(&(*names)[i], &(*names)[oldest]) < 0)
					oldest = i;
			if (skipped)
				(*skipped)++;
			if (newer_first(&nm, &(*names)[oldest]) < 0)
				continue;
			(*names)[oldest] = nm;
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct zcs_name *grown = realloc(*names, cap * sizeof **names);
			if (!grown) {
				closedir(d);
				free(*names);
				*names = NULL;
				*n = 0;
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

/* The identity /proc gives pid (of the caller's /proc, which may show
 * processes of namespaces below ours under their pids here): its PID
 * namespace, its pid there, its start. 0 if it is not there to read. */
static int proc_ident(long pid, struct zcs_ident *id)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if (pid <= 0 || !zcs_proc_is_ours() || zcs_read_small(path, buf, sizeof buf) <= 0)
		return 0;
	const char *nspid = strstr(buf, "\nNSpid:");
	if (!nspid)
		return 0;
	const char *eol = strchr(nspid + 1, '\n'), *last = nspid + 7;
	for (const char *p = nspid + 7; *p && p != eol; p++)
		if (*p == '\t' || *p == ' ')
			last = p + 1;
	id->pid = (int)strtol(last, NULL, 10);
	snprintf(path, sizeof path, "/proc/%ld/ns/pid", pid);
	id->pidns = zcs_ns_inode(path);
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	id->start_ticks = zcs_proc_start_ticks(path);
	return id->pidns && id->start_ticks;
}

int zcs_find(const char *key, struct zcs_snapshot *out, char *err, size_t err_len)
{
	struct zcs_name *names;
	size_t n;
	if (zcs_list(&names, &n, NULL, err, err_len) != 0)
		return -1;
	char *end;
	long pid = strtol(key, &end, 10);
	int by_pid = *key && !*end;
	/* A pid means, in order: the process this reader's /proc shows under
	 * it (in a container below us it has another pid in its name), then
	 * a process of our namespace, then one of any namespace (a segment
	 * copied here, a container sharing /dev/shm). */
	struct zcs_ident here = { 0, 0, 0, 0 };
	int known = by_pid && proc_ident(pid, &here);
	uint64_t mine = zcs_ns_inode("/proc/self/ns/pid");
	char why[300] = "";
	int rc = -1;
	for (int pass = by_pid ? 0 : 2; pass < 3 && rc != 0; pass++) {
		if (pass == 0 && !known)
			continue;
		/* Newest first: the live process of a recycled pid wins. */
		for (size_t i = n; i-- > 0 && rc != 0;) {
			const struct zcs_name *nm = &names[i];
			if (pass == 0 && (nm->pidns != here.pidns || nm->pid != here.pid ||
					  nm->start_ticks != here.start_ticks))
				continue;
			if (pass == 1 && (nm->pid != pid || nm->pidns != mine))
				continue;
			if (pass == 2 && by_pid && nm->pid != pid)
				continue;
			if (zcs_read(nm->path, out, why, sizeof why) != 0)
				continue; /* e.g. a file someone else put there: try older */
			if (by_pid || strcmp(out->hdr.exe, key) == 0)
				rc = 0;
		}
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

/* ------------------------------------------------------------- histograms */

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

int zcs_cell_fields(const struct zcs_snapshot *s, unsigned c, unsigned *slot, unsigned *op,
		    unsigned *path, unsigned *size_class)
{
	if (c >= s->sum.ncells || c == 0)
		return -1;
	if (c < ZCS_CELL_FIRST) { /* an op's overflow cell */
		*slot = ZCS_SLOT_OTHER;
		*op = c - 1;
		*path = ZCS_NPATHS;
		*size_class = ZCS_ALL;
		return 0;
	}
	if (!s->shared.cell_key[c])
		return -1;
	zcs_key_fields(s->shared.cell_key[c], slot, op, path, size_class);
	return 0;
}

const struct zcs_cell *zcs_cell_at(const struct zcs_snapshot *s, unsigned slot, unsigned op,
				   unsigned path, unsigned size_class)
{
	if (slot >= ZCS_NSLOTS || op >= ZCS_NOPS || path >= ZCS_NPATHS ||
	    size_class >= ZCS_NSIZES)
		return NULL;
	uint32_t key = zcs_key(slot, op, path, size_class);
	for (uint32_t c = ZCS_CELL_FIRST; c < s->sum.ncells; c++)
		if (s->shared.cell_key[c] == key)
			return &s->sum.cell[c];
	return NULL;
}

unsigned zcs_slot_at(unsigned i)
{
	return (i + 1) % ZCS_NSLOTS;
}

/* ---- series in view order */

struct zcs_order {
	size_t n;
	struct {
		uint64_t group; /* cells with the same group make one series */
		uint16_t cell;
	} e[];
};

/* Where a slot stands in the order views show them: 1..64, then 0. */
static unsigned slot_rank(unsigned slot)
{
	return slot ? slot - 1 : ZCS_NSLOTS - 1;
}

static uint64_t group_of(unsigned by, unsigned slot, unsigned op, unsigned path, unsigned k)
{
	unsigned kk = k == ZCS_ALL ? ZCS_NSIZES : k;
	switch (by) {
	case ZCS_BY_SIZE:
		return ((uint64_t)op << 16 | path << 8) | kk;
	case ZCS_BY_SOCKET:
		return (uint64_t)slot_rank(slot) << 24 | (uint64_t)op << 16 | path << 8;
	default:
		return (uint64_t)slot_rank(slot) << 24 | (uint64_t)op << 16 | path << 8 | kk;
	}
}

static int by_group(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void drop_orders(struct zcs_snapshot *s)
{
	for (int i = 0; i < 3; i++) {
		free(s->order[i]);
		s->order[i] = NULL;
	}
}

static const struct zcs_order *order_of(const struct zcs_snapshot *cs, unsigned by)
{
	struct zcs_snapshot *s = (struct zcs_snapshot *)cs; /* a cache, not the data */
	if (by > ZCS_BY_BOTH)
		return NULL;
	if (s->order[by])
		return s->order[by];
	struct zcs_order *o = malloc(sizeof *o + (s->sum.ncells + 1) * sizeof o->e[0]);
	if (!o)
		return NULL;
	o->n = 0;
	for (unsigned c = 1; c < s->sum.ncells; c++) {
		unsigned slot, op, path, k;
		if (zcs_cell_fields(s, c, &slot, &op, &path, &k) != 0 || path == ZCS_PATH_FAILED)
			continue;
		o->e[o->n].group = group_of(by, slot, op, path, k);
		o->e[o->n].cell = (uint16_t)c;
		o->n++;
	}
	_Static_assert(offsetof(struct zcs_order, e) % 8 == 0, "entries sort by group first");
	qsort(o->e, o->n, sizeof o->e[0], by_group);
	s->order[by] = o;
	return o;
}

int zcs_series_next_by(const struct zcs_snapshot *s, unsigned by, size_t *it,
		       struct zcs_series *out)
{
	const struct zcs_order *o = order_of(s, by);
	while (o && *it < o->n) {
		size_t i = *it, j = i + 1;
		while (j < o->n && o->e[j].group == o->e[i].group)
			j++;
		*it = j;
		unsigned slot, op, path, k;
		zcs_cell_fields(s, o->e[i].cell, &slot, &op, &path, &k);
		const struct zcs_cell *c = &s->sum.cell[o->e[i].cell];
		if (by != ZCS_BY_BOTH) {
			memset(&out->merged, 0, sizeof out->merged);
			for (size_t m = i; m < j; m++)
				zcs_cell_add(&out->merged, &s->sum.cell[o->e[m].cell]);
			c = &out->merged;
			if (by == ZCS_BY_SIZE)
				slot = ZCS_ALL;
			else
				k = ZCS_ALL;
		}
		if (!c->count)
			continue;
		out->slot = slot;
		out->op = op;
		out->path = path;
		out->size_class = k;
		out->cell = c;
		return 1;
	}
	return 0;
}

int zcs_series_next(const struct zcs_snapshot *s, size_t *it, struct zcs_series *out)
{
	return zcs_series_next_by(s, ZCS_BY_SIZE, it, out);
}

uint64_t zcs_cell_by_size(const struct zcs_snapshot *s, unsigned op, unsigned path,
			  unsigned size_class, struct zcs_cell *out)
{
	memset(out, 0, sizeof *out);
	for (unsigned c = ZCS_CELL_FIRST; c < s->sum.ncells; c++) {
		unsigned slot, o, p, k;
		if (zcs_cell_fields(s, c, &slot, &o, &p, &k) == 0 && o == op && p == path &&
		    k == size_class)
			zcs_cell_add(out, &s->sum.cell[c]);
	}
	return out->count;
}

int zcs_slot_used(const struct zcs_snapshot *s, unsigned slot)
{
	if (slot >= ZCS_NSLOTS)
		return 0;
	for (unsigned c = 1; c < s->sum.ncells; c++) {
		unsigned sl, op, path, k;
		if (s->sum.cell[c].count && zcs_cell_fields(s, c, &sl, &op, &path, &k) == 0 &&
		    sl == slot)
			return 1;
	}
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
	for (unsigned c = 1; c < s->sum.ncells; c++) {
		unsigned slot, op, path, k;
		if (zcs_cell_fields(s, c, &slot, &op, &path, &k) == 0 && path != ZCS_PATH_FAILED &&
		    zcs_op_sends(op))
			n += s->sum.cell[c].count;
	}
	return n;
}

uint64_t zcs_overflow_calls(const struct zcs_snapshot *s)
{
	uint64_t n = 0;
	for (unsigned c = 1; c < ZCS_CELL_FIRST && c < s->sum.ncells; c++)
		if (c - 1 < ZCS_NCALL_OPS) /* hold and ffn count buffers */
			n += s->sum.cell[c].count;
	return n;
}

void zcs_traffic(const struct zcs_snapshot *s, unsigned slot, struct zcs_traffic *out)
{
	memset(out, 0, sizeof *out);
	for (unsigned c = 1; c < s->sum.ncells; c++) {
		unsigned sl, op, path, k;
		if (zcs_cell_fields(s, c, &sl, &op, &path, &k) != 0 || path == ZCS_PATH_FAILED ||
		    (slot != ZCS_ALL && sl != slot))
			continue;
		const struct zcs_cell *x = &s->sum.cell[c];
		if (zcs_op_sends(op)) {
			out->sent_frames += x->count;
			out->sent_msgs += x->msgs;
			out->sent_bytes += x->bytes;
		} else if (zcs_op_receives(op)) {
			out->recv_frames += x->count;
			out->recv_msgs += x->msgs;
			out->recv_bytes += x->bytes;
		}
	}
}

void zcs_time_split(const struct zcs_snapshot *s, unsigned slot, struct zcs_time_split *out)
{
	memset(out, 0, sizeof *out);
	out->busy_ns = s->sum.busy_ns;
	/* a timed call stands for calls of any series of its socket's op */
	unsigned char timed[ZCS_NSLOTS][ZCS_NOPS] = { { 0 } };
	for (int pass = 0; pass < 2; pass++)
		for (unsigned c = 1; c < s->sum.ncells; c++) {
			unsigned sl, op, path, k;
			if (zcs_cell_fields(s, c, &sl, &op, &path, &k) != 0 ||
			    (slot != ZCS_ALL && sl != slot))
				continue;
			int send = zcs_op_sends(op), wait = zcs_op_receives(op) || op == ZCS_OP_POLL;
			if (!send && !wait)
				continue;
			const struct zcs_cell *x = &s->sum.cell[c];
			if (pass == 0) {
				timed[sl][op] |= zcs_cell_timed(x) != 0;
				continue;
			}
			if (!timed[sl][op])
				out->untimed_calls += x->count;
			if (send)
				out->send_ns += (double)x->est_ns;
			else
				out->wait_ns += (double)x->est_ns;
		}
}

void zcs_snapshot_sub(struct zcs_snapshot *out, const struct zcs_snapshot *a,
		      const struct zcs_snapshot *b)
{
	if (out != a) {
		memcpy(out->path, a->path, sizeof out->path);
		out->hdr = a->hdr;
		out->live = a->live;
		out->shared = a->shared;
		struct zcs_cell *cells = out->sum.cell;
		out->sum = a->sum;
		out->sum.cell = cells;
		if (cells_room(out, a->sum.ncells) != 0) {
			out->sum.ncells = 0;
			drop_orders(out);
			return;
		}
		memcpy(out->sum.cell, a->sum.cell, a->sum.ncells * sizeof *a->sum.cell);
	}
	drop_orders(out);
#define SUB(x, y) ((x) = (x) > (y) ? (x) - (y) : 0)
	/* cells keep their numbers for the life of a process: b's are a prefix */
	for (uint32_t c = 0; c < out->sum.ncells && c < b->sum.ncells; c++) {
		uint64_t *d = (uint64_t *)&out->sum.cell[c];
		const uint64_t *y = (const uint64_t *)&b->sum.cell[c];
		for (size_t i = 0; i < sizeof(struct zcs_cell) / sizeof(uint64_t); i++)
			SUB(d[i], y[i]);
	}
	uint64_t *f = &out->sum.failed[0][0][0];
	const uint64_t *g = &b->sum.failed[0][0][0];
	for (size_t i = 0; i < sizeof out->sum.failed / sizeof *f; i++)
		SUB(f[i], g[i]);
	for (unsigned k = 0; k < ZCS_NFFN_THREADS; k++)
		SUB(out->sum.ffn_thread[k], b->sum.ffn_thread[k]);
	SUB(out->sum.busy_ns, b->sum.busy_ns);
	/* in the view, only these count up; the rest are gauges and tables */
	SUB(out->shared.inflight.untracked, b->shared.inflight.untracked);
	SUB(out->shared.cells_short, b->shared.cells_short);
	SUB(out->shared.failed_short, b->shared.failed_short);
	SUB(out->shared.unconverted_nested, b->shared.unconverted_nested);
#undef SUB
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
	uint64_t size = zcs_shard_offset(1) + ZCS_SHARD_AREA_BYTES;
	unsigned char *img = calloc(1, size);
	if (!img)
		return NULL;
	struct zcs_header h = s->hdr;
	zcs_header_init_layout(&h);
	uint32_t n = s->sum.ncells < ZCS_CELL_FIRST ? ZCS_CELL_FIRST : s->sum.ncells;
	memcpy(img, &h, sizeof h);
	struct zcs_shared *sh = (struct zcs_shared *)(img + ZCS_SHARED_OFFSET);
	const struct zcs_view *v = &s->shared;
	sh->peak.buffers = v->inflight.peak_buffers;
	sh->peak.buffers_ticks = v->inflight.peak_buffers_ticks;
	sh->peak.bytes = v->inflight.peak_bytes;
	sh->peak.bytes_ticks = v->inflight.peak_bytes_ticks;
	sh->untracked = v->inflight.untracked;
	sh->start_clock_ticks = v->start_clock_ticks;
	sh->sockets_seen = v->sockets_seen;
	sh->cells_used = n;
	sh->cells_short = v->cells_short;
	sh->failed_short = v->failed_short;
	sh->unconverted_nested = v->unconverted_nested;
	memcpy(sh->sockets, v->sockets, sizeof sh->sockets);
	/* the index, rebuilt as the writer would */
	for (uint32_t c = ZCS_CELL_FIRST; c < s->sum.ncells; c++) {
		uint32_t key = v->cell_key[c];
		if (!key)
			continue;
		uint32_t i = zcs_key_hash(key);
		while (sh->index[i])
			i = (i + 1) & (ZCS_INDEX_SIZE - 1);
		sh->index[i] = key << ZCS_INDEX_CELL_BITS | c;
	}
	/* one shard holds the sums, and the gauge: shard 1, an owned one, whose
	 * threads and busy time count (shard 0's would not) */
	sh->shards_used[0] = 2;
	struct zcs_shard_head *head = (struct zcs_shard_head *)(img + zcs_shard_offset(1));
	head->threads = s->sum.threads;
	head->busy_ns_done = s->sum.busy_ns;
	head->handed.buffers = v->inflight.handed_buffers;
	head->handed.bytes = v->inflight.handed_bytes;
	head->released.buffers = v->inflight.released_buffers;
	head->released.bytes = v->inflight.released_bytes;
	memcpy(head->ffn_thread, s->sum.ffn_thread, sizeof head->ffn_thread);
	struct zcs_counts *counts = (struct zcs_counts *)(head + 1);
	for (uint32_t c = 1; c < s->sum.ncells; c++) {
		const struct zcs_cell *x = &s->sum.cell[c];
		counts[c] = (struct zcs_counts){ x->count, x->bytes, x->msgs, x->est_ns };
		struct zcs_hist *hist = (struct zcs_hist *)(img + zcs_hist_chunk_offset(
							     c / ZCS_HIST_CHUNK_CELLS)) +
					c % ZCS_HIST_CHUNK_CELLS;
		hist->time_ns_sum = x->time_ns_sum;
		memcpy(hist->buckets, x->buckets, sizeof hist->buckets);
	}
	*len = size;
	return img;
}

void zcs_inflight_now(const struct zcs_snapshot *s, uint64_t *buffers, uint64_t *bytes)
{
	const struct zcs_inflight *g = &s->shared.inflight;
	/* read while buffers came and went: a release may be seen without its
	 * handing over, never the other way round for long */
	*buffers = g->handed_buffers > g->released_buffers
			   ? g->handed_buffers - g->released_buffers : 0;
	*bytes = g->handed_bytes > g->released_bytes ? g->handed_bytes - g->released_bytes : 0;
}
