#ifndef VIGIE_CTURBOJPEG_SHIM_H
#define VIGIE_CTURBOJPEG_SHIM_H
// libjpeg-turbo's TurboJPEG 2.x API, as shipped by Debian 12 (libturbojpeg0-dev).
#include <turbojpeg.h>
#endif
