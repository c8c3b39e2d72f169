/*
 * format/csv.c - one row per process x op x path x size class, after one
 * header line, for gnuplot, pandas or a spreadsheet (RFC 4180: commas,
 * quotes only where a name or an endpoint needs them). A single process and --all
 * share the columns, so files from both concatenate (less their headers).
 * A value that does not exist (nothing timed, the open last size class) is
 * an empty field, which pandas reads as NaN, rather than a misleading 0.
 * So is what --by merged: socket and socket_type with --by size (the
 * default: rows summed over sockets), the size columns with --by socket.
 * The socket columns come last so that readers of the older columns by
 * position still work: socket, socket_type, then the socket's endpoints as
 * one field (a space between them) and endpoints_cut (1: the list ends
 * early). Names and endpoints are in their text form (format/escape.c), so
 * a field never holds a line break.
 */
#include <inttypes.h>
#include <string.h>

#include "histo.h"
#include "stat.h"

#define CSV_HEADER                                                                  \
	"pid,seq,exe,state,mode,op,path,size_class,size_lo,size_hi,count,bytes,timed," \
	"time_ns_sum,mean_ns,p50_ns,p90_ns,p99_ns,max_ns,socket,socket_type,endpoints," \
	"endpoints_cut"

/* ",v", or "," alone for none (0 ns: nothing timed; max: no upper bound) */
static void field(FILE *f, uint64_t v)
{
	if (v == 0 || v == UINT64_MAX)
		fputc(',', f);
	else
		fprintf(f, ",%" PRIu64, v);
}

static void csv_one(FILE *f, const struct zcs_snapshot *s, unsigned by)
{
	struct zcs_series x;
	for (size_t it = 0; zcs_series_next_by(s, by, &it, &x);) {
		const struct zcs_cell *c = x.cell;
		uint64_t timed = zcs_cell_timed(c);
		fprintf(f, "%d,%u,", s->hdr.pid, s->hdr.seq);
		esc_csv(f, s->hdr.exe);
		fprintf(f, ",%s,%s,%s,%s,", zcs_live_name(s->live), zcs_mode_name(s->hdr.mode),
			zcs_op_name(x.op), zcs_path_name(x.path));
		if (x.size_class != ZCS_ALL)
			fprintf(f, "%u,%" PRIu64 ",", x.size_class, zcs_size_lo(x.size_class));
		else
			fputs(",,", f);
		if (x.size_class != ZCS_ALL && zcs_size_hi(x.size_class) != UINT64_MAX)
			fprintf(f, "%" PRIu64, zcs_size_hi(x.size_class));
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", c->count,
			c->bytes, timed, c->time_ns_sum);
		if (timed)
			fprintf(f, "%.1f", (double)c->time_ns_sum / (double)timed);
		field(f, zcs_cell_quantile_ns(c, 0.50));
		field(f, zcs_cell_quantile_ns(c, 0.90));
		field(f, zcs_cell_quantile_ns(c, 0.99));
		field(f, zcs_cell_max_ns(c));
		if (x.slot != ZCS_ALL) {
			fprintf(f, ",%u,", x.slot);
			esc_csv(f, socket_type(s, x.slot));
			putc(',', f);
		} else {
			fputs(",,,", f);
		}
		/* "other" is not a socket: no endpoints, as with --by size */
		if (x.slot != ZCS_ALL && x.slot != ZCS_SLOT_OTHER) {
			const struct zcs_socket *row = &s->shared.sockets[x.slot];
			esc_csv_endpoints(f, row);
			fprintf(f, ",%d", zcs_endpoints_cut(row));
		} else {
			putc(',', f);
		}
		fputc('\n', f);
	}
}

int out_csv(FILE *f, struct zcs_snapshot *const *s, size_t n, unsigned by)
{
	fputs(CSV_HEADER "\n", f);
	for (size_t i = 0; i < n; i++)
		csv_one(f, s[i], by);
	return 0;
}
