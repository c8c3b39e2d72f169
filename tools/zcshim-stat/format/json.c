/*
 * format/json.c - one process as one JSON document (the README's "JSON"
 * section is its schema), or every process as {"processes":[...]} for --all.
 * compare.c reads these documents back through jansson.
 *
 * Written by hand, as a stream, rather than built as a jansson tree: an
 * --all document of many processes is never held in memory. It is valid
 * JSON by construction: keys and the names of ops, paths, modes and states
 * are fixed ASCII words from zcshim_segment.h; numbers are printed with
 * PRIu64; every string that comes from the app (program name, endpoints)
 * goes through fmt_json_str (format/escape.c), the one function that
 * escapes. The tests parse every document with jansson and Python.
 */
#include <inttypes.h>
#include <string.h>

#include "histo.h"
#include "reach_text.h"
#include "stat.h"

static void u64_or_null(FILE *f, uint64_t v)
{
	if (v == UINT64_MAX)
		fprintf(f, "null");
	else
		fprintf(f, "%" PRIu64, v);
}

/* "id":3,"type":"PUSH","state":"open","endpoints":["tcp://..."],
 * "endpoints_cut":false; slot 0 is "id":0,"type":"other": not a socket, so
 * no state, endpoints or times. */
static void socket_fields(FILE *f, const struct zcs_snapshot *s, unsigned slot, int times)
{
	fprintf(f, "\"id\":%u,\"type\":", slot);
	fmt_json_str(f, socket_type(s, slot));
	if (slot == ZCS_SLOT_OTHER)
		return;
	const struct zcs_socket *row = &s->shared.sockets[slot];
	fprintf(f, ",\"state\":\"%s\",", zcs_sock_state_name(row));
	esc_json_endpoints(f, row);
	if (times)
		fprintf(f, ",\"opened_unix_ns\":%" PRIu64 ",\"closed_unix_ns\":%" PRIu64,
			row->opened_unix_ns, row->closed_unix_ns);
}

static int any(const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i])
			return 1;
	return 0;
}

/* ,"failed":{"msg_send":{"EAGAIN":12}}: only what is not 0. */
static void socket_failed(FILE *f, const struct zcs_snapshot *s, unsigned slot)
{
	const char *sep = "";
	fprintf(f, ",\"failed\":{");
	for (unsigned op = 0; op < ZCS_NCALL_OPS; op++) {
		const uint64_t *by_err = s->sum.failed[slot][op];
		if (!any(by_err, ZCS_NERRS))
			continue;
		fprintf(f, "%s\"%s\":{", sep, zcs_op_name(op));
		sep = ",";
		const char *esep = "";
		for (unsigned e = 0; e < ZCS_NERRS; e++) {
			if (!by_err[e])
				continue;
			fprintf(f, "%s\"%s\":%" PRIu64, esep, zcs_err_name(e), by_err[e]);
			esep = ",";
		}
		fputc('}', f);
	}
	fputc('}', f);
}

/* ,"sent":{"frames":..,"messages":..,"bytes":..},"received":{...},
 * "send_ns":..,"wait_ns":..: what the socket moved (messages: whole, the
 * last frame of each) and the estimated time in its sends and receives
 * (slot 0: polls too); integers, as compare.c's parser takes them. */
static void socket_traffic(FILE *f, const struct zcs_snapshot *s, unsigned slot)
{
	struct zcs_traffic t;
	struct zcs_time_split split;
	zcs_traffic(s, slot, &t);
	zcs_time_split(s, slot, &split);
	fprintf(f,
		",\"sent\":{\"frames\":%" PRIu64 ",\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64
		"},\"received\":{\"frames\":%" PRIu64 ",\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64
		"},\"send_ns\":%.0f,\"wait_ns\":%.0f",
		t.sent_frames, t.sent_msgs, t.sent_bytes, t.recv_frames, t.recv_msgs, t.recv_bytes,
		split.send_ns, split.wait_ns);
}

/* Table rows in use (or holding counts), then "other", in series order. */
static void sockets_arr(FILE *f, const struct zcs_snapshot *s)
{
	const char *sep = "";
	fprintf(f, ",\"sockets\":[");
	for (unsigned i = 0; i < ZCS_NSLOTS; i++) {
		unsigned slot = zcs_slot_at(i);
		if (slot && s->shared.sockets[slot].state == ZCS_SOCK_FREE &&
		    !zcs_slot_used(s, slot))
			continue;
		fprintf(f, "%s\n{", sep);
		socket_fields(f, s, slot, 1);
		socket_failed(f, s, slot);
		socket_traffic(f, s, slot);
		fputc('}', f);
		sep = ",";
	}
	fprintf(f, "]");
}

static void inflight_obj(FILE *f, const struct zcs_snapshot *s)
{
	const struct zcs_inflight *g = &s->shared.inflight;
	uint64_t buffers, bytes;
	zcs_inflight_now(s, &buffers, &bytes);
	fprintf(f,
		",\"inflight\":{\"buffers\":%" PRIu64 ",\"bytes\":%" PRIu64
		",\"peak_buffers\":%" PRIu64 ",\"peak_buffers_unix_ns\":%" PRIu64
		",\"peak_bytes\":%" PRIu64 ",\"peak_bytes_unix_ns\":%" PRIu64
		",\"untracked\":%" PRIu64 "}",
		buffers, bytes, g->peak_buffers, zcs_ticks_unix_ns(s, g->peak_buffers_ticks),
		g->peak_bytes, zcs_ticks_unix_ns(s, g->peak_bytes_ticks), g->untracked);
}

static void str_or_null(FILE *f, const char *s)
{
	if (s[0])
		fmt_json_str(f, s);
	else
		fprintf(f, "null");
}

/* ,"reach":{...}: how calls reached the shim, or why none did (zcshim-stat(1)). */
static void reach_obj(FILE *f, const struct zcs_snapshot *s)
{
	const struct zcs_header *h = &s->hdr;
	unsigned ways = zcs_reach_ways(s);
	char text[600];
	fprintf(f, ",\"reach\":{\"libzmq_object\":");
	str_or_null(f, h->reach_libzmq);
	fprintf(f, ",\"builtin\":%s,\"ways\":[", ways & ZCS_WAY_BUILTIN ? "true" : "false");
	const char *sep = "";
	for (unsigned bit = ZCS_WAY_BINDING; bit < ZCS_WAY_BUILTIN; bit <<= 1)
		if (ways & bit) {
			fprintf(f, "%s\"%s\"", sep, zcs_way_name(bit));
			sep = ",";
		}
	fprintf(f,
		"],\"dlsym_pointers\":%" PRIu32 ",\"deepbind_redirected\":%" PRIu32
		",\"deepbind_lost\":%" PRIu32 ",\"why\":\"%s\",\"how\":",
		h->reach_dlsym, h->reach_patched, h->reach_lost,
		zcs_reach_why_word(s));
	if (h->reach_why == ZCS_WHY_BYPASSED)
		fprintf(f, "\"%s\"", zcs_reach_how_name(h->reach_how));
	else
		fprintf(f, "null");
	fprintf(f, ",\"object\":");
	str_or_null(f, h->reach_object);
	fprintf(f, ",\"text\":");
	fmt_json_str(f, zcs_reach_app_calls(s) ? zcs_reach_ways_text(s, text, sizeof text)
					       : zcs_reach_why_text(s, text, sizeof text));
	fputc('}', f);
}

static void json_one(FILE *f, const struct zcs_snapshot *s, uint64_t since_ns, unsigned by)
{
	const struct zcs_header *h = &s->hdr;
	const struct zcs_sum *t = &s->sum;
	char zmq[24];
	fprintf(f, "{\"version\":%u,\"pid\":%d,\"seq\":%u,\"exe\":", h->layout_version, h->pid,
		h->seq);
	fmt_json_str(f, h->exe);
	fprintf(f, ",\"mode\":\"%s\",\"threshold\":", zcs_mode_name(h->mode));
	u64_or_null(f, h->threshold_bytes);
	fprintf(f,
		",\"sample_every\":%u,\"state\":\"%s\",\"start_ticks\":%" PRIu64
		",\"start_unix_ns\":%" PRIu64 ",\"exit_unix_ns\":%" PRIu64,
		h->sample_every, zcs_live_name(s->live), h->start_ticks, h->start_unix_ns,
		h->exit_unix_ns);
	/* without a call, libzmq and the timing clock were never looked at */
	if (zcs_calls_seen(s))
		fprintf(f, ",\"calls_seen\":true,\"libzmq\":\"%s\",\"layout_known\":%s,"
			   "\"clock\":\"%s\",\"clock_hz\":%" PRIu64,
			fmt_libzmq(h->libzmq_version, zmq, sizeof zmq),
			h->flags & ZCS_F_LAYOUT_KNOWN ? "true" : "false",
			h->clock == ZCS_CLOCK_TSC ? "tsc" : "monotonic", h->tsc_hz);
	else
		fprintf(f, ",\"calls_seen\":false,\"libzmq\":null,\"layout_known\":false,"
			   "\"clock\":null,\"clock_hz\":null");
	fprintf(f, ",\"unconverted_nested\":%" PRIu64, s->shared.unconverted_nested);
	reach_obj(f, s);
	fprintf(f,
		",\"by\":\"%s\",\"sockets_seen\":%u,\"cells_short\":%" PRIu64
		",\"failed_short\":%" PRIu64,
		by == ZCS_BY_SOCKET ? "socket" : by == ZCS_BY_BOTH ? "both" : "size",
		s->shared.sockets_seen, s->shared.cells_short, s->shared.failed_short);
	inflight_obj(f, s);
	/* where the callers' time went (docs/pipeline.md): estimated ns in
	 * sends, in receives and polls, of busy_ns */
	struct zcs_time_split split;
	zcs_time_split(s, ZCS_ALL, &split);
	fprintf(f, ",\"time\":{\"busy_ns\":%" PRIu64 ",\"send_ns\":%.0f,\"wait_ns\":%.0f,"
		   "\"untimed_calls\":%" PRIu64 ",\"threads\":%" PRIu64 "}",
		split.busy_ns, split.send_ns, split.wait_ns, split.untimed_calls, t->threads);
	sockets_arr(f, s);
	fprintf(f, ",\"messages\":%" PRIu64 ",\"failed\":{", zcs_messages(s));
	for (unsigned op = 0; op < ZCS_NCALL_OPS; op++)
		fprintf(f, "%s\"%s\":%" PRIu64, op ? "," : "", zcs_op_name(op),
			zcs_failed_op(s, op));
	fprintf(f, "},\"ffn_threads\":{");
	for (unsigned k = 0; k < ZCS_NFFN_THREADS; k++)
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "", zcs_ffn_thread_name(k),
			t->ffn_thread[k]);
	fprintf(f, "},\"hold_untracked\":%" PRIu64 ",\"baseline_unix_ns\":%" PRIu64
		   ",\"series\":[",
		s->shared.inflight.untracked, since_ns);
	struct zcs_series x;
	for (size_t it = 0, first = 1; zcs_series_next_by(s, by, &it, &x); first = 0) {
		const struct zcs_cell *c = x.cell;
		fprintf(f, "%s\n{", first ? "" : ",");
		if (by != ZCS_BY_SIZE) {
			fprintf(f, "\"socket\":{");
			socket_fields(f, s, x.slot, 0);
			fprintf(f, "},");
		}
		fprintf(f, "\"op\":\"%s\",\"path\":\"%s\"", zcs_op_name(x.op),
			zcs_path_name(x.path));
		/* --by socket: summed over size classes, so none is named */
		if (by != ZCS_BY_SOCKET && x.size_class == ZCS_ALL) {
			/* an op's overflow series: its sizes were not kept */
			fprintf(f, ",\"size_class\":null,\"size_lo\":null,\"size_hi\":null");
		} else if (by != ZCS_BY_SOCKET) {
			fprintf(f, ",\"size_class\":%u,\"size_lo\":%" PRIu64 ",\"size_hi\":",
				x.size_class, zcs_size_lo(x.size_class));
			u64_or_null(f, zcs_size_hi(x.size_class));
		}
		fprintf(f,
			",\"count\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"msgs\":%" PRIu64
			",\"timed\":%" PRIu64 ",\"time_ns_sum\":%" PRIu64,
			c->count, c->bytes, c->msgs, zcs_cell_timed(c), c->time_ns_sum);
		static const struct { const char *name; double q; } qs[] = {
			{ "p50_ns", 0.50 }, { "p90_ns", 0.90 }, { "p99_ns", 0.99 },
		};
		for (size_t i = 0; i < 3; i++) {
			fprintf(f, ",\"%s\":", qs[i].name);
			u64_or_null(f, zcs_cell_quantile_ns(c, qs[i].q));
		}
		fprintf(f, ",\"max_ns\":");
		u64_or_null(f, zcs_cell_max_ns(c));
		fprintf(f, ",\"buckets\":[");
		for (unsigned i = 0, bfirst = 1; i < ZCS_NBUCKETS; i++) {
			if (!c->buckets[i])
				continue;
			fprintf(f, "%s[", bfirst ? "" : ",");
			u64_or_null(f, zcs_bucket_hi(i));
			fprintf(f, ",%" PRIu64 "]", c->buckets[i]);
			bfirst = 0;
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n]}");
}

int out_json(FILE *f, struct zcs_snapshot *const *s, size_t n, int all,
	     const uint64_t *since_ns, unsigned by)
{
	if (all)
		fprintf(f, "{\"processes\":[");
	for (size_t i = 0; i < n; i++) {
		if (all)
			fprintf(f, "%s\n", i ? "," : "");
		json_one(f, s[i], since_ns ? since_ns[i] : 0, by);
	}
	if (all)
		fprintf(f, "%s]}", n ? "\n" : "");
	fputc('\n', f);
	return 0;
}
