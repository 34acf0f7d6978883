#ifndef VIGIE_CALSA_SHIM_H
#define VIGIE_CALSA_SHIM_H
// alsa-lib 1.2 (Debian 12: libasound2-dev). Playback and the simple mixer only: Vigie never opens a capture PCM.
#include <alsa/asoundlib.h>

// alsa-lib prints its errors to standard error from a variadic handler Swift cannot write; Vigie reports each
// failure itself (AudioError, with snd_strerror's words), once, in its own log.
static inline void calsa_ignore_error(const char *file, int line, const char *function, int err, const char *fmt,
                                      ...) {
    (void)file;
    (void)line;
    (void)function;
    (void)err;
    (void)fmt;
}

static inline void calsa_silence_errors(void) { snd_lib_error_set_handler(calsa_ignore_error); }
#endif
