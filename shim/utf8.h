/*
 * utf8.h - cut text on a character boundary.
 *
 * The shim copies names it does not control (the program name, endpoints)
 * into fixed fields of the segment. A cut in the middle of a multi-byte
 * character would hand every reader invalid UTF-8 (JSON parsers and the
 * Prometheus exposition format refuse it), so a copy that does not fit
 * ends before the character it would split. Bytes that were not valid
 * UTF-8 to begin with are copied as they are: the reader escapes them.
 */
#ifndef ZCSHIM_UTF8_H
#define ZCSHIM_UTF8_H

#include <stddef.h>
#include <string.h>

/* How many of the first n bytes of s to keep so that no UTF-8 sequence that
 * starts before n is cut (n <= strlen(s)). */
static inline size_t zcs_utf8_fit(const char *s, size_t n)
{
	size_t len = strlen(s);
	if (n >= len)
		return len;
	size_t start = n;
	/* back to the lead byte of the character that straddles n */
	while (start > 0 && ((unsigned char)s[start] & 0xC0) == 0x80 && n - start < 3)
		start--;
	unsigned char lead = (unsigned char)s[start];
	size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	return start + need <= n ? n : start;
}

/* Copy src into dst[len] (NUL-terminated), cut on a character boundary. */
static inline void zcs_utf8_copy(char *dst, size_t len, const char *src)
{
	if (!len)
		return;
	size_t n = zcs_utf8_fit(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

#endif
