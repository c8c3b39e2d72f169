/*
 * deepbind.c - an object opened with RTLD_DEEPBIND binds to the libzmq in
 * its own dependencies ahead of the global scope, so its calls never reach
 * our exports (PHP loads every extension so). After the real dlopen, the
 * GOT slots of that object for the functions the shim defines are pointed
 * at the shim's definitions, if and only if the slot would bind to the very
 * libzmq the shim forwards to; nothing else in the process changes.
 * Lazily bound slots are written before their first call, so the dynamic
 * linker never resolves them; slots in RELRO (BIND_NOW objects) are made
 * writable for the write, one page at a time, and read-only again.
 *
 * glibc's dlopen takes the caller's object from its return address: the
 * namespace to load into, and the DT_RPATH / DT_RUNPATH used to search a
 * name without '/'. dlentry.S therefore asks zcs_deepbind_plan first, and
 * opens from our frame (zcs_deepbind_open) only when that changes nothing:
 *   - the caller is in the base namespace (where the shim is), and
 *   - the file name has a '/' (no search), or the search from the shim's
 *     object is the caller's: the caller has no DT_RUNPATH (the loader's
 *     RUNPATH is searched) and no DF_1_NODEFLIB, and no loaded object but
 *     the executable has a DT_RPATH (glibc searches the RPATHs of the
 *     loader's chain of loaders, then the executable's; the shim's chain is
 *     the shim, which has none, then the executable).
 * Otherwise the call goes to libc's dlopen with the caller's return address
 * untouched, unredirected, and the segment counts it as lost (reach.h).
 *
 * dlmopen is not interposed: a new namespace holds neither the shim nor
 * the libzmq it forwards to, so nothing there could be redirected.
 *
 * No lock of ours is held while calling into the dynamic linker (it may run
 * constructors that call back into us); one is held only for the writes.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dlreal.h"
#include "elfdyn.h"
#include "interposed.h"
#include "reach.h"
#include "real.h"

/* For dlentry.S. */
int zcs_deepbind_plan(const char *file, int mode, const void *caller);
void *zcs_deepbind_open(const char *file, int mode);

static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---------------------------------------------------------------- plan */

static int other_rpath(struct dl_phdr_info *info, size_t size, void *main_dyn)
{
	(void)size;
	if (!zcs_phdr_file_intact(info))
		return 0;
	const ElfW(Dyn) *dyn = zcs_phdr_dynamic(info);
	struct zcs_elf e;
	if (!dyn || dyn == main_dyn || zcs_elf_init(&e, info->dlpi_addr, dyn) != 0)
		return 0;
	return e.has_rpath;
}

/* Would libc's dlopen(file) give the same from our frame as from caller? */
static int same_from_here(const char *file, const void *caller)
{
	Dl_info info;
	struct link_map *l = NULL;
	Lmid_t ns = -1;
	if (!dladdr1(caller, &info, (void **)&l, RTLD_DL_LINKMAP) || !l ||
	    dlinfo(l, RTLD_DI_LMID, &ns) != 0 || ns != LM_ID_BASE)
		return 0;
	if (strchr(file, '/'))
		return 1;
	struct zcs_elf e;
	struct link_map *exe = _r_debug.r_map;
	if (zcs_elf_init(&e, l->l_addr, l->l_ld) != 0 || e.has_runpath || e.nodeflib ||
	    (e.has_rpath && l != exe))
		return 0;
	return !dl_iterate_phdr(other_rpath, exe ? (void *)exe->l_ld : NULL);
}

int zcs_deepbind_plan(const char *file, int mode, const void *caller)
{
	if (!file || (mode & RTLD_NOLOAD) || !__atomic_load_n(&zcs_reach_on, __ATOMIC_RELAXED))
		return 0;
	int saved = errno;
	int ok = same_from_here(file, caller);
	if (!ok)
		zcs_reach_lost(file);
	errno = saved;
	return ok;
}

/* ------------------------------------------------------------ redirect */

#define MAX_SLOTS 64

struct plan {
	void **slot[MAX_SLOTS];
	const struct zcs_interposed *w[MAX_SLOTS];
	int n;
	const ElfW(Dyn) *dyn;   /* the object's, to find its RELRO */
	uintptr_t relro_lo, relro_hi, page;
};

static int collect(void **slot, const char *name, void *arg)
{
	struct plan *p = arg;
	const struct zcs_interposed *w = zcs_interposed_find(name);
	if (w && p->n < MAX_SLOTS) {
		p->slot[p->n] = slot;
		p->w[p->n++] = w;
	}
	return 0;
}

static int find_relro(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct plan *p = arg;
	if (zcs_phdr_dynamic(info) != p->dyn)
		return 0;
	if (zcs_phdr_relro(info, &p->relro_lo, &p->relro_hi) != 0)
		p->relro_lo = p->relro_hi = 0;
	return 1;
}

/* One slot; its page made writable for the write if it is RELRO. */
static int write_slot(const struct plan *p, void **slot, void *value)
{
	uintptr_t a = (uintptr_t)slot;
	if (a - p->relro_lo < p->relro_hi - p->relro_lo) {
		void *page = (void *)(a & ~(p->page - 1));
		if (mprotect(page, p->page, PROT_READ | PROT_WRITE) != 0)
			return -1;
		__atomic_store_n(slot, value, __ATOMIC_RELAXED);
		mprotect(page, p->page, PROT_READ);
		return 0;
	}
	__atomic_store_n(slot, value, __ATOMIC_RELAXED);
	return 0;
}

static void redirect(void *handle, const char *file)
{
	struct link_map *l = NULL;
	struct zcs_elf e;
	static struct plan none;
	struct plan p = none;
	if (dlinfo(handle, RTLD_DI_LINKMAP, &l) != 0 || !l ||
	    zcs_elf_init(&e, l->l_addr, l->l_ld) != 0)
		return;
	zcs_elf_each_slot(&e, collect, &p);
	if (!p.n)
		return; /* imports nothing of libzmq's that we define */
	/* What each slot binds to: a lookup in the object's own scope, which
	 * RTLD_DEEPBIND searches first. Only ours is redirected. */
	int keep[MAX_SLOTS], any = 0;
	for (int i = 0; i < p.n; i++) {
		void *target = zcs_dlsym(handle, p.w[i]->name);
		void *real = __atomic_load_n(p.w[i]->real, __ATOMIC_ACQUIRE);
		if (target && !real) {
			zcs_resolve_from(target);
			real = __atomic_load_n(p.w[i]->real, __ATOMIC_ACQUIRE);
		}
		keep[i] = target && target == real;
		any |= keep[i];
	}
	if (!any)
		return; /* another libzmq's, or ours already */
	p.dyn = l->l_ld;
	p.page = (uintptr_t)getpagesize();
	dl_iterate_phdr(find_relro, &p);
	int failed = 0;
	pthread_mutex_lock(&write_lock); /* two threads on one page's protection */
	for (int i = 0; i < p.n; i++)
		if (keep[i])
			failed |= write_slot(&p, p.slot[i], p.w[i]->own) != 0;
	pthread_mutex_unlock(&write_lock);
	if (failed)
		zcs_reach_lost(file);
	else
		zcs_reach_patched(l->l_ld);
}

void *zcs_deepbind_open(const char *file, int mode)
{
	/* only an object this call loads is ours to redirect: one loaded
	 * before was bound by whoever loaded it */
	void *before = zcs_dlopen(file, RTLD_LAZY | RTLD_NOLOAD);
	if (before)
		dlclose(before);
	void *handle = zcs_dlopen(file, mode);
	if (!handle || before)
		return handle; /* a failure's dlerror() is the real dlopen's */
	int saved = errno;
	redirect(handle, file);
	(void)dlerror(); /* a lookup of ours may have failed; the open did not */
	errno = saved;
	return handle;
}
