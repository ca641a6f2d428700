#include "app/app.h"
#include "auth/auth.h"
#include "auth/auth_api.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/mask.h"
#include "basedata/basedata.h"
#include "basedata/bd_area.h"
#include "basedata/bd_share.h"
#include "basedata/bd_units.h"
#include "cases/cases.h"
#include "catalog/catalog.h"
#include "eval/eval.h"
#include "media/media.h"
#include "notify/notify.h"
#include "open311/open311.h"
#include "org/org.h"
#include "org/org_api.h"
#include "privacy/audit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int handle_health(http_req *req)
{
    return http_send_json(req, 200, json_pack("{s:s, s:s}", "status", "ok", "version", GR_VERSION));
}

/* Ready when the database answers on this thread: a load balancer stops
 * sending traffic to a node that says otherwise. */
static int handle_ready(http_req *req)
{
    if (!db_ping(req->db))
        return err_set(&req->err, GR_EUNAVAIL, "", "the database does not answer");
    return http_send_json(req, 200, json_pack("{s:s}", "status", "ready"));
}

http_router *app_router(void)
{
    http_router *r = http_router_new();

    http_route(r, "GET", "/api/v1/health", handle_health, "public");
    http_route(r, "GET", "/api/v1/ready", handle_ready, "public");
    http_route(r, "GET", "/metrics", http_handle_metrics, "metrics.read");
    auth_api_register(r);
    org_api_register(r);
    catalog_api_register(r);
    /* wire: catalog routes */
    media_api_register(r);
    /* wire: media routes */
    notify_api_register(r);
    /* wire: notify routes */
    audit_api_register(r);
    /* wire: privacy routes */
    cases_api_register(r);
    open311_api_register(r);
    /* wire: cases routes */
    bd_api_register(r);
    /* wire: basedata routes */
    bd_area_api_register(r);
    bd_share_api_register(r);
    bd_units_api_register(r);
    bd_export_api_register(r);
    eval_api_register(r);
    eval_topics_api_register(r);
    return r;
}

void app_hooks(http_hooks *out)
{
    memset(out, 0, sizeof(*out));
    out->authenticate = auth_authenticate;
    out->authorize = auth_authorize;
}

int app_open(gr_ctx *ctx, const char *dir, gr_err *err)
{
    char path[4096];
    int rc, applied = 0;

    memset(ctx, 0, sizeof(*ctx));
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return err_set(err, GR_EINVAL, "data", "cannot create the data directory %s: %s", dir,
                       strerror(errno));
    ctx->data_dir = dir;
    /* The deployment's masking pattern (docs/privacy.md, "Masking"). */
    rc = mask_policy_configure(getenv("GR_MASK_POLICY"), err);
    if (rc)
        return rc;
    rc = crypto_load_keys(dir, ctx->field_key, ctx->index_key, err);
    if (rc)
        goto out;
    snprintf(path, sizeof(path), "%s/grassroots.db", dir);
    rc = db_open(&ctx->db, path, err);
    if (rc)
        goto out;
    rc = db_migrate(ctx->db, &applied, err);
    if (rc)
        goto out;
    rc = org_ctx_open(ctx, err);
    if (rc)
        goto out;
    rc = auth_ctx_open(ctx, err);
    if (!rc)
        rc = catalog_ctx_open(ctx, err);
    /* wire: catalog open */
    if (!rc)
        rc = notify_ctx_open(ctx, err);
    /* wire: notify open */
    if (!rc)
        rc = cases_ctx_open(ctx, err);
    /* wire: cases open */
    if (!rc)
        rc = eval_ctx_open(ctx, err);
out:
    if (rc)
        app_close(ctx);
    return rc;
}

void app_close(gr_ctx *ctx)
{
    eval_ctx_close(ctx);
    cases_ctx_close(ctx);
    /* wire: cases close */
    notify_ctx_close(ctx);
    /* wire: notify close */
    catalog_ctx_close(ctx);
    /* wire: catalog close */
    auth_ctx_close(ctx);
    org_ctx_close(ctx);
    db_close(ctx->db);
    ctx->db = NULL;
    sodium_memzero(ctx->field_key, sizeof(ctx->field_key));
    sodium_memzero(ctx->index_key, sizeof(ctx->index_key));
}
