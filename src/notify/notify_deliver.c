/*
 * The delivery thread: reads due outbox rows on its own read connection,
 * POSTs each to its webhook with libcurl (signed, with the idempotency key),
 * and records every result through the group-commit writer. Network calls
 * never run inside a write function, and a write never waits on the network.
 *
 * Rows are claimed (next_attempt_at pushed past a lease) before they are
 * sent, so that several nodes on one database, or a restart in the middle of
 * a batch, deliver a row again only after its lease ran out: at least once,
 * rarely twice, never lost.
 *
 * The module state is process-wide (one delivery thread per process), since
 * notify_event, which wakes the thread, sees only a connection.
 */
#include "notify/notify_model.h"

#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    POLL_MS = 1000,        /* the longest sleep between looks at the outbox */
    RECHECK_MS = 25,       /* after a wake-up: the write may not have committed yet */
    RECHECK_FOR_MS = 1000, /* how long after a wake-up to look that often */
    MIN_WAIT_MS = 5,       /* never spin */
    CONNECT_TIMEOUT_MS = 5000,
    TOTAL_TIMEOUT_MS = 10000,
    LEASE_MS = 120000,        /* a claimed row is not picked up again before */
    LEASE_MARGIN_MS = 15000,  /* a delivery starts only while this much lease is left */
    PURGE_EVERY_MS = 3600000, /* how often delivered rows past keep_days are removed */
    PURGE_ROWS = 1000,        /* rows removed by one write */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int kicked; /* under mu */
    atomic_int stop;
    int running;
    pthread_t thread;
    gr_ctx *ctx;
    notify_config cfg;
    notify_sender sender; /* under mu; NULL: the default */
    void *sender_arg;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

void notify_kick(void)
{
    pthread_mutex_lock(&g.mu);
    g.kicked = 1;
    pthread_cond_signal(&g.cv);
    pthread_mutex_unlock(&g.mu);
}

/* ---- the pluggable sender for SMS and e-mail ---- */

static int sender_log(const char *channel, const char *to, const char *text, void *arg)
{
    unsigned char raw[8];
    char id[17];

    (void)to;
    (void)text;
    (void)arg;
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(id, sizeof(id), raw, sizeof(raw));
    /* Never the destination or the text: both are personal data. */
    log_obj(LOG_INFO, "notify.send", json_pack("{s:s, s:s}", "channel", channel, "message_id", id));
    return 0;
}

void notify_set_sender(notify_sender fn, void *arg)
{
    pthread_mutex_lock(&g.mu);
    g.sender = fn;
    g.sender_arg = fn ? arg : NULL;
    pthread_mutex_unlock(&g.mu);
}

int notify_send(const char *channel, const char *to, const char *text, gr_err *err)
{
    notify_sender fn;
    void *arg;
    int rc;

    if (!channel || (strcmp(channel, "sms") != 0 && strcmp(channel, "email") != 0))
        return err_set(err, GR_EINVAL, "channel", "must be sms or email");
    if (!to || !*to)
        return err_set(err, GR_EINVAL, "to", "is required");
    if (!text || !*text)
        return err_set(err, GR_EINVAL, "text", "is required");
    pthread_mutex_lock(&g.mu);
    fn = g.sender ? g.sender : sender_log;
    arg = g.sender_arg;
    pthread_mutex_unlock(&g.mu);
    rc = fn(channel, to, text, arg);
    if (rc)
        return err_set(err, GR_EUNAVAIL, "", "the %s sender failed", channel);
    return 0;
}

/* ---- one delivery ---- */

typedef struct due_row {
    int64_t id, webhook_id, subject_id, attempts, created_at, next_attempt_at, created_by;
    char *event_id, *event_type, *subject, *payload, *key, *url;
    unsigned char *sealed;
    size_t sealed_len;
} due_row;

static void due_free(due_row *d)
{
    free(d->event_id);
    free(d->event_type);
    free(d->subject);
    free(d->payload);
    free(d->key);
    free(d->url);
    free(d->sealed);
}

static char *dup_col(db_stmt *st, int i)
{
    const char *s = db_col_text(st, i);
    char *copy = s ? strdup(s) : NULL;

    if (s && !copy)
        abort();
    return copy;
}

/* The body receivers get: the same bytes on every attempt. */
static char *body_make(const due_row *d)
{
    char when[40];
    json_t *data = json_loads(d->payload, 0, NULL), *o;
    char *text;

    time_format_iso(d->created_at, when, sizeof(when));
    o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o}", "id", d->event_id, "type", d->event_type,
                  "subject", d->subject ? json_string(d->subject) : json_null(), "subject_id",
                  d->subject_id ? json_integer(d->subject_id) : json_null(), "occurred_at", when,
                  "data", data ? data : json_object());
    text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return text;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static struct curl_slist *header_add(struct curl_slist *h, const char *name, const char *value)
{
    char line[256];
    struct curl_slist *next;

    snprintf(line, sizeof(line), "%s: %s", name, value);
    next = curl_slist_append(h, line);
    if (!next)
        abort();
    return next;
}

typedef struct attempt {
    int ok;
    long status;     /* HTTP status, 0 when none came */
    char error[128]; /* a transport message, never a response body */
} attempt;

static void deliver_one(CURL *curl, const due_row *d, attempt *out)
{
    char secret[NOTIFY_SECRET_MAX + CRYPTO_SEAL_OVERHEAD + 1];
    char sig[NOTIFY_SIGNATURE_LEN], ts[24];
    struct curl_slist *h = NULL;
    size_t secret_len = 0;
    char *body = NULL;
    gr_err e = {0};
    CURLcode cc;

    memset(out, 0, sizeof(*out));
    if (crypto_open(g.ctx->field_key, d->sealed, d->sealed_len, NOTIFY_SECRET_AD,
                    (unsigned char *)secret, sizeof(secret), &secret_len, &e)) {
        snprintf(out->error, sizeof(out->error),
                 "cannot open the secret (were the keys replaced?)");
        goto out;
    }
    body = body_make(d);
    if (!body) {
        snprintf(out->error, sizeof(out->error), "cannot encode the event");
        goto out;
    }
    notify_sign(secret, body, strlen(body), sig);
    snprintf(ts, sizeof(ts), "%" PRId64, time_now_ms() / 1000);
    h = header_add(h, "Content-Type", "application/json");
    h = header_add(h, "X-Grassroots-Event", d->event_type);
    h = header_add(h, "X-Grassroots-Delivery", d->key);
    h = header_add(h, "X-Grassroots-Signature", sig);
    h = header_add(h, "X-Grassroots-Timestamp", ts);
    /* No "Expect: 100-continue" round trip before the body. */
    h = header_add(h, "Expect", "");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, d->url);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "Grassroots-Webhook/" GR_VERSION);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)TOTAL_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        /* curl's generic text: the URL and address stay out of the table. */
        snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    out->ok = out->status >= 200 && out->status < 300;
    if (!out->ok)
        snprintf(out->error, sizeof(out->error), "the receiver answered %ld", out->status);
out:
    curl_slist_free_all(h);
    free(body);
    sodium_memzero(secret, sizeof(secret));
}

/* ---- the outbox through the writer ---- */

struct claim {
    due_row *rows;
    size_t n;
    int64_t lease_until;
    int *claimed;
};

/* Takes the rows still due as seen (nobody else claimed them meanwhile). */
static int claim_write(db_conn *c, void *arg, gr_err *err)
{
    struct claim *cl = arg;
    db_stmt *st;
    size_t i;
    int rc = 0;

    st = db_prepare(c,
                    "UPDATE outbox SET next_attempt_at = ?1 WHERE id = ?2 AND next_attempt_at = ?3 "
                    "AND delivered_at IS NULL AND dead_at IS NULL",
                    err);
    if (!st)
        return GR_EINTERNAL;
    for (i = 0; i < cl->n && !rc; i++) {
        db_bind_int(st, 1, cl->lease_until);
        db_bind_int(st, 2, cl->rows[i].id);
        db_bind_int(st, 3, cl->rows[i].next_attempt_at);
        rc = db_run(st, err);
        cl->claimed[i] = !rc && db_changes(c) == 1;
        db_done(st);
    }
    return rc;
}

/* Gives back the claims of rows a stop left unsent: due again at once. */
static int release_write(db_conn *c, void *arg, gr_err *err)
{
    struct claim *cl = arg;
    db_stmt *st;
    size_t i;
    int rc = 0;

    st = db_prepare(
        c, "UPDATE outbox SET next_attempt_at = ?1 WHERE id = ?2 AND next_attempt_at = ?3", err);
    if (!st)
        return GR_EINTERNAL;
    for (i = 0; i < cl->n && !rc; i++) {
        if (!cl->claimed[i])
            continue;
        db_bind_int(st, 1, cl->rows[i].next_attempt_at);
        db_bind_int(st, 2, cl->rows[i].id);
        db_bind_int(st, 3, cl->lease_until);
        rc = db_run(st, err);
        db_done(st);
    }
    return rc;
}

struct result {
    const due_row *d;
    const attempt *at;
    int64_t now, next_attempt_at;
    int dead;
};

static int result_write(db_conn *c, void *arg, gr_err *err)
{
    struct result *r = arg;
    char text[200];
    gr_err e = {0};
    db_stmt *st;
    int rc;

    st = db_prepare(c,
                    "UPDATE outbox SET attempts = attempts + 1, last_status = ?1, last_error = ?2, "
                    "delivered_at = ?3, dead_at = ?4, next_attempt_at = ?5 WHERE id = ?6",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int_or_null(st, 1, r->at->status);
    db_bind_text(st, 2, r->at->ok ? NULL : r->at->error);
    db_bind_int_or_null(st, 3, r->at->ok ? r->now : 0);
    db_bind_int_or_null(st, 4, r->dead ? r->now : 0);
    db_bind_int(st, 5, r->next_attempt_at);
    db_bind_int(st, 6, r->d->id);
    rc = db_run(st, err);
    db_done(st);
    if (rc || !r->dead || r->d->created_by <= 0 || db_changes(c) == 0)
        return rc;
    /* Whoever set the webhook up hears that an event was given up. */
    snprintf(text, sizeof(text),
             "Webhook %" PRId64 ": delivery %" PRId64 " (%s) was given up after %" PRId64
             " attempts",
             r->d->webhook_id, r->d->id, r->d->event_type, r->d->attempts + 1);
    if (notify_notice(c, r->d->created_by, "webhook.dead", text, "webhook", r->d->webhook_id, &e))
        log_msg(LOG_WARN, "notify.notice", "no notice for webhook %" PRId64 ": %s",
                r->d->webhook_id, e.msg);
    return 0;
}

static int purge_write(db_conn *c, void *arg, gr_err *err)
{
    int64_t *before = arg;
    db_stmt *st = db_prepare(c,
                             "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox "
                             "WHERE delivered_at < ? LIMIT 1000)",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, *before);
    rc = db_run(st, err);
    db_done(st);
    /* The count of removed rows goes back to the caller in *before. */
    *before = rc ? 0 : db_changes(c);
    return rc;
}

static void purge(int64_t now)
{
    int64_t arg;
    gr_err e = {0};

    do {
        arg = now - (int64_t)g.cfg.keep_days * 86400000;
        if (db_write(g.ctx->db, purge_write, &arg, &e)) {
            log_msg(LOG_WARN, "notify.purge", "%s", e.msg);
            return;
        }
    } while (arg == PURGE_ROWS && !atomic_load(&g.stop));
}

/* ---- the loop ---- */

/* Reads up to NOTIFY_BATCH due rows; the count, or -1. */
static int poll_due(db_conn *c, int64_t now, due_row *rows)
{
    gr_err e = {0};
    db_stmt *st;
    const void *b;
    int n = 0, rc = 0;

    st = db_prepare(c,
                    "SELECT o.id, o.webhook_id, o.event_id, o.event_type, o.subject, o.subject_id, "
                    "o.payload, o.idempotency_key, o.attempts, o.created_at, o.next_attempt_at, "
                    "w.url, w.secret_enc, w.created_by FROM outbox o JOIN webhooks w "
                    "ON w.id = o.webhook_id WHERE o.delivered_at IS NULL AND o.dead_at IS NULL "
                    "AND o.next_attempt_at <= ?1 AND w.active = 1 "
                    "ORDER BY o.next_attempt_at, o.id LIMIT ?2",
                    &e);
    if (!st)
        return -1;
    db_bind_int(st, 1, now);
    db_bind_int(st, 2, NOTIFY_BATCH);
    while (n < NOTIFY_BATCH && (rc = db_step(st, &e)) == DB_ROW) {
        due_row *d = &rows[n++];

        memset(d, 0, sizeof(*d));
        d->id = db_col_int(st, 0);
        d->webhook_id = db_col_int(st, 1);
        d->event_id = dup_col(st, 2);
        d->event_type = dup_col(st, 3);
        d->subject = dup_col(st, 4);
        d->subject_id = db_col_is_null(st, 5) ? 0 : db_col_int(st, 5);
        d->payload = dup_col(st, 6);
        d->key = dup_col(st, 7);
        d->attempts = db_col_int(st, 8);
        d->created_at = db_col_int(st, 9);
        d->next_attempt_at = db_col_int(st, 10);
        d->url = dup_col(st, 11);
        b = db_col_blob(st, 12, &d->sealed_len);
        d->sealed = malloc(d->sealed_len ? d->sealed_len : 1);
        if (!d->sealed)
            abort();
        if (d->sealed_len)
            memcpy(d->sealed, b, d->sealed_len);
        d->created_by = db_col_is_null(st, 13) ? 0 : db_col_int(st, 13);
    }
    db_done(st);
    if (rc < 0) {
        log_msg(LOG_WARN, "notify.poll", "%s", e.msg);
        while (n > 0)
            due_free(&rows[--n]);
        return -1;
    }
    return n;
}

static void record(const due_row *d, const attempt *at)
{
    struct result r = {d, at, time_now_ms(), 0, 0};
    int64_t attempts = d->attempts + 1;
    gr_err e = {0};

    if (at->ok) {
        r.next_attempt_at = r.now;
    } else if (attempts >= g.cfg.max_attempts) {
        r.dead = 1;
        r.next_attempt_at = r.now;
    } else {
        r.next_attempt_at =
            r.now + notify_backoff_ms(g.cfg.backoff_ms, attempts, randombytes_random());
    }
    if (db_write(g.ctx->db, result_write, &r, &e))
        log_msg(LOG_ERROR, "notify.record", "delivery %" PRId64 ": %s", d->id, e.msg);
    log_obj(at->ok ? LOG_INFO : LOG_WARN, "notify.delivery",
            json_pack("{s:I, s:I, s:I, s:I, s:s}", "delivery_id", (json_int_t)d->id, "webhook_id",
                      (json_int_t)d->webhook_id, "attempt", (json_int_t)attempts, "status",
                      (json_int_t)at->status,
                      at->ok   ? "delivered"
                      : r.dead ? "dead"
                               : "retrying"));
}

/* One batch: claim, send, record. The number of rows read, or -1. */
static int batch_run(CURL *curl)
{
    due_row rows[NOTIFY_BATCH];
    int claimed[NOTIFY_BATCH] = {0};
    struct claim cl = {rows, 0, 0, claimed};
    db_conn *c = db_reader(g.ctx->db);
    int64_t now = time_now_ms();
    gr_err e = {0};
    attempt at;
    size_t i;
    int n;

    if (!c)
        return -1;
    n = poll_due(c, now, rows);
    if (n <= 0)
        return n;
    cl.n = (size_t)n;
    cl.lease_until = now + LEASE_MS;
    if (db_write(g.ctx->db, claim_write, &cl, &e)) {
        log_msg(LOG_WARN, "notify.claim", "%s", e.msg);
        goto out;
    }
    for (i = 0; i < cl.n; i++) {
        if (!claimed[i])
            continue;
        if (atomic_load(&g.stop) || time_now_ms() > cl.lease_until - LEASE_MARGIN_MS)
            break;
        deliver_one(curl, &rows[i], &at);
        record(&rows[i], &at);
        claimed[i] = 0;
    }
    if (i < cl.n && db_write(g.ctx->db, release_write, &cl, &e))
        log_msg(LOG_WARN, "notify.release", "%s", e.msg);
out:
    for (i = 0; i < cl.n; i++)
        due_free(&rows[i]);
    return n;
}

/* When the next row falls due (0: none pending). */
static int64_t next_due(void)
{
    db_conn *c = db_reader(g.ctx->db);
    int64_t v = 0;

    if (c && db_query_int(c,
                          "SELECT min(o.next_attempt_at) FROM outbox o JOIN webhooks w "
                          "ON w.id = o.webhook_id WHERE o.delivered_at IS NULL "
                          "AND o.dead_at IS NULL AND w.active = 1",
                          0, 0, &v, NULL))
        v = 0;
    return v;
}

static void wait_ms(int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g.mu);
    if (!atomic_load(&g.stop) && !g.kicked)
        pthread_cond_timedwait(&g.cv, &g.mu, &ts);
    pthread_mutex_unlock(&g.mu);
}

static void *worker_main(void *arg)
{
    CURL *curl = curl_easy_init();
    int64_t recheck_until = 0, next_purge = 0, now, wait, due;
    int n;

    (void)arg;
    if (!curl) {
        log_msg(LOG_ERROR, "notify.worker", "cannot start libcurl: no webhook deliveries");
        return NULL;
    }
    while (!atomic_load(&g.stop)) {
        pthread_mutex_lock(&g.mu);
        if (g.kicked) {
            g.kicked = 0;
            recheck_until = time_now_ms() + RECHECK_FOR_MS;
        }
        pthread_mutex_unlock(&g.mu);
        n = batch_run(curl);
        if (n == NOTIFY_BATCH)
            continue; /* a full batch: more may be due now */
        now = time_now_ms();
        if (now >= next_purge) {
            purge(now);
            next_purge = now + PURGE_EVERY_MS;
        }
        wait = POLL_MS;
        due = n < 0 ? 0 : next_due();
        if (due && due - now < wait)
            wait = due - now;
        if (now < recheck_until && wait > RECHECK_MS)
            wait = RECHECK_MS;
        wait_ms(wait < MIN_WAIT_MS ? MIN_WAIT_MS : wait);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

/* ---- the module's life ---- */

int notify_ctx_open(gr_ctx *ctx, gr_err *err)
{
    notify_config cfg;

    (void)ctx;
    /* A bad setting is reported when the data directory opens, not later. */
    return notify_config_load(&cfg, err);
}

void notify_ctx_close(gr_ctx *ctx)
{
    int mine;

    pthread_mutex_lock(&g.mu);
    mine = g.running && g.ctx == ctx;
    pthread_mutex_unlock(&g.mu);
    /* The thread reads this context's database: it stops before the database closes. */
    if (mine)
        notify_stop(ctx);
}

int notify_start(gr_ctx *ctx, gr_err *err)
{
    sigset_t all, old;
    int rc;

    if (g.running)
        return err_set(err, GR_ECONFLICT, "", "the delivery thread is already running");
    rc = notify_config_load(&g.cfg, err);
    if (rc)
        return rc;
    rc = crypto_init(err);
    if (rc)
        return rc;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return err_set(err, GR_EINTERNAL, "", "cannot start libcurl");
    g.ctx = ctx;
    atomic_store(&g.stop, 0);
    /* Signals (SIGTERM for a stop) go to the main thread, not to this one. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&g.thread, NULL, worker_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        curl_global_cleanup();
        return err_set(err, GR_EINTERNAL, "", "cannot start the delivery thread");
    }
    pthread_mutex_lock(&g.mu);
    g.running = 1;
    pthread_mutex_unlock(&g.mu);
    log_obj(LOG_INFO, "notify.start",
            json_pack("{s:I, s:i}", "backoff_ms", (json_int_t)g.cfg.backoff_ms, "max_attempts",
                      g.cfg.max_attempts));
    return 0;
}

void notify_stop(gr_ctx *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&g.mu);
    if (!g.running) {
        pthread_mutex_unlock(&g.mu);
        return;
    }
    atomic_store(&g.stop, 1);
    pthread_cond_signal(&g.cv);
    pthread_mutex_unlock(&g.mu);
    /* The delivery in flight finishes and is recorded; the rest waits for the next start. */
    pthread_join(g.thread, NULL);
    curl_global_cleanup();
    pthread_mutex_lock(&g.mu);
    g.running = 0;
    g.ctx = NULL;
    pthread_mutex_unlock(&g.mu);
}
