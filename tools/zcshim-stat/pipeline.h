/*
 * pipeline.h - the model behind `zcshim-stat --pipeline`: processes joined
 * by the endpoints their sockets bound and connected, as ZeroMQ joins them.
 *
 * Input: snapshots of segments (this host's, or copied from others), each
 * tagged with the group it was read from (a directory: one host). Output:
 * every endpoint with its sides (a process's socket), what each side sent
 * into it and received from it, the messages queued in it (point-to-point
 * patterns) or published and got (PUB/SUB, RADIO/DISH), each process's
 * split of time (blocked sending, waiting to receive, working), and the
 * stage that holds the pipeline back.
 *
 * Nothing here prints, reads files or exits: zcshim-stat's pipeline_run.c
 * loads, format/pipeline.c writes, and the tests drive the model directly.
 */
#ifndef ZCSHIM_PIPELINE_H
#define ZCSHIM_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "segread.h"

/* What the model knows of this host, to match a wildcard bind with a
 * connect to one of its addresses, and to name such an endpoint the way a
 * connect from another host does. */
#define PL_ADDR_MAX 64
struct pl_host {
	char address[PL_ADDR_MAX];  /* the name of this host in endpoint names:
	                               --address, else the source address of the
	                               default route, else the first other, else
	                               127.0.0.1 */
	char hostname[256];         /* gethostname(), lowercased */
	char (*addrs)[PL_ADDR_MAX]; /* every interface address, numeric */
	size_t naddrs;
};

/* Fill h from the system; address_override (may be NULL) names this host.
 * Returns 0, or -1 when out of memory. */
int pl_host_probe(struct pl_host *h, const char *address_override);
void pl_host_free(struct pl_host *h);

/* One segment to place. */
struct pl_input {
	const struct zcs_snapshot *s;     /* counts, sockets, state */
	const struct zcs_snapshot *early; /* an earlier reading of the same segment, for
	                                     received counts (NULL: s); see pipeline.c */
	const struct zcs_snapshot *times; /* what the split of time is taken from (an
	                                     interval's difference); NULL: s */
	unsigned group;                   /* where it was read: one host */
	int this_host;                    /* ... and that is this host */
};

#define PL_UNKNOWN (-1.0) /* a share that cannot be told */

struct pl_proc {
	const struct zcs_snapshot *s;
	unsigned group;
	int this_host;
	int running;                /* not known to have ended (a copied segment:
	                               as of the copy) */
	double busy_ns;             /* callers' thread time */
	double send_ns, wait_ns;    /* estimated inside sends / receives and polls */
	double blocked, waiting, working; /* shares of busy_ns; PL_UNKNOWN if no time */
	uint64_t untimed_calls;
	double timed;               /* share of its sends, receives and polls that were
	                               timed (1: the split is exact); PL_UNKNOWN: none */
	int placed;                 /* has a side in some endpoint */
};

struct pl_side {
	size_t proc;                /* index in procs */
	unsigned slot;              /* socket id in that process */
	int type;                   /* zmq.h number */
	int bound;                  /* bound (else connected) to this endpoint */
	int running;                /* the process runs and the socket is open */
	int sends, receives;        /* carries data into / out of the endpoint */
	uint64_t sent_msgs, sent_bytes, recv_msgs, recv_bytes;
	double send_ns, wait_ns;    /* this socket's estimated time in sends, receives */
	const char *endpoints;      /* its own endpoints in this link, as recorded */
	int64_t missed;             /* fan-out subscriber: published - got; -1 otherwise */
};

struct pl_endpoint {
	char *name;                 /* normalised (pl_name_of), several joined by " " */
	const char *pattern;        /* "push/pull", "pub/sub", "req/rep", ... "mixed" */
	int fanout;                 /* pub/sub, radio/dish: published vs got */
	int p2p;                    /* one message goes to one peer: in-queues hold */
	size_t first_side, nsides;  /* in sides[] */
	uint64_t sent_msgs, sent_bytes; /* p2p: every side's; fan-out: published */
	uint64_t recv_msgs, recv_bytes; /* every receiving side's */
	int running;                /* some side still runs */
	int64_t in_queues;          /* p2p: sent - received while running, 0 after; -1 unknown */
	int64_t not_delivered;      /* p2p, every side ended: sent - received; -1 unknown */
	int missing_side;           /* received more than sent: a sender was not read */
	int bound_side, connected_side; /* has a bound / connected side */
};

struct pl_bottleneck {
	int found;
	size_t proc;                /* the stage */
	double score;               /* working x upstream blocked x downstream waiting */
	long up_proc, down_proc;    /* the evidence; -1 none (a source, a sink) */
	long ep_in, ep_out;         /* endpoints it came through, -1 none */
	double up_blocked, down_waiting;
};

struct pl_model {
	struct pl_proc *procs;
	size_t nprocs;
	struct pl_side *sides;
	size_t nsides;
	struct pl_endpoint *eps;
	size_t neps;
	size_t unplaced_sockets;    /* sockets with traffic but no endpoint to place them */
	struct pl_bottleneck bn;
	char *strings;              /* the sides' endpoint lists, in one block */
};

/* Build m from n inputs. 0, or -1 (out of memory; m is then empty). */
int pl_build(struct pl_model *m, const struct pl_input *in, size_t n, const struct pl_host *host);
void pl_free(struct pl_model *m);

/* An endpoint as --pipeline names it, on its own (as a bind or connect of a
 * segment of this host when this_host): a bind to the wildcard host '*' on
 * this host is named by this host's address (tcp://10.0.0.5:5557; on a copied
 * segment, by '*'), "localhost" becomes 127.0.0.1, hosts are lowercased. */
void pl_name_of(const char *endpoint, int bound, int this_host, const struct pl_host *host,
		char *buf, size_t len);

/* Would a connect to c (from a segment of group cg) reach a bind at b (group
 * bg)? 0 no; 1 maybe (another host's wildcard bind, its addresses unknown);
 * 2 likely; 3 yes. inproc needs same_process. */
int pl_match(const char *c, unsigned cg, const char *b, unsigned bg, int this_host_b,
	     int same_process, const struct pl_host *host);

/* The bottleneck rule's thresholds (see pipeline.c). */
#define PL_BUSY_MIN  0.5
#define PL_SCORE_MIN 0.1

#endif
