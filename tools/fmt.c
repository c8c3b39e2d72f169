/*
 * fmt.c - how values look in zcshim-stat's text formats (table, watch,
 * recommend, compare), in one place so the views agree with each other and
 * with the README: durations with their unit, size classes as half-open
 * byte intervals, rates with SI prefixes.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "config.h"
#include "histo.h"
#include "stat.h"

void stat_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(STAT_PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
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

void fmt_json_str(FILE *f, const char *s)
{
	putc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			putc(ch, f);
	}
	putc('"', f);
}

int is_send_op(unsigned op)
{
	return op == ZCS_OP_SEND || op == ZCS_OP_MSG_SEND || op == ZCS_OP_SENDMSG ||
	       op == ZCS_OP_SEND_CONST;
}
