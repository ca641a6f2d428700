/*
 * Accounts and access: users, passwords (argon2id), sessions, API tokens,
 * CSRF, login throttling, roles and the policy table (role × action × scope).
 */
#ifndef GR_AUTH_AUTH_H
#define GR_AUTH_AUTH_H

#include "http/http.h"

#include <stdio.h>

/* Bearer tokens with this prefix are share tokens (src/basedata/bd_share.h):
 * the hook does not resolve them to a user; it lets them through as nobody
 * on routes of action AUTH_SHARE_ACTION only, whose handler checks them, and
 * refuses them (401) everywhere else. */
#define AUTH_SHARE_TOKEN_PREFIX "grs_"
#define AUTH_SHARE_ACTION       "share.read"

int auth_ctx_open(gr_ctx *ctx, gr_err *err);
void auth_ctx_close(gr_ctx *ctx);

/* The http_hooks of the server. */
int auth_authenticate(http_req *req);
int auth_authorize(http_req *req);

/* Creates the demo accounts (one per role) if missing and prints them to out. */
int auth_demo_load(gr_ctx *ctx, FILE *out, gr_err *err);
/* Who an active account is, as a request would see it (for other modules'
 * demo data acting as the demo accounts): GR_ENOTFOUND (field "username")
 * when there is no such active account. Strings in a. */
int auth_principal_find(db_conn *c, arena *a, const char *username, http_principal *out,
                        gr_err *err);

/* Who a live API token given outside the Authorization header is (Open311's
 * api_key), when its scopes include action and its owner's role may perform
 * it: GR_EAUTH for an unknown, expired or revoked token, GR_EFORBIDDEN when
 * it may not. Strings in a. */
int auth_token_principal(gr_ctx *ctx, arena *a, const char *token, const char *action,
                         http_principal *out, gr_err *err);

/* grassroots user add|passwd|list|disable */
extern const char auth_cli_help[];
int auth_cli_user(gr_ctx *ctx, int argc, char **argv);

#endif
