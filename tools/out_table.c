/*
 * out_table.c - the human views: one line per segment (no argument), and a
 * process's histograms as a table with percentiles (PID|NAME|FILE). The
 * README shows both; its column layout is what tests match, so change them
 * together.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "stat.h"

int out_list(FILE *f)
{
	struct zcs_name *names;
	size_t n;
	char err[400];
	if (zcs_list(&names, &n, err, sizeof err) != 0) {
		stat_err("%s", err);
		return 1;
	}
	struct zcs_snapshot *s = zcs_snapshot_new();
	if (!s) {
		free(names);
		stat_err("out of memory");
		return 1;
	}
	fprintf(f, "%-8s %-9s %-8s %-9s %-6s %-8s %12s  %s\n", "PID", "STATE", "MODE",
		"THRESHOLD", "SAMPLE", "LIBZMQ", "MESSAGES", "PROGRAM");
	for (size_t i = 0; i < n; i++) {
		if (zcs_read(names[i].path, s, err, sizeof err) != 0) {
			stat_err("%s", err);
			continue;
		}
		char thr[24], zmq[24];
		zcs_format_size(s->hdr.threshold_bytes, thr, sizeof thr);
		fprintf(f, "%-8d %-9s %-8s %-9s 1/%-4u %-8s %12" PRIu64 "  %s\n", s->hdr.pid,
			zcs_live_name(s->live), zcs_mode_name(s->hdr.mode), thr,
			s->hdr.sample_every, fmt_libzmq(s->hdr.libzmq_version, zmq, sizeof zmq),
			zcs_messages(s), s->hdr.exe);
	}
	if (n == 0)
		fprintf(f, "(no zcshim segments in %s: run a program with "
			   "LD_PRELOAD=libzcshim.so first)\n",
			zcs_dir());
	zcs_snapshot_free(s);
	free(names);
	return 0;
}

static void table_one(FILE *f, const struct zcs_snapshot *s, uint64_t since_ns)
{
	const struct zcs_header *h = &s->hdr;
	char thr[24], zmq[24], a[24], b[24], c[24], d[24], cls[40];
	zcs_format_size(h->threshold_bytes, thr, sizeof thr);
	fprintf(f, "pid %d (%s): %s, mode %s, threshold %s, timing 1 call in %u, libzmq %s\n",
		h->pid, h->exe, zcs_live_name(s->live), zcs_mode_name(h->mode), thr,
		h->sample_every, fmt_libzmq(h->libzmq_version, zmq, sizeof zmq));
	if (since_ns) {
		time_t t = (time_t)(since_ns / 1000000000u);
		char when[64];
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
		fprintf(f, "counts since the --reset of %s (--raw: since the start)\n", when);
	}
	if (!(h->flags & ZCS_F_LAYOUT_KNOWN))
		fprintf(f, "note: this libzmq's message layout was not recognised: sends are "
			   "not classified (all shown as copy) and none was converted\n");
	fprintf(f, "%-10s %-10s %-11s %10s %13s %8s %8s %8s %8s\n", "op", "path", "size",
		"count", "bytes", "p50", "p90", "p99", "max");
	int rows = 0;
	struct zcs_series x;
	for (size_t it = 0; zcs_series_next(s, &it, &x); rows++) {
		const struct zcs_cell *cell = x.cell;
		fprintf(f, "%-10s %-10s %-11s %10" PRIu64 " %13" PRIu64 " %8s %8s %8s %8s\n",
			zcs_op_name(x.op), zcs_path_name(x.path),
			fmt_class(x.size_class, cls, sizeof cls), cell->count, cell->bytes,
			fmt_ns(zcs_cell_quantile_ns(cell, 0.50), a, sizeof a),
			fmt_ns(zcs_cell_quantile_ns(cell, 0.90), b, sizeof b),
			fmt_ns(zcs_cell_quantile_ns(cell, 0.99), c, sizeof c),
			fmt_ns(zcs_cell_max_ns(cell), d, sizeof d));
	}
	if (!rows)
		fprintf(f, "(no libzmq calls recorded)\n");
	const struct zcs_shard *t = &s->sum;
	fprintf(f,
		"ffn ran on: own thread %" PRIu64 ", inside a send %" PRIu64
		", libzmq IO thread %" PRIu64 ", other thread %" PRIu64 "\n",
		t->ffn_thread[ZCS_FFN_OWN], t->ffn_thread[ZCS_FFN_IN_SEND],
		t->ffn_thread[ZCS_FFN_IO], t->ffn_thread[ZCS_FFN_OTHER]);
	fprintf(f, "failed calls:");
	for (unsigned op = 0; op < ZCS_NCALL_OPS; op++)
		fprintf(f, " %s %" PRIu64, zcs_op_name(op), t->failed[op]);
	fprintf(f, "\n");
	if (t->hold_untracked)
		fprintf(f,
			"zero-copy buffers not followed to their ffn (record pool full): %" PRIu64
			"\n",
			t->hold_untracked);
}

int out_table(FILE *f, struct zcs_snapshot *const *s, size_t n, const uint64_t *since_ns)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc('\n', f);
		table_one(f, s[i], since_ns ? since_ns[i] : 0);
	}
	return 0;
}
