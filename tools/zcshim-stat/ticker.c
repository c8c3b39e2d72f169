/* ticker.c - see ticker.h. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "ticker.h"

volatile sig_atomic_t ticker_stop;

static void on_signal(int sig)
{
	ticker_stop = sig;
}

void ticker_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: nanosleep must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

double ticker_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ticker_sleep_until(double deadline)
{
	while (!ticker_stop) {
		double left = deadline - ticker_now_s();
		if (left <= 0)
			return 1;
		struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
		if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
			return 1;
	}
	return 0;
}
