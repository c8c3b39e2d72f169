/*
 * watch.c - --watch: what a running app sends now, refreshed every interval.
 *
 * Each interval the segment is read again and the previous reading
 * subtracted (zcs_snapshot_sub), so every number is of that interval only:
 * per size class, messages and bytes per second over the four send calls,
 * the share of zero-copy sends that were converted, and the p50/p99 of the
 * interval's own bucket counts. On a terminal each screen replaces the last
 * (plain ANSI: home, clear); into a pipe or file each interval is appended
 * as a block. Ends with status 0 on SIGINT/SIGTERM, or after one last block
 * when the process exits (exited, dead, replaced by an exec).
 *
 * The segment is resolved once, by path: a newer process of the same name
 * is not followed, and a recycled pid cannot be mistaken for this one.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "stat.h"
#include "ticker.h"

struct class_row {
	struct zcs_cell sends;       /* the four send ops, all paths, merged */
	uint64_t zerocopy, converted;/* send calls on those two paths */
};

static void render(FILE *f, const struct zcs_snapshot *delta, const struct zcs_snapshot *now,
		   double interval_s, int tty)
{
	static struct class_row rows[ZCS_NSIZES];
	memset(rows, 0, sizeof rows);
	uint64_t failed = 0;
	struct zcs_series x;
	for (size_t it = 0; zcs_series_next(delta, &it, &x);) {
		if (!zcs_op_sends(x.op) || x.size_class >= ZCS_NSIZES)
			continue;
		struct class_row *r = &rows[x.size_class];
		zcs_cell_add(&r->sends, x.cell);
		if (x.path == ZCS_PATH_ZEROCOPY)
			r->zerocopy += x.cell->count;
		else if (x.path == ZCS_PATH_CONVERTED)
			r->converted += x.cell->count;
	}
	for (unsigned op = 0; op < ZCS_NCALL_OPS; op++)
		failed += zcs_failed_op(delta, op);

	const struct zcs_header *h = &now->hdr;
	char thr[24], when[16], cls[40], m[24], b[24], p50[24], p99[24], conv[16];
	time_t t = time(NULL);
	strftime(when, sizeof when, "%H:%M:%S", localtime(&t));
	zcs_format_size(h->threshold_bytes, thr, sizeof thr);
	if (tty)
		fputs("\033[H\033[2J", f);
	char name[ESC_NAME_MAX];
	fprintf(f, "pid %d (%s): %s, mode %s, threshold %s    %s, last %.1fs\n", h->pid,
		esc_name(h->exe, name, sizeof name),
		zcs_live_name(now->live), zcs_mode_name(h->mode), thr, when, interval_s);
	fprintf(f, "%-11s %10s %11s %6s %8s %8s %14s\n", "size", "msgs/s", "bytes/s", "conv%",
		"p50", "p99", "total msgs");
	struct class_row all;
	memset(&all, 0, sizeof all);
	int any = 0;
	/* totals since the start, per class, to put the interval in proportion */
	uint64_t total[ZCS_NSIZES] = { 0 };
	for (size_t it = 0; zcs_series_next(now, &it, &x);)
		if (zcs_op_sends(x.op) && x.size_class < ZCS_NSIZES)
			total[x.size_class] += x.cell->count;
	uint64_t total_all = 0;
	for (unsigned k = 0; k < ZCS_NSIZES; k++)
		total_all += total[k];
	for (unsigned k = 0; k <= ZCS_NSIZES; k++) {
		const struct class_row *r = k < ZCS_NSIZES ? &rows[k] : &all;
		if (k == ZCS_NSIZES && any < 2)
			break; /* "all" repeats a single row: skip it */
		if (k < ZCS_NSIZES) {
			if (!r->sends.count)
				continue;
			any++;
			zcs_cell_add(&all.sends, &r->sends);
			all.zerocopy += r->zerocopy;
			all.converted += r->converted;
		}
		uint64_t zc_eligible = r->zerocopy + r->converted;
		if (zc_eligible)
			snprintf(conv, sizeof conv, "%.0f%%",
				 100.0 * (double)r->converted / (double)zc_eligible);
		else
			snprintf(conv, sizeof conv, "-");
		fprintf(f, "%-11s %10s %8sB/s %6s %8s %8s %14" PRIu64 "\n",
			k < ZCS_NSIZES ? fmt_class(k, cls, sizeof cls) : "all",
			fmt_si((double)r->sends.count / interval_s, m, sizeof m),
			fmt_si((double)r->sends.bytes / interval_s, b, sizeof b), conv,
			fmt_ns(zcs_cell_quantile_ns(&r->sends, 0.50), p50, sizeof p50),
			fmt_ns(zcs_cell_quantile_ns(&r->sends, 0.99), p99, sizeof p99),
			k < ZCS_NSIZES ? total[k] : total_all);
	}
	if (!any)
		fprintf(f, "(no sends in the last %.1fs; %" PRIu64 " since the start)\n", interval_s,
			total_all);
	fprintf(f, "failed calls in the last %.1fs: %" PRIu64 "\n", interval_s, failed);
	if (!tty)
		fputc('\n', f);
	fflush(f);
}

int watch_run(const char *key, double interval_s)
{
	struct zcs_snapshot *prev = zcs_snapshot_new(), *cur = zcs_snapshot_new(),
			    *delta = zcs_snapshot_new();
	int rc = 1, tty = isatty(STDOUT_FILENO);
	char err[600], path[PATH_MAX], name[ESC_NAME_MAX], why[4 * sizeof err];
	if (!prev || !cur || !delta) {
		stat_err("out of memory");
		goto out;
	}
	if (load_snapshot(key, prev, 1, NULL) != 0)
		goto out;
	snprintf(path, sizeof path, "%s", prev->path);
	if (prev->live != ZCS_LIVE_RUNNING && prev->live != ZCS_LIVE_STARTING) {
		printf("pid %d (%s) is %s: nothing to watch (zcshim-stat %d shows its totals)\n",
		       prev->hdr.pid, esc_name(prev->hdr.exe, name, sizeof name),
		       zcs_live_name(prev->live), prev->hdr.pid);
		rc = 0;
		goto out;
	}
	ticker_catch_signals();
	if (tty)
		printf("\033[H\033[2Jpid %d (%s): watching every %.1fs; Ctrl-C to stop\n",
		       prev->hdr.pid, esc_name(prev->hdr.exe, name, sizeof name), interval_s);
	fflush(stdout);
	double last = ticker_now_s(), next = last + interval_s;
	for (;;) {
		if (!ticker_sleep_until(next))
			break;
		double t = ticker_now_s();
		next += interval_s;
		if (next < t) /* suspended or slow: do not try to catch up */
			next = t + interval_s;
		if (zcs_read(path, cur, err, sizeof err) != 0) {
			/* ZCSHIM_KEEP=0 removes the segment at exit */
			printf("pid %d (%s): its segment is gone (%s): the process exited\n",
			       prev->hdr.pid, esc_name(prev->hdr.exe, name, sizeof name),
			       esc_name(err, why, sizeof why));
			break;
		}
		zcs_snapshot_sub(delta, cur, prev);
		render(stdout, delta, cur, t - last, tty);
		if (cur->live != ZCS_LIVE_RUNNING && cur->live != ZCS_LIVE_STARTING) {
			printf("pid %d (%s) is %s: watch ends\n", cur->hdr.pid,
			       esc_name(cur->hdr.exe, name, sizeof name),
			       zcs_live_name(cur->live));
			break;
		}
		struct zcs_snapshot *swap = prev;
		prev = cur;
		cur = swap;
		last = t;
	}
	rc = 0;
out:
	if (fflush(stdout) != 0)
		rc = 1;
	zcs_snapshot_free(prev);
	zcs_snapshot_free(cur);
	zcs_snapshot_free(delta);
	return rc;
}
