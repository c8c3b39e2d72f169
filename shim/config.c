/*
 * config.c - parse ZCSHIM_* settings without ever failing the host.
 *
 * After mutrace: strtoull with an end pointer, errno and overflow checks;
 * anything odd keeps the default and produces one line of explanation, which
 * the caller prints once. No atoi, no abort, no stdio.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "zcshim_segment.h"

int zcs_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9') /* rejects "", "-1", "+1", " 1" */
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int zcs_parse_size(const char *s, uint64_t *out)
{
	if (!s)
		return -1;
	if (strcmp(s, "max") == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	default: return -1;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int zcs_parse_mode(const char *s, unsigned *out)
{
	static const struct { const char *name; unsigned mode; } modes[] = {
		{ "convert", ZCS_MODE_CONVERT },
		{ "profile", ZCS_MODE_PROFILE },
		{ "off", ZCS_MODE_OFF },
	};
	for (size_t i = 0; s && i < sizeof modes / sizeof modes[0]; i++) {
		if (strcmp(s, modes[i].name) == 0) {
			*out = modes[i].mode;
			return 0;
		}
	}
	return -1;
}

void zcs_format_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes == UINT64_MAX)
		snprintf(buf, len, "max");
	else if (bytes && bytes % (1u << 30) == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(bytes >> 30));
	else if (bytes && bytes % (1u << 20) == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(bytes >> 20));
	else if (bytes && bytes % (1u << 10) == 0)
		snprintf(buf, len, "%lluk", (unsigned long long)(bytes >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
}

/* Append "NAME='value' is not WHAT; using DEFAULT" to the warning line,
 * whole or not at all. The value is the user's bytes: its first 40 are
 * shown, cut on a character boundary, with control bytes and invalid UTF-8
 * as \xNN, so a newline or an escape sequence in it can neither start a
 * second line nor reach the terminal. */
static void complain(char *warn, size_t warn_len, const char *name,
		     const char *value, const char *what, const char *dflt)
{
	char shown[4 * 40 + 1] = "", line[320];
	size_t len = strlen(value), keep = zcs_utf8_cut(value, len, 40);
	zcs_escape_line(shown, sizeof shown, value, keep, 0);
	int n = snprintf(line, sizeof line, "%s='%s%s' is not %s; using %s", name, shown,
			 keep < len ? "..." : "", what, dflt);
	size_t used = strlen(warn);
	if (n < 0 || used + (used ? 2 : 0) + (size_t)n >= warn_len)
		return;
	snprintf(warn + used, warn_len - used, "%s%s", used ? "; " : "", line);
}

/* The mode rule (issue 15): a shim loaded only to look must not change what
 * the app does, so with neither ZCSHIM_MODE nor ZCSHIM_THRESHOLD it only
 * profiles; asking for a threshold asks for conversion at it;
 * ZCSHIM_MODE=convert alone converts at 64k; ZCSHIM_MODE, when given and
 * valid, always decides. A bad ZCSHIM_THRESHOLD counts as not given: with
 * no mode it falls back to profile, which changes nothing in the app. The
 * threshold kept (and recorded in the segment) is the one given, else 64k,
 * the one convert would use. */
void zcs_config_load(struct zcs_config *cfg, const char *(*get)(const char *),
		     char *warn, size_t warn_len)
{
	cfg->mode = ZCS_MODE_PROFILE;
	cfg->threshold_bytes = ZCS_DEFAULT_THRESHOLD;
	cfg->sample_every = ZCS_DEFAULT_SAMPLE;
	cfg->keep = 1;
	if (warn_len)
		warn[0] = '\0';

	const char *v, *bad_mode = NULL, *bad_threshold = NULL;
	uint64_t n;
	unsigned mode;
	int mode_given = 0, threshold_given = 0;

	if ((v = get("ZCSHIM_MODE")) && *v) {
		if (zcs_parse_mode(v, &mode) == 0) {
			cfg->mode = mode;
			mode_given = 1;
		} else {
			bad_mode = v;
		}
	}
	if ((v = get("ZCSHIM_THRESHOLD")) && *v) {
		if (zcs_parse_size(v, &n) == 0) {
			cfg->threshold_bytes = n;
			threshold_given = 1;
		} else {
			bad_threshold = v;
		}
	}
	if (!mode_given)
		cfg->mode = threshold_given ? ZCS_MODE_CONVERT : ZCS_MODE_PROFILE;
	if (bad_mode)
		complain(warn, warn_len, "ZCSHIM_MODE", bad_mode, "convert, profile or off",
			 cfg->mode == ZCS_MODE_CONVERT ? "convert" : "profile");
	if (bad_threshold)
		complain(warn, warn_len, "ZCSHIM_THRESHOLD", bad_threshold,
			 "a size (e.g. 4096, 64k, 1M, max)",
			 mode_given ? "64k" : "profile mode, converting nothing");
	if ((v = get("ZCSHIM_SAMPLE")) && *v) {
		if (strcmp(v, "auto") == 0)
			cfg->sample_every = 0;
		else if (zcs_parse_uint(v, 1, ZCS_MAX_SAMPLE, &n) == 0)
			cfg->sample_every = (uint32_t)n;
		else
			complain(warn, warn_len, "ZCSHIM_SAMPLE", v,
				 "auto or a whole number from 1 to 1000000", "auto");
	}
	if ((v = get("ZCSHIM_KEEP")) && *v) {
		if (zcs_parse_uint(v, 0, 1, &n) == 0)
			cfg->keep = (int)n;
		else
			complain(warn, warn_len, "ZCSHIM_KEEP", v, "0 or 1", "1");
	}
}
