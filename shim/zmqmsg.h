/*
 * zmqmsg.h - what the shim knows of libzmq's private zmq_msg_t layout.
 *
 * To convert a zero-copy send the shim must tell, from a zmq_msg_t alone,
 * whether it holds an app buffer with a free callback. libzmq has no API for
 * that, so the shim reads two fields of libzmq 4.x's msg_t (src/msg.hpp):
 * the type byte at offset 42 and, for type_lmsg, the content_t pointer at
 * offset 8, whose ffn says zero-copy (set) or copy (NULL, zmq_msg_init_size);
 * and, to size a message without a call, the inline size byte at 41 (vsm)
 * and the size_t at 16 (cmsg).
 * zcs_msg_selftest() checks this against the loaded libzmq at init with
 * messages of every kind; if anything differs, the shim records sends as
 * unclassified and converts nothing.
 */
#ifndef ZCSHIM_ZMQMSG_H
#define ZCSHIM_ZMQMSG_H

#include <stddef.h>
#include <zmq.h>

#include "zcshim_segment.h"

struct zcs_zmq_content {   /* libzmq's msg_t::content_t, leading fields */
	void *data;
	size_t size;
	zmq_free_fn *ffn;
	void *hint;
};

#define ZCS_MSG_CONTENT_OFFSET 8  /* lmsg, zclmsg: content_t * (cmsg: its data) */
#define ZCS_MSG_CSIZE_OFFSET   16 /* cmsg: its size_t size */
#define ZCS_MSG_VSIZE_OFFSET   41 /* vsm: size byte after 33 inline bytes */
#define ZCS_MSG_TYPE_OFFSET    42
#define ZCS_MSG_FLAGS_OFFSET   43 /* bit 0: more */
#define ZCS_MSG_TYPE_VSM       101 /* small, stored inline */
#define ZCS_MSG_TYPE_LMSG      102 /* content_t: heap copy or app buffer */
#define ZCS_MSG_TYPE_CMSG      104 /* constant: ffn NULL */
#define ZCS_MSG_TYPE_ZCLMSG    105 /* received, sharing the decoder's buffer */
#define ZCS_MSG_TYPE_MIN       101
#define ZCS_MSG_TYPE_MAX       107 /* 4.2 and 4.3: vsm .. leave */

struct zcs_msg_api {
	int (*init)(zmq_msg_t *);
	size_t (*size)(const zmq_msg_t *);
	int (*init_size)(zmq_msg_t *, size_t);
	int (*init_data)(zmq_msg_t *, void *, size_t, zmq_free_fn *, void *);
	int (*close)(zmq_msg_t *);
	int (*more)(const zmq_msg_t *);
};

/* 1 if the loaded libzmq lays messages out as above. */
int zcs_msg_selftest(const struct zcs_msg_api *api);

/* Would libzmq take this as a message? (A closed one has type 0.) */
static inline int zcs_msg_valid(const zmq_msg_t *msg)
{
	unsigned char t = ((const unsigned char *)msg)[ZCS_MSG_TYPE_OFFSET];
	return t >= ZCS_MSG_TYPE_MIN && t <= ZCS_MSG_TYPE_MAX;
}

static inline int zcs_msg_more(const zmq_msg_t *msg)
{
	return ((const unsigned char *)msg)[ZCS_MSG_FLAGS_OFFSET] & 1;
}

static inline void zcs_msg_set_more(zmq_msg_t *msg, int more)
{
	unsigned char *f = (unsigned char *)msg + ZCS_MSG_FLAGS_OFFSET;
	*f = (unsigned char)((*f & ~1u) | (more ? 1u : 0u));
}

/* The content of an app zero-copy message (lmsg with an ffn), or NULL. */
static inline struct zcs_zmq_content *zcs_msg_zerocopy(const zmq_msg_t *msg)
{
	const unsigned char *p = (const unsigned char *)msg;
	if (p[ZCS_MSG_TYPE_OFFSET] != ZCS_MSG_TYPE_LMSG)
		return NULL;
	struct zcs_zmq_content *c =
		*(struct zcs_zmq_content *const *)(p + ZCS_MSG_CONTENT_OFFSET);
	return c && c->ffn ? c : NULL;
}

/* zmq_msg_size(msg) read from the layout: no call on the hot path. */
static inline size_t zcs_msg_size(const zmq_msg_t *msg)
{
	const unsigned char *p = (const unsigned char *)msg;
	switch (p[ZCS_MSG_TYPE_OFFSET]) {
	case ZCS_MSG_TYPE_VSM:
		return p[ZCS_MSG_VSIZE_OFFSET];
	case ZCS_MSG_TYPE_LMSG:
	case ZCS_MSG_TYPE_ZCLMSG:
		return (*(struct zcs_zmq_content *const *)(p + ZCS_MSG_CONTENT_OFFSET))->size;
	case ZCS_MSG_TYPE_CMSG:
		return *(const size_t *)(p + ZCS_MSG_CSIZE_OFFSET);
	default:
		return 0; /* delimiter, join, leave */
	}
}

/* The path a send of msg takes, before any conversion. */
static inline unsigned zcs_msg_path(const zmq_msg_t *msg)
{
	if (((const unsigned char *)msg)[ZCS_MSG_TYPE_OFFSET] == ZCS_MSG_TYPE_CMSG)
		return ZCS_PATH_CONST;
	return zcs_msg_zerocopy(msg) ? ZCS_PATH_ZEROCOPY : ZCS_PATH_COPY;
}

#endif
