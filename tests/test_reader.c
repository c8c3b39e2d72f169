/*
 * test_reader.c - the segment reader: sums, quantiles, and every way a
 * segment can be wrong, each refused with a reason and no crash.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "histo.h"
#include "procstart.h"
#include "segread.h"

static unsigned char *image;
static struct zcs_snapshot *snap;
static char err[512];

static struct zcs_header *hdr(void)
{
	return (struct zcs_header *)image;
}

static struct zcs_shard *shard(unsigned i)
{
	return (struct zcs_shard *)(image + ZCS_SHARDS_OFFSET) + i;
}

/* A valid segment of pid 4242 with a few counts in two shards. */
static void setup(void)
{
	image = calloc(1, ZCS_SEGMENT_BYTES);
	snap = zcs_snapshot_new();
	cr_assert(image && snap);
	zcs_header_init_layout(hdr());
	hdr()->pid = 4242;
	hdr()->state = ZCS_STATE_EXITED;
	hdr()->sample_every = 1;
	hdr()->threshold_bytes = 65536;
	hdr()->flags = ZCS_F_CALLS_SEEN;
	strcpy(hdr()->exe, "app");
	const unsigned n = zcs_other_cell(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 7);
	struct zcs_cell *a = &shard(0)->cell[n];
	struct zcs_cell *b = &shard(3)->cell[n];
	a->count = 90;
	a->bytes = 9000;
	a->buckets[zcs_bucket(100)] = 90;
	b->count = 10;
	b->bytes = 1000;
	b->buckets[zcs_bucket(5000)] = 10;
	shard(2)->failed[ZCS_SLOT_OTHER][ZCS_OP_MSG_SEND][ZCS_ERR_EAGAIN] = 3;
}

static struct zcs_shared *shared(void)
{
	return (struct zcs_shared *)(image + ZCS_SHARED_OFFSET);
}

/* The cell a reader shows for other's msg_send converted [64,128). */
static const struct zcs_cell *other_cell(unsigned op, unsigned path, unsigned k)
{
	return zcs_cell_at(snap, ZCS_SLOT_OTHER, op, path, k);
}

static void teardown(void)
{
	free(image);
	zcs_snapshot_free(snap);
}

TestSuite(reader, .init = setup, .fini = teardown);

Test(reader, sums_shards)
{
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	const struct zcs_cell *c = other_cell(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 7);
	cr_assert_eq(c->count, 100);
	cr_assert_eq(c->bytes, 10000);
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_MSG_SEND), 3);
	cr_assert_eq(zcs_messages(snap), 100);
	cr_assert_eq(snap->live, ZCS_LIVE_EXITED);
	cr_assert_str_eq(snap->hdr.exe, "app");
}

Test(reader, quantiles_are_bucket_upper_bounds)
{
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0);
	const struct zcs_cell *c = other_cell(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 7);
	cr_assert_eq(zcs_cell_timed(c), 100);
	cr_assert_eq(zcs_cell_quantile_ns(c, 0.50), zcs_bucket_hi(zcs_bucket(100)));
	cr_assert_eq(zcs_cell_quantile_ns(c, 0.90), zcs_bucket_hi(zcs_bucket(100)));
	cr_assert_eq(zcs_cell_quantile_ns(c, 0.99), zcs_bucket_hi(zcs_bucket(5000)));
	cr_assert_eq(zcs_cell_max_ns(c), zcs_bucket_hi(zcs_bucket(5000)));
	const struct zcs_cell *empty = other_cell(ZCS_OP_SEND, ZCS_PATH_COPY, 7);
	cr_assert_eq(zcs_cell_quantile_ns(empty, 0.5), 0);
}

static void refused(size_t len, const char *why)
{
	cr_assert_eq(zcs_parse(image, len, snap, err, sizeof err), -1, "accepted; want '%s'", why);
	cr_assert_not_null(strstr(err, why), "error '%s' does not say '%s'", err, why);
}

Test(reader, refuses_truncated)
{
	refused(10, "truncated");
	refused(ZCS_SEGMENT_BYTES - 1, "truncated");
}

Test(reader, refuses_bad_magic)
{
	hdr()->magic ^= 1;
	refused(ZCS_SEGMENT_BYTES, "bad magic");
}

Test(reader, refuses_other_versions)
{
	hdr()->layout_version = 2; /* the one before the reach block */
	refused(ZCS_SEGMENT_BYTES, "layout version 2");
	hdr()->layout_version = ZCS_LAYOUT_VERSION + 1;
	refused(ZCS_SEGMENT_BYTES, "layout version 4");
}

Test(reader, checks_the_reach_block)
{
	hdr()->reach_why = ZCS_NWHY;
	refused(ZCS_SEGMENT_BYTES, "corrupt: reach why");
	hdr()->reach_why = ZCS_WHY_BYPASSED;
	hdr()->reach_how = ZCS_NHOW;
	refused(ZCS_SEGMENT_BYTES, "corrupt: reach why 4, how 4");
	hdr()->reach_how = ZCS_HOW_DIRECT;
	hdr()->reach_ways = ZCS_WAY_ALL + 1;
	refused(ZCS_SEGMENT_BYTES, "ways 0x10");
	/* names are anyone's: cut at their end, control characters shown as ? */
	hdr()->reach_ways = ZCS_WAY_DLSYM;
	memset(hdr()->reach_object, 'x', sizeof hdr()->reach_object);
	snprintf(hdr()->reach_libzmq, sizeof hdr()->reach_libzmq, "/lib/\nlibzmq\033.so");
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	cr_assert_eq(strlen(snap->hdr.reach_object), sizeof snap->hdr.reach_object - 1);
	cr_assert_str_eq(snap->hdr.reach_libzmq, "/lib/?libzmq?.so");
	cr_assert_eq(snap->hdr.reach_how, ZCS_HOW_DIRECT);
}

Test(reader, refuses_other_layouts)
{
	hdr()->nshards = 1000000;
	refused(ZCS_SEGMENT_BYTES, "layout does not match");
}

Test(reader, refuses_shards_outside_the_segment)
{
	hdr()->shards_offset = ZCS_SEGMENT_BYTES - 8;
	refused(ZCS_SEGMENT_BYTES, "do not fit");
	hdr()->shards_offset = UINT64_MAX - 7;
	refused(ZCS_SEGMENT_BYTES, "do not fit");
	hdr()->shards_offset = 3;
	refused(ZCS_SEGMENT_BYTES, "do not fit");
}

Test(reader, refuses_a_shared_part_outside_or_overlapping)
{
	hdr()->shared_offset = 100; /* inside the header */
	refused(ZCS_SEGMENT_BYTES, "shared part");
	hdr()->shared_offset = ZCS_SEGMENT_BYTES - 8;
	refused(ZCS_SEGMENT_BYTES, "shared part");
	hdr()->shared_offset = UINT64_MAX - 7;
	refused(ZCS_SEGMENT_BYTES, "shared part");
	hdr()->shared_offset = ZCS_SHARDS_OFFSET - 64; /* runs into the shards */
	refused(ZCS_SEGMENT_BYTES, "do not fit");
	hdr()->shared_offset = ZCS_SHARED_OFFSET;
	hdr()->shared_bytes = 8;
	refused(ZCS_SEGMENT_BYTES, "layout does not match");
}

/* Index entries the fuzzer may write: beyond the cells, into other's,
 * twice the same; each refused, none followed. */
Test(reader, refuses_cell_numbers_it_cannot_trust)
{
	uint16_t *e = &shared()->cell_index[5][ZCS_OP_SEND][ZCS_PATH_COPY][3];
	static const struct { uint16_t v; const char *why; } cases[] = {
		{ ZCS_NCELLS, "beyond the cells" },
		{ UINT16_MAX, "beyond the cells" },
		{ 1, "one of other's cells" },
		{ ZCS_NOTHER_CELLS, "one of other's cells" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		*e = cases[i].v;
		refused(ZCS_SEGMENT_BYTES, cases[i].why);
	}
	*e = ZCS_NOTHER_CELLS + 1;
	shared()->cell_index[9][ZCS_OP_HOLD][ZCS_PATH_ZEROCOPY][20] = ZCS_NOTHER_CELLS + 1;
	refused(ZCS_SEGMENT_BYTES, "used twice");
	shared()->cell_index[9][ZCS_OP_HOLD][ZCS_PATH_ZEROCOPY][20] = ZCS_NCELLS - 1;
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	/* other's entries are the layout's, whatever the file says */
	shared()->cell_index[0][ZCS_OP_SEND][ZCS_PATH_COPY][3] = 60000;
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	cr_assert_eq(snap->shared.cell_index[0][ZCS_OP_SEND][ZCS_PATH_COPY][3],
		     zcs_other_cell(ZCS_OP_SEND, ZCS_PATH_COPY, 3));
	shared()->sockets[4].state = 3;
	refused(ZCS_SEGMENT_BYTES, "socket 4 in state 3");
}

Test(reader, sums_by_size_socket_and_both)
{
	/* socket 2 sends 5 x 100 B on its own cell; other has 100 (setup) */
	const unsigned c = ZCS_NOTHER_CELLS + 1;
	shared()->cell_index[2][ZCS_OP_MSG_SEND][ZCS_PATH_CONVERTED][7] = (uint16_t)c;
	shared()->cell_index[2][ZCS_OP_MSG_SEND][ZCS_PATH_CONVERTED][9] = (uint16_t)c + 1;
	shard(1)->cell[c].count = 5;
	shard(2)->cell[c + 1].count = 7;
	shard(1)->failed[2][ZCS_OP_MSG_SEND][ZCS_ERR_ETERM] = 4;
	shared()->sockets[2].state = ZCS_SOCK_OPEN;
	shared()->sockets[2].type = 8;
	memset(shared()->sockets[2].endpoints, 'x', ZCS_ENDPOINTS_MAX);
	shared()->sockets[2].endpoints[3] = '\n';
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	cr_assert_eq(strlen(snap->shared.sockets[2].endpoints), ZCS_ENDPOINTS_MAX - 1);
	cr_assert_eq(snap->shared.sockets[2].endpoints[3], '?');
	cr_assert_eq(zcs_messages(snap), 112);
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_MSG_SEND), 7);
	cr_assert(zcs_slot_used(snap, 2) && zcs_slot_used(snap, 0) && !zcs_slot_used(snap, 3));

	struct zcs_series x;
	size_t it = 0;
	cr_assert(zcs_series_next(snap, &it, &x)); /* by size: [64,128) of both */
	cr_assert(x.slot == ZCS_ALL && x.size_class == 7 && x.cell->count == 105);
	cr_assert(zcs_series_next(snap, &it, &x));
	cr_assert(x.size_class == 9 && x.cell->count == 7);
	cr_assert(!zcs_series_next(snap, &it, &x));

	it = 0; /* by socket: socket 2 first, its sizes added, then other */
	cr_assert(zcs_series_next_by(snap, ZCS_BY_SOCKET, &it, &x));
	cr_assert(x.slot == 2 && x.size_class == ZCS_ALL && x.cell->count == 12);
	cr_assert(zcs_series_next_by(snap, ZCS_BY_SOCKET, &it, &x));
	cr_assert(x.slot == 0 && x.cell->count == 100);
	cr_assert(!zcs_series_next_by(snap, ZCS_BY_SOCKET, &it, &x));

	it = 0;
	int n = 0;
	while (zcs_series_next_by(snap, ZCS_BY_BOTH, &it, &x))
		n++;
	cr_assert_eq(n, 3);
}

Test(reader, without_calls_the_shards_are_not_read)
{
	hdr()->flags = 0;
	/* the header and the shared part are enough */
	cr_assert_eq(zcs_parse(image, ZCS_SHARDS_OFFSET, snap, err, sizeof err), 0, "%s", err);
	cr_assert(!zcs_calls_seen(snap));
	cr_assert_eq(zcs_messages(snap), 0);
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_MSG_SEND), 0);
	refused(ZCS_SHARED_OFFSET + sizeof(struct zcs_shared) - 1, "truncated");
}

Test(reader, a_baseline_subtracts_counters_not_gauges)
{
	shared()->inflight.handed[1].buffers = 9;
	shared()->inflight.peak_buffers = 20;
	shared()->inflight.untracked = 5;
	shared()->cells_short = 6;
	struct zcs_snapshot *base = zcs_snapshot_new();
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, base, err, sizeof err), 0, "%s", err);
	shard(1)->cell[zcs_other_cell(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 7)].count += 10;
	shared()->inflight.released[2].buffers = 6;
	shared()->inflight.untracked = 8;
	shared()->cells_short = 7;
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	zcs_snapshot_sub(snap, snap, base);
	cr_assert_eq(zcs_messages(snap), 10);
	uint64_t buffers, bytes;
	zcs_inflight_now(snap, &buffers, &bytes);
	cr_assert_eq(buffers, 3, "now is now: 9 handed, 6 released");
	cr_assert_eq(snap->shared.inflight.peak_buffers, 20, "a peak is not a count");
	cr_assert_eq(snap->shared.inflight.untracked, 3);
	cr_assert_eq(snap->shared.cells_short, 1);
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_MSG_SEND), 0);
	/* and the image of it reads back the same */
	size_t len;
	unsigned char *img = zcs_snapshot_image(snap, &len);
	cr_assert_eq(zcs_parse(img, len, base, err, sizeof err), 0, "%s", err);
	cr_assert_eq(zcs_messages(base), 10);
	cr_assert_eq(base->shared.inflight.peak_buffers, 20);
	cr_assert_eq(base->shared.cells_short, 1);
	free(img);
	zcs_snapshot_free(base);
}

Test(reader, peaks_are_placed_on_the_wall_clock)
{
	hdr()->tsc_hz = 2000000000; /* a 2 GHz TSC */
	hdr()->start_unix_ns = 1700000000000000000ull;
	shared()->start_clock_ticks = 1000;
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	cr_assert_eq(zcs_ticks_unix_ns(snap, 1000 + 3000000000ull), 1700000001500000000ull);
	cr_assert_eq(zcs_ticks_unix_ns(snap, 0), 0, "never");
	cr_assert_eq(zcs_ticks_unix_ns(snap, 999), 0, "before the start");
	/* a day of ticks does not overflow */
	cr_assert_eq(zcs_ticks_unix_ns(snap, 1000 + 86400ull * 2000000000ull),
		     1700000000000000000ull + 86400ull * 1000000000ull);
}

Test(reader, refuses_bad_state_and_pid)
{
	hdr()->state = 7;
	refused(ZCS_SEGMENT_BYTES, "corrupt");
	hdr()->state = ZCS_STATE_RUNNING;
	hdr()->pid = -1;
	refused(ZCS_SEGMENT_BYTES, "corrupt");
}

Test(reader, terminates_an_unterminated_name)
{
	memset(hdr()->exe, 'x', sizeof hdr()->exe);
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0);
	cr_assert_eq(strlen(snap->hdr.exe), sizeof hdr()->exe - 1);
}

Test(reader, every_prefix_of_a_segment_is_handled)
{
	/* short reads of a segment being truncated: refused, never a crash,
	 * from inside the header to one byte short of the whole */
	for (size_t len = 0; len <= 4096; len += 7)
		cr_assert_eq(zcs_parse(image, len, snap, err, sizeof err), -1);
	for (size_t len = 4096; len < ZCS_SEGMENT_BYTES; len += 65537)
		cr_assert_eq(zcs_parse(image, len, snap, err, sizeof err), -1, "len %zu", len);
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES - 1, snap, err, sizeof err), -1);
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0);
}

Test(reader, names)
{
	struct zcs_name n;
	cr_assert_eq(zcs_parse_name("zcshim.123.456.0", &n), 0);
	cr_assert_eq(n.pid, 123);
	cr_assert_eq(n.start_ticks, 456);
	cr_assert_eq(n.seq, 0);
	cr_assert_str_eq(n.path, "/dev/shm/zcshim.123.456.0");
	cr_assert_eq(zcs_parse_name("zcshim.123.456", &n), -1);
	cr_assert_eq(zcs_parse_name("zcshim.123.456.0x", &n), -1);
	cr_assert_eq(zcs_parse_name("zcshim.-1.456.0", &n), -1);
	cr_assert_eq(zcs_parse_name("other.1.2.3", &n), -1);
}

Test(reader, reads_files_and_refuses_symlinks)
{
	char path[] = "/tmp/zcshim-test-XXXXXX", link[64];
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, image, ZCS_SEGMENT_BYTES), (ssize_t)ZCS_SEGMENT_BYTES);
	close(fd);
	cr_assert_eq(zcs_read(path, snap, err, sizeof err), 0, "%s", err);
	cr_assert_eq(other_cell(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 7)->count, 100);

	snprintf(link, sizeof link, "%s.lnk", path);
	cr_assert_eq(symlink(path, link), 0);
	cr_assert_eq(zcs_read(link, snap, err, sizeof err), -1);
	cr_assert_not_null(strstr(err, "symlink"), "%s", err);

	cr_assert_eq(truncate(path, 1000), 0);
	cr_assert_eq(zcs_read(path, snap, err, sizeof err), -1);
	cr_assert_not_null(strstr(err, "truncated"), "%s", err);
	unlink(link);
	unlink(path);
}

Test(reader, start_time_is_field_22_even_with_odd_names)
{
	/* comm "a) (b c" has spaces and parens; starttime (field 22) is 4711 */
	const char *stat = "123 (a) (b c) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
			   "4711 1000 200 18446744073709551615";
	cr_assert_eq(zcs_stat_start_ticks(stat), 4711);
	cr_assert_eq(zcs_stat_start_ticks("garbage"), 0);
	cr_assert_eq(zcs_stat_start_ticks("1 (x) S 1 2"), 0);
	cr_assert_gt(zcs_proc_start_ticks("/proc/self/stat"), 0);
}

Test(reader, refuses_another_users_segment)
{
	char path[] = "/tmp/zcshim-test-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, image, ZCS_SEGMENT_BYTES), (ssize_t)ZCS_SEGMENT_BYTES);
	close(fd);
	uid_t other = geteuid() == 65534 ? 65533 : 65534;
	if (chown(path, other, (gid_t)-1) != 0) {
		unlink(path);
		cr_skip_test("cannot chown as uid %u: needs root", (unsigned)geteuid());
	}
	cr_assert_eq(zcs_read(path, snap, err, sizeof err), -1);
	char want[64];
	snprintf(want, sizeof want, "owned by uid %u", (unsigned)other);
	cr_assert_not_null(strstr(err, want), "%s", err);
	unlink(path);
}

/* A writer rewriting the file (valid, garbage, cut short, grown) while the
 * reader reads it: each read succeeds or fails cleanly, never crashes. */
struct rewriter {
	const char *path;
	volatile int stop;
};

static void *rewrite(void *arg)
{
	struct rewriter *r = arg;
	unsigned char junk[4096];
	for (unsigned i = 0; !r->stop; i++) {
		int fd = open(r->path, O_WRONLY);
		if (fd < 0)
			continue;
		switch (i % 4) {
		case 0: (void)!pwrite(fd, image, ZCS_SEGMENT_BYTES, 0); break;
		case 1: memset(junk, (int)i, sizeof junk); (void)!pwrite(fd, junk, sizeof junk, 0); break;
		case 2: (void)!ftruncate(fd, (off_t)(i * 7919 % ZCS_SEGMENT_BYTES)); break;
		case 3: (void)!ftruncate(fd, (off_t)ZCS_SEGMENT_BYTES * 2); break;
		}
		close(fd);
	}
	return NULL;
}

Test(reader, a_segment_rewritten_while_read)
{
	char path[] = "/tmp/zcshim-test-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	struct rewriter r = { path, 0 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, rewrite, &r), 0);
	int ok = 0, refused_ = 0;
	for (int i = 0; i < 300; i++) {
		if (zcs_read(path, snap, err, sizeof err) == 0)
			ok++;
		else
			refused_++;
	}
	r.stop = 1;
	pthread_join(t, NULL);
	unlink(path);
	cr_assert_gt(refused_, 0, "the rewriter never got in the way");
}

/* pid recycling: two segments of one pid, told apart by start time */
Test(reader, a_recycled_pid_is_told_apart_by_start_time)
{
	uint64_t start = zcs_proc_start_ticks("/proc/self/stat");
	cr_assert_gt(start, 1);
	char older[128], newer[128];
	snprintf(older, sizeof older, "/dev/shm/zcshim.%d.%llu.0", (int)getpid(),
		 (unsigned long long)(start - 1));
	snprintf(newer, sizeof newer, "/dev/shm/zcshim.%d.%llu.0", (int)getpid(),
		 (unsigned long long)start);
	hdr()->pid = getpid();
	hdr()->state = ZCS_STATE_RUNNING;
	hdr()->start_ticks = start - 1;
	strcpy(hdr()->exe, "old");
	int fd = open(older, O_CREAT | O_EXCL | O_WRONLY, 0600);
	cr_assert_geq(fd, 0, "%s", older);
	cr_assert_eq(write(fd, image, ZCS_SEGMENT_BYTES), (ssize_t)ZCS_SEGMENT_BYTES);
	close(fd);
	hdr()->start_ticks = start;
	strcpy(hdr()->exe, "new");
	fd = open(newer, O_CREAT | O_EXCL | O_WRONLY, 0600);
	cr_assert_geq(fd, 0, "%s", newer);
	cr_assert_eq(write(fd, image, ZCS_SEGMENT_BYTES), (ssize_t)ZCS_SEGMENT_BYTES);
	close(fd);

	char pid[32];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	int found = zcs_find(pid, snap, err, sizeof err);
	unsigned live_new = snap->live;
	char exe_new[64];
	snprintf(exe_new, sizeof exe_new, "%s", snap->hdr.exe);
	int read_old = zcs_read(older, snap, err, sizeof err);
	unlink(older);
	unlink(newer);
	cr_assert_eq(found, 0, "%s", err);
	cr_assert_str_eq(exe_new, "new");
	cr_assert_eq(live_new, ZCS_LIVE_RUNNING);
	cr_assert_eq(read_old, 0);
	cr_assert_eq(snap->live, ZCS_LIVE_DEAD, "the pid's earlier process is gone");
}

Test(reader, a_foreign_replaced_marker_is_not_believed)
{
	/* our own running process's segment, and a next-seq file someone else
	 * dropped beside it */
	char dir[] = "/tmp/zcshim-dir-XXXXXX", mine[512], marker[512];
	cr_assert_not_null(mkdtemp(dir));
	uint64_t start = zcs_proc_start_ticks("/proc/self/stat");
	snprintf(mine, sizeof mine, "%s/zcshim.%d.%llu.0", dir, (int)getpid(),
		 (unsigned long long)start);
	snprintf(marker, sizeof marker, "%s/zcshim.%d.%llu.1", dir, (int)getpid(),
		 (unsigned long long)start);
	hdr()->pid = getpid();
	hdr()->state = ZCS_STATE_RUNNING;
	hdr()->start_ticks = start;
	int fd = open(mine, O_CREAT | O_WRONLY, 0600);
	cr_assert_eq(write(fd, image, ZCS_SEGMENT_BYTES), (ssize_t)ZCS_SEGMENT_BYTES);
	close(fd);
	fd = open(marker, O_CREAT | O_WRONLY, 0600);
	close(fd);
	int chowned = chown(marker, 65534, (gid_t)-1) == 0;
	int rc = zcs_read(mine, snap, err, sizeof err);
	unsigned live = snap->live;
	unlink(marker);
	unlink(mine);
	rmdir(dir);
	if (!chowned)
		cr_skip_test("cannot chown: needs root");
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(live, ZCS_LIVE_RUNNING, "another user's file made it '%s'",
		     zcs_live_name(live));
}
