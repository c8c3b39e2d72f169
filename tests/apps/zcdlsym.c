/*
 * zcdlsym - a program that reaches libzmq only through dlsym pointers, as
 * Ruby-FFI, FFI::Platypus, ctypes or LuaJIT do, and one that checks every
 * other lookup is left alone.
 *
 *   zcdlsym send ENDPOINT COUNT   dlopen libzmq.so.5 RTLD_LOCAL, find every
 *           function with dlsym, send COUNT zero-copy
 *           messages of 100 B and COUNT of 1 MiB from a PUSH bound to
 *           ENDPOINT to a PULL connected to it, and print its own counts
 *   zcdlsym lookups      print what a list of other lookups return (object
 *           and offset, or NULL and dlerror's text, and errno), for the test
 *           to compare with the same run without the shim
 *   zcdlsym threads      lookups in 4 threads while another dlopens and
 *           dlcloses: each name always gives the same pointer
 *   zcdlsym versions     versioned references (dlsym@GLIBC_2.34,
 *           dlsym@GLIBC_2.2.5, dlvsym@GLIBC_2.34): which object defines what
 *           they were bound to, and which answers a lookup through them
 *   zcdlsym second BUILTIN.so   a lookup in a second libzmq (one built into
 *           BUILTIN.so): which object answers
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* ------------------------------------------------------------- send */

static int freed;

static void ffn(void *data, void *hint)
{
	(void)hint;
	free(data);
	__atomic_add_fetch(&freed, 1, __ATOMIC_RELAXED);
}

#define FN(ret, name, args) ret(*name) args = (ret(*) args)dlsym(h, "zmq_" #name)

static int send_mode(const char *endpoint, int count)
{
	void *h = dlopen("libzmq.so.5", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return fprintf(stderr, "zcdlsym: %s\n", dlerror()), 1;
	(void)dlerror();
	/* the first lookup of a function the shim defines makes it choose its
	 * libzmq, with lookups of its own: none may leave an error behind */
	void *first = dlsym(h, "zmq_msg_init_data");
	int dlerror_clean = first && dlerror() == NULL;
	FN(void *, ctx_new, (void));
	FN(void *, socket, (void *, int));
	FN(int, bind, (void *, const char *));
	FN(int, connect, (void *, const char *));
	int (*msg_init_data)(zmq_msg_t *, void *, size_t, zmq_free_fn *, void *) =
		(int (*)(zmq_msg_t *, void *, size_t, zmq_free_fn *, void *))first;
	FN(int, msg_send, (zmq_msg_t *, void *, int));
	FN(int, msg_init, (zmq_msg_t *));
	FN(int, msg_recv, (zmq_msg_t *, void *, int));
	FN(void *, msg_data, (zmq_msg_t *));
	FN(int, msg_close, (zmq_msg_t *));
	FN(int, close, (void *));
	FN(int, ctx_term, (void *));
	void *ctx = ctx_new();
	void *push = socket(ctx, ZMQ_PUSH), *pull = socket(ctx, ZMQ_PULL);
	int bad = bind(push, endpoint) != 0;
	bad += connect(pull, endpoint) != 0;
	static const size_t sizes[] = { 100, 1048576 };
	int sent[2] = { 0, 0 }, received = 0;
	for (int i = 0; i < count; i++) {
		for (int k = 0; k < 2; k++) {
			size_t bytes = sizes[k];
			unsigned char *buf = malloc(bytes);
			memset(buf, (i + k) & 0xff, bytes);
			zmq_msg_t m;
			msg_init_data(&m, buf, bytes, ffn, NULL);
			if (msg_send(&m, push, 0) == (int)bytes)
				sent[k]++;
			else
				bad++;
			zmq_msg_t r;
			msg_init(&r);
			if (msg_recv(&r, pull, 0) == (int)bytes &&
			    ((unsigned char *)msg_data(&r))[bytes - 1] == ((i + k) & 0xff))
				received++;
			else
				bad++;
			msg_close(&r);
		}
	}
	close(push);
	close(pull);
	ctx_term(ctx);
	printf("sent_small=%d sent_large=%d received=%d bad=%d freed=%d dlerror_clean=%d\n",
	       sent[0], sent[1], received, bad, freed, dlerror_clean);
	return bad || freed != 2 * count || !dlerror_clean;
}

/* ---------------------------------------------------------- lookups */

static void show(const char *what, void *p, int err)
{
	Dl_info info;
	if (!p) {
		const char *e = dlerror();
		printf("%s: NULL (%s) errno=%d\n", what, e ? e : "no error", err);
	} else if (dladdr(p, &info) && info.dli_fname) {
		const char *base = strrchr(info.dli_fname, '/');
		printf("%s: %s+%#lx errno=%d\n", what, base ? base + 1 : info.dli_fname,
		       (unsigned long)((char *)p - (char *)info.dli_fbase), err);
	} else {
		printf("%s: %p (no object) errno=%d\n", what, p, err);
	}
}

#define LOOK(what, expr)                  \
	do {                              \
		errno = 4321;             \
		void *p_ = (expr);        \
		show(what, p_, errno);    \
	} while (0)

/* a handle is an address of the dynamic linker's heap: only whether */
#define OPEN(what, var, expr)                                               \
	do {                                                                \
		errno = 4321;                                               \
		var = (expr);                                               \
		if (var)                                                    \
			printf("%s: a handle errno=%d\n", what, errno);     \
		else                                                        \
			show(what, NULL, errno);                            \
	} while (0)

static int lookups_mode(void)
{
	LOOK("default zmq_ctx_new, libzmq not loaded", dlsym(RTLD_DEFAULT, "zmq_ctx_new"));
	LOOK("default printf", dlsym(RTLD_DEFAULT, "printf"));
	LOOK("next malloc", dlsym(RTLD_NEXT, "malloc"));
	LOOK("next no_such_symbol", dlsym(RTLD_NEXT, "no_such_symbol"));
	LOOK("default no_such_symbol", dlsym(RTLD_DEFAULT, "no_such_symbol"));
	LOOK("vnext realpath@GLIBC_2.3", dlvsym(RTLD_NEXT, "realpath", "GLIBC_2.3"));
	LOOK("vdefault pthread_create@GLIBC_2.34",
	     dlvsym(RTLD_DEFAULT, "pthread_create", "GLIBC_2.34"));
	void *libm, *none, *zmq;
	OPEN("dlopen libm.so.6", libm, dlopen("libm.so.6", RTLD_NOW));
	LOOK("libm cos", dlsym(libm, "cos"));
	LOOK("libm malloc (from its dependencies)", dlsym(libm, "malloc"));
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	/* not memcpy: an IFUNC, whose choice valgrind's CPU changes */
	LOOK("libc realpath@GLIBC_2.3", dlvsym(libc, "realpath", "GLIBC_2.3"));
	LOOK("libc realpath@GLIBC_2.2.5", dlvsym(libc, "realpath", "GLIBC_2.2.5"));
	LOOK("libc realpath@NO_SUCH", dlvsym(libc, "realpath", "NO_SUCH"));
	OPEN("dlopen no-such-library.so", none, dlopen("no-such-library.so", RTLD_NOW));
	OPEN("dlopen libzmq.so.5", zmq, dlopen("libzmq.so.5", RTLD_NOW | RTLD_LOCAL));
	LOOK("libzmq zmq_ctx_new", dlsym(zmq, "zmq_ctx_new"));
	LOOK("libzmq zmq_msg_gets", dlsym(zmq, "zmq_msg_gets"));
	/* libzmq has no symbol versions, and dlvsym asks for one exactly */
	LOOK("libzmq zmq_version@ANY", dlvsym(zmq, "zmq_version", "ANY"));
	LOOK("libzmq zmq_no_such", dlsym(zmq, "zmq_no_such"));
	LOOK("libzmq z", dlsym(zmq, "z"));
	LOOK("libzmq malloc", dlsym(zmq, "malloc"));
	LOOK("default zmq_ctx_new, libzmq loaded locally", dlsym(RTLD_DEFAULT, "zmq_ctx_new"));
	return 0;
}

/* ---------------------------------------------------------- threads */

static void *zmq_handle;

static void *lookup_loop(void *arg)
{
	static const char *const names[] = { "zmq_send", "zmq_msg_send", "zmq_ctx_new",
					     "zmq_close", "zmq_no_such" };
	void *first[5];
	long bad = 0;
	for (int n = 0; n < 5; n++)
		first[n] = dlsym(zmq_handle, names[n]);
	for (int i = 0; i < 2000; i++)
		for (int n = 0; n < 5; n++)
			bad += dlsym(zmq_handle, names[n]) != first[n];
	bad += !first[0] || !first[2] || first[4];
	*(long *)arg = bad;
	return NULL;
}

static int threads_mode(void)
{
	zmq_handle = dlopen("libzmq.so.5", RTLD_NOW | RTLD_LOCAL);
	if (!zmq_handle)
		return fprintf(stderr, "zcdlsym: %s\n", dlerror()), 1;
	pthread_t t[4];
	long bad[4] = { 0 };
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, lookup_loop, &bad[i]);
	for (int i = 0; i < 200; i++) { /* the dynamic linker's lock, busy meanwhile */
		void *h = dlopen("libutil.so.1", RTLD_NOW | RTLD_LOCAL);
		if (h)
			dlclose(h);
	}
	long total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += bad[i];
	}
	printf("threads_bad=%ld\n", total);
	return total != 0;
}

/* --------------------------------------------------------- versions */

/* References to the versioned names, as MangoHud and libstrangle make them
 * (glibc 2.34 moved dlsym into libc as dlsym@@GLIBC_2.34, keeping
 * dlsym@GLIBC_2.2.5 for old binaries) */
void *dlsym_2_34(void *, const char *);
void *dlsym_2_2_5(void *, const char *);
void *dlvsym_2_34(void *, const char *, const char *);
__asm__(".symver dlsym_2_34, dlsym@GLIBC_2.34");
__asm__(".symver dlsym_2_2_5, dlsym@GLIBC_2.2.5");
__asm__(".symver dlvsym_2_34, dlvsym@GLIBC_2.34");

static const char *object_of(void *p)
{
	Dl_info info;
	if (!p || !dladdr(p, &info) || !info.dli_fname)
		return "none";
	const char *base = strrchr(info.dli_fname, '/');
	return base ? base + 1 : info.dli_fname;
}

static int versions_mode(void)
{
	void *h = dlopen("libzmq.so.5", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return fprintf(stderr, "zcdlsym: %s\n", dlerror()), 1;
	printf("bound: dlsym@GLIBC_2.34=%s dlsym@GLIBC_2.2.5=%s dlvsym@GLIBC_2.34=%s\n",
	       object_of((void *)dlsym_2_34), object_of((void *)dlsym_2_2_5),
	       object_of((void *)dlvsym_2_34));
	printf("zmq_send: dlsym@GLIBC_2.34=%s dlsym@GLIBC_2.2.5=%s\n",
	       object_of(dlsym_2_34(h, "zmq_send")), object_of(dlsym_2_2_5(h, "zmq_send")));
	return 0;
}

/* ----------------------------------------------------------- second */

/* Two libzmqs: libzmq.so.5, whose functions the shim forwards to once a
 * lookup found one, and the one built into BUILTIN.so, which keeps its own */
static int second_mode(const char *builtin)
{
	void *h = dlopen("libzmq.so.5", RTLD_NOW | RTLD_LOCAL);
	void *first = h ? dlsym(h, "zmq_send") : NULL;
	void *h2 = dlopen(builtin, RTLD_NOW | RTLD_LOCAL);
	if (!h2)
		return fprintf(stderr, "zcdlsym: %s\n", dlerror()), 1;
	printf("first=%s second=%s\n", object_of(first), object_of(dlsym(h2, "zmq_send")));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "send"))
		return send_mode(argv[2], atoi(argv[3]));
	if (argc == 2 && !strcmp(argv[1], "lookups"))
		return lookups_mode();
	if (argc == 2 && !strcmp(argv[1], "threads"))
		return threads_mode();
	if (argc == 2 && !strcmp(argv[1], "versions"))
		return versions_mode();
	if (argc == 3 && !strcmp(argv[1], "second"))
		return second_mode(argv[2]);
	fprintf(stderr, "usage: zcdlsym send ENDPOINT COUNT | lookups | threads | "
			"versions | second BUILTIN.so\n");
	return 2;
}
