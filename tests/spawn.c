/*
 * spawn.c - see spawn.h.
 */
#include "spawn.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *zc_build(const char *file)
{
	static __thread char paths[4][4096]; /* a few may be in use at once */
	static __thread unsigned next;
	char *path = paths[next++ % 4];
	const char *dir = getenv("ZCSHIM_BUILD");
	char cwd[3000];
	if (!dir || !*dir) {
		if (!getcwd(cwd, sizeof cwd))
			cr_assert_fail("getcwd");
		snprintf(path, sizeof paths[0], "%s/build/%s", cwd, file);
	} else {
		snprintf(path, sizeof paths[0], "%s/%s", dir, file);
	}
	return path;
}

/* Does env set the variable of entry ("NAME=...")? Then env's value wins. */
static int overridden(const char *entry, const char *const env[])
{
	size_t len = strcspn(entry, "=");
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], entry, len) && env[i][len] == '=')
			return 1;
	return 0;
}

const char *zc_promtool(void)
{
	static __thread char path[4096];
	char cwd[4000];
	if (access("build/deps/promtool", X_OK) == 0 && getcwd(cwd, sizeof cwd)) {
		snprintf(path, sizeof path, "%s/build/deps/promtool", cwd);
		return path;
	}
	if (access("/usr/bin/promtool", X_OK) == 0)
		return "/usr/bin/promtool";
	cr_assert_fail("no promtool: sh tools/install-deps unpacks it into build/deps/");
	return NULL;
}

void zc_promtool_check(struct zc_proc *p, const char *file)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "%s check metrics < '%s'", zc_promtool(), file);
	const char *sh[] = { "/bin/sh", "-c", cmd, NULL };
	cr_assert_eq(zc_run(p, 0, NULL, sh), 0, "promtool: %s%s", p->out, p->err);
}

const char *zc_preload(void)
{
	static __thread char list[8400];
	const char *shim = getenv("ZCSHIM_TEST_SHIM");
	const char *first = getenv("ZCSHIM_TEST_PRELOAD_FIRST");
	snprintf(list, sizeof list, "%s%s%s", first && *first ? first : "",
		 first && *first ? ":" : "", shim && *shim ? shim : zc_build("libzcshim.so"));
	return list;
}

void zc_start(struct zc_proc *p, int preload, const char *const env[],
	      const char *const argv[])
{
	memset(p, 0, sizeof *p);
	char *envp[512];
	size_t n = 0;
	for (char **e = environ; *e && n < 400; e++)
		if (strncmp(*e, "ZCSHIM_", 7) != 0 && strncmp(*e, "LD_PRELOAD=", 11) != 0 &&
		    !overridden(*e, env))
			envp[n++] = *e;
	/* Knobs for the sanitizer and valgrind runs (see the Makefile):
	 * ZCSHIM_TEST_SHIM replaces the shim, ZCSHIM_TEST_PRELOAD_FIRST puts a
	 * sanitizer runtime before it, ZCSHIM_TEST_WRAPPER runs our programs
	 * under a tool. */
	const char *wrapper = getenv("ZCSHIM_TEST_WRAPPER");
	static __thread char preload_var[8400];
	if (preload) {
		snprintf(preload_var, sizeof preload_var, "LD_PRELOAD=%s", zc_preload());
		envp[n++] = preload_var;
	}
	int sample_set = 0;
	for (size_t i = 0; env && env[i] && n < 510; i++) {
		envp[n++] = (char *)env[i];
		sample_set |= strncmp(env[i], "ZCSHIM_SAMPLE=", 14) == 0;
	}
	/* Tests count exactly what they sent, hold times and ffn threads
	 * included: those are followed for sampled buffers only, so time every
	 * call unless the test asks otherwise ("ZCSHIM_SAMPLE=": the default). */
	if (!sample_set)
		envp[n++] = "ZCSHIM_SAMPLE=1";
	envp[n] = NULL;

	int in[2], out[2], err[2];
	cr_assert(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 &&
		  pipe2(err, O_CLOEXEC) == 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	char prog[4096];
	snprintf(prog, sizeof prog, "%s", argv[0][0] == '/' ? argv[0] : zc_build(argv[0]));
	const char *args[64];
	size_t a = 0;
	char words[1024];
	if (preload && wrapper && *wrapper && argv[0][0] != '/') {
		snprintf(words, sizeof words, "%s", wrapper);
		for (char *w = strtok(words, " "); w && a < 32; w = strtok(NULL, " "))
			args[a++] = w;
	}
	args[a++] = prog;
	for (size_t i = 1; argv[i] && a < 63; i++)
		args[a++] = argv[i];
	args[a] = NULL;
	int rc = posix_spawnp(&p->pid, args[0], &fa, NULL, (char *const *)args, envp);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "spawn %s: %s", args[0], strerror(rc));
	close(in[0]);
	close(out[1]);
	close(err[1]);
	p->in_fd = in[1];
	p->out_fd = out[0];
	p->err_fd = err[0];
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read what is there from out/err; -1 when both are closed or time is up. */
static int pump(struct zc_proc *p, double deadline)
{
	struct pollfd fds[2] = { { p->out_fd, POLLIN, 0 }, { p->err_fd, POLLIN, 0 } };
	if (p->out_fd < 0 && p->err_fd < 0)
		return -1;
	double left = deadline - now_s();
	if (left <= 0)
		return -1;
	if (poll(fds, 2, (int)(left * 1000) + 1) <= 0)
		return 0;
	for (int i = 0; i < 2; i++) {
		if (!fds[i].revents)
			continue;
		char *buf = i ? p->err : p->out;
		size_t cap = i ? sizeof p->err : sizeof p->out;
		size_t used = strlen(buf);
		ssize_t r = read(fds[i].fd, buf + used, cap - 1 - used);
		if (r <= 0) {
			close(fds[i].fd);
			*(i ? &p->err_fd : &p->out_fd) = -1;
		} else {
			buf[used + (size_t)r] = '\0';
		}
	}
	return 0;
}

int zc_wait_line(struct zc_proc *p, const char *line, int timeout_s)
{
	double deadline = now_s() + timeout_s;
	char want[256];
	snprintf(want, sizeof want, "\n%s\n", line);
	for (;;) {
		char with_nl[sizeof p->out + 1];
		snprintf(with_nl, sizeof with_nl, "\n%s", p->out);
		if (strstr(with_nl, want))
			return 0;
		if (pump(p, deadline) < 0)
			return -1;
	}
}

int zc_wait_prefix(struct zc_proc *p, const char *prefix, char *buf, size_t len,
		   int timeout_s)
{
	double deadline = now_s() + timeout_s;
	for (;;) {
		for (const char *l = p->out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			const char *eol = strchr(l, '\n');
			size_t plen = strlen(prefix);
			if (eol && strncmp(l, prefix, plen) == 0) {
				snprintf(buf, len, "%.*s", (int)(eol - l - (long)plen), l + plen);
				return 0;
			}
		}
		if (pump(p, deadline) < 0)
			return -1;
	}
}

int zc_finish(struct zc_proc *p, int timeout_s)
{
	double deadline = now_s() + timeout_s;
	if (p->in_fd >= 0) {
		close(p->in_fd);
		p->in_fd = -1;
	}
	while (pump(p, deadline) == 0)
		;
	int st;
	struct rusage ru;
	for (;;) {
		pid_t r = wait4(p->pid, &st, WNOHANG, &ru);
		if (r == p->pid)
			break;
		if (now_s() > deadline) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
			p->status = -1;
			return -1;
		}
		usleep(10000);
	}
	p->maxrss_kb = ru.ru_maxrss;
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return p->status;
}

int zc_run(struct zc_proc *p, int preload, const char *const env[],
	   const char *const argv[])
{
	const char *t = getenv("ZCSHIM_TEST_TIMEOUT"); /* seconds; make stress raises it */
	zc_start(p, preload, env, argv);
	return zc_finish(p, t && atoi(t) > 0 ? atoi(t) : 60);
}

long zc_out_value(const struct zc_proc *p, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "%s=", key);
	for (const char *s = p->out; (s = strstr(s, pat)); s++)
		if (s == p->out || s[-1] == ' ' || s[-1] == '\n')
			return strtol(s + strlen(pat), NULL, 10);
	return -1;
}

int zc_under_a_tool(void)
{
	const char *w = getenv("ZCSHIM_TEST_WRAPPER");
	return w && *w;
}
