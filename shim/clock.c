/*
 * clock.c - choose and calibrate the timing clock, once, at shim init.
 */
#include "clock.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

struct zcs_clock_cal zcs_clock = { 0, 1000000000u, UINT64_C(1) << 32 };

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void zcs_clock_init(void)
{
#if defined(__x86_64__)
	unsigned a, b, c, d;
	/* CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in all
	 * C-/P-states and is synchronised across cores. Without it, rdtsc
	 * deltas between threads (hold time) would be meaningless. */
	if (!__get_cpuid(0x80000007, &a, &b, &c, &d) || !(d & (1u << 8)))
		return;
	uint64_t t0 = mono_ns(), c0 = __rdtsc(), t1;
	do
		t1 = mono_ns();
	while (t1 - t0 < 1000000); /* 1 ms: error ~1e-4, paid once */
	uint64_t c1 = __rdtsc();
	if (c1 <= c0)
		return;
	uint64_t hz = (uint64_t)((unsigned __int128)(c1 - c0) * 1000000000u / (t1 - t0));
	if (hz < 1000000) /* below 1 MHz: not a believable TSC */
		return;
	zcs_clock.hz = hz;
	zcs_clock.ns_per_tick32 =
		(uint64_t)(((unsigned __int128)1000000000u << 32) / hz);
	zcs_clock.use_tsc = 1;
#endif
}
