/*
 * Services, intake and queries for Open311 (docs/open311.md). The catalogue
 * is read with one query per request (a few hundred rows at most) so that a
 * page of 1,000 requests names its services without a lookup each.
 */
#include "open311/open311_model.h"

#include "base/timeutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

/* ---- services ---- */

int o311_services_load(db_conn *c, arena *a, o311_service **out, size_t *n, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT c.id, c.code, c.name, p.name, c.kind, c.filing_condition, "
                             "c.active, (SELECT count(*) FROM categories WHERE is_leaf = 1) "
                             "FROM categories c LEFT JOIN categories p ON p.id = c.parent_id "
                             "WHERE c.is_leaf = 1 ORDER BY c.code",
                             err);
    o311_service *s;
    int rc;

    *n = 0;
    *out = NULL;
    if (!st)
        return GR_EINTERNAL;
    while ((rc = db_step(st, err)) == DB_ROW) {
        if (!*out)
            *out = arena_alloc(a, (size_t)db_col_int(st, 7) * sizeof(**out));
        s = &(*out)[(*n)++];
        s->id = db_col_int(st, 0);
        s->code = db_col_textdup(st, 1, a);
        s->name = db_col_textdup(st, 2, a);
        s->group = db_col_is_null(st, 3) ? "12345" : db_col_textdup(st, 3, a);
        s->kind = db_col_textdup(st, 4, a);
        s->description = db_col_is_null(st, 5) ? s->name : db_col_textdup(st, 5, a);
        s->active = (int)db_col_int(st, 6);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

const o311_service *o311_service_by_code(const o311_service *v, size_t n, const char *code)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(v[i].code, code) == 0)
            return &v[i];
    return NULL;
}

const o311_service *o311_service_by_id(const o311_service *v, size_t n, int64_t id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (v[i].id == id)
            return &v[i];
    return NULL;
}

json_t *o311_service_json(const o311_service *s)
{
    /* Every service takes the optional attributes below: metadata is true. */
    return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "service_code", s->code, "service_name",
                     s->name, "description", s->description, "metadata", 1, "type", "realtime",
                     "keywords", s->kind, "group", s->group);
}

json_t *o311_definition_json(const o311_service *s)
{
    json_t *urgency = json_pack(
        "{s:b, s:s, s:s, s:b, s:s, s:i, s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "variable", 1, "code",
        "urgency", "datatype", "singlevaluelist", "required", 0, "datatype_description",
        "normal unless it endangers people or traffic", "order", 1, "description", "Urgency",
        "values", "key", "normal", "name", "normal", "key", "urgent", "name", "urgent");
    json_t *landmark =
        json_pack("{s:b, s:s, s:s, s:b, s:s, s:i, s:s}", "variable", 1, "code", "landmark",
                  "datatype", "string", "required", 0, "datatype_description",
                  "up to 200 characters", "order", 2, "description", "A landmark near the problem");

    return json_pack("{s:s, s:[o, o]}", "service_code", s->code, "attributes", urgency, landmark);
}

json_t *o311_request_json(const case_rec *r, const o311_service *s, int ext)
{
    json_t *o = json_object();

    json_object_set_new(o, "service_request_id", json_string(r->public_code));
    json_object_set_new(o, "status",
                        json_string(ext ? open311_status_ext(r->state) : open311_status(r->state)));
    json_object_set_new(o, "status_notes", json_string(open311_status_notes(r->state)));
    json_object_set_new(o, "service_name", s ? json_string(s->name) : json_null());
    json_object_set_new(o, "service_code", s ? json_string(s->code) : json_null());
    json_object_set_new(o, "description", json_string(r->description));
    json_object_set_new(o, "requested_datetime", http_json_time(r->created_at));
    json_object_set_new(o, "updated_datetime",
                        http_json_time(r->closed_at ? r->closed_at : r->updated_at));
    json_object_set_new(o, "address", r->address ? json_string(r->address) : json_null());
    json_object_set_new(o, "lat", r->has_point ? json_real(r->lat) : json_null());
    json_object_set_new(o, "long", r->has_point ? json_real(r->lon) : json_null());
    if (ext)
        json_object_set_new(o, "title", json_string(r->title));
    return o;
}

/* ---- intake ---- */

/* A finite decimal number, all of s. */
static int number_parse(const char *s, const char *field, double *out, gr_err *err)
{
    char *end;

    if (!s)
        return err_set(err, GR_EINVAL, field, "is required");
    if (strspn(s, "+-0123456789.eE") != strlen(s))
        return err_set(err, GR_EINVAL, field, "must be a decimal number");
    *out = strtod(s, &end);
    if (*end || end == s || !isfinite(*out))
        return err_set(err, GR_EINVAL, field, "must be a decimal number");
    return 0;
}

/* Every attribute[...] key names one of the definition's attributes, with
 * an allowed value. */
static int attributes_check(const o311_form *f, gr_err *err)
{
    const char *k, *v;
    size_t i, len;

    for (i = 0; i < f->n; i++) {
        k = f->fields[i].key;
        v = f->fields[i].value;
        if (strncmp(k, "attribute", 9) != 0)
            continue;
        if (strcmp(k, "attribute[urgency]") == 0) {
            if (*v && strcmp(v, "normal") != 0 && strcmp(v, "urgent") != 0)
                return err_set(err, GR_EINVAL, k, "must be normal or urgent");
        } else if (strcmp(k, "attribute[landmark]") == 0) {
            len = jv_utf8_len(v);
            if (len > 200)
                return err_set(err, GR_EINVAL, k, "must be at most 200 characters long");
        } else {
            return err_set(err, GR_EINVAL, k,
                           "is not an attribute of this service (urgency, landmark)");
        }
    }
    return 0;
}

int o311_request_create(gr_ctx *ctx, const http_principal *who, const o311_form *f, arena *a,
                        const char **code, gr_err *err)
{
    const char *scode = open311_form_get(f, "service_code");
    const char *lat = open311_form_get(f, "lat"), *lon = open311_form_get(f, "long");
    const char *desc = open311_form_get(f, "description");
    const char *landmark = open311_form_get(f, "attribute[landmark]");
    const char *urgency = open311_form_get(f, "attribute[urgency]");
    db_conn *c = db_reader(ctx->db);
    o311_service *sv = NULL;
    const o311_service *s = NULL;
    case_input in = {0};
    case_actor actor;
    case_rec r;
    int64_t id = 0;
    size_t ns = 0;
    int rc = 0;

    if (!c)
        return err_set(err, GR_EUNAVAIL, "", "the database is not available");
    if (!scode)
        return err_set(err, GR_EINVAL, "service_code", "is required");
    rc = o311_services_load(c, a, &sv, &ns, err);
    if (!rc) {
        s = o311_service_by_code(sv, ns, scode);
        if (!s || !s->active)
            rc = err_set(err, GR_ENOTFOUND, "service_code", "no service with code %.20s", scode);
    }
    /* A case needs a point to be routed: an address alone cannot be placed. */
    if (!rc && !lat && !lon)
        rc = err_set(err, GR_EINVAL, "lat",
                     "lat and long are required: requests are placed by their point");
    if (!rc)
        rc = number_parse(lat, "lat", &in.lat, err);
    if (!rc)
        rc = number_parse(lon, "long", &in.lon, err);
    if (!rc)
        rc = attributes_check(f, err);
    if (!rc && desc && jv_utf8_len(desc) > CASE_TEXT_MAX)
        rc = err_set(err, GR_EINVAL, "description", "must be at most %d characters long",
                     CASE_TEXT_MAX);
    if (rc)
        goto out;
    in.channel = "open311";
    in.category_id = s->id;
    in.title = s->name;
    in.description = desc ? desc : s->name;
    if (landmark)
        in.description = arena_printf(a, "%s\n\nLandmark: %s", in.description, landmark);
    in.has_point = 1;
    in.crs = GEO_CRS_WGS84;
    in.address = open311_form_get(f, "address_string");
    /* The phone is sealed like every contact; names and e-mail are not kept. */
    in.contact = open311_form_get(f, "phone");
    in.anonymous = 1;
    in.is_public = 1;
    in.urgent = urgency && strcmp(urgency, "urgent") == 0;
    case_actor_from(who, &actor);
    rc = case_create(ctx, &actor, &in, &id, err);
    if (rc) {
        /* Name the fields as the client sent them. */
        if (strcmp(err->field, "contact") == 0)
            snprintf(err->field, sizeof(err->field), "phone");
        else if (strcmp(err->field, "lon") == 0)
            snprintf(err->field, sizeof(err->field), "long");
        else if (strcmp(err->field, "address") == 0)
            snprintf(err->field, sizeof(err->field), "address_string");
        goto out;
    }
    rc = case_get(c, a, id, &r, err);
    if (!rc)
        *code = r.public_code;
out:
    return rc;
}

/* ---- queries ---- */

int o311_window(const char *start, const char *end, int64_t now, int64_t *from, int64_t *to,
                gr_err *err)
{
    const int64_t span = O311_DAYS_MAX * DAY_MS;

    if (start && time_parse_iso(start, from) != 0)
        return err_set(err, GR_EINVAL, "start_date",
                       "must be a W3C date-time such as 2026-11-01T00:00:00Z");
    if (end && time_parse_iso(end, to) != 0)
        return err_set(err, GR_EINVAL, "end_date",
                       "must be a W3C date-time such as 2026-11-30T00:00:00Z");
    if (!end)
        *to = start ? *from + span : now;
    if (!start)
        *from = *to - span;
    if (*to < *from)
        return err_set(err, GR_EINVAL, "end_date", "must not be before start_date");
    if (*to - *from > span)
        return err_set(err, GR_EINVAL, "end_date", "must be at most %d days after start_date",
                       O311_DAYS_MAX);
    /* end_date is inclusive; the filters take [from, to). */
    *to += 1;
    return 0;
}

static int category_in(const o311_query *q, int64_t id)
{
    size_t i;

    for (i = 0; i < q->ncategories; i++)
        if (q->categories[i] == id)
            return 1;
    return 0;
}

/* What o311_request_json reads, copied out of a scratch arena. */
static void rec_keep(arena *a, case_rec *dst, const case_rec *src)
{
    *dst = *src;
    dst->public_code = arena_strdup(a, src->public_code);
    dst->title = arena_strdup(a, src->title);
    dst->description = arena_strdup(a, src->description);
    dst->address = arena_strdup(a, src->address);
    dst->channel = NULL;
    dst->contact_hint = NULL;
    dst->step = NULL;
    dst->rating = NULL;
    dst->rating_comment = NULL;
}

int o311_requests_find(db_conn *c, arena *a, const o311_query *q, case_rec **out, size_t *n,
                       gr_err *err)
{
    case_filter f = {0};
    arena *scratch = arena_new();
    int64_t skip = q->offset;
    case_rec *batch;
    size_t got, i;
    int more = 1, rc = 0;

    *n = 0;
    *out = arena_alloc(a, (size_t)q->page_size * sizeof(**out));
    f.state = -1;
    f.public_only = 1;
    f.desc = 1;
    f.created_from = q->from;
    f.created_to = q->to;
    f.states = q->states;
    /* One service filters in SQL; several are checked here. */
    if (q->ncategories == 1)
        f.category_id = q->categories[0];
    while (!rc && more && *n < (size_t)q->page_size) {
        arena_reset(scratch);
        f.limit = O311_PAGE_MAX;
        rc = case_list(c, scratch, &f, &batch, &got, &more, err);
        for (i = 0; !rc && i < got && *n < (size_t)q->page_size; i++) {
            if (q->ncategories > 1 && !category_in(q, batch[i].category_id))
                continue;
            if (skip > 0)
                skip--;
            else
                rec_keep(a, &(*out)[(*n)++], &batch[i]);
        }
        if (got)
            f.after = batch[got - 1].id;
        else
            more = 0;
    }
    arena_free(scratch);
    return rc;
}

int o311_updates_find(db_conn *c, arena *a, const o311_query *q, case_update **out, size_t *n,
                      gr_err *err)
{
    arena *scratch = arena_new();
    int64_t skip = q->offset, after = 0;
    case_update *batch, *u;
    size_t got, i;
    int more = 1, rc = 0;

    *n = 0;
    *out = arena_alloc(a, (size_t)q->page_size * sizeof(**out));
    while (!rc && more && *n < (size_t)q->page_size) {
        arena_reset(scratch);
        rc = case_updates_list(c, scratch, q->from, q->to, after, O311_PAGE_MAX, &batch, &got,
                               &more, err);
        for (i = 0; !rc && i < got && *n < (size_t)q->page_size; i++) {
            if (!batch[i].is_public)
                continue;
            if (skip > 0) {
                skip--;
                continue;
            }
            u = &(*out)[(*n)++];
            *u = batch[i];
            u->public_code = arena_strdup(a, batch[i].public_code);
            u->action = arena_strdup(a, batch[i].action);
            u->to_state = arena_strdup(a, batch[i].to_state);
            u->note = NULL; /* free text: never shown to the public */
        }
        if (got)
            after = batch[got - 1].event_id;
        else
            more = 0;
    }
    arena_free(scratch);
    return rc;
}
