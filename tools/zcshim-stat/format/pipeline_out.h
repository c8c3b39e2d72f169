/*
 * format/pipeline_out.h - how `zcshim-stat --pipeline` writes the model of
 * pipeline.h: a table, one JSON document (or one per interval with
 * --watch), Prometheus text. docs/pipeline.md shows each.
 */
#ifndef ZCSHIM_OUT_PIPELINE_H
#define ZCSHIM_OUT_PIPELINE_H

#include <stdio.h>

#include "pipeline.h"

/* --watch: per endpoint (parallel to model.eps), over the last interval.
 * queue_ns: mean time a message spent in the endpoint's queues, by
 * Little's law: mean messages queued / messages received per second. */
struct pl_rate {
	int known;          /* the endpoint was there at the last reading too */
	double sent_per_s, recv_per_s;
	double queue_ns;    /* < 0: unknown (nothing received, or not point-to-point) */
};

struct pl_view {
	const struct pl_model *m;
	const struct pl_host *host;
	const struct pl_rate *rates; /* NULL but with --watch (after its first reading) */
	double interval_s;
	int one_line;                /* JSON: the document on one line (--watch) */
};

void pl_out_table(FILE *f, const struct pl_view *v);
/* One document (with --watch, one a line, one per interval). */
void pl_out_json(FILE *f, const struct pl_view *v);
void pl_out_prom(FILE *f, const struct pl_view *v);

#endif
