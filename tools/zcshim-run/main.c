/*
 * zcshim-run/main.c - zcshim-run: run a command under libzcshim.so without spelling out
 * LD_PRELOAD, and say at its exit where its segment is.
 *
 * It finds the library next to itself (build/, as built), or in the lib
 * dir it was built for taken relative to itself (as packaged: bin/ and
 * lib/<multiarch>/, so an unpacked package finds its own), or in ../lib
 * (make install: bin/ and lib/), or in that lib dir itself; prepends it to any LD_PRELOAD already set (another
 * preload, e.g. a sanitizer or libfaketime, keeps working); sets the
 * ZCSHIM_* variables given as options, after checking them with the shim's
 * own parser so a typo fails here and not as a warning in the app;
 * --threshold without --mode also sets ZCSHIM_MODE=convert, so that asking
 * for a threshold converts at it even where the environment says profile. It
 * forks and waits rather than exec'ing, so that it can print one line on
 * stderr when the command ends; while it waits it ignores SIGINT and
 * SIGQUIT (the terminal sends them to the command too) and passes SIGTERM
 * and SIGHUP on.
 *
 * Exit status: the command's, or 128 + the signal that killed it; 125 for
 * zcshim-run's own errors (bad option, no library); 126 if the command
 * cannot be executed, 127 if it is not found (as env(1) and the shell do).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "reach_text.h"
#include "segread.h"

#ifndef ZCS_LIBDIR
#define ZCS_LIBDIR "/usr/local/lib"
#endif
#ifndef ZCS_LIBDIR_REL /* ZCS_LIBDIR below the prefix, e.g. lib/x86_64-linux-gnu */
#define ZCS_LIBDIR_REL "lib"
#endif

#define PROG "zcshim-run"
#define EXIT_OWN 125

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: zcshim-run [OPTION]... [--] COMMAND [ARG]...\n"
		"Run COMMAND with libzcshim.so preloaded; when it ends, say where its\n"
		"zcshim segment is (one line on stderr).\n"
		"\n"
		"  -t, --threshold N   ZCSHIM_THRESHOLD: convert zero-copy sends below N bytes\n"
		"                      (4096, 64k, 1M, max; 0 converts nothing); implies\n"
		"                      --mode convert unless --mode is given\n"
		"  -m, --mode M        ZCSHIM_MODE: convert, profile or off (without it and\n"
		"                      without a threshold: profile, nothing converted)\n"
		"  -s, --sample N      ZCSHIM_SAMPLE: auto (the default), or time 1 call in N\n"
		"                      (1 to 1000000)\n"
		"  -k, --keep 0|1      ZCSHIM_KEEP: keep the segment after exit (default 1)\n"
		"  -h, --help          show this help and exit\n"
		"\n"
		"Options not given leave the environment's ZCSHIM_* as they are.\n"
		"Exit status: COMMAND's, or 128+N if signal N killed it; 125 if zcshim-run\n"
		"itself failed, 126 if COMMAND cannot run, 127 if it was not found.\n"
		"See zcshim-run(1) and zcshim(7).\n");
}

static int fail(const char *fmt, const char *arg)
{
	fputs(PROG ": ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EXIT_OWN;
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The existing file dir/rel/libzcshim.so, made canonical, into out. */
static int lib_at(char *out, size_t len, const char *dir, const char *rel)
{
	snprintf(out, len, "%s/%s/libzcshim.so", dir, rel);
	if (!is_file(out))
		return -1;
	char *real = realpath(out, NULL);
	if (real) {
		snprintf(out, len, "%s", real);
		free(real);
	}
	return 0;
}

/* The library beside this program, in ../ZCS_LIBDIR_REL or ../lib relative
 * to it, or in ZCS_LIBDIR. */
static int find_library(char *out, size_t len)
{
	char self[PATH_MAX - 64]; /* room for "/../lib/<multiarch>/libzcshim.so" */
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(out, len, "%s/libzcshim.so", self);
			if (is_file(out))
				return 0;
			if (ZCS_LIBDIR_REL[0] != '/' &&
			    lib_at(out, len, self, "../" ZCS_LIBDIR_REL) == 0)
				return 0;
			if (lib_at(out, len, self, "../lib") == 0)
				return 0;
		}
	}
	snprintf(out, len, "%s/libzcshim.so", ZCS_LIBDIR);
	return is_file(out) ? 0 : -1;
}

/* A sanitizer runtime (libasan.so.8, libtsan.so.2, ...) must come first. */
static int is_sanitizer(const char *entry)
{
	const char *base = strrchr(entry, '/');
	base = base ? base + 1 : entry;
	return strncmp(base, "lib", 3) == 0 && strstr(base, "san.so") != NULL;
}

/* LD_PRELOAD with lib first, after any sanitizer runtime; other entries kept
 * in order, lib not twice. */
static int set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	size_t len = strlen(lib) + (old ? strlen(old) : 0) + 2;
	char *val = malloc(len), *copy = old ? strdup(old) : NULL;
	if (!val || (old && !copy)) {
		free(val);
		free(copy);
		return -1;
	}
	val[0] = '\0';
	/* ld.so separates entries with spaces or colons; two passes over a
	 * copy each: sanitizer runtimes, then lib, then the rest */
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1) {
			strcat(val, val[0] ? ":" : "");
			strcat(val, lib);
			continue;
		}
		char *work = copy ? strdup(copy) : NULL;
		for (char *save = NULL, *t = work ? strtok_r(work, ": ", &save) : NULL; t;
		     t = strtok_r(NULL, ": ", &save)) {
			if (strcmp(t, lib) == 0 || is_sanitizer(t) != (pass == 0))
				continue;
			strcat(val, val[0] ? ":" : "");
			strcat(val, t);
		}
		free(work);
	}
	int rc = setenv("LD_PRELOAD", val, 1);
	free(val);
	free(copy);
	return rc;
}

static volatile sig_atomic_t child_pid;

static void pass_on(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

/* One line on stderr: where the command's segment is, or why there is none
 * or nothing in it. The shim makes a segment in every process it is loaded
 * into, and says in it why none of its calls came (reach_text.h). */
static void report(pid_t pid, const char *cmd)
{
	char key[32], err[600], why[600];
	struct zcs_snapshot *s = zcs_snapshot_new();
	snprintf(key, sizeof key, "%d", (int)pid);
	int found = s && zcs_find(key, s, err, sizeof err) == 0 && s->hdr.pid == pid;
	if (found && s->live != ZCS_LIVE_STARTING && !zcs_calls_seen(s))
		fprintf(stderr, PROG ": %s: no libzmq calls seen: %s; nothing recorded\n", cmd,
			zcs_reach_why_text(s, why, sizeof why));
	else if (found)
		fprintf(stderr, PROG ": pid %d: zcshim-stat %d   (segment %s)\n", (int)pid,
			(int)pid, s->path);
	else
		fprintf(stderr,
			PROG ": pid %d: no segment (ZCSHIM_MODE=off, ZCSHIM_KEEP=0, or the shim "
			"was not loaded); zcshim-stat lists all\n",
			(int)pid);
	zcs_snapshot_free(s);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threshold", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "sample", required_argument, NULL, 's' },
		{ "keep", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, mode_given = 0, threshold_given = 0;
	uint64_t n;
	unsigned mode;
	/* "+": stop at the first non-option, so COMMAND's own options are its */
	argv[0] = (char *)PROG; /* getopt's messages name the program, not its path */
	while ((c = getopt_long(argc, argv, "+t:m:s:k:h", opts, NULL)) != -1) {
		const char *var = NULL;
		switch (c) {
		case 't':
			if (zcs_parse_size(optarg, &n) != 0)
				return fail("--threshold '%s': a size in bytes, e.g. 4096, 64k, 1M or max",
					    optarg);
			var = "ZCSHIM_THRESHOLD";
			threshold_given = 1;
			break;
		case 'm':
			if (zcs_parse_mode(optarg, &mode) != 0)
				return fail("--mode '%s': convert, profile or off", optarg);
			var = "ZCSHIM_MODE";
			mode_given = 1;
			break;
		case 's':
			if (strcmp(optarg, "auto") != 0 &&
			    zcs_parse_uint(optarg, 1, ZCS_MAX_SAMPLE, &n) != 0)
				return fail("--sample '%s': auto or a whole number from 1 to 1000000",
					    optarg);
			var = "ZCSHIM_SAMPLE";
			break;
		case 'k':
			if (zcs_parse_uint(optarg, 0, 1, &n) != 0)
				return fail("--keep '%s': 0 or 1", optarg);
			var = "ZCSHIM_KEEP";
			break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "Try 'zcshim-run --help' for more information.\n");
			return EXIT_OWN;
		}
		if (setenv(var, optarg, 1) != 0)
			return fail("setenv: %s", strerror(errno));
	}
	/* a threshold asks for conversion, whatever ZCSHIM_MODE the caller's
	 * environment holds; --mode, given, decides */
	if (threshold_given && !mode_given && setenv("ZCSHIM_MODE", "convert", 1) != 0)
		return fail("setenv: %s", strerror(errno));
	if (optind == argc) {
		fprintf(stderr, PROG ": no command to run\n"
				"Try 'zcshim-run --help' for more information.\n");
		return EXIT_OWN;
	}
	char lib[PATH_MAX];
	if (find_library(lib, sizeof lib) != 0)
		return fail("libzcshim.so is neither beside this program, nor in ../" ZCS_LIBDIR_REL
			    " or ../lib, nor in %s", ZCS_LIBDIR);
	if (set_preload(lib) != 0)
		return fail("%s", "out of memory");

	/* The child reports a failed exec through a close-on-exec pipe. */
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return fail("pipe: %s", strerror(errno));
	struct sigaction ign = { .sa_handler = SIG_IGN }, fwd = { .sa_handler = pass_on },
			 old_int, old_quit;
	sigemptyset(&ign.sa_mask);
	sigemptyset(&fwd.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		close(pfd[0]);
		execvp(argv[optind], argv + optind);
		int e = errno;
		if (write(pfd[1], &e, sizeof e) != (ssize_t)sizeof e)
			_exit(127);
		_exit(e == ENOENT ? 127 : 126);
	}
	child_pid = pid;
	sigaction(SIGTERM, &fwd, NULL);
	sigaction(SIGHUP, &fwd, NULL);
	close(pfd[1]);
	int exec_errno = 0;
	ssize_t got;
	while ((got = read(pfd[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
		;
	close(pfd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return fail("waitpid: %s", strerror(errno));
	if (got == (ssize_t)sizeof exec_errno) {
		fprintf(stderr, PROG ": %s: %s\n", argv[optind], strerror(exec_errno));
		return exec_errno == ENOENT ? 127 : 126;
	}
	report(pid, argv[optind]);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
