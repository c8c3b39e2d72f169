/*
 * test_layout.c - pin the segment layout. A change here is a format change:
 * bump ZCS_LAYOUT_VERSION, then update these numbers.
 */
#include <criterion/criterion.h>
#include <stddef.h>

#include "zcshim_segment.h"

Test(layout, version_3_header_offsets)
{
	cr_assert_eq(ZCS_LAYOUT_VERSION, 3);
	cr_assert_eq(offsetof(struct zcs_header, magic), 0);
	cr_assert_eq(offsetof(struct zcs_header, layout_version), 8);
	cr_assert_eq(offsetof(struct zcs_header, header_bytes), 12);
	cr_assert_eq(offsetof(struct zcs_header, layout_hash), 16);
	cr_assert_eq(offsetof(struct zcs_header, segment_bytes), 24);
	cr_assert_eq(offsetof(struct zcs_header, shared_offset), 32);
	cr_assert_eq(offsetof(struct zcs_header, shared_bytes), 40);
	cr_assert_eq(offsetof(struct zcs_header, shards_offset), 48);
	cr_assert_eq(offsetof(struct zcs_header, shard_bytes), 56);
	cr_assert_eq(offsetof(struct zcs_header, nshards), 64);
	cr_assert_eq(offsetof(struct zcs_header, state), 68);
	cr_assert_eq(offsetof(struct zcs_header, pid), 72);
	cr_assert_eq(offsetof(struct zcs_header, seq), 76);
	cr_assert_eq(offsetof(struct zcs_header, start_ticks), 80);
	cr_assert_eq(offsetof(struct zcs_header, start_unix_ns), 88);
	cr_assert_eq(offsetof(struct zcs_header, exit_unix_ns), 96);
	cr_assert_eq(offsetof(struct zcs_header, threshold_bytes), 104);
	cr_assert_eq(offsetof(struct zcs_header, mode), 112);
	cr_assert_eq(offsetof(struct zcs_header, sample_every), 116);
	cr_assert_eq(offsetof(struct zcs_header, tsc_hz), 120);
	cr_assert_eq(offsetof(struct zcs_header, clock), 128);
	cr_assert_eq(offsetof(struct zcs_header, libzmq_version), 132);
	cr_assert_eq(offsetof(struct zcs_header, flags), 136);
	cr_assert_eq(offsetof(struct zcs_header, exe), 144);
	/* layout 3: the reach block, after what layout 2 had */
	cr_assert_eq(offsetof(struct zcs_header, reach_ways), 256);
	cr_assert_eq(offsetof(struct zcs_header, reach_why), 260);
	cr_assert_eq(offsetof(struct zcs_header, reach_how), 264);
	cr_assert_eq(offsetof(struct zcs_header, reach_dlsym), 268);
	cr_assert_eq(offsetof(struct zcs_header, reach_patched), 272);
	cr_assert_eq(offsetof(struct zcs_header, reach_lost), 276);
	cr_assert_eq(offsetof(struct zcs_header, reach_libzmq), 280);
	cr_assert_eq(offsetof(struct zcs_header, reach_object), 440);
	cr_assert_eq(sizeof(struct zcs_header), 600);
	cr_assert_leq(sizeof(struct zcs_header), ZCS_SHARED_OFFSET, "the header fits its page");
}

Test(layout, version_3_shared_part)
{
	cr_assert_eq(sizeof(struct zcs_gauge_line), 64, "one cache line per shard and side");
	cr_assert_eq(offsetof(struct zcs_inflight, released), ZCS_NSHARDS * 64);
	cr_assert_eq(offsetof(struct zcs_inflight, peak_buffers), 2 * ZCS_NSHARDS * 64);
	cr_assert_eq(sizeof(struct zcs_inflight), 576);
	cr_assert_eq(offsetof(struct zcs_shared, inflight), 0);
	cr_assert_eq(offsetof(struct zcs_shared, start_clock_ticks), 576);
	cr_assert_eq(offsetof(struct zcs_shared, sockets_seen), 584);
	cr_assert_eq(offsetof(struct zcs_shared, cells_used), 588);
	cr_assert_eq(offsetof(struct zcs_shared, cells_short), 592);
	cr_assert_eq(offsetof(struct zcs_shared, sockets), 640);
	cr_assert_eq(sizeof(struct zcs_socket), 248);
	cr_assert_eq(offsetof(struct zcs_socket, type), 8);
	cr_assert_eq(offsetof(struct zcs_socket, opened_unix_ns), 16);
	cr_assert_eq(offsetof(struct zcs_socket, endpoints), 32);
	cr_assert_eq(offsetof(struct zcs_shared, cell_index), 16760);
	cr_assert_eq(sizeof(struct zcs_shared), 122368);
	cr_assert_eq(ZCS_SHARED_OFFSET, 4096);
	cr_assert_eq(ZCS_NSLOTS, 65);
	cr_assert_eq(ZCS_NCELLS, 1325);
	cr_assert_lt(ZCS_NCELLS, 65536, "cell numbers are uint16_t");
	/* other's fixed cells: 1 .. ZCS_NOTHER_CELLS, the pool after them */
	cr_assert_eq(zcs_other_cell(0, 0, 0), 1);
	cr_assert_eq(zcs_other_cell(ZCS_NOPS - 1, ZCS_NPATHS - 1, ZCS_NSIZES - 1),
		     ZCS_NOTHER_CELLS);
}

Test(layout, version_3_shard_and_segment_sizes)
{
	cr_assert_eq(sizeof(struct zcs_cell), (3 + ZCS_NBUCKETS) * 8);
	cr_assert_eq(offsetof(struct zcs_shard, failed), 0);
	cr_assert_eq(offsetof(struct zcs_shard, ffn_thread), 13000);
	cr_assert_eq(offsetof(struct zcs_shard, cell), 13120, "cells start on a cache line");
	cr_assert_eq(sizeof(struct zcs_shard), 1571328); /* cells + tail pad to 64 */
	cr_assert_eq(ZCS_NOPS, 7);
	cr_assert_eq(ZCS_NPATHS, 4);
	cr_assert_eq(ZCS_NSIZES, 29);
	cr_assert_eq(ZCS_NBUCKETS, 144);
	cr_assert_eq(ZCS_NSHARDS, 4);
	cr_assert_eq(ZCS_NERRS, 5);
	cr_assert_eq(ZCS_SHARDS_OFFSET, 126976);
	cr_assert_geq(ZCS_SHARDS_OFFSET, ZCS_SHARED_OFFSET + sizeof(struct zcs_shared));
	cr_assert_eq(ZCS_SHARDS_OFFSET % 4096, 0, "shards start on a page");
	cr_assert_eq(sizeof(struct zcs_shard) % 64, 0, "shards do not share cache lines");
	cr_assert_eq(ZCS_SEGMENT_BYTES, 6412288);
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
	for (unsigned i = 0; i < ZCS_NERRS; i++)
		cr_assert_str_neq(zcs_err_name(i), "?");
	for (int t = 0; t <= 20; t++)
		cr_assert_str_neq(zcs_socket_type_name(t), "?");
	cr_assert_str_eq(zcs_socket_type_name(8), "PUSH");
	cr_assert_str_eq(zcs_socket_type_name(21), "?");
	cr_assert_str_eq(zcs_socket_type_name(-1), "?");
	cr_assert_str_eq(zcs_op_name(ZCS_NOPS), "?");
	cr_assert_str_eq(zcs_mode_name(ZCS_MODE_PROFILE), "profile");
	for (unsigned i = 0; i < ZCS_NWHY; i++)
		cr_assert_str_neq(zcs_reach_why_name(i), "?");
	for (unsigned i = 0; i < ZCS_NHOW; i++)
		cr_assert_str_neq(zcs_reach_how_name(i), "?");
	for (unsigned bit = 1; bit & ZCS_WAY_ALL; bit <<= 1)
		cr_assert_str_neq(zcs_way_name(bit), "?");
	cr_assert_str_eq(zcs_reach_why_name(ZCS_NWHY), "?");
	cr_assert_str_eq(zcs_way_name(ZCS_WAY_ALL + 1), "?");
}
