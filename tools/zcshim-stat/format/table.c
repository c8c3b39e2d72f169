/*
 * format/table.c - the human views: one line per segment (no argument), and a
 * process's histograms as a table with percentiles (PID|NAME|FILE). The
 * README shows both; its column layout is what tests match, so change them
 * together.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "reach_text.h"
#include "stat.h"

int out_list(FILE *f)
{
	struct zcs_name *names;
	struct zcs_snapshot *s;
	size_t n;
	char err[400];
	if (load_names(&names, &n, &s) != 0)
		return 1;
	fprintf(f, "%-8s %-9s %-8s %-9s %-6s %-8s %20s  %s\n", "PID", "STATE", "MODE",
		"THRESHOLD", "SAMPLE", "LIBZMQ", "MESSAGES", "PROGRAM");
	for (size_t i = 0; i < n; i++) {
		if (zcs_read(names[i].path, s, err, sizeof err) != 0) {
			stat_err("%s", err);
			continue;
		}
		char thr[24], zmq[24], msgs[24], smp[24], name[ESC_NAME_MAX];
		int seen = zcs_calls_seen(s);
		zcs_format_size(s->hdr.threshold_bytes, thr, sizeof thr);
		if (zcs_reach_app_calls(s)) {
			snprintf(msgs, sizeof msgs, "%" PRIu64, zcs_messages(s));
		} else { /* why none, in a word: zcshim-stat PID says it in full */
			snprintf(msgs, sizeof msgs, "none: %s", zcs_reach_why_word(s));
			for (char *c = msgs; *c; c++)
				*c = *c == '_' ? ' ' : *c;
		}
		/* without calls, libzmq's version is not known either */
		fprintf(f, "%-8d %-9s %-8s %-9s %-6s %-8s %20s  %s\n", s->hdr.pid,
			zcs_live_name(s->live), zcs_mode_name(s->hdr.mode), thr,
			fmt_sample(s->hdr.sample_every, smp, sizeof smp),
			seen ? fmt_libzmq(s->hdr.libzmq_version, zmq, sizeof zmq) : "-",
			msgs, esc_name(s->hdr.exe, name, sizeof name));
	}
	if (n == 0)
		fprintf(f, "(no zcshim segments in %s: run a program with "
			   "LD_PRELOAD=libzcshim.so first)\n",
			zcs_dir());
	zcs_snapshot_free(s);
	free(names);
	return 0;
}

/* Rows are indented under their socket's line when split by socket. */
static void column_header(FILE *f, unsigned by)
{
	const char *indent = by == ZCS_BY_SIZE ? "" : "  ";
	if (by == ZCS_BY_SOCKET)
		fprintf(f, "%s%-10s %-10s %10s %13s %8s %8s %8s %8s\n", indent, "op", "path",
			"count", "bytes", "p50", "p90", "p99", "max");
	else
		fprintf(f, "%s%-10s %-10s %-11s %10s %13s %8s %8s %8s %8s\n", indent, "op",
			"path", "size", "count", "bytes", "p50", "p90", "p99", "max");
}

static void row(FILE *f, const struct zcs_series *x, unsigned by)
{
	const struct zcs_cell *cell = x->cell;
	char a[24], b[24], c[24], d[24], cls[40];
	fprintf(f, "%s%-10s %-10s ", by == ZCS_BY_SIZE ? "" : "  ", zcs_op_name(x->op),
		zcs_path_name(x->path));
	if (by != ZCS_BY_SOCKET)
		fprintf(f, "%-11s ", fmt_class(x->size_class, cls, sizeof cls));
	fprintf(f, "%10" PRIu64 " %13" PRIu64 " %8s %8s %8s %8s\n", cell->count, cell->bytes,
		fmt_ns(zcs_cell_quantile_ns(cell, 0.50), a, sizeof a),
		fmt_ns(zcs_cell_quantile_ns(cell, 0.90), b, sizeof b),
		fmt_ns(zcs_cell_quantile_ns(cell, 0.99), c, sizeof c),
		fmt_ns(zcs_cell_max_ns(cell), d, sizeof d));
}

/* One line per socket and op that failed: "failed: socket 3 PUSH msg_send
 * EAGAIN 12, ETERM 1"; nothing when nothing failed. */
static void failed_lines(FILE *f, const struct zcs_snapshot *s)
{
	for (unsigned i = 0; i < ZCS_NSLOTS; i++) {
		unsigned slot = zcs_slot_at(i);
		for (unsigned op = 0; op < ZCS_NCALL_OPS; op++) {
			const uint64_t *by_err = s->sum.failed[slot][op];
			int any = 0;
			for (unsigned e = 0; e < ZCS_NERRS; e++) {
				if (!by_err[e])
					continue;
				if (!any && slot)
					fprintf(f, "failed: socket %u %s %s", slot, socket_type(s, slot),
						zcs_op_name(op));
				else if (!any)
					fprintf(f, "failed: other %s", zcs_op_name(op));
				fprintf(f, "%s %s %" PRIu64, any ? "," : "", zcs_err_name(e), by_err[e]);
				any = 1;
			}
			if (any)
				fputc('\n', f);
		}
	}
}

/* "time: callers 1.20s; blocked in sends 12.0%, waiting in receives and
 * polls 80.0%, working 8.0%" (estimates: docs/pipeline.md); nothing
 * before a thread has made a call. */
static void time_line(FILE *f, const struct zcs_snapshot *s)
{
	struct zcs_time_split t;
	zcs_time_split(s, ZCS_ALL, &t);
	if (!t.busy_ns)
		return;
	double busy = (double)t.busy_ns, b = t.send_ns / busy, w = t.wait_ns / busy;
	b = b > 1 ? 1 : b;
	w = w > 1 - b ? 1 - b : w;
	char d[24];
	fprintf(f, "time: callers %s; blocked in sends %.1f%%, waiting in receives and polls "
		   "%.1f%%, working %.1f%%\n",
		fmt_ns_f(busy, d, sizeof d), 100 * b, 100 * w, 100 * (1 - b - w));
}

static void inflight_lines(FILE *f, const struct zcs_snapshot *s)
{
	const struct zcs_inflight *g = &s->shared.inflight;
	char a[40], b[40];
	uint64_t buffers, bytes;
	zcs_inflight_now(s, &buffers, &bytes);
	if (!g->peak_buffers && !buffers)
		fprintf(f, "zero-copy in flight: none so far\n");
	else
		fprintf(f,
			"zero-copy in flight now: %" PRIu64 " buffers, %" PRIu64 " bytes\n"
			"peak in flight: %" PRIu64 " buffers at %s, %" PRIu64 " bytes at %s\n",
			buffers, bytes, g->peak_buffers,
			fmt_unix_ns(zcs_ticks_unix_ns(s, g->peak_buffers_ticks), a, sizeof a),
			g->peak_bytes, fmt_unix_ns(zcs_ticks_unix_ns(s, g->peak_bytes_ticks), b, sizeof b));
	if (g->untracked)
		fprintf(f,
			"zero-copy buffers not followed to their ffn (no record to spare): %" PRIu64
			"\n",
			g->untracked);
}

static void table_one(FILE *f, const struct zcs_snapshot *s, uint64_t since_ns, unsigned by)
{
	const struct zcs_header *h = &s->hdr;
	if (!zcs_calls_seen(s)) {
		print_no_calls(f, s);
		return;
	}
	char thr[24], zmq[24], smp[24], name[ESC_NAME_MAX];
	zcs_format_size(h->threshold_bytes, thr, sizeof thr);
	fprintf(f, "pid %d (%s): %s, mode %s, threshold %s, timing %s, libzmq %s\n",
		h->pid, esc_name(h->exe, name, sizeof name), zcs_live_name(s->live),
		zcs_mode_name(h->mode), thr, fmt_sample(h->sample_every, smp, sizeof smp),
		fmt_libzmq(h->libzmq_version, zmq, sizeof zmq));
	if (since_ns) {
		time_t t = (time_t)(since_ns / 1000000000u);
		char when[64];
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
		fprintf(f, "counts since the --reset of %s (--raw: since the start)\n", when);
	}
	print_reach(f, s);
	if (!(h->flags & ZCS_F_LAYOUT_KNOWN))
		fprintf(f, "note: this libzmq's message layout was not recognised: sends are "
			   "not classified (all shown as copy) and none was converted\n");
	if (by == ZCS_BY_SIZE)
		column_header(f, by);
	int rows = 0;
	unsigned slot = ZCS_ALL;
	struct zcs_series x;
	for (size_t it = 0; zcs_series_next_by(s, by, &it, &x); rows++) {
		if (by != ZCS_BY_SIZE && x.slot != slot) {
			slot = x.slot;
			print_socket(f, s, slot);
			fputc('\n', f);
			column_header(f, by);
		}
		row(f, &x, by);
	}
	char why[600];
	if (!rows && h->reach_why != ZCS_WHY_SEEN && h->reach_why != ZCS_WHY_UNKNOWN)
		fprintf(f, "(no libzmq calls recorded: %s)\n", zcs_reach_why_text(s, why, sizeof why));
	else if (!rows)
		fprintf(f, "(no libzmq calls recorded)\n");
	const struct zcs_sum *t = &s->sum;
	fprintf(f,
		"ffn ran on: own thread %" PRIu64 ", inside a send %" PRIu64
		", libzmq IO thread %" PRIu64 ", other thread %" PRIu64 "\n",
		t->ffn_thread[ZCS_FFN_OWN], t->ffn_thread[ZCS_FFN_IN_SEND],
		t->ffn_thread[ZCS_FFN_IO], t->ffn_thread[ZCS_FFN_OTHER]);
	fprintf(f, "failed calls:");
	for (unsigned op = 0; op < ZCS_NCALL_OPS; op++)
		fprintf(f, " %s %" PRIu64, zcs_op_name(op), zcs_failed_op(s, op));
	fprintf(f, "\n");
	failed_lines(f, s);
	time_line(f, s);
	inflight_lines(f, s);
	uint64_t overflow = zcs_overflow_calls(s);
	if (overflow)
		fprintf(f, "calls counted without socket and size (no series to spare): %" PRIu64 "\n",
			overflow);
	if (s->shared.failed_short)
		fprintf(f, "failed calls counted without op and errno (no series to spare): %" PRIu64
			   "\n",
			s->shared.failed_short);
	if (s->shared.unconverted_nested)
		fprintf(f, "zero-copy sends not converted (their ffn would have run %u converted "
			   "sends deep): %" PRIu64 "\n",
			ZCS_CONVERT_NEST_MAX, s->shared.unconverted_nested);
}

int out_table(FILE *f, struct zcs_snapshot *const *s, size_t n, const uint64_t *since_ns,
	      unsigned by)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc('\n', f);
		table_one(f, s[i], since_ns ? since_ns[i] : 0, by);
	}
	return 0;
}
