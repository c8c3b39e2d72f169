/*
 * fmt.c - how values look in zcshim-stat's text formats (table, watch,
 * recommend, compare), in one place so the views agree with each other and
 * with the README: durations with their unit, size classes as half-open
 * byte intervals, rates with SI prefixes.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "histo.h"
#include "reach_text.h"
#include "stat.h"
#include "utf8.h"

void stat_err(const char *fmt, ...)
{
	char msg[1024], line[1100] = STAT_PROG ": ";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* a path, a value or a parser's message may hold any byte: one line,
	 * valid UTF-8, nothing a terminal would obey (names in it are in their
	 * text form already, which this leaves as it is) */
	zcs_escape_line(line, sizeof line, msg, strlen(msg), 0);
	fprintf(stderr, "%s\n", line);
}

const char *fmt_ns_f(double ns, char *buf, size_t len)
{
	if (!(ns > 0))
		snprintf(buf, len, "-");
	else if (ns < 1000)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
	return buf;
}

const char *fmt_ns(uint64_t ns, char *buf, size_t len)
{
	/* the open top bucket has no upper bound: say where it starts */
	if (ns == UINT64_MAX) {
		snprintf(buf, len, ">%llus",
			 (unsigned long long)(zcs_bucket_lo(ZCS_NBUCKETS - 1) / 1000000000u));
		return buf;
	}
	if (ns < 1000) {
		if (ns == 0)
			snprintf(buf, len, "-");
		else
			snprintf(buf, len, "%" PRIu64 "ns", ns);
		return buf;
	}
	return fmt_ns_f((double)ns, buf, len);
}

const char *fmt_class(unsigned k, char *buf, size_t len)
{
	char lo[24], hi[24];
	if (k == 0)
		return snprintf(buf, len, "0"), buf;
	if (k >= ZCS_NSIZES) /* an op's overflow series: sizes not kept */
		return snprintf(buf, len, "any"), buf;
	zcs_format_size(zcs_size_lo(k), lo, sizeof lo);
	if (zcs_size_hi(k) == UINT64_MAX)
		hi[0] = '\0';
	else
		zcs_format_size(zcs_size_hi(k) + 1, hi, sizeof hi);
	snprintf(buf, len, "[%s,%s)", lo, hi);
	return buf;
}

const char *fmt_libzmq(uint32_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u", v / 10000, v / 100 % 100, v % 100);
	return buf;
}

const char *fmt_si(double v, char *buf, size_t len)
{
	if (v < 1e3)
		snprintf(buf, len, "%.0f", v);
	else if (v < 1e6)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else if (v < 1e9)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else
		snprintf(buf, len, "%.2fG", v / 1e9);
	return buf;
}

const char *socket_type(const struct zcs_snapshot *s, unsigned slot)
{
	if (slot == ZCS_SLOT_OTHER || slot >= ZCS_NSLOTS)
		return "other";
	const struct zcs_socket *row = &s->shared.sockets[slot];
	/* a row not written yet has type 0, which is PAIR: do not say so */
	return row->state == ZCS_SOCK_FREE ? "?" : zcs_socket_type_name(row->type);
}

void print_socket(FILE *f, const struct zcs_snapshot *s, unsigned slot)
{
	if (slot == ZCS_SLOT_OTHER || slot >= ZCS_NSLOTS) {
		fprintf(f,
			"other (sockets beyond the table of %u: %" PRIu64 "; calls on no socket)",
			ZCS_NSOCKETS, zcs_sockets_beyond(s));
		return;
	}
	const struct zcs_socket *row = &s->shared.sockets[slot];
	fprintf(f, "socket %u %s", slot, socket_type(s, slot));
	if (row->endpoints[0] || zcs_endpoints_cut(row)) {
		putc(' ', f);
		esc_table_endpoints(f, row);
	}
	fprintf(f, " (%s)", zcs_sock_state_name(row));
}

const char *fmt_sample(uint32_t sample_every, char *buf, size_t len)
{
	if (sample_every)
		snprintf(buf, len, "1/%u", sample_every);
	else
		snprintf(buf, len, "auto");
	return buf;
}

const char *fmt_unix_ns(uint64_t unix_ns, char *buf, size_t len)
{
	if (!unix_ns)
		return snprintf(buf, len, "-"), buf;
	time_t t = (time_t)(unix_ns / 1000000000u);
	struct tm tm;
	char when[40];
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	snprintf(buf, len, "%s.%03u", when, (unsigned)(unix_ns / 1000000u % 1000u));
	return buf;
}

void print_no_calls(FILE *f, const struct zcs_snapshot *s)
{
	char name[ESC_NAME_MAX], why[600];
	fprintf(f, "pid %d (%s): %s, no libzmq calls seen: %s: nothing to show\n", s->hdr.pid,
		esc_name(s->hdr.exe, name, sizeof name), zcs_live_name(s->live),
		zcs_reach_why_text(s, why, sizeof why));
}

void print_reach(FILE *f, const struct zcs_snapshot *s)
{
	const struct zcs_header *h = &s->hdr;
	char ways[300];
	int app = zcs_reach_app_calls(s);
	if (!app && !h->reach_lost)
		return; /* the table says why there is nothing */
	fprintf(f, "reach:");
	if (app)
		fprintf(f, " libzmq %s %s; calls came by %s",
			h->reach_ways & ZCS_WAY_BUILTIN ? "built into" : "in",
			h->reach_libzmq[0] ? h->reach_libzmq : "?",
			zcs_reach_ways_text(s, ways, sizeof ways));
	if (h->reach_lost)
		fprintf(f, "%s %u RTLD_DEEPBIND dlopen%s not redirected (%s)", app ? ";" : "",
			h->reach_lost, h->reach_lost == 1 ? "" : "s",
			h->reach_object[0] ? h->reach_object : "?");
	fputc('\n', f);
}
