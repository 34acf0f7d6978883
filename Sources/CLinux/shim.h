#ifndef VIGIE_CLINUX_SHIM_H
#define VIGIE_CLINUX_SHIM_H
// Linux calls of the C library that Swift cannot import as they are (variadic).
#include <sys/prctl.h>
#include <sys/timex.h>

// The process can no longer dump core, nor be attached to by a debugger of the same user: its memory holds
// frames before masking. Returns 0, or -1 with errno.
static inline int clinux_forbid_core_dumps(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

// Whether the kernel's clock is synchronised (NTP discipline, as `timedatectl` reports): 1 yes, 0 no, -1 error.
static inline int clinux_clock_synchronised(void) {
    struct timex state = {0};
    int result = ntp_adjtime(&state);
    if (result < 0) return -1;
    return (result != TIME_ERROR && !(state.status & STA_UNSYNC)) ? 1 : 0;
}
#endif
