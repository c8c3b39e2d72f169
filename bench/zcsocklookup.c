/*
 * zcsocklookup - what finding a socket's row costs on the hot path.
 *
 * Every recorded send asks zcs_socket_slot(handle) (shim/sockets.h) which
 * row of the socket table it belongs to. This links the shim's own
 * sockets.c and times that lookup alone, in ns per call, for sends spread
 * round-robin over 1, 8 and 64 registered sockets, and for a socket beyond
 * the table (a miss, counted under "other"). Handles are heap addresses,
 * as libzmq's are. The loop's own cost (the same loop returning a constant)
 * is measured alongside and subtracted; medians of 21 runs.
 *
 * Output: CSV sockets,ns_per_lookup
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sockets.h"

/* What sockets.c needs of the rest of the shim: no segment, no libzmq. */
struct zcs_shared *zcs_segment_shared(void) { return NULL; }
int (*real_zmq_getsockopt)(void *, int, void *, size_t *);

#define CALLS 4000000L
#define RUNS  21

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static __attribute__((noinline)) unsigned constant_slot(void *handle)
{
	__asm__ volatile("" : : "r"(handle));
	return 1;
}

static __attribute__((noinline)) unsigned lookup(void *handle)
{
	return zcs_socket_slot(handle);
}

static double run(unsigned (*fn)(void *), void **handles, unsigned n)
{
	unsigned sum = 0;
	uint64_t t0 = now_ns();
	for (long i = 0; i < CALLS; i++)
		sum += fn(handles[i % n]);
	uint64_t t1 = now_ns();
	__asm__ volatile("" : : "r"(sum));
	return (double)(t1 - t0) / CALLS;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median_cost(void **handles, unsigned n)
{
	double d[RUNS];
	for (int r = 0; r < RUNS; r++)
		d[r] = run(lookup, handles, n) - run(constant_slot, handles, n);
	qsort(d, RUNS, sizeof d[0], by_value);
	return d[RUNS / 2];
}

int main(void)
{
	void *handles[ZCS_NSOCKETS + 1];
	for (unsigned i = 0; i <= ZCS_NSOCKETS; i++) {
		handles[i] = malloc(1024); /* libzmq's socket objects are ~1-2 KiB */
		if (i < ZCS_NSOCKETS)
			zcs_socket_opened(handles[i], 8 /* ZMQ_PUSH */);
	}
	printf("sockets,ns_per_lookup\n");
	static const unsigned spread[] = { 1, 8, ZCS_NSOCKETS };
	for (unsigned k = 0; k < sizeof spread / sizeof spread[0]; k++)
		printf("%u,%.2f\n", spread[k], median_cost(handles, spread[k]));
	printf("beyond_table,%.2f\n", median_cost(&handles[ZCS_NSOCKETS], 1));
	return 0;
}
