/*
 * test_layout.c - pin the segment layout. A change here is a format change:
 * bump ZCS_LAYOUT_VERSION, then update these numbers.
 */
#include <criterion/criterion.h>
#include <stddef.h>

#include "zcshim_segment.h"

Test(layout, version_1_header_offsets)
{
	cr_assert_eq(ZCS_LAYOUT_VERSION, 1);
	cr_assert_eq(offsetof(struct zcs_header, magic), 0);
	cr_assert_eq(offsetof(struct zcs_header, layout_version), 8);
	cr_assert_eq(offsetof(struct zcs_header, header_bytes), 12);
	cr_assert_eq(offsetof(struct zcs_header, layout_hash), 16);
	cr_assert_eq(offsetof(struct zcs_header, segment_bytes), 24);
	cr_assert_eq(offsetof(struct zcs_header, shards_offset), 32);
	cr_assert_eq(offsetof(struct zcs_header, shard_bytes), 40);
	cr_assert_eq(offsetof(struct zcs_header, nshards), 48);
	cr_assert_eq(offsetof(struct zcs_header, state), 52);
	cr_assert_eq(offsetof(struct zcs_header, pid), 56);
	cr_assert_eq(offsetof(struct zcs_header, seq), 60);
	cr_assert_eq(offsetof(struct zcs_header, start_ticks), 64);
	cr_assert_eq(offsetof(struct zcs_header, threshold_bytes), 88);
	cr_assert_eq(offsetof(struct zcs_header, mode), 96);
	cr_assert_eq(offsetof(struct zcs_header, tsc_hz), 104);
	cr_assert_eq(offsetof(struct zcs_header, flags), 120);
	cr_assert_eq(offsetof(struct zcs_header, exe), 128);
	cr_assert_eq(sizeof(struct zcs_header), 256);
}

Test(layout, version_1_shard_and_segment_sizes)
{
	cr_assert_eq(sizeof(struct zcs_cell), (3 + ZCS_NBUCKETS) * 8);
	cr_assert_eq(offsetof(struct zcs_shard, cell), 128);
	cr_assert_eq(sizeof(struct zcs_shard), 955072); /* cells + tail pad to 64 */
	cr_assert_eq(ZCS_NOPS, 7);
	cr_assert_eq(ZCS_NPATHS, 4);
	cr_assert_eq(ZCS_NSIZES, 29);
	cr_assert_eq(ZCS_NBUCKETS, 144);
	cr_assert_eq(ZCS_NSHARDS, 4);
	cr_assert_geq(ZCS_SHARDS_OFFSET, sizeof(struct zcs_header));
	cr_assert_eq(ZCS_SHARDS_OFFSET % 64, 0, "shards start on a cache line");
	cr_assert_eq(sizeof(struct zcs_shard) % 64, 0, "shards do not share cache lines");
	cr_assert_eq(ZCS_SEGMENT_BYTES, ZCS_SHARDS_OFFSET + 4 * sizeof(struct zcs_shard));
}

Test(layout, names_cover_every_value)
{
	for (unsigned i = 0; i < ZCS_NOPS; i++)
		cr_assert_str_neq(zcs_op_name(i), "?");
	for (unsigned i = 0; i < ZCS_NPATHS; i++)
		cr_assert_str_neq(zcs_path_name(i), "?");
	for (unsigned i = 0; i < ZCS_NFFN_THREADS; i++)
		cr_assert_str_neq(zcs_ffn_thread_name(i), "?");
	cr_assert_str_eq(zcs_op_name(ZCS_NOPS), "?");
	cr_assert_str_eq(zcs_mode_name(ZCS_MODE_PROFILE), "profile");
}
