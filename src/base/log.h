/*
 * Structured logging: one JSON object a line on stderr. Never log personal
 * data: callers pass ids and codes, not names, phone numbers or tokens.
 */
#ifndef GR_BASE_LOG_H
#define GR_BASE_LOG_H

#include <jansson.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Writes {"ts":..., "level":..., "event": event, "msg": <formatted>}. */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes {"ts", "level", "event"} merged with the fields of obj, which it steals. */
void log_obj(enum log_level level, const char *event, json_t *obj);

/* The hot path (one line per request): fields is a ready JSON fragment
 * ("\"k\":\"v\",\"n\":1") whose strings the caller has made safe. Written with one
 * write(2) and no lock: lines under PIPE_BUF never interleave. */
void log_fields(enum log_level level, const char *event, const char *fields);

#endif
