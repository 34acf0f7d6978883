/* tools/powercut --lose-fsyncs: a negative control, preloaded into vigied.
   The first 40 fsync or fdatasync calls of the process are real (the outbox and its folder are made
   durably), every later one returns 0 at once: commits look durable and are not. A power cut must then
   lose events whose raise had returned, and tools/powercut must say so. */
#define _GNU_SOURCE
#include <dlfcn.h>

static int calls;

static int real_sync(const char *name, int fd) {
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, name);
    return real ? real(fd) : 0;
}

int fsync(int fd) { return __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED) <= 40 ? real_sync("fsync", fd) : 0; }

int fdatasync(int fd) {
    return __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED) <= 40 ? real_sync("fdatasync", fd) : 0;
}
