#ifndef VIGIE_CLINUX_SHIM_H
#define VIGIE_CLINUX_SHIM_H
// Linux calls of the C library that Swift cannot import as they are (variadic).
#include <sys/prctl.h>

// The process can no longer dump core, nor be attached to by a debugger of the same user: its memory holds
// frames before masking. Returns 0, or -1 with errno.
static inline int clinux_forbid_core_dumps(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }
#endif
