/*
 * fuzz_segread.c - libFuzzer entry point for the segment reader (make fuzz).
 */
#include "target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zcs_fuzz_one(data, size);
	return 0;
}
