// Tells ThreadSanitizer about the Swift standard library's Synchronization.Mutex on Linux.
//
// Preloaded (LD_PRELOAD) by Scripts/sanitize thread; not part of any Sealpost build.
//
// Mutex's uncontended paths are inlined into the caller and compiled with -sanitize=thread, so
// their atomic compare-and-exchange is seen as an acquire or release. Its contended paths
// (_MutexHandle._lockSlow, _tryLockSlow, _unlockSlow) live in libswiftSynchronization.so, which is
// not instrumented, and end in the kernel (FUTEX_LOCK_PI / FUTEX_UNLOCK_PI): ThreadSanitizer sees no
// ordering between the thread that unlocked and the one that got the lock, and reports a data race
// on whatever the mutex protects whenever two threads contend for it. These wrappers take the
// slow paths' place, call the library's own through dlsym(RTLD_NEXT), and add the acquire/release
// annotation on the mutex word that the inlined fast paths already use, so a slow-path handover
// orders memory for ThreadSanitizer exactly as it does for the CPU. Nothing is hidden: accesses
// outside the mutex are still checked.
//
// The three functions are Swift methods (swiftcall, the mutex handle's address as `self`); their
// mangled names are part of the standard library's ABI.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SWIFTCALL __attribute__((swiftcall))
// swift_context is the parameter passed in the register Swift uses for `self` (r13 on x86-64).
#define SWIFT_SELF __attribute__((swift_context))

// Weak: a preloaded process that is not built with ThreadSanitizer (python3, openssl, Postfix's
// programs started by the tests) has none, and then nothing is annotated.
extern void __tsan_acquire(void *address) __attribute__((weak));
extern void __tsan_release(void *address) __attribute__((weak));

typedef SWIFTCALL void (*LockSlow)(uint32_t owner, void *SWIFT_SELF handle);
typedef SWIFTCALL bool (*TryLockSlow)(void *SWIFT_SELF handle);
typedef SWIFTCALL void (*UnlockSlow)(void *SWIFT_SELF handle);

#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

static void *original(const char *name) {
    void *function = dlsym(RTLD_NEXT, name);
    if (function == NULL) {
        // Only reached from a Mutex call, so the library is loaded; a missing symbol means the
        // standard library's ABI changed under this file.
        fprintf(stderr, "mutex-annotations: %s not found: %s\n", name, dlerror());
        abort();
    }
    return function;
}

SWIFTCALL void sealpost_lock_slow(uint32_t owner, void *SWIFT_SELF handle) __asm__(LOCK_SLOW);
SWIFTCALL void sealpost_lock_slow(uint32_t owner, void *SWIFT_SELF handle) {
    static LockSlow lockSlow;
    if (lockSlow == NULL) lockSlow = (LockSlow)original(LOCK_SLOW);
    lockSlow(owner, handle);
    if (__tsan_acquire) __tsan_acquire(handle);
}

SWIFTCALL bool sealpost_try_lock_slow(void *SWIFT_SELF handle) __asm__(TRY_LOCK_SLOW);
SWIFTCALL bool sealpost_try_lock_slow(void *SWIFT_SELF handle) {
    static TryLockSlow tryLockSlow;
    if (tryLockSlow == NULL) tryLockSlow = (TryLockSlow)original(TRY_LOCK_SLOW);
    bool locked = tryLockSlow(handle);
    if (locked && __tsan_acquire) __tsan_acquire(handle);
    return locked;
}

SWIFTCALL void sealpost_unlock_slow(void *SWIFT_SELF handle) __asm__(UNLOCK_SLOW);
SWIFTCALL void sealpost_unlock_slow(void *SWIFT_SELF handle) {
    static UnlockSlow unlockSlow;
    if (unlockSlow == NULL) unlockSlow = (UnlockSlow)original(UNLOCK_SLOW);
    if (__tsan_release) __tsan_release(handle);
    unlockSlow(handle);
}
