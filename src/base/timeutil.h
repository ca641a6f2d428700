/* Time: UTC epoch milliseconds everywhere inside; ISO 8601 at the edges. */
#ifndef GR_BASE_TIMEUTIL_H
#define GR_BASE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

int64_t time_now_ms(void);
/* Monotonic clock in nanoseconds, for durations. */
int64_t time_mono_ns(void);
/* "2026-11-27T06:24:04.123Z" */
void time_format_iso(int64_t ms, char *buf, size_t len);
/* Parses "YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm)" or "YYYY-MM-DD" (UTC midnight); 0 or GR_EINVAL. */
int time_parse_iso(const char *s, int64_t *out_ms);

#endif
