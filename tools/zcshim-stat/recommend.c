/*
 * recommend.c - --recommend: which threshold the app's own histograms argue
 * for.
 *
 * Per size class, the cost of a message on each path, as the interquartile
 * mean of its timed calls (the mean of the middle half, from the buckets):
 * a send that blocked on the high-water mark, or a thread that was
 * preempted, says nothing about the path, and one such call in a thousand
 * would move a plain mean more than the path does.
 *   zero-copy: zmq_msg_send/zmq_sendmsg on the zerocopy path, plus
 *              zmq_msg_init_data, which the app calls only to go zero-copy;
 *   copy:      zmq_send/zmq_msg_send/zmq_sendmsg on the copy path (libzmq
 *              copied) or the converted path (the shim copied), which
 *              includes the ffn the conversion runs inside the send.
 * A path needs REC_MIN_SAMPLES timed calls in a class to count; with fewer
 * the class says "not enough data".
 *
 * An app rarely sends one size both ways, so, as UCX does for its zero-copy
 * thresholds, each path's cost is modelled as a fixed per-message cost plus a
 * per-byte cost, fitted by least squares over the size classes it has data
 * for (x: the class's mean message size, y: its cost). Sizes span six
 * decades, so plain least squares would let the largest class set the
 * fixed cost too; residuals are weighed relative to the cost (weights
 * 1/y^2), so every class counts alike. Where the two
 * lines cross is where zero-copy starts to pay: the suggested
 * ZCSHIM_THRESHOLD, rounded to whole k or M. Without two classes on each
 * path, classes measured on both paths decide alone; without those either,
 * there is no suggestion.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "config.h"
#include "histo.h"
#include "stat.h"

int rec_fit(const double *x, const double *y, size_t n, struct rec_line *out)
{
	memset(out, 0, sizeof *out);
	if (n < 2)
		return -1;
	/* weights 1/y^2: minimise relative, not absolute, residuals */
	double w_sum = 0, mx = 0, my = 0;
	for (size_t i = 0; i < n; i++) {
		double w = y[i] > 0 ? 1 / (y[i] * y[i]) : 1;
		w_sum += w;
		mx += w * x[i];
		my += w * y[i];
	}
	mx /= w_sum;
	my /= w_sum;
	double sxx = 0, sxy = 0;
	for (size_t i = 0; i < n; i++) {
		double w = y[i] > 0 ? 1 / (y[i] * y[i]) : 1;
		sxx += w * (x[i] - mx) * (x[i] - mx);
		sxy += w * (x[i] - mx) * (y[i] - my);
	}
	if (!(sxx > 0))
		return -1;
	out->per_byte_ns = sxy / sxx;
	out->fixed_ns = my - out->per_byte_ns * mx;
	out->points = n;
	return 0;
}

/* Round a byte count the way ZCSHIM_THRESHOLD is usually written. */
static uint64_t round_size(double bytes)
{
	if (bytes < 1)
		return 1;
	if (bytes >= 1024.0 * 1024 * 1024 * 1024)
		return UINT64_MAX;
	double unit = bytes >= 1024 * 1024 ? 1024 * 1024 : bytes >= 1024 ? 1024 : 1;
	return (uint64_t)llround(bytes / unit) * (uint64_t)unit;
}

/* The cost of a path: the interquartile mean of its timed calls. */
#define COST_LO_Q 0.25
#define COST_HI_Q 0.75

static double cost_ns(const struct zcs_cell *c)
{
	return zcs_cell_mid_mean_ns(c, COST_LO_Q, COST_HI_Q);
}

/* From the classes measured on both paths: the lowest class from which
 * zero-copy wins in every class measured above it. */
static void decide_by_classes(struct rec_result *r)
{
	int any = 0, first_zc = -1;
	for (size_t i = 0; i < r->ncls; i++) {
		const struct rec_class *c = &r->cls[i];
		if (!c->zc_ok || !c->cp_ok)
			continue;
		any = 1;
		if (c->zc_ns < c->cp_ns) {
			if (first_zc < 0)
				first_zc = (int)i;
		} else {
			first_zc = -1; /* copy wins above an earlier zero-copy win */
		}
	}
	if (!any)
		return;
	if (first_zc < 0) {
		r->verdict = REC_ALWAYS_COPY;
		r->threshold_bytes = UINT64_MAX;
		return;
	}
	uint64_t lo = zcs_size_lo(r->cls[first_zc].size_class);
	int first_measured = 1;
	for (int i = 0; i < first_zc; i++)
		first_measured &= !(r->cls[i].zc_ok && r->cls[i].cp_ok);
	r->verdict = first_measured ? REC_ALWAYS_ZC : REC_CROSSOVER;
	r->threshold_bytes = first_measured ? 0 : lo;
	r->crossover_bytes = (double)lo;
}

void rec_compute(const struct zcs_snapshot *s, struct rec_result *r)
{
	/* merged per size class: static, as a zcs_cell is 1.2 kB */
	static struct zcs_cell zc_send[ZCS_NSIZES], zc_init[ZCS_NSIZES], cp[ZCS_NSIZES];
	memset(r, 0, sizeof *r);
	memset(zc_send, 0, sizeof zc_send);
	memset(zc_init, 0, sizeof zc_init);
	memset(cp, 0, sizeof cp);
	struct zcs_series x;
	for (size_t it = 0; zcs_series_next(s, &it, &x);) {
		unsigned k = x.size_class;
		if (k >= ZCS_NSIZES)
			continue;
		int msg_op = x.op == ZCS_OP_MSG_SEND || x.op == ZCS_OP_SENDMSG;
		if (msg_op && x.path == ZCS_PATH_ZEROCOPY)
			zcs_cell_add(&zc_send[k], x.cell);
		else if (x.op == ZCS_OP_INIT_DATA && x.path == ZCS_PATH_ZEROCOPY)
			zcs_cell_add(&zc_init[k], x.cell);
		else if ((msg_op || x.op == ZCS_OP_SEND) &&
			 (x.path == ZCS_PATH_COPY || x.path == ZCS_PATH_CONVERTED))
			zcs_cell_add(&cp[k], x.cell);
	}
	double zx[ZCS_NSIZES], zy[ZCS_NSIZES], cx[ZCS_NSIZES], cy[ZCS_NSIZES];
	size_t nz = 0, nc = 0;
	for (unsigned k = 0; k < ZCS_NSIZES; k++) {
		if (!zc_send[k].count && !cp[k].count)
			continue;
		struct rec_class *c = &r->cls[r->ncls++];
		c->size_class = k;
		if (zc_send[k].count) {
			c->zc_bytes = (double)zc_send[k].bytes / (double)zc_send[k].count;
			c->zc_ns = cost_ns(&zc_send[k]) + cost_ns(&zc_init[k]);
			/* both calls must have been timed for their sum to mean anything */
			uint64_t sends = zcs_cell_timed(&zc_send[k]), inits = zcs_cell_timed(&zc_init[k]);
			c->zc_samples = sends < inits ? sends : inits;
			c->zc_ok = c->zc_samples >= REC_MIN_SAMPLES;
		}
		if (cp[k].count) {
			c->cp_bytes = (double)cp[k].bytes / (double)cp[k].count;
			c->cp_ns = cost_ns(&cp[k]);
			c->cp_samples = zcs_cell_timed(&cp[k]);
			c->cp_ok = c->cp_samples >= REC_MIN_SAMPLES;
		}
		if (c->zc_ok)
			zx[nz] = c->zc_bytes, zy[nz++] = c->zc_ns;
		if (c->cp_ok)
			cx[nc] = c->cp_bytes, cy[nc++] = c->cp_ns;
	}
	int zc_fit = rec_fit(zx, zy, nz, &r->zc) == 0;
	int cp_fit = rec_fit(cx, cy, nc, &r->cp) == 0;
	if (!zc_fit || !cp_fit) {
		decide_by_classes(r);
		return;
	}
	r->from_fit = 1;
	/* zc.fixed + zc.per_byte * s = cp.fixed + cp.per_byte * s */
	double dfixed = r->zc.fixed_ns - r->cp.fixed_ns;
	double dbyte = r->cp.per_byte_ns - r->zc.per_byte_ns;
	if (dbyte > 0 && dfixed > 0) {
		r->verdict = REC_CROSSOVER;
		r->crossover_bytes = dfixed / dbyte;
		r->threshold_bytes = round_size(r->crossover_bytes);
	} else if (dfixed <= 0 && dbyte >= 0) {
		r->verdict = REC_ALWAYS_ZC; /* cheaper fixed cost and per byte */
		r->threshold_bytes = 0;
	} else if (dfixed >= 0 && dbyte <= 0) {
		r->verdict = REC_ALWAYS_COPY;
		r->threshold_bytes = UINT64_MAX;
	} else {
		/* zero-copy cheaper when small, copy when large: not the usual
		 * shape, and no threshold setting expresses it */
		r->verdict = REC_ALWAYS_ZC;
		r->crossover_bytes = dfixed / dbyte;
		r->threshold_bytes = 0;
	}
}

/* "1.2us     1000": a path's mean cost and its samples; "-  0" if none */
static const char *path_cost(const struct rec_class *c, int zc, char *buf, size_t len)
{
	uint64_t n = zc ? c->zc_samples : c->cp_samples;
	char t[24];
	snprintf(buf, len, "%9s %8" PRIu64, n ? fmt_ns_f(zc ? c->zc_ns : c->cp_ns, t, sizeof t) : "-",
		 n);
	return buf;
}

int recommend_run(FILE *f, const char *key)
{
	struct zcs_snapshot *s = zcs_snapshot_new();
	if (!s) {
		stat_err("out of memory");
		return 1;
	}
	if (load_snapshot(key, s, 0, NULL) != 0) {
		zcs_snapshot_free(s);
		return 1;
	}
	if (!zcs_calls_seen(s)) {
		print_no_calls(f, s);
		zcs_snapshot_free(s);
		return 0;
	}
	static struct rec_result r;
	rec_compute(s, &r);
	const struct zcs_header *h = &s->hdr;
	char thr[24], a[48], b[48], cls[40], t1[24], smp[24], name[ESC_NAME_MAX];
	zcs_format_size(h->threshold_bytes, thr, sizeof thr);
	fprintf(f, "pid %d (%s): %s, mode %s, threshold %s, timing %s\n", h->pid,
		esc_name(h->exe, name, sizeof name), zcs_live_name(s->live), zcs_mode_name(h->mode),
		thr, fmt_sample(h->sample_every, smp, sizeof smp));
	fprintf(f, "cost per message (interquartile mean of timed calls); zero-copy = "
		   "msg_send/sendmsg zerocopy + init_data, copy = send/msg_send/sendmsg copy "
		   "or converted\n");
	fprintf(f, "%-11s %10s %9s %8s %9s %8s  %s\n", "size", "mean B", "zero-copy", "samples",
		"copy", "samples", "cheaper");
	for (size_t i = 0; i < r.ncls; i++) {
		const struct rec_class *c = &r.cls[i];
		char verdict[64];
		double bytes = c->zc_bytes > 0 ? c->zc_bytes : c->cp_bytes;
		if (!c->zc_ok || !c->cp_ok)
			snprintf(verdict, sizeof verdict, "not enough data (%s)",
				 !c->zc_ok && !c->cp_ok ? "both paths"
				 : !c->zc_ok		? "zero-copy"
							: "copy");
		else if (c->zc_ns < c->cp_ns)
			snprintf(verdict, sizeof verdict, "zero-copy (copy %.2fx)",
				 c->cp_ns / c->zc_ns);
		else
			snprintf(verdict, sizeof verdict, "copy (zero-copy %.2fx)",
				 c->zc_ns / c->cp_ns);
		fprintf(f, "%-11s %10.0f %s %s  %s\n", fmt_class(c->size_class, cls, sizeof cls),
			bytes, path_cost(c, 1, a, sizeof a), path_cost(c, 0, b, sizeof b), verdict);
	}
	if (!r.ncls)
		fprintf(f, "(no sends recorded)\n");
	fprintf(f, "fit, cost = fixed + per byte x size (least squares, relative residuals, "
		   "classes with >= %d samples):\n", REC_MIN_SAMPLES);
	const struct rec_line *lines[2] = { &r.zc, &r.cp };
	for (int i = 0; i < 2; i++) {
		if (lines[i]->points >= 2)
			fprintf(f, "  %-9s %9s + %.4f ns/B  (%zu classes)\n", i ? "copy:" : "zero-copy:",
				fmt_ns_f(lines[i]->fixed_ns, t1, sizeof t1), lines[i]->per_byte_ns,
				lines[i]->points);
		else
			fprintf(f, "  %-9s not enough data (needs 2 size classes)\n",
				i ? "copy:" : "zero-copy:");
	}
	char sug[24];
	zcs_format_size(r.threshold_bytes, sug, sizeof sug);
	switch (r.verdict) {
	case REC_NO_DATA:
		fprintf(f, "suggestion: not enough data to suggest a threshold; run the app with "
			   "ZCSHIM_MODE=profile on traffic with both copies and zero-copy sends at "
			   "several sizes\n");
		break;
	case REC_CROSSOVER:
		if (r.from_fit)
			fprintf(f, "crossover: %.0f B: copies are cheaper below, zero-copy above\n",
				r.crossover_bytes);
		else
			fprintf(f, "crossover: zero-copy is cheaper from %s up (measured classes)\n",
				sug);
		fprintf(f, "suggestion: ZCSHIM_THRESHOLD=%s (now %s)\n", sug, thr);
		break;
	case REC_ALWAYS_ZC:
		fprintf(f, "zero-copy is cheaper at every size%s\n",
			r.from_fit ? " (by the fit)" : " measured");
		fprintf(f, "suggestion: ZCSHIM_THRESHOLD=0 (convert nothing; now %s)\n", thr);
		break;
	case REC_ALWAYS_COPY:
		fprintf(f, "copies are cheaper at every size%s\n",
			r.from_fit ? " (by the fit)" : " measured");
		fprintf(f, "suggestion: ZCSHIM_THRESHOLD=max (convert every zero-copy send; now "
			   "%s)\n", thr);
		break;
	}
	/* convert mode sent the small ones as copies: their zero-copy cost is a
	 * guess from the larger classes, and the suggestion with it */
	if (h->mode == ZCS_MODE_CONVERT && r.verdict != REC_NO_DATA)
		fprintf(f, "note: this run converted zero-copy sends below %s, so their zero-copy "
			   "cost was not measured; run the app in profile mode (the default) for a "
			   "suggestion from both paths\n",
			thr);
	zcs_snapshot_free(s);
	return 0;
}
