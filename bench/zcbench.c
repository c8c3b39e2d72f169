/*
 * zcbench - copy vs zero-copy ZeroMQ sends, measured the way pyzmq's perf
 * study did, so its crossover can be reproduced in C with and without zcshim.
 *
 * `thr` is PUSH/PULL as fast as possible: "sends" is messages per second
 * of the sender's send calls (time blocked at the high-water mark left out,
 * so it is the cost of sending, not the receiver's pace), "throughput"
 * messages per second from the receiver's first to its last receive, after
 * a warm-up that fills the queues once. `lat` is REQ/REP
 * ping-pong: latency_us is the round trip / 2. Over ipc and tcp the receiver
 * (or echo) is a forked process; over inproc a thread of the same context.
 *
 * --copy sends with zmq_send (libzmq allocates and copies). --zerocopy hands
 * libzmq an app buffer with zmq_msg_init_data and a free callback (ffn),
 * which is where bindings pay for zero-copy; three ffn models:
 *   free      malloc per message, ffn = free();
 *   pool      buffers from a mutex-guarded pool the ffn returns them to;
 *   gcthread  pyzmq's design: the buffer is registered in a table under a
 *             mutex, and the ffn sends its id over an inproc PUSH socket
 *             (under another mutex) to a collector thread that frees it.
 * Payloads are produced in place (one 8-byte stamp per message) so neither
 * variant pays for filling them: copy pays libzmq's malloc + memcpy,
 * zero-copy pays the model's allocation and its ffn.
 *
 * Output: one CSV row per point on stdout, progress on stderr. Each point
 * runs for --seconds (default 1) or exactly --count messages. The first nine
 * columns are the ones the bench scripts and the smoke test rely on.
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "libzmq_own.h"

#define MAX_SIZES        64
#define HWM_BUDGET_BYTES (64u << 20) /* per socket: caps memory at 4 MB sizes */
#define HWM_MAX          1000        /* libzmq's default */
#define HWM_MIN          16
#define IO_TIMEOUT_MS    5000        /* a stuck peer fails the point, not the run */
#define GC_ENDPOINT      "inproc://zcbench-gc"

enum bench { BENCH_THR, BENCH_LAT };
enum transport { TR_INPROC, TR_IPC, TR_TCP };
enum ffn_model { FFN_NONE, FFN_FREE, FFN_POOL, FFN_GC };

static const char *const transport_names[] = { "inproc", "ipc", "tcp" };
static const char *const model_names[] = { "none", "free", "pool", "gcthread" };

struct options {
	enum bench bench;
	enum transport transport;
	int copy;
	enum ffn_model model;
	size_t sizes_bytes[MAX_SIZES];
	int nsizes;
	long count;        /* fixed count per point; 0: run for `seconds` */
	double seconds;    /* target measuring time per point */
	long warmup;       /* messages (thr) or round trips (lat) before timing; -1 auto */
	int hwm;           /* 0: from HWM_BUDGET_BYTES */
	const char *endpoint; /* NULL: chosen per point */
	const char *tag;
	int header;
	int quiet;
	int list_sizes;   /* print the sizes, one a line, and exit */
};

static struct options opt = {
	.bench = BENCH_THR, .transport = TR_TCP, .copy = 1, .model = FFN_FREE,
	.seconds = 1.0, .warmup = -1, .tag = "", .header = 1,
};

/* ------------------------------------------------------------ helpers */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "zcbench: %s: %s\n", what, why);
	exit(1);
}

static void die_zmq(const char *what)
{
	die(what, zmq_strerror(zmq_errno()));
}

static void *xmalloc(size_t bytes)
{
	void *p = malloc(bytes ? bytes : 1);
	if (!p)
		die("malloc", strerror(errno));
	return p;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("pipe write", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("pipe read", n == 0 ? "peer exited early" : strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

/* "100", "64k", "4M" (k = 1024, as ZCSHIM_THRESHOLD reads it). */
static int parse_bytes(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end || v > (1ull << 31))
		return -1;
	*out = (size_t)v;
	return 0;
}

static void parse_sizes(const char *list)
{
	char *copy = strdup(list), *save = NULL;
	opt.nsizes = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (opt.nsizes == MAX_SIZES || parse_bytes(t, &opt.sizes_bytes[opt.nsizes]) != 0)
			die("--sizes", "want a comma list of up to 64 sizes like 100,64k,4M");
		opt.nsizes++;
	}
	free(copy);
	if (!opt.nsizes)
		die("--sizes", "empty list");
}

/* "LO:HI:N": N sizes log-spaced from LO to HI inclusive. */
static void parse_sweep(const char *spec)
{
	char lo_s[32], hi_s[32];
	int n;
	size_t lo, hi;
	if (sscanf(spec, "%31[^:]:%31[^:]:%d", lo_s, hi_s, &n) != 3 || n < 1 ||
	    n > MAX_SIZES || parse_bytes(lo_s, &lo) || parse_bytes(hi_s, &hi) || !lo || hi < lo)
		die("--sweep", "want LO:HI:N, e.g. 100:4M:12");
	opt.nsizes = n;
	for (int i = 0; i < n; i++) {
		double f = n == 1 ? 0 : (double)i / (n - 1);
		opt.sizes_bytes[i] = (size_t)llround(exp(log((double)lo) * (1 - f) + log((double)hi) * f));
	}
}

static int hwm_for(size_t bytes)
{
	if (opt.hwm)
		return opt.hwm;
	size_t h = HWM_BUDGET_BYTES / (bytes ? bytes : 1);
	return h > HWM_MAX ? HWM_MAX : h < HWM_MIN ? HWM_MIN : (int)h;
}

static void set_int(void *sock, int name, int value)
{
	if (zmq_setsockopt(sock, name, &value, sizeof value) != 0)
		die_zmq("zmq_setsockopt");
}

static void *data_socket(void *ctx, int type, int hwm)
{
	void *s = zmq_socket(ctx, type);
	if (!s)
		die_zmq("zmq_socket");
	set_int(s, ZMQ_SNDHWM, hwm);
	set_int(s, ZMQ_RCVHWM, hwm);
	set_int(s, ZMQ_SNDTIMEO, IO_TIMEOUT_MS);
	set_int(s, ZMQ_RCVTIMEO, IO_TIMEOUT_MS);
	set_int(s, ZMQ_LINGER, IO_TIMEOUT_MS);
	return s;
}

/* Is libzmq's zmq_msg_send interposed (LD_PRELOAD=libzcshim.so)? Then the
 * shim's mode as it will read it from the environment, else "none". */
static const char *shim_mode(void)
{
	void *real = libzmq_own("zmq_msg_send");
	void *seen = dlsym(RTLD_DEFAULT, "zmq_msg_send");
	if (!real || real == seen)
		return "none";
	/* the shim's rule: ZCSHIM_MODE if given, else convert when a threshold
	 * is, else profile */
	const char *m = getenv("ZCSHIM_MODE"), *t = getenv("ZCSHIM_THRESHOLD");
	return m && *m ? m : t && *t ? "convert" : "profile";
}

/* ------------------------------------------------------- ffn models */

struct pool {
	pthread_mutex_t lock;
	void **bufs;       /* free buffers, a stack */
	size_t nfree;
	size_t cap;
	size_t created;    /* buffers ever made; all back when nfree == created */
	size_t bytes;
};

struct gc_table {          /* pyzmq's gc.refs dict: id -> buffer */
	pthread_mutex_t lock;
	void **slot;
	uint32_t *free_ids;
	uint32_t nfree;
	uint32_t cap;
	uint32_t used;
};

struct gc_hint {           /* pyzmq's zhint */
	uint64_t id;
	void *push;
	pthread_mutex_t *push_lock;
};

struct model {
	enum ffn_model kind;
	struct pool pool;
	struct gc_table table;
	void *ctx;
	void *gc_push;                 /* ffns send buffer ids here ... */
	pthread_mutex_t gc_push_lock;  /* ... one at a time */
	pthread_t collector;
	int collector_ready_fd[2];
};

static struct model model;

static void ffn_free(void *data, void *hint)
{
	(void)hint;
	free(data);
}

/* The pool starts with as many warm buffers as can be in flight (the send
 * queue's HWM and a few in libzmq's hands), as an app's pool would be in its
 * steady state; growing it inside the timed loop would time memset. */
static void pool_init(struct pool *p, size_t bytes, size_t prefill)
{
	pthread_mutex_init(&p->lock, NULL);
	p->cap = prefill > 1024 ? prefill : 1024;
	p->bufs = xmalloc(p->cap * sizeof *p->bufs);
	p->nfree = p->created = 0;
	p->bytes = bytes;
	for (size_t i = 0; i < prefill; i++) {
		p->bufs[p->nfree] = xmalloc(bytes);
		memset(p->bufs[p->nfree++], 'p', bytes);
		p->created++;
	}
}

static void *pool_get(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	void *b = p->nfree ? p->bufs[--p->nfree] : NULL;
	if (!b)
		p->created++;
	pthread_mutex_unlock(&p->lock);
	if (!b) {
		b = xmalloc(p->bytes);
		memset(b, 'p', p->bytes); /* a pool hands out warm pages */
	}
	return b;
}

static void ffn_pool(void *data, void *hint)
{
	struct pool *p = hint;
	pthread_mutex_lock(&p->lock);
	if (p->nfree == p->cap) {
		void **bigger = realloc(p->bufs, 2 * p->cap * sizeof *p->bufs);
		if (!bigger) { /* keep the books straight: drop the buffer */
			p->created--;
			pthread_mutex_unlock(&p->lock);
			free(data);
			return;
		}
		p->bufs = bigger;
		p->cap *= 2;
	}
	p->bufs[p->nfree++] = data;
	pthread_mutex_unlock(&p->lock);
}

static size_t pool_outstanding(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	size_t n = p->created - p->nfree;
	pthread_mutex_unlock(&p->lock);
	return n;
}

static void pool_fini(struct pool *p)
{
	for (size_t i = 0; i < p->nfree; i++)
		free(p->bufs[i]);
	free(p->bufs);
	pthread_mutex_destroy(&p->lock);
}

static uint32_t table_store(struct gc_table *t, void *buf)
{
	pthread_mutex_lock(&t->lock);
	if (!t->nfree) {
		uint32_t cap = t->cap ? 2 * t->cap : 1024;
		void **slot = realloc(t->slot, cap * sizeof *slot);
		uint32_t *ids = realloc(t->free_ids, cap * sizeof *ids);
		if (!slot || !ids)
			die("realloc", "out of memory");
		t->slot = slot;
		t->free_ids = ids;
		for (uint32_t i = cap; i > t->cap; i--)
			t->free_ids[t->nfree++] = i - 1;
		t->cap = cap;
	}
	uint32_t id = t->free_ids[--t->nfree];
	t->slot[id] = buf;
	t->used++;
	pthread_mutex_unlock(&t->lock);
	return id;
}

static void *table_pop(struct gc_table *t, uint64_t id)
{
	void *buf = NULL;
	pthread_mutex_lock(&t->lock);
	if (id < t->cap && t->slot[id]) {
		buf = t->slot[id];
		t->slot[id] = NULL;
		t->free_ids[t->nfree++] = (uint32_t)id;
		t->used--;
	}
	pthread_mutex_unlock(&t->lock);
	return buf;
}

static size_t table_used(struct gc_table *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = t->used;
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* pyzmq's free_python_msg: runs on whichever thread libzmq releases the
 * buffer on (its IO thread, the inproc receiver, or the sender). */
static void ffn_gc(void *data, void *vhint)
{
	struct gc_hint *h = vhint;
	zmq_msg_t m;
	(void)data;
	zmq_msg_init_size(&m, sizeof h->id);
	memcpy(zmq_msg_data(&m), &h->id, sizeof h->id);
	pthread_mutex_lock(h->push_lock);
	if (zmq_msg_send(&m, h->push, 0) < 0)
		fprintf(stderr, "zcbench: gc send: %s\n", zmq_strerror(zmq_errno()));
	pthread_mutex_unlock(h->push_lock);
	zmq_msg_close(&m);
	free(h);
}

/* pyzmq's GarbageCollectorThread: receive ids, drop the references. */
static void *collector_main(void *arg)
{
	struct model *m = arg;
	void *pull = zmq_socket(m->ctx, ZMQ_PULL);
	if (!pull || zmq_bind(pull, GC_ENDPOINT) != 0)
		die_zmq("gc bind");
	set_int(pull, ZMQ_LINGER, 0);
	write_all(m->collector_ready_fd[1], "r", 1);
	zmq_msg_t msg;
	zmq_msg_init(&msg);
	for (;;) {
		if (zmq_msg_recv(&msg, pull, 0) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			die_zmq("gc recv");
		}
		if (zmq_msg_size(&msg) != sizeof(uint64_t))
			break; /* pyzmq's b'DIE' */
		uint64_t id;
		memcpy(&id, zmq_msg_data(&msg), sizeof id);
		free(table_pop(&m->table, id));
	}
	zmq_msg_close(&msg);
	zmq_close(pull);
	return NULL;
}

static void model_init(void *ctx, enum ffn_model kind, size_t bytes, int hwm)
{
	memset(&model, 0, sizeof model);
	model.kind = kind;
	model.ctx = ctx;
	if (kind == FFN_POOL)
		pool_init(&model.pool, bytes, (size_t)hwm + 16);
	if (kind != FFN_GC)
		return;
	pthread_mutex_init(&model.table.lock, NULL);
	pthread_mutex_init(&model.gc_push_lock, NULL);
	if (pipe(model.collector_ready_fd) != 0)
		die("pipe", strerror(errno));
	if (pthread_create(&model.collector, NULL, collector_main, &model) != 0)
		die("pthread_create", "collector");
	char c;
	read_all(model.collector_ready_fd[0], &c, 1);
	model.gc_push = zmq_socket(ctx, ZMQ_PUSH);
	if (!model.gc_push || zmq_connect(model.gc_push, GC_ENDPOINT) != 0)
		die_zmq("gc connect");
}

/* A zero-copy message of `bytes` whose buffer the model owns again once
 * libzmq runs the ffn. */
static void model_msg(zmq_msg_t *msg, size_t bytes, uint64_t seq)
{
	void *buf, *hint = NULL;
	zmq_free_fn *ffn;
	switch (model.kind) {
	case FFN_POOL:
		buf = pool_get(&model.pool);
		ffn = ffn_pool;
		hint = &model.pool;
		break;
	case FFN_GC: {
		buf = xmalloc(bytes);
		struct gc_hint *h = xmalloc(sizeof *h);
		h->id = table_store(&model.table, buf);
		h->push = model.gc_push;
		h->push_lock = &model.gc_push_lock;
		ffn = ffn_gc;
		hint = h;
		break;
	}
	default:
		buf = xmalloc(bytes);
		ffn = ffn_free;
		break;
	}
	if (bytes >= sizeof seq)
		memcpy(buf, &seq, sizeof seq);
	if (zmq_msg_init_data(msg, buf, bytes, ffn, hint) != 0)
		die_zmq("zmq_msg_init_data");
}

/* Wait (bounded) until every buffer handed to libzmq came back. */
static void model_drain(void)
{
	uint64_t deadline = now_ns() + (uint64_t)IO_TIMEOUT_MS * 1000000u;
	for (;;) {
		size_t left = model.kind == FFN_POOL ? pool_outstanding(&model.pool)
			      : model.kind == FFN_GC ? table_used(&model.table) : 0;
		if (!left)
			return;
		if (now_ns() > deadline) {
			fprintf(stderr, "zcbench: %zu buffers never released\n", left);
			return;
		}
		usleep(200);
	}
}

static void model_fini(void)
{
	if (model.kind == FFN_POOL)
		pool_fini(&model.pool);
	if (model.kind != FFN_GC)
		return;
	pthread_mutex_lock(&model.gc_push_lock);
	if (zmq_send(model.gc_push, "", 0, 0) < 0) /* DIE */
		die_zmq("gc stop");
	pthread_mutex_unlock(&model.gc_push_lock);
	pthread_join(model.collector, NULL);
	zmq_close(model.gc_push);
	close(model.collector_ready_fd[0]);
	close(model.collector_ready_fd[1]);
	free(model.table.slot);
	free(model.table.free_ids);
}

/* --------------------------------------------------------- one point */

struct point {
	size_t bytes;
	int hwm;
	long warmup;
	char endpoint[256];
	int ep_pipe[2];     /* receiver -> sender: bound endpoint */
	int ready_pipe[2];  /* receiver -> sender: warm-up done */
	int result_pipe[2]; /* receiver -> sender: struct recv_result */
	void *ctx;          /* inproc: shared with the receiver thread */
	pid_t peer_pid;
};

struct recv_result {
	long messages;
	double msgs_per_s;
};

struct send_result {
	long count;
	double sends_per_s;   /* thr: messages / time in send calls, less waiting at HWM */
	double blocked_frac;  /* thr: share of the send loop spent waiting at HWM */
	double latency_us;    /* lat */
	double seconds;
};

/* One message. With blocked_ns (thr), the send is first tried without
 * waiting; if the queue is full (HWM), the blocking retry is timed into
 * *blocked_ns, so "sends" counts the cost of the send calls, not the wait
 * for the receiver, as pyzmq's sender-side figure does. */
static int send_one(void *sock, char *src, size_t bytes, uint64_t seq, uint64_t *blocked_ns)
{
	int flags = blocked_ns ? ZMQ_DONTWAIT : 0;
	if (opt.copy) {
		if (bytes >= sizeof seq)
			memcpy(src, &seq, sizeof seq);
		if (zmq_send(sock, src, bytes, flags) >= 0)
			return 0;
		if (!blocked_ns || zmq_errno() != EAGAIN)
			return -1;
		uint64_t t0 = now_ns();
		int rc = zmq_send(sock, src, bytes, 0);
		*blocked_ns += now_ns() - t0;
		return rc < 0 ? -1 : 0;
	}
	zmq_msg_t m;
	model_msg(&m, bytes, seq);
	int rc = zmq_msg_send(&m, sock, flags);
	if (rc < 0 && blocked_ns && zmq_errno() == EAGAIN) {
		uint64_t t0 = now_ns();
		rc = zmq_msg_send(&m, sock, 0); /* the message is still ours */
		*blocked_ns += now_ns() - t0;
	}
	if (rc < 0) {
		int err = zmq_errno();
		zmq_msg_close(&m); /* runs the ffn */
		errno = err;
		return -1;
	}
	return 0;
}

/* Receiving side: PULL counts, or REP echoes; runs in the child or thread. */
static void receiver(struct point *p, void *ctx)
{
	void *s = data_socket(ctx, opt.bench == BENCH_THR ? ZMQ_PULL : ZMQ_REP, p->hwm);
	if (zmq_bind(s, p->endpoint) != 0)
		die_zmq("zmq_bind");
	char ep[256];
	size_t len = sizeof ep;
	if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len) != 0)
		die_zmq("ZMQ_LAST_ENDPOINT");
	uint32_t n = (uint32_t)strlen(ep);
	write_all(p->ep_pipe[1], &n, sizeof n);
	write_all(p->ep_pipe[1], ep, n);

	struct recv_result r = { 0, 0 };
	zmq_msg_t m;
	zmq_msg_init(&m);
	if (opt.bench == BENCH_LAT) {
		for (;;) { /* echo until the empty request */
			if (zmq_msg_recv(&m, s, 0) < 0)
				die_zmq("echo recv");
			int last = zmq_msg_size(&m) == 0;
			if (zmq_msg_send(&m, s, 0) < 0)
				die_zmq("echo send");
			if (last)
				break;
		}
	} else {
		for (long i = 0; i < p->warmup; i++)
			if (zmq_msg_recv(&m, s, 0) < 0)
				die_zmq("recv");
		write_all(p->ready_pipe[1], "r", 1);
		uint64_t t_first = 0;
		for (;;) {
			if (zmq_msg_recv(&m, s, 0) < 0)
				die_zmq("recv");
			if (zmq_msg_size(&m) == 0)
				break; /* stop: sent right after the last timed message */
			if (r.messages++ == 0)
				t_first = now_ns();
		}
		uint64_t t_stop = now_ns();
		if (r.messages > 1 && t_stop > t_first)
			r.msgs_per_s = (double)(r.messages - 1) * 1e9 / (double)(t_stop - t_first);
	}
	zmq_msg_close(&m);
	write_all(p->result_pipe[1], &r, sizeof r);
	zmq_close(s);
}

static void *receiver_thread(void *arg)
{
	struct point *p = arg;
	receiver(p, p->ctx);
	return NULL;
}

/* The loop ends after opt.count messages, or once opt.seconds have passed;
 * the clock is read every few sends only, so small sends are not taxed. */
static int loop_done(long n, uint64_t t0, size_t bytes, long *check_left)
{
	if (opt.count)
		return n >= opt.count;
	if (--*check_left > 0)
		return 0;
	*check_left = bytes >= 65536 ? 1 : (long)(65536 / (bytes ? bytes : 1));
	if (*check_left > 256)
		*check_left = 256;
	return now_ns() - t0 >= (uint64_t)(opt.seconds * 1e9);
}

/* Returns the socket, still open: it is closed only once the receiver has
 * reported, because libzmq 4.3 can drop the tail of a queue whose socket is
 * closed while the kernel buffer is full (linger notwithstanding). */
static void *sender(struct point *p, void *ctx, struct send_result *out)
{
	void *s = data_socket(ctx, opt.bench == BENCH_THR ? ZMQ_PUSH : ZMQ_REQ, p->hwm);
	if (zmq_connect(s, p->endpoint) != 0)
		die_zmq("zmq_connect");
	char *src = xmalloc(p->bytes);
	memset(src, 'c', p->bytes);
	zmq_msg_t reply;
	zmq_msg_init(&reply);
	uint64_t seq = 0;
	long n = 0, check_left = 1;

	if (opt.bench == BENCH_THR) {
		for (long i = 0; i < p->warmup; i++)
			if (send_one(s, src, p->bytes, seq++, NULL) != 0)
				die_zmq("send");
		char c;
		read_all(p->ready_pipe[0], &c, 1);
		uint64_t blocked_ns = 0;
		uint64_t t0 = now_ns();
		do {
			if (send_one(s, src, p->bytes, seq++, &blocked_ns) != 0)
				die_zmq("send");
			n++;
		} while (!loop_done(n, t0, p->bytes, &check_left));
		uint64_t t1 = now_ns();
		if (zmq_send(s, "", 0, 0) < 0)
			die_zmq("send stop");
		out->seconds = (double)(t1 - t0) / 1e9;
		uint64_t sending_ns = t1 - t0 > blocked_ns ? t1 - t0 - blocked_ns : 1;
		out->sends_per_s = (double)n * 1e9 / (double)sending_ns;
		out->blocked_frac = (double)blocked_ns / (double)(t1 - t0);
	} else {
		for (long i = 0; i < p->warmup; i++)
			if (send_one(s, src, p->bytes, seq++, NULL) != 0 || zmq_msg_recv(&reply, s, 0) < 0)
				die_zmq("warm-up round trip");
		uint64_t t0 = now_ns();
		do {
			if (send_one(s, src, p->bytes, seq++, NULL) != 0)
				die_zmq("send");
			if (zmq_msg_recv(&reply, s, 0) < 0)
				die_zmq("recv reply");
			n++;
		} while (!loop_done(n, t0, p->bytes, &check_left));
		uint64_t t1 = now_ns();
		if (zmq_send(s, "", 0, 0) < 0 || zmq_msg_recv(&reply, s, 0) < 0)
			die_zmq("stop round trip");
		out->seconds = (double)(t1 - t0) / 1e9;
		out->latency_us = (double)(t1 - t0) / 1e3 / (double)n / 2;
	}
	out->count = n;
	zmq_msg_close(&reply);
	free(src);
	return s;
}

static void open_pipes(struct point *p)
{
	if (pipe(p->ep_pipe) || pipe(p->ready_pipe) || pipe(p->result_pipe))
		die("pipe", strerror(errno));
}

static void close_pipes(struct point *p)
{
	int *fds[] = { p->ep_pipe, p->ready_pipe, p->result_pipe };
	for (size_t i = 0; i < 3; i++)
		for (int j = 0; j < 2; j++)
			if (fds[i][j] >= 0)
				close(fds[i][j]);
}

static void run_point(size_t bytes, int index, struct send_result *sr, struct recv_result *rr,
		      struct point *p)
{
	memset(p, 0, sizeof *p);
	p->bytes = bytes;
	p->hwm = hwm_for(bytes);
	/* thr: enough to fill both queues once, so a pool has reached its
	 * steady size and malloc its working set before the clock starts */
	p->warmup = opt.warmup >= 0 ? opt.warmup
		    : opt.bench == BENCH_LAT ? 20
		    : 2L * p->hwm + 16 < 2000 ? 2L * p->hwm + 16 : 2000;
	open_pipes(p);
	if (opt.endpoint)
		snprintf(p->endpoint, sizeof p->endpoint, "%s", opt.endpoint);
	else if (opt.transport == TR_INPROC)
		snprintf(p->endpoint, sizeof p->endpoint, "inproc://zcbench-%d", index);
	else if (opt.transport == TR_IPC) /* abstract socket: nothing left on disk */
		snprintf(p->endpoint, sizeof p->endpoint, "ipc://@zcbench-%d-%d", (int)getpid(), index);
	else
		snprintf(p->endpoint, sizeof p->endpoint, "tcp://127.0.0.1:*");

	pthread_t thread;
	if (opt.transport == TR_INPROC) {
		p->ctx = zmq_ctx_new();
		if (!p->ctx)
			die_zmq("zmq_ctx_new");
		p->peer_pid = getpid();
		if (pthread_create(&thread, NULL, receiver_thread, p) != 0)
			die("pthread_create", "receiver");
	} else {
		/* Fork before this process has a context: libzmq's threads
		 * do not survive fork. */
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0)
			die("fork", strerror(errno));
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			void *ctx = zmq_ctx_new();
			if (!ctx)
				die_zmq("zmq_ctx_new");
			receiver(p, ctx);
			zmq_ctx_term(ctx);
			exit(0); /* not _exit: a preloaded shim marks its segment exited */
		}
		p->peer_pid = pid;
		/* the child's ends: a receiver that dies is then seen at once as EOF */
		close(p->ep_pipe[1]);
		close(p->ready_pipe[1]);
		close(p->result_pipe[1]);
		p->ep_pipe[1] = p->ready_pipe[1] = p->result_pipe[1] = -1;
		p->ctx = zmq_ctx_new();
		if (!p->ctx)
			die_zmq("zmq_ctx_new");
	}
	uint32_t n;
	read_all(p->ep_pipe[0], &n, sizeof n);
	if (n >= sizeof p->endpoint)
		die("endpoint", "too long");
	read_all(p->ep_pipe[0], p->endpoint, n);
	p->endpoint[n] = '\0';

	if (!opt.copy)
		model_init(p->ctx, opt.model, bytes, p->hwm);
	void *sock = sender(p, p->ctx, sr);
	read_all(p->result_pipe[0], rr, sizeof *rr);
	zmq_close(sock);
	if (opt.transport == TR_INPROC) {
		pthread_join(thread, NULL);
	} else {
		int status;
		if (waitpid(p->peer_pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			die("receiver", "failed");
	}
	if (!opt.copy) {
		model_drain();
		model_fini();
	}
	zmq_ctx_term(p->ctx);
	close_pipes(p);
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: zcbench thr|lat [OPTION]...\n"
		"Copy vs zero-copy ZeroMQ sends: one CSV row per message size on stdout.\n"
		"\n"
		"  thr                PUSH/PULL: send-only and first-to-last-receive msgs/s\n"
		"  lat                REQ/REP: round trip / 2, in microseconds\n"
		"  -t, --transport T  inproc, ipc or tcp (127.0.0.1); default tcp\n"
		"  -e, --endpoint EP  bind here instead (e.g. tcp://127.0.0.1:5555)\n"
		"      --copy         zmq_send: libzmq copies the bytes (default)\n"
		"      --zerocopy     zmq_msg_init_data + zmq_msg_send with an ffn\n"
		"  -f, --ffn MODEL    free, pool or gcthread (pyzmq's); default free\n"
		"  -s, --sizes LIST   comma list of sizes, e.g. 100,64k,4M (k = 1024)\n"
		"      --sweep L:H:N  N sizes log-spaced from L to H; default 100:4M:9\n"
		"  -n, --count N      exactly N messages (round trips) per size\n"
		"  -d, --seconds S    else run each size about S seconds; default 1\n"
		"  -w, --warmup N     untimed messages first; default thr 2 x hwm + 16 (at most\n"
		"                     2000), lat 20 round trips\n"
		"      --hwm N        SNDHWM/RCVHWM; default 1000, fewer above 64 kB (64 MB cap)\n"
		"      --tag TEXT     copied into the tag column\n"
		"      --no-header    omit the CSV header\n"
		"      --list-sizes   print the sizes the options select, and exit\n"
		"  -q, --quiet        no progress lines on stderr\n"
		"  -h, --help         show this help\n"
		"\n"
		"Columns: size,count,copy,transport,ffn_model,shim_mode,sends,throughput,\n"
		"latency_us,bench,seconds,send_wait,hwm,pid,peer_pid,tag. sends leaves out the\n"
		"time spent waiting at the high-water mark (send_wait: its share of the send\n"
		"loop). shim_mode is none unless libzcshim.so is preloaded.\n"
		"Quick check: zcbench thr --sizes 100,100000 --count 200\n");
}

static int lookup(const char *const *names, int n, const char *s, const char *what)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	die(what, s);
	return -1;
}

static void parse_args(int argc, char **argv)
{
	enum { O_COPY = 256, O_ZEROCOPY, O_SWEEP, O_HWM, O_TAG, O_NOHEADER, O_LIST };
	static const struct option longopts[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "copy", no_argument, NULL, O_COPY },
		{ "zerocopy", no_argument, NULL, O_ZEROCOPY },
		{ "ffn", required_argument, NULL, 'f' },
		{ "sizes", required_argument, NULL, 's' },
		{ "sweep", required_argument, NULL, O_SWEEP },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "hwm", required_argument, NULL, O_HWM },
		{ "tag", required_argument, NULL, O_TAG },
		{ "no-header", no_argument, NULL, O_NOHEADER },
		{ "list-sizes", no_argument, NULL, O_LIST },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	parse_sweep("100:4M:9");
	while ((c = getopt_long(argc, argv, "t:e:f:s:n:d:w:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 't': opt.transport = lookup(transport_names, 3, optarg, "--transport"); break;
		case 'e': opt.endpoint = optarg; break;
		case O_COPY: opt.copy = 1; break;
		case O_ZEROCOPY: opt.copy = 0; break;
		case 'f': opt.model = lookup(model_names + 1, 3, optarg, "--ffn") + 1; break;
		case 's': parse_sizes(optarg); break;
		case O_SWEEP: parse_sweep(optarg); break;
		case 'n':
			opt.count = strtol(optarg, &end, 10);
			if (*end || opt.count < 1)
				die("--count", "want a positive integer");
			break;
		case 'd':
			opt.seconds = strtod(optarg, &end);
			if (*end || !(opt.seconds > 0 && opt.seconds < 3600))
				die("--seconds", "want a number of seconds in (0, 3600)");
			break;
		case 'w':
			opt.warmup = strtol(optarg, &end, 10);
			if (*end || opt.warmup < 0)
				die("--warmup", "want an integer >= 0");
			break;
		case O_HWM:
			opt.hwm = (int)strtol(optarg, &end, 10);
			if (*end || opt.hwm < 1)
				die("--hwm", "want a positive integer");
			break;
		case O_TAG: opt.tag = optarg; break;
		case O_NOHEADER: opt.header = 0; break;
		case O_LIST: opt.list_sizes = 1; break;
		case 'q': opt.quiet = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		exit(2);
	}
	if (strcmp(argv[optind], "thr") == 0)
		opt.bench = BENCH_THR;
	else if (strcmp(argv[optind], "lat") == 0)
		opt.bench = BENCH_LAT;
	else
		die("mode", "want thr or lat");
	if (opt.endpoint && opt.transport == TR_TCP && strncmp(opt.endpoint, "tcp://127.0.0.1:", 16))
		die("--endpoint", "tcp only on tcp://127.0.0.1:PORT");
	if (opt.copy)
		opt.model = FFN_NONE;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	if (opt.list_sizes) {
		for (int i = 0; i < opt.nsizes; i++)
			printf("%zu\n", opt.sizes_bytes[i]);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	const char *mode = shim_mode();
	if (opt.header)
		printf("size,count,copy,transport,ffn_model,shim_mode,sends,throughput,"
		       "latency_us,bench,seconds,send_wait,hwm,pid,peer_pid,tag\n");
	for (int i = 0; i < opt.nsizes; i++) {
		/* A wedged point ends the run instead of hanging it. */
		alarm((unsigned)(opt.count ? 120 : 60 + 4 * opt.seconds));
		struct send_result sr = { .count = 0 };
		struct recv_result rr = { 0, 0 };
		struct point p;
		size_t bytes = opt.sizes_bytes[i];
		run_point(bytes, i, &sr, &rr, &p);
		alarm(0);
		if (opt.bench == BENCH_THR)
			printf("%zu,%ld,%d,%s,%s,%s,%.1f,%.1f,,thr", bytes, sr.count, opt.copy,
			       transport_names[opt.transport], model_names[opt.model], mode,
			       sr.sends_per_s, rr.msgs_per_s);
		else
			printf("%zu,%ld,%d,%s,%s,%s,,,%.3f,lat", bytes, sr.count, opt.copy,
			       transport_names[opt.transport], model_names[opt.model], mode,
			       sr.latency_us);
		printf(",%.3f,", sr.seconds);
		if (opt.bench == BENCH_THR)
			printf("%.3f", sr.blocked_frac);
		printf(",%d,%d,%d,%s\n", p.hwm, (int)getpid(), (int)p.peer_pid, opt.tag);
		fflush(stdout);
		if (!opt.quiet) {
			if (opt.bench == BENCH_THR)
				fprintf(stderr, "zcbench: thr %s %s %s %zu B: %ld msgs, sends %.0f/s, throughput %.0f/s\n",
					transport_names[opt.transport], opt.copy ? "copy" : "zerocopy",
					model_names[opt.model], bytes, sr.count, sr.sends_per_s,
					rr.msgs_per_s);
			else
				fprintf(stderr, "zcbench: lat %s %s %s %zu B: %ld round trips, %.2f us\n",
					transport_names[opt.transport], opt.copy ? "copy" : "zerocopy",
					model_names[opt.model], bytes, sr.count, sr.latency_us);
		}
	}
	return 0;
}
