/*
 * test_utf8.c - shim/utf8.h against a reference written from the other
 * end: decode the bits into a code point, then ask whether it was the
 * shortest form, not a surrogate and not past U+10FFFF (RFC 3629). Every
 * sequence of one to three bytes, and every four-byte one with a plausible
 * lead, is tried; then cutting, the text form and the shim's warning text.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "config.h"
#include "utf8.h"

/* Bytes of the well-formed character at s (n bytes), 0 if none. */
static size_t reference(const unsigned char *s, size_t n)
{
	unsigned lead = s[0];
	size_t len = lead < 0x80 ? 1 : (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3
		   : (lead & 0xf8) == 0xf0 ? 4 : 0;
	if (!len || len > n)
		return 0;
	unsigned long cp = len == 1 ? lead : lead & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	static const unsigned long least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (cp < least[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

Test(utf8, char_len_agrees_with_the_reference_everywhere)
{
	unsigned char s[4];
	for (unsigned a = 0; a < 256; a++) {
		s[0] = (unsigned char)a;
		cr_assert_eq(zcs_utf8_char_len(s, 1), reference(s, 1), "%02x", a);
		for (unsigned b = 0; b < 256; b++) {
			s[1] = (unsigned char)b;
			cr_assert_eq(zcs_utf8_char_len(s, 2), reference(s, 2), "%02x %02x", a, b);
			for (unsigned c = 0; c < 256; c++) {
				s[2] = (unsigned char)c;
				size_t got = zcs_utf8_char_len(s, 3), want = reference(s, 3);
				if (got != want)
					cr_assert_fail("%02x %02x %02x: %zu, want %zu", a, b, c, got,
						       want);
			}
		}
	}
	for (unsigned a = 0xf0; a < 0x100; a++)
		for (unsigned b = 0x70; b < 0xd0; b++)
			for (unsigned c = 0x70; c < 0xd0; c++)
				for (unsigned d = 0x70; d < 0xd0; d++) {
					unsigned char t[4] = { (unsigned char)a, (unsigned char)b,
							       (unsigned char)c, (unsigned char)d };
					if (zcs_utf8_char_len(t, 4) != reference(t, 4))
						cr_assert_fail("%02x %02x %02x %02x", a, b, c, d);
				}
}

Test(utf8, cut_never_splits_a_character)
{
	const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"; /* a é € 😀 z */
	static const size_t want[] = { 0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 11 };
	for (size_t max = 0; max < sizeof want / sizeof want[0]; max++)
		cr_assert_eq(zcs_utf8_cut(s, strlen(s), max), want[max], "max %zu", max);
	/* a byte that is not part of a character is one of its own */
	cr_assert_eq(zcs_utf8_cut("\xff\xc3", 2, 1), 1);
	cr_assert_eq(zcs_utf8_cut("\xc3\xff", 2, 1), 1);
	char dst[64];
	char name[81] = "";
	for (int i = 0; i < 40; i++)
		strcat(name, "\xc3\xa9");
	zcs_utf8_copy(dst, sizeof dst, name);
	cr_assert_eq(strlen(dst), 62);
	zcs_utf8_copy(dst, sizeof dst, "short");
	cr_assert_str_eq(dst, "short");
}

Test(utf8, text_form_escapes_controls_and_invalid_bytes_only)
{
	char out[256] = "";
	/* é and € stay; newline, ESC, DEL, C1 (U+009B), an invalid and a cut
	 * character become \xNN, byte by byte */
	const char *s = "\xc3\xa9\n\x1b[1m\x7f\xc2\x9b\xff\xe2\x82 \\x\xe2\x82\xac";
	zcs_escape_line(out, sizeof out, s, strlen(s), 0);
	cr_assert_str_eq(out, "\xc3\xa9\\x0a\\x1b[1m\\x7f\\xc2\\x9b\\xff\\xe2\\x82 \\x\xe2\x82\xac");
	/* decodable: a backslash before x is \x5c too; spaces and quotes on request */
	out[0] = '\0';
	zcs_escape_line(out, sizeof out, "a \"\\x\\y", 7,
			ZCS_ESC_DECODABLE | ZCS_ESC_SPACE | ZCS_ESC_QUOTE);
	cr_assert_str_eq(out, "a\\x20\\x22\\x5cx\\y");
	/* without DECODABLE, the text form goes through unchanged */
	char again[256] = "";
	zcs_escape_line(again, sizeof again, out, strlen(out), 0);
	cr_assert_str_eq(again, out);
	/* what does not fit is left out whole: never half an escape */
	char small[8] = "ab";
	size_t took = zcs_escape_line(small, sizeof small, "c\n\n", 3, 0);
	cr_assert_str_eq(small, "abc\\x0a");
	cr_assert_eq(took, 2);
}

static const char *const *fake_env;

static const char *fake_get(const char *name)
{
	for (size_t i = 0; fake_env[i]; i += 2)
		if (!strcmp(fake_env[i], name))
			return fake_env[i + 1];
	return NULL;
}

Test(utf8, a_settings_warning_is_one_line_of_text)
{
	/* 40 é: the value is cut at 40 bytes, between two of them */
	char long_value[128] = "x";
	for (int i = 0; i < 40; i++)
		strcat(long_value, "\xc3\xa9");
	const char *env[] = { "ZCSHIM_MODE", "a\nb\x1b]0;pwned\x07\xff",
			      "ZCSHIM_THRESHOLD", long_value, NULL };
	struct zcs_config c;
	char warn[1024];
	fake_env = env;
	zcs_config_load(&c, fake_get, warn, sizeof warn);
	cr_assert_not_null(strstr(warn, "ZCSHIM_MODE='a\\x0ab\\x1b]0;pwned\\x07\\xff' is not"),
			   "%s", warn);
	char want[128] = "ZCSHIM_THRESHOLD='x";
	for (int i = 0; i < 19; i++) /* 1 + 19 x 2 = 39 bytes: the 20th does not fit */
		strcat(want, "\xc3\xa9");
	strcat(want, "...' is not");
	cr_assert_not_null(strstr(warn, want), "%s", warn);
	for (const char *p = warn; *p; p++)
		cr_assert((unsigned char)*p >= 0x20 && *p != 0x7f, "control byte in %s", warn);
}
