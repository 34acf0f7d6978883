// A slow disk for tools/bench-uplink, loaded with LD_PRELOAD: every fsync and fdatasync waits
// VIGIE_SLOW_FSYNC_MS milliseconds (default 40, what a cheap SD card or a busy eMMC takes to flush) before
// doing the real one. Flushes are serialised, as on one device: two threads flushing at once wait in turn,
// so batching commits pays off here exactly as much as it would on the real card, and no more.
// Not part of the firmware: built by tools/bench-uplink into a temporary folder.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t device = PTHREAD_MUTEX_INITIALIZER;

static long delay_ms(void) {
    const char *text = getenv("VIGIE_SLOW_FSYNC_MS");
    long value = text ? strtol(text, NULL, 10) : 40;
    return value > 0 ? value : 0;
}

static int slow(const char *name, int fd) {
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, name);
    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    pthread_mutex_lock(&device);
    long ms = delay_ms();
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&pause, &pause) == -1 && errno == EINTR) {
    }
    int status = real(fd);
    int saved = errno;
    pthread_mutex_unlock(&device);
    errno = saved;
    return status;
}

int fsync(int fd) { return slow("fsync", fd); }

int fdatasync(int fd) { return slow("fdatasync", fd); }
