/*
 * mkseeds.c - write the fuzz seeds in tests/fuzz/seeds from this layout,
 * so a layout change regenerates them rather than leaving them to test a
 * format nobody writes: `make fuzz-seeds`. Each seed is a header (600 B),
 * sometimes with one more byte that picks where target.c cuts the image.
 * Also the fuzzer's dictionary: the numbers the reader checks fields
 * against, as the bytes it reads (little-endian), at and around each bound.
 * The compiler folds a check like "c <= 812 || c >= 1325" into one range
 * test, which hides 1325 from libFuzzer's comparison tracing; a dictionary
 * hands it the bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcshim_segment.h"

static void header(struct zcs_header *h, unsigned state)
{
	memset(h, 0, sizeof *h);
	zcs_header_init_layout(h);
	h->state = state;
	h->pid = 123;
	h->start_ticks = 1;
	h->start_unix_ns = 2;
	h->threshold_bytes = 65536;
	h->mode = ZCS_MODE_CONVERT;
	h->sample_every = 1;
	h->tsc_hz = 2400000000u;
	h->clock = ZCS_CLOCK_TSC;
	h->libzmq_version = 40304;
	h->flags = ZCS_F_LAYOUT_KNOWN | ZCS_F_CALLS_SEEN;
	snprintf(h->exe, sizeof h->exe, "app");
	h->reach_ways = ZCS_WAY_BINDING | ZCS_WAY_DLSYM;
	h->reach_why = ZCS_WHY_SEEN;
	h->reach_dlsym = 12;
	snprintf(h->reach_libzmq, sizeof h->reach_libzmq, "/usr/lib/x86_64-linux-gnu/libzmq.so.5");
}

static void seed(const char *dir, const char *name, const void *bytes, size_t len, int cut)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(bytes, 1, len, f) != len || (cut >= 0 && fputc(cut, f) == EOF) ||
	    fclose(f) != 0) {
		fprintf(stderr, "mkseeds: %s: cannot write\n", path);
		exit(1);
	}
}

/* "v-1", "v", "v+1" as bytes little-endian words of `bytes` bytes. */
static void words(FILE *f, const char *name, uint64_t v, unsigned bytes)
{
	for (int d = -1; d <= 1; d++) {
		uint64_t w = v + (uint64_t)(int64_t)d;
		fprintf(f, "%s_%s=\"", name, d < 0 ? "less" : d ? "more" : "at");
		for (unsigned i = 0; i < bytes; i++)
			fprintf(f, "\\x%02x", (unsigned)(w >> (8 * i) & 0xff));
		fprintf(f, "\"\n");
	}
}

static void dictionary(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "mkseeds: %s: cannot write\n", path);
		exit(1);
	}
	fprintf(f, "# written by tests/fuzz/mkseeds.c (make fuzz-seeds): the bounds the "
		   "reader checks\n");
	words(f, "ncells", ZCS_NCELLS_MAX, 4);      /* cells used */
	words(f, "cell_first", ZCS_CELL_FIRST, 4);
	words(f, "nkeys", ZCS_NKEYS, 4);            /* an index entry's key */
	words(f, "index_last_key", (uint64_t)ZCS_NKEYS << ZCS_INDEX_CELL_BITS, 4);
	words(f, "sock_state", ZCS_SOCK_CLOSED, 4);
	words(f, "sock_flags", ZCS_SOCK_F_CUT, 4);
	words(f, "version", ZCS_LAYOUT_VERSION, 4);
	words(f, "segment_bytes", ZCS_SEGMENT_BYTES, 8);
	words(f, "shared_offset", ZCS_SHARED_OFFSET, 8);
	words(f, "shards_offset", ZCS_SHARDS_OFFSET, 8);
	words(f, "hist_offset", ZCS_HIST_OFFSET, 8);
	words(f, "shared_bytes", sizeof(struct zcs_shared), 8);
	words(f, "shard_area_bytes", ZCS_SHARD_AREA_BYTES, 8);
	words(f, "nshards", ZCS_NSHARDS, 4);
	words(f, "state", ZCS_STATE_EXITED, 4);
	words(f, "mode", ZCS_MODE_OFF, 4);
	fprintf(f, "no_nul=\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n"); /* endpoints */
	if (fclose(f) != 0) {
		fprintf(stderr, "mkseeds: %s: cannot write\n", path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/fuzz/seeds";
	dictionary(argc > 2 ? argv[2] : "tests/fuzz/segread.dict");
	struct zcs_header h;
	header(&h, ZCS_STATE_EXITED);
	seed(dir, "valid-header", &h, sizeof h, -1);
	seed(dir, "valid-header-cut-at-4097", &h, sizeof h, 5); /* cuts[5] */
	header(&h, ZCS_STATE_EXITED);
	h.flags = ZCS_F_LAYOUT_KNOWN; /* no calls: the shards are not read */
	seed(dir, "no-calls-seen", &h, sizeof h, 6);            /* cuts[6]: the base, 40960 */
	header(&h, ZCS_STATE_RUNNING);
	seed(dir, "running", &h, sizeof h, 6);
	header(&h, ZCS_STATE_EXITED); /* why none: the reach block's strings and enums */
	h.flags = ZCS_F_LAYOUT_KNOWN;
	h.reach_why = ZCS_WHY_BYPASSED;
	h.reach_how = ZCS_HOW_DEEPBIND;
	h.reach_lost = 1;
	snprintf(h.reach_object, sizeof h.reach_object, "/usr/lib/php/20220829/zmq.so");
	seed(dir, "no-calls-bypassed", &h, sizeof h, 6);
	header(&h, ZCS_STATE_EXITED);
	h.shards_offset = ZCS_SEGMENT_BYTES - 8;
	seed(dir, "shards-outside", &h, sizeof h, -1);
	header(&h, ZCS_STATE_EXITED);
	h.shared_offset = ZCS_SHARDS_OFFSET;
	seed(dir, "shared-outside", &h, sizeof h, -1);
	header(&h, ZCS_STATE_EXITED);
	h.layout_version = ZCS_LAYOUT_VERSION + 1; /* a version this reader does not know */
	seed(dir, "version-next", &h, sizeof h, -1);
	seed(dir, "name", "zcshim.4026531836.123.456.7", 27, -1);
	return 0;
}
