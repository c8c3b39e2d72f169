/*
 * out_json.c - one process as one JSON document (the README's "JSON"
 * section is its schema), or every process as {"processes":[...]} for --all.
 * compare.c reads these documents back with json.c, which accepts exactly
 * what is written here: unsigned integers, strings, true/false/null, arrays
 * and objects; keep the two in step.
 */
#include <inttypes.h>

#include "histo.h"
#include "stat.h"

static void u64_or_null(FILE *f, uint64_t v)
{
	if (v == UINT64_MAX)
		fprintf(f, "null");
	else
		fprintf(f, "%" PRIu64, v);
}

static void json_one(FILE *f, const struct zcs_snapshot *s, uint64_t since_ns)
{
	const struct zcs_header *h = &s->hdr;
	const struct zcs_shard *t = &s->sum;
	char zmq[24];
	fprintf(f, "{\"version\":%u,\"pid\":%d,\"seq\":%u,\"exe\":", h->layout_version, h->pid,
		h->seq);
	fmt_json_str(f, h->exe);
	fprintf(f, ",\"mode\":\"%s\",\"threshold\":", zcs_mode_name(h->mode));
	u64_or_null(f, h->threshold_bytes);
	fprintf(f,
		",\"sample_every\":%u,\"state\":\"%s\",\"start_ticks\":%" PRIu64
		",\"start_unix_ns\":%" PRIu64 ",\"exit_unix_ns\":%" PRIu64
		",\"libzmq\":\"%s\",\"layout_known\":%s,\"clock\":\"%s\",\"clock_hz\":%" PRIu64,
		h->sample_every, zcs_live_name(s->live), h->start_ticks, h->start_unix_ns,
		h->exit_unix_ns, fmt_libzmq(h->libzmq_version, zmq, sizeof zmq),
		h->flags & ZCS_F_LAYOUT_KNOWN ? "true" : "false",
		h->clock == ZCS_CLOCK_TSC ? "tsc" : "monotonic", h->tsc_hz);
	fprintf(f, ",\"messages\":%" PRIu64 ",\"failed\":{", zcs_messages(s));
	for (unsigned op = 0; op < ZCS_NCALL_OPS; op++)
		fprintf(f, "%s\"%s\":%" PRIu64, op ? "," : "", zcs_op_name(op), t->failed[op]);
	fprintf(f, "},\"ffn_threads\":{");
	for (unsigned k = 0; k < ZCS_NFFN_THREADS; k++)
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "", zcs_ffn_thread_name(k),
			t->ffn_thread[k]);
	fprintf(f, "},\"hold_untracked\":%" PRIu64 ",\"baseline_unix_ns\":%" PRIu64
		   ",\"series\":[",
		t->hold_untracked, since_ns);
	struct zcs_series x;
	for (size_t it = 0, first = 1; zcs_series_next(s, &it, &x); first = 0) {
		const struct zcs_cell *c = x.cell;
		fprintf(f,
			"%s\n{\"op\":\"%s\",\"path\":\"%s\",\"size_class\":%u,"
			"\"size_lo\":%" PRIu64 ",\"size_hi\":",
			first ? "" : ",", zcs_op_name(x.op), zcs_path_name(x.path), x.size_class,
			zcs_size_lo(x.size_class));
		u64_or_null(f, zcs_size_hi(x.size_class));
		fprintf(f,
			",\"count\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"timed\":%" PRIu64
			",\"time_ns_sum\":%" PRIu64,
			c->count, c->bytes, zcs_cell_timed(c), c->time_ns_sum);
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
	     const uint64_t *since_ns)
{
	if (all)
		fprintf(f, "{\"processes\":[");
	for (size_t i = 0; i < n; i++) {
		if (all)
			fprintf(f, "%s\n", i ? "," : "");
		json_one(f, s[i], since_ns ? since_ns[i] : 0);
	}
	if (all)
		fprintf(f, "%s]}", n ? "\n" : "");
	fputc('\n', f);
	return 0;
}
