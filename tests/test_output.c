/*
 * test_output.c - --output onto whatever is at the path (issue 14, point 1).
 * A regular file or a new name is written atomically with the old file's
 * mode (0644 when new); anything else - character and block devices, a
 * FIFO, a socket, a directory, a symlink, /dev/stdout - is refused with one
 * line and status 1 and left exactly as it was. Device nodes are made with
 * mknod in a private directory: the real /dev/null is never the target.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "segimg.h"
#include "spawn.h"

static struct zc_proc proc;
static char dir[64], seg[128];

static void setup(void)
{
	seg_tmpdir(dir, sizeof dir);
	snprintf(seg, sizeof seg, "%s/zcshim.501.7.0", dir);
	unsigned char *img = seg_new(501, ZCS_STATE_EXITED, "outapp");
	seg_put(img, ZCS_OP_MSG_SEND, ZCS_PATH_ZEROCOPY, 100, 10, 2000);
	seg_write(img, seg);
	free(img);
}

static void teardown(void)
{
	seg_rmdir(dir);
}

TestSuite(output, .init = setup, .fini = teardown, .timeout = 60);

static void in_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* zcshim-stat --prometheus -o target seg */
static int write_to(const char *target)
{
	const char *argv[] = { "zcshim-stat", "--prometheus", "-o", target, seg, NULL };
	return zc_run(&proc, 0, NULL, argv);
}

/* The names in dir, sorted, one a line: no temporary may be left behind. */
static const char *listing(void)
{
	static char out[4096];
	const char *ls[] = { "/bin/ls", "-A", dir, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, ls), 0);
	snprintf(out, sizeof out, "%.4000s", proc.out);
	return out;
}

/* target is refused, says what it is, and is the same node afterwards. */
static void refused(const char *target, const char *what)
{
	struct stat before, after;
	cr_assert_eq(lstat(target, &before), 0, "%s: %s", target, strerror(errno));
	char names[4096];
	snprintf(names, sizeof names, "%s", listing());
	cr_assert_eq(write_to(target), 1, "%s accepted: %s", target, proc.err);
	cr_assert_str_empty(proc.out, "%s", proc.out);
	char want[512];
	snprintf(want, sizeof want, "zcshim-stat: --output %s: %s; --output writes only a "
		 "regular file", target, what);
	cr_assert_eq(strncmp(proc.err, want, strlen(want)), 0, "%s\nwant %s", proc.err, want);
	cr_assert_eq(strchr(proc.err, '\n')[1], '\0', "one line: %s", proc.err);
	cr_assert_eq(lstat(target, &after), 0);
	cr_assert_eq(after.st_mode, before.st_mode, "%s changed kind or mode", target);
	cr_assert_eq(after.st_ino, before.st_ino, "%s replaced", target);
	cr_assert_eq(after.st_rdev, before.st_rdev);
	cr_assert_str_eq(listing(), names, "a temporary was left beside %s", target);
}

Test(output, device_nodes_are_refused_and_left_alone)
{
	char chr[128], blk[128];
	in_dir(chr, sizeof chr, "null");
	in_dir(blk, sizeof blk, "loop");
	/* the numbers of /dev/null and /dev/loop0, in our own directory */
	if (mknod(chr, S_IFCHR | 0666, makedev(1, 3)) != 0 ||
	    mknod(blk, S_IFBLK | 0660, makedev(7, 0)) != 0) {
		/* only without root (CI runs as root, where this matters) */
		cr_assert_eq(errno, EPERM, "mknod: %s", strerror(errno));
		cr_assert_neq(geteuid(), 0, "mknod refused to root");
		cr_skip_test("mknod needs root: device nodes not tried");
	}
	refused(chr, "a character device");
	refused(blk, "a block device");
}

Test(output, fifo_socket_directory_and_symlinks_are_refused)
{
	char fifo[128], sock[128], sub[128], link[128], file[128], dangling[128];
	in_dir(fifo, sizeof fifo, "fifo");
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	refused(fifo, "a FIFO"); /* and it did not block: nothing opened it */

	in_dir(sock, sizeof sock, "sock");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s", sock);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof sa), 0, "%s", strerror(errno));
	refused(sock, "a socket");
	close(s);

	in_dir(sub, sizeof sub, "sub");
	cr_assert_eq(mkdir(sub, 0755), 0);
	refused(sub, "a directory");

	/* a symlink to a regular file: neither the link nor the file changes */
	in_dir(file, sizeof file, "real.prom");
	in_dir(link, sizeof link, "link.prom");
	seg_spit(file, "old\n");
	cr_assert_eq(symlink(file, link), 0);
	refused(link, "a symbolic link");
	char *text = seg_slurp(file, NULL);
	cr_assert_str_eq(text, "old\n");
	free(text);
	in_dir(dangling, sizeof dangling, "dangling.prom");
	cr_assert_eq(symlink("/nonexistent/zcshim.prom", dangling), 0);
	refused(dangling, "a symbolic link");
}

Test(output, dev_stdout_is_refused_not_replaced)
{
	/* /dev/stdout is a symlink to /proc/self/fd/1: the same link, made
	 * here, so that a zcshim-stat that renamed over it (as root, before
	 * issue 14) would not replace this machine's /dev/stdout */
	char out[128];
	in_dir(out, sizeof out, "stdout");
	cr_assert_eq(symlink("/proc/self/fd/1", out), 0);
	refused(out, "a symbolic link");
}

Test(output, a_regular_file_keeps_its_mode_and_a_new_one_is_0644)
{
	char old[128], fresh[128];
	in_dir(old, sizeof old, "old.prom");
	in_dir(fresh, sizeof fresh, "new.prom");
	seg_spit(old, "old\n");
	struct stat st;
	static const mode_t modes[] = { 0600, 0640, 0604 };
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		cr_assert_eq(chmod(old, modes[i]), 0);
		cr_assert_eq(write_to(old), 0, "%s", proc.err);
		cr_assert_eq(stat(old, &st), 0);
		cr_assert_eq(st.st_mode & 07777, modes[i], "mode %o became %o", modes[i],
			     st.st_mode & 07777);
	}
	char *text = seg_slurp(old, NULL);
	cr_assert_eq(strncmp(text, "# HELP zcshim_info", 18), 0);
	free(text);
	/* a new file: 0644 whatever the umask, for a collector of another user */
	mode_t mask = umask(077);
	int rc = write_to(fresh);
	umask(mask);
	cr_assert_eq(rc, 0, "%s", proc.err);
	cr_assert_eq(stat(fresh, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
	cr_assert_str_eq(listing(), "new.prom\nold.prom\nzcshim.501.7.0\n");
}

Test(output, root_keeps_the_files_owner)
{
	if (geteuid() != 0)
		cr_skip_test("giving a file to another user needs root");
	char old[128];
	in_dir(old, sizeof old, "owned.prom");
	seg_spit(old, "old\n");
	cr_assert_eq(chown(old, 4321, 4322), 0);
	cr_assert_eq(chmod(old, 0640), 0);
	cr_assert_eq(write_to(old), 0, "%s", proc.err);
	struct stat st;
	cr_assert_eq(stat(old, &st), 0);
	cr_assert_eq(st.st_uid, 4321);
	cr_assert_eq(st.st_gid, 4322);
	cr_assert_eq(st.st_mode & 07777, 0640);
}
