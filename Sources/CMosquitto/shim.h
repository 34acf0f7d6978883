#ifndef VIGIE_CMOSQUITTO_SHIM_H
#define VIGIE_CMOSQUITTO_SHIM_H
// libmosquitto 2.0 (Debian 12: libmosquitto-dev).
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
