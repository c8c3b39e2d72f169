/*
 * utf8.h - text the shim stores or says, cut and escaped so that it stays
 * valid UTF-8 and one line.
 *
 * Program names, endpoints and ZCSHIM_* values are bytes, not text: a name
 * of 40 "é" cut at byte 63 ends in half a character, and a setting may hold
 * a newline or an escape sequence. Cutting here never splits a well-formed
 * character; escaping shows every byte that is not part of a printable one
 * as \xNN. Shared by the shim (segment.c, sockets.c, config.c, warn.c) and
 * by zcshim-stat, whose formats build on the same rule (format/escape.c),
 * so the writer and every view agree on what a character is. No stdio, no
 * allocation: the shim calls these inside its host.
 */
#ifndef ZCSHIM_UTF8_H
#define ZCSHIM_UTF8_H

#include <stddef.h>
#include <string.h>

/* Bytes (1 to 4) of the well-formed UTF-8 character at s, of which len > 0
 * bytes can be read; 0 if s does not start one: a stray continuation byte,
 * an overlong form, a surrogate, a code point past U+10FFFF, or a character
 * cut short by len (RFC 3629, section 4). */
static inline size_t zcs_utf8_char_len(const unsigned char *s, size_t len)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80; /* not overlong */
		hi = c == 0xed ? 0x9f : 0xbf; /* not a surrogate */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		lo = c == 0xf0 ? 0x90 : 0x80; /* not overlong */
		hi = c == 0xf4 ? 0x8f : 0xbf; /* not past U+10FFFF */
	} else {
		return 0;
	}
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Bytes of the printable character at s (len > 0): 1 to 4; 0 when s[0] is
 * to be shown as a byte, \xNN: not well-formed UTF-8, or a control
 * character (C0, DEL, or C1, U+0080 to U+009F, which some terminals obey). */
static inline size_t zcs_utf8_printable(const unsigned char *s, size_t len)
{
	size_t n = zcs_utf8_char_len(s, len);
	if (n == 1 && (s[0] < 0x20 || s[0] == 0x7f))
		return 0;
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0;
	return n;
}

/* The longest prefix of s (len bytes) of at most max bytes that ends on a
 * character boundary: a well-formed character is kept whole or left out;
 * a byte that is not part of one is a character of its own. */
static inline size_t zcs_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t at = 0;
	while (at < max) {
		size_t n = zcs_utf8_char_len((const unsigned char *)s + at, len - at);
		if (n == 0)
			n = 1;
		if (at + n > max)
			break;
		at += n;
	}
	return at;
}

/* snprintf(dst, size, "%s", src) that never splits a character: dst gets
 * the longest prefix of src that fits and ends on a boundary. */
static inline void zcs_utf8_copy(char *dst, size_t size, const char *src)
{
	if (!size)
		return;
	size_t n = zcs_utf8_cut(src, strlen(src), size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The text form of bytes: each printable character as itself, every other
 * byte as \xNN (two lowercase hex digits). With ZCS_ESC_DECODABLE a
 * backslash followed by "x" is written \x5c too, so that the text can be
 * turned back into the bytes by replacing every \xNN with byte NN
 * (zcshim-stat's views, docs/formats.md); ZCS_ESC_SPACE and ZCS_ESC_QUOTE
 * also write space and double quote as \x20 and \x22, for lists and
 * quoted words. */
#define ZCS_ESC_DECODABLE 0x1u
#define ZCS_ESC_SPACE     0x2u
#define ZCS_ESC_QUOTE     0x4u

/* The next unit of the text form of s (len > 0 bytes): writes it to out (1
 * to 4 bytes, not NUL-terminated) and its length to *out_len; returns how
 * many bytes of s it stands for. */
static inline size_t zcs_text_unit(const char *s, size_t len, unsigned flags, char out[4],
				   size_t *out_len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *c = (const unsigned char *)s;
	size_t n = zcs_utf8_printable(c, len);
	int escape = n == 0 || (*c == ' ' && (flags & ZCS_ESC_SPACE)) ||
		     (*c == '"' && (flags & ZCS_ESC_QUOTE)) ||
		     (*c == '\\' && len > 1 && c[1] == 'x' && (flags & ZCS_ESC_DECODABLE));
	if (!escape) {
		memcpy(out, c, n);
		*out_len = n;
		return n;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[*c >> 4];
	out[3] = hex[*c & 15];
	*out_len = 4;
	return 1;
}

/* Append the text form of src (len bytes) to the string in dst (size bytes
 * in all), as one line. Stops where the next unit would not fit, so what
 * is there is always whole; returns how many bytes of src went in. Without
 * ZCS_ESC_DECODABLE, text this produced passes through it unchanged. */
static inline size_t zcs_escape_line(char *dst, size_t size, const char *src, size_t len,
				     unsigned flags)
{
	if (!size)
		return 0;
	size_t used = strnlen(dst, size - 1), i = 0;
	while (i < len) {
		char unit[4];
		size_t out, took = zcs_text_unit(src + i, len - i, flags, unit, &out);
		if (used + out >= size)
			break;
		memcpy(dst + used, unit, out);
		used += out;
		i += took;
	}
	dst[used] = '\0';
	return i;
}

#endif
