/*
 * Accounts and access, the model: rules, passwords, users, sessions, API
 * tokens and login throttling (see auth_model.h and docs/auth.md).
 */
#include "auth/auth.h"
#include "auth/auth_model.h"
#include "auth/policy.h"
#include "base/jsonv.h"
#include "base/log.h"
#include "base/mask.h"
#include "base/timeutil.h"
#include "base/validate.h"
#include "org/org.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PHONE_AD "users.phone"

struct auth_ctx {
    pthread_mutex_t lock; /* guards hashing */
    pthread_cond_t cond;
    int hashing; /* argon2 computations running now */
    unsigned long long opslimit;
    size_t memlimit;
    int64_t throttle_base_ms;
    pthread_mutex_t dummy_lock; /* guards dummy */
    char dummy[crypto_pwhash_STRBYTES];
};

#define USER_COLS                                                                                  \
    "id, username, display_name, role, status, phone_hint, scope_org_id, department_id, "          \
    "created_at, updated_at, version"

/* ---- the module state ---- */

static int env_pwhash(struct auth_ctx *ac, gr_err *err)
{
    const char *v = getenv("GR_PWHASH");

    if (!v || !*v || strcmp(v, "interactive") == 0) {
        ac->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        ac->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    } else if (strcmp(v, "moderate") == 0) {
        ac->opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
        ac->memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
    } else if (strcmp(v, "min") == 0) {
        /* For tests only: fast and weak. */
        ac->opslimit = crypto_pwhash_OPSLIMIT_MIN;
        ac->memlimit = crypto_pwhash_MEMLIMIT_MIN;
    } else {
        return err_set(err, GR_EINVAL, "GR_PWHASH", "must be interactive, moderate or min");
    }
    return 0;
}

static int env_throttle(struct auth_ctx *ac, gr_err *err)
{
    const char *v = getenv("GR_THROTTLE_BASE_MS");
    char *end;
    long long x;

    ac->throttle_base_ms = 1000;
    if (!v || !*v)
        return 0;
    x = strtoll(v, &end, 10);
    if (*end != '\0' || x < 1 || x > 60000)
        return err_set(err, GR_EINVAL, "GR_THROTTLE_BASE_MS", "must be an integer 1..60000");
    ac->throttle_base_ms = x;
    return 0;
}

int auth_ctx_open(gr_ctx *ctx, gr_err *err)
{
    struct auth_ctx *ac;
    int rc;

    rc = crypto_init(err);
    if (rc)
        return rc;
    ac = calloc(1, sizeof(*ac));
    if (!ac)
        abort();
    rc = env_pwhash(ac, err);
    if (!rc)
        rc = env_throttle(ac, err);
    if (rc) {
        free(ac);
        return rc;
    }
    pthread_mutex_init(&ac->lock, NULL);
    pthread_cond_init(&ac->cond, NULL);
    pthread_mutex_init(&ac->dummy_lock, NULL);
    ctx->auth = ac;
    return 0;
}

void auth_ctx_close(gr_ctx *ctx)
{
    struct auth_ctx *ac = ctx ? ctx->auth : NULL;

    if (!ac)
        return;
    pthread_mutex_destroy(&ac->lock);
    pthread_cond_destroy(&ac->cond);
    pthread_mutex_destroy(&ac->dummy_lock);
    free(ac);
    ctx->auth = NULL;
}

/* ---- rules ---- */

int auth_username_check(const char *s, const char *field, gr_err *err)
{
    size_t i, n = s ? strlen(s) : 0;

    if (n < 3 || n > 32)
        return err_set(err, GR_EINVAL, field, "must be 3 to 32 characters long");
    if (!(s[0] >= 'a' && s[0] <= 'z'))
        return err_set(err, GR_EINVAL, field, "must start with a lower-case letter a-z");
    for (i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return err_set(err, GR_EINVAL, field,
                           "may contain only lower-case letters a-z, digits, '_', '.' and '-'");
    }
    return 0;
}

int auth_password_check(const char *pw, const char *field, gr_err *err)
{
    size_t n;

    if (!pw)
        return err_set(err, GR_EINVAL, field, "is required");
    n = jv_utf8_len(pw);
    if (n < AUTH_PASSWORD_MIN)
        return err_set(err, GR_EINVAL, field, "must be at least %d characters long",
                       AUTH_PASSWORD_MIN);
    if (n > AUTH_PASSWORD_MAX)
        return err_set(err, GR_EINVAL, field, "must be at most %d characters long",
                       AUTH_PASSWORD_MAX);
    return 0;
}

int auth_phone_check(const char *p, const char *field, gr_err *err)
{
    return validate_mobile(p, field, err);
}

void auth_phone_mask(const char *p, char *out, size_t len)
{
    mask_text(mask_policy_default(), MASK_PHONE, p, out, len);
}

int auth_role_check(const char *role, const char *field, gr_err *err)
{
    if (!policy_role_valid(role))
        return err_set(err, GR_EINVAL, field,
                       "must be one of resident, grid_inspector, acceptor, dispatcher, "
                       "shift_leader, department_staff, community_worker, data_steward, "
                       "leader, auditor, admin");
    return 0;
}

static int display_name_check(const char *s, const char *field, gr_err *err)
{
    size_t n = s ? jv_utf8_len(s) : 0;

    if (n < 1 || n > 64)
        return err_set(err, GR_EINVAL, field, "must be 1 to 64 characters long");
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return err_set(err, GR_EINVAL, field, "must not contain control characters");
    return 0;
}

static int status_check(const char *s, const char *field, gr_err *err)
{
    if (!s || (strcmp(s, "active") != 0 && strcmp(s, "disabled") != 0))
        return err_set(err, GR_EINVAL, field, "must be active or disabled");
    return 0;
}

/* ---- passwords ---- */

/* Bounds the memory of concurrent argon2 runs (64 MiB each when interactive). */
static void hashing_enter(struct auth_ctx *ac)
{
    pthread_mutex_lock(&ac->lock);
    while (ac->hashing >= AUTH_MAX_HASHING)
        pthread_cond_wait(&ac->cond, &ac->lock);
    ac->hashing++;
    pthread_mutex_unlock(&ac->lock);
}

static void hashing_leave(struct auth_ctx *ac)
{
    pthread_mutex_lock(&ac->lock);
    ac->hashing--;
    pthread_cond_signal(&ac->cond);
    pthread_mutex_unlock(&ac->lock);
}

int auth_password_hash(gr_ctx *g, const char *pw, char out[crypto_pwhash_STRBYTES], gr_err *err)
{
    struct auth_ctx *ac = g->auth;
    int rc;

    hashing_enter(ac);
    rc = crypto_pwhash_str(out, pw, strlen(pw), ac->opslimit, ac->memlimit);
    hashing_leave(ac);
    if (rc != 0) {
        log_msg(LOG_ERROR, "auth.pwhash", "argon2id failed (out of memory?)");
        return err_set(err, GR_EINTERNAL, "", "cannot hash the password");
    }
    return 0;
}

int auth_password_verify(gr_ctx *g, const char *hash, const char *pw)
{
    struct auth_ctx *ac = g->auth;
    int rc;

    hashing_enter(ac);
    rc = crypto_pwhash_str_verify(hash, pw, strlen(pw));
    hashing_leave(ac);
    return rc == 0;
}

/* A hash of a random password with the current parameters, so that a login
 * for an unknown username costs what a wrong password costs. */
static const char *dummy_hash(gr_ctx *g)
{
    struct auth_ctx *ac = g->auth;
    char pw[CRYPTO_TOKEN_TEXT];
    unsigned char raw[CRYPTO_TOKEN_BYTES];

    pthread_mutex_lock(&ac->dummy_lock);
    if (!ac->dummy[0]) {
        crypto_token_new(raw, pw);
        if (auth_password_hash(g, pw, ac->dummy, NULL) != 0)
            ac->dummy[0] = '\0';
    }
    pthread_mutex_unlock(&ac->dummy_lock);
    return ac->dummy;
}

/* ---- helpers ---- */

/* Reads the current row of st into out (strings in a). */

static void read_user(db_stmt *st, arena *a, void *out)
{
    auth_user *u = out;

    u->id = db_col_int(st, 0);
    u->username = db_col_textdup(st, 1, a);
    u->display_name = db_col_textdup(st, 2, a);
    u->role = db_col_textdup(st, 3, a);
    u->status = db_col_textdup(st, 4, a);
    u->phone_hint = db_col_textdup(st, 5, a);
    u->scope_org_id = db_col_int(st, 6);
    u->department_id = db_col_int(st, 7);
    u->created_at = db_col_int(st, 8);
    u->updated_at = db_col_int(st, 9);
    u->version = db_col_int(st, 10);
}

/* A user and their password hash (the column after USER_COLS), for the
 * checks of a password. */
struct user_secret {
    auth_user *user;
    const char *hash;
};

static void read_user_secret(db_stmt *st, arena *a, void *out)
{
    struct user_secret *s = out;

    read_user(st, a, s->user);
    s->hash = db_col_textdup(st, 11, a);
}

static void read_text(db_stmt *st, arena *a, void *out)
{
    *(const char **)out = db_col_textdup(st, 0, a);
}

static db_conn *reader(gr_ctx *g, gr_err *err)
{
    db_conn *c = db_reader(g->db);

    if (!c)
        err_set(err, GR_EINTERNAL, "", "storage error");
    return c;
}

/* The one row sql selects by its parameter (name when set, else id), read
 * into out; GR_ENOTFOUND "no such <what>" when there is none. */
static int row_get(gr_ctx *g, arena *a, const char *sql, int64_t id, const char *name,
                   db_row_reader read, void *out, const char *what, gr_err *err)
{
    db_conn *c = reader(g, err);
    db_stmt *st;
    int rc;

    if (!c)
        return GR_EINTERNAL;
    st = db_prepare(c, sql, err);
    if (!st)
        return GR_EINTERNAL;
    if (name)
        db_bind_text(st, 1, name);
    else
        db_bind_int(st, 1, id);
    rc = db_read_one(st, a, read, out, err);
    if (rc == GR_ENOTFOUND)
        rc = err_set(err, GR_ENOTFOUND, "", "no such %s", what);
    db_done(st);
    return rc;
}

/*
 * The rows of sql (its parameter: the id cursor) in id order, at most limit,
 * read into a new array of size-byte elements. Unless all, a row whose org
 * unit (column scope_col) is outside scope_root is left out, and so is a row
 * without an org unit unless keep_unscoped.
 */
static int list_scoped(gr_ctx *g, arena *a, const char *sql, int scope_col, int keep_unscoped,
                       int all, int64_t scope_root, int64_t after, int64_t limit, size_t size,
                       db_row_reader read, void **out, size_t *n, gr_err *err)
{
    db_conn *c = reader(g, err);
    db_stmt *st;
    char *v;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (!c)
        return GR_EINTERNAL;
    v = arena_zalloc(a, (size_t)limit * size);
    st = db_prepare(c, sql, err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, after);
    /* Scope is decided by the org tree (org_is_within), row by row: accounts
     * number in the thousands, not millions. */
    while (*n < (size_t)limit && (rc = db_step(st, err)) == DB_ROW) {
        int64_t scope = db_col_int(st, scope_col);

        if (!all &&
            !(scope > 0 ? scope_root > 0 && org_is_within(c, scope_root, scope) : keep_unscoped))
            continue;
        read(st, a, v + (*n)++ * size);
    }
    db_done(st);
    if (rc < 0)
        return rc;
    *out = v;
    return 0;
}

/* A phone sealed for the users table, and its masked form. */
struct sealed_phone {
    unsigned char enc[16 + CRYPTO_SEAL_OVERHEAD];
    size_t len;
    char hint[16];
};

static int phone_seal(gr_ctx *g, const char *phone, struct sealed_phone *out, gr_err *err)
{
    auth_phone_mask(phone, out->hint, sizeof(out->hint));
    return crypto_seal(g->field_key, phone, strlen(phone), PHONE_AD, out->enc, sizeof(out->enc),
                       &out->len, err);
}

/* Binds p (NULL: no phone) to parameter enc (the sealed phone) and hint. */
static void bind_phone(db_stmt *st, int enc, int hint, const struct sealed_phone *p)
{
    if (p) {
        db_bind_blob(st, enc, p->enc, p->len);
        db_bind_text(st, hint, p->hint);
    } else {
        db_bind_null(st, enc);
        db_bind_null(st, hint);
    }
}

/* A write to users failed a constraint other than the username's. The scope
 * was checked against the org tree by the caller: what is left to violate is a
 * reference, to the department when one was named. */
static int user_ref_error(int64_t department_id, gr_err *err)
{
    if (department_id > 0)
        return err_set(err, GR_EINVAL, "department_id", "must name an existing department");
    return err_set(err, GR_EINVAL, "scope_org_id", "must name an existing org unit");
}

static int user_stale_error(int64_t have, gr_err *err)
{
    return err_set(err, GR_ECONFLICT, "version",
                   "is stale: the user was changed meanwhile (now version %lld); "
                   "reload and try again",
                   (long long)have);
}

/* Ends every live session of a user (inside a write). */
static int revoke_sessions(db_conn *c, int64_t user_id, int64_t keep, gr_err *err)
{
    db_stmt *st = db_prepare(
        c, "UPDATE sessions SET revoked = 1 WHERE user_id = ? AND revoked = 0 AND id != ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, user_id);
    db_bind_int(st, 2, keep);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

/* ---- users ---- */

struct user_ins {
    const auth_user_new *in;
    const char *hash;
    const struct sealed_phone *phone; /* NULL: none */
    int64_t id;
};

static int user_insert(db_conn *c, void *arg, gr_err *err)
{
    struct user_ins *w = arg;
    int64_t now = time_now_ms();
    db_stmt *st;
    int rc;

    st = db_prepare(c,
                    "INSERT INTO users(username, display_name, phone_enc, phone_hint, role, "
                    "scope_org_id, department_id, status, password_hash, created_at, updated_at, "
                    "version) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, 1)",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, w->in->username);
    db_bind_text(st, 2, w->in->display_name);
    bind_phone(st, 3, 4, w->phone);
    db_bind_text(st, 5, w->in->role);
    db_bind_int_or_null(st, 6, w->in->scope_org_id);
    db_bind_int_or_null(st, 7, w->in->department_id);
    db_bind_text(st, 8, w->hash);
    db_bind_int(st, 9, now);
    db_bind_int(st, 10, now);
    rc = db_run(st, err);
    db_done(st);
    if (rc == GR_EEXIST)
        return err_set(err, GR_EEXIST, "username", "is already taken");
    if (rc == GR_ECONFLICT)
        return user_ref_error(w->in->department_id, err);
    if (!rc)
        w->id = db_last_id(c);
    return rc;
}

/* Rules a whole user record must satisfy, for create and for the merged patch. */
static int user_shape_check(const char *role, int64_t scope, int64_t dept, gr_err *err)
{
    int rc = auth_role_check(role, "role", err);

    if (rc)
        return rc;
    if (strcmp(role, "resident") != 0 && scope <= 0)
        return err_set(err, GR_EINVAL, "scope_org_id", "is required for staff roles");
    if (strcmp(role, "resident") == 0 && dept > 0)
        return err_set(err, GR_EINVAL, "department_id", "residents belong to no department");
    return 0;
}

int auth_user_create(gr_ctx *g, const auth_user_new *in, int64_t *id, gr_err *err)
{
    char hash[crypto_pwhash_STRBYTES];
    struct sealed_phone phone;
    struct user_ins w = {in, hash, NULL, 0};
    int rc;

    rc = auth_username_check(in->username, "username", err);
    if (!rc)
        rc = display_name_check(in->display_name, "display_name", err);
    if (!rc)
        rc = auth_password_check(in->password, "password", err);
    if (!rc)
        rc = user_shape_check(in->role, in->scope_org_id, in->department_id, err);
    if (!rc && in->phone)
        rc = auth_phone_check(in->phone, "phone", err);
    if (rc)
        goto out;
    if (in->phone) {
        rc = phone_seal(g, in->phone, &phone, err);
        if (rc)
            goto out;
        w.phone = &phone;
    }
    /* argon2 here, on the caller's thread: the writer must never wait for it. */
    rc = auth_password_hash(g, in->password, hash, err);
    if (rc)
        goto out;
    rc = db_write(g->db, user_insert, &w, err);
    if (!rc && id)
        *id = w.id;
out:
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

int auth_user_get(gr_ctx *g, arena *a, int64_t id, auth_user *out, gr_err *err)
{
    return row_get(g, a, "SELECT " USER_COLS " FROM users WHERE id = ?", id, NULL, read_user, out,
                   "user", err);
}

int auth_user_find(gr_ctx *g, arena *a, const char *username, auth_user *out, gr_err *err)
{
    return row_get(g, a, "SELECT " USER_COLS " FROM users WHERE username = ?", 0, username,
                   read_user, out, "user", err);
}

int auth_user_list(gr_ctx *g, arena *a, int all, int64_t scope_root, int64_t after, int64_t limit,
                   auth_user **out, size_t *n, gr_err *err)
{
    void *v;
    /* Users without a scope (residents) are listed to every scope. */
    int rc = list_scoped(g, a, "SELECT " USER_COLS " FROM users WHERE id > ? ORDER BY id",
                         6 /* scope_org_id */, 1, all, scope_root, after, limit, sizeof(**out),
                         read_user, &v, n, err);

    *out = v;
    return rc;
}

struct user_upd {
    int64_t id;
    const auth_user_patch *p;
    const auth_user *merged;
    const char *hash;                 /* NULL: unchanged */
    const struct sealed_phone *phone; /* with p->set_phone; NULL: cleared */
    int end_sessions;
};

static int user_update(db_conn *c, void *arg, gr_err *err)
{
    struct user_upd *w = arg;
    const auth_user *m = w->merged;
    db_stmt *st;
    int64_t have = 0;
    int rc;

    st = db_prepare(c,
                    "UPDATE users SET display_name = ?, role = ?, scope_org_id = ?, "
                    "department_id = ?, status = ?, "
                    "phone_enc = CASE WHEN ? THEN ? ELSE phone_enc END, "
                    "phone_hint = CASE WHEN ? THEN ? ELSE phone_hint END, "
                    "password_hash = coalesce(?, password_hash), updated_at = ?, "
                    "version = version + 1 WHERE id = ? AND version = ?",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, m->display_name);
    db_bind_text(st, 2, m->role);
    db_bind_int_or_null(st, 3, m->scope_org_id);
    db_bind_int_or_null(st, 4, m->department_id);
    db_bind_text(st, 5, m->status);
    db_bind_int(st, 6, w->p->set_phone);
    bind_phone(st, 7, 9, w->phone);
    db_bind_int(st, 8, w->p->set_phone);
    db_bind_text(st, 10, w->hash);
    db_bind_int(st, 11, time_now_ms());
    db_bind_int(st, 12, w->id);
    db_bind_int(st, 13, w->p->version);
    rc = db_run(st, err);
    db_done(st);
    if (rc == GR_ECONFLICT)
        return user_ref_error(m->department_id, err);
    if (rc)
        return rc;
    if (db_changes(c) == 0) {
        rc = db_query_int(c, "SELECT version FROM users WHERE id = ?", w->id, 0, &have, err);
        if (rc)
            return rc;
        if (!have)
            return err_set(err, GR_ENOTFOUND, "", "no such user");
        return user_stale_error(have, err);
    }
    if (w->end_sessions)
        rc = revoke_sessions(c, w->id, 0, err);
    return rc;
}

int auth_user_update(gr_ctx *g, int64_t id, const auth_user_patch *p, gr_err *err)
{
    char hash[crypto_pwhash_STRBYTES];
    struct sealed_phone phone;
    arena *a = arena_new();
    auth_user cur, m;
    struct user_upd w = {id, p, &m, NULL, NULL, 0};
    int rc;

    rc = auth_user_get(g, a, id, &cur, err);
    if (rc)
        goto out;
    m = cur;
    if (p->display_name)
        m.display_name = p->display_name;
    if (p->role)
        m.role = p->role;
    if (p->status)
        m.status = p->status;
    if (p->set_scope)
        m.scope_org_id = p->scope_org_id;
    if (p->set_department)
        m.department_id = p->department_id;
    if (p->display_name)
        rc = display_name_check(p->display_name, "display_name", err);
    if (!rc && p->status)
        rc = status_check(p->status, "status", err);
    if (!rc && p->password)
        rc = auth_password_check(p->password, "password", err);
    if (!rc && p->set_phone && p->phone)
        rc = auth_phone_check(p->phone, "phone", err);
    if (!rc)
        rc = user_shape_check(m.role, m.scope_org_id, m.department_id, err);
    if (rc)
        goto out;
    /* Fail fast before hashing; the write checks the version again. */
    if (cur.version != p->version) {
        rc = user_stale_error(cur.version, err);
        goto out;
    }
    if (p->set_phone && p->phone) {
        rc = phone_seal(g, p->phone, &phone, err);
        if (rc)
            goto out;
        w.phone = &phone;
    }
    if (p->password) {
        rc = auth_password_hash(g, p->password, hash, err);
        if (rc)
            goto out;
        w.hash = hash;
    }
    /* Whoever held the old password, role or scope must sign in again. */
    w.end_sessions = p->password || strcmp(m.status, "active") != 0 ||
                     strcmp(m.role, cur.role) != 0 || m.scope_org_id != cur.scope_org_id;
    rc = db_write(g->db, user_update, &w, err);
out:
    sodium_memzero(hash, sizeof(hash));
    arena_free(a);
    return rc;
}

int auth_user_phone(gr_ctx *g, int64_t id, char *out, size_t len, gr_err *err)
{
    db_conn *c = reader(g, err);
    db_stmt *st;
    const void *blob;
    size_t n = 0;
    int rc;

    out[0] = '\0';
    if (!c)
        return GR_EINTERNAL;
    st = db_prepare(c, "SELECT phone_enc FROM users WHERE id = ?", err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "", "no such user");
    } else if (rc == DB_ROW) {
        blob = db_col_blob(st, 0, &n);
        rc = 0;
        if (blob && n) {
            rc = crypto_open(g->field_key, blob, n, PHONE_AD, (unsigned char *)out, len, NULL, err);
            if (rc) {
                log_msg(LOG_ERROR, "auth.phone", "user %lld: the sealed phone does not open",
                        (long long)id);
                rc = err_set(err, GR_EINTERNAL, "", "cannot decrypt");
            }
        }
    }
    db_done(st);
    return rc;
}

/* ---- throttling ---- */

int64_t auth_throttle_delay(int64_t failures, int64_t free_failures, int64_t base_ms)
{
    int64_t d, k;

    if (failures < free_failures)
        return 0;
    k = failures - free_failures;
    d = base_ms;
    while (k-- > 0 && d < AUTH_THROTTLE_MAX_MS)
        d *= 2;
    return d < AUTH_THROTTLE_MAX_MS ? d : AUTH_THROTTLE_MAX_MS;
}

struct throttle_keys {
    char user[5 + 2 * CRYPTO_HASH_BYTES + 1];
    char addr[5 + 2 * CRYPTO_HASH_BYTES + 1];
};

/* "<kind>:" and the hex of a keyed hash of the value (kind is "user" or "addr"). */
static void throttle_key_make(gr_ctx *g, const char *kind, const char *value, char *out, size_t len)
{
    unsigned char h[CRYPTO_HASH_BYTES];
    char in[512];
    int n;

    n = snprintf(in, sizeof(in), "login-%s:%s", kind, value ? value : "");
    crypto_hash_keyed(g->index_key, in, (size_t)n < sizeof(in) ? (size_t)n : sizeof(in) - 1, h);
    n = snprintf(out, len, "%s:", kind);
    sodium_bin2hex(out + n, len - (size_t)n, h, sizeof(h));
}

/* Keys name a hash of the (lower-cased) username and of the address: unknown
 * usernames are throttled like known ones, and no address is stored. */
static void throttle_keys_make(gr_ctx *g, const char *username, const char *addr,
                               struct throttle_keys *k)
{
    throttle_key_make(g, "user", username, k->user, sizeof(k->user));
    throttle_key_make(g, "addr", addr, k->addr, sizeof(k->addr));
}

/* The record of key if it is in the window: failures in a row and when the
 * next attempt is allowed (0 and 0 when none). */
static int throttle_get(db_conn *c, const char *key, int64_t now, int64_t *failures,
                        int64_t *next_at, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT failures, next_allowed_at FROM login_attempts "
                             "WHERE key = ? AND updated_at >= ?",
                             err);
    int rc;

    *failures = 0;
    *next_at = 0;
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, key);
    db_bind_int(st, 2, now - AUTH_THROTTLE_WINDOW_MS);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *failures = db_col_int(st, 0);
        *next_at = db_col_int(st, 1);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

/* Milliseconds until key may try again (0: now). */
static int throttle_wait(db_conn *c, const char *key, int64_t now, int64_t *wait, gr_err *err)
{
    int64_t failures, next_at;
    int rc = throttle_get(c, key, now, &failures, &next_at, err);

    *wait = next_at > now ? next_at - now : 0;
    return rc;
}

/* A success forgets the failures of key (inside a write). */
static int throttle_clear(db_conn *c, const char *key, gr_err *err)
{
    db_stmt *st = db_prepare(c, "DELETE FROM login_attempts WHERE key = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, key);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

static int throttle_check(gr_ctx *g, const struct throttle_keys *k, int use_addr, int64_t *retry_ms,
                          gr_err *err)
{
    db_conn *c = reader(g, err);
    int64_t now = time_now_ms(), w1 = 0, w2 = 0;
    int rc;

    if (!c)
        return GR_EINTERNAL;
    rc = throttle_wait(c, k->user, now, &w1, err);
    if (!rc && use_addr)
        rc = throttle_wait(c, k->addr, now, &w2, err);
    if (rc)
        return rc;
    *retry_ms = w1 > w2 ? w1 : w2;
    if (*retry_ms > 0)
        return err_set(err, GR_ETHROTTLED, "",
                       "too many failed attempts; try again in %lld seconds",
                       (long long)((*retry_ms + 999) / 1000));
    return 0;
}

static int throttle_bump(db_conn *c, const char *key, int64_t free_failures, int64_t base,
                         int64_t now, gr_err *err)
{
    db_stmt *st;
    int64_t f, next_at, delay;
    int rc;

    rc = throttle_get(c, key, now, &f, &next_at, err);
    if (rc)
        return rc;
    f++;
    delay = auth_throttle_delay(f, free_failures, base);
    st = db_prepare(c,
                    "INSERT OR REPLACE INTO login_attempts(key, failures, next_allowed_at, "
                    "updated_at) VALUES (?, ?, ?, ?)",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, key);
    db_bind_int(st, 2, f);
    db_bind_int(st, 3, delay ? now + delay : 0);
    db_bind_int(st, 4, now);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

struct throttle_fail {
    const struct throttle_keys *k;
    int use_addr;
    int64_t base;
};

static int throttle_fail_write(db_conn *c, void *arg, gr_err *err)
{
    struct throttle_fail *w = arg;
    int64_t now = time_now_ms();
    db_stmt *st;
    int rc;

    rc = throttle_bump(c, w->k->user, AUTH_THROTTLE_USER_FREE, w->base, now, err);
    if (!rc && w->use_addr)
        rc = throttle_bump(c, w->k->addr, AUTH_THROTTLE_ADDR_FREE, w->base, now, err);
    if (rc)
        return rc;
    /* Forget old failures a few at a time, so the table stays small. */
    st = db_prepare(c,
                    "DELETE FROM login_attempts WHERE key IN (SELECT key FROM login_attempts "
                    "WHERE updated_at < ? LIMIT 32)",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, now - AUTH_THROTTLE_WINDOW_MS);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

static void throttle_fail(gr_ctx *g, const struct throttle_keys *k, int use_addr)
{
    struct throttle_fail w = {k, use_addr, g->auth->throttle_base_ms};
    gr_err e = {0};

    if (db_write(g->db, throttle_fail_write, &w, &e))
        log_msg(LOG_ERROR, "auth.throttle", "cannot record a failed attempt: %s", e.msg);
}

/* ---- sessions ---- */

struct session_ins {
    int64_t user_id;
    unsigned char hash[CRYPTO_HASH_BYTES];
    const char *csrf;
    const char *user_key; /* the throttle key to clear */
    int64_t id;
};

static int session_insert(db_conn *c, void *arg, gr_err *err)
{
    struct session_ins *w = arg;
    int64_t now = time_now_ms();
    db_stmt *st;
    int rc;

    /* Disabled between the password check and now? Then no session. */
    st = db_prepare(c, "SELECT status FROM users WHERE id = ?", err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, w->user_id);
    rc = db_step(st, err);
    if (rc == DB_ROW)
        rc = strcmp(db_col_text(st, 0), "active") == 0 ? 0 : GR_EAUTH;
    else if (rc == DB_DONE)
        rc = GR_EAUTH;
    db_done(st);
    if (rc == GR_EAUTH)
        return err_set(err, GR_EAUTH, "", "wrong username or password");
    if (rc)
        return rc;
    /* Tidy this user's ended sessions. */
    st = db_prepare(c,
                    "DELETE FROM sessions WHERE user_id = ? AND (revoked = 1 OR expires_at <= ? "
                    "OR last_seen_at <= ?)",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, w->user_id);
    db_bind_int(st, 2, now);
    db_bind_int(st, 3, now - AUTH_SESSION_IDLE_MS);
    rc = db_run(st, err);
    db_done(st);
    if (rc)
        return rc;
    st = db_prepare(c,
                    "INSERT INTO sessions(token_hash, user_id, csrf_token, created_at, expires_at, "
                    "last_seen_at, revoked) VALUES (?, ?, ?, ?, ?, ?, 0)",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_blob(st, 1, w->hash, sizeof(w->hash));
    db_bind_int(st, 2, w->user_id);
    db_bind_text(st, 3, w->csrf);
    db_bind_int(st, 4, now);
    db_bind_int(st, 5, now + AUTH_SESSION_MAX_MS);
    db_bind_int(st, 6, now);
    rc = db_run(st, err);
    db_done(st);
    if (rc)
        return rc;
    w->id = db_last_id(c);
    return throttle_clear(c, w->user_key, err);
}

int auth_login_password(gr_ctx *g, arena *a, const char *username, const char *password,
                        const char *addr, auth_login *out, gr_err *err)
{
    struct throttle_keys k;
    struct session_ins w;
    struct user_secret s = {&out->user, NULL};
    unsigned char raw[CRYPTO_TOKEN_BYTES], craw[CRYPTO_TOKEN_BYTES];
    char *name = arena_strdup(a, username ? username : "");
    char *p;
    int rc, found, ok;

    memset(out, 0, sizeof(*out));
    for (p = name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    throttle_keys_make(g, name, addr, &k);
    rc = throttle_check(g, &k, 1, &out->retry_after_ms, err);
    if (rc)
        goto out;
    rc = row_get(g, a, "SELECT " USER_COLS ", password_hash FROM users WHERE username = ?", 0, name,
                 read_user_secret, &s, "user", err);
    if (rc && rc != GR_ENOTFOUND)
        goto out;
    found = rc == 0;
    /* Unknown names cost one argon2 run as well: timing must not tell which
     * usernames exist. */
    ok = auth_password_verify(g, found ? s.hash : dummy_hash(g), password ? password : "");
    if (!found || !ok || strcmp(out->user.status, "active") != 0) {
        throttle_fail(g, &k, 1);
        log_obj(LOG_INFO, "auth.login_failed",
                json_pack("{s:I}", "user_id", (json_int_t)(found ? out->user.id : 0)));
        rc = err_set(err, GR_EAUTH, "", "wrong username or password");
        goto out;
    }
    crypto_token_new(raw, out->token);
    crypto_token_new(craw, out->csrf);
    memset(&w, 0, sizeof(w));
    w.user_id = out->user.id;
    crypto_hash_token(g->index_key, raw, w.hash);
    w.csrf = out->csrf;
    w.user_key = k.user;
    rc = db_write(g->db, session_insert, &w, err);
    if (rc)
        goto out;
    out->session_id = w.id;
    log_obj(LOG_INFO, "auth.login",
            json_pack("{s:I, s:I}", "user_id", (json_int_t)out->user.id, "session_id",
                      (json_int_t)w.id));
out:
    sodium_memzero(raw, sizeof(raw));
    sodium_memzero(craw, sizeof(craw));
    if (rc) {
        sodium_memzero(out->token, sizeof(out->token));
        sodium_memzero(out->csrf, sizeof(out->csrf));
    }
    return rc;
}

struct touch {
    const char *sql;
    int64_t id;
};

static int touch_write(db_conn *c, void *arg, gr_err *err)
{
    struct touch *t = arg;
    db_stmt *st = db_prepare(c, t->sql, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, time_now_ms());
    db_bind_int(st, 2, t->id);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

/* How a secret a client holds (a session cookie, an API token) is found. */
struct credential_kind {
    /* Selects the live credential's id, user_id, its text (the CSRF token or
     * the scopes), its last use and its active owner's username, role and
     * scope_org_id and department_id by ?1 the secret's hash, ?2 now and, with idle, ?3 the
     * oldest last use allowed. */
    const char *select;
    int idle;
    const char *touch; /* sets the last use: ?1 now, ?2 the id */
    const char *event, *what;
};

/* For the live credential whose secret is raw: its *id and *text, and who's
 * user_id, username, role and scope_org_id. Its use is recorded at most once
 * per AUTH_SESSION_TOUCH_MS; a failure to record it is logged and does not
 * refuse the request. GR_EAUTH when no live credential has that secret. */
static int credential_resolve(gr_ctx *g, arena *a, const unsigned char *raw,
                              const struct credential_kind *k, int64_t *id, const char **text,
                              http_principal *who)
{
    unsigned char h[CRYPTO_HASH_BYTES];
    int64_t now = time_now_ms(), last = 0;
    db_conn *c;
    db_stmt *st;
    int rc = GR_EAUTH;

    crypto_hash_token(g->index_key, raw, h);
    c = db_reader(g->db);
    if (!c)
        return GR_EINTERNAL;
    st = db_prepare(c, k->select, NULL);
    if (!st)
        return GR_EINTERNAL;
    db_bind_blob(st, 1, h, sizeof(h));
    db_bind_int(st, 2, now);
    if (k->idle)
        db_bind_int(st, 3, now - AUTH_SESSION_IDLE_MS);
    if (db_step(st, NULL) == DB_ROW) {
        *id = db_col_int(st, 0);
        who->user_id = db_col_int(st, 1);
        *text = db_col_textdup(st, 2, a);
        last = db_col_int(st, 3);
        who->username = db_col_textdup(st, 4, a);
        who->role = db_col_textdup(st, 5, a);
        who->scope_org_id = db_col_int(st, 6);
        who->department_id = db_col_int(st, 7);
        rc = 0;
    }
    db_done(st);
    if (!rc && now - last >= AUTH_SESSION_TOUCH_MS) {
        struct touch t = {k->touch, *id};
        gr_err e = {0};

        if (db_write(g->db, touch_write, &t, &e))
            log_msg(LOG_WARN, k->event, "cannot record the %s's use: %s", k->what, e.msg);
    }
    return rc;
}

int auth_principal_find(db_conn *c, arena *a, const char *username, http_principal *out,
                        gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT id, username, role, scope_org_id, department_id FROM users "
                             "WHERE username = ? AND status = 'active'",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    memset(out, 0, sizeof(*out));
    db_bind_text(st, 1, username);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        out->user_id = db_col_int(st, 0);
        out->username = db_col_textdup(st, 1, a);
        out->role = db_col_textdup(st, 2, a);
        out->scope_org_id = db_col_int(st, 3);
        out->department_id = db_col_int(st, 4);
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "username", "no active account %.32s",
                     username ? username : "");
    }
    db_done(st);
    return rc;
}

int auth_session_resolve(gr_ctx *g, arena *a, const char *token, http_principal *who,
                         const char **csrf)
{
    /* The last use is the idle clock. */
    static const struct credential_kind session = {
        "SELECT s.id, s.user_id, s.csrf_token, s.last_seen_at, u.username, u.role, "
        "u.scope_org_id, u.department_id FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ? AND s.revoked = 0 AND s.expires_at > ? "
        "AND s.last_seen_at > ? AND u.status = 'active'",
        1, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", "auth.session", "session"};
    unsigned char raw[CRYPTO_TOKEN_BYTES];
    int rc;

    if (crypto_token_parse(token, raw) != 0)
        return GR_EAUTH;
    rc = credential_resolve(g, a, raw, &session, &who->session_id, csrf, who);
    if (!rc) {
        who->token_id = 0;
        who->token_scopes = NULL;
    }
    return rc;
}

static int revoke_write(db_conn *c, void *arg, gr_err *err)
{
    struct touch *t = arg;
    db_stmt *st = db_prepare(c, t->sql, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, t->id);
    rc = db_run(st, err);
    db_done(st);
    if (!rc && db_changes(c) == 0)
        rc = err_set(err, GR_ENOTFOUND, "", "no such item");
    return rc;
}

int auth_session_revoke(gr_ctx *g, int64_t session_id, gr_err *err)
{
    struct touch t = {"UPDATE sessions SET revoked = 1 WHERE id = ?", session_id};

    return db_write(g->db, revoke_write, &t, err);
}

int auth_session_csrf(gr_ctx *g, arena *a, int64_t session_id, const char **csrf, gr_err *err)
{
    *csrf = NULL;
    return row_get(g, a, "SELECT csrf_token FROM sessions WHERE id = ?", session_id, NULL,
                   read_text, csrf, "session", err);
}

struct pw_change {
    int64_t user_id, keep, version;
    const char *hash;
    const char *user_key;
};

static int pw_change_write(db_conn *c, void *arg, gr_err *err)
{
    struct pw_change *w = arg;
    db_stmt *st;
    int rc;

    st = db_prepare(c,
                    "UPDATE users SET password_hash = ?, updated_at = ?, version = version + 1 "
                    "WHERE id = ? AND version = ?",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, w->hash);
    db_bind_int(st, 2, time_now_ms());
    db_bind_int(st, 3, w->user_id);
    db_bind_int(st, 4, w->version);
    rc = db_run(st, err);
    db_done(st);
    if (rc)
        return rc;
    if (db_changes(c) == 0)
        return err_set(err, GR_ECONFLICT, "", "the account was changed meanwhile; try again");
    rc = revoke_sessions(c, w->user_id, w->keep, err);
    if (!rc)
        rc = throttle_clear(c, w->user_key, err);
    return rc;
}

int auth_password_change(gr_ctx *g, int64_t user_id, int64_t keep_session, const char *addr,
                         const char *old_password, const char *new_password,
                         int64_t *retry_after_ms, gr_err *err)
{
    char hash[crypto_pwhash_STRBYTES];
    struct throttle_keys k;
    struct pw_change w;
    arena *a = arena_new();
    auth_user u;
    struct user_secret s = {&u, NULL};
    int rc;

    memset(&w, 0, sizeof(w));
    *retry_after_ms = 0;
    rc = auth_password_check(new_password, "new_password", err);
    if (rc)
        goto out;
    rc = row_get(g, a, "SELECT " USER_COLS ", password_hash FROM users WHERE id = ?", user_id, NULL,
                 read_user_secret, &s, "user", err);
    if (rc)
        goto out;
    /* Someone at an unlocked screen could otherwise guess the old password freely. */
    throttle_keys_make(g, u.username, addr, &k);
    rc = throttle_check(g, &k, 0, retry_after_ms, err);
    if (rc)
        goto out;
    if (!auth_password_verify(g, s.hash, old_password ? old_password : "")) {
        throttle_fail(g, &k, 0);
        rc = err_set(err, GR_EINVAL, "old_password", "is not the current password");
        goto out;
    }
    rc = auth_password_hash(g, new_password, hash, err);
    if (rc)
        goto out;
    w.user_id = user_id;
    w.keep = keep_session;
    w.version = u.version;
    w.hash = hash;
    w.user_key = k.user;
    rc = db_write(g->db, pw_change_write, &w, err);
    if (!rc)
        log_obj(LOG_INFO, "auth.password_changed",
                json_pack("{s:I}", "user_id", (json_int_t)user_id));
out:
    sodium_memzero(hash, sizeof(hash));
    arena_free(a);
    return rc;
}

/* ---- API tokens ---- */

/* Checks the scopes against the table and the owner's role. */
static int token_scopes_check(const char *scopes, const char *role, gr_err *err)
{
    char list[1024], *save = NULL, *tok, *seen[64];
    size_t n = 0, i;

    if (!scopes || strlen(scopes) >= sizeof(list))
        return err_set(err, GR_EINVAL, "scopes", "is too long");
    snprintf(list, sizeof(list), "%s", scopes);
    for (tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (!policy_action_known(tok) || strcmp(tok, "public") == 0 || strcmp(tok, "session") == 0)
            return err_set(err, GR_EINVAL, "scopes", "'%s' is not an action a token can hold", tok);
        if (!policy_allows(role, tok))
            return err_set(err, GR_EFORBIDDEN, "scopes",
                           "'%s' is not allowed to the token's owner (role %s)", tok, role);
        for (i = 0; i < n; i++)
            if (strcmp(seen[i], tok) == 0)
                return err_set(err, GR_EINVAL, "scopes", "'%s' is listed twice", tok);
        if (n == sizeof(seen) / sizeof(seen[0]))
            return err_set(err, GR_EINVAL, "scopes", "lists too many actions");
        seen[n++] = tok;
    }
    if (n == 0)
        return err_set(err, GR_EINVAL, "scopes", "must list at least one action");
    return 0;
}

struct token_ins {
    int64_t owner;
    const char *name, *scopes;
    int64_t expires_at;
    unsigned char hash[CRYPTO_HASH_BYTES];
    int64_t id;
};

static int token_insert(db_conn *c, void *arg, gr_err *err)
{
    struct token_ins *w = arg;
    db_stmt *st;
    int rc;

    st = db_prepare(c,
                    "INSERT INTO api_tokens(name, token_hash, user_id, scopes, created_at, "
                    "expires_at, revoked) VALUES (?, ?, ?, ?, ?, ?, 0)",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, w->name);
    db_bind_blob(st, 2, w->hash, sizeof(w->hash));
    db_bind_int(st, 3, w->owner);
    db_bind_text(st, 4, w->scopes);
    db_bind_int(st, 5, time_now_ms());
    db_bind_int(st, 6, w->expires_at);
    rc = db_run(st, err);
    db_done(st);
    if (!rc)
        w->id = db_last_id(c);
    return rc;
}

int auth_token_create(gr_ctx *g, int64_t owner, const char *name, const char *scopes, int days,
                      char text[AUTH_TOKEN_TEXT], int64_t *id, gr_err *err)
{
    unsigned char raw[CRYPTO_TOKEN_BYTES];
    char tok[CRYPTO_TOKEN_TEXT];
    struct token_ins w;
    arena *a = arena_new();
    auth_user u;
    int rc;

    text[0] = '\0';
    memset(&w, 0, sizeof(w));
    rc = display_name_check(name, "name", err);
    if (!rc && (days < 1 || days > AUTH_TOKEN_DAYS_MAX))
        rc = err_set(err, GR_EINVAL, "expires_in_days", "must be between 1 and %d",
                     AUTH_TOKEN_DAYS_MAX);
    if (!rc)
        rc = auth_user_get(g, a, owner, &u, err);
    if (!rc)
        rc = token_scopes_check(scopes, u.role, err);
    if (rc)
        goto out;
    crypto_token_new(raw, tok);
    w.owner = owner;
    w.name = name;
    w.scopes = scopes;
    w.expires_at = time_now_ms() + (int64_t)days * 24 * 3600 * 1000;
    crypto_hash_token(g->index_key, raw, w.hash);
    rc = db_write(g->db, token_insert, &w, err);
    if (rc)
        goto out;
    snprintf(text, AUTH_TOKEN_TEXT, AUTH_TOKEN_PREFIX "%s", tok);
    if (id)
        *id = w.id;
    log_obj(LOG_INFO, "auth.token_created",
            json_pack("{s:I, s:I}", "token_id", (json_int_t)w.id, "user_id", (json_int_t)owner));
out:
    sodium_memzero(raw, sizeof(raw));
    sodium_memzero(tok, sizeof(tok));
    arena_free(a);
    return rc;
}

#define TOKEN_COLS                                                                                 \
    "t.id, t.user_id, t.name, t.scopes, u.username, u.scope_org_id, t.created_at, "                \
    "t.expires_at, t.last_used_at, t.revoked FROM api_tokens t JOIN users u ON u.id = t.user_id"

static void read_token(db_stmt *st, arena *a, void *out)
{
    auth_token *t = out;

    t->id = db_col_int(st, 0);
    t->user_id = db_col_int(st, 1);
    t->name = db_col_textdup(st, 2, a);
    t->scopes = db_col_textdup(st, 3, a);
    t->owner = db_col_textdup(st, 4, a);
    t->owner_scope = db_col_int(st, 5);
    t->created_at = db_col_int(st, 6);
    t->expires_at = db_col_int(st, 7);
    t->last_used_at = db_col_int(st, 8);
    t->revoked = (int)db_col_int(st, 9);
}

int auth_token_get(gr_ctx *g, arena *a, int64_t id, auth_token *out, gr_err *err)
{
    return row_get(g, a, "SELECT " TOKEN_COLS " WHERE t.id = ?", id, NULL, read_token, out, "token",
                   err);
}

int auth_token_list(gr_ctx *g, arena *a, int all, int64_t scope_root, int64_t after, int64_t limit,
                    auth_token **out, size_t *n, gr_err *err)
{
    void *v;
    /* A token whose owner has no scope is listed to nobody but `all`. */
    int rc = list_scoped(g, a, "SELECT " TOKEN_COLS " WHERE t.id > ? ORDER BY t.id",
                         5 /* u.scope_org_id */, 0, all, scope_root, after, limit, sizeof(**out),
                         read_token, &v, n, err);

    *out = v;
    return rc;
}

int auth_token_revoke(gr_ctx *g, int64_t id, gr_err *err)
{
    struct touch t = {"UPDATE api_tokens SET revoked = 1 WHERE id = ?", id};
    int rc = db_write(g->db, revoke_write, &t, err);

    if (!rc)
        log_obj(LOG_INFO, "auth.token_revoked", json_pack("{s:I}", "token_id", (json_int_t)id));
    return rc;
}

int auth_token_resolve(gr_ctx *g, arena *a, const char *text, http_principal *who)
{
    static const struct credential_kind token = {
        "SELECT t.id, t.user_id, t.scopes, t.last_used_at, u.username, u.role, "
        "u.scope_org_id, u.department_id FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE t.token_hash = ? AND t.revoked = 0 AND t.expires_at > ? "
        "AND u.status = 'active'",
        0, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", "auth.token", "token"};
    unsigned char raw[CRYPTO_TOKEN_BYTES];
    const size_t plen = strlen(AUTH_TOKEN_PREFIX);
    int rc;

    if (!text || strncmp(text, AUTH_TOKEN_PREFIX, plen) != 0 ||
        crypto_token_parse(text + plen, raw) != 0)
        return GR_EAUTH;
    rc = credential_resolve(g, a, raw, &token, &who->token_id, &who->token_scopes, who);
    if (!rc)
        who->session_id = 0;
    return rc;
}
