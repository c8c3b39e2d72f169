/*
 * format/pipeline.c - `zcshim-stat --pipeline` as a table, JSON and
 * Prometheus text (see pipeline_out.h; docs/pipeline.md and docs/json.md
 * describe every field). The numbers are the model's (pipeline.c); this
 * file only lays them out. Program names, endpoint names and endpoints are
 * the app's bytes: they go through format/escape.c, as in the other views
 * (esc_name and esc_table for the table, fmt_json_str and
 * esc_json_endpoints for JSON, esc_prom for Prometheus labels).
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "pipeline_out.h"
#include "stat.h"

static const char *pct(double share, char *buf, size_t len)
{
	if (share < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", 100 * share);
	return buf;
}

static double of_busy(double ns, const struct pl_proc *p)
{
	return p->busy_ns > 0 ? (ns / p->busy_ns > 1 ? 1 : ns / p->busy_ns) : PL_UNKNOWN;
}

static const char *proc_state(const struct pl_proc *p)
{
	if (!p->this_host) /* copied: liveness as the header had it */
		return p->running ? "copied" : "exited";
	return zcs_live_name(p->s->live);
}

static const char *side_name(const struct pl_side *sd)
{
	return sd->bound ? "bound" : "connected";
}

/* ------------------------------------------------------------ table */

static void proc_label(const struct pl_model *m, long p, char *buf, size_t len)
{
	if (p < 0) {
		snprintf(buf, len, "-");
		return;
	}
	const struct pl_proc *P = &m->procs[p];
	char name[ESC_NAME_MAX];
	snprintf(buf, len, "pid %d (%s)", P->s->hdr.pid, esc_name(P->s->hdr.exe, name, sizeof name));
}

/* The program's name in its text form, cut to the 14 bytes of its column on
 * a character's boundary. */
static const char *exe_col(const struct pl_proc *P, char buf[15])
{
	return esc_name(P->s->hdr.exe, buf, 15);
}

static void bottleneck_line(FILE *f, const struct pl_model *m)
{
	char a[24], b[24], c[24], who[ESC_NAME_MAX + 32], up[ESC_NAME_MAX + 32],
		down[ESC_NAME_MAX + 32];
	const struct pl_bottleneck *bn = &m->bn;
	if (!m->nprocs || !m->neps)
		return;
	if (!bn->found) {
		fprintf(f, "bottleneck: none clear (no stage works %.0f%% of its time while "
			   "those feeding it are held back and those it feeds wait)\n",
			100 * PL_BUSY_MIN);
		return;
	}
	const struct pl_proc *P = &m->procs[bn->proc];
	proc_label(m, (long)bn->proc, who, sizeof who);
	fprintf(f, "bottleneck: %s, working %s of its time", who, pct(P->working, a, sizeof a));
	if (bn->up_proc >= 0) {
		proc_label(m, bn->up_proc, up, sizeof up);
		fprintf(f, "; upstream %s blocked sending %s", up, pct(bn->up_blocked, b, sizeof b));
	}
	if (bn->down_proc >= 0) {
		proc_label(m, bn->down_proc, down, sizeof down);
		fprintf(f, "; downstream %s waiting %s", down, pct(bn->down_waiting, c, sizeof c));
	}
	fputc('\n', f);
}

void pl_out_table(FILE *f, const struct pl_view *v)
{
	const struct pl_model *m = v->m;
	char a[24], b[24], c[24], d[24];
	for (size_t e = 0; e < m->neps; e++) {
		const struct pl_endpoint *E = &m->eps[e];
		fputs("endpoint ", f);
		esc_table(f, E->name);
		fprintf(f, "  %s, %s\n", E->pattern, E->running ? "running" : "ended");
		fprintf(f, "  %-8s %-14s %6s %-7s %-9s %10s %13s %10s %13s %8s %8s  %s\n", "pid",
			"program", "socket", "type", "side", "sent msgs", "sent bytes", "recv msgs",
			"recv bytes", "blocked", "waiting", "as recorded");
		for (size_t i = 0; i < E->nsides; i++) {
			const struct pl_side *sd = &m->sides[E->first_side + i];
			const struct pl_proc *P = &m->procs[sd->proc];
			char exe[15];
			fprintf(f,
				"  %-8d %-14s %6u %-7s %-9s %10" PRIu64 " %13" PRIu64 " %10" PRIu64
				" %13" PRIu64 " %8s %8s  ",
				P->s->hdr.pid, exe_col(P, exe), sd->slot,
				zcs_socket_type_name(sd->type), side_name(sd), sd->sent_msgs,
				sd->sent_bytes, sd->recv_msgs, sd->recv_bytes,
				pct(of_busy(sd->send_ns, P), a, sizeof a),
				pct(of_busy(sd->wait_ns, P), b, sizeof b));
			esc_table(f, sd->endpoints);
			fputc('\n', f);
		}
		if (v->rates && v->rates[e].known) {
			const struct pl_rate *r = &v->rates[e];
			fprintf(f, "  last %.1fs: %s msgs/s in, %s msgs/s out", v->interval_s,
				fmt_si(r->sent_per_s, a, sizeof a), fmt_si(r->recv_per_s, b, sizeof b));
			if (r->queue_ns >= 0)
				fprintf(f, ", mean time in queue %s", fmt_ns_f(r->queue_ns > 0 ? r->queue_ns : 0.5, c, sizeof c));
			fputc('\n', f);
		}
		if (E->fanout) {
			fprintf(f, "  published %" PRIu64 " messages;", E->sent_msgs);
			int any = 0;
			for (size_t i = 0; i < E->nsides; i++) {
				const struct pl_side *sd = &m->sides[E->first_side + i];
				if (!sd->receives)
					continue;
				fprintf(f, "%s pid %d socket %u got %" PRIu64 " (%" PRId64 " fewer)",
					any ? "," : "", m->procs[sd->proc].s->hdr.pid, sd->slot,
					sd->recv_msgs, sd->missed);
				any = 1;
			}
			fprintf(f, "%s\n  (fewer: dropped at a high-water mark, filtered out by a "
				   "subscription, or still queued; not told apart)\n",
				any ? "" : " no subscriber read");
		} else if (E->missing_side) {
			fprintf(f, "  received %" PRIu64 " > sent %" PRIu64
				   ": a sending side was not read (another host?)\n",
				E->recv_msgs, E->sent_msgs);
		} else if (E->in_queues >= 0 && E->running) {
			fprintf(f, "  in queues now: %" PRId64 " message%s (sent %" PRIu64
				   ", received %" PRIu64 ")\n",
				E->in_queues, E->in_queues == 1 ? "" : "s", E->sent_msgs, E->recv_msgs);
		} else if (E->not_delivered >= 0) {
			fprintf(f, "  not delivered: %" PRId64 " message%s (sent %" PRIu64
				   ", received %" PRIu64 "; every side has ended)\n",
				E->not_delivered, E->not_delivered == 1 ? "" : "s", E->sent_msgs,
				E->recv_msgs);
		} else {
			fprintf(f, "  (%s: sent and received are not matched one to one)\n",
				E->pattern);
		}
		if (!E->bound_side || !E->connected_side)
			fprintf(f, "  (only %s sides read: the other side's process ran without "
				   "the shim, or on a host whose segments were not read)\n",
				E->bound_side ? "bound" : "connected");
		fputc('\n', f);
	}
	if (m->unplaced_sockets)
		fprintf(f, "sockets with traffic but no endpoint recorded: %zu\n\n",
			m->unplaced_sockets);
	size_t shown = 0;
	for (size_t p = 0; p < m->nprocs; p++)
		shown += m->procs[p].placed;
	if (!shown) {
		fprintf(f, "(no sockets with endpoints in the %zu segment%s read)\n", m->nprocs,
			m->nprocs == 1 ? "" : "s");
		return;
	}
	fprintf(f, "%-8s %-14s %-9s %8s %8s %8s %14s %7s\n", "pid", "program", "state",
		"blocked", "waiting", "working", "callers' time", "timed");
	for (size_t p = 0; p < m->nprocs; p++) {
		const struct pl_proc *P = &m->procs[p];
		char e[24], exe[15];
		if (!P->placed)
			continue;
		fprintf(f, "%-8d %-14s %-9s %8s %8s %8s %14s %7s\n", P->s->hdr.pid,
			exe_col(P, exe), proc_state(P), pct(P->blocked, a, sizeof a),
			pct(P->waiting, b, sizeof b), pct(P->working, c, sizeof c),
			fmt_ns_f(P->busy_ns, d, sizeof d),
			P->timed < 0 ? "-" : P->timed >= 1 ? "all" : pct(P->timed, e, sizeof e));
	}
	if (v->rates)
		fprintf(f, "(time shares over the last %.1fs)\n", v->interval_s);
	bottleneck_line(f, m);
}

/* ------------------------------------------------------------ JSON */

static void json_share(FILE *f, const char *key, double v)
{
	if (v < 0)
		fprintf(f, ",\"%s\":null", key);
	else
		fprintf(f, ",\"%s\":%.4f", key, v);
}

static void json_i64_or_null(FILE *f, const char *key, int64_t v)
{
	if (v < 0)
		fprintf(f, ",\"%s\":null", key);
	else
		fprintf(f, ",\"%s\":%" PRId64, key, v);
}

static void json_proc_ref(FILE *f, const struct pl_model *m, long p)
{
	const struct pl_proc *P = &m->procs[p];
	fprintf(f, "\"pid\":%d,\"seq\":%u,\"program\":", P->s->hdr.pid, P->s->hdr.seq);
	fmt_json_str(f, P->s->hdr.exe);
}

static void json_counts(FILE *f, const char *key, uint64_t msgs, uint64_t bytes)
{
	fprintf(f, ",\"%s\":{\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", key, msgs, bytes);
}

void pl_out_json(FILE *f, const struct pl_view *v)
{
	const struct pl_model *m = v->m;
	const char *nl = v->one_line ? "" : "\n";
	fprintf(f, "{\"version\":1,\"host\":{\"address\":");
	fmt_json_str(f, v->host->address);
	fprintf(f, ",\"hostname\":");
	fmt_json_str(f, v->host->hostname);
	fprintf(f, "}");
	if (v->rates)
		fprintf(f, ",\"interval_s\":%.3f", v->interval_s);
	fprintf(f, ",\"endpoints\":[");
	for (size_t e = 0; e < m->neps; e++) {
		const struct pl_endpoint *E = &m->eps[e];
		fprintf(f, "%s%s{\"endpoint\":", e ? "," : "", nl);
		fmt_json_str(f, E->name);
		fprintf(f, ",\"pattern\":");
		fmt_json_str(f, E->pattern);
		fprintf(f, ",\"running\":%s,\"sides\":[", E->running ? "true" : "false");
		for (size_t i = 0; i < E->nsides; i++) {
			const struct pl_side *sd = &m->sides[E->first_side + i];
			const struct pl_proc *P = &m->procs[sd->proc];
			fprintf(f, "%s{", i ? "," : "");
			json_proc_ref(f, m, (long)sd->proc);
			fprintf(f, ",\"socket\":%u,\"type\":\"%s\",\"bound\":%s,\"running\":%s,",
				sd->slot, zcs_socket_type_name(sd->type), sd->bound ? "true" : "false",
				sd->running ? "true" : "false");
			/* as the per-process document lists them: one string each */
			esc_json_endpoints(f, &P->s->shared.sockets[sd->slot]);
			json_counts(f, "sent", sd->sent_msgs, sd->sent_bytes);
			json_counts(f, "received", sd->recv_msgs, sd->recv_bytes);
			json_share(f, "blocked_send", of_busy(sd->send_ns, P));
			json_share(f, "waiting_recv", of_busy(sd->wait_ns, P));
			json_i64_or_null(f, "missed", sd->missed);
			fputc('}', f);
		}
		fprintf(f, "]");
		json_counts(f, "sent", E->sent_msgs, E->sent_bytes);
		json_counts(f, "received", E->recv_msgs, E->recv_bytes);
		json_i64_or_null(f, "in_queues", E->in_queues);
		json_i64_or_null(f, "not_delivered", E->not_delivered);
		if (E->fanout)
			fprintf(f, ",\"published\":%" PRIu64, E->sent_msgs);
		else
			fprintf(f, ",\"published\":null");
		fprintf(f, ",\"missing_side\":%s",
			E->missing_side || !E->bound_side || !E->connected_side ? "true" : "false");
		if (v->one_line && !v->rates) {
			fprintf(f, ",\"rate\":null"); /* --watch's first reading */
		} else if (v->rates) {
			const struct pl_rate *r = &v->rates[e];
			if (r->known) {
				fprintf(f, ",\"rate\":{\"sent_per_s\":%.3f,\"received_per_s\":%.3f",
					r->sent_per_s, r->recv_per_s);
				if (r->queue_ns >= 0)
					fprintf(f, ",\"mean_time_in_queue_ns\":%.0f}", r->queue_ns);
				else
					fprintf(f, ",\"mean_time_in_queue_ns\":null}");
			} else {
				fprintf(f, ",\"rate\":null");
			}
		}
		fputc('}', f);
	}
	fprintf(f, "%s],\"processes\":[", m->neps ? nl : "");
	size_t k = 0;
	for (size_t p = 0; p < m->nprocs; p++) {
		const struct pl_proc *P = &m->procs[p];
		if (!P->placed)
			continue;
		fprintf(f, "%s%s{", k++ ? "," : "", nl);
		json_proc_ref(f, m, (long)p);
		fprintf(f, ",\"state\":\"%s\",\"running\":%s,\"busy_ns\":%.0f", proc_state(P),
			P->running ? "true" : "false", P->busy_ns);
		json_share(f, "blocked_send", P->blocked);
		json_share(f, "waiting_recv", P->waiting);
		json_share(f, "working", P->working);
		json_share(f, "timed", P->timed);
		fprintf(f, ",\"untimed_calls\":%" PRIu64 ",\"segment\":", P->untimed_calls);
		fmt_json_str(f, P->s->path);
		fputc('}', f);
	}
	fprintf(f, "%s],\"bottleneck\":", k ? nl : "");
	const struct pl_bottleneck *bn = &m->bn;
	if (!bn->found) {
		fprintf(f, "null");
	} else {
		fputc('{', f);
		json_proc_ref(f, m, (long)bn->proc);
		json_share(f, "working", m->procs[bn->proc].working);
		fprintf(f, ",\"score\":%.4f,\"endpoint_in\":", bn->score);
		if (bn->ep_in >= 0)
			fmt_json_str(f, m->eps[bn->ep_in].name);
		else
			fprintf(f, "null");
		fprintf(f, ",\"endpoint_out\":");
		if (bn->ep_out >= 0)
			fmt_json_str(f, m->eps[bn->ep_out].name);
		else
			fprintf(f, "null");
		fprintf(f, ",\"upstream\":");
		if (bn->up_proc >= 0) {
			fputc('{', f);
			json_proc_ref(f, m, bn->up_proc);
			json_share(f, "blocked_send", bn->up_blocked);
			fputc('}', f);
		} else {
			fprintf(f, "null");
		}
		fprintf(f, ",\"downstream\":");
		if (bn->down_proc >= 0) {
			fputc('{', f);
			json_proc_ref(f, m, bn->down_proc);
			json_share(f, "waiting_recv", bn->down_waiting);
			fputc('}', f);
		} else {
			fprintf(f, "null");
		}
		fputc('}', f);
	}
	fprintf(f, ",\"unplaced_sockets\":%zu}\n", m->unplaced_sockets);
}

/* ------------------------------------------------------------ Prometheus */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void proc_labels(FILE *f, const struct pl_proc *P)
{
	fprintf(f, "pid=\"%d\",seq=\"%u\",exe=\"", P->s->hdr.pid, P->s->hdr.seq);
	esc_prom(f, P->s->hdr.exe);
	putc('"', f);
}

static void side_labels(FILE *f, const struct pl_model *m, const struct pl_endpoint *E,
			const struct pl_side *sd)
{
	fprintf(f, "endpoint=\"");
	esc_prom(f, E->name);
	fprintf(f, "\",pattern=\"%s\",", E->pattern);
	proc_labels(f, &m->procs[sd->proc]);
	fprintf(f, ",socket=\"%u\",socket_type=\"%s\",side=\"%s\"", sd->slot,
		zcs_socket_type_name(sd->type), side_name(sd));
}

enum side_value { SENT_MSGS, SENT_BYTES, RECV_MSGS, RECV_BYTES, BLOCKED_S, WAITING_S };

static void side_family(FILE *f, const struct pl_model *m, const char *name, const char *type,
			const char *help, enum side_value what)
{
	family(f, name, type, help);
	for (size_t e = 0; e < m->neps; e++) {
		const struct pl_endpoint *E = &m->eps[e];
		for (size_t i = 0; i < E->nsides; i++) {
			const struct pl_side *sd = &m->sides[E->first_side + i];
			fprintf(f, "%s{", name);
			side_labels(f, m, E, sd);
			switch (what) {
			case SENT_MSGS: fprintf(f, "} %" PRIu64 "\n", sd->sent_msgs); break;
			case SENT_BYTES: fprintf(f, "} %" PRIu64 "\n", sd->sent_bytes); break;
			case RECV_MSGS: fprintf(f, "} %" PRIu64 "\n", sd->recv_msgs); break;
			case RECV_BYTES: fprintf(f, "} %" PRIu64 "\n", sd->recv_bytes); break;
			case BLOCKED_S: fprintf(f, "} %.9g\n", sd->send_ns / 1e9); break;
			default: fprintf(f, "} %.9g\n", sd->wait_ns / 1e9); break;
			}
		}
	}
}

void pl_out_prom(FILE *f, const struct pl_view *v)
{
	const struct pl_model *m = v->m;
	side_family(f, m, "zcshim_endpoint_sent_messages_total", "counter",
		    "Whole messages a socket sent into an endpoint (named as --pipeline joins sides).",
		    SENT_MSGS);
	side_family(f, m, "zcshim_endpoint_sent_bytes_total", "counter",
		    "Bytes of those messages.", SENT_BYTES);
	side_family(f, m, "zcshim_endpoint_received_messages_total", "counter",
		    "Whole messages a socket received from an endpoint.", RECV_MSGS);
	side_family(f, m, "zcshim_endpoint_received_bytes_total", "counter",
		    "Bytes of those messages.", RECV_BYTES);
	side_family(f, m, "zcshim_socket_blocked_seconds", "gauge",
		    "Estimated time in this socket's sends (timed calls x calls each stands for); an estimate "
		    "that may step back a little: use delta(), not rate().",
		    BLOCKED_S);
	side_family(f, m, "zcshim_socket_waiting_seconds", "gauge",
		    "Estimated time in this socket's receives; as above.", WAITING_S);
	family(f, "zcshim_endpoint_side_info", "gauge",
	       "One per side of an endpoint: sends=1 if it carries messages into it, receives=1 "
	       "if out of it.");
	for (size_t e = 0; e < m->neps; e++) {
		const struct pl_endpoint *E = &m->eps[e];
		for (size_t i = 0; i < E->nsides; i++) {
			const struct pl_side *sd = &m->sides[E->first_side + i];
			fprintf(f, "zcshim_endpoint_side_info{");
			side_labels(f, m, E, sd);
			fprintf(f, ",sends=\"%d\",receives=\"%d\"} 1\n", sd->sends, sd->receives);
		}
	}
	family(f, "zcshim_endpoint_in_queue_messages", "gauge",
	       "Point-to-point endpoints whose sides run: messages sent but not received yet, "
	       "as this host sees them.");
	for (size_t e = 0; e < m->neps; e++) {
		const struct pl_endpoint *E = &m->eps[e];
		if (E->in_queues < 0 || !E->running)
			continue;
		fprintf(f, "zcshim_endpoint_in_queue_messages{endpoint=\"");
		esc_prom(f, E->name);
		fprintf(f, "\",pattern=\"%s\"} %" PRId64 "\n", E->pattern, E->in_queues);
	}
	family(f, "zcshim_endpoint_not_delivered_messages", "gauge",
	       "Point-to-point endpoints whose every side has ended: messages sent, never "
	       "received.");
	for (size_t e = 0; e < m->neps; e++) {
		const struct pl_endpoint *E = &m->eps[e];
		if (E->not_delivered < 0)
			continue;
		fprintf(f, "zcshim_endpoint_not_delivered_messages{endpoint=\"");
		esc_prom(f, E->name);
		fprintf(f, "\",pattern=\"%s\"} %" PRId64 "\n", E->pattern, E->not_delivered);
	}
	static const struct { const char *name, *type, *help; int which; } pf[] = {
		{ "zcshim_process_busy_seconds_total", "counter",
		  "Callers' thread time: each thread that called libzmq, from its first call to "
		  "its end (or now).", 0 },
		{ "zcshim_process_blocked_seconds", "gauge",
		  "Estimated time blocked in sends (the high-water mark, a slow downstream); an "
		  "estimate: use delta().", 1 },
		{ "zcshim_process_waiting_seconds", "gauge",
		  "Estimated time waiting in receives and polls (a slow upstream); use delta().", 2 },
	};
	for (size_t k = 0; k < sizeof pf / sizeof pf[0]; k++) {
		family(f, pf[k].name, pf[k].type, pf[k].help);
		for (size_t p = 0; p < m->nprocs; p++) {
			const struct pl_proc *P = &m->procs[p];
			if (!P->placed)
				continue;
			double ns = pf[k].which == 0 ? P->busy_ns
				    : pf[k].which == 1 ? P->send_ns : P->wait_ns;
			fprintf(f, "%s{", pf[k].name);
			proc_labels(f, P);
			fprintf(f, "} %.9g\n", ns / 1e9);
		}
	}
	family(f, "zcshim_bottleneck_info", "gauge",
	       "The stage --pipeline names as the bottleneck among the segments read here.");
	if (m->bn.found) {
		fprintf(f, "zcshim_bottleneck_info{");
		proc_labels(f, &m->procs[m->bn.proc]);
		fprintf(f, ",endpoint_in=\"");
		esc_prom(f, m->bn.ep_in >= 0 ? m->eps[m->bn.ep_in].name : "");
		fprintf(f, "\",endpoint_out=\"");
		esc_prom(f, m->bn.ep_out >= 0 ? m->eps[m->bn.ep_out].name : "");
		fprintf(f, "\"} 1\n");
	}
}
