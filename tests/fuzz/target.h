/*
 * target.h - the reader fuzz target, shared by the fuzzer and the replay test.
 */
#ifndef ZCSHIM_FUZZ_TARGET_H
#define ZCSHIM_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Returns how many of the parses accepted the input (0..2). */
int zcs_fuzz_one(const uint8_t *data, size_t size);

#endif
