/*
 * pipeline_run.c - `zcshim-stat --pipeline [FILE|DIR|PID|NAME]...`: find the
 * segments, read each twice (received counts from the first reading, the
 * rest from the second: see pipeline.c), build the model and write it once,
 * or again every interval with --watch, with rates and the mean time in
 * queue of the interval.
 *
 * Which segments: with no argument, every one in /dev/shm (or --dir); an
 * argument with a '/' is a segment file or a directory of them (copied from
 * another host: each directory is taken as one host); any other is a PID or
 * a program NAME, the newest segment of it in /dev/shm (or --dir). Only
 * /dev/shm itself is this host: segments anywhere else are copies, whose
 * processes are taken as running or ended as their headers say, and whose
 * wildcard binds are matched without knowing that host's addresses.
 * --reset baselines are not applied: an endpoint's sides must all count
 * from their start for sent - received to mean anything.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "format/pipeline_out.h"
#include "stat.h"
#include "ticker.h"

struct seg {
	char path[PATH_MAX];
	unsigned group;
	int this_host;
	dev_t dev;
	ino_t ino;
	struct zcs_snapshot *early, *late, *delta;
	int ok;
};

struct set {
	struct seg *seg;
	size_t n, cap;
	char (*groups)[PATH_MAX];
	size_t ngroups;
};

static void set_free(struct set *st)
{
	for (size_t i = 0; i < st->n; i++) {
		zcs_snapshot_free(st->seg[i].early);
		zcs_snapshot_free(st->seg[i].late);
		zcs_snapshot_free(st->seg[i].delta);
	}
	free(st->seg);
	free(st->groups);
	memset(st, 0, sizeof *st);
}

static int is_shm(const char *dir)
{
	char a[PATH_MAX], b[PATH_MAX];
	return realpath(dir, a) && realpath(ZCS_SHM_DIR, b) && !strcmp(a, b);
}

static int group_of(struct set *st, const char *dir, unsigned *out)
{
	char real[PATH_MAX];
	if (!realpath(dir, real))
		snprintf(real, sizeof real, "%s", dir);
	for (size_t i = 0; i < st->ngroups; i++)
		if (!strcmp(st->groups[i], real)) {
			*out = (unsigned)i;
			return 0;
		}
	char(*g)[PATH_MAX] = realloc(st->groups, (st->ngroups + 1) * sizeof *g);
	if (!g)
		return -1;
	st->groups = g;
	snprintf(g[st->ngroups], PATH_MAX, "%s", real);
	*out = (unsigned)st->ngroups++;
	return 0;
}

/* Add the segment file at path (read from dir); duplicates are dropped. */
static int add(struct set *st, const char *path, const char *dir)
{
	struct stat sb;
	if (stat(path, &sb) != 0) {
		stat_err("%s: %s", path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < st->n; i++)
		if (st->seg[i].dev == sb.st_dev && st->seg[i].ino == sb.st_ino)
			return 0;
	if (st->n == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 16;
		struct seg *g = realloc(st->seg, cap * sizeof *g);
		if (!g)
			goto oom;
		st->seg = g;
		st->cap = cap;
	}
	struct seg *s = &st->seg[st->n];
	memset(s, 0, sizeof *s);
	snprintf(s->path, sizeof s->path, "%s", path);
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	s->this_host = is_shm(dir);
	if (group_of(st, dir, &s->group) != 0)
		goto oom;
	if (!(s->early = zcs_snapshot_new()) || !(s->late = zcs_snapshot_new()) ||
	    !(s->delta = zcs_snapshot_new())) {
		zcs_snapshot_free(s->early);
		zcs_snapshot_free(s->late);
		goto oom;
	}
	st->n++;
	return 0;
oom:
	stat_err("out of memory");
	return -1;
}

/* Every segment in dir (zcs_list's rules: this user's, newest kept). */
static int add_dir(struct set *st, const char *dir)
{
	const char *saved = zcs_dir();
	zcs_set_dir(dir);
	struct zcs_name *names;
	size_t n, skipped;
	char err[600];
	int rc = zcs_list(&names, &n, &skipped, err, sizeof err);
	zcs_set_dir(saved);
	if (rc != 0) {
		stat_err("%s", err);
		return -1;
	}
	if (skipped)
		stat_err("%s: %zu older segments not read (at most %d are)", dir, skipped,
			 ZCS_LIST_MAX);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s", names[i].path);
		rc = add(st, path, dir);
	}
	free(names);
	return rc;
}

/* watching: a PID or NAME not there (yet, or any more) is not an error */
static int add_arg(struct set *st, const char *arg, int watching)
{
	struct stat sb;
	if (strchr(arg, '/')) {
		if (stat(arg, &sb) != 0) {
			stat_err("%s: %s", arg, strerror(errno));
			return -1;
		}
		if (S_ISDIR(sb.st_mode))
			return add_dir(st, arg);
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s", arg);
		char *slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		return add(st, arg, dir);
	}
	struct zcs_snapshot *s = zcs_snapshot_new();
	char err[600];
	if (!s) {
		stat_err("out of memory");
		return -1;
	}
	int rc = zcs_find(arg, s, err, sizeof err);
	if (rc != 0 && watching)
		rc = 0;
	else if (rc != 0)
		stat_err("%s", err);
	else
		rc = add(st, s->path, zcs_dir());
	zcs_snapshot_free(s);
	return rc;
}

/* Read every segment twice; the ones that cannot be read are named and
 * left out. */
static void read_all(struct set *st)
{
	char err[600];
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < st->n; i++) {
			struct seg *s = &st->seg[i];
			if (pass == 1 && !s->ok)
				continue;
			s->ok = zcs_read(s->path, pass ? s->late : s->early, err, sizeof err) == 0;
			if (!s->ok && pass == 0)
				stat_err("%s", err);
		}
}

/* The inputs of the model: the segments read. times: use each one's delta. */
static size_t inputs(const struct set *st, struct pl_input *in, int times)
{
	size_t n = 0;
	for (size_t i = 0; i < st->n; i++) {
		const struct seg *s = &st->seg[i];
		if (!s->ok)
			continue;
		in[n++] = (struct pl_input){ s->late, s->early, times ? s->delta : NULL, s->group,
					     s->this_host };
	}
	return n;
}

/* ------------------------------------------------------------ once */

static int write_once(FILE *f, int fmt, const struct pl_model *m, const struct pl_host *h)
{
	struct pl_view v = { m, h, NULL, 0, 0 };
	if (fmt == 1)
		pl_out_json(f, &v);
	else if (fmt == 2)
		pl_out_prom(f, &v);
	else
		pl_out_table(f, &v);
	return 0;
}

/* ------------------------------------------------------------ watch */

/* What an endpoint held at the last reading, to take rates from. */
struct ep_prev {
	char *name;
	uint64_t sent, recv;
	int64_t in_queues;
};

static void prev_free(struct ep_prev *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].name);
	free(p);
}

static int watch(int fmt, const char *const *args, size_t nargs, double interval_s,
		 const struct pl_host *h)
{
	ticker_catch_signals();
	int tty = isatty(STDOUT_FILENO) && fmt == 0;
	struct set prev = { 0 };
	struct ep_prev *eprev = NULL;
	size_t neprev = 0;
	double last = ticker_now_s(), next = last;
	int rc = 0, first = 1;
	struct zcs_snapshot *empty = zcs_snapshot_new(); /* nothing counted: less it, all */
	if (!empty) {
		stat_err("out of memory");
		return 1;
	}
	while (!ticker_stop) {
		struct set cur = { 0 };
		int bad = 0;
		if (!nargs)
			bad = add_dir(&cur, zcs_dir()) != 0;
		for (size_t i = 0; i < nargs && !bad; i++)
			bad = add_arg(&cur, args[i], 1) != 0;
		if (bad) {
			set_free(&cur);
			rc = 1;
			break;
		}
		read_all(&cur);
		/* each segment's interval: less its previous reading; one that is
		 * new has its whole life so far as its interval */
		for (size_t i = 0; i < cur.n; i++) {
			struct seg *s = &cur.seg[i];
			const struct seg *p = NULL;
			for (size_t j = 0; j < prev.n && !p; j++)
				if (prev.seg[j].ok && prev.seg[j].dev == s->dev && prev.seg[j].ino == s->ino)
					p = &prev.seg[j];
			if (s->ok)
				zcs_snapshot_sub(s->delta, s->late, p ? p->late : empty);
		}
		double t = ticker_now_s(), dt = t - last;
		struct pl_input *in = calloc(cur.n ? cur.n : 1, sizeof *in);
		struct pl_model m;
		if (!in || pl_build(&m, in, inputs(&cur, in, !first), h) != 0) {
			free(in);
			set_free(&cur);
			stat_err("out of memory");
			rc = 1;
			break;
		}
		struct pl_rate *rates = calloc(m.neps ? m.neps : 1, sizeof *rates);
		struct ep_prev *enow = calloc(m.neps ? m.neps : 1, sizeof *enow);
		if (!rates || !enow) {
			free(rates);
			free(enow);
			pl_free(&m);
			free(in);
			set_free(&cur);
			stat_err("out of memory");
			rc = 1;
			break;
		}
		for (size_t e = 0; e < m.neps; e++) {
			const struct pl_endpoint *E = &m.eps[e];
			enow[e] = (struct ep_prev){ strdup(E->name), E->sent_msgs, E->recv_msgs,
						    E->in_queues };
			rates[e].queue_ns = -1;
			for (size_t j = 0; j < neprev && !first; j++) {
				const struct ep_prev *p = &eprev[j];
				if (!p->name || strcmp(p->name, E->name) != 0)
					continue;
				rates[e].known = dt > 0;
				double ds = E->sent_msgs > p->sent ? (double)(E->sent_msgs - p->sent) : 0;
				double dr = E->recv_msgs > p->recv ? (double)(E->recv_msgs - p->recv) : 0;
				rates[e].sent_per_s = dt > 0 ? ds / dt : 0;
				rates[e].recv_per_s = dt > 0 ? dr / dt : 0;
				/* Little's law: L = lambda W, over the interval */
				if (E->p2p && E->in_queues >= 0 && p->in_queues >= 0 && dr > 0)
					rates[e].queue_ns = ((double)E->in_queues + (double)p->in_queues) /
							    2 / rates[e].recv_per_s * 1e9;
			}
		}
		if (first && fmt == 0 && tty)
			printf("\033[H\033[2J");
		if (!first || fmt != 0) {
			if (tty)
				fputs("\033[H\033[2J", stdout);
			struct pl_view v = { &m, h, first ? NULL : rates, dt, 1 };
			if (fmt == 1) {
				pl_out_json(stdout, &v);
			} else {
				char when[16];
				time_t wall = time(NULL);
				strftime(when, sizeof when, "%H:%M:%S", localtime(&wall));
				printf("pipeline: %zu segments, %zu endpoints    %s, last %.1fs\n\n", cur.n,
				       m.neps, when, dt);
				pl_out_table(stdout, &v);
				if (!tty)
					putchar('\n');
			}
		} else {
			printf("pipeline: %zu segments: watching every %.1fs; Ctrl-C to stop\n", cur.n,
			       interval_s);
		}
		fflush(stdout);
		int any_running = 0;
		for (size_t p = 0; p < m.nprocs; p++)
			any_running |= m.procs[p].running;
		int done = !first && m.nprocs && !any_running;
		prev_free(eprev, neprev);
		eprev = enow;
		neprev = m.neps;
		free(rates);
		pl_free(&m);
		free(in);
		set_free(&prev);
		prev = cur;
		last = t;
		if (done) {
			if (fmt == 0)
				printf("every process read has ended: watch ends\n");
			break;
		}
		first = 0;
		next += interval_s;
		if (next < ticker_now_s())
			next = ticker_now_s() + interval_s;
		if (!ticker_sleep_until(next))
			break;
	}
	prev_free(eprev, neprev);
	set_free(&prev);
	zcs_snapshot_free(empty);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}

/* ------------------------------------------------------------ entry */

int pipeline_run(int fmt, const char *const *args, size_t nargs, const char *output, int watching,
		 double interval_s, const char *address)
{
	struct pl_host host;
	if (pl_host_probe(&host, address) != 0) {
		stat_err("out of memory");
		return 1;
	}
	if (watching) {
		int rc = watch(fmt, args, nargs, interval_s, &host);
		pl_host_free(&host);
		return rc;
	}
	struct set st = { 0 };
	int rc = 0;
	if (!nargs)
		rc = add_dir(&st, zcs_dir());
	for (size_t i = 0; i < nargs && rc == 0; i++)
		rc = add_arg(&st, args[i], 0);
	if (rc != 0) {
		set_free(&st);
		pl_host_free(&host);
		return 1;
	}
	read_all(&st);
	struct pl_input *in = calloc(st.n ? st.n : 1, sizeof *in);
	struct pl_model m;
	if (!in || pl_build(&m, in, inputs(&st, in, 0), &host) != 0) {
		free(in);
		set_free(&st);
		pl_host_free(&host);
		stat_err("out of memory");
		return 1;
	}
	char tmp[PATH_MAX + 32];
	FILE *f = output ? outfile_open(output, tmp, sizeof tmp) : stdout;
	if (!f) {
		rc = 1;
	} else {
		if (!st.n && fmt == 0)
			fprintf(f, "(no zcshim segments in %s)\n", zcs_dir());
		else
			write_once(f, fmt, &m, &host);
		if (output)
			rc = outfile_commit(f, tmp, output);
	}
	pl_free(&m);
	free(in);
	set_free(&st);
	pl_host_free(&host);
	return rc;
}
