/* ticker.h - the clock of the --watch loops (watch.c, pipeline_run.c):
 * SIGINT or SIGTERM ends them, between readings or while they sleep. */
#ifndef ZCS_TICKER_H
#define ZCS_TICKER_H

#include <signal.h>

/* The signal that ended the watch, 0 while none has. */
extern volatile sig_atomic_t ticker_stop;

/* Catch SIGINT and SIGTERM into ticker_stop, without SA_RESTART so that a
 * sleep returns at once. */
void ticker_catch_signals(void);

/* CLOCK_MONOTONIC in seconds. */
double ticker_now_s(void);

/* Sleep until deadline (ticker_now_s() time); 0 if a signal ended it. */
int ticker_sleep_until(double deadline);

#endif
