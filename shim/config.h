/*
 * config.h - the shim's settings, read once from ZCSHIM_* environment variables.
 */
#ifndef ZCSHIM_CONFIG_H
#define ZCSHIM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define ZCS_DEFAULT_THRESHOLD (64u * 1024u) /* pyzmq 17's COPY_THRESHOLD */
#define ZCS_DEFAULT_SAMPLE    0u  /* auto: as many calls as ~1 % of the time allows */
#define ZCS_MAX_SAMPLE        1000000u

struct zcs_config {
	unsigned mode;            /* enum zcs_mode; see zcs_config_load for the rule */
	uint64_t threshold_bytes; /* convert zero-copy sends strictly below this */
	uint32_t sample_every;    /* time 1 call in N; 0: adaptive (sample.c) */
	int keep;                 /* keep the segment after exit */
};

/* "4096", "64k", "64K", "1M", "max": 0 and *out set, or -1 for anything else
 * (empty, sign, garbage, trailing characters, overflow). */
int zcs_parse_size(const char *s, uint64_t *out);

/* "convert" | "profile" | "off" */
int zcs_parse_mode(const char *s, unsigned *out);

/* Decimal in [lo, hi]. */
int zcs_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* Fill cfg from getenv(name) through `get` (getenv in the shim, a stub in
 * tests). Unset or empty variables take the default silently; bad ones take
 * the default and are described in `warn` as one line (empty if none).
 * The mode: ZCSHIM_MODE when given; else convert when ZCSHIM_THRESHOLD is
 * given (and valid); else profile. The threshold: as given, else 64k. */
void zcs_config_load(struct zcs_config *cfg, const char *(*get)(const char *),
		     char *warn, size_t warn_len);

/* "64k", "1M", "100", "max": the inverse of zcs_parse_size for messages. */
void zcs_format_size(uint64_t bytes, char *buf, size_t len);

#endif
