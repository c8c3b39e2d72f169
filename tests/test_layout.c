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
	cr_assert_eq(offsetof(struct zcs_header, hist_offset), 48);
	cr_assert_eq(offsetof(struct zcs_header, shards_offset), 56);
	cr_assert_eq(offsetof(struct zcs_header, shard_area_bytes), 64);
	cr_assert_eq(offsetof(struct zcs_header, nshards), 72);
	cr_assert_eq(offsetof(struct zcs_header, state), 76);
	cr_assert_eq(offsetof(struct zcs_header, pid), 80);
	cr_assert_eq(offsetof(struct zcs_header, seq), 84);
	cr_assert_eq(offsetof(struct zcs_header, pidns), 88);
	cr_assert_eq(offsetof(struct zcs_header, start_ticks), 96);
	cr_assert_eq(offsetof(struct zcs_header, start_unix_ns), 104);
	cr_assert_eq(offsetof(struct zcs_header, exit_unix_ns), 112);
	cr_assert_eq(offsetof(struct zcs_header, threshold_bytes), 120);
	cr_assert_eq(offsetof(struct zcs_header, mode), 128);
	cr_assert_eq(offsetof(struct zcs_header, sample_every), 132);
	cr_assert_eq(offsetof(struct zcs_header, tsc_hz), 136);
	cr_assert_eq(offsetof(struct zcs_header, clock), 144);
	cr_assert_eq(offsetof(struct zcs_header, libzmq_version), 148);
	cr_assert_eq(offsetof(struct zcs_header, flags), 152);
	cr_assert_eq(offsetof(struct zcs_header, uid), 156);
	cr_assert_eq(offsetof(struct zcs_header, exe), 160);
	/* the reach block: how calls reached the shim, or why none did */
	cr_assert_eq(offsetof(struct zcs_header, reach_ways), 288);
	cr_assert_eq(offsetof(struct zcs_header, reach_why), 292);
	cr_assert_eq(offsetof(struct zcs_header, reach_how), 296);
	cr_assert_eq(offsetof(struct zcs_header, reach_dlsym), 300);
	cr_assert_eq(offsetof(struct zcs_header, reach_patched), 304);
	cr_assert_eq(offsetof(struct zcs_header, reach_lost), 308);
	cr_assert_eq(offsetof(struct zcs_header, reach_libzmq), 312);
	cr_assert_eq(offsetof(struct zcs_header, reach_object), 472);
	cr_assert_eq(sizeof(struct zcs_header), 632);
	cr_assert_leq(sizeof(struct zcs_header), ZCS_SHARED_OFFSET, "the header fits its page");
}

Test(layout, version_3_shared_part)
{
	cr_assert_eq(offsetof(struct zcs_shared, peak), 0);
	cr_assert_eq(offsetof(struct zcs_shared, start_clock_ticks), 32);
	cr_assert_eq(offsetof(struct zcs_shared, shards_used), 40);
	cr_assert_eq(offsetof(struct zcs_shared, cells_used), 56);
	cr_assert_eq(offsetof(struct zcs_shared, sockets_seen), 60);
	cr_assert_eq(offsetof(struct zcs_shared, cells_short), 64);
	cr_assert_eq(offsetof(struct zcs_shared, untracked), 72);
	cr_assert_eq(offsetof(struct zcs_shared, unconverted_nested), 80);
	cr_assert_eq(offsetof(struct zcs_shared, sockets), 136);
	cr_assert_eq(sizeof(struct zcs_socket), 256);
	cr_assert_eq(offsetof(struct zcs_socket, type), 8);
	cr_assert_eq(offsetof(struct zcs_socket, flags), 12);
	cr_assert_eq(ZCS_SOCK_F_CUT, 1);
	cr_assert_eq(ZCS_ENDPOINTS_MAX, 224);
	cr_assert_eq(offsetof(struct zcs_socket, opened_unix_ns), 16);
	cr_assert_eq(offsetof(struct zcs_socket, endpoints), 32);
	cr_assert_eq(offsetof(struct zcs_shared, index), 16776);
	cr_assert_eq(sizeof(struct zcs_shared), 33160);
	cr_assert_eq(ZCS_NSLOTS, 65);
	cr_assert_eq(ZCS_NOPS, 11);
	cr_assert_eq(ZCS_NPATHS, 6);
	cr_assert_eq(ZCS_NKEYS, 124410);
	cr_assert_lt(ZCS_NKEYS, 1u << (32 - ZCS_INDEX_CELL_BITS), "a key fits an index entry");
	cr_assert_leq(ZCS_NCELLS_MAX, 1u << ZCS_INDEX_CELL_BITS, "a cell fits an index entry");
	cr_assert_eq(ZCS_INDEX_SIZE, 2 * ZCS_NCELLS_MAX, "probes stay short");
}

Test(layout, version_3_regions)
{
	cr_assert_eq(sizeof(struct zcs_counts), 32);
	cr_assert_eq(sizeof(struct zcs_hist), 1152);
	cr_assert_eq(ZCS_HIST_CHUNK_BYTES % 4096, 0, "chunks are whole pages");
	cr_assert_eq(sizeof(struct zcs_shard_head), 256);
	cr_assert_eq(offsetof(struct zcs_shard_head, released), 64, "gauge sides on lines of their own");
	cr_assert_eq(offsetof(struct zcs_shard_head, threads), 128);
	cr_assert_eq(offsetof(struct zcs_shard_head, busy_ns_done), 136);
	cr_assert_eq(offsetof(struct zcs_shard_head, busy_since_unix_ns), 144);
	cr_assert_eq(offsetof(struct zcs_shard_head, ffn_thread), 152);
	cr_assert_eq(ZCS_SHARED_OFFSET, 4096);
	cr_assert_eq(ZCS_HIST_OFFSET, 40960);
	cr_assert_eq(ZCS_BASE_BYTES, 40960, "what load backs: well under 1 MiB");
	cr_assert_eq(ZCS_SHARDS_OFFSET, 2400256);
	cr_assert_eq(ZCS_SHARD_AREA_BYTES, 69632);
	cr_assert_eq(ZCS_SEGMENT_BYTES, 11313152);
	cr_assert_eq(ZCS_NSHARDS, 128);
	cr_assert_eq(ZCS_NBUCKETS, 143);
	cr_assert_eq(ZCS_NSIZES, 29);
}

Test(layout, keys_round_trip)
{
	for (unsigned slot = 0; slot < ZCS_NSLOTS; slot += 7)
		for (unsigned op = 0; op < ZCS_NOPS; op++)
			for (unsigned path = 0; path < ZCS_NPATHS; path++)
				for (unsigned k = 0; k < ZCS_NSIZES; k += 3) {
					unsigned a, b, c, d;
					uint32_t key = zcs_key(slot, op, path, k);
					cr_assert(key >= 1 && key <= ZCS_NKEYS);
					zcs_key_fields(key, &a, &b, &c, &d);
					cr_assert(a == slot && b == op && c == path && d == k);
					cr_assert_lt(zcs_key_hash(key), ZCS_INDEX_SIZE);
				}
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
