/*
 * zcapp - the test programs the integration tests run under LD_PRELOAD.
 *
 * Each scenario is an ordinary ZeroMQ app that checks, by itself, the part
 * of libzmq's contract the shim could break: every byte arrives in order,
 * every zero-copy buffer's ffn runs exactly once and never inside
 * zmq_msg_init_data, a failed send leaves the message as it was. It prints
 * what it saw as key=value lines and exits 0 only if every check held, so a
 * test fails whether the shim breaks the app or the app's view disagrees
 * with what zcshim-stat recorded.
 *
 *   zcapp pushpull [--transport T] [--api A] [--copy|--const] [--sizes L]
 *                  [--count N] [--wait-stdin] [--fork-after|--exec-after]
 *     --fork-after: then fork; the child sends 30 x 200 B the same way
 *     --exec-after: then exec zcapp pushpull --sizes 300 --count 20
 *   zcapp router   [--sizes L] [--count N]      multipart DEALER <- ROUTER
 *   zcapp eagain   [--sizes L]                  DONTWAIT on a peerless PUSH
 *   zcapp ffnsend  [--count N] [--sizes L]      ffn sends under a mutex (pyzmq)
 *   zcapp msgcopy  [--sizes L] [--count N]      zmq_msg_copy, zmq_msg_move, send both
 *   zcapp threads  [--count N]                  threads made before and after
 *                                               the shim's first call
 *   zcapp sockets  [--transport T] [--count N]  PUSH -> PULL zero-copy, and a PUB
 *                                               sending copies, closed before exit
 *   zcapp many     [--count N] [--sizes L]      N PUB sockets, one copy of each size;
 *                  [--const] [--fail]           --const: and one zmq_send_const each;
 *                                               --fail: then on each socket a zmq_recv
 *                                               and a zmq_msg_recv, which a PUB refuses
 *   any scenario --fork-first: fork before any libzmq call; the child runs
 *     the scenario, then the parent does
 *   zcapp backlog  [--count N] [--sizes L]      N zero-copy messages queued behind
 *                                               a PULL that reads only afterwards
 *   zcapp binds    --bind EP [--bind EP]...     a PUSH bound to every EP (any bytes:
 *                  [--count N] [--sizes L]      spaces, quotes, invalid UTF-8), a
 *                                               PULL on the first
 *   zcapp fanout   [--threads K] [--sockets S] [--count N] [--sizes L] [--api A]
 *                                               K threads, alive at once, each sending
 *                                               N of every size to its share of S PUB
 *                                               sockets that nobody subscribes to
 *   zcapp none                                  no libzmq call at all
 *   zcapp shm      [--count MIB]                a neighbour: map MIB MiB of its own
 *                                               POSIX shm and touch every page (no
 *                                               libzmq call; SIGBUS if /dev/shm is full)
 * Options of any scenario, for the segment tests (issue 13):
 *   --hold-first     print "holding" and read stdin to its end before any libzmq call
 *   --pause          at the end print "paused" and wait for a signal (a daemon)
 *   --reexec N       at the end exec itself with --reexec N-1 (a reload), N images
 *   --setuid-before UID, --setuid-after UID: change to UID (gid UID too)
 *                    before the first libzmq call / after the scenario (and
 *                    then run it again: new threads, new sizes), with
 *   --uid-call C     setuid (default) | seteuid (root is taken back at the end)
 *                    | setreuid | setresuid
 *
 * T: inproc (default) | ipc | tcp.  A: msg_send (default) | sendmsg | send |
 * send_const.  L: comma-separated byte sizes (default 100).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_SIZES 16
#define MAX_BUFS  (1 << 20)

#define MAX_BINDS 8

static struct {
	const char *binds[MAX_BINDS];
	int nbinds;
	const char *transport, *api;
	int copy, constant, wait_stdin, fork_after, exec_after, fork_first;
	size_t sizes[MAX_SIZES];
	int nsizes;
	long count;
	int threads, sockets, hold_first, pause, reexec;
	long uid_before, uid_after;
	const char *uid_call;
	int fail;
} opt = { { NULL }, 0, "inproc", "msg_send", 0, 0, 0, 0, 0, 0, { 100 }, 1, 100,
	  4, 8, 0, 0, -1, -1, -1, "setuid", 0 };

static int failures;
#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "zcapp: check failed: " __VA_ARGS__); \
			fputc('\n', stderr);                               \
			failures++;                                        \
		}                                                          \
	} while (0)

/* ---- buffers, and their ffn accounting ---- */

static int *ffn_calls;          /* per buffer id */
static long nbufs;
static __thread int in_init_data;
static __thread int in_send;  /* this thread is inside a zmq send call */
static int ffn_in_init;
static int ffn_in_send;       /* ffns run by the sender inside its send: what
                                 a conversion looks like from the app */
static int ffn_total;

static void ffn_count(void *data, void *hint)
{
	long id = (long)(intptr_t)hint;
	if (in_init_data)
		__atomic_add_fetch(&ffn_in_init, 1, __ATOMIC_RELAXED);
	if (in_send)
		__atomic_add_fetch(&ffn_in_send, 1, __ATOMIC_RELAXED);
	if (id >= 0 && id < nbufs)
		__atomic_add_fetch(&ffn_calls[id], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ffn_total, 1, __ATOMIC_RELAXED);
	free(data);
}

/* Byte i of message seq: any change in order or content shows. */
static unsigned char pattern(long seq, size_t i)
{
	return (unsigned char)(seq * 131 + i * 7 + (i >> 8));
}

static char *filled(long seq, size_t bytes)
{
	char *buf = malloc(bytes ? bytes : 1);
	for (size_t i = 0; i < bytes; i++)
		buf[i] = (char)pattern(seq, i);
	return buf;
}

static int content_ok(long seq, const void *data, size_t bytes)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < bytes; i++)
		if (p[i] != pattern(seq, i))
			return 0;
	return 1;
}

static long new_buffer_id(void)
{
	long id = __atomic_fetch_add(&nbufs, 1, __ATOMIC_RELAXED); /* several senders */
	CHECK(id < MAX_BUFS, "too many buffers");
	return id;
}

/* Buffers libzmq may read until the context is gone (constants). */
static void *kept[MAX_BUFS];
static long nkept;

static char *kept_filled(long seq, size_t bytes)
{
	char *b = filled(seq, bytes);
	if (nkept < MAX_BUFS)
		kept[nkept++] = b;
	return b;
}

/* Build message seq of `bytes` the way the options say. */
static void make_msg(zmq_msg_t *m, long seq, size_t bytes)
{
	if (opt.copy) {
		zmq_msg_init_size(m, bytes);
		char *b = filled(seq, bytes);
		memcpy(zmq_msg_data(m), b, bytes);
		free(b);
	} else if (opt.constant) {
		zmq_msg_init_data(m, kept_filled(seq, bytes), bytes, NULL, NULL);
	} else {
		long id = new_buffer_id();
		in_init_data = 1;
		int rc = zmq_msg_init_data(m, filled(seq, bytes), bytes, ffn_count,
					   (void *)(intptr_t)id);
		in_init_data = 0;
		CHECK(rc == 0, "zmq_msg_init_data: %s", zmq_strerror(errno));
	}
}

static int send_one(void *s, long seq, size_t bytes, int flags)
{
	if (strcmp(opt.api, "send_const") == 0)
		return zmq_send_const(s, kept_filled(seq, bytes), bytes, flags);
	if (strcmp(opt.api, "send") == 0) {
		char *b = filled(seq, bytes);
		int rc = zmq_send(s, b, bytes, flags);
		free(b);
		return rc;
	}
	zmq_msg_t m;
	make_msg(&m, seq, bytes);
	in_send = 1;
	int rc = strcmp(opt.api, "sendmsg") == 0 ? zmq_sendmsg(s, &m, flags)
						 : zmq_msg_send(&m, s, flags);
	in_send = 0;
	if (rc < 0) {
		int e = errno;
		zmq_msg_close(&m);
		errno = e;
	}
	return rc;
}

/* ---- endpoints ---- */

static void endpoint(char *buf, size_t len, const char *what)
{
	if (strcmp(opt.transport, "tcp") == 0)
		snprintf(buf, len, "tcp://127.0.0.1:*");
	else if (strcmp(opt.transport, "ipc") == 0)
		snprintf(buf, len, "ipc:///tmp/zcapp-%d-%s", (int)getpid(), what);
	else
		snprintf(buf, len, "inproc://%s", what);
}

static void bind_to(void *s, char *ep, size_t len, const char *what)
{
	endpoint(ep, len, what);
	int rc = zmq_bind(s, ep);
	CHECK(rc == 0, "bind %s: %s", ep, zmq_strerror(errno));
	zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len);
}

/* ---- pushpull ---- */

struct puller {
	void *ctx;
	char ep[256];
	long expect, got, bad;
	int pairs; /* messages come twice each: seq/2 gives the content */
	pthread_t t;
};

static void *pull_all(void *arg)
{
	struct puller *p = arg;
	void *s = zmq_socket(p->ctx, ZMQ_PULL);
	zmq_connect(s, p->ep);
	zmq_msg_t m;
	zmq_msg_init(&m);
	for (long seq = 0; seq < p->expect; seq++) {
		if (zmq_msg_recv(&m, s, 0) < 0)
			break;
		long content = p->pairs ? seq / 2 : seq;
		size_t want = opt.sizes[content % opt.nsizes];
		if (zmq_msg_size(&m) != want || !content_ok(content, zmq_msg_data(&m), want))
			p->bad++;
		p->got++;
	}
	zmq_msg_close(&m);
	zmq_close(s);
	return NULL;
}

static long total_msgs(void)
{
	return opt.count * opt.nsizes;
}

static void check_ffns(void)
{
	long missing = 0, twice = 0;
	for (long i = 0; i < nbufs; i++) {
		missing += ffn_calls[i] == 0;
		twice += ffn_calls[i] > 1;
	}
	printf("buffers=%ld ffn_calls=%d ffn_missing=%ld ffn_twice=%ld ffn_in_init=%d "
	       "ffn_in_send=%d\n",
	       nbufs, ffn_total, missing, twice, ffn_in_init, ffn_in_send);
	CHECK(!missing && !twice && !ffn_in_init, "ffn not exactly once per buffer");
}

static void scenario_pushpull(void)
{
	void *ctx = zmq_ctx_new();
	void *push = zmq_socket(ctx, ZMQ_PUSH);
	struct puller p = { .ctx = ctx, .expect = total_msgs() };
	bind_to(push, p.ep, sizeof p.ep, "pushpull");
	pthread_create(&p.t, NULL, pull_all, &p);
	long sent = 0, errno_changed = 0;
	for (long seq = 0; seq < total_msgs(); seq++) {
		size_t bytes = opt.sizes[seq % opt.nsizes];
		/* a successful send must leave errno as libzmq does: unchanged, or
		 * EAGAIN/EINTR from libzmq's own mailbox, never anything else */
		errno = EDOM;
		int rc = send_one(push, seq, bytes, 0);
		errno_changed += rc >= 0 && errno != EDOM && errno != EAGAIN && errno != EINTR;
		CHECK(rc == (int)bytes, "send of %zu returned %d: %s", bytes, rc,
		      zmq_strerror(errno));
		sent += rc >= 0;
	}
	pthread_join(p.t, NULL);
	printf("sent=%ld received=%ld bad=%ld errno_foreign=%ld pid=%d\n", sent, p.got, p.bad,
	       errno_changed, (int)getpid());
	CHECK(p.got == sent && p.bad == 0, "lost or damaged messages");
	if (opt.wait_stdin) {
		printf("ready\n");
		fflush(stdout);
		char c;
		while (read(0, &c, 1) > 0)
			;
	}
	zmq_close(push);
	zmq_ctx_term(ctx); /* all pipes gone: every ffn has run */
	check_ffns();
}

/* ---- router: multipart with a routing id, byte-identical ---- */

static void scenario_router(void)
{
	void *ctx = zmq_ctx_new();
	void *router = zmq_socket(ctx, ZMQ_ROUTER);
	void *dealer = zmq_socket(ctx, ZMQ_DEALER);
	char ep[256];
	bind_to(router, ep, sizeof ep, "router");
	static const char peer[] = "peer-A";
	zmq_setsockopt(dealer, ZMQ_ROUTING_ID, peer, sizeof peer - 1);
	zmq_connect(dealer, ep);
	zmq_send(dealer, "hi", 2, 0);
	char id[64];
	int idlen = zmq_recv(router, id, sizeof id, 0);
	char hi[8];
	zmq_recv(router, hi, sizeof hi, 0);
	CHECK(idlen == (int)sizeof peer - 1 && memcmp(id, peer, (size_t)idlen) == 0,
	      "routing id");

	long bad = 0, got = 0;
	for (long seq = 0; seq < total_msgs(); seq++) {
		size_t bytes = opt.sizes[seq % opt.nsizes];
		/* the routing id frame itself is zero-copy too */
		zmq_msg_t m;
		char *idbuf = malloc((size_t)idlen);
		memcpy(idbuf, id, (size_t)idlen);
		in_init_data = 1;
		zmq_msg_init_data(&m, idbuf, (size_t)idlen, ffn_count,
				  (void *)(intptr_t)new_buffer_id());
		in_init_data = 0;
		CHECK(zmq_msg_send(&m, router, ZMQ_SNDMORE) == idlen, "send id");
		CHECK(send_one(router, seq, bytes, ZMQ_SNDMORE) == (int)bytes, "send part 1");
		CHECK(send_one(router, seq + 1, bytes / 2, 0) == (int)(bytes / 2), "send part 2");

		zmq_msg_t r;
		zmq_msg_init(&r);
		int ok = zmq_msg_recv(&r, dealer, 0) == (int)bytes && zmq_msg_more(&r) &&
			 content_ok(seq, zmq_msg_data(&r), bytes);
		ok = ok && zmq_msg_recv(&r, dealer, 0) == (int)(bytes / 2) &&
		     !zmq_msg_more(&r) && content_ok(seq + 1, zmq_msg_data(&r), bytes / 2);
		zmq_msg_close(&r);
		bad += !ok;
		got++;
	}
	printf("sent=%ld received=%ld bad=%ld pid=%d\n", total_msgs(), got, bad, (int)getpid());
	CHECK(bad == 0, "multipart damaged");
	zmq_close(router);
	zmq_close(dealer);
	zmq_ctx_term(ctx);
	check_ffns();
}

/* ---- eagain: a failed send leaves the message as it was ---- */

static void scenario_eagain(void)
{
	void *ctx = zmq_ctx_new();
	long eagain_ok = 0, resent_ok = 0;
	for (int k = 0; k < opt.nsizes; k++) {
		/* a fresh PUSH per size: no peer, not even a departing one */
		void *push = zmq_socket(ctx, ZMQ_PUSH);
		char ep[256], what[32];
		snprintf(what, sizeof what, "eagain-%d", k);
		bind_to(push, ep, sizeof ep, what);
		size_t bytes = opt.sizes[k];
		zmq_msg_t m;
		make_msg(&m, k, bytes);
		void *data = zmq_msg_data(&m);
		errno = 0;
		/* no peer: EAGAIN; libzmq has set `more` on the message by then */
		int rc = zmq_msg_send(&m, push, ZMQ_DONTWAIT | ZMQ_SNDMORE);
		int e = errno;
		int intact = rc == -1 && e == EAGAIN && zmq_msg_size(&m) == bytes &&
			     zmq_msg_data(&m) == data && content_ok(k, data, bytes) &&
			     zmq_msg_more(&m) == 1 && (opt.copy || ffn_calls[nbufs - 1] == 0);
		CHECK(intact, "size %zu: rc %d errno %d, message not intact", bytes, rc, e);
		eagain_ok += intact;

		/* Now with a peer the very same message goes through, once. */
		void *pull = zmq_socket(ctx, ZMQ_PULL);
		zmq_setsockopt(pull, ZMQ_RCVTIMEO, (int[]){ 5000 }, sizeof(int));
		zmq_connect(pull, ep);
		rc = zmq_msg_send(&m, push, 0);
		CHECK(rc == (int)bytes, "resend: %d", rc);
		zmq_msg_t r;
		zmq_msg_init(&r);
		int got = zmq_msg_recv(&r, pull, 0);
		int ok = got == (int)bytes && content_ok(k, zmq_msg_data(&r), bytes);
		zmq_setsockopt(pull, ZMQ_RCVTIMEO, (int[]){ 100 }, sizeof(int));
		int again = zmq_msg_recv(&r, pull, 0) >= 0; /* must be nothing else */
		CHECK(ok && !again, "resent message arrived wrong or twice");
		resent_ok += ok && !again;
		zmq_msg_close(&r);
		zmq_msg_close(&m);
		zmq_close(pull);
		zmq_close(push);
	}
	printf("eagain_intact=%ld resent_once=%ld pid=%d\n", eagain_ok, resent_ok, (int)getpid());
	zmq_ctx_term(ctx);
	check_ffns();
}

/* ---- sockets: two sockets of different types, one closed early ---- */

static void scenario_sockets(void)
{
	void *ctx = zmq_ctx_new();
	void *push = zmq_socket(ctx, ZMQ_PUSH);
	struct puller p = { .ctx = ctx, .expect = total_msgs() };
	bind_to(push, p.ep, sizeof p.ep, "sockets-push");
	pthread_create(&p.t, NULL, pull_all, &p);
	void *pub = zmq_socket(ctx, ZMQ_PUB);
	char pub_ep[256];
	bind_to(pub, pub_ep, sizeof pub_ep, "sockets-pub");
	long sent = 0, published = 0;
	for (long seq = 0; seq < total_msgs(); seq++) {
		size_t bytes = opt.sizes[seq % opt.nsizes];
		sent += send_one(push, seq, bytes, 0) == (int)bytes;
		published += zmq_send(pub, "event", 5, 0) == 5; /* no subscriber: dropped */
	}
	zmq_close(pub);
	pthread_join(p.t, NULL);
	printf("push_ep=%s pub_ep=%s sent=%ld published=%ld received=%ld pid=%d\n", p.ep,
	       pub_ep, sent, published, p.got, (int)getpid());
	CHECK(sent == total_msgs() && published == total_msgs() && p.got == sent && !p.bad,
	      "lost or damaged messages");
	zmq_close(push);
	zmq_ctx_term(ctx);
	check_ffns();
}

/* ---- binds: endpoints as odd as a path can be ---- */

static void scenario_binds(void)
{
	void *ctx = zmq_ctx_new();
	void *push = zmq_socket(ctx, ZMQ_PUSH);
	struct puller p = { .ctx = ctx, .expect = total_msgs() };
	CHECK(opt.nbinds > 0, "binds: no --bind");
	for (int i = 0; i < opt.nbinds; i++)
		CHECK(zmq_bind(push, opt.binds[i]) == 0, "bind %s: %s", opt.binds[i],
		      zmq_strerror(errno));
	snprintf(p.ep, sizeof p.ep, "%s", opt.nbinds ? opt.binds[0] : "inproc://none");
	pthread_create(&p.t, NULL, pull_all, &p);
	long sent = 0;
	for (long seq = 0; seq < total_msgs(); seq++)
		sent += send_one(push, seq, opt.sizes[seq % opt.nsizes], 0) >= 0;
	pthread_join(p.t, NULL);
	printf("binds=%d sent=%ld received=%ld pid=%d\n", opt.nbinds, sent, p.got, (int)getpid());
	CHECK(sent == total_msgs() && p.got == sent && !p.bad, "lost or damaged messages");
	zmq_close(push);
	zmq_ctx_term(ctx);
	check_ffns();
}

/* ---- many: more sockets than the shim's table holds ---- */

static void scenario_many(void)
{
	void *ctx = zmq_ctx_new();
	void **socks = calloc((size_t)opt.count, sizeof *socks);
	size_t most = 0;
	for (int k = 0; k < opt.nsizes; k++)
		most = opt.sizes[k] > most ? opt.sizes[k] : most;
	char *buf = calloc(1, most + 1);
	if (!socks || !buf) {
		fprintf(stderr, "zcapp: out of memory\n");
		exit(1);
	}
	long sent = 0;
	for (long i = 0; i < opt.count; i++) {
		socks[i] = zmq_socket(ctx, ZMQ_PUB);
		char ep[64];
		snprintf(ep, sizeof ep, "inproc://many-%ld", i);
		CHECK(socks[i] && zmq_bind(socks[i], ep) == 0, "socket %ld", i);
		for (int k = 0; socks[i] && k < opt.nsizes; k++) { /* one copy of each size */
			sent += zmq_send(socks[i], buf, opt.sizes[k], 0) == (int)opt.sizes[k];
			if (opt.constant) /* and one constant: a second series each */
				sent += zmq_send_const(socks[i], buf, opt.sizes[k], 0) ==
					(int)opt.sizes[k];
		}
	}
	long failed = 0; /* a PUB cannot receive: both fail (ENOTSUP) */
	for (long i = 0; opt.fail && i < opt.count; i++) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		failed += zmq_recv(socks[i], buf, 1, ZMQ_DONTWAIT) == -1;
		failed += zmq_msg_recv(&m, socks[i], ZMQ_DONTWAIT) == -1;
		zmq_msg_close(&m);
	}
	for (long i = 0; i < opt.count; i++)
		zmq_close(socks[i]);
	free(socks);
	free(buf);
	printf("sockets=%ld sent=%ld failed=%ld pid=%d\n", opt.count, sent, failed, (int)getpid());
	CHECK(sent == total_msgs() * (1 + opt.constant), "sends failed");
	zmq_ctx_term(ctx);
}

/* ---- backlog: a known number of zero-copy buffers in flight at once ---- */

static void scenario_backlog(void)
{
	void *ctx = zmq_ctx_new();
	void *push = zmq_socket(ctx, ZMQ_PUSH);
	void *pull = zmq_socket(ctx, ZMQ_PULL);
	int unlimited = 0;
	zmq_setsockopt(push, ZMQ_SNDHWM, &unlimited, sizeof unlimited);
	zmq_setsockopt(pull, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
	CHECK(zmq_bind(pull, "inproc://backlog") == 0 && zmq_connect(push, "inproc://backlog") == 0,
	      "backlog sockets");
	long sent = 0;
	for (long seq = 0; seq < total_msgs(); seq++) {
		size_t bytes = opt.sizes[seq % opt.nsizes];
		sent += send_one(push, seq, bytes, 0) == (int)bytes;
	}
	/* inproc passes the message itself: nothing is freed until it is read */
	int queued = ffn_total == 0;
	long got = 0, bad = 0;
	zmq_msg_t m;
	zmq_msg_init(&m);
	for (long seq = 0; seq < sent; seq++) {
		size_t want = opt.sizes[seq % opt.nsizes];
		if (zmq_msg_recv(&m, pull, 0) < 0)
			break;
		bad += zmq_msg_size(&m) != want || !content_ok(seq, zmq_msg_data(&m), want);
		got++;
	}
	zmq_msg_close(&m);
	printf("sent=%ld all_queued=%d received=%ld bad=%ld pid=%d\n", sent, queued, got, bad,
	       (int)getpid());
	CHECK(sent == total_msgs() && queued && got == sent && !bad, "backlog");
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	check_ffns();
}

/* ---- ffnsend: the ffn sends on an inproc socket under a mutex ---- */

static pthread_mutex_t gc_lock = PTHREAD_MUTEX_INITIALIZER;
static void *gc_push;
static long gc_collected;

static void ffn_notify_gc(void *data, void *hint)
{
	ffn_count(data, hint);
	long id = (long)(intptr_t)hint;
	pthread_mutex_lock(&gc_lock);
	zmq_msg_t m;
	zmq_msg_init_size(&m, sizeof id);
	memcpy(zmq_msg_data(&m), &id, sizeof id);
	CHECK(zmq_msg_send(&m, gc_push, 0) == (int)sizeof id, "gc send");
	pthread_mutex_unlock(&gc_lock);
}

static void *gc_thread(void *ctx)
{
	void *pull = zmq_socket(ctx, ZMQ_PULL);
	zmq_bind(pull, "inproc://gc");
	long id;
	while (zmq_recv(pull, &id, sizeof id, 0) == (int)sizeof id) {
		if (id < 0)
			break;
		gc_collected++;
	}
	zmq_close(pull);
	return NULL;
}

static void scenario_ffnsend(void)
{
	alarm(60); /* a deadlock fails the test instead of hanging it */
	void *ctx = zmq_ctx_new();
	pthread_t gc;
	pthread_create(&gc, NULL, gc_thread, ctx);
	gc_push = zmq_socket(ctx, ZMQ_PUSH);
	while (zmq_connect(gc_push, "inproc://gc") != 0)
		usleep(1000);
	void *push = zmq_socket(ctx, ZMQ_PUSH);
	struct puller p = { .ctx = ctx, .expect = total_msgs() };
	bind_to(push, p.ep, sizeof p.ep, "ffnsend");
	pthread_create(&p.t, NULL, pull_all, &p);
	for (long seq = 0; seq < total_msgs(); seq++) {
		size_t bytes = opt.sizes[seq % opt.nsizes];
		zmq_msg_t m;
		long id = new_buffer_id();
		in_init_data = 1;
		zmq_msg_init_data(&m, filled(seq, bytes), bytes, ffn_notify_gc,
				  (void *)(intptr_t)id);
		in_init_data = 0;
		CHECK(zmq_msg_send(&m, push, 0) == (int)bytes, "send");
	}
	pthread_join(p.t, NULL);
	zmq_close(push);
	/* every buffer's ffn has run once the pipe is gone; then stop gc */
	while (__atomic_load_n(&ffn_total, __ATOMIC_RELAXED) < nbufs)
		usleep(1000);
	pthread_mutex_lock(&gc_lock);
	long stop = -1;
	zmq_send(gc_push, &stop, sizeof stop, 0);
	pthread_mutex_unlock(&gc_lock);
	pthread_join(gc, NULL);
	zmq_close(gc_push);
	zmq_ctx_term(ctx);
	printf("sent=%ld received=%ld bad=%ld collected=%ld pid=%d\n", total_msgs(), p.got,
	       p.bad, gc_collected, (int)getpid());
	CHECK(p.got == total_msgs() && p.bad == 0 && gc_collected == nbufs, "ffnsend");
	check_ffns();
}

/* ---- msgcopy: two references to one buffer, both sent ---- */

static void scenario_msgcopy(void)
{
	void *ctx = zmq_ctx_new();
	void *push = zmq_socket(ctx, ZMQ_PUSH);
	struct puller p = { .ctx = ctx, .expect = 2 * total_msgs(), .pairs = 1 };
	bind_to(push, p.ep, sizeof p.ep, "msgcopy");
	pthread_create(&p.t, NULL, pull_all, &p);
	for (long seq = 0; seq < total_msgs(); seq++) {
		size_t bytes = opt.sizes[seq % opt.nsizes];
		zmq_msg_t a, b, c;
		make_msg(&a, seq, bytes);
		zmq_msg_init(&b);
		zmq_msg_copy(&b, &a);
		zmq_msg_init(&c);
		zmq_msg_move(&c, &b); /* c now holds b's reference; b is empty */
		CHECK(zmq_msg_size(&b) == 0, "moved-from message not empty");
		CHECK(zmq_msg_send(&a, push, 0) == (int)bytes, "send a");
		/* c still refers to the buffer: its ffn must wait for c */
		CHECK(opt.copy || ffn_calls[nbufs - 1] == 0, "ffn ran while c refers to it");
		CHECK(zmq_msg_send(&c, push, 0) == (int)bytes, "send c");
		zmq_msg_close(&b);
	}
	pthread_join(p.t, NULL);
	printf("sent=%ld received=%ld bad=%ld pid=%d\n", 2 * total_msgs(), p.got, p.bad,
	       (int)getpid());
	CHECK(p.got == 2 * total_msgs() && p.bad == 0, "msgcopy");
	zmq_close(push);
	zmq_ctx_term(ctx);
	check_ffns();
}

/* ---- threads: one made before the shim starts, one after ---- */

struct sending_thread {
	void *ctx;
	long first_seq;
	pthread_barrier_t *go;
	pthread_t t;
};

static void *send_from_thread(void *arg)
{
	struct sending_thread *st = arg;
	if (st->go)
		pthread_barrier_wait(st->go); /* made early: wait for main's first send */
	void *push = zmq_socket(st->ctx, ZMQ_PUSH);
	zmq_connect(push, "inproc://threads");
	for (long i = 0; i < opt.count; i++)
		CHECK(send_one(push, st->first_seq + i, 100, 0) == 100, "thread send");
	zmq_close(push);
	return NULL;
}

static void scenario_threads(void)
{
	void *ctx = zmq_ctx_new();
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 2);
	struct sending_thread early = { ctx, 1, &go, 0 }, late = { ctx, 1 + opt.count, NULL, 0 };
	pthread_create(&early.t, NULL, send_from_thread, &early); /* before any zmq call */
	void *pull = zmq_socket(ctx, ZMQ_PULL);
	zmq_bind(pull, "inproc://threads");
	void *push = zmq_socket(ctx, ZMQ_PUSH);
	zmq_connect(push, "inproc://threads");
	CHECK(send_one(push, 0, 100, 0) == 100, "main send"); /* the shim's first call */
	pthread_barrier_wait(&go);
	pthread_create(&late.t, NULL, send_from_thread, &late);
	long got = 0;
	zmq_msg_t m;
	zmq_msg_init(&m);
	for (; got < 1 + 2 * opt.count && zmq_msg_recv(&m, pull, 0) >= 0; got++)
		CHECK(zmq_msg_size(&m) == 100, "size");
	zmq_msg_close(&m);
	pthread_join(early.t, NULL);
	pthread_join(late.t, NULL);
	printf("sent=%ld received=%ld pid=%d\n", 1 + 2 * opt.count, got, (int)getpid());
	CHECK(got == 1 + 2 * opt.count, "lost messages");
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	pthread_barrier_destroy(&go);
	check_ffns();
}

/* ---- fanout: K sending threads, S sockets, every size on each ---- */

struct fan_thread {
	void *ctx;
	int no;
	pthread_barrier_t *all;
	long sent;
	pthread_t t;
};

static void *fan_send(void *arg)
{
	struct fan_thread *ft = arg;
	void *mine[64];
	int n = 0;
	for (int k = ft->no; k < opt.sockets && n < 64; k += opt.threads) {
		char ep[64];
		mine[n] = zmq_socket(ft->ctx, ZMQ_PUB);
		snprintf(ep, sizeof ep, "inproc://fanout-%d", k);
		CHECK(mine[n] && zmq_bind(mine[n], ep) == 0, "socket %d", k);
		n++;
	}
	/* every thread alive at once: none can hand its shard to the next */
	pthread_barrier_wait(ft->all);
	for (long i = 0; i < opt.count; i++)
		for (int j = 0; j < n; j++)
			for (int k = 0; k < opt.nsizes; k++)
				ft->sent += send_one(mine[j], i, opt.sizes[k], 0) ==
					    (int)opt.sizes[k];
	pthread_barrier_wait(ft->all);
	for (int j = 0; j < n; j++)
		zmq_close(mine[j]);
	return NULL;
}

static void scenario_fanout(void)
{
	void *ctx = zmq_ctx_new();
	int k = opt.threads;
	struct fan_thread *ft = calloc((size_t)k, sizeof *ft);
	pthread_barrier_t all;
	pthread_barrier_init(&all, NULL, (unsigned)k);
	for (int i = 0; i < k; i++) {
		ft[i] = (struct fan_thread){ ctx, i, &all, 0, 0 };
		CHECK(pthread_create(&ft[i].t, NULL, fan_send, &ft[i]) == 0, "thread %d", i);
	}
	long sent = 0;
	for (int i = 0; i < k; i++) {
		pthread_join(ft[i].t, NULL);
		sent += ft[i].sent;
	}
	long want = 0;
	for (int i = 0; i < k; i++)
		for (int s = i; s < opt.sockets && s - i < 64 * k; s += k)
			want += opt.count * opt.nsizes;
	printf("threads=%d sockets=%d sent=%ld pid=%d\n", k, opt.sockets, sent, (int)getpid());
	CHECK(sent == want, "sent %ld of %ld", sent, want);
	pthread_barrier_destroy(&all);
	free(ft);
	zmq_ctx_term(ctx);
	check_ffns();
}

/* ---- shm: a neighbour's POSIX shm, every page touched ---- */

static void scenario_shm(void)
{
	char name[64];
	size_t bytes = (size_t)opt.count << 20;
	snprintf(name, sizeof name, "/zcapp-neighbour.%d", (int)getpid());
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0, "shm_open: %s", strerror(errno));
	if (fd < 0)
		return;
	shm_unlink(name);
	CHECK(ftruncate(fd, (off_t)bytes) == 0, "ftruncate: %s", strerror(errno));
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	if (p != MAP_FAILED) {
		for (size_t off = 0; off < bytes; off += 4096)
			p[off] = 1; /* no room: SIGBUS, as for any program */
		munmap(p, bytes);
	}
	close(fd);
	printf("touched_mib=%ld\n", opt.count);
}

/* ---- credentials: a daemon that drops root ---- */

static void change_uid(long uid)
{
	uid_t u = (uid_t)uid;
	int rc;
	CHECK(setgroups(0, NULL) == 0 && setgid((gid_t)uid) == 0, "setgid %ld: %s", uid,
	      strerror(errno));
	errno = 0;
	if (!strcmp(opt.uid_call, "seteuid"))
		rc = seteuid(u);
	else if (!strcmp(opt.uid_call, "setreuid"))
		rc = setreuid(u, u);
	else if (!strcmp(opt.uid_call, "setresuid"))
		rc = setresuid(u, u, u);
	else
		rc = setuid(u);
	CHECK(rc == 0 && geteuid() == u, "%s(%ld): %s", opt.uid_call, uid, strerror(errno));
	/* a process that changed uid is not dumpable; LeakSanitizer (make
	 * test-asan) must still be able to stop its threads at exit */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	printf("uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
}

/* ---- fork: the child, a new process, sends on its own context ---- */

static void fork_and_send_again(void)
{
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		opt.sizes[0] = 200;
		opt.nsizes = 1;
		opt.count = 30;
		scenario_pushpull();
		printf("failures=%d\n", failures);
		exit(failures ? 1 : 0); /* exit, not _exit: the shim marks the segment */
	}
	int st = -1;
	waitpid(child, &st, 0);
	printf("child=%d child_ok=%d\n", (int)child, WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed");
}

/* ---- main ---- */

static void parse_sizes(const char *s)
{
	opt.nsizes = 0;
	char *copy = strdup(s), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t && opt.nsizes < MAX_SIZES;
	     t = strtok_r(NULL, ",", &save))
		opt.sizes[opt.nsizes++] = strtoull(t, NULL, 10);
	free(copy);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: zcapp pushpull|router|eagain|ffnsend|msgcopy|threads|sockets|many|backlog|binds|fanout|none|shm [options]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(a, "--transport")) opt.transport = v, i++;
		else if (!strcmp(a, "--api")) opt.api = v, i++;
		else if (!strcmp(a, "--sizes")) parse_sizes(v), i++;
		else if (!strcmp(a, "--count")) opt.count = atol(v), i++;
		else if (!strcmp(a, "--copy")) opt.copy = 1;
		else if (!strcmp(a, "--const")) opt.constant = 1;
		else if (!strcmp(a, "--fail")) opt.fail = 1;
		else if (!strcmp(a, "--wait-stdin")) opt.wait_stdin = 1;
		else if (!strcmp(a, "--fork-after")) opt.fork_after = 1;
		else if (!strcmp(a, "--fork-first")) opt.fork_first = 1;
		else if (!strcmp(a, "--exec-after")) opt.exec_after = 1;
		else if (!strcmp(a, "--bind") && opt.nbinds < MAX_BINDS)
			opt.binds[opt.nbinds++] = v, i++;
		else if (!strcmp(a, "--threads")) opt.threads = atoi(v), i++;
		else if (!strcmp(a, "--sockets")) opt.sockets = atoi(v), i++;
		else if (!strcmp(a, "--hold-first")) opt.hold_first = 1;
		else if (!strcmp(a, "--pause")) opt.pause = 1;
		else if (!strcmp(a, "--reexec")) opt.reexec = atoi(v), i++;
		else if (!strcmp(a, "--setuid-before")) opt.uid_before = atol(v), i++;
		else if (!strcmp(a, "--setuid-after")) opt.uid_after = atol(v), i++;
		else if (!strcmp(a, "--uid-call")) opt.uid_call = v, i++;
		else {
			fprintf(stderr, "zcapp: unknown option %s\n", a);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ffn_calls = calloc(MAX_BUFS, sizeof *ffn_calls);
	if (opt.fork_first) { /* before the shim has seen any libzmq call */
		pid_t child = fork();
		if (child > 0) {
			int st = -1;
			waitpid(child, &st, 0);
			printf("child=%d child_ok=%d\n", (int)child,
			       WIFEXITED(st) && WEXITSTATUS(st) == 0);
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed");
		}
	}
	if (opt.threads < 1 || opt.threads > 256 || opt.sockets < 1) {
		fprintf(stderr, "zcapp: --threads 1..256, --sockets 1..\n");
		return 2;
	}
	if (opt.hold_first) { /* a process the shim has loaded into, before any call */
		printf("holding\n");
		char c;
		while (read(0, &c, 1) > 0)
			;
	}
	if (opt.uid_before >= 0)
		change_uid(opt.uid_before);
	const char *s = argv[1];
	if (!strcmp(s, "pushpull")) {
		scenario_pushpull();
		if (opt.fork_after)
			fork_and_send_again();
		if (opt.exec_after) {
			fflush(stdout);
			char *again[] = { "zcapp", "pushpull", "--sizes", "300", "--count", "20", NULL };
			/* argv[0], not /proc/self/exe, which under valgrind is valgrind */
			execv(strchr(argv[0], '/') ? argv[0] : "/proc/self/exe", again);
			CHECK(0, "exec: %s", strerror(errno));
		}
	}
	else if (!strcmp(s, "router")) scenario_router();
	else if (!strcmp(s, "eagain")) scenario_eagain();
	else if (!strcmp(s, "ffnsend")) scenario_ffnsend();
	else if (!strcmp(s, "msgcopy")) scenario_msgcopy();
	else if (!strcmp(s, "threads")) scenario_threads();
	else if (!strcmp(s, "sockets")) scenario_sockets();
	else if (!strcmp(s, "many")) scenario_many();
	else if (!strcmp(s, "backlog")) scenario_backlog();
	else if (!strcmp(s, "binds")) scenario_binds();
	else if (!strcmp(s, "fanout")) scenario_fanout();
	else if (!strcmp(s, "none")) check_ffns();
	else if (!strcmp(s, "shm")) scenario_shm();
	else {
		fprintf(stderr, "zcapp: unknown scenario %s\n", s);
		return 2;
	}
	if (opt.uid_after >= 0) {
		change_uid(opt.uid_after);
		/* and record on: a new thread (a shard), new series (cells) */
		if (!strcmp(s, "fanout")) {
			opt.sizes[0] += 1000000; /* other size classes */
			scenario_fanout();
		} else {
			scenario_pushpull();
		}
	}
	/* seteuid: a daemon that works as another user takes root back (its
	 * saved uid) before it ends; LeakSanitizer could not stop the threads
	 * of a process whose real and effective uids differ */
	if ((opt.uid_before >= 0 || opt.uid_after >= 0) && !strcmp(opt.uid_call, "seteuid") &&
	    getuid() == 0)
		CHECK(seteuid(0) == 0, "seteuid(0): %s", strerror(errno));
	for (long i = 0; i < nkept; i++)
		free(kept[i]);
	free(ffn_calls);
	printf("failures=%d\n", failures);
	if (opt.reexec > 0 && !failures) {
		char n[16];
		snprintf(n, sizeof n, "%d", opt.reexec - 1);
		char *again[] = { argv[0], argv[1], "--count", "1", "--reexec", n, NULL };
		execv(strchr(argv[0], '/') ? argv[0] : "/proc/self/exe", again);
		fprintf(stderr, "zcapp: exec: %s\n", strerror(errno));
		return 1;
	}
	if (opt.pause) {
		printf("paused\n");
		for (;;)
			pause();
	}
	return failures ? 1 : 0;
}
