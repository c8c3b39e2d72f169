/*
 * target.c - one fuzz input through everything the reader does with bytes
 * from a segment file. Used by the libFuzzer driver (make fuzz) and by the
 * regression test that replays tests/fuzz/{seeds,regressions}/ in make test.
 *
 * Inputs are small, segments are megabytes: the input is parsed on its own
 * (short and truncated files), and also laid over the header of an
 * otherwise valid segment image, with its last byte choosing how much of
 * the image the reader "got" (a file truncated while read). What lies
 * between the header and the last byte goes over socket 1's row, the
 * shared part's counters (cells used, shards used) and the cell index,
 * where a wrong number would send the reader out of bounds: its first two
 * bytes say how many of the rest are the row's and the counters' (up to
 * their sizes), the others are index entries. Kept apart, each can be
 * valid while another is mutated.
 */
#include "target.h"

#include <string.h>

#include "histo.h"
#include "segread.h"

static unsigned char *image;
static struct zcs_header template_header;

static struct zcs_shared template_shared;

static void setup(void)
{
	image = calloc(1, ZCS_SEGMENT_BYTES);
	zcs_header_init_layout(&template_header);
	template_header.pid = 1;
	template_header.state = ZCS_STATE_EXITED;
	template_header.sample_every = 1;
	template_header.flags = ZCS_F_CALLS_SEEN;
	/* two series in shard 1 */
	template_shared.cells_used = ZCS_CELL_FIRST + 2;
	template_shared.shards_used[0] = 2;
	for (unsigned i = 0; i < 2; i++) {
		uint32_t key = zcs_key(1, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 7 + i);
		template_shared.index[zcs_key_hash(key)] =
			key << ZCS_INDEX_CELL_BITS | (ZCS_CELL_FIRST + i);
	}
}

int zcs_fuzz_one(const uint8_t *data, size_t size)
{
	static struct zcs_snapshot *snap;
	char err[256];
	int parsed = 0;
	if (!snap) {
		snap = zcs_snapshot_new();
		setup();
	}
	if (!snap || !image)
		return 0;

	/* 1: the input is the whole file */
	parsed += zcs_parse(data, size, snap, err, sizeof err) == 0;

	/* 2: the input overlays a valid header; its last byte picks a length */
	memcpy(image, &template_header, sizeof template_header);
	memcpy(image, data, size < sizeof template_header ? size : sizeof template_header);
	struct zcs_shared *sh = (struct zcs_shared *)(image + ZCS_SHARED_OFFSET);
	memcpy(sh, &template_shared, sizeof *sh);
	if (size > sizeof template_header + 3) {
		size_t extra = size - sizeof template_header - 3;
		const uint8_t *from = data + sizeof template_header + 2;
		size_t row = data[sizeof template_header], head = data[sizeof template_header + 1];
		row = row < extra ? row : extra;
		row = row < sizeof sh->sockets[1] ? row : sizeof sh->sockets[1];
		memcpy(&sh->sockets[1], from, row);
		extra -= row;
		from += row;
		head = head < extra ? head : extra;
		head = head < offsetof(struct zcs_shared, sockets) ? head
								  : offsetof(struct zcs_shared, sockets);
		memcpy(sh, from, head);
		extra -= head;
		from += head;
		memcpy(sh->index, from, extra < sizeof sh->index ? extra : sizeof sh->index);
	}
	size_t len = ZCS_SEGMENT_BYTES;
	if (size > sizeof template_header) {
		static const size_t cuts[] = { 0, 1, 255, 256, 4096, 4097, 40960, 1000000,
					       ZCS_SHARDS_OFFSET + 100 };
		uint8_t pick = data[size - 1];
		if (pick < sizeof cuts / sizeof cuts[0])
			len = cuts[pick];
	}
	if (zcs_parse(image, len, snap, err, sizeof err) == 0) {
		parsed++;
		/* whatever the header said, the series and quantiles stay in bounds */
		struct zcs_series x;
		for (unsigned by = ZCS_BY_SIZE; by <= ZCS_BY_BOTH; by++)
			for (size_t it = 0; zcs_series_next_by(snap, by, &it, &x);)
				(void)zcs_cell_quantile_ns(x.cell, 0.99);
		for (unsigned slot = 0; slot < ZCS_NSLOTS; slot++) {
			size_t it = 0;
			const char *ep;
			while ((ep = zcs_endpoint_next(&snap->shared.sockets[slot], &it, NULL)))
				(void)strlen(ep);
		}
		struct zcs_time_split t;
		zcs_time_split(snap, ZCS_ALL, &t);
		(void)zcs_messages(snap);
		(void)strlen(snap->hdr.exe);
	}

	/* 3: the input as a segment name */
	char name[300];
	size_t n = size < sizeof name - 1 ? size : sizeof name - 1;
	memcpy(name, data, n);
	name[n] = '\0';
	struct zcs_name nm;
	(void)zcs_parse_name(name, &nm);
	return parsed;
}
