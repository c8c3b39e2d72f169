/*
 * histo.h - size-class and latency-bucket arithmetic, shared by writer and reader.
 *
 * After HdrHistogram_c: the power of two comes from count-leading-zeros and
 * the sub-bucket from the next ZCS_SUB_BITS bits, so recording is a clz, two
 * shifts and an add, no division and no loop. The reader uses the inverse
 * (zcs_bucket_lo/hi) to turn bucket numbers back into nanoseconds.
 * tests/test_histo.c checks both against a brute-force reference.
 */
#ifndef ZCSHIM_HISTO_H
#define ZCSHIM_HISTO_H

#include <stddef.h>
#include <stdint.h>

#include "zcshim_segment.h"

/* Size class of a message of `bytes`: 0 for 0 B, else bit length, capped. */
static inline unsigned zcs_size_class(size_t bytes)
{
	if (bytes == 0)
		return 0;
	unsigned k = 64u - (unsigned)__builtin_clzll((unsigned long long)bytes);
	return k < ZCS_NSIZES - 1 ? k : ZCS_NSIZES - 1;
}

/* Smallest size in class k. */
static inline uint64_t zcs_size_lo(unsigned k)
{
	return k == 0 ? 0 : UINT64_C(1) << (k - 1);
}

/* Largest size in class k, inclusive; UINT64_MAX for the open last class. */
static inline uint64_t zcs_size_hi(unsigned k)
{
	if (k == 0)
		return 0;
	if (k >= ZCS_NSIZES - 1)
		return UINT64_MAX;
	return (UINT64_C(1) << k) - 1;
}

/* Bucket of a duration in ns. */
static inline unsigned zcs_bucket(uint64_t ns)
{
	if (ns < ZCS_SUB)
		return (unsigned)ns;
	unsigned msb = 63u - (unsigned)__builtin_clzll(ns);
	unsigned i = (msb - ZCS_SUB_BITS + 1) * ZCS_SUB +
		     (unsigned)((ns >> (msb - ZCS_SUB_BITS)) & (ZCS_SUB - 1));
	return i < ZCS_NBUCKETS ? i : ZCS_NBUCKETS - 1;
}

/* Smallest ns in bucket i. */
static inline uint64_t zcs_bucket_lo(unsigned i)
{
	if (i < ZCS_SUB)
		return i;
	unsigned msb = i / ZCS_SUB - 1 + ZCS_SUB_BITS;
	return (uint64_t)(ZCS_SUB + i % ZCS_SUB) << (msb - ZCS_SUB_BITS);
}

/* First ns past bucket i (exclusive upper bound); UINT64_MAX for the last. */
static inline uint64_t zcs_bucket_hi(unsigned i)
{
	if (i >= ZCS_NBUCKETS - 1)
		return UINT64_MAX;
	return zcs_bucket_lo(i + 1);
}

#endif
