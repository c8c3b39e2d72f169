/*
 * json.c - see json.h: recursive descent over the subset we write, with a
 * depth limit so a hostile file cannot exhaust the stack.
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

struct parser {
	const char *s;
	size_t len, pos;
	char *err;
	size_t err_len;
	int failed;
};

static int fail(struct parser *p, const char *why)
{
	if (!p->failed)
		snprintf(p->err, p->err_len, "JSON: %s at byte %zu", why, p->pos);
	p->failed = 1;
	return -1;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\n' ||
				   p->s[p->pos] == '\r' || p->s[p->pos] == '\t'))
		p->pos++;
}

static int literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return fail(p, "unexpected character");
	p->pos += n;
	return 0;
}

static int hex4(struct parser *p, unsigned *out)
{
	unsigned v = 0;
	if (p->len - p->pos < 4)
		return fail(p, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return fail(p, "bad \\u escape");
	}
	*out = v;
	return 0;
}

/* Append code point cp as UTF-8 (at most 4 bytes). */
static size_t utf8(char *out, unsigned cp)
{
	if (cp < 0x80)
		return out[0] = (char)cp, 1;
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int string(struct parser *p, char **out)
{
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return fail(p, "expected a string");
	p->pos++;
	/* the decoded string is never longer than its source */
	size_t start = p->pos, used = 0;
	char *buf = malloc(p->len - start + 1);
	if (!buf)
		return fail(p, "out of memory");
	for (;;) {
		if (p->pos >= p->len) {
			free(buf);
			return fail(p, "unterminated string");
		}
		unsigned char c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20) {
			free(buf);
			return fail(p, "control character in a string");
		}
		if (c != '\\') {
			buf[used++] = (char)c;
			continue;
		}
		if (p->pos >= p->len) {
			free(buf);
			return fail(p, "unterminated string");
		}
		char e = p->s[p->pos++];
		const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
		const char *hit = e ? strchr(from, e) : NULL;
		if (hit) {
			buf[used++] = to[hit - from];
			continue;
		}
		unsigned cp, lo;
		if (e != 'u' || hex4(p, &cp) != 0) {
			free(buf);
			return fail(p, "bad escape");
		}
		if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair */
			if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
			    p->s[p->pos + 1] != 'u') {
				free(buf);
				return fail(p, "lone surrogate");
			}
			p->pos += 2;
			if (hex4(p, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
				free(buf);
				return fail(p, "lone surrogate");
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		} else if ((cp >= 0xdc00 && cp < 0xe000) || cp == 0) {
			free(buf);
			return fail(p, cp ? "lone surrogate" : "NUL in a string");
		}
		used += utf8(buf + used, cp);
	}
	buf[used] = '\0';
	*out = buf;
	return 0;
}

static int number(struct parser *p, uint64_t *out)
{
	size_t start = p->pos;
	uint64_t v = 0;
	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
		unsigned d = (unsigned)(p->s[p->pos] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return fail(p, "number out of range");
		v = v * 10 + d;
		p->pos++;
	}
	if (p->pos - start > 1 && p->s[start] == '0')
		return fail(p, "leading zero");
	if (p->pos < p->len && strchr(".eE", p->s[p->pos]) && p->s[p->pos])
		return fail(p, "not a whole number");
	*out = v;
	return 0;
}

static int value(struct parser *p, struct json *v, int depth);

/* Grow a value's item (and key) arrays to hold one more. */
static int push(struct parser *p, struct json *v, size_t *cap, int keyed)
{
	if (v->n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	struct json *items = realloc(v->items, ncap * sizeof *items);
	if (!items)
		return fail(p, "out of memory");
	v->items = items;
	if (keyed) {
		char **keys = realloc(v->keys, ncap * sizeof *keys);
		if (!keys)
			return fail(p, "out of memory");
		v->keys = keys;
	}
	*cap = ncap;
	return 0;
}

static int container(struct parser *p, struct json *v, int depth, int is_object)
{
	char close = is_object ? '}' : ']';
	size_t cap = 0;
	v->type = is_object ? JSON_OBJECT : JSON_ARRAY;
	if (depth >= MAX_DEPTH)
		return fail(p, "nested too deep");
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		skip_ws(p);
		if (is_object) {
			if (string(p, &key) != 0)
				return -1;
			for (size_t i = 0; i < v->n; i++)
				if (strcmp(v->keys[i], key) == 0) {
					free(key);
					return fail(p, "duplicate key");
				}
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				free(key);
				return fail(p, "expected ':'");
			}
			p->pos++;
		}
		if (push(p, v, &cap, is_object) != 0) {
			free(key);
			return -1;
		}
		memset(&v->items[v->n], 0, sizeof v->items[v->n]);
		if (is_object)
			v->keys[v->n] = key;
		v->n++; /* counted before parsing, so json_free frees a partial one */
		if (value(p, &v->items[v->n - 1], depth + 1) != 0)
			return -1;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return fail(p, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int value(struct parser *p, struct json *v, int depth)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "unexpected end");
	char c = p->s[p->pos];
	switch (c) {
	case '{': return container(p, v, depth, 1);
	case '[': return container(p, v, depth, 0);
	case '"': v->type = JSON_STRING; return string(p, &v->str);
	case 't': v->type = JSON_BOOL; v->boolean = 1; return literal(p, "true");
	case 'f': v->type = JSON_BOOL; return literal(p, "false");
	case 'n': v->type = JSON_NULL; return literal(p, "null");
	default:
		if (c >= '0' && c <= '9') {
			v->type = JSON_UINT;
			return number(p, &v->u);
		}
		return fail(p, "unexpected character");
	}
}

static void free_inner(struct json *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free_inner(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

void json_free(struct json *v)
{
	if (!v)
		return;
	free_inner(v);
	free(v);
}

struct json *json_parse(const char *text, size_t len, char *err, size_t err_len)
{
	struct parser p = { text, len, 0, err, err_len, 0 };
	struct json *v = calloc(1, sizeof *v);
	if (!v) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	if (value(&p, v, 0) == 0) {
		skip_ws(&p);
		if (p.pos != p.len)
			fail(&p, "trailing data");
	}
	if (p.failed) {
		json_free(v);
		return NULL;
	}
	return v;
}

const struct json *json_get(const struct json *v, const char *key)
{
	if (!v || v->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0)
			return &v->items[i];
	return NULL;
}

int json_get_u64(const struct json *v, const char *key, uint64_t *out)
{
	const struct json *m = json_get(v, key);
	if (!m || m->type != JSON_UINT)
		return 0;
	*out = m->u;
	return 1;
}

const char *json_get_str(const struct json *v, const char *key)
{
	const struct json *m = json_get(v, key);
	return m && m->type == JSON_STRING ? m->str : NULL;
}
