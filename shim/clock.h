/*
 * clock.h - the cheap timestamp the hot path reads.
 *
 * On x86-64 with an invariant TSC the clock is rdtsc (about 12 ns here, vs
 * 30 ns for clock_gettime in a VM), calibrated once against CLOCK_MONOTONIC;
 * elsewhere it is clock_gettime(CLOCK_MONOTONIC) through the vDSO. Ticks turn
 * into ns with one 64x64->128 multiply, so no division on the hot path.
 */
#ifndef ZCSHIM_CLOCK_H
#define ZCSHIM_CLOCK_H

#include <stdint.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

struct zcs_clock_cal {
	int use_tsc;            /* 1: rdtsc, 0: clock_gettime */
	uint64_t hz;            /* ticks per second */
	uint64_t ns_per_tick32; /* ns per tick, 32.32 fixed point */
};

extern struct zcs_clock_cal zcs_clock;

/* Pick the source and calibrate; spins about 1 ms when using the TSC. */
void zcs_clock_init(void);

static inline uint64_t zcs_ticks(void)
{
#if defined(__x86_64__)
	if (zcs_clock.use_tsc)
		return __rdtsc();
#endif
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Nanoseconds between two readings; 0 if the clock went backwards
 * (two cores' TSCs a few ticks apart). */
static inline uint64_t zcs_elapsed_ns(uint64_t from, uint64_t to)
{
	if (to <= from)
		return 0;
	return (uint64_t)(((unsigned __int128)(to - from) * zcs_clock.ns_per_tick32) >> 32);
}

#endif
