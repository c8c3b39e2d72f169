/*
 * zcctor - load-order hazards for a preload library.
 *
 *   zcctor race PLUGIN.so   a thread makes the process's first zmq call while
 *                           the main thread is inside dlopen, whose plugin
 *                           constructor also calls zmq (the dynamic linker's
 *                           lock and the shim's init, taken in both orders)
 *   zcctor dlclose SHIM.so  the shim dlopen'ed, used by a thread, dlclose'd,
 *                           then the thread exits (its TLS destructor runs)
 *
 * Prints "ok" and exits 0 if the process got through.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

volatile int zcctor_go; /* set by the plugin's constructor (zcctorplug.c) */

static void *first_call(void *arg)
{
	(void)arg;
	while (!zcctor_go)
		;
	zmq_msg_t m;
	zmq_msg_init_data(&m, "y", 1, NULL, NULL);
	zmq_msg_close(&m);
	return NULL;
}

static int (*shim_init_data)(zmq_msg_t *, void *, size_t, zmq_free_fn *, void *);
static pthread_barrier_t step;

static void *use_then_exit(void *arg)
{
	(void)arg;
	zmq_msg_t m;
	shim_init_data(&m, "x", 1, NULL, NULL); /* records: claims a shard */
	zmq_msg_close(&m);
	pthread_barrier_wait(&step); /* main dlcloses the shim */
	pthread_barrier_wait(&step);
	return NULL; /* thread exit: the shim's key destructor */
}

int main(int argc, char **argv)
{
	pthread_t t;
	if (argc == 3 && !strcmp(argv[1], "race")) {
		pthread_create(&t, NULL, first_call, NULL);
		if (!dlopen(argv[2], RTLD_NOW))
			return fprintf(stderr, "zcctor: %s\n", dlerror()), 1;
		pthread_join(t, NULL);
	} else if (argc == 3 && !strcmp(argv[1], "dlclose")) {
		void *h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
		if (!h)
			return fprintf(stderr, "zcctor: %s\n", dlerror()), 1;
		*(void **)&shim_init_data = dlsym(h, "zmq_msg_init_data");
		pthread_barrier_init(&step, NULL, 2);
		pthread_create(&t, NULL, use_then_exit, NULL);
		pthread_barrier_wait(&step);
		dlclose(h);
		pthread_barrier_wait(&step);
		pthread_join(t, NULL);
	} else {
		fprintf(stderr, "usage: zcctor race PLUGIN.so | dlclose SHIM.so\n");
		return 2;
	}
	puts("ok");
	return 0;
}
