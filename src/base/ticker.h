/*
 * A background thread that calls one function every interval until it is
 * stopped: the deadline scheduler and the evaluation sync run on one each.
 * Stop wakes the thread at once and waits for the call in flight.
 */
#ifndef GR_BASE_TICKER_H
#define GR_BASE_TICKER_H

#include "base/err.h"

#include <stdint.h>

typedef struct ticker ticker;

/* Calls fn(arg) at once and then every interval_ms; *out is the running
 * ticker. name says which thread failed to start in err's message. */
int ticker_start(ticker **out, const char *name, int64_t interval_ms, void (*fn)(void *arg),
                 void *arg, gr_err *err);
/* Stops and frees t; NULL is allowed. */
void ticker_stop(ticker *t);

#endif
