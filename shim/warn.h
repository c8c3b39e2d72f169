/*
 * warn.h - the shim's only output: at most one line on stderr per process.
 */
#ifndef ZCSHIM_WARN_H
#define ZCSHIM_WARN_H

/* Note which file stderr is, before anything can warn: called first thing
 * when the shim loads (constructors of one object run in no set order). */
void zcs_warn_init(void);

/* Write "zcshim: <line>\n" with write(2) if nothing was written before in
 * this process; later calls are dropped. errno is preserved. */
void zcs_warn_once(const char *line);

#endif
