/*
 * json.h - a strict parser for the JSON zcshim-stat writes, and no more.
 *
 * --compare reads back our own --json documents. Rather than depend on a
 * library for one use, this accepts exactly the subset format/json.c emits:
 * objects, arrays, strings, unsigned integers (no sign, fraction or
 * exponent; up to 2^64-1), true, false and null. Anything else is refused
 * with its byte offset, and so are duplicate keys, nesting deeper than 32,
 * and strings holding NUL; bytes >= 0x80 pass through unchecked, because a
 * program name need not be UTF-8 and we print it as it is. Never crashes on
 * any input (tests/test_json.c feeds it every prefix of a document).
 */
#ifndef ZCSHIM_JSON_H
#define ZCSHIM_JSON_H

#include <stddef.h>
#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_UINT, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	int boolean;         /* JSON_BOOL */
	uint64_t u;          /* JSON_UINT */
	char *str;           /* JSON_STRING, NUL-terminated */
	size_t n;            /* JSON_ARRAY items, JSON_OBJECT members */
	struct json *items;  /* the n values */
	char **keys;         /* JSON_OBJECT: the n member names */
};

/* Parse text[0..len) as one document; NULL and a one-line reason on error. */
struct json *json_parse(const char *text, size_t len, char *err, size_t err_len);
void json_free(struct json *v);

/* Member `key` of an object; NULL if v is not an object or has no such key. */
const struct json *json_get(const struct json *v, const char *key);

/* Member as an unsigned integer / string; 0 if missing or of another type. */
int json_get_u64(const struct json *v, const char *key, uint64_t *out);
const char *json_get_str(const struct json *v, const char *key);

#endif
