/*
 * zcnext - a preload placed after libzcshim.so that, like libfaketime or a
 * sanitizer's runtime, wraps a libc function (clock_gettime) and finds the
 * real one with dlsym(RTLD_NEXT): in its constructor, which runs before the
 * shim's, and again on first use. RTLD_NEXT is relative to the object that
 * calls dlsym; were the shim's dlsym to call the real one from a frame of
 * its own, the search would start after libzcshim.so, find this very
 * wrapper and recurse until the stack ran out. Says on stderr at exit which
 * object answered and how many calls went through it.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int (*next)(clockid_t, struct timespec *);
static unsigned long calls;
static char found_at_load[64] = "none";

static const char *object_of(void *p)
{
	Dl_info info;
	if (!p || !dladdr(p, &info) || !info.dli_fname)
		return "none";
	const char *base = strrchr(info.dli_fname, '/');
	return base ? base + 1 : info.dli_fname;
}

int clock_gettime(clockid_t clock, struct timespec *ts)
{
	if (!next)
		next = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	if (!next || next == clock_gettime)
		return -1;
	__atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
	return next(clock, ts);
}

__attribute__((constructor)) static void at_load(void)
{
	next = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	snprintf(found_at_load, sizeof found_at_load, "%s", object_of((void *)next));
	if (next == clock_gettime)
		next = NULL;
}

__attribute__((destructor)) static void at_exit(void)
{
	fprintf(stderr, "zcnext: next=%s calls=%lu\n", found_at_load, calls);
}
