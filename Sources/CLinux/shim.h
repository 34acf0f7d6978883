#ifndef VIGIE_CLINUX_SHIM_H
#define VIGIE_CLINUX_SHIM_H
#include <sys/socket.h>
// Linux calls of the C library that Swift cannot import as they are (variadic).
#include <errno.h>
#include <linux/gpio.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <sys/timex.h>

// The user id of the process at the other end of a connected Unix socket, as the kernel knows it (SO_PEERCRED):
// who asked, whatever the request says. Returns 0, or -1 with errno.
// Not `struct ucred`: glibc shows it only under _GNU_SOURCE, which would give this module another `fd_set` than
// Swift's Glibc module (a clean build then fails). The kernel's layout: pid, uid, gid.
struct clinux_peer_credentials {
    int pid;
    unsigned int uid;
    unsigned int gid;
};

static inline int clinux_peer_uid(int fd, unsigned int *uid) {
    struct clinux_peer_credentials credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *uid = credentials.uid;
    return 0;
}

// The process can no longer dump core, nor be attached to by a debugger of the same user: its memory holds
// frames before masking. Returns 0, or -1 with errno.
static inline int clinux_forbid_core_dumps(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

// Signals written into a pipe, the only thing their handler does (async-signal-safe, in C: no Swift runtime in
// the handler). `clinux_signal_pipe` is the pipe's write end, set before the handlers are installed.
static int clinux_signal_pipe = -1;

static void clinux_signal_handler(int number) {
    int saved = errno;
    unsigned char byte = (unsigned char)number;
    (void)!write(clinux_signal_pipe, &byte, 1);
    errno = saved;
}

// Installs the handler for `number` (SA_RESTART), writing into `pipe_write_end`. Returns 0, or -1 with errno.
static inline int clinux_forward_signal(int number, int pipe_write_end) {
    clinux_signal_pipe = pipe_write_end;
    struct sigaction action = {0};
    action.sa_handler = clinux_signal_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(number, &action, 0);
}

// The label (up to 32 bytes, NUL-terminated) and the number of lines of the GPIO chip open at `fd`
// (GPIO_GET_CHIPINFO_IOCTL). Returns 0, or -1 with errno.
static inline int clinux_gpiochip_info(int fd, char *label, unsigned *lines) {
    struct gpiochip_info info = {0};
    if (ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &info) != 0) return -1;
    for (int i = 0; i < GPIO_MAX_NAME_SIZE; i++) label[i] = info.label[i];
    label[GPIO_MAX_NAME_SIZE - 1] = 0;
    *lines = info.lines;
    return 0;
}

// Whether the kernel's clock is synchronised (NTP discipline, as `timedatectl` reports): 1 yes, 0 no, -1 error.
static inline int clinux_clock_synchronised(void) {
    struct timex state = {0};
    int result = ntp_adjtime(&state);
    if (result < 0) return -1;
    return (result != TIME_ERROR && !(state.status & STA_UNSYNC)) ? 1 : 0;
}
#endif
