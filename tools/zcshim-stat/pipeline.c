/*
 * pipeline.c - the model behind `zcshim-stat --pipeline` (see pipeline.h):
 * sides joined by endpoint the way ZeroMQ connects them, the messages
 * between them, each process's split of time, and the bottleneck.
 *
 * Joining. Every socket row with endpoints is a node; a connect is joined
 * to the binds it would reach: same transport, and
 *   tcp, udp, ws: same port (and path); a bind to the wildcard host '*'
 *     (which the shim stores resolved, as tcp://0.0.0.0:5557) is reached by
 *     a connect to a loopback address of the same host, or to any of this
 *     host's own addresses or its name; another host's wildcard bind (a
 *     copied segment) by a connect to any address but loopback; a bind to
 *     one address by a connect to that address;
 *   ipc: the same path, on the same host (group);
 *   inproc: the same name, in the same process;
 * and only while both sockets were open at the same time, so last week's
 * run on the same port is not joined to today's. Nodes joined directly or
 * through a socket with several endpoints form one link, shown as one
 * endpoint (its names joined): a socket's counts cannot be split between
 * its endpoints.
 *
 * Counting. In a link of a point-to-point pattern every message sent is
 * received once, so sent - received is what sits between the sides: in
 * libzmq's queues, the kernel's socket buffers, or the network. While a
 * side runs that is "in queues now"; once every side has ended it is what
 * was never delivered. A live reading of two processes is not atomic: a
 * message could be counted received by a reader that read the sender
 * before it was sent. So received counts come from an earlier reading of
 * every segment (pl_input.early) than sent counts: then received <= sent
 * always holds, and in-queues overstate by at most what moved between the
 * two readings (a few milliseconds). PUB/SUB and RADIO/DISH copy each
 * message to every subscriber, or drop it: there the model gives what was
 * published and what each subscriber got; their difference is dropped or
 * filtered out or still queued, which it cannot tell apart.
 *
 * Time. Per process, from segread's zcs_time_split: time blocked in sends
 * and waiting in receives and polls (timed calls weighed by the calls each
 * stands for), as shares of the callers' thread time (from each thread's
 * first call to its end); working is the rest. docs/pipeline.md gives the
 * error.
 *
 * Bottleneck. For each process that receives from or sends to another:
 * score = working x (the most any upstream process is blocked sending; 1
 * for a source) x (the most any downstream process waits; 1 for a sink).
 * The stage with the highest score is named if it works at least
 * PL_BUSY_MIN of its time and scores at least PL_SCORE_MIN: busy, while
 * those feeding it are held back and those it feeds are starved.
 */
#include "pipeline.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ this host */

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int add_addr(struct pl_host *h, const char *a)
{
	for (size_t i = 0; i < h->naddrs; i++)
		if (!strcmp(h->addrs[i], a))
			return 0;
	char(*grown)[PL_ADDR_MAX] = realloc(h->addrs, (h->naddrs + 1) * sizeof *grown);
	if (!grown)
		return -1;
	h->addrs = grown;
	snprintf(h->addrs[h->naddrs++], PL_ADDR_MAX, "%s", a);
	return 0;
}

static int numeric(const struct sockaddr *sa, char *buf, size_t len)
{
	if (sa->sa_family == AF_INET)
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
				 (socklen_t)len) ? 0 : -1;
	if (sa->sa_family == AF_INET6)
		return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
				 (socklen_t)len) ? 0 : -1;
	return -1;
}

/* The address the kernel would send from to the rest of the world: a UDP
 * socket "connected" to a documentation address (RFC 5737; nothing is
 * sent), then asked where it stands. */
static int route_source(char *buf, size_t len)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);
	struct sockaddr_in me;
	socklen_t mlen = sizeof me;
	int rc = -1;
	if (connect(fd, (struct sockaddr *)&to, sizeof to) == 0 &&
	    getsockname(fd, (struct sockaddr *)&me, &mlen) == 0 && me.sin_addr.s_addr &&
	    numeric((struct sockaddr *)&me, buf, len) == 0)
		rc = 0;
	close(fd);
	return rc;
}

static int loopback_addr(const char *a)
{
	return !strncmp(a, "127.", 4) || !strcmp(a, "::1");
}

int pl_host_probe(struct pl_host *h, const char *address_override)
{
	memset(h, 0, sizeof *h);
	if (gethostname(h->hostname, sizeof h->hostname) != 0)
		h->hostname[0] = '\0';
	h->hostname[sizeof h->hostname - 1] = '\0';
	lower(h->hostname);
	struct ifaddrs *ifs = NULL;
	char a[PL_ADDR_MAX], first[PL_ADDR_MAX] = "";
	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
			if (!i->ifa_addr || numeric(i->ifa_addr, a, sizeof a) != 0)
				continue;
			if (add_addr(h, a) != 0) {
				freeifaddrs(ifs);
				pl_host_free(h);
				return -1;
			}
			if (!first[0] && !loopback_addr(a) && i->ifa_addr->sa_family == AF_INET)
				snprintf(first, sizeof first, "%s", a);
		}
		freeifaddrs(ifs);
	}
	if (address_override && *address_override)
		snprintf(h->address, sizeof h->address, "%s", address_override);
	else if (route_source(a, sizeof a) == 0)
		snprintf(h->address, sizeof h->address, "%s", a);
	else
		snprintf(h->address, sizeof h->address, "%s", first[0] ? first : "127.0.0.1");
	lower(h->address);
	return 0;
}

void pl_host_free(struct pl_host *h)
{
	free(h->addrs);
	h->addrs = NULL;
	h->naddrs = 0;
}

static int own_address(const struct pl_host *h, const char *host)
{
	if (!strcmp(host, h->address) || (h->hostname[0] && !strcmp(host, h->hostname)))
		return 1;
	for (size_t i = 0; i < h->naddrs; i++)
		if (!strcmp(h->addrs[i], host))
			return 1;
	return 0;
}

/* ------------------------------------------------------------ endpoints */

enum { H_NONE, H_WILD, H_LOOP, H_OTHER };

struct parsed {
	char transport[16];
	int tcp_like;   /* host:port[/path] */
	int kind;       /* H_* */
	char host[200]; /* lowercased, no brackets; loopback as 127.0.0.1 or ::1 */
	char port[16];
	char rest[256]; /* tcp-like: the path; else everything after "://" */
};

static void parse(const char *ep, struct parsed *p)
{
	memset(p, 0, sizeof *p);
	const char *sep = strstr(ep, "://");
	if (!sep || sep - ep >= (long)sizeof p->transport) {
		snprintf(p->rest, sizeof p->rest, "%s", ep);
		return;
	}
	memcpy(p->transport, ep, (size_t)(sep - ep));
	lower(p->transport);
	const char *after = sep + 3;
	p->tcp_like = !strcmp(p->transport, "tcp") || !strcmp(p->transport, "udp") ||
		      !strcmp(p->transport, "ws") || !strcmp(p->transport, "wss");
	if (!p->tcp_like) {
		snprintf(p->rest, sizeof p->rest, "%s", after);
		return;
	}
	/* "tcp://source;destination": the destination is what is reached */
	const char *semi = strrchr(after, ';');
	if (semi)
		after = semi + 1;
	const char *slash = strchr(after, '/');
	size_t hp_len = slash ? (size_t)(slash - after) : strlen(after);
	if (slash)
		snprintf(p->rest, sizeof p->rest, "%s", slash);
	char hp[200];
	snprintf(hp, sizeof hp, "%.*s", (int)(hp_len < sizeof hp ? hp_len : sizeof hp - 1), after);
	char *colon = strrchr(hp, ':');
	if (colon) {
		*colon = '\0';
		snprintf(p->port, sizeof p->port, "%s", colon + 1);
	}
	char *host = hp;
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		host++;
	}
	snprintf(p->host, sizeof p->host, "%s", host);
	lower(p->host);
	if (!strncmp(p->host, "::ffff:", 7) && strchr(p->host + 7, '.'))
		memmove(p->host, p->host + 7, strlen(p->host + 7) + 1);
	if (!p->host[0] || !strcmp(p->host, "*") || !strcmp(p->host, "0.0.0.0") ||
	    !strcmp(p->host, "::")) {
		p->kind = H_WILD;
	} else if (!strcmp(p->host, "localhost") || !strcmp(p->host, "ip6-localhost") ||
		   loopback_addr(p->host)) {
		p->kind = H_LOOP;
		if (!strcmp(p->host, "localhost"))
			strcpy(p->host, "127.0.0.1");
		else if (!strcmp(p->host, "ip6-localhost"))
			strcpy(p->host, "::1");
	} else {
		p->kind = H_OTHER;
	}
}

/* The key binds and connects that may meet share: transport and port (and
 * path), or transport and the rest. */
static void match_key(const struct parsed *p, char *buf, size_t len)
{
	if (p->tcp_like)
		snprintf(buf, len, "%s|%s|%s", p->transport, p->port, p->rest);
	else
		snprintf(buf, len, "%s|%s", p->transport, p->rest);
}

static int match_parsed(const struct parsed *c, unsigned cg, const struct parsed *b,
			unsigned bg, int this_host_b, int same_process, const struct pl_host *h)
{
	if (strcmp(c->transport, b->transport) != 0)
		return 0;
	if (!strcmp(c->transport, "inproc"))
		return same_process && !strcmp(c->rest, b->rest) ? 3 : 0;
	if (!c->tcp_like)
		return cg == bg && !strcmp(c->rest, b->rest) ? 3 : 0;
	if (strcmp(c->port, b->port) != 0 || !c->port[0] || !strcmp(c->port, "*") ||
	    !strcmp(c->port, "0") || strcmp(c->rest, b->rest) != 0)
		return 0;
	int c_local = c->kind == H_LOOP || c->kind == H_WILD; /* 0.0.0.0 reaches this host */
	switch (b->kind) {
	case H_WILD:
		if (c_local)
			return cg == bg ? 3 : 0;
		if (this_host_b)
			return own_address(h, c->host) ? 3 : 0;
		return cg == bg ? 2 : 1;
	case H_LOOP:
		return c_local && cg == bg &&
				       (!strcmp(c->host, b->host) || c->kind == H_WILD) ? 3 : 0;
	default:
		return c->kind == H_OTHER && !strcmp(c->host, b->host) ? 3 : 0;
	}
}

int pl_match(const char *c, unsigned cg, const char *b, unsigned bg, int this_host_b,
	     int same_process, const struct pl_host *host)
{
	struct parsed pc, pb;
	parse(c, &pc);
	parse(b, &pb);
	return match_parsed(&pc, cg, &pb, bg, this_host_b, same_process, host);
}

/* name with host in place of the parsed one */
static void name_with(const struct parsed *p, const char *host, char *buf, size_t len)
{
	int v6 = strchr(host, ':') != NULL;
	snprintf(buf, len, "%s://%s%s%s:%s%s", p->transport, v6 ? "[" : "", host, v6 ? "]" : "",
		 p->port, p->rest);
}

static void name_parsed(const char *raw, const struct parsed *p, int this_host,
			const struct pl_host *h, char *buf, size_t len)
{
	if (!p->tcp_like) {
		snprintf(buf, len, "%s", raw);
		return;
	}
	if (p->kind == H_WILD)
		name_with(p, this_host ? h->address : "*", buf, len);
	else
		name_with(p, p->host, buf, len);
}

void pl_name_of(const char *endpoint, int bound, int this_host, const struct pl_host *host,
		char *buf, size_t len)
{
	(void)bound;
	struct parsed p;
	parse(endpoint, &p);
	name_parsed(endpoint, &p, this_host, host, buf, len);
}

/* ------------------------------------------------------------ building */

/* A socket row with endpoints. */
struct node {
	size_t proc;
	unsigned slot;
	size_t first_ep, neps;    /* its endpoints, together in eps[] */
	uint64_t open_ns, end_ns; /* when it could carry messages; end UINT64_MAX: still */
	size_t parent;            /* union-find */
};

/* One endpoint of a node. */
struct nep {
	size_t node;
	int bound;
	const char *raw;
	struct parsed p;
	char key[300];
	int matched;              /* a connect joined to a bind, or a bind reached */
	char via[200];            /* another host's wildcard bind: the address a
	                             connect reached it by */
};

static size_t find(struct node *n, size_t i)
{
	while (n[i].parent != i) {
		n[i].parent = n[n[i].parent].parent;
		i = n[i].parent;
	}
	return i;
}

/* By key, binds first: a run of one key is its binds, then its connects. */
static int by_key(const void *a, const void *b)
{
	const struct nep *x = *(const struct nep *const *)a, *y = *(const struct nep *const *)b;
	int k = strcmp(x->key, y->key);
	return k ? k : y->bound - x->bound;
}

/* A socket's endpoints in one string, space-separated, "..." when the row
 * ran out of room. Raw bytes: the formats escape on output. */
static void endpoints_joined(const struct zcs_socket *row, char *buf, size_t len)
{
	size_t it = 0, used = 0;
	const char *ep;
	if (!len)
		return;
	buf[0] = '\0';
	while ((ep = zcs_endpoint_next(row, &it, NULL))) {
		int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", ep);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
	if (zcs_endpoints_cut(row))
		snprintf(buf + used, len - used, "%s...", used ? " " : "");
}

static int running_of(const struct pl_input *in)
{
	const struct zcs_snapshot *s = in->s;
	if (!in->this_host) /* liveness cannot be asked: the header says, as of the copy */
		return s->hdr.state == ZCS_STATE_RUNNING || s->live == ZCS_LIVE_STARTING;
	return s->live == ZCS_LIVE_RUNNING || s->live == ZCS_LIVE_STARTING ||
	       s->live == ZCS_LIVE_UNKNOWN;
}

static double share(double part, double whole)
{
	if (!(whole > 0))
		return PL_UNKNOWN;
	double v = part / whole;
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* Share of the calls behind the split that were timed. */
static double timed_share(const struct zcs_snapshot *t)
{
	uint64_t calls = 0, timed = 0;
	for (unsigned c = 1; c < t->sum.ncells; c++) {
		unsigned slot, op, path, k;
		if (zcs_cell_fields(t, c, &slot, &op, &path, &k) != 0 ||
		    !(zcs_op_sends(op) || zcs_op_receives(op) || op == ZCS_OP_POLL))
			continue;
		calls += t->sum.cell[c].count;
		timed += zcs_cell_timed(&t->sum.cell[c]);
	}
	return calls ? (timed >= calls ? 1 : (double)timed / (double)calls) : PL_UNKNOWN;
}

static void proc_times(struct pl_proc *p, const struct zcs_snapshot *t)
{
	p->timed = timed_share(t);
	struct zcs_time_split split;
	zcs_time_split(t, ZCS_ALL, &split);
	p->busy_ns = (double)split.busy_ns;
	p->send_ns = split.send_ns;
	p->wait_ns = split.wait_ns;
	p->untimed_calls = split.untimed_calls;
	p->blocked = share(p->send_ns, p->busy_ns);
	p->waiting = share(p->wait_ns, p->busy_ns);
	if (p->blocked == PL_UNKNOWN) {
		p->working = PL_UNKNOWN;
	} else {
		if (p->blocked + p->waiting > 1) /* estimates past the whole: scale to it */
			p->waiting = 1 - p->blocked;
		p->working = 1 - p->blocked - p->waiting;
	}
}

/* zmq.h type numbers: PAIR 0 PUB 1 SUB 2 REQ 3 REP 4 DEALER 5 ROUTER 6
 * PULL 7 PUSH 8 XPUB 9 XSUB 10 STREAM 11 SERVER 12 CLIENT 13 RADIO 14
 * DISH 15 GATHER 16 SCATTER 17 DGRAM 18 PEER 19 CHANNEL 20 */
static const char *family(int type)
{
	static const char *const f[] = {
		"pair", "pub/sub", "pub/sub", "req/rep", "req/rep", "dealer/router",
		"dealer/router", "push/pull", "push/pull", "pub/sub", "pub/sub", "stream",
		"client/server", "client/server", "radio/dish", "radio/dish", "scatter/gather",
		"scatter/gather", "dgram", "peer", "channel",
	};
	return type >= 0 && type < (int)(sizeof f / sizeof f[0]) ? f[type] : "?";
}

/* Only sends data into the endpoint / only takes data out of it; other
 * types do both, and are told by what they did. */
static int type_sends_only(int t)
{
	return t == 1 || t == 8 || t == 9 || t == 14 || t == 17;
}

static int type_receives_only(int t)
{
	return t == 2 || t == 7 || t == 10 || t == 15 || t == 16;
}

static void pattern_of(struct pl_endpoint *e, const struct pl_side *sides)
{
	const char *fam = NULL;
	int reqrep_only = 1, mixed = 0;
	for (size_t i = 0; i < e->nsides; i++) {
		const struct pl_side *sd = &sides[e->first_side + i];
		const char *f = family(sd->type);
		if (!strcmp(f, "req/rep") || !strcmp(f, "dealer/router")) {
			reqrep_only &= !strcmp(f, "req/rep");
			f = "req/rep";
		}
		if (fam && strcmp(fam, f) != 0)
			mixed = 1;
		fam = f;
	}
	if (!fam)
		fam = "?";
	if (!strcmp(fam, "req/rep") && !reqrep_only)
		fam = "dealer/router";
	e->pattern = mixed ? "mixed" : fam;
	e->fanout = !mixed && (!strcmp(fam, "pub/sub") || !strcmp(fam, "radio/dish"));
	static const char *const p2p[] = { "pair", "req/rep", "dealer/router", "push/pull",
					   "client/server", "scatter/gather", "peer", "channel" };
	e->p2p = 0;
	for (size_t i = 0; !mixed && i < sizeof p2p / sizeof p2p[0]; i++)
		e->p2p |= !strcmp(fam, p2p[i]);
}

static void endpoint_totals(struct pl_endpoint *e, struct pl_side *sides)
{
	uint64_t published = 0;
	e->running = 0;
	for (size_t i = 0; i < e->nsides; i++) {
		struct pl_side *sd = &sides[e->first_side + i];
		e->running |= sd->running;
		e->bound_side |= sd->bound;
		e->connected_side |= !sd->bound;
		if (e->fanout) {
			if (sd->sends) {
				published += sd->sent_msgs;
				e->sent_bytes += sd->sent_bytes;
			}
			if (sd->receives) {
				e->recv_msgs += sd->recv_msgs;
				e->recv_bytes += sd->recv_bytes;
			}
		} else {
			e->sent_msgs += sd->sent_msgs;
			e->sent_bytes += sd->sent_bytes;
			e->recv_msgs += sd->recv_msgs;
			e->recv_bytes += sd->recv_bytes;
		}
	}
	e->in_queues = e->not_delivered = -1;
	if (e->fanout) {
		e->sent_msgs = published;
		for (size_t i = 0; i < e->nsides; i++) {
			struct pl_side *sd = &sides[e->first_side + i];
			if (sd->receives)
				sd->missed = published > sd->recv_msgs
						     ? (int64_t)(published - sd->recv_msgs) : 0;
		}
		return;
	}
	if (!e->p2p)
		return;
	if (e->recv_msgs > e->sent_msgs) {
		e->missing_side = 1;
		return;
	}
	uint64_t diff = e->sent_msgs - e->recv_msgs;
	if (e->running) {
		e->in_queues = (int64_t)diff;
	} else {
		e->in_queues = 0;
		e->not_delivered = (int64_t)diff;
	}
}

/* ------------------------------------------------------------ bottleneck */

static void bottleneck(struct pl_model *m)
{
	memset(&m->bn, 0, sizeof m->bn);
	m->bn.up_proc = m->bn.down_proc = m->bn.ep_in = m->bn.ep_out = -1;
	double best = -1;
	for (size_t p = 0; p < m->nprocs; p++) {
		const struct pl_proc *P = &m->procs[p];
		if (P->working == PL_UNKNOWN)
			continue;
		int has_up = 0, has_down = 0;
		double up = 0, down = 0;
		long up_proc = -1, down_proc = -1, ep_in = -1, ep_out = -1;
		for (size_t e = 0; e < m->neps; e++) {
			const struct pl_endpoint *E = &m->eps[e];
			int p_recv = 0, p_send = 0;
			for (size_t i = 0; i < E->nsides; i++) {
				const struct pl_side *s = &m->sides[E->first_side + i];
				if (s->proc == p) {
					p_recv |= s->receives;
					p_send |= s->sends;
				}
			}
			for (size_t i = 0; i < E->nsides; i++) {
				const struct pl_side *s = &m->sides[E->first_side + i];
				const struct pl_proc *Q = &m->procs[s->proc];
				if (s->proc == p || Q->working == PL_UNKNOWN)
					continue;
				if (p_recv && s->sends) { /* Q feeds P */
					has_up = 1;
					if (Q->blocked > up || up_proc < 0) {
						up = Q->blocked;
						up_proc = (long)s->proc;
						ep_in = (long)e;
					}
				}
				if (p_send && s->receives) { /* P feeds Q */
					has_down = 1;
					if (Q->waiting > down || down_proc < 0) {
						down = Q->waiting;
						down_proc = (long)s->proc;
						ep_out = (long)e;
					}
				}
			}
		}
		if (!has_up && !has_down)
			continue; /* not a stage of anything read */
		double score = P->working * (has_up ? up : 1) * (has_down ? down : 1);
		if (score > best) {
			best = score;
			m->bn.proc = p;
			m->bn.score = score;
			m->bn.up_proc = up_proc;
			m->bn.down_proc = down_proc;
			m->bn.ep_in = ep_in;
			m->bn.ep_out = ep_out;
			m->bn.up_blocked = has_up ? up : PL_UNKNOWN;
			m->bn.down_waiting = has_down ? down : PL_UNKNOWN;
		}
	}
	m->bn.found = best >= PL_SCORE_MIN && m->procs[m->bn.proc].working >= PL_BUSY_MIN;
}

/* ------------------------------------------------------------ build */

static int add_name(char ***names, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*names)[i], name))
			return 0;
	char **grown = realloc(*names, (*n + 1) * sizeof *grown);
	if (!grown)
		return -1;
	*names = grown;
	if (!(grown[*n] = strdup(name)))
		return -1;
	(*n)++;
	return 0;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void pl_free(struct pl_model *m)
{
	for (size_t i = 0; i < m->neps; i++)
		free(m->eps[i].name);
	free(m->eps);
	free(m->sides);
	free(m->procs);
	free(m->strings);
	memset(m, 0, sizeof *m);
}

static uint64_t end_of(const struct zcs_snapshot *s, const struct zcs_socket *row, int running)
{
	if (row->closed_unix_ns)
		return row->closed_unix_ns;
	if (!running && s->hdr.exit_unix_ns)
		return s->hdr.exit_unix_ns;
	return UINT64_MAX; /* running, or ended without saying when (killed) */
}

int pl_build(struct pl_model *m, const struct pl_input *in, size_t n, const struct pl_host *host)
{
	memset(m, 0, sizeof *m);
	struct node *nodes = NULL;
	struct nep *eps = NULL, **order = NULL;
	size_t nnodes = 0, neps = 0, cap_nodes = 0, cap_eps = 0;
	size_t *comp_of = NULL, *members = NULL, *member_at = NULL;
	char **names = NULL;
	size_t nnames = 0;
	int rc = -1;

	m->procs = calloc(n ? n : 1, sizeof *m->procs);
	if (!m->procs)
		goto out;
	m->nprocs = n;
	for (size_t i = 0; i < n; i++) {
		struct pl_proc *p = &m->procs[i];
		p->s = in[i].s;
		p->group = in[i].group;
		p->this_host = in[i].this_host;
		p->running = running_of(&in[i]);
		proc_times(p, in[i].times ? in[i].times : in[i].s);
	}
	/* nodes and their endpoints */
	for (size_t i = 0; i < n; i++) {
		const struct zcs_snapshot *s = in[i].s;
		for (unsigned slot = 1; slot < ZCS_NSLOTS; slot++) {
			const struct zcs_socket *row = &s->shared.sockets[slot];
			if (row->state == ZCS_SOCK_FREE)
				continue;
			size_t it = 0;
			int bound;
			const char *ep;
			size_t before = neps;
			while ((ep = zcs_endpoint_next(row, &it, &bound))) {
				if (neps == cap_eps) {
					cap_eps = cap_eps ? 2 * cap_eps : 64;
					struct nep *g = realloc(eps, cap_eps * sizeof *g);
					if (!g)
						goto out;
					eps = g;
				}
				struct nep *e = &eps[neps++];
				memset(e, 0, sizeof *e);
				e->node = nnodes;
				e->bound = bound;
				e->raw = ep;
				parse(ep, &e->p);
				match_key(&e->p, e->key, sizeof e->key);
			}
			if (neps == before) {
				struct zcs_traffic t;
				zcs_traffic(s, slot, &t);
				m->unplaced_sockets += t.sent_frames || t.recv_frames;
				continue;
			}
			if (nnodes == cap_nodes) {
				cap_nodes = cap_nodes ? 2 * cap_nodes : 32;
				struct node *g = realloc(nodes, cap_nodes * sizeof *g);
				if (!g)
					goto out;
				nodes = g;
			}
			nodes[nnodes] = (struct node){ i, slot, before, neps - before, row->opened_unix_ns,
						       end_of(s, row, m->procs[i].running), nnodes };
			nnodes++;
		}
	}
	/* join: within a run of the same key, each connect to its best binds */
	order = malloc((neps ? neps : 1) * sizeof *order);
	if (!order)
		goto out;
	for (size_t i = 0; i < neps; i++)
		order[i] = &eps[i];
	qsort(order, neps, sizeof *order, by_key);
	for (size_t a = 0; a < neps;) {
		size_t b = a, binds_end;
		while (b < neps && !strcmp(order[b]->key, order[a]->key))
			b++;
		for (binds_end = a; binds_end < b && order[binds_end]->bound; binds_end++)
			;
		for (size_t i = binds_end; i < b; i++) {
			struct nep *c = order[i];
			const struct node *cn = &nodes[c->node];
			int best = 0;
			for (int pass = 0; pass < 2; pass++)
				for (size_t j = a; j < binds_end; j++) {
					struct nep *d = order[j];
					const struct node *dn = &nodes[d->node];
					if (d->node == c->node || cn->open_ns > dn->end_ns ||
					    dn->open_ns > cn->end_ns)
						continue;
					const struct pl_proc *cp = &m->procs[cn->proc],
							     *dp = &m->procs[dn->proc];
					int score = match_parsed(&c->p, cp->group, &d->p, dp->group,
								 dp->this_host, cn->proc == dn->proc, host);
					if (pass == 0) {
						best = score > best ? score : best;
						continue;
					}
					if (!best || score != best)
						continue;
					c->matched = d->matched = 1;
					if (d->p.kind == H_WILD && !dp->this_host && c->p.kind == H_OTHER &&
					    cp->group != dp->group)
						snprintf(d->via, sizeof d->via, "%s", c->p.host);
					size_t x = find(nodes, c->node), y = find(nodes, d->node);
					if (x != y)
						nodes[x].parent = y;
				}
		}
		a = b;
	}
	/* links: one endpoint per component, one side per node */
	comp_of = malloc((nnodes ? nnodes : 1) * sizeof *comp_of);
	members = malloc((nnodes ? nnodes : 1) * sizeof *members);
	member_at = calloc(nnodes + 1, sizeof *member_at);
	m->sides = calloc(nnodes ? nnodes : 1, sizeof *m->sides);
	m->eps = calloc(nnodes ? nnodes : 1, sizeof *m->eps);
	if (!comp_of || !members || !member_at || !m->sides || !m->eps)
		goto out;
	for (size_t i = 0; i < nnodes; i++)
		comp_of[i] = SIZE_MAX;
	/* endpoints in the order their first node was found: processes in
	 * input order, sockets in slot order */
	for (size_t i = 0; i < nnodes; i++) {
		size_t r = find(nodes, i);
		if (comp_of[r] == SIZE_MAX) {
			comp_of[r] = m->neps;
			m->neps++;
		}
	}
	/* the nodes of each component, in node order: members[member_at[e] ..] */
	for (size_t i = 0; i < nnodes; i++)
		member_at[comp_of[find(nodes, i)] + 1]++;
	for (size_t e = 0; e < m->neps; e++)
		member_at[e + 1] += member_at[e];
	{
		size_t *fill = calloc(m->neps ? m->neps : 1, sizeof *fill);
		if (!fill)
			goto out;
		for (size_t i = 0; i < nnodes; i++) {
			size_t e = comp_of[find(nodes, i)];
			members[member_at[e] + fill[e]++] = i;
		}
		free(fill);
	}
	/* the sides' recorded endpoint lists, in one block: each joined list is
	 * shorter than the row's (a space where an entry has its kind byte and
	 * NUL), and " ..." when cut */
	size_t per_side = sizeof(((struct zcs_socket *)0)->endpoints) + 5;
	size_t strings_len = nnodes * per_side + 1;
	m->strings = malloc(strings_len);
	if (!m->strings)
		goto out;
	size_t used_strings = 0;
	for (size_t e = 0; e < m->neps; e++) {
		struct pl_endpoint *E = &m->eps[e];
		E->first_side = m->nsides;
		nnames = 0;
		for (size_t mi = member_at[e]; mi < member_at[e + 1]; mi++) {
			const struct node *nd = &nodes[members[mi]];
			const struct pl_proc *P = &m->procs[nd->proc];
			const struct zcs_snapshot *s = P->s;
			const struct zcs_socket *row = &s->shared.sockets[nd->slot];
			struct pl_side *sd = &m->sides[m->nsides++];
			sd->proc = nd->proc;
			sd->slot = nd->slot;
			sd->type = row->type;
			sd->running = P->running && row->state == ZCS_SOCK_OPEN;
			sd->missed = -1;
			struct zcs_traffic late, early;
			zcs_traffic(s, nd->slot, &late);
			const struct zcs_snapshot *es = in[nd->proc].early ? in[nd->proc].early : s;
			zcs_traffic(es, nd->slot, &early);
			sd->sent_msgs = late.sent_msgs;
			sd->sent_bytes = late.sent_bytes;
			sd->recv_msgs = early.recv_msgs;
			sd->recv_bytes = early.recv_bytes;
			struct zcs_time_split split;
			zcs_time_split(in[nd->proc].times ? in[nd->proc].times : s, nd->slot, &split);
			sd->send_ns = split.send_ns;
			sd->wait_ns = split.wait_ns;
			sd->sends = type_sends_only(sd->type) ||
				    (!type_receives_only(sd->type) && sd->sent_msgs > 0);
			sd->receives = type_receives_only(sd->type) ||
				       (!type_sends_only(sd->type) && sd->recv_msgs > 0);
			char *list = m->strings + used_strings;
			endpoints_joined(row, list, strings_len - used_strings);
			used_strings += strlen(list) + 1;
			sd->endpoints = list;
			m->procs[nd->proc].placed = 1;
			for (size_t k = nd->first_ep; k < nd->first_ep + nd->neps; k++) {
				const struct nep *x = &eps[k];
				sd->bound |= x->bound;
				if (!x->bound && x->matched)
					continue; /* named by the bind it reached */
				char name[300];
				if (x->via[0])
					name_with(&x->p, x->via, name, sizeof name);
				else
					name_parsed(x->raw, &x->p, P->this_host, host, name, sizeof name);
				if (add_name(&names, &nnames, name) != 0)
					goto out;
			}
		}
		E->nsides = m->nsides - E->first_side;
		qsort(names, nnames, sizeof *names, by_str);
		size_t len = 1;
		for (size_t i = 0; i < nnames; i++)
			len += strlen(names[i]) + 1;
		if (!(E->name = malloc(len)))
			goto out;
		E->name[0] = '\0';
		for (size_t i = 0; i < nnames; i++) {
			if (i)
				strcat(E->name, " ");
			strcat(E->name, names[i]);
			free(names[i]);
		}
		nnames = 0;
		pattern_of(E, m->sides);
		endpoint_totals(E, m->sides);
	}
	bottleneck(m);
	rc = 0;
out:
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(nodes);
	free(eps);
	free(order);
	free(comp_of);
	free(members);
	free(member_at);
	if (rc != 0)
		pl_free(m);
	return rc;
}
