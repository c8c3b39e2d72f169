/*
 * segimg.c - see segimg.h.
 */
#include "segimg.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "histo.h"
#include "procid.h"

/* Images hold shard 1 only, as one owned shard of a real process: their
 * files end with it. */
#define SEG_BYTES (zcs_shard_offset(2))

struct zcs_header *seg_hdr(unsigned char *img)
{
	return (struct zcs_header *)img;
}

struct zcs_shared *seg_shared(unsigned char *img)
{
	return (struct zcs_shared *)(img + ZCS_SHARED_OFFSET);
}

struct zcs_shard_head *seg_shard(unsigned char *img, unsigned i)
{
	return (struct zcs_shard_head *)(img + zcs_shard_offset(i));
}

unsigned char *seg_new(int pid, unsigned state, const char *exe)
{
	unsigned char *img = calloc(1, ZCS_SEGMENT_BYTES);
	cr_assert_not_null(img);
	struct zcs_header *h = seg_hdr(img);
	zcs_header_init_layout(h);
	h->pid = pid ? pid : (int)getpid();
	h->pidns = zcs_ns_inode("/proc/self/ns/pid");
	h->start_ticks = pid ? 12345 : zcs_proc_start_ticks("/proc/self/stat");
	h->state = state;
	h->mode = ZCS_MODE_PROFILE;
	h->sample_every = 1;
	h->threshold_bytes = 65536;
	h->tsc_hz = 1000000000;
	h->libzmq_version = 40304;
	h->flags = ZCS_F_LAYOUT_KNOWN | ZCS_F_CALLS_SEEN;
	h->start_unix_ns = 1700000000000000000ull;
	snprintf(h->exe, sizeof h->exe, "%s", exe);
	struct zcs_shared *sh = seg_shared(img);
	sh->start_clock_ticks = 5000000000ull; /* the clock is ns (tsc_hz 1e9) */
	sh->cells_used = ZCS_CELL_FIRST;
	sh->shards_used[0] = 1u << 1;
	return img;
}

/* The cell of a series: found in the index, or given out as the writer
 * does (the next number, entered at the key's first free place). */
static unsigned cell(unsigned char *img, unsigned slot, unsigned op, unsigned path,
		     unsigned size_class)
{
	struct zcs_shared *sh = seg_shared(img);
	uint32_t key = zcs_key(slot, op, path, size_class);
	uint32_t i = zcs_key_hash(key);
	for (; sh->index[i]; i = (i + 1) & (ZCS_INDEX_SIZE - 1))
		if (sh->index[i] >> ZCS_INDEX_CELL_BITS == key)
			return sh->index[i] & ZCS_INDEX_CELL_MASK;
	cr_assert_lt(sh->cells_used, ZCS_NCELLS_MAX, "cells used up");
	unsigned n = sh->cells_used++;
	sh->index[i] = key << ZCS_INDEX_CELL_BITS | n;
	return n;
}

static struct zcs_counts *counts(unsigned char *img, unsigned n)
{
	return (struct zcs_counts *)(seg_shard(img, 1) + 1) + n;
}

static struct zcs_hist *hist(unsigned char *img, unsigned n)
{
	return (struct zcs_hist *)(img + zcs_hist_chunk_offset(n / ZCS_HIST_CHUNK_CELLS)) +
	       n % ZCS_HIST_CHUNK_CELLS;
}

void seg_socket(unsigned char *img, unsigned slot, int type, const char *const endpoints[],
		unsigned state)
{
	struct zcs_shared *sh = seg_shared(img);
	struct zcs_socket *row = &sh->sockets[slot];
	cr_assert(slot > 0 && slot < ZCS_NSLOTS);
	if (row->state == ZCS_SOCK_FREE)
		sh->sockets_seen++;
	row->state = state;
	row->type = type;
	row->opened_unix_ns = seg_hdr(img)->start_unix_ns + slot * 1000000000ull;
	row->closed_unix_ns = state == ZCS_SOCK_CLOSED ? row->opened_unix_ns + 500000000ull : 0;
	/* the writer's list: 'b' (bound) or 'c' (connected), the endpoint and
	 * its NUL, then an empty entry; the first bound, the rest connected */
	size_t at = 0;
	memset(row->endpoints, 0, sizeof row->endpoints);
	for (size_t i = 0; endpoints[i]; i++) {
		size_t len = strlen(endpoints[i]);
		cr_assert(len && at + len + 3 <= sizeof row->endpoints, "endpoints do not fit");
		row->endpoints[at] = i ? 'c' : 'b';
		memcpy(row->endpoints + at + 1, endpoints[i], len);
		at += len + 2;
	}
}

void seg_fail_on(unsigned char *img, unsigned slot, unsigned op, unsigned err_kind, uint64_t count)
{
	unsigned n = cell(img, slot, op, ZCS_PATH_FAILED, err_kind);
	counts(img, n)->calls += count;
}

void seg_put_on(unsigned char *img, unsigned slot, unsigned op, unsigned path,
		uint64_t bytes, uint64_t count, uint64_t ns)
{
	unsigned n = cell(img, slot, op, path, zcs_size_class(bytes));
	struct zcs_counts *c = counts(img, n);
	struct zcs_hist *h = hist(img, n);
	c->calls += count;
	c->bytes += count * bytes;
	c->msgs += count;
	h->time_ns_sum += count * ns;
	h->buckets[zcs_bucket(ns)] += count;
	c->est_ns += count * ns; /* every call timed */
}

void seg_put(unsigned char *img, unsigned op, unsigned path, uint64_t bytes,
	     uint64_t count, uint64_t ns)
{
	seg_put_on(img, ZCS_SLOT_OTHER, op, path, bytes, count, ns);
}

void seg_put_spread(unsigned char *img, unsigned op, unsigned path, uint64_t bytes,
		    uint64_t count, uint64_t ns)
{
	unsigned n = cell(img, ZCS_SLOT_OTHER, op, path, zcs_size_class(bytes));
	struct zcs_counts *c = counts(img, n);
	struct zcs_hist *h = hist(img, n);
	c->calls += count;
	c->bytes += count * bytes;
	c->msgs += count;
	for (uint64_t i = 0; i < count; i++) {
		double f = count > 1 ? 0.9 + 0.2 * (double)i / (double)(count - 1) : 1.0;
		uint64_t t = (uint64_t)((double)ns * f + 0.5);
		h->time_ns_sum += t;
		h->buckets[zcs_bucket(t)]++;
		c->est_ns += t;
	}
}

void seg_write(const unsigned char *img, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0, "%s", path);
	size_t done = 0;
	while (done < SEG_BYTES) {
		ssize_t n = pwrite(fd, img + done, SEG_BYTES - done, (off_t)done);
		cr_assert_gt(n, 0);
		done += (size_t)n;
	}
	close(fd);
}

void seg_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/zcshim-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char sub[4096];
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		rm_tree(sub);
	}
	closedir(d);
	rmdir(path);
}

void seg_rmdir(const char *dir)
{
	if (strncmp(dir, "/tmp/zcshim-test-", 17) == 0) /* never anything else */
		rm_tree(dir);
}

int seg_dead_pid(void)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return (int)pid;
}

char *seg_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	size_t cap = 1 << 16, used = 0;
	char *buf = malloc(cap);
	size_t n;
	while ((n = fread(buf + used, 1, cap - used - 1, f)) > 0) {
		used += n;
		if (cap - used < 2)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	buf[used] = '\0';
	if (len)
		*len = used;
	return buf;
}

void seg_spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}
