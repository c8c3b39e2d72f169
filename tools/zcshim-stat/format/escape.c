/*
 * format/escape.c - the one place where names and endpoints become text,
 * per format, so every byte zcshim-stat prints is valid UTF-8 and every
 * format can be parsed back whatever the app's bytes were.
 *
 * A program name or an endpoint is bytes (a file name, an ipc path): it may
 * hold spaces, quotes, newlines, escape sequences or invalid UTF-8. Each
 * is written in its text form (shim/utf8.h, with ZCS_ESC_DECODABLE):
 * printable UTF-8 characters as themselves, every other byte as \xNN, a
 * backslash before "x" as \x5c; replacing every \xNN with byte NN gives the
 * bytes back (esc_decode). Then the format's own quoting goes on top:
 * JSON's \" and \\, Prometheus's label escaping, RFC 4180 for CSV. A list
 * of endpoints is one word per endpoint, a space between them, so a space
 * inside one is \x20 (CSV, Prometheus) or quoted (table); JSON has arrays.
 * docs/formats.md says the same for users. Views that come later print
 * names through these and nothing else.
 */
#include <string.h>

#include "stat.h"
#include "utf8.h"

enum quoting { Q_NONE, Q_BACKSLASH, Q_CSV };

/* The text form of s, each unit quoted as the format requires. */
static void text(FILE *f, const char *s, size_t len, unsigned flags, enum quoting q)
{
	flags |= ZCS_ESC_DECODABLE;
	for (size_t i = 0; i < len;) {
		char unit[4];
		size_t out;
		i += zcs_text_unit(s + i, len - i, flags, unit, &out);
		for (size_t k = 0; k < out; k++) {
			if (q == Q_BACKSLASH && (unit[k] == '"' || unit[k] == '\\'))
				putc('\\', f);
			else if (q == Q_CSV && unit[k] == '"')
				putc('"', f);
			putc(unit[k], f);
		}
	}
}

/* ---- table, watch, recommend, compare: the text form as it is ---- */

void esc_table(FILE *f, const char *s)
{
	text(f, s, strlen(s), 0, Q_NONE);
}

const char *esc_name(const char *s, char *buf, size_t len)
{
	if (len) {
		buf[0] = '\0';
		zcs_escape_line(buf, len, s, strlen(s), ZCS_ESC_DECODABLE);
	}
	return buf;
}

void esc_table_endpoints(FILE *f, const struct zcs_socket *row)
{
	size_t at = 0;
	const char *sep = "";
	for (const char *ep; (ep = zcs_endpoint_next(row, &at, NULL)); sep = " ") {
		/* quotes inside are \x22, so a quoted endpoint ends at the next one */
		const char *q = strchr(ep, ' ') ? "\"" : "";
		fprintf(f, "%s%s", sep, q);
		text(f, ep, strlen(ep), ZCS_ESC_QUOTE, Q_NONE);
		fputs(q, f);
	}
	if (zcs_endpoints_cut(row))
		fprintf(f, "%s...", sep);
}

/* ---- JSON ---- */

/* Only " and \ need escaping in what is left: the text form has no
 * control characters and is valid UTF-8 (RFC 8259, section 7). */
void fmt_json_str(FILE *f, const char *s)
{
	putc('"', f);
	text(f, s, strlen(s), 0, Q_BACKSLASH);
	putc('"', f);
}

void esc_json_endpoints(FILE *f, const struct zcs_socket *row)
{
	size_t at = 0;
	const char *sep = "";
	fputs("\"endpoints\":[", f);
	for (const char *ep; (ep = zcs_endpoint_next(row, &at, NULL)); sep = ",") {
		fputs(sep, f);
		fmt_json_str(f, ep);
	}
	fprintf(f, "],\"endpoints_cut\":%s", zcs_endpoints_cut(row) ? "true" : "false");
}

/* ---- CSV (RFC 4180): quoted when a field holds a comma or a quote; the
 * text form has no line breaks ---- */

void esc_csv(FILE *f, const char *s)
{
	int quote = strpbrk(s, ",\"") != NULL;
	if (quote)
		putc('"', f);
	text(f, s, strlen(s), 0, quote ? Q_CSV : Q_NONE);
	if (quote)
		putc('"', f);
}

void esc_csv_endpoints(FILE *f, const struct zcs_socket *row)
{
	size_t at = 0;
	int quote = 0;
	for (const char *ep; (ep = zcs_endpoint_next(row, &at, NULL));)
		quote |= strpbrk(ep, ",\"") != NULL;
	if (quote)
		putc('"', f);
	at = 0;
	for (const char *ep, *sep = ""; (ep = zcs_endpoint_next(row, &at, NULL)); sep = " ") {
		fputs(sep, f);
		text(f, ep, strlen(ep), ZCS_ESC_SPACE, quote ? Q_CSV : Q_NONE);
	}
	if (quote)
		putc('"', f);
}

/* ---- Prometheus label values: \\, \" and \n are the only escapes the
 * text format has, and the text form leaves no line feed to escape ---- */

void esc_prom(FILE *f, const char *s)
{
	text(f, s, strlen(s), 0, Q_BACKSLASH);
}

void esc_prom_endpoints(FILE *f, const struct zcs_socket *row)
{
	size_t at = 0;
	for (const char *ep, *sep = ""; (ep = zcs_endpoint_next(row, &at, NULL)); sep = " ") {
		fputs(sep, f);
		text(f, ep, strlen(ep), ZCS_ESC_SPACE, Q_BACKSLASH);
	}
}

/* ---- back to bytes ---- */

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

size_t esc_decode(char *s, size_t len)
{
	size_t out = 0;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' && (hi = hex_digit(s[i + 2])) >= 0 &&
		    (lo = hex_digit(s[i + 3])) >= 0) {
			s[out++] = (char)(hi << 4 | lo);
			i += 3;
		} else {
			s[out++] = s[i];
		}
	}
	return out;
}
