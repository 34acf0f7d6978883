#ifndef VIGIE_CGPIOD_SHIM_H
#define VIGIE_CGPIOD_SHIM_H
// libgpiod 1.6 (Debian 12: libgpiod-dev). Lines are requested one by one (each has its own flags); edges come
// with the kernel's CLOCK_MONOTONIC timestamps.
#include <gpiod.h>
#include <stdlib.h>
#include <time.h>

// libgpiod 2.x replaced the whole API (line requests, settings, edge buffers) and dropped the line bulk this
// adapter waits on; its gpiod.h has no GPIOD_LINE_BULK_MAX_LINES. Refuse to build rather than fail on symbols.
#ifndef GPIOD_LINE_BULK_MAX_LINES
#error "Vigie needs libgpiod 1.x (Debian 12's libgpiod-dev 1.6); this gpiod.h is libgpiod 2.x, whose API differs"
#endif

// The line bulk is a fixed array of 64 pointers that Swift sees as a tuple; these keep it on the C side.
// A bulk on the heap, empty; NULL when out of memory. Free with free().
static inline struct gpiod_line_bulk *cgpiod_bulk_new(void) {
    struct gpiod_line_bulk *bulk = calloc(1, sizeof(struct gpiod_line_bulk));
    return bulk;
}

// Adds a line; returns -1 (and adds nothing) when the bulk is full.
static inline int cgpiod_bulk_add(struct gpiod_line_bulk *bulk, struct gpiod_line *line) {
    if (bulk->num_lines >= GPIOD_LINE_BULK_MAX_LINES) return -1;
    gpiod_line_bulk_add(bulk, line);
    return 0;
}

static inline unsigned cgpiod_bulk_count(struct gpiod_line_bulk *bulk) { return bulk->num_lines; }

static inline struct gpiod_line *cgpiod_bulk_line(struct gpiod_line_bulk *bulk, unsigned index) {
    return bulk->lines[index];
}

static inline void cgpiod_bulk_clear(struct gpiod_line_bulk *bulk) { gpiod_line_bulk_init(bulk); }

// The flags of gpiod_line_request_config (an anonymous enum of GPIOD_BIT values Swift does not import as
// constants of one type).
static const int cgpiod_flag_active_low = GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW;
static const int cgpiod_flag_bias_disable = GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
static const int cgpiod_flag_bias_pull_down = GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
static const int cgpiod_flag_bias_pull_up = GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
static const int cgpiod_request_both_edges = GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES;
static const int cgpiod_request_output = GPIOD_LINE_REQUEST_DIRECTION_OUTPUT;
static const int cgpiod_event_rising = GPIOD_LINE_EVENT_RISING_EDGE;
#endif
