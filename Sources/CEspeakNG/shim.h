#ifndef VIGIE_CESPEAKNG_SHIM_H
#define VIGIE_CESPEAKNG_SHIM_H
// espeak-ng 1.51 (Debian 12: libespeak-ng-dev; its voices in espeak-ng-data). Used in synchronous mode only,
// samples handed back through the synth callback: espeak-ng never opens a sound device or a sound server.
#include <espeak-ng/speak_lib.h>
#endif
