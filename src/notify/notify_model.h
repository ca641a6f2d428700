/*
 * The notification model, private to src/notify (and its tests): webhooks,
 * the outbox and in-app notices in SQL, the checks on what admins configure,
 * and the pieces of a delivery (signature, backoff). Other modules use
 * notify.h only.
 *
 * Strings in the structs below belong to the arena given to the call that
 * filled them.
 */
#ifndef GR_NOTIFY_NOTIFY_MODEL_H
#define GR_NOTIFY_NOTIFY_MODEL_H

#include "notify/notify.h"

#include <stdint.h>

enum {
    NOTIFY_URL_MAX = 2048,   /* characters of a webhook URL */
    NOTIFY_SECRET_MIN = 16,  /* characters of a webhook secret */
    NOTIFY_SECRET_MAX = 256, /* its bytes as the HMAC key */
    NOTIFY_TYPES_MAX = 32,   /* event types one webhook subscribes to */
    NOTIFY_TYPE_MAX = 64,    /* characters of an event type */
    NOTIFY_PAYLOAD_MAX = 65536,
    NOTIFY_KIND_MAX = 64,
    NOTIFY_TEXT_MAX = 2000, /* characters of a notice */
    NOTIFY_BATCH = 50,      /* outbox rows one poll of the delivery thread takes */
};

/* The event type the test route sends, whatever a webhook subscribes to. */
#define NOTIFY_TEST_EVENT "webhook.test"
/* Additional data binding a sealed secret to its column. */
#define NOTIFY_SECRET_AD "webhooks.secret"

/* ---- checks ---- */

/* An absolute http:// or https:// URL with a host and no user name or
 * password (field "url"). */
int notify_url_check(const char *url, gr_err *err);
/* An event type as modules raise it: dot-separated words of [a-z0-9_-]. */
int notify_type_check(const char *type, const char *field, gr_err *err);
/* 1 when the space-separated subscription types covers type: an exact name,
 * "*", or a prefix "case.*" (which covers "case.created", not "case"). */
int notify_type_matches(const char *types, const char *type);

/* ---- webhooks ---- */

typedef struct notify_webhook {
    int64_t id;
    const char *url;
    const char *event_types; /* space-separated */
    int active;
    int64_t created_by; /* 0 when the account is gone */
    int64_t created_at, updated_at, version;
} notify_webhook;

typedef struct notify_webhook_input {
    const char *url;
    const char *const *types; /* ntypes subscription types */
    size_t ntypes;
    const char *secret; /* NULL: generate one */
    int active;
    int64_t created_by;
} notify_webhook_input;

/* Creates a webhook; secret receives the secret (given or generated), to be
 * answered once and then wiped by the caller. */
int notify_webhook_create(gr_ctx *ctx, const notify_webhook_input *in,
                          char secret[NOTIFY_SECRET_MAX + 1], int64_t *id, gr_err *err);
int notify_webhook_get(db_conn *c, arena *a, int64_t id, notify_webhook *out, gr_err *err);
/* Webhooks by id, ascending from after; *more when another page follows. */
int notify_webhook_list(db_conn *c, arena *a, int64_t after, int64_t limit, notify_webhook **out,
                        size_t *n, int *more, gr_err *err);

typedef struct notify_webhook_patch {
    const char *url;          /* NULL: unchanged */
    const char *const *types; /* NULL: unchanged */
    size_t ntypes;
    const char *secret; /* NULL: unchanged */
    int set_active, active;
    int64_t version; /* must be the current version */
} notify_webhook_patch;

int notify_webhook_update(gr_ctx *ctx, int64_t id, const notify_webhook_patch *p, gr_err *err);
/* Deletes a webhook and its outbox rows. */
int notify_webhook_delete(gr_ctx *ctx, int64_t id, gr_err *err);
/* Queues a NOTIFY_TEST_EVENT for one active webhook; *delivery is its outbox row. */
int notify_webhook_test(gr_ctx *ctx, int64_t id, int64_t *delivery, gr_err *err);

/* ---- deliveries (outbox rows) ---- */

typedef struct notify_delivery {
    int64_t id, webhook_id;
    const char *event_id, *event_type, *subject; /* subject may be NULL */
    int64_t subject_id;                          /* 0: none */
    const char *idempotency_key;
    int64_t attempts;
    int64_t next_attempt_at, delivered_at, dead_at; /* 0: not (yet) */
    int64_t last_status;                            /* HTTP status of the last attempt; 0: none */
    const char *last_error;                         /* NULL when none */
    int64_t created_at;
} notify_delivery;

/* "pending" (never tried), "retrying", "delivered" or "dead". */
const char *notify_delivery_status(const notify_delivery *d);
int notify_delivery_get(db_conn *c, arena *a, int64_t id, notify_delivery *out, gr_err *err);
/* A webhook's deliveries, newest first, those with id < before (0: from the
 * newest); status NULL or one of "pending" (not yet delivered nor dead, with
 * retrying ones), "delivered", "dead". */
int notify_delivery_list(db_conn *c, arena *a, int64_t webhook_id, const char *status,
                         int64_t before, int64_t limit, notify_delivery **out, size_t *n, int *more,
                         gr_err *err);

/* ---- notices ---- */

typedef struct notify_notice_info {
    int64_t id, user_id;
    const char *kind, *text, *subject; /* subject may be NULL */
    int64_t subject_id;                /* 0: none */
    int64_t read_at;                   /* 0: unread */
    int64_t created_at;
} notify_notice_info;

/* One notice of user_id: GR_ENOTFOUND (field "id") for anyone else's. */
int notify_notice_get(db_conn *c, arena *a, int64_t user_id, int64_t id, notify_notice_info *out,
                      gr_err *err);
/* user_id's notices, newest first, those with id < before (0: from the newest). */
int notify_notice_list(db_conn *c, arena *a, int64_t user_id, int unread_only, int64_t before,
                       int64_t limit, notify_notice_info **out, size_t *n, int *more, gr_err *err);
/* Marks one of user_id's notices read (again is fine); GR_ENOTFOUND otherwise. */
int notify_notice_mark_read(gr_ctx *ctx, int64_t user_id, int64_t id, gr_err *err);

/* ---- delivery pieces ---- */

/* "sha256=" and the hex HMAC-SHA256 of body keyed with the secret's bytes. */
#define NOTIFY_SIGNATURE_LEN (7 + 64 + 1)
void notify_sign(const char *secret, const void *body, size_t len, char out[NOTIFY_SIGNATURE_LEN]);

/* The wait after the attempts-th failed attempt (1, 2, ...): base × 2^(attempts-1),
 * at most NOTIFY_BACKOFF_CAP_MS, less a jitter of up to a quarter that rnd
 * (uniform over uint32) picks, so retries of many rows spread out. */
#define NOTIFY_BACKOFF_CAP_MS (3600 * 1000)
int64_t notify_backoff_ms(int64_t base_ms, int64_t attempts, uint32_t rnd);

typedef struct notify_config {
    int64_t backoff_ms; /* GR_NOTIFY_BACKOFF_MS, default 10000 */
    int max_attempts;   /* GR_NOTIFY_MAX_ATTEMPTS, default 12: then a delivery is dead */
    int keep_days;      /* GR_NOTIFY_KEEP_DAYS, default 30: delivered rows are purged after */
} notify_config;

/* The configuration from the environment; GR_EINVAL naming the variable. */
int notify_config_load(notify_config *cfg, gr_err *err);

/* Wakes the delivery thread (notify_event calls it). */
void notify_kick(void);

#endif
