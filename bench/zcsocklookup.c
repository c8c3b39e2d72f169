/*
 * zcsocklookup - what finding a socket's row costs on the hot path.
 *
 * Every recorded send asks zcs_socket_slot(handle) (shim/sockets.h) which
 * row of the socket table it belongs to. This links the shim's own
 * sockets.c and times that lookup alone, in ns per call, for sends spread
 * round-robin over 1, 8 and 64 registered sockets, and for a socket beyond
 * the table (a miss, counted under "other"). Handles are heap addresses,
 * as libzmq's are. The loop's own cost (the same loop, calling a function
 * that returns a constant) is measured alongside; medians of 21 runs. The
 * lookup is so cheap that the difference is within the noise of a call:
 * both columns are printed, and the difference clamped at 0.
 *
 * Output: CSV sockets,lookup_ns,loop_ns,added_ns
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

static double median(double *v)
{
	qsort(v, RUNS, sizeof v[0], by_value);
	return v[RUNS / 2];
}

static void report(const char *label, void **handles, unsigned n)
{
	double with[RUNS], without[RUNS];
	for (int r = 0; r < RUNS; r++) {
		with[r] = run(lookup, handles, n);
		without[r] = run(constant_slot, handles, n);
	}
	double w = median(with), wo = median(without);
	printf("%s,%.2f,%.2f,%.2f\n", label, w, wo, w > wo ? w - wo : 0.0);
}

int main(void)
{
	void *handles[ZCS_NSOCKETS + 1];
	for (unsigned i = 0; i <= ZCS_NSOCKETS; i++) {
		handles[i] = malloc(1024); /* libzmq's socket objects are ~1-2 KiB */
		if (i < ZCS_NSOCKETS)
			zcs_socket_opened(handles[i], 8 /* ZMQ_PUSH */);
	}
	printf("sockets,lookup_ns,loop_ns,added_ns\n");
	static const unsigned spread[] = { 1, 8, ZCS_NSOCKETS };
	for (unsigned k = 0; k < sizeof spread / sizeof spread[0]; k++) {
		char label[16];
		snprintf(label, sizeof label, "%u", spread[k]);
		report(label, handles, spread[k]);
	}
	report("beyond_table", &handles[ZCS_NSOCKETS], 1);
	return 0;
}
