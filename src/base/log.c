#include "base/log.h"
#include "base/timeutil.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
    min_level = level;
}

enum log_level log_get_level(void)
{
    return min_level;
}

void log_obj(enum log_level level, const char *event, json_t *obj)
{
    char ts[40];
    json_t *line;
    char *text;

    if (level < min_level || level >= LOG_OFF) {
        json_decref(obj);
        return;
    }
    time_format_iso(time_now_ms(), ts, sizeof(ts));
    line = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level_names[level], "event", event);
    if (obj) {
        json_object_update_missing(line, obj);
        json_decref(obj);
    }
    text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!text)
        return;
    /* One write per line under a lock so lines from threads never interleave. */
    pthread_mutex_lock(&log_lock);
    fputs(text, stderr);
    fputc('\n', stderr);
    pthread_mutex_unlock(&log_lock);
    free(text);
}

void log_fields(enum log_level level, const char *event, const char *fields)
{
    char line[1024], ts[40];
    int n;

    if (level < min_level || level >= LOG_OFF)
        return;
    time_format_iso(time_now_ms(), ts, sizeof(ts));
    n = snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"%s\",%s}\n", ts,
                 level_names[level], event, fields);
    if (n <= 0 || (size_t)n >= sizeof(line))
        return;
    if (write(2, line, (size_t)n) < 0)
        return; /* nowhere left to report it */
}

void log_msg(enum log_level level, const char *event, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (level < min_level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_obj(level, event, json_pack("{s:s}", "msg", buf));
}
