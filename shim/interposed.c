/*
 * interposed.c - see interposed.h.
 *
 * Our definitions are read from our own dynamic symbol table (found through
 * _DYNAMIC and the ELF header the linker maps at our base) rather than
 * taken as &zmq_send in C: from a shared object that address goes through
 * the GOT, and would be another object's zmq_send if one came earlier in
 * the search order (a program linking libzmq statically with -rdynamic).
 */
#include "interposed.h"

#include <elf.h>
#include <link.h>

#include "elfdyn.h"
#include "real.h"

/* _DYNAMIC (link.h): our own dynamic section, which the linker defines
 * locally in every object */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

static struct zcs_interposed table[] = {
#define I(name) { #name, 0, (void **)&real_##name }
	I(zmq_msg_init_data), I(zmq_send), I(zmq_send_const), I(zmq_msg_send),
	I(zmq_sendmsg), I(zmq_socket), I(zmq_close), I(zmq_bind), I(zmq_connect),
	I(zmq_recv), I(zmq_msg_recv), I(zmq_recvmsg), I(zmq_poll), I(zmq_socket_monitor),
#undef I
};
#define NTABLE (sizeof table / sizeof table[0])

static int filled; /* 0 not yet, 1 done */

static void fill(void)
{
	if (__atomic_load_n(&filled, __ATOMIC_ACQUIRE))
		return;
	struct zcs_elf e;
	/* a shared object's first segment maps its ELF header at its base */
	if (zcs_elf_init(&e, (uintptr_t)&__ehdr_start, _DYNAMIC) == 0)
		for (size_t i = 0; i < NTABLE; i++)
			__atomic_store_n(&table[i].own, zcs_elf_lookup(&e, table[i].name, NULL),
					 __ATOMIC_RELAXED);
	__atomic_store_n(&filled, 1, __ATOMIC_RELEASE);
}

const struct zcs_interposed *zcs_interposed_find(const char *name)
{
	if (name[0] != 'z' || name[1] != 'm' || name[2] != 'q' || name[3] != '_')
		return NULL;
	fill();
	for (size_t i = 0; i < NTABLE; i++)
		if (zcs_str_eq(table[i].name, name))
			return table[i].own ? &table[i] : NULL;
	return NULL;
}

int zcs_interposed_own(const void *p)
{
	fill();
	for (size_t i = 0; i < NTABLE; i++)
		if (p && table[i].own == p)
			return 1;
	return 0;
}
