/*
 * zcstress - many threads, mixed sizes across the threshold, every message
 * and every free callback accounted for.
 *
 * Each of --threads sender threads sends --count two-frame messages on its
 * own socket: a 16-byte header {thread, seq, size} with zmq_send (a copy),
 * then a zero-copy payload made with zmq_msg_init_data whose bytes are a
 * function of (thread, seq). Sizes cycle through 1, 33, 34 (either side of
 * libzmq's inline limit), threshold-1, threshold, threshold+1 and, rarely,
 * 1 MiB. One receiver checks, per sender, that seq arrives in order and that
 * length and every byte are right. Every payload's ffn must run exactly once,
 * never inside zmq_msg_init_data and never before its send started. The
 * program prints what it sent per path so a test can compare it with what
 * the shim recorded, and exits 0 only if every check held.
 *
 *   zcstress [--pattern pushpull|pubsub|pubnosub|router] [--transport T]
 *            [--threads N] [--count N] [--threshold BYTES] [--dontwait] [--gc]
 *
 * --dontwait: send with ZMQ_DONTWAIT into high-water marks of 16 messages;
 *             on EAGAIN check the message is intact and send it again later.
 * --gc:       the ffn hands the buffer to a collector thread over an inproc
 *             PUSH socket under a mutex, as pyzmq does.
 * pubnosub:   a PUB with no subscriber: libzmq drops and frees in the send.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_THREADS 32
#define LARGE_BYTES (1u << 20)

static struct {
	const char *pattern, *transport;
	int threads, dontwait, gc;
	long count;
	size_t threshold;
} opt = { "pushpull", "inproc", 8, 0, 0, 20000, 65536 };

static int failures;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			pthread_mutex_lock(&fail_lock);                         \
			if (failures++ < 10) {                                  \
				fprintf(stderr, "zcstress: check failed: " __VA_ARGS__); \
				fputc('\n', stderr);                            \
			}                                                       \
			pthread_mutex_unlock(&fail_lock);                       \
		}                                                               \
	} while (0)

/* Under ThreadSanitizer (make test-tsan preloads its runtime) buffers handed
 * to another thread through libzmq, which TSan cannot see into, are
 * announced; without TSan these are NULL and nothing is called. */
void __tsan_acquire(void *addr) __attribute__((weak));
void __tsan_release(void *addr) __attribute__((weak));
#define HANDOFF_SEND(p) do { if (__tsan_release) __tsan_release(p); } while (0)
#define HANDOFF_RECV(p) do { if (__tsan_acquire) __tsan_acquire(p); } while (0)

struct header {
	uint32_t thread, seq;
	uint64_t bytes;
};

static size_t size_of(uint32_t t, uint32_t seq)
{
	uint32_t h = (t * 2654435761u) ^ (seq * 40503u);
	h ^= h >> 13;
	switch (h % 512) {
	case 0: return LARGE_BYTES;
	case 1 ... 8: return opt.threshold - 1;
	case 9 ... 16: return opt.threshold;
	case 17 ... 24: return opt.threshold + 1;
	default: {
		static const size_t small[] = { 1, 33, 34 };
		return small[h % 3];
	}
	}
}

static unsigned char byte_of(uint32_t t, uint32_t seq, size_t i)
{
	return (unsigned char)(t * 31 + seq * 131 + i * 7 + (i >> 9));
}

/* ---- per-buffer accounting: state[t][seq] ---- */

enum { FRESH, SENDING, FREED };
static unsigned char *state[MAX_THREADS]; /* FRESH -> SENDING -> FREED */
static long ffn_calls, ffn_twice, ffn_in_init, ffn_before_send;
static __thread int in_init_data;

static void account_free(uint32_t t, uint32_t seq)
{
	unsigned char was = __atomic_exchange_n(&state[t][seq], FREED, __ATOMIC_ACQ_REL);
	if (was == FREED)
		__atomic_add_fetch(&ffn_twice, 1, __ATOMIC_RELAXED);
	if (was == FRESH)
		__atomic_add_fetch(&ffn_before_send, 1, __ATOMIC_RELAXED);
	if (in_init_data)
		__atomic_add_fetch(&ffn_in_init, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ffn_calls, 1, __ATOMIC_RELAXED);
}

static void *encode_id(uint32_t t, uint32_t seq)
{
	return (void *)(uintptr_t)(((uint64_t)t << 32 | seq) + 1);
}

static void ffn_free(void *data, void *hint)
{
	HANDOFF_RECV(data);
	uint64_t id = (uint64_t)(uintptr_t)hint - 1;
	account_free((uint32_t)(id >> 32), (uint32_t)id);
	free(data);
}

/* --gc: the collector frees; the ffn only says which buffer, under a lock */
static pthread_mutex_t gc_lock = PTHREAD_MUTEX_INITIALIZER;
static void *gc_push;

struct gc_note {
	void *data;
	uint64_t id;
};

static void ffn_gc(void *data, void *hint)
{
	HANDOFF_RECV(data);
	HANDOFF_SEND(data);
	struct gc_note note = { data, (uint64_t)(uintptr_t)hint - 1 };
	account_free((uint32_t)(note.id >> 32), (uint32_t)note.id);
	pthread_mutex_lock(&gc_lock);
	int rc = zmq_send(gc_push, &note, sizeof note, 0);
	pthread_mutex_unlock(&gc_lock);
	CHECK(rc == (int)sizeof note, "gc send: %s", zmq_strerror(errno));
}

static void *gc_thread(void *ctx)
{
	void *pull = zmq_socket(ctx, ZMQ_PULL);
	zmq_bind(pull, "inproc://gc");
	struct gc_note note;
	while (zmq_recv(pull, &note, sizeof note, 0) == (int)sizeof note && note.data) {
		HANDOFF_RECV(note.data);
		free(note.data);
	}
	zmq_close(pull);
	return NULL;
}

/* ---- endpoints ---- */

static void endpoint(char *buf, size_t len, int t)
{
	if (!strcmp(opt.transport, "tcp"))
		snprintf(buf, len, "tcp://127.0.0.1:*");
	else if (!strcmp(opt.transport, "ipc"))
		snprintf(buf, len, "ipc:///tmp/zcstress-%d-%d", (int)getpid(), t);
	else
		snprintf(buf, len, "inproc://zcstress-%d", t);
}

/* ---- senders ---- */

struct sender {
	void *ctx, *socket;
	uint32_t t;
	char ep[256];
	long header_sends, payload_sends, small_payloads, eagain;
	pthread_t tid;
};

static void *receiver_ready[MAX_THREADS]; /* pubsub: set once a hello arrived */
static uint32_t received_of[MAX_THREADS]; /* pubsub: the receiver's progress */

/* Send frame until it goes; with --dontwait, EAGAIN must leave it intact. */
static void send_msg(struct sender *s, zmq_msg_t *m, int flags, const void *data,
		     size_t bytes)
{
	for (;;) {
		int rc = zmq_msg_send(m, s->socket, flags | (opt.dontwait ? ZMQ_DONTWAIT : 0));
		if (rc == (int)bytes)
			return;
		CHECK(rc == -1 && errno == EAGAIN && opt.dontwait, "send: rc %d: %s", rc,
		      zmq_strerror(errno));
		if (!(rc == -1 && errno == EAGAIN))
			return;
		s->eagain++;
		CHECK(zmq_msg_size(m) == bytes && zmq_msg_data(m) == data,
		      "EAGAIN changed the message");
		usleep(50);
	}
}

static void send_header(struct sender *s, uint32_t seq, size_t bytes, int more)
{
	struct header h = { s->t, seq, bytes };
	for (;;) {
		int rc = zmq_send(s->socket, &h, sizeof h,
				  (more ? ZMQ_SNDMORE : 0) | (opt.dontwait ? ZMQ_DONTWAIT : 0));
		if (rc == (int)sizeof h)
			break;
		CHECK(rc == -1 && errno == EAGAIN, "header send: %s", zmq_strerror(errno));
		if (rc != -1 || errno != EAGAIN)
			break;
		s->eagain++;
		usleep(50);
	}
	s->header_sends++;
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	if (!strcmp(opt.pattern, "pubsub")) {
		/* slow joiner: hello until the subscriber has seen one */
		while (!__atomic_load_n(&receiver_ready[s->t], __ATOMIC_ACQUIRE)) {
			send_header(s, UINT32_MAX, 0, 0);
			usleep(1000);
		}
	}
	int paced = !strcmp(opt.pattern, "pubsub");
	for (uint32_t seq = 0; seq < opt.count; seq++) {
		/* PUB has no back-pressure (a high-water mark drops): stay within
		 * 2,000 messages of the receiver so memory stays bounded */
		while (paced && seq - __atomic_load_n(&received_of[s->t], __ATOMIC_RELAXED) > 2000)
			usleep(100);
		size_t bytes = size_of(s->t, seq);
		unsigned char *buf = malloc(bytes);
		for (size_t i = 0; i < bytes; i++)
			buf[i] = byte_of(s->t, seq, i);
		HANDOFF_SEND(buf);
		zmq_msg_t m;
		in_init_data = 1;
		int rc = zmq_msg_init_data(&m, buf, bytes, opt.gc ? ffn_gc : ffn_free,
					   encode_id(s->t, seq));
		in_init_data = 0;
		CHECK(rc == 0, "init_data");
		send_header(s, seq, bytes, 1);
		__atomic_store_n(&state[s->t][seq], SENDING, __ATOMIC_RELEASE);
		send_msg(s, &m, 0, buf, bytes);
		s->payload_sends++;
		s->small_payloads += bytes < opt.threshold;
	}
	return NULL;
}

/* ---- receiver ---- */

struct receiver {
	void *socket;
	long got, bad;
	uint32_t next[MAX_THREADS];
};

static int recv_frame(void *socket, zmq_msg_t *m)
{
	return zmq_msg_recv(m, socket, 0);
}

static void receive_all(struct receiver *r)
{
	const long total = opt.count * opt.threads;
	zmq_msg_t id, hdr, body;
	zmq_msg_init(&id);
	zmq_msg_init(&hdr);
	zmq_msg_init(&body);
	int router = !strcmp(opt.pattern, "router");
	while (r->got < total) {
		if (router && recv_frame(r->socket, &id) < 0)
			break;
		if (recv_frame(r->socket, &hdr) < 0)
			break;
		struct header h;
		if (zmq_msg_size(&hdr) != sizeof h) {
			r->bad++;
			continue;
		}
		memcpy(&h, zmq_msg_data(&hdr), sizeof h);
		if (h.seq == UINT32_MAX) { /* pubsub hello */
			if (h.thread < MAX_THREADS)
				__atomic_store_n(&receiver_ready[h.thread], (void *)1,
						 __ATOMIC_RELEASE);
			continue;
		}
		if (!zmq_msg_more(&hdr) || recv_frame(r->socket, &body) < 0) {
			r->bad++;
			continue;
		}
		int ok = h.thread < (uint32_t)opt.threads && h.seq == r->next[h.thread] &&
			 h.bytes == size_of(h.thread, h.seq) && zmq_msg_size(&body) == h.bytes;
		if (router) {
			char want[16];
			snprintf(want, sizeof want, "s%02u", h.thread);
			ok = ok && zmq_msg_size(&id) == strlen(want) &&
			     !memcmp(zmq_msg_data(&id), want, strlen(want));
		}
		const unsigned char *p = zmq_msg_data(&body);
		for (size_t i = 0; ok && i < h.bytes; i++)
			ok = p[i] == byte_of(h.thread, h.seq, i);
		if (h.thread < (uint32_t)opt.threads) {
			r->next[h.thread] = h.seq + 1;
			__atomic_store_n(&received_of[h.thread], h.seq + 1, __ATOMIC_RELAXED);
		}
		r->bad += !ok;
		r->got++;
	}
	zmq_msg_close(&id);
	zmq_msg_close(&hdr);
	zmq_msg_close(&body);
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
		if (!strcmp(a, "--pattern")) opt.pattern = v, i++;
		else if (!strcmp(a, "--transport")) opt.transport = v, i++;
		else if (!strcmp(a, "--threads")) opt.threads = atoi(v), i++;
		else if (!strcmp(a, "--count")) opt.count = atol(v), i++;
		else if (!strcmp(a, "--threshold")) opt.threshold = strtoull(v, NULL, 10), i++;
		else if (!strcmp(a, "--dontwait")) opt.dontwait = 1;
		else if (!strcmp(a, "--gc")) opt.gc = 1;
		else {
			fprintf(stderr, "zcstress: unknown option %s\n", a);
			return 2;
		}
	}
	if (opt.threads < 1 || opt.threads > MAX_THREADS || opt.count < 1 ||
	    opt.count >= UINT32_MAX || opt.threshold < 2) {
		fprintf(stderr, "zcstress: bad --threads, --count or --threshold\n");
		return 2;
	}
	alarm(600); /* a deadlock fails instead of hanging */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int t = 0; t < opt.threads; t++)
		state[t] = calloc((size_t)opt.count, 1);

	void *ctx = zmq_ctx_new();
	pthread_t gc;
	if (opt.gc) {
		pthread_create(&gc, NULL, gc_thread, ctx);
		gc_push = zmq_socket(ctx, ZMQ_PUSH);
		while (zmq_connect(gc_push, "inproc://gc") != 0)
			usleep(1000);
	}
	const char *pat = opt.pattern;
	int pub = !strncmp(pat, "pub", 3), router = !strcmp(pat, "router");
	int hwm = opt.dontwait ? 16 : (pub ? 0 : 1000);
	struct receiver r = { 0 };
	if (strcmp(pat, "pubnosub") != 0) {
		r.socket = zmq_socket(ctx, pub ? ZMQ_SUB : router ? ZMQ_ROUTER : ZMQ_PULL);
		zmq_setsockopt(r.socket, ZMQ_RCVHWM, &hwm, sizeof hwm);
		if (pub)
			zmq_setsockopt(r.socket, ZMQ_SUBSCRIBE, "", 0);
	}
	struct sender s[MAX_THREADS];
	char rep[256];
	if (!pub) {
		endpoint(rep, sizeof rep, 99);
		CHECK(zmq_bind(r.socket, rep) == 0, "bind %s", rep);
		size_t len = sizeof rep;
		zmq_getsockopt(r.socket, ZMQ_LAST_ENDPOINT, rep, &len);
	}
	for (int t = 0; t < opt.threads; t++) {
		s[t] = (struct sender){ .ctx = ctx, .t = (uint32_t)t };
		s[t].socket = zmq_socket(ctx, pub ? ZMQ_PUB : router ? ZMQ_DEALER : ZMQ_PUSH);
		zmq_setsockopt(s[t].socket, ZMQ_SNDHWM, &hwm, sizeof hwm);
		if (router) {
			char id[16];
			snprintf(id, sizeof id, "s%02d", t);
			zmq_setsockopt(s[t].socket, ZMQ_ROUTING_ID, id, strlen(id));
		}
		if (pub) {
			endpoint(s[t].ep, sizeof s[t].ep, t);
			CHECK(zmq_bind(s[t].socket, s[t].ep) == 0, "bind %s", s[t].ep);
			size_t len = sizeof s[t].ep;
			zmq_getsockopt(s[t].socket, ZMQ_LAST_ENDPOINT, s[t].ep, &len);
			if (r.socket)
				zmq_connect(r.socket, s[t].ep);
		} else {
			zmq_connect(s[t].socket, rep);
		}
	}
	for (int t = 0; t < opt.threads; t++)
		pthread_create(&s[t].tid, NULL, sender_main, &s[t]);
	if (r.socket)
		receive_all(&r);
	long header_sends = 0, payload_sends = 0, small = 0, eagain = 0;
	for (int t = 0; t < opt.threads; t++) {
		pthread_join(s[t].tid, NULL);
		header_sends += s[t].header_sends;
		payload_sends += s[t].payload_sends;
		small += s[t].small_payloads;
		eagain += s[t].eagain;
		zmq_close(s[t].socket);
	}
	if (r.socket)
		zmq_close(r.socket);
	if (opt.gc) {
		/* once every ffn has run, tell the collector to stop */
		while (__atomic_load_n(&ffn_calls, __ATOMIC_ACQUIRE) < payload_sends)
			usleep(1000);
		struct gc_note stop = { NULL, 0 };
		pthread_mutex_lock(&gc_lock);
		zmq_send(gc_push, &stop, sizeof stop, 0);
		pthread_mutex_unlock(&gc_lock);
		pthread_join(gc, NULL);
		zmq_close(gc_push);
	}
	zmq_ctx_term(ctx); /* every pipe gone: every ffn has run */

	long missing = 0;
	for (int t = 0; t < opt.threads; t++) {
		for (long q = 0; q < opt.count; q++)
			missing += state[t][q] != FREED;
		free(state[t]);
	}
	long expect_rx = strcmp(pat, "pubnosub") ? payload_sends : 0;
	printf("threads=%d payload_sends=%ld small_payloads=%ld header_sends=%ld eagain=%ld\n",
	       opt.threads, payload_sends, small, header_sends, eagain);
	printf("received=%ld bad=%ld ffn_calls=%ld ffn_missing=%ld ffn_twice=%ld "
	       "ffn_in_init=%ld ffn_before_send=%ld\n",
	       r.got, r.bad, ffn_calls, missing, ffn_twice, ffn_in_init, ffn_before_send);
	CHECK(payload_sends == opt.count * opt.threads, "not all sent");
	CHECK(r.got == expect_rx && r.bad == 0, "lost or damaged messages");
	CHECK(!missing && !ffn_twice && !ffn_in_init && !ffn_before_send,
	      "ffn not exactly once, after the send");
	printf("failures=%d\n", failures);
	return failures ? 1 : 0;
}
