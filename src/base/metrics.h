/*
 * Lock-free counters and histograms rendered in the Prometheus text format.
 * Histograms have fixed bucket bounds chosen by the owner at init.
 */
#ifndef GR_BASE_METRICS_H
#define GR_BASE_METRICS_H

#include "base/buf.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_BUCKETS 16

typedef struct metrics_hist {
    const double *bounds; /* upper bounds, ascending; +Inf is implied */
    size_t nbounds;
    _Atomic uint64_t buckets[METRICS_MAX_BUCKETS + 1];
    _Atomic uint64_t count;
    _Atomic uint64_t sum_micros; /* sum of observations × 1e6, to stay integral */
} metrics_hist;

void metrics_hist_init(metrics_hist *h, const double *bounds, size_t nbounds);
void metrics_hist_observe(metrics_hist *h, double value);
/* Appends name_bucket{labels,le=..}, name_sum and name_count lines; labels may be "". */
void metrics_hist_render(const metrics_hist *h, const char *name, const char *labels, buf *out);

#endif
