/*
 * test_watch.c - --watch as a user sees it: on a terminal (a pty from
 * forkpty), where each screen replaces the last, and into a pipe, where
 * blocks are appended. The watched segment is a synthetic one of this very
 * process (so the reader sees it running) that the test updates between
 * intervals, so the rates, shares and percentiles on screen are known;
 * then a real app under the shim, watched until it exits.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "histo.h"
#include "procid.h"
#include "segimg.h"
#include "segread.h"
#include "spawn.h"

#define CLEAR "\033[H\033[2J"

static char dir[64], path[128];
static unsigned char *img;
static pid_t child = -1;
static int master = -1;
static char screen[1 << 17];
static size_t screen_len;

static void setup(void)
{
	seg_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/zcshim.%llu.%d.1.0", dir,
		 (unsigned long long)zcs_ns_inode("/proc/self/ns/pid"), (int)getpid());
	img = seg_new(0, ZCS_STATE_RUNNING, "watched");
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100, 5, 500);
	seg_write(img, path);
	screen_len = 0;
	screen[0] = '\0';
}

static void teardown(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	if (master >= 0)
		close(master);
	master = -1;
	free(img);
	seg_rmdir(dir);
}

TestSuite(watch, .init = setup, .fini = teardown, .timeout = 60);

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Start zcshim-stat --watch on a pty, as on a terminal. */
static void start_on_pty(const char *interval, const char *key)
{
	const char *prog = zc_build("zcshim-stat");
	child = forkpty(&master, NULL, NULL, NULL);
	cr_assert_geq(child, 0, "forkpty: %s", strerror(errno));
	if (child == 0) {
		execl(prog, "zcshim-stat", "--watch", "-i", interval, key, (char *)NULL);
		_exit(127);
	}
}

/* Read the pty until `want` has appeared `times` times in all output. */
static int wait_for(const char *want, int times, double timeout_s)
{
	double deadline = now_s() + timeout_s;
	for (;;) {
		int seen = 0;
		for (const char *p = screen; (p = strstr(p, want)); p += strlen(want))
			seen++;
		if (seen >= times)
			return 0;
		double left = deadline - now_s();
		struct pollfd pfd = { master, POLLIN, 0 };
		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			return -1;
		ssize_t n = read(master, screen + screen_len, sizeof screen - 1 - screen_len);
		if (n <= 0)
			return -1; /* EIO: the child closed the pty (exited) */
		screen_len += (size_t)n;
		screen[screen_len] = '\0';
	}
}

/* Reap the watcher; its exit status, or -1 if it did not end in time. */
static int wait_exit(double timeout_s)
{
	double deadline = now_s() + timeout_s;
	int st;
	char buf[4096];
	while (now_s() < deadline) {
		/* keep draining, so the child never blocks on a full pty */
		struct pollfd pfd = { master, POLLIN, 0 };
		if (poll(&pfd, 1, 20) > 0) {
			ssize_t n = read(master, buf, sizeof buf);
			if (n > 0 && screen_len + (size_t)n < sizeof screen) {
				memcpy(screen + screen_len, buf, (size_t)n);
				screen[screen_len += (size_t)n] = '\0';
			}
		}
		if (waitpid(child, &st, WNOHANG) == child) {
			child = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
	return -1;
}

Test(watch, on_a_terminal_refreshes_in_place_with_interval_rates)
{
	start_on_pty("0.2", path);
	cr_assert_eq(wait_for("watching every 0.2s", 1, 10), 0, "%s", screen);
	cr_assert_eq(wait_for(CLEAR, 2, 10), 0, "no refresh: %s", screen);
	/* 300 converted and 100 zero-copy sends of 100 B, all at 1000 ns */
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100, 300, 1000);
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100, 100, 1000);
	seg_write(img, path);
	/* the interval that saw them: 3 of 4 zero-copy sends converted, p99 is
	 * the bucket of 1000 ns (up to 1024), totals 405 */
	cr_assert_eq(wait_for("    75%    1.0us    1.0us            405", 1, 10), 0,
		     "no such row: %s", screen);
	/* the next interval has nothing new: the rates drop to nothing */
	size_t mark = screen_len;
	cr_assert_eq(wait_for(CLEAR, 1, 10), 0);
	cr_assert_eq(wait_for("(no sends in the last 0.", 1, 10), 0, "%s", screen + mark);
	/* the process exits: one last screen, then watch ends by itself */
	seg_hdr(img)->state = ZCS_STATE_EXITED;
	seg_write(img, path);
	cr_assert_eq(wait_exit(10), 0, "%s", screen);
	cr_assert_not_null(strstr(screen, "is exited: watch ends"), "%s", screen);
}

Test(watch, ctrl_c_ends_it_cleanly)
{
	start_on_pty("0.2", path);
	cr_assert_eq(wait_for(CLEAR, 2, 10), 0, "%s", screen);
	kill(child, SIGINT);
	cr_assert_eq(wait_exit(5), 0, "SIGINT: %s", screen);
	start_on_pty("5", path);
	cr_assert_eq(wait_for("watching every 5.0s", 1, 10), 0, "%s", screen);
	double t = now_s();
	kill(child, SIGTERM);
	cr_assert_eq(wait_exit(5), 0, "SIGTERM");
	cr_assert_lt(now_s() - t, 2.0, "a signal must cut the sleep short");
}

Test(watch, into_a_pipe_appends_plain_blocks)
{
	struct zc_proc p;
	const char *argv[] = { "zcshim-stat", "--watch", "-i", "0.2", path, NULL };
	zc_start(&p, 0, NULL, argv);
	usleep(700000);
	seg_hdr(img)->state = ZCS_STATE_EXITED;
	seg_write(img, path);
	cr_assert_eq(zc_finish(&p, 20), 0, "%s", p.err);
	cr_assert_null(strstr(p.out, "\033"), "escape codes into a pipe: %s", p.out);
	int blocks = 0;
	for (const char *s = p.out; (s = strstr(s, "\nsize ")); s++)
		blocks++;
	cr_assert_geq(blocks, 2, "%s", p.out);
	cr_assert_not_null(strstr(p.out, "\n\npid "), "blocks separated by a blank line: %s", p.out);
	cr_assert_not_null(strstr(p.out, "is exited: watch ends\n"), "%s", p.out);
}

Test(watch, an_exited_process_has_nothing_to_watch)
{
	seg_hdr(img)->state = ZCS_STATE_EXITED;
	seg_write(img, path);
	struct zc_proc p;
	const char *argv[] = { "zcshim-stat", "--watch", path, NULL };
	cr_assert_eq(zc_run(&p, 0, NULL, argv), 0, "%s", p.err);
	cr_assert_not_null(strstr(p.out, "is exited: nothing to watch"), "%s", p.out);
}

Test(watch, a_real_app_until_it_exits)
{
	struct zc_proc app, w;
	const char *app_env[] = { "ZCSHIM_MODE=convert", NULL };
	const char *app_argv[] = { "zcload", "--sizes", "100,100000", "--until-stdin", NULL };
	zc_start(&app, 1, app_env, app_argv);
	cr_assert_eq(zc_wait_line(&app, "ready", 30), 0, "%s", app.err);
	char pid[32];
	snprintf(pid, sizeof pid, "%d", (int)app.pid);
	const char *argv[] = { "zcshim-stat", "--watch", "-i", "0.3", pid, NULL };
	zc_start(&w, 0, NULL, argv);
	usleep(1000000);
	cr_assert_eq(zc_finish(&app, 60), 0, "%s", app.err); /* stdin closed: it ends */
	int rc = zc_finish(&w, 30);
	struct zcs_snapshot *s = zcs_snapshot_new();
	char err[600];
	if (zcs_find(pid, s, err, sizeof err) == 0)
		unlink(s->path);
	zcs_snapshot_free(s);
	cr_assert_eq(rc, 0, "%s", w.err);
	/* 100 B sends converted (below 64k), 100000 B ones not */
	cr_assert_not_null(strstr(w.out, "\n[64,128) "), "%s", w.out);
	cr_assert_not_null(strstr(w.out, "   100% "), "%s", w.out);
	cr_assert_not_null(strstr(w.out, "     0% "), "%s", w.out);
	cr_assert_not_null(strstr(w.out, "is exited: watch ends\n"), "%s", w.out);
}
