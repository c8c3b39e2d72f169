/*
 * reach.c - see reach.h: how libzmq's calls reach the shim, and why none
 * did when none did.
 *
 * At exit (normal exit only: the segment of a killed process keeps "unknown"
 * and the reader says so) the loaded objects are walked once:
 *   - libzmq objects: named libzmq*.so*, or exporting zmq_msg_send (a
 *     libzmq built into another object);
 *   - every object's GOT slots for the functions the shim defines: a slot
 *     holding our wrapper is a way in (symbol binding); one pointing
 *     straight into a libzmq object is a way round us (RTLD_DEEPBIND, or a
 *     -Bsymbolic link);
 *   - if none is loaded in our namespace, the other namespaces (dlmopen);
 *   - only if no call was seen and no libzmq object is loaded anywhere:
 *     objects whose read-only data holds a string only libzmq has
 *     (zmq_strerror(EFSM)'s text, in every release since 3.2) are a libzmq
 *     linked in without exported symbols. That is the one costly step (a
 *     search through read-only data: 0.05 ms more at the exit of /bin/true)
 *     and runs only in processes that never reached libzmq through us.
 */
#include "reach.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "elfdyn.h"
#include "interposed.h"
#include "segment.h"

int zcs_reach_on = 1;

static struct {
	uint32_t ways, dlsym, patched, lost;
	char libzmq[ZCS_REACH_NAME_MAX];
	int libzmq_set;                 /* 0 free, 1 being written, 2 set */
	char lost_file[ZCS_REACH_NAME_MAX];
	int lost_set;
} st;

static struct zcs_header *hdr; /* the live header, or NULL */

/* the redirected objects' dynamic sections: their slots hold our wrappers
 * because we put them there, which is not symbol binding */
#define MAX_PATCHED 32
static const void *patched_dyn[MAX_PATCHED];

void zcs_reach_set_on(int on)
{
	__atomic_store_n(&zcs_reach_on, on, __ATOMIC_RELAXED);
}

int zcs_reach_is_libzmq_name(const char *name)
{
	const char *base = zcs_basename(name);
	return !strncmp(base, "libzmq", 6) && strstr(base, ".so") != NULL;
}

/* Copy a name, keeping its end (the file name) when it is too long. */
static void copy_name(char *dst, const char *src)
{
	size_t len = strlen(src);
	if (len < ZCS_REACH_NAME_MAX) {
		memcpy(dst, src, len + 1);
	} else {
		size_t keep = ZCS_REACH_NAME_MAX - 4;
		memcpy(dst, "...", 3);
		memcpy(dst + 3, src + len - keep, keep + 1);
	}
}

/* Set a string once: the first writer wins, the others return. */
static int claim(int *flag)
{
	int expect = 0;
	return __atomic_compare_exchange_n(flag, &expect, 1, 0, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static void raise_to(uint32_t *field, uint32_t v)
{
	uint32_t have = __atomic_load_n(field, __ATOMIC_RELAXED);
	while (have < v && !__atomic_compare_exchange_n(field, &have, v, 1, __ATOMIC_RELAXED,
							 __ATOMIC_RELAXED))
		;
}

/* Mirror the counters and bits into the header, if there is one. Counters
 * only ever rise there, so a late writer cannot lower one. */
static void mirror(void)
{
	struct zcs_header *h = __atomic_load_n(&hdr, __ATOMIC_ACQUIRE);
	if (!h)
		return;
	__atomic_or_fetch(&h->reach_ways, __atomic_load_n(&st.ways, __ATOMIC_RELAXED),
			  __ATOMIC_RELAXED);
	raise_to(&h->reach_dlsym, __atomic_load_n(&st.dlsym, __ATOMIC_RELAXED));
	raise_to(&h->reach_patched, __atomic_load_n(&st.patched, __ATOMIC_RELAXED));
	raise_to(&h->reach_lost, __atomic_load_n(&st.lost, __ATOMIC_RELAXED));
	if (__atomic_load_n(&st.libzmq_set, __ATOMIC_ACQUIRE) == 2 && !h->reach_libzmq[0])
		memcpy(h->reach_libzmq, st.libzmq, sizeof h->reach_libzmq);
	if (__atomic_load_n(&st.lost_set, __ATOMIC_ACQUIRE) == 2 && !h->reach_object[0])
		memcpy(h->reach_object, st.lost_file, sizeof h->reach_object);
}

void zcs_reach_publish(struct zcs_header *h)
{
	__atomic_store_n(&hdr, h, __ATOMIC_RELEASE);
	mirror();
}

/* The executable's own path for a name dl_iterate_phdr leaves empty. */
static void object_name(char *dst, const char *name)
{
	char exe[4096];
	ssize_t n;
	if (!name[0] && (n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
		exe[n] = '\0';
		name = exe;
	}
	copy_name(dst, name);
}

void zcs_reach_libzmq(const char *object, int builtin)
{
	if (builtin)
		__atomic_or_fetch(&st.ways, ZCS_WAY_BUILTIN, __ATOMIC_RELAXED);
	if (claim(&st.libzmq_set)) {
		object_name(st.libzmq, object);
		__atomic_store_n(&st.libzmq_set, 2, __ATOMIC_RELEASE);
	}
	mirror();
}

void zcs_reach_handed(void)
{
	__atomic_or_fetch(&st.ways, ZCS_WAY_DLSYM, __ATOMIC_RELAXED);
	__atomic_add_fetch(&st.dlsym, 1, __ATOMIC_RELAXED);
	mirror();
}

void zcs_reach_patched(const void *dynamic)
{
	uint32_t n = __atomic_fetch_add(&st.patched, 1, __ATOMIC_RELAXED);
	if (n < MAX_PATCHED)
		__atomic_store_n(&patched_dyn[n], dynamic, __ATOMIC_RELEASE);
	__atomic_or_fetch(&st.ways, ZCS_WAY_DEEPBIND, __ATOMIC_RELAXED);
	mirror();
}

static int was_patched(const void *dynamic)
{
	for (uint32_t i = 0; i < MAX_PATCHED; i++)
		if (__atomic_load_n(&patched_dyn[i], __ATOMIC_ACQUIRE) == dynamic)
			return 1;
	return 0;
}

void zcs_reach_lost(const char *file)
{
	__atomic_add_fetch(&st.lost, 1, __ATOMIC_RELAXED);
	if (claim(&st.lost_set)) {
		copy_name(st.lost_file, file);
		__atomic_store_n(&st.lost_set, 2, __ATOMIC_RELEASE);
	}
	mirror();
}

/* ------------------------------------------------------------- at exit */

/* "Operation cannot be accomplished in current state": zmq_strerror(EFSM),
 * held only by libzmq. Kept in two halves so that the shim's own data does
 * not hold it whole (it is skipped anyway). */
static const char marker_a[] = "Operation cannot be accomplished";
static const char marker_b[] = " in current state";

#define MAX_LIBZMQ 4

struct scan {
	const void *self;              /* an address in the shim */
	struct {                       /* libzmq objects found */
		uintptr_t addr;
		const ElfW(Phdr) *phdr;
		int phnum;
		char name[ZCS_REACH_NAME_MAX];
	} zmq[MAX_LIBZMQ];
	int nzmq;
	int bound;                     /* a GOT slot holds our wrapper */
	int lost_imports;              /* the lost RTLD_DEEPBIND file imports our names */
	char direct[ZCS_REACH_NAME_MAX]; /* first object bound straight to libzmq */
	char statik[ZCS_REACH_NAME_MAX]; /* first object with libzmq unexported */
	int statik_found, statik_main;
	char marker[64];
	const struct dl_phdr_info *obj; /* the object whose slots are walked */
};

static int is_self(const struct dl_phdr_info *info, const struct scan *s)
{
	return zcs_phdr_contains(info, (uintptr_t)s->self);
}

static int find_libzmq(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct scan *s = arg;
	if (s->nzmq == MAX_LIBZMQ || !zcs_phdr_file_intact(info) || is_self(info, s))
		return 0;
	const ElfW(Dyn) *dyn = zcs_phdr_dynamic(info);
	struct zcs_elf e;
	if (!dyn || zcs_elf_init(&e, info->dlpi_addr, dyn) != 0)
		return 0;
	if (zcs_reach_is_libzmq_name(info->dlpi_name) ||
	    (e.soname && zcs_reach_is_libzmq_name(e.soname)) ||
	    zcs_elf_defines(&e, "zmq_msg_send")) {
		s->zmq[s->nzmq].addr = info->dlpi_addr;
		s->zmq[s->nzmq].phdr = info->dlpi_phdr;
		s->zmq[s->nzmq].phnum = info->dlpi_phnum;
		object_name(s->zmq[s->nzmq].name, info->dlpi_name);
		s->nzmq++;
	}
	return 0;
}

/* Is addr in one of the libzmq objects found? */
static int in_libzmq(const struct scan *s, const void *addr)
{
	for (int i = 0; i < s->nzmq; i++) {
		struct dl_phdr_info info = { 0 };
		info.dlpi_addr = s->zmq[i].addr;
		info.dlpi_phdr = s->zmq[i].phdr;
		info.dlpi_phnum = (ElfW(Half))s->zmq[i].phnum;
		if (zcs_phdr_contains(&info, (uintptr_t)addr))
			return 1;
	}
	return 0;
}

static int same_file(const char *path, const char *file)
{
	return zcs_str_eq(zcs_basename(path), zcs_basename(file));
}

static int check_slot(void **slot, const char *name, void *arg)
{
	struct scan *s = arg;
	if (!zcs_interposed_find(name))
		return 0;
	void *v = __atomic_load_n(slot, __ATOMIC_RELAXED);
	if (__atomic_load_n(&st.lost_set, __ATOMIC_ACQUIRE) == 2 &&
	    same_file(s->obj->dlpi_name, st.lost_file))
		s->lost_imports = 1;
	if (zcs_interposed_own(v)) {
		s->bound = 1;
	} else if (!s->direct[0] && in_libzmq(s, v)) {
		object_name(s->direct, s->obj->dlpi_name);
	}
	return 0;
}

static int walk_slots(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct scan *s = arg;
	if (!zcs_phdr_file_intact(info) || is_self(info, s))
		return 0;
	const ElfW(Dyn) *dyn = zcs_phdr_dynamic(info);
	struct zcs_elf e;
	if (!dyn || was_patched(dyn) || zcs_elf_init(&e, info->dlpi_addr, dyn) != 0)
		return 0;
	/* libzmq's calls to itself, through the shim or not, are neither a way
	 * in nor a way round for the app */
	if (zcs_reach_is_libzmq_name(info->dlpi_name) ||
	    (e.soname && zcs_reach_is_libzmq_name(e.soname)))
		return 0;
	s->obj = info;
	zcs_elf_each_slot(&e, check_slot, s);
	return 0;
}

static int find_static(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct scan *s = arg;
	if (!zcs_phdr_file_intact(info) || is_self(info, s)) /* the vDSO too */
		return 0;
	if (!zcs_phdr_rodata_has(info, s->marker, strlen(s->marker)))
		return 0;
	s->statik_found = 1;
	s->statik_main = !info->dlpi_name[0];
	if (!s->statik_main)
		copy_name(s->statik, info->dlpi_name);
	return 1;
}

/* A libzmq in a namespace other than ours (dlmopen): dl_iterate_phdr shows
 * only the caller's, so the debugger's list of namespaces is read (glibc
 * 2.35 and later chain them, r_version 2). */
static int other_namespace(char *name)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
	/* the executable's DT_DEBUG points at the first of them (link.h) */
	const struct r_debug_extended *ns = NULL;
	const struct link_map *exe = _r_debug.r_map;
	for (const ElfW(Dyn) *d = exe ? exe->l_ld : NULL; d && d->d_tag != DT_NULL; d++)
		if (d->d_tag == DT_DEBUG)
			ns = (const struct r_debug_extended *)d->d_un.d_ptr;
	if (!ns || ns->base.r_version < 2)
		return 0;
	for (ns = ns->r_next; ns; ns = ns->r_next)
		for (const struct link_map *l = ns->base.r_map; l; l = l->l_next) {
			struct zcs_elf e;
			if (!l->l_name || zcs_elf_init(&e, l->l_addr, l->l_ld) != 0)
				continue;
			if (zcs_reach_is_libzmq_name(l->l_name) ||
			    (e.soname && zcs_reach_is_libzmq_name(e.soname)) ||
			    zcs_elf_defines(&e, "zmq_msg_send")) {
				copy_name(name, l->l_name);
				return 1;
			}
		}
#else
	(void)name;
#endif
	return 0;
}

void zcs_reach_at_exit(void)
{
	struct zcs_header *h = __atomic_load_n(&hdr, __ATOMIC_ACQUIRE);
	if (!h)
		return;
	static struct scan s; /* at exit, once: not on a stack that may be small */
	memset(&s, 0, sizeof s);
	s.self = (const void *)zcs_reach_at_exit;
	snprintf(s.marker, sizeof s.marker, "%s%s", marker_a, marker_b);
	dl_iterate_phdr(find_libzmq, &s);
	if (s.nzmq) /* without a libzmq object no slot can lead to one */
		dl_iterate_phdr(walk_slots, &s);
	if (s.bound)
		__atomic_or_fetch(&st.ways, ZCS_WAY_BINDING, __ATOMIC_RELAXED);
	mirror();

	uint32_t why, how = ZCS_HOW_UNKNOWN;
	const char *object = "";
	/* ZCS_F_CALLS_SEEN is set by the first call through us, libzmq's own
	 * included (they are told apart after); seen here means the app's:
	 * something was recorded, a call or a socket */
	struct zcs_shared *shared = zcs_shared_part;
	int recorded = 0;
	for (unsigned w = 0; shared && w < ZCS_NSHARDS / 64; w++)
		recorded |= __atomic_load_n(&shared->shards_used[w], __ATOMIC_RELAXED) != 0;
	recorded |= shared && __atomic_load_n(&shared->sockets_seen, __ATOMIC_RELAXED);
	if (recorded && (__atomic_load_n(&h->flags, __ATOMIC_ACQUIRE) & ZCS_F_CALLS_SEEN)) {
		why = ZCS_WHY_SEEN;
	} else if (s.nzmq) {
		why = ZCS_WHY_BYPASSED;
		if (!h->reach_libzmq[0])
			memcpy(h->reach_libzmq, s.zmq[0].name, sizeof h->reach_libzmq);
		int lost = __atomic_load_n(&st.lost_set, __ATOMIC_ACQUIRE) == 2;
		if (s.direct[0]) {
			how = lost && same_file(s.direct, st.lost_file) ? ZCS_HOW_DEEPBIND
									: ZCS_HOW_DIRECT;
			object = s.direct;
		} else if (lost && s.lost_imports) { /* bound lazily, never called */
			how = ZCS_HOW_DEEPBIND;
			object = st.lost_file;
		}
	} else if (other_namespace(s.zmq[0].name)) {
		why = ZCS_WHY_BYPASSED;
		how = ZCS_HOW_NAMESPACE;
		if (!h->reach_libzmq[0])
			memcpy(h->reach_libzmq, s.zmq[0].name, sizeof h->reach_libzmq);
	} else {
		dl_iterate_phdr(find_static, &s);
		why = s.statik_found ? ZCS_WHY_STATIC : ZCS_WHY_NO_LIBZMQ;
		object = s.statik_found && !s.statik_main ? s.statik : "";
	}
	if (why != ZCS_WHY_SEEN) {
		memset(h->reach_object, 0, sizeof h->reach_object);
		copy_name(h->reach_object, object);
	}
	__atomic_store_n(&h->reach_how, how, __ATOMIC_RELAXED);
	__atomic_store_n(&h->reach_why, why, __ATOMIC_RELEASE);
}
