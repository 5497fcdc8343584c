#include "sealpost_system.h"

#include <sys/fsuid.h>

int sealpost_setfsuid(uid_t uid) {
    return setfsuid(uid);
}

int sealpost_setfsgid(gid_t gid) {
    return setfsgid(gid);
}
