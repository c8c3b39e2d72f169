/*
 * zmqmsg.c - check, once, that the loaded libzmq lays out zmq_msg_t as
 * zmqmsg.h assumes. Every message kind the shim classifies is built and
 * inspected; any mismatch turns classification and conversion off.
 */
#include "zmqmsg.h"

#include <string.h>

static int probe_calls;

static void probe_ffn(void *data, void *hint)
{
	(void)data;
	if (hint == &probe_calls)
		probe_calls++;
}

static unsigned char type_of(const zmq_msg_t *m)
{
	return ((const unsigned char *)m)[ZCS_MSG_TYPE_OFFSET];
}

int zcs_msg_selftest(const struct zcs_msg_api *api)
{
	if (!api->init || !api->size || !api->init_size || !api->init_data || !api->close ||
	    !api->more)
		return 0;
	static char buf[1000];
	zmq_msg_t m;
	int ok = 1;

	/* App buffer with ffn: lmsg whose content names our buffer and ffn. */
	probe_calls = 0;
	if (api->init_data(&m, buf, 100, probe_ffn, &probe_calls) != 0)
		return 0;
	struct zcs_zmq_content *c = zcs_msg_zerocopy(&m);
	ok &= c && c->data == buf && c->size == 100 && c->ffn == probe_ffn &&
	      c->hint == &probe_calls && zcs_msg_path(&m) == ZCS_PATH_ZEROCOPY &&
	      zcs_msg_valid(&m) && zcs_msg_size(&m) == 100 && api->size(&m) == 100;
	/* the more flag, which a failed converted send mirrors back */
	ok &= !api->more(&m) && !zcs_msg_more(&m);
	zcs_msg_set_more(&m, 1);
	ok &= api->more(&m) == 1;
	zcs_msg_set_more(&m, 0);
	ok &= api->more(&m) == 0;
	api->close(&m);
	ok &= !zcs_msg_valid(&m); /* closed */
	ok &= probe_calls == 1;

	/* Constant message. */
	if (api->init_data(&m, buf, 100, NULL, NULL) != 0)
		return 0;
	ok &= type_of(&m) == ZCS_MSG_TYPE_CMSG && zcs_msg_path(&m) == ZCS_PATH_CONST &&
	      zcs_msg_size(&m) == 100 && api->size(&m) == 100;
	api->close(&m);

	/* Copies, small (inline) and large (heap content without ffn). */
	size_t sizes[] = { 10, sizeof buf };
	for (size_t i = 0; i < 2; i++) {
		if (api->init_size(&m, sizes[i]) != 0)
			return 0;
		ok &= type_of(&m) == (i ? ZCS_MSG_TYPE_LMSG : ZCS_MSG_TYPE_VSM) &&
		      zcs_msg_path(&m) == ZCS_PATH_COPY && zcs_msg_size(&m) == sizes[i] &&
		      api->size(&m) == sizes[i];
		api->close(&m);
	}

	api->init(&m);
	ok &= zcs_msg_path(&m) == ZCS_PATH_COPY && zcs_msg_size(&m) == 0;
	api->close(&m);
	return ok;
}
