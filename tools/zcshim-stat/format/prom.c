/*
 * format/prom.c - Prometheus text exposition format (version 0.0.4), for
 * node_exporter's textfile collector (--prometheus --output FILE), so a
 * fleet is scraped by the Prometheus it already runs.
 *
 * zcshim_send_seconds is a histogram per op x path x size class: its
 * buckets are cumulative, at every power of two of nanoseconds (every 4th
 * of zcshim's 25 % buckets, so all series share one set of `le` and can be
 * summed), then +Inf. Durations are whole nanoseconds and a zcshim bucket
 * [lo, hi) holds lo..hi-1 ns, so `le` is hi-1 ns: exact, not rounded.
 * _count is the timed samples (1 in ZCSHIM_SAMPLE); zcshim_calls_total has
 * every call. Every family's samples are written together, as the format
 * requires, so with several processes (--all) the loops run family first.
 * Two segments of one pid and seq (a recycled pid) would repeat a label
 * set: only the newest is written.
 *
 * Sockets: with --by socket or both, series carry socket (the slot number,
 * "0" for other) and socket_type labels, at most ZCS_NSLOTS values per
 * process; zcshim_socket_info carries what would not be bounded or would
 * change (endpoints, state) once per socket, to join on. Label values are
 * the text form of the app's bytes (format/escape.c): valid UTF-8, as the
 * format requires; endpoints one value, a space between them.
 */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "config.h"
#include "histo.h"
#include "stat.h"

static void proc_labels(FILE *f, const struct zcs_snapshot *s)
{
	fprintf(f, "pid=\"%d\",seq=\"%u\",exe=\"", s->hdr.pid, s->hdr.seq);
	esc_prom(f, s->hdr.exe);
	putc('"', f);
}

static void socket_labels(FILE *f, const struct zcs_snapshot *s, unsigned slot)
{
	fprintf(f, ",socket=\"%u\",socket_type=\"", slot);
	esc_prom(f, socket_type(s, slot));
	putc('"', f);
}

static void series_labels(FILE *f, const struct zcs_snapshot *s, const struct zcs_series *x)
{
	char cls[40];
	proc_labels(f, s);
	if (x->slot != ZCS_ALL)
		socket_labels(f, s, x->slot);
	fprintf(f, ",op=\"%s\",path=\"%s\"", zcs_op_name(x->op), zcs_path_name(x->path));
	if (x->size_class != ZCS_ALL)
		fprintf(f, ",size_class=\"%s\"", fmt_class(x->size_class, cls, sizeof cls));
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Is s superseded by a newer segment of the same pid and seq? */
static int shadowed(struct zcs_snapshot *const *s, size_t n, size_t i)
{
	for (size_t j = i + 1; j < n; j++)
		if (s[j]->hdr.pid == s[i]->hdr.pid && s[j]->hdr.seq == s[i]->hdr.seq)
			return 1;
	return 0;
}

static void histogram(FILE *f, struct zcs_snapshot *const *s, size_t n, unsigned by)
{
	family(f, "zcshim_send_seconds", "histogram",
	       "Time in the timed libzmq calls (send, receive and poll ops) and "
	       "zero-copy buffer events (hold, ffn); see zcshim_sample_every.");
	for (size_t i = 0; i < n; i++) {
		if (shadowed(s, n, i))
			continue;
		struct zcs_series x;
		for (size_t it = 0; zcs_series_next_by(s[i], by, &it, &x);) {
			/* bounds 2^2 .. 2^36 ns: the power-of-two bucket ends */
			for (unsigned b = ZCS_SUB - 1; b < ZCS_NBUCKETS - 1; b += ZCS_SUB) {
				uint64_t hi_ns = zcs_bucket_hi(b);
				fprintf(f, "zcshim_send_seconds_bucket{");
				series_labels(f, s[i], &x);
				fprintf(f, ",le=\"%.12g\"} %" PRIu64 "\n", (double)(hi_ns - 1) / 1e9,
					zcs_cell_count_below(x.cell, hi_ns));
			}
			uint64_t timed = zcs_cell_timed(x.cell);
			fprintf(f, "zcshim_send_seconds_bucket{");
			series_labels(f, s[i], &x);
			fprintf(f, ",le=\"+Inf\"} %" PRIu64 "\n", timed);
			fprintf(f, "zcshim_send_seconds_sum{");
			series_labels(f, s[i], &x);
			fprintf(f, "} %.9g\n", (double)x.cell->time_ns_sum / 1e9);
			fprintf(f, "zcshim_send_seconds_count{");
			series_labels(f, s[i], &x);
			fprintf(f, "} %" PRIu64 "\n", timed);
		}
	}
}

static void series_counter(FILE *f, struct zcs_snapshot *const *s, size_t n,
			   const char *name, const char *help, int bytes, unsigned by)
{
	family(f, name, "counter", help);
	for (size_t i = 0; i < n; i++) {
		if (shadowed(s, n, i))
			continue;
		struct zcs_series x;
		for (size_t it = 0; zcs_series_next_by(s[i], by, &it, &x);) {
			fprintf(f, "%s{", name);
			series_labels(f, s[i], &x);
			fprintf(f, "} %" PRIu64 "\n", bytes ? x.cell->bytes : x.cell->count);
		}
	}
}

/* A family of one number per process, labelled by the process alone. */
static void per_process(FILE *f, struct zcs_snapshot *const *s, size_t n, const char *name,
			const char *type, const char *help,
			uint64_t (*value)(const struct zcs_snapshot *))
{
	family(f, name, type, help);
	for (size_t i = 0; i < n; i++) {
		if (shadowed(s, n, i))
			continue;
		fprintf(f, "%s{", name);
		proc_labels(f, s[i]);
		fprintf(f, "} %" PRIu64 "\n", value(s[i]));
	}
}

static uint64_t sockets_seen(const struct zcs_snapshot *s)
{
	return s->shared.sockets_seen;
}

static uint64_t calls_seen(const struct zcs_snapshot *s)
{
	return (uint64_t)zcs_calls_seen(s);
}

static uint64_t unconverted_nested(const struct zcs_snapshot *s)
{
	return s->shared.unconverted_nested;
}

static uint64_t cells_short(const struct zcs_snapshot *s)
{
	return s->shared.cells_short;
}

static uint64_t failed_short(const struct zcs_snapshot *s)
{
	return s->shared.failed_short;
}

static uint64_t untracked(const struct zcs_snapshot *s)
{
	return s->shared.inflight.untracked;
}

/* zcshim_failed_total{socket,socket_type,op,errno}: the non-zero ones. */
static void failed_by_errno(FILE *f, struct zcs_snapshot *const *s, size_t n)
{
	family(f, "zcshim_failed_total", "counter",
	       "libzmq calls that returned -1, per socket, op and errno (only those not 0).");
	for (size_t i = 0; i < n; i++) {
		if (shadowed(s, n, i))
			continue;
		for (unsigned j = 0; j < ZCS_NSLOTS; j++) {
			unsigned slot = zcs_slot_at(j);
			for (unsigned op = 0; op < ZCS_NCALL_OPS; op++)
				for (unsigned e = 0; e < ZCS_NERRS; e++) {
					uint64_t v = s[i]->sum.failed[slot][op][e];
					if (!v)
						continue;
					fprintf(f, "zcshim_failed_total{");
					proc_labels(f, s[i]);
					socket_labels(f, s[i], slot);
					fprintf(f, ",op=\"%s\",errno=\"%s\"} %" PRIu64 "\n",
						zcs_op_name(op), zcs_err_name(e), v);
				}
		}
	}
}

/* zcshim_socket_info per table row in use; calls_seen and sockets_seen. */
static void sockets(FILE *f, struct zcs_snapshot *const *s, size_t n)
{
	family(f, "zcshim_socket_info", "gauge",
	       "One per socket of the process's table; endpoints and state as labels.");
	for (size_t i = 0; i < n; i++) {
		if (shadowed(s, n, i))
			continue;
		for (unsigned slot = 1; slot < ZCS_NSLOTS; slot++) {
			const struct zcs_socket *row = &s[i]->shared.sockets[slot];
			if (row->state == ZCS_SOCK_FREE && !zcs_slot_used(s[i], slot))
				continue;
			fprintf(f, "zcshim_socket_info{");
			proc_labels(f, s[i]);
			socket_labels(f, s[i], slot);
			fprintf(f, ",endpoints=\"");
			esc_prom_endpoints(f, row);
			fprintf(f, "\",endpoints_cut=\"%d\",state=\"%s\"} 1\n",
				zcs_endpoints_cut(row), zcs_sock_state_name(row));
		}
	}
	per_process(f, s, n, "zcshim_sockets_seen", "gauge",
		    "Distinct sockets the process sent or received on, in the table of 64 and beyond it.",
		    sockets_seen);
	per_process(f, s, n, "zcshim_calls_seen", "gauge",
		    "1 once a libzmq call went through the shim; 0: libzmq static, or not used.",
		    calls_seen);
}

/* The in-flight gauge, its peaks and their times. */
enum { NOW_BUFFERS, NOW_BYTES, PEAK_BUFFERS, PEAK_BUFFERS_AT, PEAK_BYTES, PEAK_BYTES_AT };

static uint64_t inflight_field(const struct zcs_snapshot *s, int k)
{
	const struct zcs_inflight *g = &s->shared.inflight;
	uint64_t now[2];
	zcs_inflight_now(s, &now[0], &now[1]);
	switch (k) {
	case NOW_BUFFERS: return now[0];
	case NOW_BYTES: return now[1];
	case PEAK_BUFFERS: return g->peak_buffers;
	case PEAK_BUFFERS_AT: return g->peak_buffers_ticks;
	case PEAK_BYTES: return g->peak_bytes;
	default: return g->peak_bytes_ticks;
	}
}

static void inflight(FILE *f, struct zcs_snapshot *const *s, size_t n)
{
	static const struct { const char *name, *help; int field, time; } g[] = {
		{ "zcshim_inflight_buffers", "Zero-copy buffers libzmq holds now (ffn not run yet).",
		  NOW_BUFFERS, 0 },
		{ "zcshim_inflight_bytes", "Bytes of those buffers.", NOW_BYTES, 0 },
		{ "zcshim_inflight_peak_buffers", "Most zero-copy buffers held at once.",
		  PEAK_BUFFERS, 0 },
		{ "zcshim_inflight_peak_buffers_timestamp_seconds", "When that peak was reached.",
		  PEAK_BUFFERS_AT, 1 },
		{ "zcshim_inflight_peak_bytes", "Most zero-copy bytes held at once.", PEAK_BYTES, 0 },
		{ "zcshim_inflight_peak_bytes_timestamp_seconds", "When that peak was reached.",
		  PEAK_BYTES_AT, 1 },
	};
	for (size_t k = 0; k < sizeof g / sizeof g[0]; k++) {
		family(f, g[k].name, "gauge", g[k].help);
		for (size_t i = 0; i < n; i++) {
			if (shadowed(s, n, i))
				continue;
			uint64_t v = inflight_field(s[i], g[k].field);
			fprintf(f, "%s{", g[k].name);
			proc_labels(f, s[i]);
			if (g[k].time)
				fprintf(f, "} %.3f\n", (double)zcs_ticks_unix_ns(s[i], v) / 1e9);
			else
				fprintf(f, "} %" PRIu64 "\n", v);
		}
	}
	per_process(f, s, n, "zcshim_cells_short_total", "counter",
		    "Lookups of a series that found none left to give: its calls went to the "
		    "op's overflow series (path any), without socket and size.",
		    cells_short);
	per_process(f, s, n, "zcshim_failed_short_total", "counter",
		    "Failed calls counted without op and errno: no series left to give.",
		    failed_short);
	per_process(f, s, n, "zcshim_unconverted_nested_total", "counter",
		    "Zero-copy sends left unconverted: their ffn would have run too many "
		    "converted sends deep.",
		    unconverted_nested);
}

int out_prom(FILE *f, struct zcs_snapshot *const *s, size_t n, unsigned by)
{
	family(f, "zcshim_info", "gauge",
	       "One per process that ran under libzcshim.so; settings and state as labels.");
	for (size_t i = 0; i < n; i++) {
		if (shadowed(s, n, i))
			continue;
		char zmq[24], thr[24];
		zcs_format_size(s[i]->hdr.threshold_bytes, thr, sizeof thr);
		fprintf(f, "zcshim_info{");
		proc_labels(f, s[i]);
		fprintf(f, ",state=\"%s\",mode=\"%s\",threshold=\"%s\",libzmq=\"%s\"} 1\n",
			zcs_live_name(s[i]->live), zcs_mode_name(s[i]->hdr.mode), thr,
			fmt_libzmq(s[i]->hdr.libzmq_version, zmq, sizeof zmq));
	}
	family(f, "zcshim_threshold_bytes", "gauge",
	       "Zero-copy sends smaller than this are converted to copies (ZCSHIM_THRESHOLD).");
	for (size_t i = 0; i < n; i++) {
		if (shadowed(s, n, i))
			continue;
		fprintf(f, "zcshim_threshold_bytes{");
		proc_labels(f, s[i]);
		if (s[i]->hdr.threshold_bytes == UINT64_MAX)
			fprintf(f, "} +Inf\n");
		else
			fprintf(f, "} %" PRIu64 "\n", s[i]->hdr.threshold_bytes);
	}
	family(f, "zcshim_sample_every", "gauge",
	       "One call in this many is timed (ZCSHIM_SAMPLE); 0: auto, at most about 1 % of a thread's time.");
	for (size_t i = 0; i < n; i++) {
		if (shadowed(s, n, i))
			continue;
		fprintf(f, "zcshim_sample_every{");
		proc_labels(f, s[i]);
		fprintf(f, "} %u\n", s[i]->hdr.sample_every);
	}
	series_counter(f, s, n, "zcshim_calls_total",
		       "Successful calls, every one counted; for hold and ffn, the timed buffers.", 0, by);
	series_counter(f, s, n, "zcshim_bytes_total", "Message bytes of those calls.", 1, by);
	histogram(f, s, n, by);
	family(f, "zcshim_failed_calls_total", "counter",
	       "libzmq calls that returned -1 (EAGAIN, ...), per op.");
	for (size_t i = 0; i < n; i++) {
		if (shadowed(s, n, i))
			continue;
		for (unsigned op = 0; op < ZCS_NCALL_OPS; op++) {
			fprintf(f, "zcshim_failed_calls_total{");
			proc_labels(f, s[i]);
			fprintf(f, ",op=\"%s\"} %" PRIu64 "\n", zcs_op_name(op),
				zcs_failed_op(s[i], op));
		}
	}
	family(f, "zcshim_ffn_runs_total", "counter",
	       "Zero-copy free callbacks run, by the kind of thread that ran them (sampled).");
	for (size_t i = 0; i < n; i++) {
		if (shadowed(s, n, i))
			continue;
		for (unsigned k = 0; k < ZCS_NFFN_THREADS; k++) {
			fprintf(f, "zcshim_ffn_runs_total{");
			proc_labels(f, s[i]);
			fprintf(f, ",thread=\"%s\"} %" PRIu64 "\n", zcs_ffn_thread_name(k),
				s[i]->sum.ffn_thread[k]);
		}
	}
	per_process(f, s, n, "zcshim_hold_untracked_total", "counter",
		    "Zero-copy buffers not followed to their ffn: the record pool was full.",
		    untracked);
	failed_by_errno(f, s, n);
	sockets(f, s, n);
	inflight(f, s, n);
	return 0;
}
