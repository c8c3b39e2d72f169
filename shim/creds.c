/*
 * creds.c - the segment follows the process when it changes its uid.
 *
 * A daemon started as root often drops to another user (setuid) before or
 * after it first uses ZeroMQ. The segment was made by root, 0600, in the
 * sticky /dev/shm: the new user could not map more of it (a thread's first
 * record, a new series), could not remove it at exit (ZCSHIM_KEEP=0), and
 * zcshim-stat run as that user could not read it. So the shim interposes
 * the setuid family and, while the process is still privileged, hands the
 * file to the uid it is about to take (and back, if the call fails). Every
 * call returns what libc returned, with libc's errno.
 */
#include <dlfcn.h> /* RTLD_NEXT */
#include <errno.h>
#include <sys/types.h>
#include <unistd.h>

#include "dlreal.h"
#include "segment.h"

#define EXPORT __attribute__((visibility("default")))

/* libc's function: found once; NULL (ENOSYS) only if libc lacks it. */
typedef int uid1_fn(uid_t);
typedef int uid2_fn(uid_t, uid_t);
typedef int uid3_fn(uid_t, uid_t, uid_t);

#define REAL(name, type)                                                     \
	static type *real_##name;                                            \
	if (!real_##name)                                                    \
		real_##name = (type *)zcs_dlsym(RTLD_NEXT, #name);           \
	if (!real_##name) {                                                  \
		errno = ENOSYS;                                              \
		return -1;                                                   \
	}

/* Around a call that makes `euid` the effective uid ((uid_t)-1: unchanged). */
#define FOLLOW(euid, call)                                                   \
	do {                                                                 \
		long back_to = (euid) == (uid_t)-1 ? -1 : zcs_segment_give_to(euid); \
		int rc_ = (call);                                            \
		if (rc_ != 0 && back_to >= 0) {                              \
			int err_ = errno;                                    \
			zcs_segment_give_to((uid_t)back_to);                 \
			errno = err_;                                        \
		}                                                            \
		return rc_;                                                  \
	} while (0)

EXPORT int setuid(uid_t uid)
{
	REAL(setuid, uid1_fn);
	FOLLOW(uid, real_setuid(uid));
}

EXPORT int seteuid(uid_t euid)
{
	REAL(seteuid, uid1_fn);
	FOLLOW(euid, real_seteuid(euid));
}

EXPORT int setreuid(uid_t ruid, uid_t euid)
{
	REAL(setreuid, uid2_fn);
	FOLLOW(euid, real_setreuid(ruid, euid));
}

EXPORT int setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
	REAL(setresuid, uid3_fn);
	FOLLOW(euid, real_setresuid(ruid, euid, suid));
}
