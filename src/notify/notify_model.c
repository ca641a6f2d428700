/*
 * Notifications in SQL: the outbox rows an event makes (inside the caller's
 * write, so they commit or roll back with the change they report), in-app
 * notices, the webhooks admins configure, and the small pure pieces of a
 * delivery (signature, backoff, configuration).
 *
 * Writes go through the group-commit writer; whatever is slow (sealing a
 * secret, parsing a URL) happens before the write function runs.
 */
#include "notify/notify_model.h"

#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

static int64_t col_int0(db_stmt *st, int i)
{
    return db_col_is_null(st, i) ? 0 : db_col_int(st, i);
}

/* Steps st for one row: read into out, or GR_ENOTFOUND naming "id". */
static int row_one(db_stmt *st, arena *a, db_row_reader read, void *out, const char *what,
                   int64_t id, gr_err *err)
{
    int rc = db_read_one(st, a, read, out, err);

    if (rc == GR_ENOTFOUND)
        rc = err_set(err, GR_ENOTFOUND, "id", "no %s with id %" PRId64, what, id);
    return rc;
}

/* A new event id: 128 random bits, so that ids from several nodes never meet. */
static void event_id_new(char out[40])
{
    unsigned char raw[16];
    char hex[33];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
    snprintf(out, 40, "evt-%s", hex);
}

/* ---- checks ---- */

int notify_url_check(const char *url, gr_err *err)
{
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL, *part = NULL;
    int rc = 0;

    if (!url || !*url)
        return err_set(err, GR_EINVAL, "url", "is required");
    if (strlen(url) > NOTIFY_URL_MAX)
        return err_set(err, GR_EINVAL, "url", "must be at most %d characters long", NOTIFY_URL_MAX);
    u = curl_url();
    if (!u)
        return err_set(err, GR_EINTERNAL, "", "out of memory");
    /* libcurl's own parser: the URL is judged exactly as it will be fetched. */
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        rc = err_set(err, GR_EINVAL, "url", "must be an absolute http:// or https:// URL");
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        rc = err_set(err, GR_EINVAL, "url", "must use http or https, not %.16s", scheme);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        rc = err_set(err, GR_EINVAL, "url", "must name a host");
        goto out;
    }
    /* Credentials in a URL end up in logs and configs; the signature is the
     * way a receiver knows the sender. */
    if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_OPTIONS, &part, 0) == CURLUE_OK)
        rc = err_set(err, GR_EINVAL, "url", "must not carry a user name or password");
out:
    curl_free(part);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

/* n bytes of s are dot-separated words of [a-z0-9_-]. */
static int type_words(const char *s, size_t n)
{
    int after_dot = 1;
    size_t i;

    for (i = 0; i < n; i++) {
        char ch = s[i];

        if (ch == '.') {
            if (after_dot)
                return 0;
            after_dot = 1;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-') {
            after_dot = 0;
        } else {
            return 0;
        }
    }
    return n > 0 && !after_dot;
}

int notify_type_check(const char *type, const char *field, gr_err *err)
{
    if (!type || !*type)
        return err_set(err, GR_EINVAL, field, "is required");
    if (strlen(type) > NOTIFY_TYPE_MAX)
        return err_set(err, GR_EINVAL, field, "must be at most %d characters long",
                       NOTIFY_TYPE_MAX);
    if (!type_words(type, strlen(type)))
        return err_set(err, GR_EINVAL, field,
                       "must be dot-separated words of a-z, 0-9, _ and - (as in case.created)");
    return 0;
}

/* A subscription: a type, a prefix ending in ".*", or "*". */
static int subscription_check(const char *s, gr_err *err)
{
    size_t n = s ? strlen(s) : 0, words = n;

    if (n == 1 && s[0] == '*')
        return 0;
    if (n > 2 && s[n - 1] == '*' && s[n - 2] == '.')
        words = n - 2;
    if (n > NOTIFY_TYPE_MAX || !type_words(s, words))
        return err_set(err, GR_EINVAL, "event_types",
                       "'%.64s' is not an event type (case.created), a prefix (case.*) or *",
                       s ? s : "");
    return 0;
}

int notify_type_matches(const char *types, const char *type)
{
    size_t tlen = strlen(type), n;
    const char *p = types, *q;

    while (p && *p) {
        while (*p == ' ')
            p++;
        for (q = p; *q && *q != ' '; q++)
            ;
        n = (size_t)(q - p);
        if (n == 1 && p[0] == '*')
            return 1;
        if (n > 2 && p[n - 1] == '*' && p[n - 2] == '.') {
            if (tlen > n - 1 && memcmp(type, p, n - 1) == 0)
                return 1;
        } else if (n && n == tlen && memcmp(type, p, n) == 0) {
            return 1;
        }
        p = q;
    }
    return 0;
}

/* Checks the subscriptions and joins them with spaces (malloc'ed into *out). */
static int types_join(const char *const *types, size_t n, char **out, gr_err *err)
{
    size_t i, len = 0;
    char *s;
    int rc;

    *out = NULL;
    if (n < 1 || n > NOTIFY_TYPES_MAX)
        return err_set(err, GR_EINVAL, "event_types", "must list 1 to %d event types",
                       NOTIFY_TYPES_MAX);
    for (i = 0; i < n; i++) {
        rc = subscription_check(types[i], err);
        if (rc)
            return rc;
        len += strlen(types[i]) + 1;
    }
    s = malloc(len);
    if (!s)
        abort();
    s[0] = '\0';
    for (i = 0; i < n; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, types[i]);
    }
    *out = s;
    return 0;
}

/* The secret given (visible ASCII, NOTIFY_SECRET_MIN..MAX characters) or a new
 * one, copied into out and sealed into sealed (cap bytes). */
static int secret_make(gr_ctx *ctx, const char *given, char out[NOTIFY_SECRET_MAX + 1],
                       unsigned char *sealed, size_t cap, size_t *sealed_len, gr_err *err)
{
    unsigned char raw[CRYPTO_TOKEN_BYTES];
    char text[CRYPTO_TOKEN_TEXT];
    size_t i, n;

    if (given) {
        n = strlen(given);
        if (n < NOTIFY_SECRET_MIN || n > NOTIFY_SECRET_MAX)
            return err_set(err, GR_EINVAL, "secret", "must be %d to %d characters long",
                           NOTIFY_SECRET_MIN, NOTIFY_SECRET_MAX);
        for (i = 0; i < n; i++)
            if (given[i] < 0x21 || given[i] > 0x7e)
                return err_set(err, GR_EINVAL, "secret",
                               "must be visible ASCII characters without spaces");
        memcpy(out, given, n + 1);
    } else {
        crypto_token_new(raw, text);
        snprintf(out, NOTIFY_SECRET_MAX + 1, "whsec_%s", text);
        sodium_memzero(raw, sizeof(raw));
        sodium_memzero(text, sizeof(text));
    }
    return crypto_seal(ctx->field_key, out, strlen(out), NOTIFY_SECRET_AD, sealed, cap, sealed_len,
                       err);
}

/* ---- events and notices (inside the caller's write) ---- */

static int outbox_insert(db_conn *c, int64_t webhook_id, const char *event_id, const char *type,
                         const char *subject, int64_t subject_id, const char *payload, int64_t *id,
                         gr_err *err)
{
    int64_t now = time_now_ms();
    char key[80];
    db_stmt *st;
    int rc;

    /* The same key on every retry: receivers dedupe on it. */
    snprintf(key, sizeof(key), "%s-%" PRId64, event_id, webhook_id);
    st = db_prepare(c,
                    "INSERT INTO outbox(webhook_id, event_id, event_type, subject, subject_id, "
                    "payload, idempotency_key, attempts, next_attempt_at, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, webhook_id);
    db_bind_text(st, 2, event_id);
    db_bind_text(st, 3, type);
    db_bind_text(st, 4, subject);
    db_bind_int_or_null(st, 5, subject_id);
    db_bind_text(st, 6, payload);
    db_bind_text(st, 7, key);
    db_bind_int(st, 8, now);
    db_bind_int(st, 9, now);
    rc = db_run(st, err);
    db_done(st);
    if (!rc && id)
        *id = db_last_id(c);
    return rc;
}

static int subject_check(const char *subject, gr_err *err)
{
    if (subject && (!*subject || strlen(subject) > NOTIFY_TYPE_MAX))
        return err_set(err, GR_EINVAL, "subject", "must be 1 to %d characters long",
                       NOTIFY_TYPE_MAX);
    return 0;
}

int notify_event(db_conn *c, const char *type, const char *subject, int64_t subject_id,
                 json_t *payload, gr_err *err)
{
    int64_t *hooks = NULL;
    size_t n = 0, cap = 0, i;
    char *text = NULL, event_id[40];
    db_stmt *st = NULL;
    int rc;

    rc = notify_type_check(type, "type", err);
    if (!rc)
        rc = subject_check(subject, err);
    if (!rc && payload && !json_is_object(payload))
        rc = err_set(err, GR_EINVAL, "payload", "must be a JSON object");
    if (rc)
        goto out;
    text = payload ? json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER) : strdup("{}");
    if (!text) {
        rc = err_set(err, GR_EINTERNAL, "payload", "cannot encode the payload");
        goto out;
    }
    if (strlen(text) > NOTIFY_PAYLOAD_MAX) {
        rc = err_set(err, GR_EINVAL, "payload", "must be at most %d bytes as JSON",
                     NOTIFY_PAYLOAD_MAX);
        goto out;
    }
    /* Webhooks are few (admins configure them): matching in C keeps the
     * subscription syntax in one place. */
    st = db_prepare(c, "SELECT id, event_types FROM webhooks WHERE active = 1 ORDER BY id", err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    while ((rc = db_step(st, err)) == DB_ROW) {
        if (!notify_type_matches(db_col_text(st, 1), type))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            hooks = realloc(hooks, cap * sizeof(*hooks));
            if (!hooks)
                abort();
        }
        hooks[n++] = db_col_int(st, 0);
    }
    db_done(st);
    st = NULL;
    if (rc < 0)
        goto out;
    rc = 0;
    event_id_new(event_id);
    for (i = 0; i < n && !rc; i++)
        rc = outbox_insert(c, hooks[i], event_id, type, subject, subject_id, text, NULL, err);
    /* The worker may wake before this write commits; it then finds nothing
     * yet and looks again shortly (see notify_deliver.c). */
    if (!rc && n)
        notify_kick();
out:
    db_done(st);
    free(hooks);
    free(text);
    return rc;
}

int notify_notice(db_conn *c, int64_t user_id, const char *kind, const char *text,
                  const char *subject, int64_t subject_id, gr_err *err)
{
    db_stmt *st;
    int rc;

    if (user_id <= 0)
        return err_set(err, GR_EINVAL, "user_id", "must name a user");
    rc = notify_type_check(kind, "kind", err);
    if (!rc && (!text || !*text || jv_utf8_len(text) > NOTIFY_TEXT_MAX))
        rc = err_set(err, GR_EINVAL, "text", "must be 1 to %d characters long", NOTIFY_TEXT_MAX);
    if (!rc)
        rc = subject_check(subject, err);
    if (rc)
        return rc;
    st = db_prepare(c,
                    "INSERT INTO notices(user_id, kind, text, subject, subject_id, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, user_id);
    db_bind_text(st, 2, kind);
    db_bind_text(st, 3, text);
    db_bind_text(st, 4, subject);
    db_bind_int_or_null(st, 5, subject_id);
    db_bind_int(st, 6, time_now_ms());
    rc = db_run(st, err);
    db_done(st);
    if (rc == GR_ECONFLICT)
        rc = err_set(err, GR_EINVAL, "user_id", "no user with id %" PRId64, user_id);
    return rc;
}

/* ---- webhooks ---- */

#define HOOK_COLS                                                                                  \
    "id, url, event_types, active, created_by, created_at, updated_at, version FROM webhooks"

static void hook_read(db_stmt *st, arena *a, void *out)
{
    notify_webhook *w = out;

    w->id = db_col_int(st, 0);
    w->url = db_col_textdup(st, 1, a);
    w->event_types = db_col_textdup(st, 2, a);
    w->active = (int)db_col_int(st, 3);
    w->created_by = col_int0(st, 4);
    w->created_at = db_col_int(st, 5);
    w->updated_at = db_col_int(st, 6);
    w->version = db_col_int(st, 7);
}

int notify_webhook_get(db_conn *c, arena *a, int64_t id, notify_webhook *out, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT " HOOK_COLS " WHERE id = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = row_one(st, a, hook_read, out, "webhook", id, err);
    db_done(st);
    return rc;
}

int notify_webhook_list(db_conn *c, arena *a, int64_t after, int64_t limit, notify_webhook **out,
                        size_t *n, int *more, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT " HOOK_COLS " WHERE id > ? ORDER BY id LIMIT ?", err);
    void *v = NULL;
    int rc;

    *n = 0;
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, after);
    db_bind_int(st, 2, limit + 1);
    rc = db_read_page(st, a, limit, sizeof(notify_webhook), hook_read, &v, n, more, err);
    db_done(st);
    *out = v;
    return rc;
}

enum { SEALED_MAX = NOTIFY_SECRET_MAX + CRYPTO_SEAL_OVERHEAD };

struct hook_write {
    int64_t id;
    const char *url;
    char *types; /* NULL: unchanged (update) */
    unsigned char sealed[SEALED_MAX];
    size_t sealed_len; /* 0: unchanged (update) */
    int set_active, active;
    int64_t created_by, version;
};

static int hook_insert(db_conn *c, void *arg, gr_err *err)
{
    struct hook_write *w = arg;
    int64_t now = time_now_ms();
    db_stmt *st;
    int rc;

    st = db_prepare(c,
                    "INSERT INTO webhooks(url, secret_enc, event_types, active, created_by, "
                    "created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, w->url);
    db_bind_blob(st, 2, w->sealed, w->sealed_len);
    db_bind_text(st, 3, w->types);
    db_bind_int(st, 4, w->active);
    db_bind_int_or_null(st, 5, w->created_by);
    db_bind_int(st, 6, now);
    db_bind_int(st, 7, now);
    rc = db_run(st, err);
    db_done(st);
    if (!rc)
        w->id = db_last_id(c);
    return rc;
}

int notify_webhook_create(gr_ctx *ctx, const notify_webhook_input *in,
                          char secret[NOTIFY_SECRET_MAX + 1], int64_t *id, gr_err *err)
{
    struct hook_write *w = calloc(1, sizeof(*w));
    int rc;

    if (!w)
        abort();
    secret[0] = '\0';
    rc = notify_url_check(in->url, err);
    if (!rc)
        rc = types_join(in->types, in->ntypes, &w->types, err);
    if (!rc)
        rc =
            secret_make(ctx, in->secret, secret, w->sealed, sizeof(w->sealed), &w->sealed_len, err);
    if (rc)
        goto out;
    w->url = in->url;
    w->active = in->active ? 1 : 0;
    w->created_by = in->created_by;
    rc = db_write(ctx->db, hook_insert, w, err);
    if (rc)
        goto out;
    if (id)
        *id = w->id;
    log_obj(LOG_INFO, "notify.webhook_created",
            json_pack("{s:I, s:I}", "webhook_id", (json_int_t)w->id, "user_id",
                      (json_int_t)in->created_by));
out:
    if (rc)
        sodium_memzero(secret, NOTIFY_SECRET_MAX + 1);
    free(w->types);
    free(w);
    return rc;
}

/* The answer for an update or delete that changed no row: gone, or stale. */
static int hook_missed(db_conn *c, int64_t id, gr_err *err)
{
    int64_t have = 0;
    int rc = db_query_int(c, "SELECT version FROM webhooks WHERE id = ?", id, 0, &have, err);

    if (rc)
        return rc;
    if (!have)
        return err_set(err, GR_ENOTFOUND, "id", "no webhook with id %" PRId64, id);
    return err_set(err, GR_ECONFLICT, "version",
                   "is stale: the webhook was changed meanwhile (now version %" PRId64 ")", have);
}

static int hook_update(db_conn *c, void *arg, gr_err *err)
{
    struct hook_write *w = arg;
    db_stmt *st;
    int rc;

    st = db_prepare(c,
                    "UPDATE webhooks SET url = coalesce(?1, url), event_types = coalesce(?2, "
                    "event_types), secret_enc = coalesce(?3, secret_enc), active = CASE WHEN ?4 "
                    "THEN ?5 ELSE active END, updated_at = ?6, version = version + 1 "
                    "WHERE id = ?7 AND version = ?8",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, w->url);
    db_bind_text(st, 2, w->types);
    if (w->sealed_len)
        db_bind_blob(st, 3, w->sealed, w->sealed_len);
    else
        db_bind_null(st, 3);
    db_bind_int(st, 4, w->set_active);
    db_bind_int(st, 5, w->active);
    db_bind_int(st, 6, time_now_ms());
    db_bind_int(st, 7, w->id);
    db_bind_int(st, 8, w->version);
    rc = db_run(st, err);
    db_done(st);
    if (!rc && db_changes(c) == 0)
        rc = hook_missed(c, w->id, err);
    return rc;
}

int notify_webhook_update(gr_ctx *ctx, int64_t id, const notify_webhook_patch *p, gr_err *err)
{
    struct hook_write *w = calloc(1, sizeof(*w));
    char secret[NOTIFY_SECRET_MAX + 1];
    int rc = 0;

    if (!w)
        abort();
    secret[0] = '\0';
    if (p->url)
        rc = notify_url_check(p->url, err);
    if (!rc && p->types)
        rc = types_join(p->types, p->ntypes, &w->types, err);
    if (!rc && p->secret)
        rc = secret_make(ctx, p->secret, secret, w->sealed, sizeof(w->sealed), &w->sealed_len, err);
    if (rc)
        goto out;
    w->id = id;
    w->url = p->url;
    w->set_active = p->set_active;
    w->active = p->active ? 1 : 0;
    w->version = p->version;
    rc = db_write(ctx->db, hook_update, w, err);
    if (!rc)
        log_obj(LOG_INFO, "notify.webhook_updated",
                json_pack("{s:I, s:b}", "webhook_id", (json_int_t)id, "secret_changed",
                          p->secret != NULL));
out:
    sodium_memzero(secret, sizeof(secret));
    free(w->types);
    free(w);
    return rc;
}

static int hook_delete(db_conn *c, void *arg, gr_err *err)
{
    int64_t id = *(int64_t *)arg;
    db_stmt *st = db_prepare(c, "DELETE FROM webhooks WHERE id = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    /* Its outbox rows go with it (ON DELETE CASCADE): nobody is left to
     * deliver them to. */
    db_bind_int(st, 1, id);
    rc = db_run(st, err);
    db_done(st);
    if (!rc && db_changes(c) == 0)
        rc = err_set(err, GR_ENOTFOUND, "id", "no webhook with id %" PRId64, id);
    return rc;
}

int notify_webhook_delete(gr_ctx *ctx, int64_t id, gr_err *err)
{
    int rc = db_write(ctx->db, hook_delete, &id, err);

    if (!rc)
        log_obj(LOG_INFO, "notify.webhook_deleted",
                json_pack("{s:I}", "webhook_id", (json_int_t)id));
    return rc;
}

struct hook_test {
    int64_t id, delivery;
    char event_id[40];
};

static int hook_test_write(db_conn *c, void *arg, gr_err *err)
{
    struct hook_test *t = arg;
    int64_t active = -1;
    char payload[64];
    int rc;

    rc = db_query_int(c, "SELECT active FROM webhooks WHERE id = ?", t->id, -1, &active, err);
    if (!rc && active < 0)
        rc = err_set(err, GR_ENOTFOUND, "id", "no webhook with id %" PRId64, t->id);
    if (!rc && active == 0)
        rc = err_set(err, GR_ECONFLICT, "active", "the webhook is not active: activate it first");
    if (rc)
        return rc;
    snprintf(payload, sizeof(payload), "{\"webhook_id\":%" PRId64 "}", t->id);
    rc = outbox_insert(c, t->id, t->event_id, NOTIFY_TEST_EVENT, "webhook", t->id, payload,
                       &t->delivery, err);
    if (!rc)
        notify_kick();
    return rc;
}

int notify_webhook_test(gr_ctx *ctx, int64_t id, int64_t *delivery, gr_err *err)
{
    struct hook_test t = {id, 0, {0}};
    int rc;

    event_id_new(t.event_id);
    rc = db_write(ctx->db, hook_test_write, &t, err);
    if (!rc && delivery)
        *delivery = t.delivery;
    return rc;
}

/* ---- deliveries ---- */

#define DELIVERY_COLS                                                                              \
    "id, webhook_id, event_id, event_type, subject, subject_id, idempotency_key, attempts, "       \
    "next_attempt_at, delivered_at, dead_at, last_status, last_error, created_at FROM outbox"

static void delivery_read(db_stmt *st, arena *a, void *out)
{
    notify_delivery *d = out;

    d->id = db_col_int(st, 0);
    d->webhook_id = db_col_int(st, 1);
    d->event_id = db_col_textdup(st, 2, a);
    d->event_type = db_col_textdup(st, 3, a);
    d->subject = db_col_textdup(st, 4, a);
    d->subject_id = col_int0(st, 5);
    d->idempotency_key = db_col_textdup(st, 6, a);
    d->attempts = db_col_int(st, 7);
    d->next_attempt_at = db_col_int(st, 8);
    d->delivered_at = col_int0(st, 9);
    d->dead_at = col_int0(st, 10);
    d->last_status = col_int0(st, 11);
    d->last_error = db_col_textdup(st, 12, a);
    d->created_at = db_col_int(st, 13);
}

const char *notify_delivery_status(const notify_delivery *d)
{
    if (d->delivered_at)
        return "delivered";
    if (d->dead_at)
        return "dead";
    return d->attempts ? "retrying" : "pending";
}

int notify_delivery_get(db_conn *c, arena *a, int64_t id, notify_delivery *out, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT " DELIVERY_COLS " WHERE id = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = row_one(st, a, delivery_read, out, "delivery", id, err);
    db_done(st);
    return rc;
}

int notify_delivery_list(db_conn *c, arena *a, int64_t webhook_id, const char *status,
                         int64_t before, int64_t limit, notify_delivery **out, size_t *n, int *more,
                         gr_err *err)
{
    db_stmt *st;
    void *v = NULL;
    int rc;

    *n = 0;
    if (status && strcmp(status, "pending") != 0 && strcmp(status, "delivered") != 0 &&
        strcmp(status, "dead") != 0)
        return err_set(err, GR_EINVAL, "status", "must be pending, delivered or dead");
    st = db_prepare(c,
                    "SELECT " DELIVERY_COLS " WHERE webhook_id = ?1 AND (?2 = 0 OR id < ?2) "
                    "AND (?3 IS NULL OR (?3 = 'pending' AND delivered_at IS NULL AND dead_at IS "
                    "NULL) OR (?3 = 'delivered' AND delivered_at IS NOT NULL) OR (?3 = 'dead' "
                    "AND dead_at IS NOT NULL)) ORDER BY id DESC LIMIT ?4",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, webhook_id);
    db_bind_int(st, 2, before);
    db_bind_text(st, 3, status);
    db_bind_int(st, 4, limit + 1);
    rc = db_read_page(st, a, limit, sizeof(notify_delivery), delivery_read, &v, n, more, err);
    db_done(st);
    *out = v;
    return rc;
}

/* ---- notices ---- */

#define NOTICE_COLS "id, user_id, kind, text, subject, subject_id, read_at, created_at FROM notices"

static void notice_read(db_stmt *st, arena *a, void *out)
{
    notify_notice_info *x = out;

    x->id = db_col_int(st, 0);
    x->user_id = db_col_int(st, 1);
    x->kind = db_col_textdup(st, 2, a);
    x->text = db_col_textdup(st, 3, a);
    x->subject = db_col_textdup(st, 4, a);
    x->subject_id = col_int0(st, 5);
    x->read_at = col_int0(st, 6);
    x->created_at = db_col_int(st, 7);
}

int notify_notice_get(db_conn *c, arena *a, int64_t user_id, int64_t id, notify_notice_info *out,
                      gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT " NOTICE_COLS " WHERE id = ? AND user_id = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    db_bind_int(st, 2, user_id);
    /* Someone else's notice is answered as missing: its existence is theirs. */
    rc = row_one(st, a, notice_read, out, "notice", id, err);
    db_done(st);
    return rc;
}

int notify_notice_list(db_conn *c, arena *a, int64_t user_id, int unread_only, int64_t before,
                       int64_t limit, notify_notice_info **out, size_t *n, int *more, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT " NOTICE_COLS " WHERE user_id = ?1 AND (?2 = 0 OR id < ?2) "
                             "AND (?3 = 0 OR read_at IS NULL) ORDER BY id DESC LIMIT ?4",
                             err);
    void *v = NULL;
    int rc;

    *n = 0;
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, user_id);
    db_bind_int(st, 2, before);
    db_bind_int(st, 3, unread_only ? 1 : 0);
    db_bind_int(st, 4, limit + 1);
    rc = db_read_page(st, a, limit, sizeof(notify_notice_info), notice_read, &v, n, more, err);
    db_done(st);
    *out = v;
    return rc;
}

struct notice_mark {
    int64_t user_id, id;
};

static int notice_mark_write(db_conn *c, void *arg, gr_err *err)
{
    struct notice_mark *m = arg;
    db_stmt *st = db_prepare(c,
                             "UPDATE notices SET read_at = coalesce(read_at, ?) "
                             "WHERE id = ? AND user_id = ?",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, time_now_ms());
    db_bind_int(st, 2, m->id);
    db_bind_int(st, 3, m->user_id);
    rc = db_run(st, err);
    db_done(st);
    if (!rc && db_changes(c) == 0)
        rc = err_set(err, GR_ENOTFOUND, "id", "no notice with id %" PRId64, m->id);
    return rc;
}

int notify_notice_mark_read(gr_ctx *ctx, int64_t user_id, int64_t id, gr_err *err)
{
    struct notice_mark m = {user_id, id};

    return db_write(ctx->db, notice_mark_write, &m, err);
}

/* ---- delivery pieces ---- */

void notify_sign(const char *secret, const void *body, size_t len, char out[NOTIFY_SIGNATURE_LEN])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];

    /* The multi-part API takes a key of any length, as HMAC does. */
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, NOTIFY_SIGNATURE_LEN - 7, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
}

int64_t notify_backoff_ms(int64_t base_ms, int64_t attempts, uint32_t rnd)
{
    int64_t d = base_ms > 0 ? base_ms : 1, i;

    for (i = 1; i < attempts && d < NOTIFY_BACKOFF_CAP_MS; i++)
        d *= 2;
    if (d > NOTIFY_BACKOFF_CAP_MS)
        d = NOTIFY_BACKOFF_CAP_MS;
    return d - (int64_t)((uint64_t)(d / 4) * rnd / UINT32_MAX);
}

static int env_int(const char *name, int64_t min, int64_t max, int64_t def, int64_t *out,
                   gr_err *err)
{
    const char *v = getenv(name);
    char *end;
    long long x;

    *out = def;
    if (!v || !*v)
        return 0;
    errno = 0;
    x = strtoll(v, &end, 10);
    if (errno || *end || x < min || x > max)
        return err_set(err, GR_EINVAL, name, "must be an integer from %" PRId64 " to %" PRId64, min,
                       max);
    *out = x;
    return 0;
}

int notify_config_load(notify_config *cfg, gr_err *err)
{
    int64_t attempts = 0, days = 0;
    int rc;

    rc = env_int("GR_NOTIFY_BACKOFF_MS", 1, NOTIFY_BACKOFF_CAP_MS, 10000, &cfg->backoff_ms, err);
    if (!rc)
        rc = env_int("GR_NOTIFY_MAX_ATTEMPTS", 1, 100, 12, &attempts, err);
    if (!rc)
        rc = env_int("GR_NOTIFY_KEEP_DAYS", 1, 3650, 30, &days, err);
    cfg->max_attempts = (int)attempts;
    cfg->keep_days = (int)days;
    return rc;
}
