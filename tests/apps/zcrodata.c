/*
 * zcrodata.so - a library of read-only data and nothing else: built with
 * -nostartfiles, it has no constructor, no destructor, nothing the
 * dynamic linker runs or reads at exit. tests/test_reach.c cuts its file
 * short while a program has it loaded: without the shim that program
 * still exits 0, so the shim must too.
 */
const char zcrodata[1 << 16] = "zcrodata: pages of read-only data";
