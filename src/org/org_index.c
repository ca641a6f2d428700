/*
 * The org module's state (struct org_ctx): the point -> grid index over every
 * grid boundary, and the lookup that turns a point into grid, community,
 * street and district.
 *
 * Publication: the current index sits behind a mutex with a reference count.
 * A lookup takes a reference under the mutex and drops it after the query; a
 * rebuild builds a new index without holding anything, swaps the pointer
 * under the mutex and drops the old index's reference, so the old index is
 * freed by whichever of them finishes last. Rebuilds are serialised and each
 * reads the database after its own commit, so the last one to finish has
 * seen every committed boundary.
 */
#include "org/org_model.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "geo/grid_index.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct index_ref {
    geo_index *ix;
    atomic_long refs;
};

struct org_ctx {
    pthread_mutex_t lock;    /* guards cur */
    pthread_mutex_t rebuild; /* one rebuild at a time */
    struct index_ref *cur;   /* never NULL after org_ctx_open */
};

static struct index_ref *ref_take(struct org_ctx *o)
{
    struct index_ref *r;

    pthread_mutex_lock(&o->lock);
    r = o->cur;
    atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&o->lock);
    return r;
}

static void ref_drop(struct index_ref *r)
{
    if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
        geo_index_free(r->ix);
        free(r);
    }
}

/* Reads every grid boundary into a new, built index. A boundary GEOS refuses
 * (it passed the same check on entry, so only a hand-edited database has one)
 * is logged and left out rather than keeping the server from starting. */
static int index_load(db *d, struct index_ref **out, gr_err *err)
{
    db_conn *c = db_reader(d);
    struct index_ref *r = calloc(1, sizeof(*r));
    db_stmt *st = NULL;
    gr_err bad;
    int rc;

    if (!r)
        abort();
    atomic_init(&r->refs, 1);
    r->ix = geo_index_new();
    if (!r->ix || !c) {
        rc = err_set(err, GR_EINTERNAL, "", "cannot create the grid index");
        goto out;
    }
    st = db_prepare(c,
                    "SELECT id, boundary FROM org_units WHERE kind = 'grid' AND boundary IS NOT "
                    "NULL ORDER BY id",
                    err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    while ((rc = db_step(st, err)) == DB_ROW) {
        const char *text = db_col_text(st, 1);

        if (geo_index_add(r->ix, db_col_int(st, 0), text, strlen(text), &bad))
            log_msg(LOG_ERROR, "org.index", "grid %" PRId64 " left out of the index: %s",
                    db_col_int(st, 0), bad.msg);
    }
    if (rc < 0)
        goto out;
    rc = geo_index_build(r->ix, err);
out:
    db_done(st);
    if (rc) {
        ref_drop(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

int org_index_rebuild(gr_ctx *ctx, gr_err *err)
{
    struct org_ctx *o = ctx->org;
    struct index_ref *fresh = NULL, *old;
    int64_t t0 = time_mono_ns();
    int rc;

    pthread_mutex_lock(&o->rebuild);
    rc = index_load(ctx->db, &fresh, err);
    if (!rc) {
        pthread_mutex_lock(&o->lock);
        old = o->cur;
        o->cur = fresh;
        pthread_mutex_unlock(&o->lock);
        ref_drop(old);
        log_msg(LOG_DEBUG, "org.index", "grid index rebuilt: %zu grids in %.1f ms",
                geo_index_count(fresh->ix), (double)(time_mono_ns() - t0) / 1e6);
    }
    pthread_mutex_unlock(&o->rebuild);
    return rc;
}

size_t org_index_count(gr_ctx *ctx)
{
    struct index_ref *r;
    size_t n;

    if (!ctx->org)
        return 0;
    r = ref_take(ctx->org);
    n = geo_index_count(r->ix);
    ref_drop(r);
    return n;
}

int org_ctx_open(gr_ctx *ctx, gr_err *err)
{
    struct org_ctx *o = calloc(1, sizeof(*o));
    int rc;

    if (!o)
        abort();
    pthread_mutex_init(&o->lock, NULL);
    pthread_mutex_init(&o->rebuild, NULL);
    rc = index_load(ctx->db, &o->cur, err);
    if (rc) {
        pthread_mutex_destroy(&o->lock);
        pthread_mutex_destroy(&o->rebuild);
        free(o);
        return rc;
    }
    ctx->org = o;
    return 0;
}

void org_ctx_close(gr_ctx *ctx)
{
    struct org_ctx *o = ctx ? ctx->org : NULL;

    if (!o)
        return;
    ref_drop(o->cur);
    pthread_mutex_destroy(&o->lock);
    pthread_mutex_destroy(&o->rebuild);
    free(o);
    ctx->org = NULL;
}

int64_t org_grid_at(gr_ctx *ctx, double lat, double lon)
{
    struct index_ref *r;
    int64_t id;

    if (!ctx->org)
        return 0;
    r = ref_take(ctx->org);
    id = geo_index_find(r->ix, lat, lon);
    ref_drop(r);
    return id;
}

int org_locate(gr_ctx *ctx, db_conn *c, arena *a, double lat, double lon, org_location *out,
               gr_err *err)
{
    int64_t id = org_grid_at(ctx, lat, lon), parent;
    org_unit u;
    int rc, guard;

    memset(out, 0, sizeof(*out));
    if (!id)
        return err_set(err, GR_ENOTFOUND, "", "the point is outside every grid");
    /* The grid may have been deleted between the index and this read. */
    rc = org_unit_get(c, a, id, 0, &out->grid, err);
    if (rc == GR_ENOTFOUND)
        return err_set(err, GR_ENOTFOUND, "", "the point is outside every grid");
    if (rc)
        return rc;
    parent = out->grid.parent_id;
    for (guard = 0; parent && guard < ORG_NKINDS; guard++) {
        rc = org_unit_get(c, a, parent, 0, &u, err);
        if (rc)
            return rc;
        if (u.kind == ORG_COMMUNITY) {
            out->community = u;
            out->has_community = 1;
        } else if (u.kind == ORG_STREET) {
            out->street = u;
            out->has_street = 1;
        } else if (u.kind == ORG_DISTRICT) {
            out->district = u;
            out->has_district = 1;
        }
        parent = u.parent_id;
    }
    return 0;
}
