/*
 * sample.c - which calls are timed.
 *
 * Counting every call is cheap; timing one costs two clock reads and two
 * atomic adds to a shared histogram, ~40 ns here. So only some calls are
 * timed, chosen per (socket, op) by a countdown (record.h) whose gaps are
 * drawn here, on the timed calls only.
 *
 * ZCSHIM_SAMPLE=N: gaps are random, 1 to 2N-1 (mean N): a fixed stride
 * would always time the same member of a repeating pattern.
 *
 * ZCSHIM_SAMPLE=auto (the default): the gap follows the call rate. A timed
 * call knows how long the calls of its gap took, so the next gap is chosen
 * to spend about 1 % of that time timing: a socket making 100 calls a
 * second gets every call timed, one making ten million a second one in
 * fifty or so. The rate is taken over the last eight gaps or so, not the
 * last one: a held sender's calls come in bursts (one waits long, a few
 * return at once), and a gap drawn from the last call alone would be short
 * after the long call and long after the fast ones, timing the fast ones
 * more often than they occur. And since one thread may call on many sockets, each thread
 * also keeps a budget, 1 % of its wall time, that a timed call spends: a
 * call the countdown picks when the budget is spent goes untimed, and its
 * socket's gap doubles. Histograms still say how many calls they are drawn
 * from (their count is exact), so no mean is ever taken from nothing.
 *
 * The time in a socket's calls is not the mean of its timed calls times
 * their count: gaps change with the call rate, so a slow phase's calls
 * would be over-represented in the mean. Each timed call stands for the
 * calls of its gap instead, including those the budget refused: it adds
 * its ns times their number to its cell's est_ns (the reader sums them).
 */
#include <stdint.h>

#include "clock.h"
#include "record.h"

struct zcs_slot_samples zcs_samples[ZCS_NSLOTS];

uint32_t zcs_sample_every = 16;   /* 0: auto; set once at init (interpose.c) */
uint64_t zcs_sample_cost_ticks;   /* what timing one call costs, in clock ticks */

#define SHARE_DIVISOR 100         /* 1 % */
#define MAX_GAP       (1u << 20)
#define BURST_CALLS   64          /* budget a thread may save up, in timed calls */

static uint32_t rnd(void)
{
	uint32_t x = zcs_tls.rng ? zcs_tls.rng : 2463534242u ^ (uint32_t)(uintptr_t)&zcs_tls;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	zcs_tls.rng = x;
	return x;
}

uint64_t zcs_sample_start(struct zcs_sample *s)
{
	uint64_t now = zcs_ticks();
	if (zcs_sample_every)
		return now;
	/* the thread's budget: 1 % of the time since it last looked */
	uint64_t cost = zcs_sample_cost_ticks;
	uint64_t allow = zcs_tls.allow_ticks;
	if (zcs_tls.allow_at && now > zcs_tls.allow_at)
		allow += (now - zcs_tls.allow_at) / SHARE_DIVISOR;
	else if (!zcs_tls.allow_at)
		allow = cost * BURST_CALLS;
	if (allow > cost * BURST_CALLS)
		allow = cost * BURST_CALLS;
	zcs_tls.allow_at = now;
	if (allow < cost) {
		/* refused: the next timed call stands for this gap's calls too */
		zcs_tls.allow_ticks = allow;
		uint32_t calls = s->gap ? s->gap : 1;
		uint32_t gap = calls < MAX_GAP / 2 ? calls * 2 : MAX_GAP;
		calls = calls <= UINT32_MAX - gap ? calls + gap : UINT32_MAX;
		__atomic_store_n(&s->gap, calls, __ATOMIC_RELAXED);
		__atomic_store_n(&s->left, gap, __ATOMIC_RELAXED);
		return 0;
	}
	zcs_tls.allow_ticks = allow - cost;
	return now ? now : 1;
}

uint64_t zcs_sample_next(struct zcs_sample *s, uint64_t end_ticks, uint64_t ns)
{
	uint64_t last = __atomic_load_n(&s->last_ticks, __ATOMIC_RELAXED);
	uint32_t prev = __atomic_load_n(&s->gap, __ATOMIC_RELAXED);
	uint64_t calls = prev ? prev : 1;
	uint64_t est_ns = ns <= UINT64_MAX / calls ? ns * calls : UINT64_MAX;
	uint32_t gap;
	if (zcs_sample_every) {
		uint32_t n = zcs_sample_every;
		gap = n > 1 ? 1 + rnd() % (2 * n - 1) : 1;
	} else {
		/* mean ticks per call over the last gaps, and a gap that spends
		 * 1 % of that timing; randomised around it, as above */
		uint64_t want = 1;
		if (last && end_ticks > last && prev) {
			uint64_t t = s->span_ticks, n = s->span_calls;
			t = t - t / 8 + (end_ticks - last);
			n = n - n / 8 + prev;
			if (n > UINT32_MAX)
				n = UINT32_MAX;
			s->span_ticks = t;
			s->span_calls = (uint32_t)n;
			uint64_t per_call = t / n;
			uint64_t need = zcs_sample_cost_ticks * SHARE_DIVISOR;
			want = per_call ? (need + per_call - 1) / per_call : MAX_GAP;
			if (want > MAX_GAP)
				want = MAX_GAP;
		}
		gap = want > 1 ? (uint32_t)(want / 2 + 1 + rnd() % want) : 1;
	}
	__atomic_store_n(&s->last_ticks, end_ticks, __ATOMIC_RELAXED);
	__atomic_store_n(&s->gap, gap, __ATOMIC_RELAXED);
	__atomic_store_n(&s->left, gap, __ATOMIC_RELAXED);
	return est_ns;
}
