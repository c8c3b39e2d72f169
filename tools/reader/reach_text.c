/*
 * reach_text.c - see reach_text.h. The shim decides why at its exit (shim/reach.c);
 * a running process is looked at here, through /proc/PID/maps, and only
 * when that pid is still the process that made the segment (same start
 * time): /dev/shm may be shared with another pid namespace.
 */
#include "reach_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "procid.h"

static int libzmq_name(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return !strncmp(base, "libzmq", 6) && strstr(base, ".so") != NULL;
}

/* A libzmq object mapped by the running process, into buf; 1 if found,
 * 0 if none, -1 if its maps cannot be read as its own. */
static int mapped_libzmq(const struct zcs_snapshot *s, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", s->hdr.pid);
	if (zcs_proc_start_ticks(path) != s->hdr.start_ticks)
		return -1;
	snprintf(path, sizeof path, "/proc/%d/maps", s->hdr.pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[4352];
	int found = 0;
	while (!found && fgets(line, sizeof line, f)) {
		char *file = strchr(line, '/');
		if (!file)
			continue;
		file[strcspn(file, "\n")] = '\0';
		if (libzmq_name(file)) {
			snprintf(buf, len, "%s", file);
			for (char *c = buf; *c; c++) /* a name is anyone's choice */
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					*c = '?';
			found = 1;
		}
	}
	fclose(f);
	return found;
}

const char *zcs_reach_why_word(const struct zcs_snapshot *s)
{
	const struct zcs_header *h = &s->hdr;
	if (h->reach_why != ZCS_WHY_UNKNOWN)
		return zcs_reach_why_name(h->reach_why);
	if (zcs_reach_app_calls(s))
		return "seen";
	return s->live == ZCS_LIVE_RUNNING || s->live == ZCS_LIVE_STARTING ? "running"
									   : "unknown";
}

const char *zcs_reach_why_text(const struct zcs_snapshot *s, char *buf, size_t len)
{
	const struct zcs_header *h = &s->hdr;
	const char *lib = h->reach_libzmq[0] ? h->reach_libzmq : "libzmq";
	const char *obj = h->reach_object;
	char mapped[512];
	switch (h->reach_why) {
	case ZCS_WHY_NO_LIBZMQ:
		snprintf(buf, len, "no libzmq was loaded");
		break;
	case ZCS_WHY_STATIC:
		snprintf(buf, len,
			 "libzmq is linked into %s without exported symbols, which the shim "
			 "cannot interpose",
			 obj[0] ? obj : "the executable");
		break;
	case ZCS_WHY_BYPASSED:
		switch (h->reach_how) {
		case ZCS_HOW_DEEPBIND:
			snprintf(buf, len,
				 "libzmq was loaded (%s) but every call bypassed the shim: %s was "
				 "opened with RTLD_DEEPBIND and could not be redirected",
				 lib, obj[0] ? obj : "an object");
			break;
		case ZCS_HOW_DIRECT:
			snprintf(buf, len,
				 "libzmq was loaded (%s) but every call bypassed the shim: %s is "
				 "bound to it directly (RTLD_DEEPBIND or -Bsymbolic)",
				 lib, obj[0] ? obj : "an object");
			break;
		case ZCS_HOW_NAMESPACE:
			snprintf(buf, len,
				 "libzmq was loaded (%s) into another link-map namespace "
				 "(dlmopen), where the shim is not",
				 lib);
			break;
		default:
			snprintf(buf, len,
				 "libzmq was loaded (%s) but no call reached the shim: none was "
				 "made, or it went through a pointer the shim did not hand out",
				 lib);
		}
		break;
	case ZCS_WHY_SEEN:
		snprintf(buf, len, "libzmq calls were seen");
		break;
	default:
		if (s->live == ZCS_LIVE_RUNNING || s->live == ZCS_LIVE_STARTING) {
			int m = mapped_libzmq(s, mapped, sizeof mapped);
			if (m > 0)
				snprintf(buf, len,
					 "libzmq is loaded (%s) but no call has reached the shim "
					 "so far",
					 mapped);
			else if (m == 0)
				snprintf(buf, len, "no libzmq is loaded so far");
			else
				snprintf(buf, len, "still running: why is known at its exit");
		} else if (s->live == ZCS_LIVE_DEAD) {
			snprintf(buf, len, "it ended without running its exit handlers, so why "
					   "was not recorded");
		} else if (s->live == ZCS_LIVE_REPLACED) {
			snprintf(buf, len, "it exec'd a new program, which runs no exit "
					   "handlers, so why was not recorded");
		} else {
			snprintf(buf, len, "why was not recorded");
		}
	}
	return buf;
}

int zcs_reach_app_calls(const struct zcs_snapshot *s)
{
	if (s->hdr.reach_why != ZCS_WHY_UNKNOWN)
		return s->hdr.reach_why == ZCS_WHY_SEEN;
	struct zcs_series x;
	size_t it = 0;
	return zcs_calls_seen(s) && (s->shared.sockets_seen || zcs_series_next(s, &it, &x));
}

unsigned zcs_reach_ways(const struct zcs_snapshot *s)
{
	unsigned ways = s->hdr.reach_ways;
	/* symbol binding is established at exit; before, without another way,
	 * the app's calls can only have come by it */
	if (zcs_reach_app_calls(s) && !(ways & (ZCS_WAY_BINDING | ZCS_WAY_DLSYM | ZCS_WAY_DEEPBIND)))
		ways |= ZCS_WAY_BINDING;
	return ways;
}

const char *zcs_reach_ways_text(const struct zcs_snapshot *s, char *buf, size_t len)
{
	unsigned ways = zcs_reach_ways(s);
	size_t at = 0;
	buf[0] = '\0';
#define ADD(...)                                                                  \
	do {                                                                      \
		int n_ = snprintf(buf + at, len - at, __VA_ARGS__);               \
		at += n_ > 0 && (size_t)n_ < len - at ? (size_t)n_ : 0;           \
	} while (0)
	if (ways & ZCS_WAY_BINDING)
		ADD("symbol binding");
	if (ways & ZCS_WAY_DLSYM)
		ADD("%sdlsym (%" PRIu32 " pointer%s)", at ? ", " : "", s->hdr.reach_dlsym,
		    s->hdr.reach_dlsym == 1 ? "" : "s");
	if (ways & ZCS_WAY_DEEPBIND)
		ADD("%sRTLD_DEEPBIND redirect (%" PRIu32 " object%s)", at ? ", " : "",
		    s->hdr.reach_patched, s->hdr.reach_patched == 1 ? "" : "s");
	if (!at)
		ADD("none");
#undef ADD
	return buf;
}
