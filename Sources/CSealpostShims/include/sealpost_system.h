#ifndef SEALPOST_SHIMS_SYSTEM_H
#define SEALPOST_SHIMS_SYSTEM_H

/* Shims for system calls that Glibc's Swift module does not export (system.c). */

#include <sys/types.h>

/* setfsuid(2)/setfsgid(2): the calling thread's file-system identity; return the previous one. */
int sealpost_setfsuid(uid_t uid);
int sealpost_setfsgid(gid_t gid);

#endif
