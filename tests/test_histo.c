/*
 * test_histo.c - size classes and latency buckets against brute force.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "histo.h"

/* Reference: the bucket is the one whose [lo, hi) holds v, found by scan. */
static unsigned brute_bucket(uint64_t v)
{
	for (unsigned i = 0; i < ZCS_NBUCKETS - 1; i++)
		if (v >= zcs_bucket_lo(i) && v < zcs_bucket_lo(i + 1))
			return i;
	return ZCS_NBUCKETS - 1;
}

Test(histo, buckets_tile_the_line_without_gaps)
{
	cr_assert_eq(zcs_bucket_lo(0), 0);
	for (unsigned i = 0; i + 1 < ZCS_NBUCKETS; i++) {
		cr_assert_lt(zcs_bucket_lo(i), zcs_bucket_lo(i + 1), "bucket %u", i);
		cr_assert_eq(zcs_bucket_hi(i), zcs_bucket_lo(i + 1));
	}
	cr_assert_eq(zcs_bucket_hi(ZCS_NBUCKETS - 1), UINT64_MAX);
}

Test(histo, bucket_matches_brute_force)
{
	for (uint64_t v = 0; v < (1u << 16); v++)
		cr_assert_eq(zcs_bucket(v), brute_bucket(v), "v=%llu", (unsigned long long)v);
	/* every power of two and its neighbours, to the top and past it */
	for (unsigned b = 1; b < 64; b++) {
		uint64_t p = UINT64_C(1) << b;
		uint64_t vs[] = { p - 1, p, p + 1, p + p / 2, p + p / 4 - 1 };
		for (size_t i = 0; i < 5; i++)
			cr_assert_eq(zcs_bucket(vs[i]), brute_bucket(vs[i]), "v=%llu",
				     (unsigned long long)vs[i]);
	}
	cr_assert_eq(zcs_bucket(UINT64_MAX), ZCS_NBUCKETS - 1);
}

Test(histo, buckets_are_at_most_25_percent_wide_and_reach_seconds)
{
	for (unsigned i = ZCS_SUB * 2; i + 1 < ZCS_NBUCKETS; i++) {
		uint64_t lo = zcs_bucket_lo(i), hi = zcs_bucket_hi(i);
		cr_assert_leq((hi - lo) * 4, lo, "bucket %u [%llu,%llu)", i,
			      (unsigned long long)lo, (unsigned long long)hi);
	}
	/* the last real bucket starts above 100 s */
	cr_assert_gt(zcs_bucket_lo(ZCS_NBUCKETS - 1), UINT64_C(100000000000));
}

Test(histo, size_class_matches_brute_force)
{
	cr_assert_eq(zcs_size_class(0), 0);
	for (uint64_t bytes = 1; bytes < (1u << 20); bytes = bytes * 3 / 2 + 1) {
		unsigned k = zcs_size_class(bytes);
		cr_assert_geq(bytes, zcs_size_lo(k));
		cr_assert_leq(bytes, zcs_size_hi(k));
	}
	/* exact edges: 1 B, 64 KiB - 1, 64 KiB, 64 MiB */
	cr_assert_eq(zcs_size_class(1), 1);
	cr_assert_eq(zcs_size_class(65535), 16);
	cr_assert_eq(zcs_size_class(65536), 17);
	cr_assert_eq(zcs_size_lo(17), 65536);
	cr_assert_eq(zcs_size_class(64u << 20), 27);
	cr_assert_eq(zcs_size_hi(27), (UINT64_C(128) << 20) - 1);
	cr_assert_eq(zcs_size_class(SIZE_MAX), ZCS_NSIZES - 1);
	cr_assert_eq(zcs_size_hi(ZCS_NSIZES - 1), UINT64_MAX);
}
