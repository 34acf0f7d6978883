#ifndef VIGIE_CALSA_SHIM_H
#define VIGIE_CALSA_SHIM_H
// alsa-lib 1.2 (Debian 12: libasound2-dev). Playback and the simple mixer only: Vigie never opens a capture PCM.
#include <alsa/asoundlib.h>
#endif
