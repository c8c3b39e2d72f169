/*
 * elfdyn.c - see elfdyn.h: a loaded object's symbols, versions, GOT slots,
 * search-path entries and RELRO range, read from its dynamic section.
 *
 * glibc rewrites most address entries of a dynamic section in place (adds
 * the load bias) when it loads an object, but not all of them (DT_VERDEF,
 * DT_VERNEED) and none for an object whose dynamic section is read-only
 * (the vDSO). So an entry below the load bias is an offset still to be
 * biased, one above it an address already biased: no object is mapped so
 * low that its offsets reach its own base.
 */
#include "elfdyn.h"

#include <elf.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>

#if __ELF_NATIVE_CLASS == 64
#define ST_TYPE(i) ELF64_ST_TYPE(i)
#define R_TYPE(i)  ELF64_R_TYPE(i)
#define R_SYM(i)   ELF64_R_SYM(i)
#else
#define ST_TYPE(i) ELF32_ST_TYPE(i)
#define R_TYPE(i)  ELF32_R_TYPE(i)
#define R_SYM(i)   ELF32_R_SYM(i)
#endif

#if defined(__x86_64__)
#define R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define R_GLOB_DAT  R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define R_GLOB_DAT  R_AARCH64_GLOB_DAT
#endif

ZCS_NO_SANITIZE int zcs_str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

ZCS_NO_SANITIZE const char *zcs_basename(const char *path)
{
	const char *base = path;
	for (; *path; path++)
		if (*path == '/')
			base = path + 1;
	return base;
}

ZCS_NO_SANITIZE static uintptr_t biased(uintptr_t base, uintptr_t v)
{
	return v < base ? v + base : v;
}

ZCS_NO_SANITIZE int zcs_elf_init(struct zcs_elf *e, uintptr_t base, const ElfW(Dyn) *dyn)
{
	uintptr_t pltrel = 0, soname = 0;
	memset(e, 0, sizeof *e);
	e->base = base;
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		uintptr_t p = biased(base, dyn->d_un.d_ptr);
		switch (dyn->d_tag) {
		case DT_SYMTAB: e->symtab = (const ElfW(Sym) *)p; break;
		case DT_STRTAB: e->strtab = (const char *)p; break;
		case DT_STRSZ: e->strsz = dyn->d_un.d_val; break;
		case DT_GNU_HASH: e->gnu_hash = (const uint32_t *)p; break;
		case DT_HASH: e->sysv_hash = (const uint32_t *)p; break;
		case DT_VERSYM: e->versym = (const ElfW(Versym) *)p; break;
		case DT_VERDEF: e->verdef = (const ElfW(Verdef) *)p; break;
		case DT_VERDEFNUM: e->verdefnum = dyn->d_un.d_val; break;
		case DT_JMPREL: e->jmprel = (const ElfW(Rela) *)p; break;
		case DT_PLTRELSZ: e->jmprel_bytes = dyn->d_un.d_val; break;
		case DT_PLTREL: pltrel = dyn->d_un.d_val; break;
		case DT_RELA: e->rela = (const ElfW(Rela) *)p; break;
		case DT_RELASZ: e->rela_bytes = dyn->d_un.d_val; break;
		case DT_SONAME: soname = dyn->d_un.d_val; break;
		case DT_RPATH: e->has_rpath = 1; break;
		case DT_RUNPATH: e->has_runpath = 1; break;
		case DT_FLAGS_1: e->nodeflib = (dyn->d_un.d_val & DF_1_NODEFLIB) != 0; break;
		default: break;
		}
	}
	if (pltrel != DT_RELA) /* REL-style PLT (not on x86-64 or aarch64): not read */
		e->jmprel = NULL, e->jmprel_bytes = 0;
	if (!e->symtab || !e->strtab)
		return -1;
	if (soname < e->strsz)
		e->soname = e->strtab + soname;
	return 0;
}

/* Symbol i's version name, or NULL for an unversioned (global) one. */
ZCS_NO_SANITIZE static const char *version_of(const struct zcs_elf *e, unsigned ndx)
{
	const ElfW(Verdef) *vd = e->verdef;
	for (size_t n = 0; vd && n < e->verdefnum; n++) {
		if (vd->vd_ndx == ndx) {
			const ElfW(Verdaux) *aux =
				(const ElfW(Verdaux) *)((const char *)vd + vd->vd_aux);
			return aux->vda_name < e->strsz ? e->strtab + aux->vda_name : NULL;
		}
		if (!vd->vd_next)
			break;
		vd = (const ElfW(Verdef) *)((const char *)vd + vd->vd_next);
	}
	return NULL;
}

/* Is symbol i a definition of name in the wanted version? want_any: any
 * version, hidden ones included. */
ZCS_NO_SANITIZE static int matches(const struct zcs_elf *e, uint32_t i, const char *name,
				   const char *version, int want_any)
{
	const ElfW(Sym) *s = &e->symtab[i];
	if (s->st_shndx == SHN_UNDEF || s->st_name >= e->strsz ||
	    !zcs_str_eq(e->strtab + s->st_name, name))
		return 0;
	if (want_any || !e->versym)
		return !version || want_any;
	unsigned v = e->versym[i];
	unsigned ndx = v & 0x7fff;
	if (ndx == VER_NDX_LOCAL)
		return 0;
	if (!version) /* the default: not a hidden (name@VERSION) compatibility one */
		return !(v & 0x8000);
	const char *have = ndx == VER_NDX_GLOBAL ? NULL : version_of(e, ndx);
	return have && zcs_str_eq(have, version);
}

ZCS_NO_SANITIZE static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

ZCS_NO_SANITIZE static uint32_t sysv_hash(const char *s)
{
	uint32_t h = 0;
	for (; *s; s++) {
		h = (h << 4) + (unsigned char)*s;
		uint32_t g = h & 0xf0000000u;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

/* Index of the matching symbol, or 0 (symbol 0 is always the null one). */
ZCS_NO_SANITIZE static uint32_t find(const struct zcs_elf *e, const char *name,
				     const char *version, int want_any)
{
	if (e->gnu_hash) {
		const uint32_t *gh = e->gnu_hash;
		uint32_t nbuckets = gh[0], symoffset = gh[1], bloom_size = gh[2], shift = gh[3];
		const ElfW(Addr) *bloom = (const ElfW(Addr) *)&gh[4];
		const uint32_t *buckets = (const uint32_t *)&bloom[bloom_size];
		const uint32_t *chain = &buckets[nbuckets];
		enum { BITS = sizeof(ElfW(Addr)) * 8 };
		uint32_t h = gnu_hash(name);
		if (!nbuckets || !bloom_size)
			return 0;
		ElfW(Addr) word = bloom[(h / BITS) % bloom_size];
		ElfW(Addr) mask = (ElfW(Addr))1 << (h % BITS) | (ElfW(Addr))1 << ((h >> shift) % BITS);
		if ((word & mask) != mask)
			return 0;
		for (uint32_t i = buckets[h % nbuckets]; i >= symoffset && i; i++) {
			uint32_t h2 = chain[i - symoffset];
			if ((h | 1) == (h2 | 1) && matches(e, i, name, version, want_any))
				return i;
			if (h2 & 1)
				break;
		}
		return 0;
	}
	if (e->sysv_hash) {
		uint32_t nbucket = e->sysv_hash[0], nchain = e->sysv_hash[1];
		const uint32_t *bucket = &e->sysv_hash[2], *chain = &bucket[nbucket];
		if (!nbucket)
			return 0;
		for (uint32_t i = bucket[sysv_hash(name) % nbucket]; i && i < nchain; i = chain[i])
			if (matches(e, i, name, version, want_any))
				return i;
	}
	return 0;
}

ZCS_NO_SANITIZE void *zcs_elf_lookup(const struct zcs_elf *e, const char *name,
				     const char *version)
{
	uint32_t i = find(e, name, version, 0);
	if (!i || ST_TYPE(e->symtab[i].st_info) == STT_GNU_IFUNC)
		return NULL;
	if (ST_TYPE(e->symtab[i].st_info) == STT_TLS)
		return NULL;
	return (void *)(e->base + e->symtab[i].st_value);
}

ZCS_NO_SANITIZE int zcs_elf_defines(const struct zcs_elf *e, const char *name)
{
	return find(e, name, NULL, 1) != 0;
}

static int each_in(const struct zcs_elf *e, const ElfW(Rela) *r, size_t bytes,
		   zcs_elf_slot_fn *fn, void *arg)
{
#ifdef R_JUMP_SLOT
	for (size_t n = 0; r && n < bytes / sizeof *r; n++) {
		unsigned type = (unsigned)R_TYPE(r[n].r_info);
		size_t sym = R_SYM(r[n].r_info);
		if ((type != R_JUMP_SLOT && type != R_GLOB_DAT) || !sym)
			continue;
		uint32_t name = e->symtab[sym].st_name;
		if (name >= e->strsz)
			continue;
		int rc = fn((void **)(e->base + r[n].r_offset), e->strtab + name, arg);
		if (rc)
			return rc;
	}
#else
	(void)e, (void)r, (void)bytes, (void)fn, (void)arg;
#endif
	return 0;
}

int zcs_elf_each_slot(const struct zcs_elf *e, zcs_elf_slot_fn *fn, void *arg)
{
	int rc = each_in(e, e->jmprel, e->jmprel_bytes, fn, arg);
	return rc ? rc : each_in(e, e->rela, e->rela_bytes, fn, arg);
}

/* ------------------------------------------------------------ phdrs */

int zcs_phdr_file_intact(const struct dl_phdr_info *info)
{
	struct stat st;
	/* the executable's entry has no name; its /proc link stays its file */
	if (stat(info->dlpi_name[0] ? info->dlpi_name : "/proc/self/exe", &st) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_size <= 0)
		return 0;
	/* a file of any length keeps its first page, where the phdrs are */
	uint64_t mapped = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && ph->p_offset + ph->p_filesz > mapped)
			mapped = ph->p_offset + ph->p_filesz;
	}
	return (uint64_t)st.st_size >= mapped;
}

const ElfW(Dyn) *zcs_phdr_dynamic(const struct dl_phdr_info *info)
{
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			return (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	return NULL;
}

int zcs_phdr_contains(const struct dl_phdr_info *info, uintptr_t addr)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && addr - lo < ph->p_memsz)
			return 1;
	}
	return 0;
}

int zcs_phdr_relro(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi)
{
	/* the dynamic linker protects whole pages of the running kernel's size */
	uintptr_t page = (uintptr_t)getauxval(AT_PAGESZ);
	if (!page || (page & (page - 1)))
		page = 4096;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_GNU_RELRO)
			continue;
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		*lo = start & ~(page - 1);
		*hi = (start + ph->p_memsz) & ~(page - 1);
		return 0;
	}
	return -1;
}

/* Is needle in [at, at + size)? Boyer-Moore-Horspool: with a needle of some
 * tens of bytes it looks at about one byte in that many. Not libc's memmem:
 * under ASan that is intercepted, and another object's read-only data holds
 * its globals' redzones, which an instrumented reader may not touch. */
ZCS_NO_SANITIZE static int contains(const unsigned char *at, size_t size,
				    const unsigned char *needle, size_t len)
{
	size_t skip[256];
	if (!len || len > size)
		return 0;
	for (size_t c = 0; c < 256; c++)
		skip[c] = len;
	for (size_t i = 0; i + 1 < len; i++)
		skip[needle[i]] = len - 1 - i;
	for (size_t pos = 0; pos + len <= size; pos += skip[at[pos + len - 1]]) {
		size_t i = len;
		while (i > 0 && at[pos + i - 1] == needle[i - 1])
			i--;
		if (!i)
			return 1;
	}
	return 0;
}

int zcs_phdr_rodata_has(const struct dl_phdr_info *info, const char *needle, size_t len)
{
	int plain_ro = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		plain_ro |= ph->p_type == PT_LOAD && !(ph->p_flags & (PF_W | PF_X)) &&
			    (ph->p_flags & PF_R);
	}
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) || !(ph->p_flags & PF_R) ||
		    (plain_ro && (ph->p_flags & PF_X)))
			continue;
		/* p_filesz: the bytes behind p_memsz's end are zero-fill */
		const unsigned char *at = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		if (contains(at, ph->p_filesz, (const unsigned char *)needle, len))
			return 1;
	}
	return 0;
}
