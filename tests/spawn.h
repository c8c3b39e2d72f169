/*
 * spawn.h - run a program as the integration tests need it: with or without
 * libzcshim.so preloaded, extra environment, captured stdout/stderr, a
 * timeout, and optionally a pipe to its stdin to hold it running.
 */
#ifndef ZCSHIM_TESTS_SPAWN_H
#define ZCSHIM_TESTS_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct zc_proc {
	pid_t pid;
	int in_fd, out_fd, err_fd; /* -1 once closed */
	int status;                /* exit code, 128 + signal, or -1 on timeout */
	long maxrss_kb;            /* its peak resident set (getrusage), once reaped */
	char out[65536];
	char err[16384];
};

/* Path of a file in the build directory ($ZCSHIM_BUILD or ./build); valid
 * until the fourth call after this one in the same thread. */
const char *zc_build(const char *file);

/* promtool (Debian package prometheus): build/deps/promtool, where
 * tools/install-deps unpacks it, else /usr/bin/promtool; the test fails
 * if there is neither. */
const char *zc_promtool(void);

/* promtool check metrics < file must pass. */
void zc_promtool_check(struct zc_proc *p, const char *file);

/* What zc_start puts in LD_PRELOAD: the shim, after a sanitizer runtime
 * if one is asked for (ZCSHIM_TEST_SHIM, ZCSHIM_TEST_PRELOAD_FIRST). For
 * tests that preload only some of the programs they start. */
const char *zc_preload(void);

/* Set under ZCSHIM_TEST_WRAPPER (make valgrind), never in make test: our
 * programs then run 20 to 50 times slower, and valgrind's replacements do
 * not reach a libc loaded with dlmopen. Tests that assert time, order
 * processes by sleeping, or load a second libc skip themselves there. */
int zc_under_a_tool(void);

/* Start argv (argv[0] in the build dir unless absolute) with env entries
 * "K=V" added to a copy of ours with every ZCSHIM_* and LD_PRELOAD removed
 * (and whatever env sets: env's value wins),
 * and ZCSHIM_SAMPLE=1 unless env sets it; preload adds
 * LD_PRELOAD=<build>/libzcshim.so. Environment knobs:
 * ZCSHIM_TEST_SHIM (another shim), ZCSHIM_TEST_PRELOAD_FIRST (preloaded
 * before it: a sanitizer runtime), ZCSHIM_TEST_WRAPPER (a command, e.g.
 * valgrind, that runs our own programs when preloaded). */
void zc_start(struct zc_proc *p, int preload, const char *const env[],
	      const char *const argv[]);

/* Read stdout until a line equal to `line` arrives (kept in p->out). */
int zc_wait_line(struct zc_proc *p, const char *line, int timeout_s);

/* Read stdout until a line starting with prefix arrives; the rest of that
 * line goes to buf. 0, or -1 on timeout or end of output. */
int zc_wait_prefix(struct zc_proc *p, const char *prefix, char *buf, size_t len,
		   int timeout_s);

/* Close stdin, collect all output, reap; returns p->status. */
int zc_finish(struct zc_proc *p, int timeout_s);

/* zc_start + zc_finish. */
int zc_run(struct zc_proc *p, int preload, const char *const env[],
	   const char *const argv[]);

/* Value of "key=" in p->out, or -1. */
long zc_out_value(const struct zc_proc *p, const char *key);

#endif
