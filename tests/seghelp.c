/*
 * seghelp.c - see seghelp.h.
 */
#include "seghelp.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "histo.h"
#include "spawn.h"

void sh_read(struct zcs_snapshot *s, pid_t pid)
{
	char key[32], err[512];
	snprintf(key, sizeof key, "%d", (int)pid);
	cr_assert_eq(zcs_find(key, s, err, sizeof err), 0, "%s", err);
	unlink(s->path);
}

uint64_t sh_count(const struct zcs_snapshot *s, unsigned op, unsigned path, size_t bytes)
{
	struct zcs_cell c;
	return zcs_cell_by_size(s, op, path, zcs_size_class(bytes), &c);
}

uint64_t sh_count_all(const struct zcs_snapshot *s, unsigned op, unsigned path)
{
	uint64_t n = 0;
	struct zcs_cell c;
	for (unsigned k = 0; k < ZCS_NSIZES; k++)
		n += zcs_cell_by_size(s, op, path, k, &c);
	return n;
}

unsigned sh_slot_of(const struct zcs_snapshot *s, int type, const char *endpoint)
{
	for (unsigned slot = 1; slot < ZCS_NSLOTS; slot++) {
		const struct zcs_socket *row = &s->shared.sockets[slot];
		if (row->state != ZCS_SOCK_FREE && row->type == type &&
		    strstr(row->endpoints, endpoint))
			return slot;
	}
	return 0;
}

unsigned sh_rows(const struct zcs_snapshot *s, int type)
{
	unsigned n = 0;
	for (unsigned slot = 1; slot < ZCS_NSLOTS; slot++)
		n += s->shared.sockets[slot].state != ZCS_SOCK_FREE &&
		     s->shared.sockets[slot].type == type;
	return n;
}

uint64_t sh_slot_count(const struct zcs_snapshot *s, unsigned slot, unsigned op,
		       unsigned path, size_t bytes)
{
	uint64_t n = 0;
	for (unsigned k = 0; k < ZCS_NSIZES; k++) {
		if (bytes != SIZE_MAX && k != zcs_size_class(bytes))
			continue;
		const struct zcs_cell *c = zcs_cell_at(s, slot, op, path, k);
		n += c ? c->count : 0;
	}
	return n;
}

uint64_t sh_inflight(const struct zcs_snapshot *s)
{
	uint64_t buffers, bytes;
	zcs_inflight_now(s, &buffers, &bytes);
	return buffers;
}

const char *sh_preload_with(const char *extra)
{
	static __thread char var[8400];
	const char *shim = getenv("ZCSHIM_TEST_SHIM");
	const char *first = getenv("ZCSHIM_TEST_PRELOAD_FIRST");
	snprintf(var, sizeof var, "LD_PRELOAD=%s%s%s%s%s", first && *first ? first : "",
		 first && *first ? ":" : "", shim && *shim ? shim : zc_build("libzcshim.so"),
		 extra ? ":" : "", extra ? extra : "");
	return var;
}

const char *sh_preload_without_shim(void)
{
	static __thread char var[4200];
	const char *first = getenv("ZCSHIM_TEST_PRELOAD_FIRST");
	if (!first || !*first)
		return NULL;
	snprintf(var, sizeof var, "LD_PRELOAD=%s", first);
	return var;
}

int sh_sanitizer_preloaded(void)
{
	const char *first = getenv("ZCSHIM_TEST_PRELOAD_FIRST");
	return first && *first;
}

struct zcs_snapshot *snap;

void sh_snap_setup(void)
{
	snap = zcs_snapshot_new();
	cr_assert_not_null(snap);
}

void sh_snap_teardown(void)
{
	zcs_snapshot_free(snap);
}
