/*
 * Notifications: a durable outbox written in the same transaction as the
 * change it reports, delivered at least once to webhooks (HMAC-SHA256
 * signed, retried with backoff, with an idempotency key) and to in-app
 * notices for staff and residents. SMS and e-mail go through a pluggable
 * sender whose default only logs (ids, never phone numbers or addresses).
 */
#ifndef GR_NOTIFY_NOTIFY_H
#define GR_NOTIFY_NOTIFY_H

#include "http/http.h"

int notify_ctx_open(gr_ctx *ctx, gr_err *err);
void notify_ctx_close(gr_ctx *ctx);
/* The delivery thread (serve only). notify_stop finishes the delivery in flight. */
int notify_start(gr_ctx *ctx, gr_err *err);
void notify_stop(gr_ctx *ctx);
void notify_api_register(http_router *r);

/* Inside a db_write function: records an event for every webhook subscribed
 * to its type (e.g. "case.dispatched"); payload is copied (not stolen) and
 * must hold no personal data. */
int notify_event(db_conn *c, const char *type, const char *subject, int64_t subject_id,
                 json_t *payload, gr_err *err);
/* Inside a db_write function: an in-app notice for one user. */
int notify_notice(db_conn *c, int64_t user_id, const char *kind, const char *text,
                  const char *subject, int64_t subject_id, gr_err *err);

/* The pluggable sender for SMS / e-mail; the default logs the message id only. */
typedef int (*notify_sender)(const char *channel, const char *to, const char *text, void *arg);
/* fn NULL: back to the default. */
void notify_set_sender(notify_sender fn, void *arg);
/* Sends through the current sender: channel "sms" or "email". Not durable and
 * possibly slow: call it after the write it reports, never inside one. */
int notify_send(const char *channel, const char *to, const char *text, gr_err *err);

#endif
