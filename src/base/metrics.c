#include "base/metrics.h"

void metrics_hist_init(metrics_hist *h, const double *bounds, size_t nbounds)
{
    size_t i;

    h->bounds = bounds;
    h->nbounds = nbounds > METRICS_MAX_BUCKETS ? METRICS_MAX_BUCKETS : nbounds;
    for (i = 0; i <= METRICS_MAX_BUCKETS; i++)
        atomic_store(&h->buckets[i], 0);
    atomic_store(&h->count, 0);
    atomic_store(&h->sum_micros, 0);
}

void metrics_hist_observe(metrics_hist *h, double value)
{
    size_t i = 0;

    while (i < h->nbounds && value > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    if (value > 0)
        atomic_fetch_add_explicit(&h->sum_micros, (uint64_t)(value * 1e6), memory_order_relaxed);
}

void metrics_hist_render(const metrics_hist *h, const char *name, const char *labels, buf *out)
{
    const char *sep = labels[0] ? "," : "";
    uint64_t cum = 0;
    size_t i;

    for (i = 0; i < h->nbounds; i++) {
        cum += atomic_load(&h->buckets[i]);
        buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, h->bounds[i],
                   (unsigned long long)cum);
    }
    cum += atomic_load(&h->buckets[h->nbounds]);
    buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
               (unsigned long long)cum);
    buf_printf(out, "%s_sum{%s} %.6f\n", name, labels, (double)atomic_load(&h->sum_micros) / 1e6);
    buf_printf(out, "%s_count{%s} %llu\n", name, labels,
               (unsigned long long)atomic_load(&h->count));
}
