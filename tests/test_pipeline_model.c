/*
 * test_pipeline_model.c - the rules of `zcshim-stat --pipeline` on synthetic
 * segments, where every answer is known: how endpoints are matched and
 * named, what is queued, lost, published and got, the split of time, the
 * bottleneck; then the command as a user runs it on copied segments: its
 * JSON against the schema (tests/pipeline-schema.py), its Prometheus text
 * and the PromQL of docs/pipeline-rules.yml (promtool),
 * --watch with Little's law, and its usage errors.
 *
 * The real processes are in tests/test_pipeline.c.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "histo.h"
#include "pipeline.h"
#include "segimg.h"
#include "segread.h"
#include "spawn.h"

static struct pl_host host;
static char dir[64];
static struct zc_proc proc;

static void setup(void)
{
	memset(&host, 0, sizeof host);
	/* a host of known addresses: 10.0.0.5 on eth0, loopback */
	snprintf(host.address, sizeof host.address, "10.0.0.5");
	snprintf(host.hostname, sizeof host.hostname, "alpha");
	host.addrs = calloc(3, sizeof *host.addrs);
	cr_assert_not_null(host.addrs);
	snprintf(host.addrs[0], PL_ADDR_MAX, "127.0.0.1");
	snprintf(host.addrs[1], PL_ADDR_MAX, "10.0.0.5");
	snprintf(host.addrs[2], PL_ADDR_MAX, "::1");
	host.naddrs = 3;
	seg_tmpdir(dir, sizeof dir);
}

static void teardown(void)
{
	pl_host_free(&host);
	seg_rmdir(dir);
}

TestSuite(plmatch, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ matching */

/* connect c (group cg), bind b (group bg, this host or not), same process? */
static int m(const char *c, unsigned cg, const char *b, unsigned bg, int this_host, int same)
{
	return pl_match(c, cg, b, bg, this_host, same, &host);
}

Test(plmatch, a_wildcard_bind_is_reached_through_loopback_on_its_own_host_only)
{
	cr_assert_eq(m("tcp://localhost:5557", 0, "tcp://0.0.0.0:5557", 0, 1, 0), 3);
	cr_assert_eq(m("tcp://127.0.0.1:5557", 0, "tcp://0.0.0.0:5557", 0, 1, 0), 3);
	cr_assert_eq(m("tcp://[::1]:5557", 0, "tcp://[::]:5557", 0, 1, 0), 3);
	cr_assert_eq(m("tcp://LOCALHOST:5557", 0, "tcp://*:5557", 0, 1, 0), 3, "unresolved, cased");
	/* another host's loopback is not this one's */
	cr_assert_eq(m("tcp://localhost:5557", 1, "tcp://0.0.0.0:5557", 0, 1, 0), 0);
	/* another port, another transport */
	cr_assert_eq(m("tcp://localhost:5558", 0, "tcp://0.0.0.0:5557", 0, 1, 0), 0);
	cr_assert_eq(m("udp://localhost:5557", 0, "tcp://0.0.0.0:5557", 0, 1, 0), 0);
}

Test(plmatch, a_wildcard_bind_on_this_host_is_reached_by_its_addresses_and_name)
{
	cr_assert_eq(m("tcp://10.0.0.5:5557", 0, "tcp://0.0.0.0:5557", 0, 1, 0), 3);
	cr_assert_eq(m("tcp://alpha:5557", 0, "tcp://0.0.0.0:5557", 0, 1, 0), 3);
	/* from a copied segment of another host, by this host's address */
	cr_assert_eq(m("tcp://10.0.0.5:5557", 1, "tcp://0.0.0.0:5557", 0, 1, 0), 3);
	/* an address this host does not have is another host's endpoint */
	cr_assert_eq(m("tcp://10.0.0.9:5557", 0, "tcp://0.0.0.0:5557", 0, 1, 0), 0);
	cr_assert_eq(m("tcp://10.0.0.9:5557", 1, "tcp://0.0.0.0:5557", 0, 1, 0), 0);
}

Test(plmatch, another_hosts_wildcard_bind_is_reached_by_any_address_but_loopback)
{
	/* copied from elsewhere (this_host 0): its addresses are not known */
	cr_assert_eq(m("tcp://10.0.0.9:5557", 1, "tcp://0.0.0.0:5557", 2, 0, 0), 1, "maybe");
	cr_assert_eq(m("tcp://10.0.0.9:5557", 2, "tcp://0.0.0.0:5557", 2, 0, 0), 2, "likely");
	cr_assert_eq(m("tcp://localhost:5557", 2, "tcp://0.0.0.0:5557", 2, 0, 0), 3);
	cr_assert_eq(m("tcp://localhost:5557", 1, "tcp://0.0.0.0:5557", 2, 0, 0), 0);
}

Test(plmatch, a_bind_to_one_address_is_reached_by_that_address_only)
{
	cr_assert_eq(m("tcp://10.0.0.5:5557", 0, "tcp://10.0.0.5:5557", 0, 1, 0), 3);
	cr_assert_eq(m("tcp://10.0.0.5:5557", 3, "tcp://10.0.0.5:5557", 0, 1, 0), 3);
	cr_assert_eq(m("tcp://localhost:5557", 0, "tcp://10.0.0.5:5557", 0, 1, 0), 0);
	cr_assert_eq(m("tcp://localhost:5557", 0, "tcp://127.0.0.1:5557", 0, 1, 0), 3);
	cr_assert_eq(m("tcp://[::1]:5557", 0, "tcp://127.0.0.1:5557", 0, 1, 0), 0);
	/* "source;destination": the destination counts */
	cr_assert_eq(m("tcp://10.0.0.5:0;127.0.0.1:5557", 0, "tcp://0.0.0.0:5557", 0, 1, 0), 3);
	/* a mapped IPv4 address is that address */
	cr_assert_eq(m("tcp://[::ffff:127.0.0.1]:5557", 0, "tcp://127.0.0.1:5557", 0, 1, 0), 3);
}

Test(plmatch, ipc_by_path_on_one_host_and_inproc_in_one_process)
{
	cr_assert_eq(m("ipc:///tmp/feed", 0, "ipc:///tmp/feed", 0, 1, 0), 3);
	cr_assert_eq(m("ipc:///tmp/feed", 1, "ipc:///tmp/feed", 0, 1, 0), 0, "another host");
	cr_assert_eq(m("ipc:///tmp/feed2", 0, "ipc:///tmp/feed", 0, 1, 0), 0);
	cr_assert_eq(m("ipc://@abstract", 0, "ipc://@abstract", 0, 1, 0), 3);
	cr_assert_eq(m("inproc://jobs", 0, "inproc://jobs", 0, 1, 1), 3);
	cr_assert_eq(m("inproc://jobs", 0, "inproc://jobs", 0, 1, 0), 0, "two processes");
	cr_assert_eq(m("ws://localhost:80/a", 0, "ws://0.0.0.0:80/a", 0, 1, 0), 3);
	cr_assert_eq(m("ws://localhost:80/b", 0, "ws://0.0.0.0:80/a", 0, 1, 0), 0, "path");
}

Test(plmatch, names_say_which_host)
{
	char buf[256];
	pl_name_of("tcp://0.0.0.0:5557", 1, 1, &host, buf, sizeof buf);
	cr_assert_str_eq(buf, "tcp://10.0.0.5:5557");
	pl_name_of("tcp://0.0.0.0:5557", 1, 0, &host, buf, sizeof buf);
	cr_assert_str_eq(buf, "tcp://*:5557", "another host's: its address is not known");
	pl_name_of("tcp://localhost:5557", 0, 1, &host, buf, sizeof buf);
	cr_assert_str_eq(buf, "tcp://127.0.0.1:5557");
	pl_name_of("tcp://[::1]:5557", 0, 1, &host, buf, sizeof buf);
	cr_assert_str_eq(buf, "tcp://[::1]:5557");
	pl_name_of("tcp://Beta.Example:5557", 0, 1, &host, buf, sizeof buf);
	cr_assert_str_eq(buf, "tcp://beta.example:5557");
	pl_name_of("ipc:///tmp/Feed", 1, 1, &host, buf, sizeof buf);
	cr_assert_str_eq(buf, "ipc:///tmp/Feed");
}

/* ------------------------------------------------------------ the model */

#define MAXP 6
static unsigned char *img[MAXP];
static struct zcs_snapshot *snap[MAXP];
static struct pl_model model;

/* A process image: its state, its busy time. */
static unsigned char *proc_img(int i, unsigned state, const char *exe, uint64_t busy_ns)
{
	free(img[i]);
	img[i] = seg_new(1000 + i, state, exe);
	seg_shard(img[i], 1)->busy_ns_done = busy_ns;
	seg_shard(img[i], 1)->threads = 1;
	return img[i];
}

/* Socket slot of image i: type and endpoints "b:tcp://..." or "c:...",
 * space-separated; open (or closed) over [open_s, close_s) after start. */
static void sock(int i, unsigned slot, int type, const char *eps, double open_s, double close_s)
{
	struct zcs_shared *sh = seg_shared(img[i]);
	struct zcs_socket *row = &sh->sockets[slot];
	uint64_t start = seg_hdr(img[i])->start_unix_ns;
	sh->sockets_seen++;
	row->state = close_s > 0 ? ZCS_SOCK_CLOSED : ZCS_SOCK_OPEN;
	row->type = type;
	row->opened_unix_ns = start + (uint64_t)(open_s * 1e9);
	row->closed_unix_ns = close_s > 0 ? start + (uint64_t)(close_s * 1e9) : 0;
	char copy[ZCS_ENDPOINTS_MAX];
	snprintf(copy, sizeof copy, "%s", eps);
	size_t used = 0;
	for (char *save, *e = strtok_r(copy, " ", &save); e; e = strtok_r(NULL, " ", &save)) {
		size_t len = strlen(e + 2);
		row->endpoints[used] = e[0];
		memcpy(row->endpoints + used + 1, e + 2, len + 1);
		used += len + 2;
	}
}

/* msgs sent (or received) on slot, each of bytes, timed at ns each. */
static void sent(int i, unsigned slot, uint64_t msgs, uint64_t bytes, uint64_t ns)
{
	seg_put_on(img[i], slot, ZCS_OP_SEND, ZCS_PATH_COPY, bytes, msgs, ns);
}

static void got(int i, unsigned slot, uint64_t msgs, uint64_t bytes, uint64_t ns)
{
	seg_put_on(img[i], slot, ZCS_OP_MSG_RECV, ZCS_PATH_COPY, bytes, msgs, ns);
}

/* Parse the images (as zcshim-stat reads them) and build the model; every
 * image in group groups[i] (NULL: all 0), this host when group 0. */
static void build(int n, const unsigned *groups)
{
	struct pl_input in[MAXP];
	for (int i = 0; i < n; i++) {
		char err[300];
		if (!snap[i])
			snap[i] = zcs_snapshot_new();
		cr_assert_eq(zcs_parse(img[i], zcs_shard_offset(2), snap[i], err, sizeof err), 0,
			     "%s", err);
		unsigned g = groups ? groups[i] : 0;
		in[i] = (struct pl_input){ snap[i], NULL, NULL, g, g == 0 };
	}
	pl_free(&model);
	cr_assert_eq(pl_build(&model, in, (size_t)n, &host), 0);
}

static void model_teardown(void)
{
	pl_free(&model);
	for (int i = 0; i < MAXP; i++) {
		free(img[i]);
		img[i] = NULL;
		zcs_snapshot_free(snap[i]);
		snap[i] = NULL;
	}
	teardown();
}

TestSuite(plmodel2, .init = setup, .fini = model_teardown);

static const struct pl_endpoint *ep_named(const char *name)
{
	for (size_t e = 0; e < model.neps; e++)
		if (!strcmp(model.eps[e].name, name))
			return &model.eps[e];
	cr_assert_fail("no endpoint %s", name);
	return NULL;
}

static const struct pl_side *side(const struct pl_endpoint *E, int p)
{
	for (size_t i = 0; i < E->nsides; i++)
		if (model.sides[E->first_side + i].proc == (size_t)p)
			return &model.sides[E->first_side + i];
	cr_assert_fail("process %d has no side in %s", p, E->name);
	return NULL;
}

Test(plmodel2, sent_minus_received_is_in_queues_while_running_and_lost_after)
{
	proc_img(0, ZCS_STATE_RUNNING, "src", 1000000000);
	sock(0, 1, ZMQ_PUSH, "b:tcp://0.0.0.0:5557", 0, 0);
	sent(0, 1, 100, 50, 1000);
	proc_img(1, ZCS_STATE_RUNNING, "dst", 1000000000);
	sock(1, 1, ZMQ_PULL, "c:tcp://localhost:5557", 0.5, 0);
	got(1, 1, 60, 50, 1000);
	build(2, NULL);
	cr_assert_eq(model.neps, 1);
	const struct pl_endpoint *E = ep_named("tcp://10.0.0.5:5557");
	cr_assert_str_eq(E->pattern, "push/pull");
	cr_assert(E->running && E->p2p && !E->fanout);
	cr_assert_eq(E->nsides, 2);
	cr_assert(side(E, 0)->bound && !side(E, 1)->bound);
	cr_assert_eq(E->sent_msgs, 100);
	cr_assert_eq(E->recv_msgs, 60);
	cr_assert_eq(E->sent_bytes, 5000);
	cr_assert_eq(E->in_queues, 40);
	cr_assert_eq(E->not_delivered, -1);
	/* both ended: what was queued was never delivered */
	seg_hdr(img[0])->state = ZCS_STATE_EXITED;
	seg_hdr(img[1])->state = ZCS_STATE_EXITED;
	build(2, NULL);
	E = ep_named("tcp://10.0.0.5:5557");
	cr_assert(!E->running);
	cr_assert_eq(E->in_queues, 0);
	cr_assert_eq(E->not_delivered, 40);
}

Test(plmodel2, more_received_than_sent_means_a_sender_was_not_read)
{
	proc_img(0, ZCS_STATE_RUNNING, "src", 1000);
	sock(0, 1, ZMQ_PUSH, "b:ipc:///tmp/q", 0, 0);
	sent(0, 1, 10, 1, 1);
	proc_img(1, ZCS_STATE_RUNNING, "dst", 1000);
	sock(1, 1, ZMQ_PULL, "c:ipc:///tmp/q", 0, 0);
	got(1, 1, 25, 1, 1);
	build(2, NULL);
	const struct pl_endpoint *E = ep_named("ipc:///tmp/q");
	cr_assert(E->missing_side);
	cr_assert_eq(E->in_queues, -1);
	cr_assert_eq(E->not_delivered, -1);
}

Test(plmodel2, sockets_open_at_different_times_are_not_joined)
{
	/* yesterday's sender, today's receiver, the same endpoint */
	proc_img(0, ZCS_STATE_EXITED, "old", 1000);
	sock(0, 1, ZMQ_PUSH, "b:tcp://0.0.0.0:5557", 0, 10);
	sent(0, 1, 5, 1, 1);
	proc_img(1, ZCS_STATE_RUNNING, "new", 1000);
	sock(1, 1, ZMQ_PULL, "c:tcp://127.0.0.1:5557", 20, 0);
	got(1, 1, 3, 1, 1);
	build(2, NULL);
	cr_assert_eq(model.neps, 2);
	cr_assert_eq(ep_named("tcp://10.0.0.5:5557")->nsides, 1);
	cr_assert_eq(ep_named("tcp://127.0.0.1:5557")->nsides, 1);
}

Test(plmodel2, inproc_joins_within_a_process_only)
{
	proc_img(0, ZCS_STATE_RUNNING, "a", 1000);
	sock(0, 1, ZMQ_PUSH, "b:inproc://jobs", 0, 0);
	sock(0, 2, ZMQ_PULL, "c:inproc://jobs", 0, 0);
	sent(0, 1, 7, 1, 1);
	got(0, 2, 7, 1, 1);
	proc_img(1, ZCS_STATE_RUNNING, "b", 1000);
	sock(1, 1, ZMQ_PULL, "c:inproc://jobs", 0, 0);
	build(2, NULL);
	cr_assert_eq(model.neps, 2, "each process's inproc is its own");
	const struct pl_endpoint *E = &model.eps[0];
	cr_assert_eq(E->nsides, 2);
	unsigned slots = 0;
	for (size_t i = 0; i < E->nsides; i++) {
		const struct pl_side *sd = &model.sides[E->first_side + i];
		cr_assert_eq(sd->proc, 0, "both sides in process 0");
		slots |= 1u << sd->slot;
	}
	cr_assert_eq(slots, 6u, "its sockets 1 and 2");
	cr_assert_eq(E->in_queues, 0);
}

Test(plmodel2, a_copied_hosts_wildcard_bind_is_named_by_the_address_connects_used)
{
	unsigned groups[] = { 1, 2 };
	proc_img(0, ZCS_STATE_RUNNING, "src", 1000);
	sock(0, 1, ZMQ_PUSH, "b:tcp://0.0.0.0:6000", 0, 0);
	sent(0, 1, 30, 10, 1);
	proc_img(1, ZCS_STATE_RUNNING, "dst", 1000);
	sock(1, 1, ZMQ_PULL, "c:tcp://10.1.1.1:6000", 0, 0);
	got(1, 1, 30, 10, 1);
	build(2, groups);
	cr_assert_eq(model.neps, 1);
	const struct pl_endpoint *E = ep_named("tcp://10.1.1.1:6000");
	cr_assert_eq(E->nsides, 2);
	cr_assert_eq(E->in_queues, 0);
	/* copied segments: running as their headers say */
	cr_assert(model.procs[0].running && !model.procs[0].this_host);
}

Test(plmodel2, pub_sub_gives_published_and_what_each_subscriber_got)
{
	proc_img(0, ZCS_STATE_EXITED, "pub", 1000);
	sock(0, 1, ZMQ_PUB, "b:tcp://0.0.0.0:7000", 0, 0);
	sent(0, 1, 100, 8, 1);
	proc_img(1, ZCS_STATE_EXITED, "fast", 1000);
	sock(1, 1, ZMQ_SUB, "c:tcp://localhost:7000", 0, 0);
	got(1, 1, 100, 8, 1);
	proc_img(2, ZCS_STATE_EXITED, "slow", 1000);
	sock(2, 1, ZMQ_XSUB, "c:tcp://localhost:7000", 0, 0);
	got(2, 1, 30, 8, 1);
	sent(2, 1, 1, 1, 1); /* its subscription: not published */
	build(3, NULL);
	const struct pl_endpoint *E = ep_named("tcp://10.0.0.5:7000");
	cr_assert_str_eq(E->pattern, "pub/sub");
	cr_assert(E->fanout && !E->p2p);
	cr_assert_eq(E->sent_msgs, 100, "published");
	cr_assert_eq(E->recv_msgs, 130);
	cr_assert_eq(side(E, 1)->missed, 0);
	cr_assert_eq(side(E, 2)->missed, 70);
	cr_assert_eq(side(E, 0)->missed, -1);
	cr_assert_eq(E->in_queues, -1);
	cr_assert_eq(E->not_delivered, -1);
}

/* A socket with many long endpoints, then sockets after it: each side's
 * recorded list is whole, and none spills into the next (the block they
 * share was once sized from the first endpoint only). */
Test(plmodel2, sides_with_many_long_endpoints_keep_their_lists_whole)
{
	char eps[ZCS_ENDPOINTS_MAX], want[ZCS_ENDPOINTS_MAX];
	size_t used = 0, wused = 0;
	for (int k = 0; k < 3; k++) { /* 3 x 62 bytes stored, of the row's 224 */
		used += (size_t)snprintf(eps + used, sizeof eps - used, "%sb:ipc:///tmp/%s-%d",
					 k ? " " : "", "a-rather-long-endpoint-path-for-one-sock", k);
		wused += (size_t)snprintf(want + wused, sizeof want - wused, "%sipc:///tmp/%s-%d",
					  k ? " " : "", "a-rather-long-endpoint-path-for-one-sock", k);
	}
	proc_img(0, ZCS_STATE_RUNNING, "many", 1000);
	sock(0, 1, ZMQ_PUSH, eps, 0, 0);
	sent(0, 1, 10, 1, 1);
	sock(0, 2, ZMQ_PUSH, "b:ipc:///tmp/second", 0, 0);
	sent(0, 2, 10, 1, 1);
	proc_img(1, ZCS_STATE_RUNNING, "sink", 1000);
	sock(1, 1, ZMQ_PULL, "c:ipc:///tmp/a-rather-long-endpoint-path-for-one-sock-2 "
			     "c:ipc:///tmp/second",
	     0, 0);
	got(1, 1, 20, 1, 1);
	build(2, NULL);
	int seen_many = 0, seen_second = 0;
	for (size_t i = 0; i < model.nsides; i++) {
		const struct pl_side *sd = &model.sides[i];
		if (sd->proc == 0 && sd->slot == 1) {
			cr_assert_str_eq(sd->endpoints, want);
			seen_many++;
		} else if (sd->proc == 0 && sd->slot == 2) {
			cr_assert_str_eq(sd->endpoints, "ipc:///tmp/second");
			seen_second++;
		}
	}
	cr_assert(seen_many && seen_second, "both sockets are sides");
}

Test(plmodel2, a_socket_connected_to_two_binds_makes_one_link_of_both)
{
	proc_img(0, ZCS_STATE_RUNNING, "w1", 1000);
	sock(0, 1, ZMQ_PUSH, "b:tcp://0.0.0.0:8001", 0, 0);
	sent(0, 1, 10, 1, 1);
	proc_img(1, ZCS_STATE_RUNNING, "w2", 1000);
	sock(1, 1, ZMQ_PUSH, "b:tcp://0.0.0.0:8002", 0, 0);
	sent(1, 1, 20, 1, 1);
	proc_img(2, ZCS_STATE_RUNNING, "sink", 1000);
	sock(2, 1, ZMQ_PULL, "c:tcp://localhost:8001 c:tcp://localhost:8002", 0, 0);
	got(2, 1, 25, 1, 1);
	build(3, NULL);
	cr_assert_eq(model.neps, 1);
	const struct pl_endpoint *E = ep_named("tcp://10.0.0.5:8001 tcp://10.0.0.5:8002");
	cr_assert_eq(E->nsides, 3);
	cr_assert_eq(E->in_queues, 5);
}

Test(plmodel2, req_rep_counts_both_ways)
{
	proc_img(0, ZCS_STATE_RUNNING, "client", 1000);
	sock(0, 1, ZMQ_REQ, "c:ipc:///tmp/rr", 0, 0);
	sent(0, 1, 10, 1, 1);
	got(0, 1, 9, 1, 1);
	proc_img(1, ZCS_STATE_RUNNING, "server", 1000);
	sock(1, 1, ZMQ_REP, "b:ipc:///tmp/rr", 0, 0);
	got(1, 1, 10, 1, 1);
	sent(1, 1, 10, 1, 1);
	build(2, NULL);
	const struct pl_endpoint *E = ep_named("ipc:///tmp/rr");
	cr_assert_str_eq(E->pattern, "req/rep");
	cr_assert_eq(E->in_queues, 1, "one reply on its way");
	cr_assert(side(E, 0)->sends && side(E, 0)->receives);
	proc_img(2, ZCS_STATE_RUNNING, "router", 1000);
	sock(2, 1, ZMQ_ROUTER, "b:ipc:///tmp/dr", 0, 0);
	proc_img(3, ZCS_STATE_RUNNING, "dealer", 1000);
	sock(3, 1, ZMQ_DEALER, "c:ipc:///tmp/dr", 0, 0);
	build(4, NULL);
	cr_assert_str_eq(ep_named("ipc:///tmp/dr")->pattern, "dealer/router");
}

/* source (blocked 90 %) -> middle (working) -> sink (waiting 95 %) */
static void three(uint64_t src_send_ns, uint64_t mid_recv_ns, uint64_t mid_send_ns,
		  uint64_t sink_recv_ns)
{
	const uint64_t busy = 1000000000, n = 1000;
	proc_img(0, ZCS_STATE_EXITED, "source", busy);
	sock(0, 1, ZMQ_PUSH, "b:tcp://0.0.0.0:5557", 0, 0);
	sent(0, 1, n, 100, src_send_ns / n);
	proc_img(1, ZCS_STATE_EXITED, "middle", busy);
	sock(1, 1, ZMQ_PULL, "c:tcp://localhost:5557", 0, 0);
	sock(1, 2, ZMQ_PUSH, "c:tcp://localhost:5558", 0, 0);
	got(1, 1, n, 100, mid_recv_ns / n);
	sent(1, 2, n, 100, mid_send_ns / n);
	proc_img(2, ZCS_STATE_EXITED, "sink", busy);
	sock(2, 1, ZMQ_PULL, "b:tcp://0.0.0.0:5558", 0, 0);
	got(2, 1, n, 100, sink_recv_ns / n);
	build(3, NULL);
}

Test(plmodel2, time_shares_and_a_slow_middle_named_the_bottleneck)
{
	three(900000000, 10000000, 20000000, 950000000);
	const struct pl_proc *mid = &model.procs[1];
	cr_assert_float_eq(model.procs[0].blocked, 0.9, 0.001);
	cr_assert_float_eq(mid->waiting, 0.01, 0.001);
	cr_assert_float_eq(mid->blocked, 0.02, 0.001);
	cr_assert_float_eq(mid->working, 0.97, 0.001);
	cr_assert_float_eq(model.procs[2].waiting, 0.95, 0.001);
	cr_assert(model.bn.found);
	cr_assert_eq(model.bn.proc, 1);
	cr_assert_eq(model.bn.up_proc, 0);
	cr_assert_eq(model.bn.down_proc, 2);
	cr_assert_float_eq(model.bn.score, 0.97 * 0.9 * 0.95, 0.002);
	cr_assert_str_eq(model.eps[model.bn.ep_in].name, "tcp://10.0.0.5:5557");
	cr_assert_str_eq(model.eps[model.bn.ep_out].name, "tcp://10.0.0.5:5558");
	/* per socket: the middle's PUSH blocked 2 %, its PULL waited 1 % */
	const struct pl_side *push = side(ep_named("tcp://10.0.0.5:5558"), 1);
	cr_assert_float_eq(push->send_ns, 20000000, 1000);
}

Test(plmodel2, a_slow_sink_is_named_and_nobody_when_all_idle)
{
	three(800000000, 10000000, 900000000, 50000000);
	cr_assert(model.bn.found);
	cr_assert_eq(model.bn.proc, 2);
	cr_assert_eq(model.bn.up_proc, 1);
	cr_assert_eq(model.bn.down_proc, -1);
	/* a source that is never held back sets the pace */
	three(1000, 900000000, 1000, 900000000);
	cr_assert(model.bn.found && model.bn.proc == 0 && model.bn.up_proc == -1);
	/* everyone mostly waits or is held back: nobody is named */
	three(600000000, 900000000, 1000, 900000000);
	cr_assert(!model.bn.found, "proc %zu named, score %.3f", model.bn.proc, model.bn.score);
}

Test(plmodel2, no_caller_time_means_unknown_shares)
{
	proc_img(0, ZCS_STATE_RUNNING, "idle", 0);
	sock(0, 1, ZMQ_PUSH, "b:ipc:///tmp/x", 0, 0);
	build(1, NULL);
	cr_assert_eq(model.procs[0].working, PL_UNKNOWN);
	cr_assert_eq(model.procs[0].blocked, PL_UNKNOWN);
	cr_assert(!model.bn.found);
	cr_assert(!model.eps[0].connected_side);
}

/* ------------------------------------------------------------ the command */

static char dir_b[64];

static void cli_setup(void)
{
	setup();
	seg_tmpdir(dir_b, sizeof dir_b);
}

static void cli_teardown(void)
{
	seg_rmdir(dir_b);
	model_teardown();
}

TestSuite(plcli, .init = cli_setup, .fini = cli_teardown, .timeout = 60);

static void write_img(int i, const char *d)
{
	char path[160];
	snprintf(path, sizeof path, "%s/zcshim.0.%d.12345.0", d, seg_hdr(img[i])->pid);
	seg_write(img[i], path);
}

/* Two copied hosts: A runs the source (bound to the wildcard, port 5557);
 * B runs the middle (connected to A by address, bound to 5558) and the
 * sink (connected through localhost). All running, as copied. */
static void two_hosts(uint64_t src_sent, uint64_t mid_got, uint64_t mid_sent, uint64_t sink_got)
{
	proc_img(0, ZCS_STATE_RUNNING, "zcsource", 1000000000);
	sock(0, 1, ZMQ_PUSH, "b:tcp://0.0.0.0:5557", 0, 0);
	sent(0, 1, src_sent, 100, 900000);
	proc_img(1, ZCS_STATE_RUNNING, "zcmiddle", 1000000000);
	sock(1, 1, ZMQ_PULL, "c:tcp://10.9.9.9:5557", 0, 0);
	sock(1, 2, ZMQ_PUSH, "b:tcp://0.0.0.0:5558", 0, 0);
	got(1, 1, mid_got, 100, 10000);
	sent(1, 2, mid_sent, 100, 20000);
	proc_img(2, ZCS_STATE_RUNNING, "zcsink", 1000000000);
	sock(2, 1, ZMQ_PULL, "c:tcp://localhost:5558", 0, 0);
	got(2, 1, sink_got, 100, 950000);
	write_img(0, dir);
	write_img(1, dir_b);
	write_img(2, dir_b);
}

/* Run zcshim-stat with these arguments (NULL-ended); its exit status. */
static int stat_run(const char *const argv[])
{
	return zc_run(&proc, 0, NULL, argv);
}

/* The schema check over stdout; its key=value lines in proc.out after. */
static void schema_check(void)
{
	char file[128];
	snprintf(file, sizeof file, "%s/out.json", dir_b);
	seg_spit(file, proc.out);
	const char *argv[] = { "/usr/bin/env", "python3", "tests/pipeline-schema.py", file, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, argv), 0, "schema: %s%s", proc.err, proc.out);
}

static const char *value(const char *key, char *buf, size_t len)
{
	char pat[200];
	snprintf(pat, sizeof pat, "\n%s=", key);
	const char *p = strncmp(proc.out, pat + 1, strlen(pat + 1)) ? strstr(proc.out, pat)
								    : proc.out - 1;
	cr_assert_not_null(p, "no %s in:\n%s", key, proc.out);
	p += strlen(pat);
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

#define VALUE_IS(key, want)                                                     \
	do {                                                                    \
		char v_[200];                                                   \
		cr_assert_str_eq(value(key, v_, sizeof v_), want, "%s", key);   \
	} while (0)

Test(plcli, json_of_segments_copied_from_two_hosts_follows_the_schema)
{
	two_hosts(1000, 900, 900, 850);
	const char *argv[] = { "zcshim-stat", "--pipeline", "--json", dir, dir_b, NULL };
	cr_assert_eq(stat_run(argv), 0, "%s", proc.err);
	schema_check();
	VALUE_IS("documents", "1");
	VALUE_IS("d0.endpoints.0.endpoint", "tcp://10.9.9.9:5557");
	VALUE_IS("d0.endpoints.0.pattern", "push/pull");
	VALUE_IS("d0.endpoints.0.in_queues", "100");
	VALUE_IS("d0.endpoints.0.not_delivered", "null");
	VALUE_IS("d0.endpoints.0.sides.0.program", "zcsource");
	VALUE_IS("d0.endpoints.0.sides.0.bound", "true");
	VALUE_IS("d0.endpoints.0.sides.1.endpoints.0", "tcp://10.9.9.9:5557");
	cr_assert_null(strstr(proc.out, "d0.endpoints.0.rate"), "rates without --watch");
	VALUE_IS("d0.endpoints.1.endpoint", "tcp://*:5558");
	VALUE_IS("d0.endpoints.1.in_queues", "50");
	VALUE_IS("d0.processes.0.state", "copied");
	VALUE_IS("d0.processes.0.blocked_send", "0.9");
	VALUE_IS("d0.bottleneck.program", "zcmiddle");
	VALUE_IS("d0.bottleneck.endpoint_in", "tcp://10.9.9.9:5557");
	VALUE_IS("d0.bottleneck.endpoint_out", "tcp://*:5558");
	VALUE_IS("d0.bottleneck.upstream.program", "zcsource");
	VALUE_IS("d0.bottleneck.downstream.program", "zcsink");
}

Test(plcli, the_table_shows_sides_queues_and_the_bottleneck)
{
	two_hosts(1000, 900, 900, 850);
	const char *argv[] = { "zcshim-stat", "--pipeline", dir, dir_b, NULL };
	cr_assert_eq(stat_run(argv), 0, "%s", proc.err);
	cr_assert(strstr(proc.out, "endpoint tcp://10.9.9.9:5557  push/pull, running\n"), "%s",
		  proc.out);
	cr_assert(strstr(proc.out, "  in queues now: 100 messages (sent 1000, received 900)\n"),
		  "%s", proc.out);
	cr_assert(strstr(proc.out, "bottleneck: pid 1001 (zcmiddle), working "), "%s", proc.out);
	cr_assert(strstr(proc.out, "1000     zcsource       copied       90.0%     0.0%    10.0%"
				   "          1.00s     all\n"), "%s", proc.out);
	cr_assert_eq(proc.err[0], '\0', "%s", proc.err);
}

Test(plcli, prometheus_families_follow_the_exposition_format)
{
	two_hosts(1000, 900, 900, 850);
	char out[128];
	snprintf(out, sizeof out, "%s/pipe.prom", dir_b);
	const char *argv[] = { "zcshim-stat", "--pipeline", "--prometheus", "-o", out, dir, dir_b,
			       NULL };
	cr_assert_eq(stat_run(argv), 0, "%s", proc.err);
	char *text = seg_slurp(out, NULL);
	cr_assert(strstr(text, "zcshim_endpoint_sent_messages_total{endpoint=\"tcp://10.9.9.9:5557\","
			       "pattern=\"push/pull\",pid=\"1000\",seq=\"0\",exe=\"zcsource\","
			       "socket=\"1\",socket_type=\"PUSH\",side=\"bound\"} 1000\n"),
		  "%s", text);
	cr_assert(strstr(text, "zcshim_endpoint_in_queue_messages{endpoint=\"tcp://*:5558\","
			       "pattern=\"push/pull\"} 50\n"), "%s", text);
	cr_assert(strstr(text, "zcshim_process_busy_seconds_total{pid=\"1002\",seq=\"0\","
			       "exe=\"zcsink\"} 1\n"), "%s", text);
	/* every sample belongs to the family declared last, counters end in _total */
	char family[128] = "";
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char name[128];
		if (sscanf(line, "# TYPE %127s", name) == 1) {
			snprintf(family, sizeof family, "%s", name);
			const char *type = line + strlen("# TYPE ") + strlen(name) + 1;
			if (!strcmp(type, "counter"))
				cr_assert(strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "_total"),
					  "%s", line);
			continue;
		}
		if (line[0] == '#')
			continue;
		cr_assert(!strncmp(line, family, strlen(family)) && line[strlen(family)] == '{',
			  "sample outside its family %s: %s", family, line);
	}
	free(text);
	zc_promtool_check(&proc, out);
}

/* The recording rules of docs/pipeline-rules.yml (in-queues per endpoint,
 * shares, the bottleneck across hosts), by promtool's own unit test. */
Test(plcli, the_promql_in_the_docs_passes_promtools_test)
{
	const char *check[] = { zc_promtool(), "check", "rules", "docs/pipeline-rules.yml", NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, check), 0, "%s%s", proc.out, proc.err);
	const char *test[] = { zc_promtool(), "test", "rules", "tests/pipeline-rules.test.yml",
			       NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, test), 0, "%s%s", proc.out, proc.err);
}

Test(plcli, watch_gives_rates_and_the_mean_time_in_queue_by_littles_law)
{
	two_hosts(1000, 900, 900, 900);
	const char *argv[] = { "zcshim-stat", "--pipeline", "--watch", "--json", "-i", "0.5", dir,
			       dir_b, NULL };
	zc_start(&proc, 0, NULL, argv);
	char line[64];
	cr_assert_eq(zc_wait_prefix(&proc, "{\"version\":1", line, sizeof line, 20), 0, "%s",
		     proc.err);
	/* the next interval: 600 more sent into the first endpoint, 500 more
	 * taken out: 100 queued, then 200 */
	two_hosts(1600, 1400, 1400, 1400);
	/* the second document, with rates (bounded wait) */
	char ignored[8];
	for (int i = 0; i < 30 && !strstr(proc.out, "\"rate\":{"); i++)
		zc_wait_prefix(&proc, "no line starts so", ignored, sizeof ignored, 1);
	kill(proc.pid, SIGINT);
	cr_assert_eq(zc_finish(&proc, 20), 0, "%s", proc.err);
	schema_check();
	char a[64], b[64], c[64];
	double sent_rate = atof(value("d1.endpoints.0.rate.sent_per_s", a, sizeof a));
	double recv_rate = atof(value("d1.endpoints.0.rate.received_per_s", b, sizeof b));
	double queue_ns = atof(value("d1.endpoints.0.rate.mean_time_in_queue_ns", c, sizeof c));
	VALUE_IS("d0.endpoints.0.in_queues", "100");
	VALUE_IS("d0.endpoints.0.rate", "null"); /* the first reading has no interval */
	VALUE_IS("d1.endpoints.0.in_queues", "200");
	cr_assert_float_eq(sent_rate / recv_rate, 600.0 / 500.0, 0.001);
	/* L = lambda W: the mean queue over the interval, (100 + 200) / 2 */
	cr_assert_float_eq(queue_ns / 1e9 * recv_rate, 150, 0.5, "W %.0f ns, lambda %.1f/s",
			   queue_ns, recv_rate);
}

Test(plcli, usage_errors_exit_2_and_a_missing_process_1)
{
	static const char *const bad[][6] = {
		{ "--pipeline", "--csv", NULL },
		{ "--pipeline", "--all", NULL },
		{ "--pipeline", "--by", "socket", NULL },
		{ "--pipeline", "--raw", NULL },
		{ "--pipeline", "--watch", "--prometheus", NULL },
		{ "--pipeline", "--watch", "-o", "/tmp/x", NULL },
		{ "--pipeline", "--recommend", NULL },
		{ "--address", "10.0.0.1", NULL },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *argv[8] = { "zcshim-stat" };
		for (size_t k = 0; bad[i][k]; k++)
			argv[k + 1] = bad[i][k];
		cr_assert_eq(stat_run(argv), 2, "%s %s: %s", bad[i][0], bad[i][1], proc.err);
		cr_assert_eq(strchr(proc.err, '\n') - proc.err + 1,
			     (long)(strlen(proc.err) - strlen("Try 'zcshim-stat --help' for more "
							     "information.\n")),
			     "one line and the hint: %s", proc.err);
	}
	const char *missing[] = { "zcshim-stat", "--pipeline", "--dir", dir, "no-such-program", NULL };
	cr_assert_eq(stat_run(missing), 1);
	cr_assert(strstr(proc.err, "no-such-program") && strchr(proc.err, '\n') ==
		  proc.err + strlen(proc.err) - 1, "%s", proc.err);
	const char *empty[] = { "zcshim-stat", "--pipeline", "--dir", dir, NULL };
	cr_assert_eq(stat_run(empty), 0);
	cr_assert(strstr(proc.out, "(no zcshim segments in "), "%s", proc.out);
}

/* The per-process document carries the receive side: its series (through
 * the same walk as sends), and each socket's sent and received. */
Test(plcli, a_processs_json_has_its_receive_series_and_each_sockets_traffic)
{
	proc_img(0, ZCS_STATE_EXITED, "recv", 2000000000);
	sock(0, 1, ZMQ_PULL, "c:tcp://localhost:5557", 0, 0);
	got(0, 1, 40, 300, 50000000);
	seg_put_on(img[0], 0, ZCS_OP_POLL, ZCS_PATH_WAIT, 0, 10, 1000000);
	seg_fail_on(img[0], 1, ZCS_OP_RECV, ZCS_ERR_EAGAIN, 3);
	write_img(0, dir);
	char path[160], file[160];
	snprintf(path, sizeof path, "%s/zcshim.0.1000.12345.0", dir);
	const char *argv[] = { "zcshim-stat", "--json", "--by", "socket", path, NULL };
	cr_assert_eq(stat_run(argv), 0, "%s", proc.err);
	snprintf(file, sizeof file, "%s/one.json", dir_b);
	seg_spit(file, proc.out);
	char prog[600];
	snprintf(prog, sizeof prog,
		 "import json,sys; d=json.load(open('%s'));"
		 "s={x['op']:x for x in d['series']};"
		 "k=[x for x in d['sockets'] if x['id']==1][0];"
		 "print('msg_recv=%%d poll=%%d received=%%d bytes=%%d failed=%%d wait_ns=%%d busy=%%d' %%"
		 "(s['msg_recv']['count'],s['poll']['count'],k['received']['messages'],"
		 "k['received']['bytes'],k['failed']['recv']['EAGAIN'],d['time']['wait_ns'],"
		 "d['time']['busy_ns']))",
		 file);
	const char *py[] = { "/usr/bin/env", "python3", "-c", prog, NULL };
	cr_assert_eq(zc_run(&proc, 0, NULL, py), 0, "%s%s", proc.err, proc.out);
	cr_assert_eq(zc_out_value(&proc, "msg_recv"), 40, "%s", proc.out);
	cr_assert_eq(zc_out_value(&proc, "poll"), 10);
	cr_assert_eq(zc_out_value(&proc, "received"), 40);
	cr_assert_eq(zc_out_value(&proc, "bytes"), 12000);
	cr_assert_eq(zc_out_value(&proc, "failed"), 3);
	/* 40 x 50 ms receiving, 10 x 1 ms polling */
	cr_assert_eq(zc_out_value(&proc, "wait_ns"), 2010000000);
	cr_assert_eq(zc_out_value(&proc, "busy"), 2000000000);
}
