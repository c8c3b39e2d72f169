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
#include "procid.h"
#include "segimg.h"
#include "segread.h"

static unsigned char *image;
static struct zcs_snapshot *snap;
static char err[512];

static struct zcs_header *hdr(void)
{
	return seg_hdr(image);
}

static struct zcs_shared *shared(void)
{
	return seg_shared(image);
}

/* Counts of cell n in shard i (which then is in use). */
static struct zcs_counts *counts(unsigned i, unsigned n)
{
	shared()->shards_used[i / 64] |= UINT64_C(1) << (i % 64);
	return (struct zcs_counts *)(seg_shard(image, i) + 1) + n;
}

static struct zcs_hist *hist(unsigned n)
{
	return (struct zcs_hist *)(image + zcs_hist_chunk_offset(n / ZCS_HIST_CHUNK_CELLS)) +
	       n % ZCS_HIST_CHUNK_CELLS;
}

/* Give the next cell to a key, as the writer does. */
static unsigned new_cell(unsigned slot, unsigned op, unsigned path, unsigned k)
{
	uint32_t key = zcs_key(slot, op, path, k), i = zcs_key_hash(key);
	while (shared()->index[i])
		i = (i + 1) & (ZCS_INDEX_SIZE - 1);
	unsigned n = shared()->cells_used++;
	shared()->index[i] = key << ZCS_INDEX_CELL_BITS | n;
	return n;
}

/* Where the reader stops reading this image: the end of the last used
 * shard's counts. */
static size_t needed(void)
{
	unsigned last = 0;
	for (unsigned s = 0; s < ZCS_NSHARDS; s++)
		if (shared()->shards_used[s / 64] >> (s % 64) & 1)
			last = s;
	return zcs_shard_offset(last) + zcs_shard_used_bytes(shared()->cells_used);
}

/* A valid segment of pid 4242: other's msg_send converted [64,128) counted
 * in shards 1 and 3 (90 x 100 ns, 10 x 5 us), 3 EAGAINs in shard 2. */
static unsigned conv7;
static void setup(void)
{
	image = seg_new(4242, ZCS_STATE_EXITED, "app");
	snap = zcs_snapshot_new();
	cr_assert(image && snap);
	conv7 = new_cell(ZCS_SLOT_OTHER, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 7);
	*counts(1, conv7) = (struct zcs_counts){ 90, 9000, 90, 90 * 100 };
	*counts(3, conv7) = (struct zcs_counts){ 10, 1000, 10, 10 * 5000 };
	hist(conv7)->buckets[zcs_bucket(100)] = 90;
	hist(conv7)->buckets[zcs_bucket(5000)] = 10;
	unsigned f = new_cell(ZCS_SLOT_OTHER, ZCS_OP_MSG_SEND, ZCS_PATH_FAILED, ZCS_ERR_EAGAIN);
	counts(2, f)->calls = 3;
}

/* The cell a reader shows for other's (op, path, size class). */
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
	cr_assert_eq(c->msgs, 100);
	cr_assert_eq(c->est_ns, 59000);
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_MSG_SEND), 3);
	cr_assert_eq(snap->sum.failed[ZCS_SLOT_OTHER][ZCS_OP_MSG_SEND][ZCS_ERR_EAGAIN], 3);
	cr_assert_eq(zcs_messages(snap), 100);
	cr_assert_eq(snap->live, ZCS_LIVE_EXITED);
	cr_assert_str_eq(snap->hdr.exe, "app");
}

/* The time in a socket's op is its timed calls weighed (est_ns), not their
 * mean times the count: a series none of whose calls was timed is in the
 * weights of its op's timed calls; an op with none timed is left out, and
 * said to be. */
Test(reader, time_split_weighs_the_timed_calls_and_counts_ops_never_timed)
{
	unsigned copy = new_cell(ZCS_SLOT_OTHER, ZCS_OP_MSG_SEND, ZCS_PATH_COPY, 3);
	counts(1, copy)->calls = 5;
	unsigned recv = new_cell(ZCS_SLOT_OTHER, ZCS_OP_RECV, ZCS_PATH_COPY, 3);
	counts(2, recv)->calls = 7;
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	struct zcs_time_split t;
	zcs_time_split(snap, ZCS_ALL, &t);
	cr_assert_float_eq(t.send_ns, 59000.0, 0.5);
	cr_assert_float_eq(t.wait_ns, 0.0, 0.5);
	cr_assert_eq(t.untimed_calls, 7);
	zcs_time_split(snap, 1, &t);
	cr_assert_float_eq(t.send_ns, 0.0, 0.5, "another socket's");
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
	cr_assert_null(other_cell(ZCS_OP_SEND, ZCS_PATH_COPY, 7), "never used: no cell");
}

static void refused(size_t len, const char *why)
{
	cr_assert_eq(zcs_parse(image, len, snap, err, sizeof err), -1, "accepted; want '%s'", why);
	cr_assert_not_null(strstr(err, why), "error '%s' does not say '%s'", err, why);
}

Test(reader, refuses_truncated)
{
	refused(10, "truncated");
	refused(needed() - 1, "truncated");
	cr_assert_eq(zcs_parse(image, needed(), snap, err, sizeof err), 0, "%s", err);
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
	/* names are anyone's: cut at their end, control characters in text form */
	hdr()->reach_ways = ZCS_WAY_DLSYM;
	memset(hdr()->reach_object, 'x', sizeof hdr()->reach_object);
	snprintf(hdr()->reach_libzmq, sizeof hdr()->reach_libzmq, "/lib/\nlibzmq\033.so");
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	cr_assert_eq(strlen(snap->hdr.reach_object), sizeof snap->hdr.reach_object - 1);
	cr_assert_str_eq(snap->hdr.reach_libzmq, "/lib/\\x0alibzmq\\x1b.so");
	cr_assert_eq(snap->hdr.reach_how, ZCS_HOW_DIRECT);
}

Test(reader, refuses_other_layouts)
{
	static const size_t fields[] = {
		offsetof(struct zcs_header, nshards), offsetof(struct zcs_header, shards_offset),
		offsetof(struct zcs_header, shared_offset), offsetof(struct zcs_header, hist_offset),
		offsetof(struct zcs_header, shared_bytes), offsetof(struct zcs_header, segment_bytes),
		offsetof(struct zcs_header, shard_area_bytes), offsetof(struct zcs_header, layout_hash),
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		image[fields[i]] ^= 0x40;
		refused(ZCS_SEGMENT_BYTES, "layout does not match");
		image[fields[i]] ^= 0x40;
	}
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
}

/* Index entries the fuzzer may write: keys and cells out of range, a cell
 * or key twice; each refused, none followed. */
Test(reader, refuses_index_entries_it_cannot_trust)
{
	uint32_t key = zcs_key(5, ZCS_OP_SEND, ZCS_PATH_COPY, 3), at = 77;
	static const struct { uint32_t cell; const char *why; } cells[] = {
		{ 0, "an overflow cell" },
		{ 3, "an overflow cell" },
		{ 500, "not given out" },
		{ ZCS_INDEX_CELL_MASK, "not given out" },
	};
	cr_assert_eq(shared()->index[at], 0);
	for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
		shared()->index[at] = key << ZCS_INDEX_CELL_BITS | cells[i].cell;
		refused(ZCS_SEGMENT_BYTES, cells[i].why);
	}
	shared()->index[at] = key << ZCS_INDEX_CELL_BITS | conv7;
	refused(ZCS_SEGMENT_BYTES, "used twice");
	shared()->index[at] = (ZCS_NKEYS + 1) << ZCS_INDEX_CELL_BITS | conv7;
	refused(ZCS_SEGMENT_BYTES, "holds key");
	shared()->index[at] = zcs_key(2, ZCS_OP_HOLD, ZCS_PATH_FAILED, 0) << ZCS_INDEX_CELL_BITS |
			      shared()->cells_used++;
	refused(ZCS_SEGMENT_BYTES, "failed hold");
	shared()->index[at] = zcs_key(2, ZCS_OP_SEND, ZCS_PATH_FAILED, ZCS_NERRS)
				      << ZCS_INDEX_CELL_BITS | (shared()->cells_used - 1);
	refused(ZCS_SEGMENT_BYTES, "errno kind");
	shared()->index[at] = zcs_key(ZCS_SLOT_OTHER, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 7)
				      << ZCS_INDEX_CELL_BITS | (shared()->cells_used - 1);
	refused(ZCS_SEGMENT_BYTES, "twice");
	shared()->index[at] = key << ZCS_INDEX_CELL_BITS | (shared()->cells_used - 1);
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	shared()->cells_used = ZCS_NCELLS_MAX + 1;
	refused(ZCS_SEGMENT_BYTES, "cells used");
	shared()->cells_used = 2;
	refused(ZCS_SEGMENT_BYTES, "cells used");
	shared()->cells_used = ZCS_CELL_FIRST + 3;
	shared()->sockets[4].state = 3;
	refused(ZCS_SEGMENT_BYTES, "socket 4 in state 3");
}

Test(reader, sums_by_size_socket_and_both)
{
	/* socket 2 sends 5 x 100 B and 7 x 300 B; other has 100 (setup) */
	unsigned c = new_cell(2, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 7);
	unsigned d = new_cell(2, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 9);
	counts(1, c)->calls = 5;
	counts(2, d)->calls = 7;
	unsigned f = new_cell(2, ZCS_OP_MSG_SEND, ZCS_PATH_FAILED, ZCS_ERR_ETERM);
	counts(1, f)->calls = 4;
	shared()->sockets[2].state = ZCS_SOCK_OPEN;
	shared()->sockets[2].type = 8;
	/* no end to the list: the reader closes it at the last byte; the
	 * app's bytes are kept as they are, a newline included */
	memset(shared()->sockets[2].endpoints, 'b', ZCS_ENDPOINTS_MAX);
	shared()->sockets[2].endpoints[3] = '\n';
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	size_t it = 0;
	const char *ep = zcs_endpoint_next(&snap->shared.sockets[2], &it, NULL);
	cr_assert_not_null(ep);
	cr_assert_eq(strlen(ep), ZCS_ENDPOINTS_MAX - 3, "cut to the row");
	cr_assert_eq(ep[2], '\n');
	cr_assert_null(zcs_endpoint_next(&snap->shared.sockets[2], &it, NULL));
	cr_assert_eq(zcs_messages(snap), 112);
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_MSG_SEND), 7);
	cr_assert(zcs_slot_used(snap, 2) && zcs_slot_used(snap, 0) && !zcs_slot_used(snap, 3));

	struct zcs_series x;
	it = 0;
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

Test(reader, endpoint_lists_keep_each_endpoint_whole)
{
	struct zcs_socket *row = &shared()->sockets[3];
	row->state = ZCS_SOCK_OPEN;
	static const char list[] = "bipc:///tmp/rt a b.ipc\0ctcp://h:1\0x junk\0c\0";
	memcpy(row->endpoints, list, sizeof list);
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	size_t it = 0;
	int bound = -1;
	cr_assert_str_eq(zcs_endpoint_next(&snap->shared.sockets[3], &it, &bound),
			 "ipc:///tmp/rt a b.ipc");
	cr_assert_eq(bound, 1);
	cr_assert_str_eq(zcs_endpoint_next(&snap->shared.sockets[3], &it, &bound), "tcp://h:1");
	cr_assert_eq(bound, 0);
	cr_assert_null(zcs_endpoint_next(&snap->shared.sockets[3], &it, &bound),
		       "entries the writer does not make are skipped");
}

Test(reader, without_calls_the_shards_are_not_read)
{
	hdr()->flags = 0;
	/* the header and the shared part are enough */
	cr_assert_eq(zcs_parse(image, ZCS_BASE_BYTES, snap, err, sizeof err), 0, "%s", err);
	cr_assert(!zcs_calls_seen(snap));
	cr_assert_eq(zcs_messages(snap), 0);
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_MSG_SEND), 0);
	refused(ZCS_SHARED_OFFSET + sizeof(struct zcs_shared) - 1, "truncated");
}

Test(reader, a_baseline_subtracts_counters_not_gauges)
{
	seg_shard(image, 1)->handed.buffers = 9;
	shared()->peak.buffers = 20;
	shared()->untracked = 5;
	shared()->cells_short = 6;
	shared()->failed_short = 2;
	struct zcs_snapshot *base = zcs_snapshot_new();
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, base, err, sizeof err), 0, "%s", err);
	counts(1, conv7)->calls += 10;
	seg_shard(image, 2)->released.buffers = 6;
	shared()->untracked = 8;
	shared()->cells_short = 7;
	shared()->failed_short = 5;
	seg_shard(image, 2)->busy_ns_done = 5000; /* a thread that ended after the baseline */
	seg_shard(image, 2)->threads = 1;
	cr_assert_eq(zcs_parse(image, ZCS_SEGMENT_BYTES, snap, err, sizeof err), 0, "%s", err);
	zcs_snapshot_sub(snap, snap, base);
	cr_assert_eq(zcs_messages(snap), 10);
	uint64_t buffers, bytes;
	zcs_inflight_now(snap, &buffers, &bytes);
	cr_assert_eq(buffers, 3, "now is now: 9 handed, 6 released");
	cr_assert_eq(snap->shared.inflight.peak_buffers, 20, "a peak is not a count");
	cr_assert_eq(snap->shared.inflight.untracked, 3);
	cr_assert_eq(snap->shared.cells_short, 1);
	cr_assert_eq(snap->shared.failed_short, 3);
	cr_assert_eq(zcs_failed_op(snap, ZCS_OP_MSG_SEND), 0);
	/* and the image of it reads back the same */
	size_t len;
	unsigned char *img = zcs_snapshot_image(snap, &len);
	cr_assert_eq(zcs_parse(img, len, base, err, sizeof err), 0, "%s", err);
	cr_assert_eq(zcs_messages(base), 10);
	cr_assert_eq(base->shared.inflight.peak_buffers, 20);
	cr_assert_eq(base->shared.cells_short, 1);
	cr_assert_eq(base->shared.failed_short, 3);
	cr_assert_eq(snap->sum.busy_ns, 5000);
	cr_assert_eq(base->sum.busy_ns, 5000, "callers' time is kept too");
	cr_assert_eq(base->sum.threads, snap->sum.threads);
	zcs_inflight_now(base, &buffers, &bytes);
	cr_assert_eq(buffers, 3);
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
	 * from inside the header to one byte short of what it needs */
	size_t need = needed();
	for (size_t len = 0; len <= 4096; len += 7)
		cr_assert_eq(zcs_parse(image, len, snap, err, sizeof err), -1);
	for (size_t len = 4096; len < need; len += 65537)
		cr_assert_eq(zcs_parse(image, len, snap, err, sizeof err), -1, "len %zu", len);
	cr_assert_eq(zcs_parse(image, need - 1, snap, err, sizeof err), -1);
	cr_assert_eq(zcs_parse(image, need, snap, err, sizeof err), 0);
}

Test(reader, names)
{
	struct zcs_name n;
	cr_assert_eq(zcs_parse_name("zcshim.4026531836.123.456.0", &n), 0);
	cr_assert_eq(n.pidns, 4026531836u);
	cr_assert_eq(n.pid, 123);
	cr_assert_eq(n.start_ticks, 456);
	cr_assert_eq(n.seq, 0);
	cr_assert_str_eq(n.path, "/dev/shm/zcshim.4026531836.123.456.0");
	cr_assert_eq(zcs_parse_name("zcshim.123.456.0", &n), -1, "layout 2's names");
	cr_assert_eq(zcs_parse_name("zcshim.1.123.456.0x", &n), -1);
	cr_assert_eq(zcs_parse_name("zcshim.1.-1.456.0", &n), -1);
	cr_assert_eq(zcs_parse_name("zcshim.ledger.1.0", &n), -1);
	cr_assert_eq(zcs_parse_name("other.1.1.2.3", &n), -1);
}

Test(reader, reads_files_and_refuses_symlinks)
{
	char path[] = "/tmp/zcshim-test-XXXXXX", link[64];
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, image, needed()), (ssize_t)needed());
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
	cr_assert_eq(write(fd, image, needed()), (ssize_t)needed());
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
		case 0: (void)!pwrite(fd, image, needed(), 0); break;
		case 1: memset(junk, (int)i, sizeof junk); (void)!pwrite(fd, junk, sizeof junk, 0); break;
		case 2: (void)!ftruncate(fd, (off_t)(i * 7919 % needed())); break;
		case 3: (void)!ftruncate(fd, (off_t)needed() * 2); break;
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
	unsigned long long ns = zcs_ns_inode("/proc/self/ns/pid");
	snprintf(older, sizeof older, "/dev/shm/zcshim.%llu.%d.%llu.0", ns, (int)getpid(),
		 (unsigned long long)(start - 1));
	snprintf(newer, sizeof newer, "/dev/shm/zcshim.%llu.%d.%llu.0", ns, (int)getpid(),
		 (unsigned long long)start);
	hdr()->pid = getpid();
	hdr()->pidns = ns;
	hdr()->state = ZCS_STATE_RUNNING;
	hdr()->start_ticks = start - 1;
	strcpy(hdr()->exe, "old");
	int fd = open(older, O_CREAT | O_EXCL | O_WRONLY, 0600);
	cr_assert_geq(fd, 0, "%s", older);
	cr_assert_eq(write(fd, image, needed()), (ssize_t)needed());
	close(fd);
	hdr()->start_ticks = start;
	strcpy(hdr()->exe, "new");
	fd = open(newer, O_CREAT | O_EXCL | O_WRONLY, 0600);
	cr_assert_geq(fd, 0, "%s", newer);
	cr_assert_eq(write(fd, image, needed()), (ssize_t)needed());
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
	unsigned long long ns = zcs_ns_inode("/proc/self/ns/pid");
	snprintf(mine, sizeof mine, "%s/zcshim.%llu.%d.%llu.0", dir, ns, (int)getpid(),
		 (unsigned long long)start);
	snprintf(marker, sizeof marker, "%s/zcshim.%llu.%d.%llu.1", dir, ns, (int)getpid(),
		 (unsigned long long)start);
	hdr()->pid = getpid();
	hdr()->pidns = ns;
	hdr()->state = ZCS_STATE_RUNNING;
	hdr()->start_ticks = start;
	int fd = open(mine, O_CREAT | O_WRONLY, 0600);
	cr_assert_eq(write(fd, image, needed()), (ssize_t)needed());
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
