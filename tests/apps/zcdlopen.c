/*
 * zcdlopen - a program that is not linked against libzmq and loads it late.
 *
 *   zcdlopen plugin-local|plugin-global PLUGIN.so   dlopen a module that uses
 *           libzmq (RTLD_LOCAL: libzmq stays out of the global scope, as for
 *           a Python extension) and run its sends
 *   zcdlopen plugin-deepbind|plugin-deepbind-lazy PLUGIN   the same with
 *           RTLD_DEEPBIND (RTLD_NOW or RTLD_LAZY), as PHP loads extensions;
 *           PLUGIN may be a bare name, searched for as dlopen does
 *   zcdlopen plugin-dlmopen PLUGIN                  the same in a new link-map
 *           namespace (dlmopen), where neither the shim nor its libzmq is
 *   zcdlopen direct                                 dlopen libzmq.so.5 itself,
 *           RTLD_LOCAL, and call it only through dlsym pointers
 *   zcdlopen load-only                              dlopen libzmq.so.5 and
 *           call nothing
 *   zcdlopen hold LIB                               dlopen LIB (not libzmq),
 *           print "loaded", and exit when stdin ends (the test may change
 *           LIB's file meanwhile)
 *
 * Built twice: zcdlopen, and zcdlopen-rpath with DT_RUNPATH $ORIGIN, which
 * finds a bare PLUGIN name in its own directory only if dlopen sees it as
 * the caller. Prints "ok" and exits 0 if everything worked.
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

static int plugin(const char *file, int mode)
{
	void *h = mode < 0 ? dlmopen(LM_ID_NEWLM, file, RTLD_NOW) : dlopen(file, mode);
	if (!h)
		return fprintf(stderr, "zcdlopen: %s\n", dlerror()), 1;
	int (*run)(int) = (int (*)(int))dlsym(h, "zcplugin_run");
	return run ? run(50) : 1;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int mode;
	} modes[] = {
		{ "plugin-local", RTLD_NOW | RTLD_LOCAL },
		{ "plugin-global", RTLD_NOW | RTLD_GLOBAL },
		{ "plugin-deepbind", RTLD_NOW | RTLD_DEEPBIND },
		{ "plugin-deepbind-lazy", RTLD_LAZY | RTLD_DEEPBIND },
		{ "plugin-dlmopen", -1 },
	};
	int bad = -1;
	for (size_t i = 0; argc == 3 && i < sizeof modes / sizeof modes[0]; i++)
		if (!strcmp(argv[1], modes[i].name))
			bad = plugin(argv[2], modes[i].mode);
	if (argc == 2 && !strcmp(argv[1], "direct"))
		bad = direct();
	if (argc == 2 && !strcmp(argv[1], "load-only"))
		bad = !dlopen("libzmq.so.5", RTLD_NOW | RTLD_LOCAL);
	if (argc == 3 && !strcmp(argv[1], "hold")) {
		bad = !dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
		printf("loaded\n");
		fflush(stdout);
		for (int c; !bad && (c = getchar()) != EOF;)
			;
	}
	if (bad < 0) {
		fprintf(stderr, "usage: zcdlopen plugin-local|plugin-global|plugin-deepbind|"
				"plugin-deepbind-lazy|plugin-dlmopen PLUGIN | direct | load-only | "
				"hold LIB\n");
		return 2;
	}
	printf("%s\n", bad ? "failed" : "ok");
	return bad ? 1 : 0;
}
