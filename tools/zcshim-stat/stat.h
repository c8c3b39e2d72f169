/*
 * stat.h - what the parts of zcshim-stat share.
 *
 * main.c parses options and dispatches; each command lives in its own file
 * in this directory (watch.c, recommend.c, compare.c, baseline.c for
 * --reset, clean.c) and each output format in format/ (table.c, json.c,
 * csv.c, prom.c); all reach the data only through segread's series
 * iterator and quantile functions, so a new series dimension changes the
 * iterator and the formats follow. Output functions write to a FILE *, never
 * exit, and return 0 or 1 (the command's exit status); errors are printed
 * here as one line, "zcshim-stat: ...".
 */
#ifndef ZCSHIM_STAT_H
#define ZCSHIM_STAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "segread.h"

#define STAT_PROG "zcshim-stat"

/* One-line error on stderr, "zcshim-stat: ...". */
void stat_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- fmt.c: values as every text format shows them ---- */

/* "850ns", "12.4us", "3.10ms", "1.20s"; "-" for 0 (nothing timed). */
const char *fmt_ns(uint64_t ns, char *buf, size_t len);
/* Same, from a fractional mean. */
const char *fmt_ns_f(double ns, char *buf, size_t len);
/* Size class as a half-open interval: "0", "[64,128)", "[1M,2M)", "[128M,)". */
const char *fmt_class(unsigned size_class, char *buf, size_t len);
/* "4.3.4" from major * 10000 + minor * 100 + patch. */
const char *fmt_libzmq(uint32_t v, char *buf, size_t len);
/* 1234567 -> "1.23M"; per second with unit added by the caller. */
const char *fmt_si(double v, char *buf, size_t len);
/* A socket's type as every format names it: "PUSH", ...; "other" for slot 0. */
const char *socket_type(const struct zcs_snapshot *s, unsigned slot);
/* A socket as the table heads its rows: "socket 3 PUSH tcp://127.0.0.1:5555
 * (closed)", or for slot 0 "other (sockets beyond the table of 64: N; calls
 * on no socket)"; no newline. */
void print_socket(FILE *f, const struct zcs_snapshot *s, unsigned slot);
/* Timing rate as the table shows it: "1/16", or "auto" (0). */
const char *fmt_sample(uint32_t sample_every, char *buf, size_t len);
/* Wall-clock ns as "2026-11-26 12:00:01.234" (local time); "-" for 0. */
const char *fmt_unix_ns(uint64_t unix_ns, char *buf, size_t len);
/* "pid N (exe): exited, no libzmq calls seen: WHY: nothing to show", the
 * whole answer for a process that loaded the shim but never called libzmq
 * (WHY: reach_text.h). */
void print_no_calls(FILE *f, const struct zcs_snapshot *s);
/* "reach: libzmq in /usr/lib/.../libzmq.so.5; calls came by symbol binding,
 * dlsym (12 pointers)": how calls reached the shim, for a process with calls. */
void print_reach(FILE *f, const struct zcs_snapshot *s);

/* ---- format/escape.c: names and endpoints as each format shows them ----
 * The app's bytes in their text form (shim/utf8.h): printable UTF-8 as it
 * is, any other byte as \xNN, a backslash before "x" as \x5c, so that
 * replacing each \xNN with its byte gives the bytes back; then the
 * format's quoting. Every name or endpoint any view prints goes through
 * one of these (docs/formats.md describes them for users). */

/* Table and the other human views: the text form. esc_name writes it into
 * buf (cut before a unit that does not fit), for printf-style callers. */
#define ESC_NAME_MAX (4 * sizeof(((struct zcs_header *)0)->exe) + 1) /* any exe fits */
void esc_table(FILE *f, const char *s);
const char *esc_name(const char *s, char *buf, size_t len);
/* A row's endpoints, a space between them; one holding a space is put in
 * double quotes (quotes in endpoints are \x22); " ..." when cut. */
void esc_table_endpoints(FILE *f, const struct zcs_socket *row);
/* A JSON string literal. */
void fmt_json_str(FILE *f, const char *s);
/* "endpoints":["...",...],"endpoints_cut":false */
void esc_json_endpoints(FILE *f, const struct zcs_socket *row);
/* A CSV field (RFC 4180); the endpoints as one field, a space between
 * them, a space inside one as \x20. */
void esc_csv(FILE *f, const char *s);
void esc_csv_endpoints(FILE *f, const struct zcs_socket *row);
/* A Prometheus label value, between the quotes the caller writes; the
 * endpoints as one value, as in CSV. */
void esc_prom(FILE *f, const char *s);
void esc_prom_endpoints(FILE *f, const struct zcs_socket *row);
/* The text form back to bytes, in place (every \xNN -> byte NN); the new
 * length. */
size_t esc_decode(char *s, size_t len);

/* ---- load.c: a process's snapshot, less its --reset baseline ---- */

/* Find PID|NAME (or read FILE when key has a '/') into s; subtract the
 * baseline saved by --reset for that very process, unless raw. *since_ns
 * (may be NULL) gets the baseline's wall-clock time, 0 if none. */
int load_snapshot(const char *key, struct zcs_snapshot *s, int raw, uint64_t *since_ns);
/* Every readable segment, oldest first, each less its baseline, and in
 * *since_ns (malloc'd, one per snapshot) each baseline's time, 0 if none;
 * unreadable segments are named on stderr and skipped, a bad baseline
 * named and not applied. */
int load_all(struct zcs_snapshot ***snaps, uint64_t **since_ns, size_t *n, int raw);
/* Every segment's name, and one snapshot to read them into one at a time
 * (the listing and --clean, which keep none); errors said on stderr. */
int load_names(struct zcs_name **names, size_t *n, struct zcs_snapshot **scratch);
void free_all(struct zcs_snapshot **snaps, size_t n);

/* ---- baseline.c: --reset, a reader-side zero point per process ---- */

/* Directory of baselines: $XDG_STATE_HOME/zcshim or ~/.local/state/zcshim. */
int baseline_dir(char *buf, size_t len);
/* Path of the baseline of the process whose header is h. */
int baseline_path(const struct zcs_header *h, char *buf, size_t len);
/* Save s (as read, raw) as its process's baseline. */
int baseline_save(const struct zcs_snapshot *s, char *path_out, size_t len);
/* Subtract the saved baseline of s's process from s, if there is one: 1 if
 * applied (*since_ns = when), 0 if none, -1 if one is there but unusable. */
int baseline_apply(struct zcs_snapshot *s, uint64_t *since_ns);

/* ---- outputs: n snapshots (n > 1 or all: the --all document) ---- */

/* by: enum zcs_by, how series are keyed (--by size|socket|both). */
int out_list(FILE *f);
int out_table(FILE *f, struct zcs_snapshot *const *s, size_t n, const uint64_t *since_ns,
	      unsigned by);
int out_json(FILE *f, struct zcs_snapshot *const *s, size_t n, int all,
	     const uint64_t *since_ns, unsigned by);
int out_csv(FILE *f, struct zcs_snapshot *const *s, size_t n, unsigned by);
int out_prom(FILE *f, struct zcs_snapshot *const *s, size_t n, unsigned by);

/* ---- outfile.c: write a file whole or not at all ---- */

/* A temporary file beside path; NULL (error printed) on failure. */
FILE *outfile_open(const char *path, char *tmp, size_t tmp_len);
/* Flush, sync and rename over path; on any failure remove tmp. 0 or 1. */
int outfile_commit(FILE *f, const char *tmp, const char *path);
void outfile_abort(FILE *f, const char *tmp);

/* ---- recommend.c: the cost model behind --recommend ---- */

#define REC_MIN_SAMPLES 30 /* timed calls a path needs in a size class */

/* cost_ns(size) = fixed_ns + per_byte_ns * size, fitted by least squares. */
struct rec_line {
	double fixed_ns, per_byte_ns;
	size_t points; /* size classes it was fitted to; < 2: no line */
};

/* One size class: each path's mean cost per message and its evidence. */
struct rec_class {
	unsigned size_class;
	double zc_bytes, cp_bytes;     /* mean message size on each path */
	double zc_ns, cp_ns;           /* mean cost per message */
	uint64_t zc_samples, cp_samples;/* timed calls behind each mean */
	int zc_ok, cp_ok;              /* samples >= REC_MIN_SAMPLES */
};

enum rec_verdict {
	REC_NO_DATA,      /* too few points to say anything */
	REC_CROSSOVER,    /* copies cheaper below threshold_bytes, zero-copy above */
	REC_ALWAYS_ZC,    /* zero-copy cheaper at every size: threshold 0 */
	REC_ALWAYS_COPY,  /* copies cheaper at every size measured: threshold max */
};

struct rec_result {
	struct rec_class cls[ZCS_NSIZES];
	size_t ncls;
	struct rec_line zc, cp;
	enum rec_verdict verdict;
	int from_fit;              /* 1: from the two lines; 0: from classes alone */
	double crossover_bytes;    /* REC_CROSSOVER: where the costs meet */
	uint64_t threshold_bytes;  /* the suggestion, rounded (UINT64_MAX: max) */
};

/* Least squares through (x[i], y[i]), residuals relative to y (weights
 * 1/y^2); -1 with fewer than 2 distinct x. */
int rec_fit(const double *x, const double *y, size_t n, struct rec_line *out);
/* Evidence, fits and suggestion from a snapshot's histograms. */
void rec_compute(const struct zcs_snapshot *s, struct rec_result *r);

/* ---- the commands ---- */

int watch_run(const char *key, double interval_s);
int recommend_run(FILE *f, const char *key);
int compare_run(FILE *f, const char *a_path, const char *b_path);
int reset_run(const char *key);
int clean_run(FILE *f);
/* --pipeline (pipeline_run.c): fmt 0 table, 1 JSON, 2 Prometheus; args:
 * FILE|DIR|PID|NAME; address: this host's name in endpoints (may be NULL). */
int pipeline_run(int fmt, const char *const *args, size_t nargs, const char *output, int watch,
		 double interval_s, const char *address);

#endif
