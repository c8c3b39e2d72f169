/*
 * test_segments.c - segments in containers and under pressure (issue 13):
 * PID namespaces sharing /dev/shm, re-exec, setuid daemons, libraries that
 * call libzmq from their constructors, a /dev/shm flooded with other
 * users' names, what a segment costs, and a /dev/shm that fills up.
 *
 * Every test runs in a mount namespace of its own with a fresh tmpfs on
 * /dev/shm (private_shm()), so it sees only what it made and can fill or
 * flood it; PID namespaces come from unshare(1). That needs root, which CI
 * has: only a run as another user skips these tests.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "histo.h"
#include "procid.h"
#include "segread.h"
#include "seghelp.h"
#include "spawn.h"

#define NOBODY 65534

static char err[600];

TestSuite(segments, .init = sh_snap_setup, .fini = sh_snap_teardown, .timeout = 300);

/* ------------------------------------------------------------ helpers */

/* This test process (Criterion runs each in its own) gets a mount
 * namespace of its own and a new tmpfs on /dev/shm, mounted with opts;
 * whatever it starts inherits both. */
static void private_shm(const char *opts)
{
	if (geteuid() != 0)
		cr_skip_test("needs root for private mount namespaces (CI runs as root)");
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s",
		     strerror(errno));
	cr_assert_eq(mount("tmpfs", "/dev/shm", "tmpfs", 0, opts), 0, "mount %s: %s", opts,
		     strerror(errno));
}

/* Our segments in /dev/shm: the names zcs_list() gives (files of this
 * user of the segment pattern). */
static size_t segments(struct zcs_name **names)
{
	size_t n;
	cr_assert_eq(zcs_list(names, &n, NULL, err, sizeof err), 0, "%s", err);
	return n;
}

/* The one segment of pid (of our namespace), read into snap; its path. */
static const char *segment_of(pid_t pid)
{
	char key[32];
	snprintf(key, sizeof key, "%d", (int)pid);
	cr_assert_eq(zcs_find(key, snap, err, sizeof err), 0, "%s", err);
	return snap->path;
}

/* Blocks the file at path has in tmpfs, in bytes: what it costs in RAM. */
static long long backed_bytes(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	return (long long)st.st_blocks * 512;
}

static uint64_t count_of(unsigned op, unsigned path, size_t bytes)
{
	struct zcs_cell c;
	return zcs_cell_by_size(snap, op, path, zcs_size_class(bytes), &c);
}

static int lines(const char *text)
{
	int n = 0;
	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* Segment files of pid in /dev/shm, whoever owns them. */
static int files_of(pid_t pid)
{
	DIR *d = opendir("/dev/shm");
	cr_assert_not_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		struct zcs_name nm;
		n += zcs_parse_name(e->d_name, &nm) == 0 && nm.pid == pid;
	}
	closedir(d);
	return n;
}

/* Lines of text that contain every one of the words given. */
static int lines_with(const char *text, const char *a, const char *b)
{
	int n = 0;
	for (const char *line = text; line && *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char buf[1024];
		snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1),
			 line);
		n += strstr(buf, a) && (!b || strstr(buf, b));
		line = eol ? eol + 1 : NULL;
	}
	return n;
}

/* zcshim-stat with up to three arguments, here (this PID namespace). */
static int stat_here(struct zc_proc *p, const char *a1, const char *a2)
{
	const char *argv[] = { "zcshim-stat", a1, a2, NULL };
	return zc_run(p, 0, NULL, argv);
}

/* ... in a PID namespace of its own, with its own /proc: a container. */
static int stat_in_new_pidns(struct zc_proc *p, const char *a1)
{
	const char *argv[] = { "/usr/bin/unshare", "-p", "-f", "--kill-child", "--mount-proc",
			       zc_build("zcshim-stat"), a1, NULL };
	return zc_run(p, 0, NULL, argv);
}

/* Run argv (in the build dir) under the shim in a new PID namespace. */
static int run_in_new_pidns(struct zc_proc *p, const char *const env[], const char *app_args)
{
	char script[512];
	snprintf(script, sizeof script, "LD_PRELOAD=\"$1\" exec \"$0\" %s", app_args);
	const char *argv[] = { "/usr/bin/unshare", "-p", "-f", "--kill-child", "--mount-proc", "/bin/sh", "-c",
			       script, zc_build("zcapp"), zc_preload(), NULL };
	return zc_run(p, 0, env, argv);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* zcshim-stat copied where any user can run it: the tree may sit in a
 * directory only root can enter (/root in CI). */
static const char *stat_for_all(char *dir, size_t len)
{
	static char path[512];
	snprintf(dir, len, "/tmp/zcshim-stat-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0755), 0);
	snprintf(path, sizeof path, "%s/zcshim-stat", dir);
	char cmd[1400];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 755 '%s'", zc_build("zcshim-stat"), path,
		 path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	return path;
}

static void remove_dir(const char *dir, const char *file)
{
	char path[600];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	unlink(path);
	rmdir(dir);
}

/* ----------------------------------------- PID namespaces sharing /dev/shm */

/* Ten shimmed daemons in one PID namespace (a container) whose /dev/shm is
 * ours (--ipc=host, a pod): nothing in another namespace may take them for
 * gone, and once killed, only a reader that can see their namespace may
 * say they are. */
Test(segments, pid_namespaces_sharing_dev_shm)
{
	private_shm("size=64m");
	uint64_t my_ns = zcs_ns_inode("/proc/self/ns/pid");
	/* the container: sh as its pid 1 starts the daemons, kills them on
	 * the word, and stays (so its namespace stays in view) */
	const char *script =
		"pids=; i=0\n"
		"while [ $i -lt 10 ]; do\n"
		"  LD_PRELOAD=\"$1\" \"$0\" pushpull --count 5 --pause >/dev/null & pids=\"$pids $!\"\n"
		"  i=$((i + 1))\n"
		"done\n"
		"echo started\n"
		"read word\n"
		"kill -9 $pids; wait\n"
		"echo killed\n"
		"read word\n"
		"exit 0\n";
	const char *argv[] = { "/usr/bin/unshare", "-p", "-f", "--kill-child", "--mount-proc", "/bin/sh", "-c",
			       script, zc_build("zcapp"), zc_preload(), NULL };
	struct zc_proc box;
	zc_start(&box, 0, NULL, argv);
	cr_assert_eq(zc_wait_line(&box, "started", 60), 0, "%s", box.err);

	/* their segments: 10 of another namespace, each with its 5 sends */
	char paths[10][PATH_MAX];
	int found = 0;
	for (double until = now_s() + 60; found < 10 && now_s() < until; usleep(50000)) {
		struct zcs_name *names;
		size_t n = segments(&names);
		found = 0;
		for (size_t i = 0; i < n && found < 10; i++)
			if (names[i].pidns != my_ns &&
			    zcs_read(names[i].path, snap, err, sizeof err) == 0 &&
			    zcs_messages(snap) == 5)
				snprintf(paths[found++], PATH_MAX, "%s", names[i].path);
		free(names);
	}
	cr_assert_eq(found, 10, "%d daemons' segments after 60 s", found);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(zcs_read(paths[i], snap, err, sizeof err), 0, "%s", err);
		cr_assert_eq(snap->live, ZCS_LIVE_RUNNING, "%s: %s from here", paths[i],
			     zcs_live_name(snap->live));
	}

	/* shimmed starts elsewhere prune, and must remove none of them: in a
	 * new PID namespace (twice, and once with ZCSHIM_KEEP=0), and here */
	struct zc_proc p;
	const char *keep0[] = { "ZCSHIM_KEEP=0", NULL };
	cr_assert_eq(run_in_new_pidns(&p, NULL, "pushpull --count 3"), 0, "%s", p.err);
	cr_assert_eq(run_in_new_pidns(&p, keep0, "pushpull --count 3"), 0, "%s", p.err);
	cr_assert_eq(run_in_new_pidns(&p, NULL, "none"), 0, "%s", p.err);
	const char *here[] = { "zcapp", "pushpull", "--count", "3", NULL };
	cr_assert_eq(zc_run(&p, 1, NULL, here), 0, "%s", p.err);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(access(paths[i], F_OK), 0, "a start removed %s", paths[i]);

	/* zcshim-stat: running from here, unknown (never dead) from a
	 * container of its own; --clean from either removes none of them */
	cr_assert_eq(stat_here(&p, NULL, NULL), 0, "%s", p.err);
	cr_assert_eq(lines_with(p.out, " running ", " zcapp"), 10, "%s", p.out);
	cr_assert_eq(lines_with(p.out, " dead ", NULL), 0, "%s", p.out);
	cr_assert_eq(stat_in_new_pidns(&p, NULL), 0, "%s", p.err);
	cr_assert_eq(lines_with(p.out, " unknown ", " zcapp"), 10, "%s", p.out);
	cr_assert_eq(lines_with(p.out, " dead ", NULL), 0, "%s", p.out);
	cr_assert_eq(lines_with(p.out, " running ", NULL), 0, "%s", p.out);
	cr_assert_eq(stat_in_new_pidns(&p, "--clean"), 0, "%s", p.err);
	cr_assert_eq(stat_here(&p, "--clean", NULL), 0, "%s", p.err);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(access(paths[i], F_OK), 0, "--clean removed %s", paths[i]);

	/* killed, never marked exited: from here they are proven dead, from
	 * another container nothing is proven */
	cr_assert_eq(write(box.in_fd, "kill\n", 5), 5);
	cr_assert_eq(zc_wait_line(&box, "killed", 60), 0, "%s", box.err);
	cr_assert_eq(stat_in_new_pidns(&p, NULL), 0, "%s", p.err);
	cr_assert_eq(lines_with(p.out, " unknown ", " zcapp"), 10, "%s", p.out);
	cr_assert_eq(stat_in_new_pidns(&p, "--clean"), 0, "%s", p.err);
	cr_assert_eq(lines_with(p.out, "removed /dev/shm/zcshim.", NULL), 0, "%s", p.out);
	cr_assert_eq(run_in_new_pidns(&p, NULL, "pushpull --count 3"), 0, "%s", p.err);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(access(paths[i], F_OK), 0, "%s removed from elsewhere", paths[i]);
	cr_assert_eq(stat_here(&p, NULL, NULL), 0, "%s", p.err);
	cr_assert_eq(lines_with(p.out, " dead ", " zcapp"), 10, "%s", p.out);
	cr_assert_eq(stat_here(&p, "--clean", NULL), 0, "%s", p.err);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(access(paths[i], F_OK), -1, "--clean left %s", paths[i]);
	cr_assert_eq(lines_with(p.out, "removed /dev/shm/zcshim.", ", zcapp, dead)"), 10, "%s",
		     p.out);
	cr_assert_eq(zc_finish(&box, 30), 0, "%s", box.err);
}

/* The reader need not be in the host's namespace: any namespace above the
 * daemon's sees it (and finds its segment by the pid it has here), and
 * once it is killed, proves it gone. */
Test(segments, a_parent_namespace_that_is_not_the_hosts_judges_its_children)
{
	private_shm("size=64m");
	const char *script =
		"app=$0 shim=$1 stat=$2\n"
		"/usr/bin/unshare -p -f --kill-child --mount-proc /bin/sh -c "
		"'LD_PRELOAD=\"$1\" \"$0\" pushpull --count 3 --pause >/dev/null & wait; "
		"exec sleep 1000' \"$app\" \"$shim\" &\n"
		"i=0\n"
		"until \"$stat\" | grep -q ' running .* 3  zcapp'; do\n"
		"  i=$((i + 1)); [ $i -lt 600 ] || exit 3; sleep 0.1\n"
		"done\n"
		"echo before; \"$stat\"\n"
		"for d in /proc/[0-9]*; do\n"
		"  [ \"$(cat $d/comm 2>/dev/null)\" = zcapp ] && pid=${d#/proc/}\n"
		"done\n"
		"echo show; \"$stat\" $pid | head -1\n"
		"kill -9 $pid\n"
		"while [ -e /proc/$pid ]; do sleep 0.05; done\n"
		"echo after; \"$stat\"; \"$stat\" --clean\n";
	const char *argv[] = { "/usr/bin/unshare", "-p", "-f", "--kill-child", "--mount-proc", "/bin/sh", "-c",
			       script, zc_build("zcapp"), zc_preload(), zc_build("zcshim-stat"),
			       NULL };
	struct zc_proc p;
	int rc = zc_run(&p, 0, NULL, argv);
	cr_assert_eq(rc, 0, "exit %d\n%s\n%s", rc, p.out, p.err);
	const char *after = strstr(p.out, "\nafter\n");
	cr_assert_not_null(after, "%s", p.out);
	/* zcshim-stat PID takes the pid this namespace knows it by */
	const char *show = strstr(p.out, "\nshow\n");
	cr_assert_not_null(show, "%s", p.out);
	cr_assert_eq(strncmp(show + 6, "pid ", 4), 0, "%s", p.out);
	cr_assert_not_null(strstr(show, " (zcapp): running, "), "%s", p.out);
	cr_assert_eq(lines_with(p.out, " running ", " zcapp"), 1, "%s", p.out);
	cr_assert_eq(lines_with(after, " dead ", " zcapp"), 1, "%s", p.out);
	cr_assert_eq(lines_with(after, "removed /dev/shm/zcshim.", ", zcapp, dead)"), 1, "%s",
		     p.out);
}

/* Kill what unshare started (its pid 1), so that unshare reaps it and
 * ends: killing unshare first would leave the child a zombie for init. */
static void end_container(struct zc_proc *box)
{
	char path[64], list[256] = "";
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)box->pid, (int)box->pid);
	FILE *f = fopen(path, "r");
	if (f) {
		if (!fgets(list, sizeof list, f))
			list[0] = '\0';
		fclose(f);
	}
	for (char *t = strtok(list, " \n"); t; t = strtok(NULL, " \n"))
		kill((pid_t)atoi(t), SIGKILL);
	if (!list[0])
		kill(box->pid, SIGKILL);
	zc_finish(box, 30);
}

/* No /proc in two containers: their processes are both pid 1 and their
 * names differ only by seq. Neither may retire the other as if it were
 * its own earlier image, nor may a reader call either replaced. */
Test(segments, without_proc_two_containers_leave_each_other_alone)
{
	private_shm("size=64m");
	const char *script = "umount -l /proc && LD_PRELOAD=\"$1\" exec \"$0\" pushpull "
			     "--count 4 --pause >/dev/null";
	const char *argv[] = { "/usr/bin/unshare", "-p", "-f", "--kill-child", "-m", "--propagation", "private",
			       "/bin/sh", "-c", script, zc_build("zcapp"), zc_preload(), NULL };
	struct zc_proc a, b;
	zc_start(&a, 0, NULL, argv);
	struct zcs_name *names = NULL;
	size_t n = 0;
	for (double until = now_s() + 60; n < 1 && now_s() < until; usleep(50000)) {
		free(names);
		n = segments(&names);
	}
	zc_start(&b, 0, NULL, argv);
	int with_calls = 0;
	for (double until = now_s() + 60; with_calls < 2 && now_s() < until; usleep(50000)) {
		free(names);
		n = segments(&names);
		with_calls = 0;
		for (size_t i = 0; i < n; i++)
			with_calls += zcs_read(names[i].path, snap, err, sizeof err) == 0 &&
				      zcs_messages(snap) == 4;
	}
	struct zc_proc p;
	int listed = stat_here(&p, NULL, NULL);
	int cleaned = listed == 0 ? stat_here(&p, "--clean", NULL) : -1;
	size_t left = n;
	struct zcs_name *after;
	left = segments(&after);
	free(after);
	end_container(&a);
	end_container(&b);
	cr_assert_eq(with_calls, 2, "%d of 2 containers' segments", with_calls);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(names[i].pidns, 0, "%s: /proc was there", names[i].path);
	free(names);
	cr_assert_eq(listed, 0);
	cr_assert_eq(cleaned, 0, "%s", p.err);
	cr_assert_eq(lines_with(p.out, "removed /dev/shm", NULL), 0, "%s", p.out);
	cr_assert_eq(left, 2, "--clean or a start removed a running container's segment");
}

/* ---------------------------------------------------------- re-exec */

/* A process that reloads itself 100 times costs one segment, and a
 * neighbour's POSIX shm in the same 64 MiB /dev/shm (Docker's default)
 * still fits: it would die of SIGBUS if the reloads had filled it. */
Test(segments, a_hundred_reloads_cost_one_segment_and_the_neighbour_lives)
{
	private_shm("size=64m");
	const char *argv[] = { "zcapp", "pushpull", "--count", "5", "--reexec", "100", NULL };
	struct zc_proc p;
	int rc = zc_run(&p, 1, NULL, argv);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, p.err);
	cr_assert_eq(lines_with(p.out, "failures=0", NULL), 101, "%s", p.out);
	struct zcs_name *names;
	size_t n = segments(&names);
	cr_assert_eq(n, 1, "%zu segments after 100 reloads", n);
	cr_assert_eq(names[0].pid, p.pid);
	cr_assert_eq(zcs_read(names[0].path, snap, err, sizeof err), 0, "%s", err);
	free(names);
	cr_assert_eq(snap->live, ZCS_LIVE_EXITED);
	cr_assert_eq(zcs_messages(snap), 1, "the last image's own sends");
	struct statvfs vfs;
	cr_assert_eq(statvfs("/dev/shm", &vfs), 0);
	long long used = (long long)(vfs.f_blocks - vfs.f_bfree) * (long long)vfs.f_frsize;
	cr_log_info("after 100 reloads /dev/shm holds %lld KiB", used / 1024);
	cr_assert_leq(used, 1 << 20, "%lld bytes of /dev/shm used", used);

	/* the neighbour: 40 MiB of its own, every page touched */
	const char *neighbour[] = { "zcapp", "shm", "--count", "40", NULL };
	rc = zc_run(&p, 0, NULL, neighbour);
	cr_assert_eq(rc, 0, "the neighbour exited %d (135: SIGBUS): %s", rc, p.err);
	cr_assert_not_null(strstr(p.out, "touched_mib=40"));
}

/* ------------------------------------------------------------- setuid */

/* A daemon started as root drops to nobody before or after its first
 * libzmq call: it records exactly, its segment is nobody's and readable by
 * zcshim-stat as nobody, and with ZCSHIM_KEEP=0 nothing is left. */
static void drops_root(const char *when, const char *call)
{
	char flag[32];
	snprintf(flag, sizeof flag, "--setuid-%s", when);
	int after = !strcmp(when, "after");
	const char *argv[] = { "zcapp", "fanout", "--threads", "2", "--sockets", "2", "--count",
			       "10", flag, "65534", "--uid-call", call, NULL };
	struct zc_proc p;
	int rc = zc_run(&p, 1, NULL, argv);
	cr_assert_eq(rc, 0, "%s %s: exit %d: %s", when, call, rc, p.err);
	/* not a word from the shim (make valgrind: valgrind has some about
	 * its own files after the uid changed) */
	cr_assert_null(strstr(p.err, "zcshim"), "%s %s: %s", when, call, p.err);
	cr_assert_not_null(strstr(p.out, "euid=65534"), "%s", p.out);

	/* the file is nobody's; read as nobody (this process, for a moment) */
	char path[PATH_MAX], name[128];
	snprintf(name, sizeof name, "%d", (int)p.pid);
	cr_assert_eq(seteuid(NOBODY), 0);
	int found = zcs_find(name, snap, err, sizeof err);
	cr_assert_eq(seteuid(0), 0);
	cr_assert_eq(found, 0, "%s %s: %s", when, call, err);
	snprintf(path, sizeof path, "%s", snap->path);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_uid, NOBODY, "%s %s: owned by %u", when, call, (unsigned)st.st_uid);
	cr_assert_eq(snap->hdr.uid, NOBODY);
	cr_assert_eq(snap->live, ZCS_LIVE_EXITED);
	/* 2 threads x 10 sends of 100 B; after: as many again of 1000100 B,
	 * from new threads (new shards) and new series (new cells) */
	cr_assert_eq(count_of(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100), 20, "%s %s", when, call);
	cr_assert_eq(count_of(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 1000100), after ? 20 : 0);
	cr_assert_eq(snap->hdr.flags & ZCS_F_FULL, 0);

	/* zcshim-stat as nobody */
	char dir[64];
	const char *stat_prog = stat_for_all(dir, sizeof dir);
	const char *as_nobody[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
				    "--clear-groups", stat_prog, name, NULL };
	rc = zc_run(&p, 0, NULL, as_nobody);
	remove_dir(dir, "zcshim-stat");
	cr_assert_eq(rc, 0, "zcshim-stat as nobody: %s", p.err);
	cr_assert_eq(lines_with(p.out, "msg_send", "zerocopy"), after ? 2 : 1, "%s", p.out);
	unlink(path);

	/* ZCSHIM_KEEP=0: gone at exit, though nobody exits, not root */
	const char *keep0[] = { "ZCSHIM_KEEP=0", NULL };
	rc = zc_run(&p, 1, keep0, argv);
	cr_assert_eq(rc, 0, "%s", p.err);
	cr_assert_eq(files_of(p.pid), 0, "%s %s: ZCSHIM_KEEP=0 left a segment", when, call);
}

Test(segments, setuid_before_the_first_libzmq_call)
{
	private_shm("size=64m");
	drops_root("before", "setuid");
}

Test(segments, setuid_after_the_first_libzmq_call)
{
	private_shm("size=64m");
	drops_root("after", "setuid");
}

Test(segments, seteuid_setreuid_setresuid_before_and_after)
{
	private_shm("size=64m");
	static const char *const calls[] = { "seteuid", "setreuid", "setresuid" };
	for (int i = 0; i < 3; i++) {
		drops_root("before", calls[i]);
		drops_root("after", calls[i]);
	}
}

/* Restarted again and again, such a daemon must not fill /dev/shm: its
 * finished segments are nobody's, so nobody's ledger must bound them. */
Test(segments, a_daemon_that_drops_root_is_pruned_too)
{
	private_shm("size=64m");
	for (int i = 0; i < 14; i++) {
		const char *argv[] = { "zcapp", "fanout", "--threads", "1", "--sockets", "1",
				       "--count", "2", "--setuid-before", "65534", NULL };
		struct zc_proc p;
		cr_assert_eq(zc_run(&p, 1, NULL, argv), 0, "%s", p.err);
	}
	cr_assert_eq(seteuid(NOBODY), 0);
	struct zcs_name *names;
	size_t n;
	int rc = zcs_list(&names, &n, NULL, err, sizeof err);
	cr_assert_eq(seteuid(0), 0);
	cr_assert_eq(rc, 0, "%s", err);
	free(names);
	cr_assert_geq(n, 8, "the newest are kept");
	cr_assert_leq(n, 8, "%zu finished segments of nobody's left of 14", n);
}

/* --------------------------------------------------- early constructors */

/* libzcearly.so calls libzmq from its constructor, which runs before the
 * preloaded shim's: the settings hold from the first call all the same. */
Test(segments, a_constructor_that_calls_libzmq_first_gets_the_settings)
{
	private_shm("size=64m");
	const char *argv[] = { "zcearly", NULL };
	const char *max[] = { "ZCSHIM_THRESHOLD=max", NULL };
	struct zc_proc p;
	int rc = zc_run(&p, 1, max, argv);
	cr_assert_eq(rc, 0, "%s\n%s", p.out, p.err);
	cr_assert_str_empty(p.err);
	cr_assert_not_null(strstr(p.out, "ffn_in_send=100"), "every send converted: %s", p.out);
	segment_of(p.pid); /* reads back: not "corrupt" */
	cr_assert_eq(snap->hdr.mode, ZCS_MODE_CONVERT);
	cr_assert_eq(snap->hdr.threshold_bytes, UINT64_MAX);
	cr_assert_eq(snap->hdr.sample_every, 1);
	cr_assert_eq(count_of(ZCS_OP_MSG_SEND, ZCS_PATH_CONVERTED, 100), 100);
	cr_assert_eq(count_of(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100), 0);

	/* nothing set: profile, nothing converted */
	rc = zc_run(&p, 1, NULL, argv);
	cr_assert_eq(rc, 0, "%s", p.err);
	cr_assert_not_null(strstr(p.out, "ffn_in_send=0"), "%s", p.out);
	segment_of(p.pid);
	cr_assert_eq(snap->hdr.mode, ZCS_MODE_PROFILE);
	cr_assert_eq(count_of(ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100), 100);
}

Test(segments, a_constructor_that_calls_libzmq_first_under_mode_off_makes_nothing)
{
	private_shm("size=64m");
	const char *argv[] = { "zcearly", NULL };
	const char *off[] = { "ZCSHIM_MODE=off", "ZCSHIM_THRESHOLD=max", NULL };
	struct zc_proc p;
	int rc = zc_run(&p, 1, off, argv);
	cr_assert_eq(rc, 0, "%s", p.err);
	cr_assert_str_empty(p.err);
	cr_assert_not_null(strstr(p.out, "ffn_in_send=0"), "off converts nothing: %s", p.out);
	DIR *d = opendir("/dev/shm");
	cr_assert_not_null(d);
	struct dirent *e;
	int ours = 0;
	while ((e = readdir(d)))
		ours += !strncmp(e->d_name, "zcshim.", 7);
	closedir(d);
	cr_assert_eq(ours, 0, "mode off made %d files in /dev/shm", ours);
}

/* ------------------------------------------------------------- a flood */

/* Other users' names cost a start nothing: 100,000 names of our pattern
 * (in our PID namespace, the pids a start might have) and 20,000 of the
 * old one, all nobody's. */
static void flood(void)
{
	uint64_t ns = zcs_ns_inode("/proc/self/ns/pid");
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		if (setresgid(NOBODY, NOBODY, NOBODY) != 0 || setresuid(NOBODY, NOBODY, NOBODY) != 0)
			_exit(2);
		char name[128];
		for (int i = 0; i < 120000; i++) {
			if (i < 100000)
				snprintf(name, sizeof name, "/dev/shm/zcshim.%llu.%d.%d.%d",
					 (unsigned long long)ns, i % 32768 + 1, 1000 + i / 32768,
					 i % 3);
			else
				snprintf(name, sizeof name, "/dev/shm/zcshim.%d.%d.0", i, i);
			int fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0644);
			if (fd < 0)
				_exit(3);
			close(fd);
		}
		_exit(0);
	}
	int st;
	cr_assert_eq(waitpid(child, &st, 0), child);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "flooding failed: %d", st);
}

/* Start a shimmed /bin/true and wait for it: seconds, or -1. Plain
 * posix_spawn, the same on both sides; no Criterion assert, since the
 * empty side runs it in a child of the test. */
extern char **environ;
static char *true_env[512];

static void one_start_env(void)
{
	static char preload[8400];
	size_t n = 0;
	for (char **e = environ; *e && n < 500; e++)
		if (strncmp(*e, "ZCSHIM_", 7) != 0 && strncmp(*e, "LD_PRELOAD=", 11) != 0)
			true_env[n++] = *e;
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", zc_preload());
	true_env[n++] = preload;
	true_env[n] = NULL;
}

static double one_start(void)
{
	char *argv[] = { "/bin/true", NULL };
	pid_t pid;
	int st;
	double t0 = now_s();
	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, true_env) != 0 ||
	    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return now_s() - t0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The timer for an empty /dev/shm: a child with a mount namespace and a
 * tmpfs of its own, starting on request (a byte on `go`), answering with
 * the time it took (a double on `took`). */
static pid_t empty_timer(int *go, int *took)
{
	int a[2], b[2];
	cr_assert_eq(pipe(a), 0);
	cr_assert_eq(pipe(b), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(a[1]);
		close(b[0]);
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=64m") != 0)
			_exit(2);
		char c;
		while (read(a[0], &c, 1) == 1) {
			double t = one_start();
			if (t < 0)
				_exit(4);
			if (write(b[1], &t, sizeof t) != sizeof t)
				_exit(3);
		}
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	*go = a[1];
	*took = b[0];
	return pid;
}

Test(segments, a_flood_of_foreign_names_costs_a_start_nothing)
{
	private_shm("size=256m");
	struct zc_proc p;
	/* zcshim-stat on a few segments of our own, before the flood */
	const char *app[] = { "zcapp", "pushpull", "--count", "3", NULL };
	for (int i = 0; i < 3; i++)
		cr_assert_eq(zc_run(&p, 1, NULL, app), 0, "%s", p.err);
	double t0 = now_s();
	cr_assert_eq(stat_here(&p, NULL, NULL), 0, "%s", p.err);
	double list_empty_s = now_s() - t0;
	long rss_empty_kb = p.maxrss_kb;
	flood();

	one_start_env();
	int go, took;
	pid_t timer = empty_timer(&go, &took);
	enum { N = 21 };
	double empty[N], flooded[N];
	one_start(); /* warm both: page cache, the ledgers */
	cr_assert_eq(write(go, "x", 1), 1);
	cr_assert_eq(read(took, &empty[0], sizeof empty[0]), (ssize_t)sizeof empty[0]);
	for (int i = 0; i < N; i++) { /* side by side, so that load on the machine hits both */
		cr_assert_eq(write(go, "x", 1), 1);
		cr_assert_eq(read(took, &empty[i], sizeof empty[i]), (ssize_t)sizeof empty[i]);
		flooded[i] = one_start();
		cr_assert_geq(flooded[i], 0, "a shimmed /bin/true failed");
	}
	close(go);
	close(took);
	int st;
	waitpid(timer, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the empty timer failed: %d", st);
	qsort(empty, N, sizeof empty[0], by_value);
	qsort(flooded, N, sizeof flooded[0], by_value);
	double ratio = flooded[N / 2] / empty[N / 2];
	cr_log_info("start of a shimmed /bin/true: median %.0f us empty, %.0f us among "
		    "120,000 foreign names (ratio %.2f)",
		    empty[N / 2] * 1e6, flooded[N / 2] * 1e6, ratio);
	cr_assert_lt(ratio, 1.5, "median start %.0f us flooded, %.0f us empty",
		     flooded[N / 2] * 1e6, empty[N / 2] * 1e6);

	/* the flood is still all there: nothing foreign was touched */
	DIR *d = opendir("/dev/shm");
	cr_assert_not_null(d);
	struct dirent *e;
	long foreign = 0;
	while ((e = readdir(d))) {
		struct stat fst;
		foreign += fstatat(dirfd(d), e->d_name, &fst, AT_SYMLINK_NOFOLLOW) == 0 &&
			   fst.st_uid == NOBODY;
	}
	closedir(d);
	cr_assert_eq(foreign, 120000);

	/* zcshim-stat: no line per foreign file, memory and time bounded */
	t0 = now_s();
	cr_assert_eq(stat_here(&p, NULL, NULL), 0, "%s", p.err);
	double list_s = now_s() - t0;
	cr_log_info("zcshim-stat listing: %.3f s, %ld KiB peak RSS empty; %.3f s, %ld KiB "
		    "among the flood",
		    list_empty_s, rss_empty_kb, list_s, p.maxrss_kb);
	cr_assert_str_empty(p.err, "%.300s", p.err);
	cr_assert_leq(lines(p.out), 1 + 3 + 2 * N + 2, "%.300s", p.out); /* header, ours */
	cr_assert_leq(p.maxrss_kb, rss_empty_kb + 8192, "%ld KiB peak RSS with the flood",
		      p.maxrss_kb);
	cr_assert_lt(list_s, 10.0);
	cr_assert_eq(stat_here(&p, "--all", NULL), 0, "%s", p.err);
	cr_assert_str_empty(p.err, "%.300s", p.err);
	cr_assert_leq(p.maxrss_kb, rss_empty_kb + 8192 + 4096, "--all: %ld KiB", p.maxrss_kb);
	cr_assert_eq(stat_here(&p, "--clean", NULL), 0, "%s", p.err);
	cr_assert_str_empty(p.err, "%.300s", p.err);
	cr_assert_leq(p.maxrss_kb, rss_empty_kb + 8192, "--clean: %ld KiB", p.maxrss_kb);
	cr_assert_eq(lines_with(p.out, "removed", NULL) <= 30, 1, "%.300s", p.out);
	/* and --clean left every foreign file where it was */
	d = opendir("/dev/shm");
	cr_assert_not_null(d);
	long still = 0;
	while ((e = readdir(d))) {
		struct stat fst;
		still += fstatat(dirfd(d), e->d_name, &fst, AT_SYMLINK_NOFOLLOW) == 0 &&
			 fst.st_uid == NOBODY;
	}
	closedir(d);
	cr_assert_eq(still, 120000, "--clean touched foreign files");
}

/* The ledger (one small file per user in /dev/shm) is what bounds our
 * finished segments without a scan. Another user can take its name
 * first: then nothing would prune ours, so none is kept after exit. */
static void ledger_path(uid_t uid, char *buf, size_t len)
{
	snprintf(buf, len, "/dev/shm/zcshim.ledger.%llu.%u",
		 (unsigned long long)zcs_ns_inode("/proc/self/ns/user"), (unsigned)uid);
}

Test(segments, a_ledger_name_taken_by_another_user_keeps_no_segment)
{
	private_shm("size=64m");
	char path[128];
	ledger_path(0, path, sizeof path);
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(fchown(fd, NOBODY, NOBODY), 0);
	close(fd);
	for (int i = 0; i < 12; i++) {
		const char *argv[] = { "zcapp", "pushpull", "--count", "2", NULL };
		struct zc_proc p;
		cr_assert_eq(zc_run(&p, 1, NULL, argv), 0, "%s", p.err);
		cr_assert_str_empty(p.err, "%s", p.err);
	}
	struct zcs_name *names;
	size_t n = segments(&names);
	free(names);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_uid, NOBODY, "the squatter's file was touched");
	cr_assert_eq(st.st_size, 0, "the squatter's file was written");
	cr_assert_eq(n, 0, "%zu segments left that no ledger bounds", n);
}

/* The finished segments kept are those that finished last: a daemon that
 * ends after a dozen short runs that started after it is one of them. */
Test(segments, a_long_run_that_ends_last_is_kept)
{
	private_shm("size=64m");
	const char *daemon[] = { "zcapp", "pushpull", "--count", "7", "--wait-stdin", NULL };
	struct zc_proc d, p;
	zc_start(&d, 1, NULL, daemon);
	cr_assert_eq(zc_wait_line(&d, "ready", 30), 0, "%s", d.err);
	for (int i = 0; i < 12; i++) {
		const char *argv[] = { "zcapp", "pushpull", "--count", "1", NULL };
		cr_assert_eq(zc_run(&p, 1, NULL, argv), 0, "%s", p.err);
	}
	cr_assert_eq(zc_finish(&d, 60), 0, "%s", d.err);
	segment_of(d.pid);
	cr_assert_eq(snap->live, ZCS_LIVE_EXITED);
	cr_assert_eq(zcs_messages(snap), 7);
	/* and the bound holds: 8 finished with calls, the daemon's among them */
	struct zcs_name *names;
	size_t n = segments(&names), with_calls = 0;
	for (size_t i = 0; i < n; i++)
		with_calls += zcs_read(names[i].path, snap, err, sizeof err) == 0 &&
			      zcs_calls_seen(snap);
	free(names);
	cr_assert_eq(with_calls, 8, "%zu finished segments with calls", with_calls);
}

/* A ledger held locked (its holder stopped, say) delays a start by a few
 * milliseconds at most: the lock is waited for briefly, then done without. */
Test(segments, a_locked_ledger_delays_a_start_by_milliseconds)
{
	private_shm("size=64m");
	one_start_env();
	cr_assert_geq(one_start(), 0); /* makes root's ledger */
	char path[128];
	ledger_path(0, path, sizeof path);
	int fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	enum { N = 11 };
	double free_s[N], locked_s[N];
	for (int i = 0; i < N; i++) {
		free_s[i] = one_start();
		cr_assert_eq(flock(fd, LOCK_EX), 0);
		locked_s[i] = one_start();
		cr_assert_eq(flock(fd, LOCK_UN), 0);
		cr_assert(free_s[i] >= 0 && locked_s[i] >= 0);
	}
	close(fd);
	qsort(free_s, N, sizeof free_s[0], by_value);
	qsort(locked_s, N, sizeof locked_s[0], by_value);
	double extra_ms = (locked_s[N / 2] - free_s[N / 2]) * 1e3;
	cr_log_info("a start with the ledger locked: +%.1f ms (median of %d)", extra_ms, N);
	cr_assert_lt(extra_ms, 25.0, "a locked ledger costs a start %.1f ms", extra_ms);
	/* and the lock was waited for (4 ms per use of the ledger), not ignored */
	cr_assert_gt(extra_ms, 2.0, "a locked ledger cost a start only %.1f ms", extra_ms);
}

/* A ledger busy when a process starts (others starting at once, on a
 * loaded machine) lists the process at its exit instead: it is kept, and
 * bounded like the rest. */
Test(segments, a_process_that_found_the_ledger_busy_is_listed_at_exit)
{
	private_shm("size=64m");
	one_start_env();
	cr_assert_geq(one_start(), 0); /* makes root's ledger */
	char path[128];
	ledger_path(0, path, sizeof path);
	int fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(flock(fd, LOCK_EX), 0);
	const char *argv[] = { "zcapp", "pushpull", "--count", "2", "--hold-first", NULL };
	struct zc_proc p;
	zc_start(&p, 1, NULL, argv);
	cr_assert_eq(zc_wait_line(&p, "holding", 30), 0, "%s", p.err); /* it has started */
	cr_assert_eq(flock(fd, LOCK_UN), 0);
	close(fd);
	cr_assert_eq(zc_finish(&p, 60), 0, "%s", p.err);
	cr_assert_str_empty(p.err, "%s", p.err);
	segment_of(p.pid); /* kept */
	cr_assert_eq(zcs_messages(snap), 2);
	/* ... and listed: 12 more runs leave the newest 8 with calls */
	for (int i = 0; i < 12; i++) {
		const char *more[] = { "zcapp", "pushpull", "--count", "1", NULL };
		cr_assert_eq(zc_run(&p, 1, NULL, more), 0, "%s", p.err);
	}
	struct zcs_name *names;
	size_t n = segments(&names), with_calls = 0;
	for (size_t i = 0; i < n; i++)
		with_calls += zcs_read(names[i].path, snap, err, sizeof err) == 0 &&
			      zcs_calls_seen(snap);
	free(names);
	cr_assert_eq(with_calls, 8, "%zu finished segments with calls", with_calls);
}

/* ----------------------------------------------------------- footprint */

/* RAM a finished app's segment holds: at most 512 KiB for the demo apps
 * and for 8 sockets, 4 sending threads and 12 size classes. */
static long long footprint(const char *const env[], const char *const argv[])
{
	struct zc_proc p;
	int rc = zc_run(&p, 1, env, argv);
	cr_assert_eq(rc, 0, "%s: exit %d: %s", argv[0], rc, p.err);
	long long bytes = backed_bytes(segment_of(p.pid));
	cr_assert(zcs_calls_seen(snap));
	cr_assert_eq(snap->hdr.flags & ZCS_F_FULL, 0);
	unlink(snap->path);
	return bytes;
}

Test(segments, footprint_of_the_demo_apps_and_a_busy_app)
{
	private_shm("size=64m");
	static const char *const twelve =
		"1,3,7,15,31,63,127,255,511,1023,2047,4095";
	const char *demo[] = { "zcdemo", NULL };
	const char *sockets[] = { "zcsockets", NULL };
	const char *busy[] = { "zcapp", "fanout", "--threads", "4", "--sockets", "8", "--count",
			       "20", "--sizes", twelve, NULL };
	const char *busy_copies[] = { "zcapp", "fanout", "--threads", "4", "--sockets", "8",
				      "--count", "20", "--sizes", twelve, "--api", "send", NULL };
	const char *defaults[] = { "ZCSHIM_SAMPLE=", NULL };
	const char *convert[] = { "ZCSHIM_SAMPLE=", "ZCSHIM_THRESHOLD=64k", NULL };
	const char *timed[] = { "ZCSHIM_SAMPLE=1", "ZCSHIM_THRESHOLD=1000", NULL };
	struct {
		const char *what;
		const char *const *env, *const *argv;
	} apps[] = {
		{ "zcdemo", defaults, demo },
		{ "zcdemo, converting below 64k", convert, demo },
		{ "zcsockets", defaults, sockets },
		{ "8 sockets, 4 threads, 12 sizes, zero-copy", defaults, busy },
		{ "... every call timed, half converted", timed, busy },
		{ "... copies", defaults, busy_copies },
	};
	for (size_t i = 0; i < sizeof apps / sizeof apps[0]; i++) {
		long long bytes = footprint(apps[i].env, apps[i].argv);
		cr_log_info("footprint %s: %lld KiB backed", apps[i].what, bytes / 1024);
		cr_assert_leq(bytes, 512 * 1024, "%s: %lld KiB backed", apps[i].what,
			      bytes / 1024);
	}
}

/* Before the first libzmq call the shim maps the header and the shared
 * part only: <= 1 MiB of address space, whatever the layout reserves. */
Test(segments, address_space_before_the_first_libzmq_call)
{
	private_shm("size=64m");
	const char *argv[] = { "zcapp", "pushpull", "--hold-first", NULL };
	struct zc_proc p;
	zc_start(&p, 1, NULL, argv);
	cr_assert_eq(zc_wait_line(&p, "holding", 30), 0, "%s", p.err);
	char maps[64], line[1024];
	snprintf(maps, sizeof maps, "/proc/%d/maps", (int)p.pid);
	FILE *f = fopen(maps, "r");
	cr_assert_not_null(f);
	unsigned long long mapped = 0;
	int pieces = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long long lo, hi;
		if (strstr(line, "/dev/shm/zcshim.") && sscanf(line, "%llx-%llx", &lo, &hi) == 2) {
			mapped += hi - lo;
			pieces++;
		}
	}
	fclose(f);
	cr_assert_eq(zc_finish(&p, 60), 0, "%s", p.err);
	cr_log_info("mapped from the segment before any libzmq call: %llu KiB in %d piece(s)",
		    mapped / 1024, pieces);
	cr_assert_gt(pieces, 0, "no segment mapped under a wrapper?");
	cr_assert_leq(mapped, 1 << 20, "%llu bytes mapped before any libzmq call", mapped);
}

/* 64 sending threads at once: each gets a shard of its own (and so adds
 * without a bus lock), none shares shard 0. Read from the raw file. */
Test(segments, sixty_four_sending_threads_own_a_shard_each)
{
	private_shm("size=64m");
	const char *argv[] = { "zcapp", "fanout", "--threads", "64", "--sockets", "64", "--count",
			       "100", "--api", "send", NULL };
	struct zc_proc p;
	int rc = zc_run(&p, 1, NULL, argv);
	cr_assert_eq(rc, 0, "%s", p.err);
	const char *path = segment_of(p.pid);
	cr_log_info("footprint 64 threads, 64 sockets, copies: %lld KiB backed",
		    backed_bytes(path) / 1024);
	cr_assert_eq(zcs_messages(snap), 6400);
	cr_assert_geq(snap->sum.threads, 64);

	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	static struct zcs_header h;
	static struct zcs_shared sh;
	cr_assert_eq(pread(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
	cr_assert_eq(pread(fd, &sh, sizeof sh, (off_t)h.shared_offset), (ssize_t)sizeof sh);
	cr_assert_eq(h.layout_version, ZCS_LAYOUT_VERSION);
	/* which cells are sends */
	static unsigned char is_send[ZCS_NCELLS_MAX];
	for (unsigned i = 0; i < ZCS_INDEX_SIZE; i++) {
		uint32_t e = sh.index[i], key = e >> ZCS_INDEX_CELL_BITS;
		unsigned slot, op, path_, k;
		if (!e)
			continue;
		zcs_key_fields(key, &slot, &op, &path_, &k);
		is_send[e & ZCS_INDEX_CELL_MASK] = op == ZCS_OP_SEND && path_ == ZCS_PATH_COPY;
	}
	int owners = 0;
	static unsigned char area[ZCS_SHARD_AREA_BYTES];
	for (unsigned s = 0; s < ZCS_NSHARDS; s++) {
		if (!(sh.shards_used[s / 64] >> (s % 64) & 1))
			continue;
		uint64_t bytes = zcs_shard_used_bytes(sh.cells_used);
		cr_assert_eq(pread(fd, area, bytes, (off_t)zcs_shard_offset(s)), (ssize_t)bytes);
		const struct zcs_shard_head *head = (const void *)area;
		const struct zcs_counts *counts = (const void *)(head + 1);
		uint64_t sends = 0;
		for (uint32_t c = 1; c < sh.cells_used; c++)
			sends += is_send[c] ? counts[c].calls : 0;
		cr_assert(s != 0 || sends == 0, "shard 0 counted %llu sends",
			  (unsigned long long)sends);
		if (!sends)
			continue;
		/* one thread's 100, alone */
		cr_assert_eq(sends, 100, "shard %u counted %llu sends", s,
			     (unsigned long long)sends);
		cr_assert_eq(head->threads, 1, "shard %u had %llu threads", s,
			     (unsigned long long)head->threads);
		owners++;
	}
	close(fd);
	cr_assert_eq(owners, 64, "%d shards hold the 64 threads' sends", owners);
}

/* ---------------------------------------------------- a full /dev/shm */

/* A tmpfs with room for the segment's start but not for what the app
 * goes on to need, and one that a neighbour fills while the app waits:
 * no SIGBUS, the app's results are those it has without the shim, and
 * one line says why recording stopped. */
/* The app's whole report (every count, every ffn's thread) is what it is
 * without the shim, less its pid; and the segment (snap) never counts more
 * sends than the app made, and some if some_counted (there was room for a
 * shard before the tmpfs filled). */
static void as_without_the_shim(const char *const argv[], struct zc_proc *with, int some_counted)
{
	struct zc_proc bare;
	int rc = zc_run(&bare, 0, NULL, argv);
	cr_assert_eq(rc, 0, "%s", bare.err);
	char a[1024], b[1024];
	const struct zc_proc *from[2] = { &bare, with };
	char *to[2] = { a, b };
	for (int i = 0; i < 2; i++) { /* drop " pid=N" (and --hold-first's "holding") */
		const char *out = from[i]->out, *pid = strstr(out, " pid=");
		if (!strncmp(out, "holding\n", 8))
			out += 8;
		cr_assert_not_null(pid, "%s", out);
		snprintf(to[i], sizeof a, "%.*s%s", (int)(pid - out), out,
			 pid + 1 + strcspn(pid + 1, " \n"));
	}
	cr_assert_str_eq(b, a);
	long sent = zc_out_value(with, "sent");
	if (some_counted)
		cr_assert_gt(zcs_messages(snap), 0, "nothing counted before the tmpfs filled");
	cr_assert_leq(zcs_messages(snap), (uint64_t)sent);
}

static void one_warning(const struct zc_proc *p)
{
	cr_assert_eq(strncmp(p->err, "zcshim: cannot back ", 20), 0, "%s", p->err);
	cr_assert_not_null(strstr(p->err, "No space left on device"), "%s", p->err);
	const char *nl = strchr(p->err, '\n');
	cr_assert(nl && nl[1] == '\0', "more than one line: %s", p->err);
}

Test(segments, a_dev_shm_too_small_to_grow_into)
{
	private_shm("size=128k");
	const char *argv[] = { "zcapp", "fanout", "--threads", "4", "--sockets", "8", "--count",
			       "10", "--sizes", "1,3,7,15,31,63,127,255,511,1023,2047,4095", NULL };
	struct zc_proc p;
	int rc = zc_run(&p, 1, NULL, argv);
	cr_assert_eq(rc, 0, "exit %d (135: SIGBUS): %s", rc, p.err);
	one_warning(&p);
	segment_of(p.pid);
	cr_assert(snap->hdr.flags & ZCS_F_FULL);
	unlink(snap->path);
	as_without_the_shim(argv, &p, 1);
}

Test(segments, a_dev_shm_filled_by_a_neighbour_while_the_app_waits)
{
	private_shm("size=1m");
	const char *argv[] = { "zcapp", "fanout", "--hold-first", "--threads", "4", "--sockets",
			       "8", "--count", "10", "--sizes",
			       "1,3,7,15,31,63,127,255,511,1023,2047,4095", NULL };
	struct zc_proc p;
	zc_start(&p, 1, NULL, argv);
	cr_assert_eq(zc_wait_line(&p, "holding", 30), 0, "%s", p.err);
	/* the neighbour takes every page left */
	int fd = open("/dev/shm/neighbour", O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	static char page[4096];
	while (write(fd, page, sizeof page) == (ssize_t)sizeof page)
		;
	cr_assert_eq(errno, ENOSPC);
	close(fd);
	int rc = zc_finish(&p, 60);
	cr_assert_eq(rc, 0, "exit %d (135: SIGBUS): %s", rc, p.err);
	one_warning(&p);
	segment_of(p.pid);
	cr_assert(snap->hdr.flags & ZCS_F_FULL);
	unlink(snap->path);
	unlink("/dev/shm/neighbour");
	const char *bare_argv[] = { "zcapp", "fanout", "--threads", "4", "--sockets", "8",
				    "--count", "10", "--sizes",
				    "1,3,7,15,31,63,127,255,511,1023,2047,4095", NULL };
	as_without_the_shim(bare_argv, &p, 0);
}
