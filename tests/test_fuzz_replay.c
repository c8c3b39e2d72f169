/*
 * test_fuzz_replay.c - every seed and every input the fuzzer ever found
 * goes through the reader again on each make test, under ASan+UBSan too.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "fuzz/target.h"

static int replay_dir(const char *dir, int *accepted)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	int files = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		cr_assert_not_null(f, "%s", path);
		static uint8_t buf[1 << 16];
		size_t n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		*accepted += zcs_fuzz_one(buf, n) > 0;
		files++;
	}
	closedir(d);
	return files;
}

Test(fuzz, seeds_and_regressions_replay_without_crashing)
{
	int accepted = 0;
	int files = replay_dir("tests/fuzz/seeds", &accepted);
	cr_assert_geq(files, 3, "seed corpus missing");
	/* the valid-header seed must get through the parser, or the fuzzer
	 * would never reach the summing code */
	cr_assert_geq(accepted, 1);
	replay_dir("tests/fuzz/regressions", &accepted);
}
