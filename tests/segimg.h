/*
 * segimg.h - synthetic segments for the zcshim-stat tests: a valid image
 * with chosen counts and timings, written to a file whose path the tool
 * reads like a segment (any path with a '/'). Answers are then known
 * exactly, which a real app's timings never are.
 */
#ifndef ZCSHIM_TESTS_SEGIMG_H
#define ZCSHIM_TESTS_SEGIMG_H

#include <stddef.h>
#include <stdint.h>

#include "zcshim_segment.h"

/* A fresh image (ZCS_SEGMENT_BYTES, written up to shard 1's end) of process pid, or of this very process
 * when pid is 0 (pid, start time: the reader then sees it running). Calls
 * seen (ZCS_F_CALLS_SEEN), slot 0's cells in the index, as the writer has. */
unsigned char *seg_new(int pid, unsigned state, const char *exe);
struct zcs_header *seg_hdr(unsigned char *img);
struct zcs_shared *seg_shared(unsigned char *img);
/* Shard i's head (1: the one owned shard images have). */
struct zcs_shard_head *seg_shard(unsigned char *img, unsigned i);

/* Record `count` calls of `bytes` each on op x path, timed at ns each,
 * under slot 0 ("other"). */
void seg_put(unsigned char *img, unsigned op, unsigned path, uint64_t bytes,
	     uint64_t count, uint64_t ns);
/* The same on socket slot (1..ZCS_NSOCKETS), which gets a pool cell the
 * first time, as the writer gives them. */
void seg_put_on(unsigned char *img, unsigned slot, unsigned op, unsigned path,
		uint64_t bytes, uint64_t count, uint64_t ns);
/* count calls of op on slot that failed with errno kind err_kind (enum zcs_err). */
void seg_fail_on(unsigned char *img, unsigned slot, unsigned op, unsigned err_kind, uint64_t count);
/* Fill socket slot's row: zmq type number, endpoints (NULL-terminated; the
 * first bound, the rest connected), state, times. */
void seg_socket(unsigned char *img, unsigned slot, int type, const char *const endpoints[],
		unsigned state);
#define EPS(...) ((const char *const[]){ __VA_ARGS__, NULL })
/* Same, timings spread evenly over ns +- 10 %, so that a mean taken from
 * the buckets lands within a few percent of ns (one bucket is 25 % wide). */
void seg_put_spread(unsigned char *img, unsigned op, unsigned path, uint64_t bytes,
		    uint64_t count, uint64_t ns);

/* Write (over, in place: a watcher may be reading it) to path. */
void seg_write(const unsigned char *img, const char *path);

/* A private temporary directory; seg_rmdir removes it and what it holds. */
void seg_tmpdir(char *dir, size_t len);
void seg_rmdir(const char *dir);

/* The pid of a process that has exited and been reaped: dead for sure. */
int seg_dead_pid(void);

/* Read a whole file into a malloc'd NUL-terminated buffer. */
char *seg_slurp(const char *path, size_t *len);
/* Write text to path. */
void seg_spit(const char *path, const char *text);

#endif
