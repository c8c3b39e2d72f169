/*
 * jsonq.h - reading zcshim-stat's JSON in the tests, through jansson (the
 * library --compare uses): parse or fail the test, and short getters.
 */
#ifndef ZCSHIM_TESTS_JSONQ_H
#define ZCSHIM_TESTS_JSONQ_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdint.h>

/* The whole of text as one JSON document, with duplicate keys refused;
 * fails the test if it is not one. json_decref it. */
static inline json_t *jq_parse(const char *text)
{
	json_error_t e;
	json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	cr_assert_not_null(doc, "not JSON: %s at line %d column %d:\n%s", e.text, e.line,
			   e.column, text);
	return doc;
}

static inline int jq_u64(const json_t *o, const char *key, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return 0;
	*out = (uint64_t)json_integer_value(v);
	return 1;
}

static inline const char *jq_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

#endif
