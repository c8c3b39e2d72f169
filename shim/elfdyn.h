/*
 * elfdyn.h - read a loaded object's dynamic section as the dynamic linker
 * left it: its exported symbols (with versions), the relocations that bind
 * its imports (GOT slots), its search-path entries, and its RELRO range.
 *
 * The shim needs this in three places: to find libc's own dlsym, dlvsym and
 * dlopen without calling dlsym (which would be ours, dlreal.c); to redirect
 * an RTLD_DEEPBIND object's GOT entries (deepbind.c); and to tell, at exit,
 * which objects hold libzmq and how they are bound to it (reach.c).
 *
 * Everything here reads memory the dynamic linker mapped and already used;
 * nothing allocates, locks or calls into libc, so it may run from inside
 * another library's constructor or a sanitizer's start-up.
 */
#ifndef ZCSHIM_ELFDYN_H
#define ZCSHIM_ELFDYN_H

#include <link.h>
#include <stddef.h>
#include <stdint.h>

/* Kept out of sanitizer instrumentation: reached from a sanitizer's own
 * start-up (its dlsym calls land in ours) before its shadow memory exists. */
#define ZCS_NO_SANITIZE __attribute__((no_sanitize("address", "undefined", "thread")))

struct zcs_elf {
	uintptr_t base;              /* load bias: l_addr, dlpi_addr */
	const ElfW(Sym) *symtab;
	const char *strtab;
	size_t strsz;
	const uint32_t *gnu_hash;    /* DT_GNU_HASH, or NULL */
	const uint32_t *sysv_hash;   /* DT_HASH, or NULL */
	const ElfW(Versym) *versym;  /* NULL: no symbol versions */
	const ElfW(Verdef) *verdef;
	size_t verdefnum;
	const ElfW(Rela) *jmprel;    /* PLT relocations (only RELA is read) */
	size_t jmprel_bytes;
	const ElfW(Rela) *rela;      /* other relocations: GLOB_DAT among them */
	size_t rela_bytes;
	const char *soname;          /* DT_SONAME, or NULL */
	int has_rpath, has_runpath;  /* DT_RPATH, DT_RUNPATH */
	int nodeflib;                /* DF_1_NODEFLIB: no default search path */
};

/* Fill e from an object's load bias and dynamic section. 0, or -1 if it
 * has no symbol table. */
int zcs_elf_init(struct zcs_elf *e, uintptr_t base, const ElfW(Dyn) *dyn);

/* The address name is defined at in e, or NULL. version NULL: the default
 * definition, as a plain dlsym finds it; else the definition of that
 * version ("GLIBC_2.34"). Functions and data alike; an IFUNC's resolver is
 * not called (NULL is returned for one). */
void *zcs_elf_lookup(const struct zcs_elf *e, const char *name, const char *version);

/* Does e define name (any version)? */
int zcs_elf_defines(const struct zcs_elf *e, const char *name);

/* Call fn for every GOT slot the dynamic linker fills with a symbol's
 * address (JUMP_SLOT and GLOB_DAT relocations), with the symbol's name;
 * stop when fn returns non-zero, and return that. */
typedef int zcs_elf_slot_fn(void **slot, const char *name, void *arg);
int zcs_elf_each_slot(const struct zcs_elf *e, zcs_elf_slot_fn *fn, void *arg);

/* ---- objects as dl_iterate_phdr shows them ---- */

/* Is the object's file still as long as what was mapped of it? Pages of a
 * file cut short since it was loaded (upgraded in place) raise SIGBUS when
 * read, so scans of other objects ask this first (it stats the file: not
 * for code that may run before libc is up). Judged by the object's path
 * now: a file replaced under that name may make an intact object look cut,
 * so it is skipped, never read unsafely. The vDSO has no file: 0. */
int zcs_phdr_file_intact(const struct dl_phdr_info *info);

/* The dynamic section of a dl_iterate_phdr entry, or NULL. */
const ElfW(Dyn) *zcs_phdr_dynamic(const struct dl_phdr_info *info);

/* Is addr inside one of the object's loaded segments? */
int zcs_phdr_contains(const struct dl_phdr_info *info, uintptr_t addr);

/* The pages the dynamic linker made read-only after relocation
 * (PT_GNU_RELRO, rounded down at both ends as it rounds them): [*lo, *hi).
 * 0, or -1 if the object has none. */
int zcs_phdr_relro(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi);

/* Does the object's read-only data hold the bytes needle[0..len)? Only
 * segments that are neither writable nor executable are read when the
 * object has any (strings live there); else its read-only executable ones. */
int zcs_phdr_rodata_has(const struct dl_phdr_info *info, const char *needle, size_t len);

/* Small string helpers that call nothing (see the top of this file). */
int zcs_str_eq(const char *a, const char *b);
const char *zcs_basename(const char *path);

#endif
