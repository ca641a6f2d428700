/*
 * The model of accounts and access, used by the HTTP handlers (auth_api.c),
 * the hooks (auth_hooks.c), the command line (auth_cli.c) and the demo. Inside
 * src/auth only: other modules see auth.h.
 *
 * Every function takes the application context g (its db, keys and
 * g->auth). Strings returned in structs live in the arena the caller passes.
 * Expensive work (argon2id) always runs on the caller's thread, never inside
 * a db_write function, and at most AUTH_MAX_HASHING hashes run at once.
 */
#ifndef GR_AUTH_MODEL_H
#define GR_AUTH_MODEL_H

#include "base/arena.h"
#include "base/crypto.h"
#include "http/http.h"

#include <stdint.h>

#define AUTH_PASSWORD_MIN 10
#define AUTH_PASSWORD_MAX 256
#define AUTH_MAX_HASHING  2

/* Session lifetime: absolute and idle. last_seen_at is written at most once per
 * AUTH_SESSION_TOUCH_MS. */
#define AUTH_SESSION_MAX_MS   (7LL * 24 * 3600 * 1000)
#define AUTH_SESSION_IDLE_MS  (12LL * 3600 * 1000)
#define AUTH_SESSION_TOUCH_MS (60LL * 1000)

/* Throttling: after this many failures in a row (per account, per address),
 * each attempt waits base (GR_THROTTLE_BASE_MS, default 1 s) doubled per
 * further failure, at most AUTH_THROTTLE_MAX_MS. Failures older than
 * AUTH_THROTTLE_WINDOW_MS are forgotten. */
#define AUTH_THROTTLE_USER_FREE 5
#define AUTH_THROTTLE_ADDR_FREE 20
#define AUTH_THROTTLE_MAX_MS    (15LL * 60 * 1000)
#define AUTH_THROTTLE_WINDOW_MS (60LL * 60 * 1000)

/* API tokens: "grt_" and a base64url token; 1..365 days. */
#define AUTH_TOKEN_PREFIX   "grt_"
#define AUTH_TOKEN_TEXT     (4 + CRYPTO_TOKEN_TEXT)
#define AUTH_TOKEN_DAYS_MAX 365

#define AUTH_SESSION_COOKIE "gr_session"

/* The module state (gr_ctx.auth). Owned by gr_ctx; auth_ctx_open/close. */
struct auth_ctx;

typedef struct auth_user {
    int64_t id;
    const char *username;
    const char *display_name;
    const char *role;
    const char *status;     /* "active" or "disabled" */
    const char *phone_hint; /* "138****5678", or NULL */
    int64_t scope_org_id;   /* 0: none */
    int64_t department_id;  /* 0: none */
    int64_t created_at, updated_at, version;
} auth_user;

typedef struct auth_user_new {
    const char *username;
    const char *display_name;
    const char *password;
    const char *role;
    const char *phone; /* NULL: none */
    int64_t scope_org_id;
    int64_t department_id;
} auth_user_new;

/* A change to a user; unset members are left as they are. */
typedef struct auth_user_patch {
    int64_t version; /* the version the change was made from: stale -> GR_ECONFLICT */
    const char *display_name, *role, *status, *password;
    int set_scope, set_department, set_phone;
    int64_t scope_org_id, department_id;
    const char *phone; /* with set_phone: NULL clears */
} auth_user_patch;

typedef struct auth_token {
    int64_t id;
    int64_t user_id;
    const char *name;
    const char *scopes; /* space-separated actions */
    const char *owner;  /* the owner's username */
    int64_t owner_scope;
    int64_t created_at, expires_at, last_used_at; /* last_used_at 0: never */
    int revoked;
} auth_token;

/* ---- rules ---- */

/* 3..32 characters: a lower-case letter, then lower-case letters, digits, '_', '.', '-'. */
int auth_username_check(const char *username, const char *field, gr_err *err);
/* AUTH_PASSWORD_MIN..AUTH_PASSWORD_MAX characters (Unicode code points). */
int auth_password_check(const char *password, const char *field, gr_err *err);
/* A mainland mobile number: 11 digits, ^1[3-9][0-9]{9}$ (validate_mobile). */
int auth_phone_check(const char *phone, const char *field, gr_err *err);
/* "13812345678" -> "138****5678" (out: at least 12 bytes; mask_text with the
 * default policy). */
void auth_phone_mask(const char *phone, char *out, size_t len);
int auth_role_check(const char *role, const char *field, gr_err *err);

/* ---- passwords ---- */

int auth_password_hash(gr_ctx *g, const char *password, char out[crypto_pwhash_STRBYTES],
                       gr_err *err);
/* 1 when password matches hash. */
int auth_password_verify(gr_ctx *g, const char *hash, const char *password);

/* ---- users ---- */

int auth_user_create(gr_ctx *g, const auth_user_new *in, int64_t *id, gr_err *err);
int auth_user_get(gr_ctx *g, arena *a, int64_t id, auth_user *out, gr_err *err);
int auth_user_find(gr_ctx *g, arena *a, const char *username, auth_user *out, gr_err *err);
/* Users with id > after, in id order, at most limit. With all == 0 only users
 * whose scope is within scope_root, and users without a scope (residents). */
int auth_user_list(gr_ctx *g, arena *a, int all, int64_t scope_root, int64_t after, int64_t limit,
                   auth_user **out, size_t *n, gr_err *err);
/* Applies p to user id (validating the merged record). A new password, a
 * disabled status or a changed role or scope ends the user's sessions. */
int auth_user_update(gr_ctx *g, int64_t id, const auth_user_patch *p, gr_err *err);
/* The decrypted phone of user id into out (at least 16 bytes); "" when none. */
int auth_user_phone(gr_ctx *g, int64_t id, char *out, size_t len, gr_err *err);

/* ---- sessions ---- */

typedef struct auth_login {
    auth_user user;
    int64_t session_id;
    char token[CRYPTO_TOKEN_TEXT]; /* the cookie value */
    char csrf[CRYPTO_TOKEN_TEXT];
    int64_t retry_after_ms; /* with GR_ETHROTTLED */
} auth_login;

/* Checks the throttle, the password and the account, then opens a session.
 * GR_EAUTH with one message for every kind of wrong credentials; GR_ETHROTTLED
 * with out->retry_after_ms. addr is the client's address (hashed, never stored). */
int auth_login_password(gr_ctx *g, arena *a, const char *username, const char *password,
                        const char *addr, auth_login *out, gr_err *err);
/* Fills who (strings in a) and *csrf for a live session; GR_EAUTH otherwise. */
int auth_session_resolve(gr_ctx *g, arena *a, const char *token, http_principal *who,
                         const char **csrf);
int auth_session_revoke(gr_ctx *g, int64_t session_id, gr_err *err);
/* The CSRF token of a session (in a), for a page that reloads. */
int auth_session_csrf(gr_ctx *g, arena *a, int64_t session_id, const char **csrf, gr_err *err);
/* A signed-in user changes their own password; other sessions are ended.
 * Wrong old passwords count towards the account's throttle. */
int auth_password_change(gr_ctx *g, int64_t user_id, int64_t keep_session, const char *addr,
                         const char *old_password, const char *new_password,
                         int64_t *retry_after_ms, gr_err *err);

/* ---- API tokens ---- */

/* scopes: space-separated known actions, each allowed to the owner's role.
 * text receives the token (shown once). */
int auth_token_create(gr_ctx *g, int64_t owner, const char *name, const char *scopes, int days,
                      char text[AUTH_TOKEN_TEXT], int64_t *id, gr_err *err);
int auth_token_get(gr_ctx *g, arena *a, int64_t id, auth_token *out, gr_err *err);
/* Tokens with id > after whose owner is within scope_root (all == 0) or any. */
int auth_token_list(gr_ctx *g, arena *a, int all, int64_t scope_root, int64_t after, int64_t limit,
                    auth_token **out, size_t *n, gr_err *err);
int auth_token_revoke(gr_ctx *g, int64_t id, gr_err *err);
/* Fills who for a live token of an active owner; GR_EAUTH otherwise. */
int auth_token_resolve(gr_ctx *g, arena *a, const char *text, http_principal *who);

/* ---- throttling (exposed for the tests) ---- */

int64_t auth_throttle_delay(int64_t failures, int64_t free_failures, int64_t base_ms);

#endif
