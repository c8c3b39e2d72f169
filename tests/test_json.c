/*
 * test_json.c - the strict JSON parser --compare reads our dumps with:
 * what it must accept (everything format/json.c writes), what it must refuse,
 * and that no input, however cut or mangled, crashes it.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "json.h"

static char err[256];

static struct json *parse(const char *s)
{
	return json_parse(s, strlen(s), err, sizeof err);
}

static void refused(const char *s, const char *why)
{
	struct json *v = parse(s);
	cr_assert_null(v, "accepted %s", s);
	cr_assert_not_null(strstr(err, why), "'%s': error '%s' does not say '%s'", s, err, why);
}

Test(json, parses_the_shape_we_write)
{
	struct json *v = parse(" {\"version\":1,\"exe\":\"a\\\"b\\\\c\\u0001\",\"threshold\":null,"
			       "\"ok\":true,\"no\":false,\"big\":18446744073709551615,"
			       "\"series\":[{\"buckets\":[[16,3],[null,1]]},{}]}\n");
	cr_assert_not_null(v, "%s", err);
	uint64_t u = 0;
	cr_assert(json_get_u64(v, "version", &u) && u == 1);
	cr_assert(json_get_u64(v, "big", &u) && u == UINT64_MAX);
	cr_assert_str_eq(json_get_str(v, "exe"), "a\"b\\c\x01");
	cr_assert_eq(json_get(v, "threshold")->type, JSON_NULL);
	cr_assert_eq(json_get(v, "ok")->boolean, 1);
	cr_assert_eq(json_get(v, "no")->boolean, 0);
	const struct json *s = json_get(v, "series");
	cr_assert_eq(s->type, JSON_ARRAY);
	cr_assert_eq(s->n, 2);
	const struct json *b = json_get(&s->items[0], "buckets");
	cr_assert_eq(b->n, 2);
	cr_assert_eq(b->items[0].items[0].u, 16);
	cr_assert_eq(b->items[1].items[0].type, JSON_NULL);
	cr_assert_eq(s->items[1].n, 0);
	cr_assert_null(json_get(v, "missing"));
	cr_assert_null(json_get_str(v, "version"), "a number is not a string");
	json_free(v);
}

Test(json, decodes_unicode_escapes_and_passes_raw_bytes)
{
	struct json *v = parse("[\"\\u00e9\\u20ac\\ud83d\\ude00\", \"caf\xc3\xa9 \xff\"]");
	cr_assert_not_null(v, "%s", err);
	cr_assert_str_eq(v->items[0].str, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	cr_assert_str_eq(v->items[1].str, "caf\xc3\xa9 \xff");
	json_free(v);
}

Test(json, refuses_what_we_never_write)
{
	refused("", "unexpected end");
	refused("{", "expected a string");
	refused("[1,]", "unexpected character");
	refused("{\"a\":1,}", "expected a string");
	refused("[1 2]", "expected ','");
	refused("-1", "unexpected character");
	refused("1.5", "not a whole number");
	refused("1e3", "not a whole number");
	refused("01", "leading zero");
	refused("18446744073709551616", "out of range");
	refused("\"a\nb\"", "control character");
	refused("\"\\x\"", "bad escape");
	refused("\"\\u00zz\"", "bad \\u escape");
	refused("\"\\u00\"", "short \\u escape");
	refused("\"\\ud800\"", "lone surrogate");
	refused("\"\\udc00\"", "lone surrogate");
	refused("\"\\u0000\"", "NUL");
	refused("{\"a\":1,\"a\":2}", "duplicate key");
	refused("tru", "unexpected character");
	refused("{} {}", "trailing data");
	refused("'a'", "unexpected character");
	char deep[200];
	memset(deep, '[', 100);
	deep[100] = '\0';
	refused(deep, "nested too deep");
}

Test(json, every_prefix_and_every_byte_flip_is_handled)
{
	static const char doc[] =
		"{\"version\":1,\"pid\":42,\"exe\":\"x\",\"threshold\":65536,\"series\":["
		"{\"op\":\"msg_send\",\"path\":\"converted\",\"size_class\":7,\"count\":20,"
		"\"buckets\":[[16,3],[null,1]]}]}";
	size_t n = strlen(doc);
	for (size_t len = 0; len < n; len++) {
		struct json *v = json_parse(doc, len, err, sizeof err);
		cr_assert_null(v, "a prefix of %zu bytes was accepted", len);
	}
	char mangled[sizeof doc];
	for (size_t i = 0; i < n; i++) {
		memcpy(mangled, doc, sizeof doc);
		mangled[i] = (char)(mangled[i] ^ 0x5a);
		json_free(json_parse(mangled, n, err, sizeof err)); /* accepted or not: no crash */
	}
	struct json *v = json_parse(doc, n, err, sizeof err);
	cr_assert_not_null(v, "%s", err);
	json_free(v);
}
