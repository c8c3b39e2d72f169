/*
 * test_config.c - ZCSHIM_* parsing: good values, bad values, one warning line,
 * and the mode rule (profile unless a threshold or a mode is asked for).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "config.h"
#include "zcshim_segment.h"

Test(config, sizes_with_suffixes)
{
	uint64_t v;
	cr_assert_eq(zcs_parse_size("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(zcs_parse_size("4096", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(zcs_parse_size("64k", &v), 0);
	cr_assert_eq(v, 65536);
	cr_assert_eq(zcs_parse_size("64K", &v), 0);
	cr_assert_eq(v, 65536);
	cr_assert_eq(zcs_parse_size("1M", &v), 0);
	cr_assert_eq(v, 1048576);
	cr_assert_eq(zcs_parse_size("max", &v), 0);
	cr_assert_eq(v, UINT64_MAX);
}

Test(config, bad_sizes_are_refused)
{
	const char *bad[] = { "", "-1", "+5", " 5", "64q", "64kk", "k", "1.5M", "0x10",
			      "99999999999999999999", "18014398509481984k", "MAX" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t v = 12345;
		cr_assert_eq(zcs_parse_size(bad[i], &v), -1, "accepted '%s'", bad[i]);
		cr_assert_eq(v, 12345, "'%s' changed the output", bad[i]);
	}
}

Test(config, modes)
{
	unsigned m = 99;
	cr_assert_eq(zcs_parse_mode("convert", &m), 0);
	cr_assert_eq(m, ZCS_MODE_CONVERT);
	cr_assert_eq(zcs_parse_mode("profile", &m), 0);
	cr_assert_eq(m, ZCS_MODE_PROFILE);
	cr_assert_eq(zcs_parse_mode("off", &m), 0);
	cr_assert_eq(m, ZCS_MODE_OFF);
	cr_assert_eq(zcs_parse_mode("Off", &m), -1);
	cr_assert_eq(zcs_parse_mode("", &m), -1);
}

static const char *const *fake_env;

static const char *fake_get(const char *name)
{
	for (const char *const *e = fake_env; e && *e; e += 2)
		if (strcmp(e[0], name) == 0)
			return e[1];
	return NULL;
}

Test(config, unset_and_empty_take_defaults_silently)
{
	static const char *const env[] = { "ZCSHIM_MODE", "", "ZCSHIM_THRESHOLD", "", NULL };
	struct zcs_config c;
	char warn[256];
	fake_env = env;
	zcs_config_load(&c, fake_get, warn, sizeof warn);
	cr_assert_eq(c.mode, ZCS_MODE_PROFILE, "empty is unset: profile");
	cr_assert_eq(c.threshold_bytes, 65536);
	cr_assert_eq(c.sample_every, 0, "auto");
	cr_assert_eq(c.keep, 1);
	cr_assert_str_empty(warn);
}

Test(config, sample_is_auto_or_a_number)
{
	static const char *const env[] = { "ZCSHIM_SAMPLE", "auto", NULL };
	static const char *const env1[] = { "ZCSHIM_SAMPLE", "1", NULL };
	struct zcs_config c;
	char warn[256];
	fake_env = env;
	zcs_config_load(&c, fake_get, warn, sizeof warn);
	cr_assert_eq(c.sample_every, 0);
	cr_assert_str_empty(warn);
	fake_env = env1;
	zcs_config_load(&c, fake_get, warn, sizeof warn);
	cr_assert_eq(c.sample_every, 1);
	cr_assert_str_empty(warn);
}

Test(config, good_values_are_taken)
{
	static const char *const env[] = { "ZCSHIM_MODE", "profile", "ZCSHIM_THRESHOLD", "1M",
					   "ZCSHIM_SAMPLE", "3", "ZCSHIM_KEEP", "0", NULL };
	struct zcs_config c;
	char warn[256];
	fake_env = env;
	zcs_config_load(&c, fake_get, warn, sizeof warn);
	cr_assert_eq(c.mode, ZCS_MODE_PROFILE);
	cr_assert_eq(c.threshold_bytes, 1u << 20);
	cr_assert_eq(c.sample_every, 3);
	cr_assert_eq(c.keep, 0);
	cr_assert_str_empty(warn);
}

Test(config, bad_values_fall_back_and_make_one_line_naming_them)
{
	static const char *const env[] = { "ZCSHIM_MODE", "fast", "ZCSHIM_THRESHOLD", "64q",
					   "ZCSHIM_SAMPLE", "0", "ZCSHIM_KEEP", "yes", NULL };
	struct zcs_config c;
	char warn[512];
	fake_env = env;
	zcs_config_load(&c, fake_get, warn, sizeof warn);
	cr_assert_eq(c.mode, ZCS_MODE_PROFILE, "neither given validly: profile");
	cr_assert_eq(c.threshold_bytes, 65536);
	cr_assert_eq(c.sample_every, 0, "auto");
	cr_assert_eq(c.keep, 1);
	cr_assert_not_null(strstr(warn, "ZCSHIM_MODE='fast' is not convert, profile or off; "
					"using profile"), "%s", warn);
	cr_assert_not_null(strstr(warn, "ZCSHIM_THRESHOLD='64q'"));
	cr_assert_not_null(strstr(warn, "ZCSHIM_SAMPLE='0'"));
	cr_assert_not_null(strstr(warn, "ZCSHIM_KEEP='yes'"));
	cr_assert_null(strchr(warn, '\n'), "one line");
}

Test(config, a_huge_value_is_cut_not_overflowed)
{
	char big[4000];
	memset(big, '9', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	const char *env[] = { "ZCSHIM_THRESHOLD", big, NULL };
	struct zcs_config c;
	char warn[256];
	fake_env = env;
	zcs_config_load(&c, fake_get, warn, sizeof warn);
	cr_assert_eq(c.threshold_bytes, 65536);
	cr_assert_lt(strlen(warn), sizeof warn);
	cr_assert_not_null(strstr(warn, "ZCSHIM_THRESHOLD"));
}

Test(config, format_size_round_trips)
{
	uint64_t vals[] = { 0, 100, 1024, 65536, 1u << 20, 3u << 30, 65535, UINT64_MAX };
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		char buf[32];
		uint64_t back;
		zcs_format_size(vals[i], buf, sizeof buf);
		cr_assert_eq(zcs_parse_size(buf, &back), 0, "'%s'", buf);
		cr_assert_eq(back, vals[i], "'%s'", buf);
	}
}

/* ------------------------------------------------------------ the mode rule */

/* Every combination of ZCSHIM_MODE (unset, each mode, bad) and
 * ZCSHIM_THRESHOLD (unset, good, bad): the mode and threshold taken, and
 * what the one warning line says is used instead of a bad value. */
Test(config, the_mode_rule_for_every_combination)
{
	static const struct {
		const char *mode, *threshold; /* NULL: unset */
		unsigned want_mode;
		uint64_t want_threshold;
		const char *want_warn; /* NULL: no warning */
	} cases[] = {
		/* nothing asked: only look */
		{ NULL, NULL, ZCS_MODE_PROFILE, 65536, NULL },
		{ "", "", ZCS_MODE_PROFILE, 65536, NULL },
		/* a threshold asks for conversion at it */
		{ NULL, "1k", ZCS_MODE_CONVERT, 1024, NULL },
		{ NULL, "0", ZCS_MODE_CONVERT, 0, NULL },
		{ NULL, "max", ZCS_MODE_CONVERT, UINT64_MAX, NULL },
		{ "", "1k", ZCS_MODE_CONVERT, 1024, NULL },
		/* convert alone: at 64k */
		{ "convert", NULL, ZCS_MODE_CONVERT, 65536, NULL },
		{ "convert", "", ZCS_MODE_CONVERT, 65536, NULL },
		{ "convert", "1k", ZCS_MODE_CONVERT, 1024, NULL },
		/* the mode, given, always wins; the threshold is still kept */
		{ "profile", NULL, ZCS_MODE_PROFILE, 65536, NULL },
		{ "profile", "1k", ZCS_MODE_PROFILE, 1024, NULL },
		{ "off", NULL, ZCS_MODE_OFF, 65536, NULL },
		{ "off", "1k", ZCS_MODE_OFF, 1024, NULL },
		/* a bad threshold counts as none: profile unless a mode says */
		{ NULL, "64q", ZCS_MODE_PROFILE, 65536,
		  "ZCSHIM_THRESHOLD='64q' is not a size (e.g. 4096, 64k, 1M, max); using profile "
		  "mode, converting nothing" },
		{ "convert", "64q", ZCS_MODE_CONVERT, 65536,
		  "ZCSHIM_THRESHOLD='64q' is not a size (e.g. 4096, 64k, 1M, max); using 64k" },
		{ "profile", "-1", ZCS_MODE_PROFILE, 65536,
		  "ZCSHIM_THRESHOLD='-1' is not a size (e.g. 4096, 64k, 1M, max); using 64k" },
		/* a bad mode counts as none: the threshold decides */
		{ "fast", NULL, ZCS_MODE_PROFILE, 65536,
		  "ZCSHIM_MODE='fast' is not convert, profile or off; using profile" },
		{ "OFF", "1k", ZCS_MODE_CONVERT, 1024,
		  "ZCSHIM_MODE='OFF' is not convert, profile or off; using convert" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *env[5] = { NULL };
		size_t n = 0;
		if (cases[i].mode) {
			env[n++] = "ZCSHIM_MODE";
			env[n++] = cases[i].mode;
		}
		if (cases[i].threshold) {
			env[n++] = "ZCSHIM_THRESHOLD";
			env[n++] = cases[i].threshold;
		}
		struct zcs_config c;
		char warn[512];
		fake_env = env;
		zcs_config_load(&c, fake_get, warn, sizeof warn);
		const char *m = cases[i].mode ? cases[i].mode : "(unset)";
		const char *th = cases[i].threshold ? cases[i].threshold : "(unset)";
		cr_assert_eq(c.mode, cases[i].want_mode, "MODE=%s THRESHOLD=%s: mode %s", m, th,
			     zcs_mode_name(c.mode));
		cr_assert_eq(c.threshold_bytes, cases[i].want_threshold,
			     "MODE=%s THRESHOLD=%s: threshold %llu", m, th,
			     (unsigned long long)c.threshold_bytes);
		if (cases[i].want_warn)
			cr_assert_str_eq(warn, cases[i].want_warn, "MODE=%s THRESHOLD=%s", m, th);
		else
			cr_assert_str_empty(warn, "MODE=%s THRESHOLD=%s: '%s'", m, th, warn);
	}
}
