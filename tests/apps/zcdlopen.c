/*
 * zcdlopen - a program that is not linked against libzmq and loads it late.
 *
 *   zcdlopen plugin-local|plugin-global PLUGIN.so   dlopen a module linked
 *           against libzmq (RTLD_LOCAL: libzmq stays out of the global scope,
 *           as for a Python extension) and run its sends
 *   zcdlopen direct                                 dlopen libzmq.so.5 itself,
 *           RTLD_LOCAL, and call it through dlsym: the shim is bypassed except
 *           for libzmq's own calls through its PLT (zmq_send_const)
 *
 * Prints "ok" and exits 0 if everything worked.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static int direct(void)
{
	void *h = dlopen("libzmq.so.5", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return fprintf(stderr, "zcdlopen: %s\n", dlerror()), 1;
	void *(*ctx_new)(void) = (void *(*)(void))dlsym(h, "zmq_ctx_new");
	void *(*socket)(void *, int) = (void *(*)(void *, int))dlsym(h, "zmq_socket");
	int (*bind)(void *, const char *) = (int (*)(void *, const char *))dlsym(h, "zmq_bind");
	int (*connect)(void *, const char *) =
		(int (*)(void *, const char *))dlsym(h, "zmq_connect");
	int (*send_const)(void *, const void *, size_t, int) =
		(int (*)(void *, const void *, size_t, int))dlsym(h, "zmq_send_const");
	int (*recv)(void *, void *, size_t, int) =
		(int (*)(void *, void *, size_t, int))dlsym(h, "zmq_recv");
	int (*close)(void *) = (int (*)(void *))dlsym(h, "zmq_close");
	int (*term)(void *) = (int (*)(void *))dlsym(h, "zmq_ctx_term");
	void *ctx = ctx_new();
	void *push = socket(ctx, ZMQ_PUSH), *pull = socket(ctx, ZMQ_PULL);
	int bad = bind(pull, "inproc://direct") != 0;
	bad += connect(push, "inproc://direct") != 0;
	static const char hello[] = "constant";
	char got[16];
	for (int i = 0; i < 100; i++) {
		bad += send_const(push, hello, sizeof hello, 0) != (int)sizeof hello;
		bad += recv(pull, got, sizeof got, 0) != (int)sizeof hello ||
		       memcmp(got, hello, sizeof hello) != 0;
	}
	close(push);
	close(pull);
	term(ctx);
	return bad;
}

int main(int argc, char **argv)
{
	int bad;
	if (argc == 3 && strncmp(argv[1], "plugin-", 7) == 0) {
		int mode = strcmp(argv[1], "plugin-global") == 0 ? RTLD_GLOBAL : RTLD_LOCAL;
		void *h = dlopen(argv[2], RTLD_NOW | mode);
		if (!h)
			return fprintf(stderr, "zcdlopen: %s\n", dlerror()), 1;
		int (*run)(int) = (int (*)(int))dlsym(h, "zcplugin_run");
		bad = run ? run(50) : 1;
	} else if (argc == 2 && strcmp(argv[1], "direct") == 0) {
		bad = direct();
	} else {
		fprintf(stderr, "usage: zcdlopen plugin-local|plugin-global PLUGIN.so | direct\n");
		return 2;
	}
	printf("%s\n", bad ? "failed" : "ok");
	return bad ? 1 : 0;
}
