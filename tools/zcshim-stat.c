/*
 * zcshim-stat - list the processes that ran under libzcshim.so and dump what
 * it recorded of each: per operation x path x size class, counts, bytes and
 * latency percentiles, as a table or one JSON document.
 *
 * Exit status: 0 done; 1 no such segment, or it could not be read or is not
 * valid; 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "histo.h"
#include "segread.h"

#define VERSION "0.1"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: zcshim-stat [OPTION]... [PID|NAME|FILE]\n"
		"Show what libzcshim.so recorded in the ZeroMQ processes it was preloaded into.\n"
		"\n"
		"With no argument, list the segments in " ZCS_SHM_DIR ": one line per process.\n"
		"With PID, NAME (a program name) or FILE (a path to a segment), print that\n"
		"process's histograms per operation, path and size class; this works while\n"
		"the process runs and after it has exited.\n"
		"\n"
		"  -j, --json     print one JSON document instead of the table\n"
		"  -h, --help     show this help and exit\n"
		"  -V, --version  show the version and exit\n"
		"\n"
		"Exit status: 0 if OK, 1 if the segment is missing, unreadable or invalid,\n"
		"2 on a usage error.\n");
}

/* "850ns", "12.4us", "3.10ms", "1.20s"; "-" for none; ">137s" past the top. */
static const char *fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns == 0)
		snprintf(buf, len, "-");
	else if (ns == UINT64_MAX)
		snprintf(buf, len, ">%llus", (unsigned long long)(zcs_bucket_lo(ZCS_NBUCKETS - 1) / 1000000000u));
	else if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2fms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
	return buf;
}

/* Size class as a half-open interval: "[64,128)", "[1M,2M)", "[128M,)". */
static const char *fmt_class(unsigned k, char *buf, size_t len)
{
	char lo[24], hi[24];
	if (k == 0)
		return snprintf(buf, len, "0"), buf;
	zcs_format_size(zcs_size_lo(k), lo, sizeof lo);
	if (zcs_size_hi(k) == UINT64_MAX)
		hi[0] = '\0';
	else
		zcs_format_size(zcs_size_hi(k) + 1, hi, sizeof hi);
	snprintf(buf, len, "[%s,%s)", lo, hi);
	return buf;
}

static void fmt_libzmq(uint32_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u", v / 10000, v / 100 % 100, v % 100);
}

static int list(void)
{
	struct zcs_name *names;
	size_t n;
	char err[400];
	if (zcs_list(&names, &n, err, sizeof err) != 0) {
		fprintf(stderr, "zcshim-stat: %s\n", err);
		return 1;
	}
	struct zcs_snapshot *s = zcs_snapshot_new();
	if (!s) {
		free(names);
		fprintf(stderr, "zcshim-stat: out of memory\n");
		return 1;
	}
	printf("%-8s %-9s %-8s %-9s %-6s %-8s %12s  %s\n", "PID", "STATE", "MODE",
	       "THRESHOLD", "SAMPLE", "LIBZMQ", "MESSAGES", "PROGRAM");
	for (size_t i = 0; i < n; i++) {
		if (zcs_read(names[i].path, s, err, sizeof err) != 0) {
			fprintf(stderr, "zcshim-stat: %s\n", err);
			continue;
		}
		char thr[24], zmq[24];
		zcs_format_size(s->hdr.threshold_bytes, thr, sizeof thr);
		fmt_libzmq(s->hdr.libzmq_version, zmq, sizeof zmq);
		printf("%-8d %-9s %-8s %-9s 1/%-4u %-8s %12" PRIu64 "  %s\n", s->hdr.pid,
		       zcs_live_name(s->live), zcs_mode_name(s->hdr.mode), thr,
		       s->hdr.sample_every, zmq, zcs_messages(s), s->hdr.exe);
	}
	if (n == 0)
		printf("(no zcshim segments in " ZCS_SHM_DIR ": run a program with "
		       "LD_PRELOAD=libzcshim.so first)\n");
	zcs_snapshot_free(s);
	free(names);
	return 0;
}

static void print_table(const struct zcs_snapshot *s)
{
	const struct zcs_header *h = &s->hdr;
	char thr[24], zmq[24], a[24], b[24], c[24], d[24], cls[64];
	zcs_format_size(h->threshold_bytes, thr, sizeof thr);
	fmt_libzmq(h->libzmq_version, zmq, sizeof zmq);
	printf("pid %d (%s): %s, mode %s, threshold %s, timing 1 call in %u, libzmq %s\n",
	       h->pid, h->exe, zcs_live_name(s->live), zcs_mode_name(h->mode), thr,
	       h->sample_every, zmq);
	if (!(h->flags & ZCS_F_LAYOUT_KNOWN))
		printf("note: this libzmq's message layout was not recognised: sends are "
		       "not classified (all shown as copy) and none was converted\n");
	printf("%-10s %-10s %-11s %10s %13s %8s %8s %8s %8s\n", "op", "path", "size", "count",
	       "bytes", "p50", "p90", "p99", "max");
	int rows = 0;
	struct zcs_series x;
	for (size_t it = 0; zcs_series_next(s, &it, &x); rows++) {
		const struct zcs_cell *cell = x.cell;
		printf("%-10s %-10s %-11s %10" PRIu64 " %13" PRIu64 " %8s %8s %8s %8s\n",
		       zcs_op_name(x.op), zcs_path_name(x.path),
		       fmt_class(x.size_class, cls, sizeof cls), cell->count, cell->bytes,
		       fmt_ns(zcs_cell_quantile_ns(cell, 0.50), a, sizeof a),
		       fmt_ns(zcs_cell_quantile_ns(cell, 0.90), b, sizeof b),
		       fmt_ns(zcs_cell_quantile_ns(cell, 0.99), c, sizeof c),
		       fmt_ns(zcs_cell_max_ns(cell), d, sizeof d));
	}
	if (!rows)
		printf("(no libzmq calls recorded)\n");
	const struct zcs_shard *t = &s->sum;
	printf("ffn ran on: own thread %" PRIu64 ", inside a send %" PRIu64
	       ", libzmq IO thread %" PRIu64 ", other thread %" PRIu64 "\n",
	       t->ffn_thread[ZCS_FFN_OWN], t->ffn_thread[ZCS_FFN_IN_SEND],
	       t->ffn_thread[ZCS_FFN_IO], t->ffn_thread[ZCS_FFN_OTHER]);
	printf("failed calls:");
	for (unsigned op = 0; op < ZCS_NCALL_OPS; op++)
		printf(" %s %" PRIu64, zcs_op_name(op), t->failed[op]);
	printf("\n");
	if (t->hold_untracked)
		printf("zero-copy buffers not followed to their ffn (record pool full): %" PRIu64 "\n",
		       t->hold_untracked);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void json_u64_or_null(uint64_t v)
{
	if (v == UINT64_MAX)
		printf("null");
	else
		printf("%" PRIu64, v);
}

static void print_json(const struct zcs_snapshot *s)
{
	const struct zcs_header *h = &s->hdr;
	const struct zcs_shard *t = &s->sum;
	char zmq[24];
	fmt_libzmq(h->libzmq_version, zmq, sizeof zmq);
	printf("{\"version\":%u,\"pid\":%d,\"seq\":%u,\"exe\":", h->layout_version, h->pid,
	       h->seq);
	json_str(h->exe);
	printf(",\"mode\":\"%s\",\"threshold\":", zcs_mode_name(h->mode));
	json_u64_or_null(h->threshold_bytes);
	printf(",\"sample_every\":%u,\"state\":\"%s\",\"start_ticks\":%" PRIu64
	       ",\"start_unix_ns\":%" PRIu64 ",\"exit_unix_ns\":%" PRIu64
	       ",\"libzmq\":\"%s\",\"layout_known\":%s,\"clock\":\"%s\",\"clock_hz\":%" PRIu64,
	       h->sample_every, zcs_live_name(s->live), h->start_ticks, h->start_unix_ns,
	       h->exit_unix_ns, zmq, h->flags & ZCS_F_LAYOUT_KNOWN ? "true" : "false",
	       h->clock == ZCS_CLOCK_TSC ? "tsc" : "monotonic", h->tsc_hz);
	printf(",\"messages\":%" PRIu64 ",\"failed\":{", zcs_messages(s));
	for (unsigned op = 0; op < ZCS_NCALL_OPS; op++)
		printf("%s\"%s\":%" PRIu64, op ? "," : "", zcs_op_name(op), t->failed[op]);
	printf("},\"ffn_threads\":{");
	for (unsigned k = 0; k < ZCS_NFFN_THREADS; k++)
		printf("%s\"%s\":%" PRIu64, k ? "," : "", zcs_ffn_thread_name(k),
		       t->ffn_thread[k]);
	printf("},\"hold_untracked\":%" PRIu64 ",\"series\":[", t->hold_untracked);
	struct zcs_series x;
	for (size_t it = 0, first = 1; zcs_series_next(s, &it, &x); first = 0) {
		const struct zcs_cell *c = x.cell;
		printf("%s\n{\"op\":\"%s\",\"path\":\"%s\",\"size_class\":%u,"
		       "\"size_lo\":%" PRIu64 ",\"size_hi\":",
		       first ? "" : ",", zcs_op_name(x.op), zcs_path_name(x.path), x.size_class,
		       zcs_size_lo(x.size_class));
		json_u64_or_null(zcs_size_hi(x.size_class));
		printf(",\"count\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"timed\":%" PRIu64
		       ",\"time_ns_sum\":%" PRIu64,
		       c->count, c->bytes, zcs_cell_timed(c), c->time_ns_sum);
		static const struct { const char *name; double q; } qs[] = {
			{ "p50_ns", 0.50 }, { "p90_ns", 0.90 }, { "p99_ns", 0.99 },
		};
		for (size_t i = 0; i < 3; i++) {
			printf(",\"%s\":", qs[i].name);
			json_u64_or_null(zcs_cell_quantile_ns(c, qs[i].q));
		}
		printf(",\"max_ns\":");
		json_u64_or_null(zcs_cell_max_ns(c));
		printf(",\"buckets\":[");
		for (unsigned i = 0, bfirst = 1; i < ZCS_NBUCKETS; i++) {
			if (!c->buckets[i])
				continue;
			printf("%s[", bfirst ? "" : ",");
			json_u64_or_null(zcs_bucket_hi(i));
			printf(",%" PRIu64 "]", c->buckets[i]);
			bfirst = 0;
		}
		printf("]}");
	}
	printf("\n]}\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, c;
	while ((c = getopt_long(argc, argv, "jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("zcshim-stat " VERSION " (segment layout %u)\n", ZCS_LAYOUT_VERSION); return 0;
		default:
			fprintf(stderr, "Try 'zcshim-stat --help' for more information.\n");
			return 2;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "zcshim-stat: one PID, NAME or FILE at a time, not '%s'\n",
			argv[optind + 1]);
		return 2;
	}
	if (optind == argc) {
		if (json) {
			fprintf(stderr, "zcshim-stat: --json needs a PID, NAME or FILE\n");
			return 2;
		}
		return list();
	}

	const char *key = argv[optind];
	struct zcs_snapshot *s = zcs_snapshot_new();
	char err[400];
	if (!s) {
		fprintf(stderr, "zcshim-stat: out of memory\n");
		return 1;
	}
	int rc = strchr(key, '/') ? zcs_read(key, s, err, sizeof err)
				  : zcs_find(key, s, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "zcshim-stat: %s\n", err);
		zcs_snapshot_free(s);
		return 1;
	}
	if (json)
		print_json(s);
	else
		print_table(s);
	zcs_snapshot_free(s);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "zcshim-stat: writing output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
