/*
 * target.c - one fuzz input through everything the reader does with bytes
 * from a segment file. Used by the libFuzzer driver (make fuzz) and by the
 * regression test that replays tests/fuzz/{seeds,regressions}/ in make test.
 *
 * Inputs are small, segments are 6.4 MB: the input is parsed on its own
 * (short and truncated files), and also laid over the header of an
 * otherwise valid segment image, with its last byte choosing how much of
 * the image the reader "got" (a file truncated while read). What lies
 * between the header and the last byte goes over socket 1's row and its
 * cell index entries, where a wrong number would send the reader out of
 * bounds: its first byte says how many of the rest are the row's (up to
 * the row's size), the others are index entries. Kept apart, each can be
 * valid while the other is mutated: over the same bytes, a row's state and
 * flags had to be 0 exactly where index entries were wanted.
 */
#include "target.h"

#include <string.h>

#include "histo.h"
#include "segread.h"

static unsigned char *image;
static struct zcs_header template_header;

static void setup(void)
{
	image = calloc(1, ZCS_SEGMENT_BYTES);
	zcs_header_init_layout(&template_header);
	template_header.pid = 1;
	template_header.state = ZCS_STATE_EXITED;
	template_header.sample_every = 1;
	template_header.flags = ZCS_F_CALLS_SEEN;
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
	memset(sh->cell_index[1], 0, sizeof sh->cell_index[1]);
	memset(&sh->sockets[1], 0, sizeof sh->sockets[1]);
	if (size > sizeof template_header + 2) {
		size_t extra = size - sizeof template_header - 2;
		const uint8_t *from = data + sizeof template_header + 1;
		size_t row = data[sizeof template_header];
		row = row < extra ? row : extra;
		row = row < sizeof sh->sockets[1] ? row : sizeof sh->sockets[1];
		memcpy(&sh->sockets[1], from, row);
		extra -= row;
		memcpy(sh->cell_index[1], from + row,
		       extra < sizeof sh->cell_index[1] ? extra : sizeof sh->cell_index[1]);
	}
	size_t len = ZCS_SEGMENT_BYTES;
	if (size > sizeof template_header) {
		static const size_t cuts[] = { 0, 1, 255, 256, 4096, 4097, 1000000 };
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
			size_t at = 0;
			for (const char *ep; (ep = zcs_endpoint_next(&snap->shared.sockets[slot], &at));)
				(void)strlen(ep);
		}
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
