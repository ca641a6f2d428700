/*
 * The audit log's chain: appending, verifying and listing (see audit.h and
 * docs/privacy.md for what the chain shows and what it cannot).
 */
#include "privacy/audit.h"

#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The version of the canonical encoding: changing the encoding needs a new
 * tag, so that old entries still verify under the old one. */
static const char entry_tag[] = "gr-audit-entry-v1";
static const char head_tag[] = "gr-audit-head-v1";
/* The entry an append writes when it finds the head and the log at odds. */
static const char break_action[] = "audit.break";

void audit_key_derive(const unsigned char index_key[32], unsigned char out[AUDIT_HASH_BYTES])
{
    /* The context is exactly crypto_kdf_CONTEXTBYTES (8) characters. */
    _Static_assert(sizeof("gr-audit") - 1 == crypto_kdf_CONTEXTBYTES, "kdf context size");
    crypto_kdf_derive_from_key(out, AUDIT_HASH_BYTES, 1, "gr-audit", index_key);
}

/* ---- the canonical encoding ---- */

static void put_int(crypto_generichash_state *h, int64_t v)
{
    unsigned char b[8];
    uint64_t u = (uint64_t)v;
    int i;

    for (i = 7; i >= 0; i--, u >>= 8)
        b[i] = (unsigned char)(u & 0xff);
    crypto_generichash_update(h, b, sizeof(b));
}

/* NULL and "" differ (a presence byte), and the length prefix keeps
 * ("ab","c") apart from ("a","bc"). */
static void put_bytes(crypto_generichash_state *h, const void *p, size_t n, int present)
{
    unsigned char flag = present ? 1 : 0;

    crypto_generichash_update(h, &flag, 1);
    if (!present)
        return;
    put_int(h, (int64_t)n);
    if (n)
        crypto_generichash_update(h, p, n);
}

/* The columns of one entry as the chain sees them; texts as bytes with
 * their lengths, so that verify hashes exactly what is stored. */
typedef struct entry_bytes {
    int64_t seq, at, actor_user_id, entity_id;
    struct {
        const void *p;
        size_t n;
        int present;
    } text[7]; /* actor_role, action, entity, fields, purpose, request_id, detail */
} entry_bytes;

static void entry_hash(const unsigned char key[AUDIT_HASH_BYTES],
                       const unsigned char prev[AUDIT_HASH_BYTES], const entry_bytes *e,
                       unsigned char out[AUDIT_HASH_BYTES])
{
    crypto_generichash_state h;
    int i;

    crypto_generichash_init(&h, key, AUDIT_HASH_BYTES, AUDIT_HASH_BYTES);
    crypto_generichash_update(&h, (const unsigned char *)entry_tag, sizeof(entry_tag));
    crypto_generichash_update(&h, prev, AUDIT_HASH_BYTES);
    put_int(&h, e->seq);
    put_int(&h, e->at);
    put_int(&h, e->actor_user_id);
    for (i = 0; i < 3; i++)
        put_bytes(&h, e->text[i].p, e->text[i].n, e->text[i].present);
    put_int(&h, e->entity_id);
    for (i = 3; i < 7; i++)
        put_bytes(&h, e->text[i].p, e->text[i].n, e->text[i].present);
    crypto_generichash_final(&h, out, AUDIT_HASH_BYTES);
}

static void head_mac(const unsigned char key[AUDIT_HASH_BYTES], int64_t seq,
                     const unsigned char hash[AUDIT_HASH_BYTES],
                     unsigned char out[AUDIT_HASH_BYTES])
{
    crypto_generichash_state h;

    crypto_generichash_init(&h, key, AUDIT_HASH_BYTES, AUDIT_HASH_BYTES);
    crypto_generichash_update(&h, (const unsigned char *)head_tag, sizeof(head_tag));
    put_int(&h, seq);
    crypto_generichash_update(&h, hash, AUDIT_HASH_BYTES);
    crypto_generichash_final(&h, out, AUDIT_HASH_BYTES);
}

static void entry_from(const audit_entry *e, entry_bytes *b)
{
    const char *t[7] = {e->actor_role, e->action,     e->entity, e->fields,
                        e->purpose,    e->request_id, e->detail};
    int i;

    memset(b, 0, sizeof(*b));
    b->seq = e->seq;
    b->at = e->at;
    b->actor_user_id = e->actor_user_id;
    b->entity_id = e->entity_id;
    for (i = 0; i < 7; i++) {
        b->text[i].p = t[i];
        b->text[i].n = t[i] ? strlen(t[i]) : 0;
        b->text[i].present = t[i] != NULL;
    }
}

/* ---- append ---- */

static int check_name(const char *s, const char *field, gr_err *err)
{
    const char *p;

    if (!s || !*s)
        return err_set(err, GR_EINVAL, field, "is required");
    if (strlen(s) > AUDIT_NAME_MAX)
        return err_set(err, GR_EINVAL, field, "must be at most %d characters", AUDIT_NAME_MAX);
    for (p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
              *p == '-'))
            return err_set(err, GR_EINVAL, field,
                           "may hold only lower-case letters, digits, '.', '_' and '-'");
    return 0;
}

static int check_text(const char *s, const char *field, size_t max, gr_err *err)
{
    if (s && strlen(s) > max)
        return err_set(err, GR_EINVAL, field, "must be at most %zu bytes", max);
    return 0;
}

static int check_entry(const audit_entry *e, gr_err *err)
{
    json_error_t jerr;
    json_t *d;
    int rc;

    if ((rc = check_name(e->actor_role, "actor_role", err)) != 0 ||
        (rc = check_name(e->action, "action", err)) != 0 ||
        (rc = check_name(e->entity, "entity", err)) != 0 ||
        (rc = check_text(e->fields, "fields", AUDIT_TEXT_MAX, err)) != 0 ||
        (rc = check_text(e->purpose, "purpose", AUDIT_TEXT_MAX, err)) != 0 ||
        (rc = check_text(e->request_id, "request_id", AUDIT_TEXT_MAX, err)) != 0 ||
        (rc = check_text(e->detail, "detail", AUDIT_DETAIL_MAX, err)) != 0)
        return rc;
    if (e->actor_user_id < 0 || e->entity_id < 0)
        return err_set(err, GR_EINVAL, e->actor_user_id < 0 ? "actor_user_id" : "entity_id",
                       "must not be negative");
    /* PIPL art. 6: a full view needs a stated purpose, and the log keeps it. */
    if (strcmp(e->action, "reveal") == 0 && (!e->purpose || !*e->purpose))
        return err_set(err, GR_EINVAL, "purpose", "is required for a reveal");
    if (!e->detail)
        return 0;
    d = json_loads(e->detail, JSON_REJECT_DUPLICATES, &jerr);
    rc = json_is_object(d) ? 0 : err_set(err, GR_EINVAL, "detail", "must be a JSON object");
    json_decref(d);
    return rc;
}

/* The head as stored: 1 with its fields, 0 when there is none. */
static int read_head(db_conn *c, int64_t *seq, unsigned char hash[AUDIT_HASH_BYTES],
                     unsigned char mac[AUDIT_HASH_BYTES], int *well_formed, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT seq, hash, mac FROM audit_head WHERE id = 1", err);
    const void *h, *m;
    size_t hl = 0, ml = 0;
    int rc;

    *well_formed = 0;
    if (!st)
        return GR_EINTERNAL;
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *seq = db_col_int(st, 0);
        h = db_col_blob(st, 1, &hl);
        if (h && hl == AUDIT_HASH_BYTES)
            memcpy(hash, h, AUDIT_HASH_BYTES);
        m = db_col_blob(st, 2, &ml);
        if (m && ml == AUDIT_HASH_BYTES)
            memcpy(mac, m, AUDIT_HASH_BYTES);
        *well_formed = h && hl == AUDIT_HASH_BYTES && m && ml == AUDIT_HASH_BYTES;
        rc = 1;
    }
    db_done(st);
    return rc;
}

/* Inserts x (its seq set) linked to prev; *hash receives its hash. */
static int insert_entry(db_conn *c, const unsigned char key[AUDIT_HASH_BYTES], const audit_entry *x,
                        const unsigned char prev[AUDIT_HASH_BYTES],
                        unsigned char hash[AUDIT_HASH_BYTES], gr_err *err)
{
    entry_bytes b;
    db_stmt *st;
    int rc;

    entry_from(x, &b);
    entry_hash(key, prev, &b, hash);
    st = db_prepare(c,
                    "INSERT INTO audit_log (seq, at, actor_user_id, actor_role, action, entity, "
                    "entity_id, fields, purpose, request_id, detail, prev_hash, hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, x->seq);
    db_bind_int(st, 2, x->at);
    db_bind_int(st, 3, x->actor_user_id);
    db_bind_text(st, 4, x->actor_role);
    db_bind_text(st, 5, x->action);
    db_bind_text(st, 6, x->entity);
    db_bind_int(st, 7, x->entity_id);
    db_bind_text(st, 8, x->fields);
    db_bind_text(st, 9, x->purpose);
    db_bind_text(st, 10, x->request_id);
    db_bind_text(st, 11, x->detail);
    db_bind_blob(st, 12, prev, AUDIT_HASH_BYTES);
    db_bind_blob(st, 13, hash, AUDIT_HASH_BYTES);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

/* The last entry of the log: 1 with its seq and hash, 0 when empty. */
static int read_last(db_conn *c, int64_t *seq, unsigned char hash[AUDIT_HASH_BYTES], gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", err);
    const void *blob;
    size_t len = 0;
    int rc;

    *seq = 0;
    memset(hash, 0, AUDIT_HASH_BYTES);
    if (!st)
        return GR_EINTERNAL;
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *seq = db_col_int(st, 0);
        blob = db_col_blob(st, 1, &len);
        if (blob && len == AUDIT_HASH_BYTES)
            memcpy(hash, blob, AUDIT_HASH_BYTES);
        rc = 1;
    }
    db_done(st);
    return rc;
}

/* Whether the head agrees with the last entry under key: what an append
 * must check so that it does not paper over a cut tail by moving the head. */
static const char *head_state(const unsigned char key[AUDIT_HASH_BYTES], int have_head,
                              int well_formed, int64_t hseq,
                              const unsigned char hhash[AUDIT_HASH_BYTES],
                              const unsigned char hmac[AUDIT_HASH_BYTES], int64_t last_seq,
                              const unsigned char last_hash[AUDIT_HASH_BYTES])
{
    unsigned char mac[AUDIT_HASH_BYTES];

    if (!have_head)
        return last_seq == 0 ? NULL : "missing";
    if (!well_formed)
        return "malformed";
    head_mac(key, hseq, hhash, mac);
    if (!crypto_equal(mac, hmac, AUDIT_HASH_BYTES))
        return "forged";
    if (hseq != last_seq || !crypto_equal(hhash, last_hash, AUDIT_HASH_BYTES))
        return "disagrees";
    return NULL;
}

int audit_append(db_conn *c, const unsigned char key[AUDIT_HASH_BYTES], const audit_entry *e,
                 gr_err *err)
{
    unsigned char prev[AUDIT_HASH_BYTES], hash[AUDIT_HASH_BYTES], mac[AUDIT_HASH_BYTES];
    unsigned char hhash[AUDIT_HASH_BYTES] = {0}, hmac[AUDIT_HASH_BYTES] = {0};
    int64_t last = 0, hseq = 0;
    audit_entry x = *e;
    const char *broken;
    char detail[160];
    db_stmt *st = NULL;
    int rc, have, well_formed = 0;

    rc = check_entry(e, err);
    if (rc)
        return rc;
    /* The chain continues from the last entry of the log itself. */
    rc = read_last(c, &last, prev, err);
    if (rc < 0)
        return rc;
    have = read_head(c, &hseq, hhash, hmac, &well_formed, err);
    if (have < 0)
        return have;
    broken = head_state(key, have, well_formed, hseq, hhash, hmac, last, prev);
    if (broken) {
        /* The log was changed behind the application's back (a cut tail, a
         * forged head). Moving the head now would hide that, and refusing
         * would stop every reveal: the chain records it instead, in an
         * entry that verify reports for good. */
        audit_entry b = {0};

        log_msg(LOG_ERROR, "audit.break",
                "the audit head (%s, seq %" PRId64 ") does not match the log (seq %" PRId64
                "); recorded in the log",
                broken, hseq, last);
        snprintf(detail, sizeof(detail),
                 "{\"head\":\"%s\",\"head_seq\":%" PRId64 ",\"log_seq\":%" PRId64 "}", broken, hseq,
                 last);
        b.seq = ++last;
        b.at = time_now_ms();
        b.actor_role = "system";
        b.action = break_action;
        b.entity = "audit_log";
        b.detail = detail;
        rc = insert_entry(c, key, &b, prev, hash, err);
        if (rc)
            return rc;
        memcpy(prev, hash, AUDIT_HASH_BYTES);
    }
    x.seq = last + 1;
    if (x.at <= 0)
        x.at = time_now_ms();
    rc = insert_entry(c, key, &x, prev, hash, err);
    if (rc)
        return rc;

    head_mac(key, x.seq, hash, mac);
    st = db_prepare(c,
                    "INSERT INTO audit_head (id, seq, hash, mac) VALUES (1, ?1, ?2, ?3) "
                    "ON CONFLICT (id) DO UPDATE SET seq = ?1, hash = ?2, mac = ?3",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, x.seq);
    db_bind_blob(st, 2, hash, AUDIT_HASH_BYTES);
    db_bind_blob(st, 3, mac, AUDIT_HASH_BYTES);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

struct record_arg {
    unsigned char key[AUDIT_HASH_BYTES];
    audit_entry e;
};

static int record_write(db_conn *c, void *arg, gr_err *err)
{
    struct record_arg *r = arg;

    return audit_append(c, r->key, &r->e, err);
}

int audit_record(http_req *req, const char *action, const char *entity, int64_t entity_id,
                 const char *fields, const char *purpose)
{
    struct record_arg r;
    int rc;

    memset(&r, 0, sizeof(r));
    audit_key_derive(req->ctx->index_key, r.key);
    r.e.actor_user_id = req->who.user_id;
    r.e.actor_role = req->who.role ? req->who.role : "anonymous";
    r.e.action = action;
    r.e.entity = entity;
    r.e.entity_id = entity_id;
    r.e.fields = fields;
    r.e.purpose = purpose;
    r.e.request_id = req->request_id[0] ? req->request_id : NULL;
    rc = db_write(req->db, record_write, &r, &req->err);
    sodium_memzero(r.key, sizeof(r.key));
    return rc;
}

/* ---- verify ---- */

static void fault(audit_report *out, enum audit_fault f, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first fault only: the rest of the walk counts bad entries. */
static void fault(audit_report *out, enum audit_fault f, int64_t seq, const char *fmt, ...)
{
    va_list ap;

    if (out->fault != AUDIT_INTACT)
        return;
    out->fault = f;
    out->first_bad_seq = seq;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
}

static void read_text(db_stmt *st, int col, entry_bytes *b, int i)
{
    b->text[i].present = !db_col_is_null(st, col);
    b->text[i].p = b->text[i].present ? db_col_blob(st, col, &b->text[i].n) : NULL;
    if (!b->text[i].present)
        b->text[i].n = 0;
}

/* Whether the head agrees with the walk: a valid MAC, and the log holds the
 * entry it names with the hash it names (entries after it were appended
 * since the head was read: the walk is a later snapshot). */
static void check_head(const unsigned char key[AUDIT_HASH_BYTES], int have, int well_formed,
                       int64_t hseq, const unsigned char hhash[AUDIT_HASH_BYTES],
                       const unsigned char hmac[AUDIT_HASH_BYTES], int64_t last_seq,
                       const unsigned char at_head[AUDIT_HASH_BYTES], int seen_head,
                       audit_report *out)
{
    unsigned char mac[AUDIT_HASH_BYTES];

    if (!have) {
        if (last_seq > 0)
            fault(out, AUDIT_HEAD, 0, "the head is missing while the log has %" PRId64 " entries",
                  last_seq);
        return;
    }
    if (!well_formed) {
        fault(out, AUDIT_HEAD, 0, "the head is malformed");
        return;
    }
    head_mac(key, hseq, hhash, mac);
    if (!crypto_equal(mac, hmac, AUDIT_HASH_BYTES)) {
        fault(out, AUDIT_HEAD, 0,
              "the head's MAC does not match: the head was forged or the key "
              "is wrong");
        return;
    }
    if (hseq > last_seq) {
        fault(out, AUDIT_TRUNCATED, last_seq + 1,
              "the log ends at seq %" PRId64 " but the head names seq %" PRId64
              ": entries were cut off the tail",
              last_seq, hseq);
        return;
    }
    if (!seen_head || !crypto_equal(at_head, hhash, AUDIT_HASH_BYTES))
        fault(out, AUDIT_HEAD, hseq,
              "entry %" PRId64 " is not the one the head names: the tail was replaced", hseq);
}

int audit_verify(db *d, const unsigned char key[AUDIT_HASH_BYTES], audit_report *out, gr_err *err)
{
    unsigned char prev[AUDIT_HASH_BYTES] = {0}, calc[AUDIT_HASH_BYTES], stored[AUDIT_HASH_BYTES];
    unsigned char hhash[AUDIT_HASH_BYTES] = {0}, hmac[AUDIT_HASH_BYTES] = {0};
    unsigned char at_head[AUDIT_HASH_BYTES] = {0};
    db_conn *c = db_reader(d);
    db_stmt *st = NULL;
    int64_t expect = 1, hseq = 0;
    int have, well_formed = 0, seen_head = 0, rc;
    entry_bytes b;

    memset(out, 0, sizeof(*out));
    if (!c)
        return err_set(err, GR_EUNAVAIL, "", "the database does not answer");
    /* The head first: every entry it names was committed before the walk's
     * snapshot, so the walk must contain it. */
    have = read_head(c, &hseq, hhash, hmac, &well_formed, err);
    if (have < 0)
        return have;
    st = db_prepare(c,
                    "SELECT seq, at, actor_user_id, actor_role, action, entity, entity_id, "
                    "fields, purpose, request_id, detail, prev_hash, hash "
                    "FROM audit_log ORDER BY seq",
                    err);
    if (!st)
        return GR_EINTERNAL;
    while ((rc = db_step(st, err)) == DB_ROW) {
        const void *p;
        size_t n = 0;
        int entry_bad = 0;

        memset(&b, 0, sizeof(b));
        b.seq = db_col_int(st, 0);
        b.at = db_col_int(st, 1);
        b.actor_user_id = db_col_int(st, 2);
        read_text(st, 3, &b, 0);
        read_text(st, 4, &b, 1);
        read_text(st, 5, &b, 2);
        b.entity_id = db_col_int(st, 6);
        read_text(st, 7, &b, 3);
        read_text(st, 8, &b, 4);
        read_text(st, 9, &b, 5);
        read_text(st, 10, &b, 6);
        out->checked++;

        if (b.seq != expect)
            fault(out, AUDIT_GAP, b.seq,
                  "seq %" PRId64 " follows seq %" PRId64
                  ": an entry was deleted or inserted before it",
                  b.seq, expect - 1);
        p = db_col_blob(st, 11, &n);
        if (!p || n != AUDIT_HASH_BYTES || !crypto_equal(p, prev, AUDIT_HASH_BYTES))
            fault(out, AUDIT_LINK, b.seq,
                  "entry %" PRId64 " does not link to the entry before it: an entry was "
                  "inserted or deleted there",
                  b.seq);
        /* The entry's own hash over its stated prev_hash: an edit shows at
         * the entry edited, not at every later one. */
        memset(stored, 0, sizeof(stored));
        if (p && n == AUDIT_HASH_BYTES)
            entry_hash(key, p, &b, calc);
        else
            entry_hash(key, prev, &b, calc);
        p = db_col_blob(st, 12, &n);
        if (p && n == AUDIT_HASH_BYTES)
            memcpy(stored, p, AUDIT_HASH_BYTES);
        if (!p || n != AUDIT_HASH_BYTES || !crypto_equal(calc, stored, AUDIT_HASH_BYTES)) {
            entry_bad = 1;
            fault(out, AUDIT_EDITED, b.seq,
                  "entry %" PRId64 " does not match its hash: it was edited (or written "
                  "without the key)",
                  b.seq);
        }
        out->bad += entry_bad;
        if (b.text[1].present && b.text[1].n == sizeof(break_action) - 1 &&
            memcmp(b.text[1].p, break_action, b.text[1].n) == 0)
            fault(out, AUDIT_BREAK, b.seq,
                  "entry %" PRId64 " records that the log had been altered before it was "
                  "appended: %.*s",
                  b.seq, (int)(b.text[6].n < 120 ? b.text[6].n : 120),
                  b.text[6].p ? (const char *)b.text[6].p : "");
        if (have && b.seq == hseq) {
            seen_head = 1;
            memcpy(at_head, stored, AUDIT_HASH_BYTES);
        }
        memcpy(prev, stored, AUDIT_HASH_BYTES);
        out->head_seq = b.seq;
        memcpy(out->head_hash, stored, AUDIT_HASH_BYTES);
        expect = b.seq + 1;
    }
    db_done(st);
    if (rc < 0)
        return rc;
    check_head(key, have, well_formed, hseq, hhash, hmac, out->head_seq, at_head, seen_head, out);
    return 0;
}

/* ---- list ---- */

#define ENTRY_COLS                                                                                 \
    "seq, at, actor_user_id, actor_role, action, entity, entity_id, fields, purpose, "             \
    "request_id, detail, hash FROM audit_log"

static void entry_read(db_stmt *st, arena *a, void *out)
{
    audit_entry *e = out;
    const void *h;
    size_t n = 0;

    memset(e, 0, sizeof(*e));
    e->seq = db_col_int(st, 0);
    e->at = db_col_int(st, 1);
    e->actor_user_id = db_col_int(st, 2);
    e->actor_role = db_col_textdup(st, 3, a);
    e->action = db_col_textdup(st, 4, a);
    e->entity = db_col_textdup(st, 5, a);
    e->entity_id = db_col_int(st, 6);
    e->fields = db_col_textdup(st, 7, a);
    e->purpose = db_col_textdup(st, 8, a);
    e->request_id = db_col_textdup(st, 9, a);
    e->detail = db_col_textdup(st, 10, a);
    h = db_col_blob(st, 11, &n);
    if (h && n == AUDIT_HASH_BYTES)
        memcpy(e->hash, h, AUDIT_HASH_BYTES);
}

int audit_list(db_conn *c, arena *a, const audit_filter *f, audit_entry **out, size_t *n, int *more,
               gr_err *err)
{
    db_stmt *st = NULL;
    void *v = NULL;
    int rc;

    *n = 0;
    *more = 0;
    *out = NULL;
    if (f->from > 0 && f->to > 0 && f->to <= f->from)
        return err_set(err, GR_EINVAL, "to", "must be after from");
    st = db_prepare(c,
                    "SELECT " ENTRY_COLS " WHERE seq > ?1 AND (?2 IS NULL OR entity = ?2) "
                    "AND (?3 = 0 OR entity_id = ?3) AND (?4 = 0 OR actor_user_id = ?4) "
                    "AND (?5 IS NULL OR action = ?5) AND (?6 = 0 OR at >= ?6) "
                    "AND (?7 = 0 OR at < ?7) ORDER BY seq LIMIT ?8",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, f->after);
    db_bind_text(st, 2, f->entity && *f->entity ? f->entity : NULL);
    db_bind_int(st, 3, f->entity_id);
    db_bind_int(st, 4, f->actor_user_id);
    db_bind_text(st, 5, f->action && *f->action ? f->action : NULL);
    db_bind_int(st, 6, f->from > 0 ? f->from : 0);
    db_bind_int(st, 7, f->to > 0 ? f->to : 0);
    db_bind_int(st, 8, f->limit + 1);
    rc = db_read_page(st, a, f->limit, sizeof(audit_entry), entry_read, &v, n, more, err);
    db_done(st);
    *out = v;
    return rc;
}
