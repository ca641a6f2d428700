/*
 * The server's hooks: who is asking (session cookie or Bearer token, with the
 * CSRF check for cookies) and whether they may (the policy table).
 */
#include "auth/auth.h"
#include "auth/auth_model.h"
#include "auth/policy.h"
#include "base/log.h"

#include <string.h>
#include <strings.h>

#define CHALLENGE "Bearer realm=\"grassroots\""

static int is_unsafe(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

/* The value of cookie name in a Cookie header, copied into out, or NULL. */
static const char *cookie_value(const char *header, const char *name, char *out, size_t len)
{
    size_t nlen = strlen(name), vlen;
    const char *p = header, *end;

    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            vlen = (size_t)(end - p) - nlen - 1;
            while (vlen && p[nlen + vlen] == ' ')
                vlen--;
            if (vlen >= len)
                return NULL;
            memcpy(out, p + nlen + 1, vlen);
            out[vlen] = '\0';
            return out;
        }
        p = end;
    }
    return NULL;
}

static void anonymous(http_principal *who)
{
    memset(who, 0, sizeof(*who));
    who->role = "anonymous";
}

static int authenticate_bearer(http_req *req, const char *authz)
{
    const char *tok = authz + 6;
    int rc;

    while (*tok == ' ')
        tok++;
    if (strncmp(tok, AUTH_SHARE_TOKEN_PREFIX, strlen(AUTH_SHARE_TOKEN_PREFIX)) == 0) {
        /* A share token is no user: its route checks it, every other refuses it. */
        if (req->action && strcmp(req->action, AUTH_SHARE_ACTION) == 0)
            return 0;
        http_add_header(req, "WWW-Authenticate", CHALLENGE ", error=\"invalid_token\"");
        return err_set(&req->err, GR_EAUTH, "Authorization",
                       "a share token is accepted only on the /api/v1/share routes");
    }
    rc = auth_token_resolve(req->ctx, req->arena, tok, &req->who);
    if (rc == GR_EINTERNAL)
        return err_set(&req->err, GR_EINTERNAL, "", "storage error");
    if (rc) {
        anonymous(&req->who);
        http_add_header(req, "WWW-Authenticate", CHALLENGE ", error=\"invalid_token\"");
        return err_set(&req->err, GR_EAUTH, "Authorization",
                       "the token is not valid: unknown, expired or revoked");
    }
    return 0;
}

int auth_authenticate(http_req *req)
{
    const char *authz = http_header(req, "Authorization");
    const char *cookies, *csrf = NULL;
    char value[128];
    int rc;

    anonymous(&req->who);
    if (authz) {
        /* A machine: no cookie, no CSRF (a browser cannot be tricked into
         * sending an Authorization header to another origin). */
        if (strncasecmp(authz, "Bearer ", 7) == 0)
            return authenticate_bearer(req, authz);
        http_add_header(req, "WWW-Authenticate", CHALLENGE);
        return err_set(&req->err, GR_EAUTH, "Authorization", "only Bearer tokens are accepted");
    }
    cookies = http_header(req, "Cookie");
    if (!cookies || !cookie_value(cookies, AUTH_SESSION_COOKIE, value, sizeof(value)))
        return 0;
    rc = auth_session_resolve(req->ctx, req->arena, value, &req->who, &csrf);
    sodium_memzero(value, sizeof(value));
    if (rc == GR_EINTERNAL)
        return err_set(&req->err, GR_EINTERNAL, "", "storage error");
    if (rc) {
        /* An ended session is simply nobody: public routes still work and
         * the others answer 401. */
        anonymous(&req->who);
        return 0;
    }
    if (is_unsafe(req->method) && !crypto_streq(http_header(req, "X-CSRF-Token"), csrf)) {
        /* A public route (login) needs no session: go on as nobody rather
         * than acting for the user on a request another site may have forged. */
        if (req->action && strcmp(req->action, "public") == 0) {
            anonymous(&req->who);
            return 0;
        }
        return err_set(&req->err, GR_EFORBIDDEN, "X-CSRF-Token",
                       "the header is missing or does not match the session's CSRF token");
    }
    return 0;
}

/* Whether action is one of the space-separated scopes. */
static int scopes_include(const char *scopes, const char *action)
{
    size_t n = strlen(action);
    const char *p = scopes;

    while (p && *p) {
        while (*p == ' ')
            p++;
        if (strncmp(p, action, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
            return 1;
        p = strchr(p, ' ');
    }
    return 0;
}

int auth_token_principal(gr_ctx *ctx, arena *a, const char *token, const char *action,
                         http_principal *out, gr_err *err)
{
    if (auth_token_resolve(ctx, a, token, out) != 0)
        return err_set(err, GR_EAUTH, "api_key",
                       "the token is not valid: unknown, expired or revoked");
    if (!scopes_include(out->token_scopes, action) || !policy_allows(out->role, action))
        return err_set(err, GR_EFORBIDDEN, "api_key", "the token may not perform '%s'", action);
    return 0;
}

int auth_authorize(http_req *req)
{
    const char *action = req->action ? req->action : "";
    const http_principal *who = &req->who;

    if (!policy_action_known(action)) {
        /* A route whose action the table lacks: deny (the policy test finds it). */
        log_msg(LOG_ERROR, "auth.policy", "route %s names unknown action '%s'",
                req->route ? req->route : "?", action);
        return err_set(&req->err, GR_EFORBIDDEN, "", "the action '%s' is not in the policy table",
                       action);
    }
    if (strcmp(action, "public") == 0)
        return 0;
    if (who->user_id == 0) {
        /* A few actions are open to nobody signed in (anonymous reporting
         * uploads its evidence with media.upload). */
        if (policy_allows("anonymous", action))
            return 0;
        http_add_header(req, "WWW-Authenticate", CHALLENGE);
        return err_set(&req->err, GR_EAUTH, "", "sign in to %s", action);
    }
    if (who->token_id && !scopes_include(who->token_scopes, action))
        return err_set(&req->err, GR_EFORBIDDEN, "", "this API token's scopes do not include '%s'",
                       action);
    if (!policy_allows(who->role, action))
        return err_set(&req->err, GR_EFORBIDDEN, "", "the role '%s' may not perform '%s'",
                       who->role, action);
    return 0;
}
