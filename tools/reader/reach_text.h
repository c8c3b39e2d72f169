/*
 * reach_text.h - the segment's reach block in words: how libzmq's calls reached
 * the shim, and why none did when none did. Shared by zcshim-stat's views
 * and zcshim-run's closing line, so they say the same thing.
 */
#ifndef ZCSHIM_TOOLS_REACH_H
#define ZCSHIM_TOOLS_REACH_H

#include <stddef.h>

#include "segread.h"

/* Why no libzmq call reached the shim, for a snapshot without calls:
 * "no libzmq was loaded", "libzmq is linked into the executable without
 * exported symbols, which the shim cannot interpose", ... For a running
 * process, what /proc/PID/maps shows so far (if that pid is still the
 * segment's process). */
const char *zcs_reach_why_text(const struct zcs_snapshot *s, char *buf, size_t len);

/* The same as one word for narrow columns and JSON: "seen" (calls came),
 * "no_libzmq", "static", "bypassed", "running", "unknown". */
const char *zcs_reach_why_word(const struct zcs_snapshot *s);

/* How calls came, for a snapshot with calls: "symbol binding, dlsym (12
 * pointers)". Symbol binding is established at exit; before, it is
 * inferred when no other way was used. */
const char *zcs_reach_ways_text(const struct zcs_snapshot *s, char *buf, size_t len);

/* Did the app's calls reach the shim? ZCS_F_CALLS_SEEN also counts
 * libzmq's own calls, which are not recorded: decided at exit, or, while
 * running, anything recorded at all. */
int zcs_reach_app_calls(const struct zcs_snapshot *s);

/* The ways as ZCS_WAY_* bits, with that inference applied. */
unsigned zcs_reach_ways(const struct zcs_snapshot *s);

#endif
