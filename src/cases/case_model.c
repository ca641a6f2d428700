/*
 * Cases: the row, intake from every channel, reads, reporters, media links
 * and notifications. The transitions are in case_flow.c, routing in
 * case_route.c, steps and deadlines in case_sched.c.
 */
#include "cases/case_model.h"

#include "base/buf.h"
#include "base/names.h"

#include "base/crypto.h"
#include "base/log.h"
#include "base/mask.h"
#include "base/timeutil.h"
#include "base/validate.h"
#include "media/media.h"
#include "notify/notify.h"
#include "org/org.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const state_names[CS_NSTATES] = {
    "reported", "accepted", "rejected", "filed",    "dispatched", "signed", "rework",    "handled",
    "returned", "disputed", "backlog",  "verified", "closed",     "review", "cancelled", "merged"};

const char *case_state_name(case_state s)
{
    return (unsigned)s < CS_NSTATES ? state_names[s] : "unknown";
}

int case_state_parse(const char *s)
{
    return names_find(state_names, CS_NSTATES, s);
}

int case_state_final(case_state s)
{
    return s == CS_REJECTED || s == CS_CANCELLED || s == CS_MERGED;
}

int case_state_open(case_state s)
{
    return !case_state_final(s) && s != CS_CLOSED;
}

void case_actor_from(const http_principal *who, case_actor *out)
{
    memset(out, 0, sizeof(*out));
    out->user_id = who->user_id;
    out->role = who->role ? who->role : "anonymous";
    out->scope_org_id = who->scope_org_id;
    out->department_id = who->department_id;
    out->token_id = who->token_id;
}

int64_t case_scope_unit(const case_rec *r)
{
    if (r->grid_id)
        return r->grid_id;
    if (r->community_id)
        return r->community_id;
    if (r->street_id)
        return r->street_id;
    if (r->district_id)
        return r->district_id;
    return r->city_id ? r->city_id : r->first_unit_id;
}

int case_within(db_conn *c, const case_rec *r, int64_t root)
{
    if (root <= 0)
        return 0;
    if (root == r->city_id || root == r->district_id || root == r->street_id ||
        root == r->community_id || root == r->grid_id)
        return 1;
    return org_is_within(c, root, case_scope_unit(r));
}

json_t *case_ids_json(const int64_t *ids, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_integer(ids[i]));
    return a;
}

void case_local_yymmdd(int64_t ms, char out[8])
{
    /* Asia/Shanghai is UTC+8 all year: the local date needs no zone database. */
    time_t t = (time_t)((ms + 8 * 3600 * 1000LL) / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(out, 8, "%02u%02u%02u", (unsigned)tm.tm_year % 100u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u);
}

/* v (n items of size bytes, room for *cap) with room for one more. */
static void *grow(arena *a, void *v, size_t n, size_t *cap, size_t size)
{
    void *bigger;

    if (n < *cap)
        return v;
    bigger = arena_alloc(a, 2 * *cap * size);
    memcpy(bigger, v, n * size);
    *cap *= 2;
    return bigger;
}

/* ---- the row ---- */

void case_row_read(db_stmt *st, arena *a, void *out)
{
    case_rec *r = out;
    const char *area;

    memset(r, 0, sizeof(*r));
    r->id = db_col_int(st, 0);
    r->public_code = db_col_textdup(st, 1, a);
    r->channel = db_col_textdup(st, 2, a);
    r->category_id = db_col_int(st, 3);
    r->title = db_col_textdup(st, 4, a);
    r->description = db_col_textdup(st, 5, a);
    r->has_point = !db_col_is_null(st, 6);
    r->lat = db_col_double(st, 6);
    r->lon = db_col_double(st, 7);
    r->address = db_col_textdup(st, 8, a);
    r->city_id = db_col_int(st, 9);
    r->district_id = db_col_int(st, 10);
    r->street_id = db_col_int(st, 11);
    r->community_id = db_col_int(st, 12);
    r->grid_id = db_col_int(st, 13);
    r->first_unit_id = db_col_int(st, 14);
    r->department_id = db_col_int(st, 15);
    r->handler_org_id = db_col_int(st, 16);
    r->state = (case_state)case_state_parse(db_col_text(st, 17));
    r->version = db_col_int(st, 18);
    r->reporter_user_id = db_col_int(st, 19);
    r->entered_by = db_col_int(st, 20);
    r->contact_hint = db_col_textdup(st, 21, a);
    r->anonymous = (int)db_col_int(st, 22);
    r->is_public = (int)db_col_int(st, 23);
    r->urgent = (int)db_col_int(st, 24);
    area = db_col_text(st, 25);
    r->area_class = area ? area[0] : 'B';
    r->merged_into = db_col_int(st, 26);
    r->step = db_col_textdup(st, 27, a);
    r->step_due_at = db_col_int(st, 28);
    r->returns = (int)db_col_int(st, 29);
    r->reworks = (int)db_col_int(st, 30);
    r->reviewed = (int)db_col_int(st, 31);
    r->rating = db_col_textdup(st, 32, a);
    r->rating_comment = db_col_textdup(st, 33, a);
    r->ext_until = db_col_int(st, 34);
    r->created_at = db_col_int(st, 35);
    r->updated_at = db_col_int(st, 36);
    r->closed_at = db_col_int(st, 37);
}

static int case_get_by(db_conn *c, arena *a, const char *sql, int64_t id, const char *code,
                       case_rec *out, gr_err *err)
{
    db_stmt *st = db_prepare(c, sql, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    if (code)
        db_bind_text(st, 1, code);
    else
        db_bind_int(st, 1, id);
    rc = db_read_one(st, a, case_row_read, out, err);
    if (rc == GR_ENOTFOUND)
        rc = code ? err_set(err, GR_ENOTFOUND, "code", "no public case with code %.20s", code)
                  : err_set(err, GR_ENOTFOUND, "id", "no case with id %" PRId64, id);
    db_done(st);
    return rc;
}

int case_get(db_conn *c, arena *a, int64_t id, case_rec *out, gr_err *err)
{
    return case_get_by(c, a, "SELECT " CASE_COLS " FROM cases WHERE id = ?", id, NULL, out, err);
}

int case_get_code(db_conn *c, arena *a, const char *public_code, case_rec *out, gr_err *err)
{
    return case_get_by(c, a, "SELECT " CASE_COLS " FROM cases WHERE public_code = ?", 0,
                       public_code ? public_code : "", out, err);
}

static void bind_id(db_stmt *st, int i, int64_t v)
{
    if (v)
        db_bind_int(st, i, v);
    else
        db_bind_null(st, i);
}

/* The columns a case's life changes, in the order bind_mutable binds them:
 * intake inserts them and every later write updates them (row values, so
 * the two statements cannot disagree on the order). */
#define CASE_MUTABLE                                                                               \
    "category_id, lat, lon, address, city_id, district_id, street_id, community_id, grid_id, "     \
    "department_id, handler_org_id, state, version, is_public, urgent, area_class, merged_into, "  \
    "step, step_due_at, returns, reworks, reviewed, rating, rating_comment, ext_until, "           \
    "updated_at, closed_at"
#define CASE_MUTABLE_QS                                                                            \
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
enum { CASE_MUTABLE_N = 27 };

/* Binds CASE_MUTABLE of r from parameter at on. */
static void bind_mutable(db_stmt *st, int at, const case_rec *r)
{
    char area[2] = {r->area_class, '\0'};
    int i = at;

    bind_id(st, i++, r->category_id);
    if (r->has_point) {
        db_bind_double(st, i++, r->lat);
        db_bind_double(st, i++, r->lon);
    } else {
        db_bind_null(st, i++);
        db_bind_null(st, i++);
    }
    db_bind_text(st, i++, r->address);
    bind_id(st, i++, r->city_id);
    bind_id(st, i++, r->district_id);
    bind_id(st, i++, r->street_id);
    bind_id(st, i++, r->community_id);
    bind_id(st, i++, r->grid_id);
    bind_id(st, i++, r->department_id);
    bind_id(st, i++, r->handler_org_id);
    db_bind_text(st, i++, case_state_name(r->state));
    db_bind_int(st, i++, r->version);
    db_bind_int(st, i++, r->is_public);
    db_bind_int(st, i++, r->urgent);
    db_bind_text(st, i++, area); /* copied: the binding outlives area */
    bind_id(st, i++, r->merged_into);
    db_bind_text(st, i++, r->step);
    bind_id(st, i++, r->step ? r->step_due_at : 0);
    db_bind_int(st, i++, r->returns);
    db_bind_int(st, i++, r->reworks);
    db_bind_int(st, i++, r->reviewed);
    db_bind_text(st, i++, r->rating);
    db_bind_text(st, i++, r->rating_comment);
    bind_id(st, i++, r->ext_until);
    db_bind_int(st, i++, r->updated_at);
    bind_id(st, i++, r->closed_at);
}

int case_row_save(db_conn *c, const case_rec *r, gr_err *err)
{
    db_stmt *st = db_prepare(
        c, "UPDATE cases SET (" CASE_MUTABLE ") = (" CASE_MUTABLE_QS ") WHERE id = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    bind_mutable(st, 1, r);
    db_bind_int(st, CASE_MUTABLE_N + 1, r->id);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

/* ---- events ---- */

int case_event_add(db_conn *c, const case_event_new *e, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "INSERT INTO case_events (case_id, at, actor_user_id, actor_role, "
                             "action, from_state, to_state, note, data, media) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             err);
    char *data = e->data ? json_dumps(e->data, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *media = NULL;
    json_t *m;
    int rc;

    if (e->nmedia) {
        m = case_ids_json(e->media, e->nmedia);
        media = json_dumps(m, JSON_COMPACT);
        json_decref(m);
    }
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_int(st, 1, e->case_id);
    db_bind_int(st, 2, e->at);
    bind_id(st, 3, e->who->user_id);
    db_bind_text(st, 4, e->who->role);
    db_bind_text(st, 5, e->action);
    if (e->from_state >= 0)
        db_bind_text(st, 6, case_state_name((case_state)e->from_state));
    else
        db_bind_null(st, 6);
    db_bind_text(st, 7, case_state_name((case_state)e->to_state));
    db_bind_text(st, 8, e->note);
    db_bind_text(st, 9, data);
    db_bind_text(st, 10, media);
    rc = db_run(st, err);
    db_done(st);
out:
    free(data);
    free(media);
    return rc;
}

static void event_read(db_stmt *st, arena *a, case_event *e)
{
    e->id = db_col_int(st, 0);
    e->at = db_col_int(st, 1);
    e->actor_user_id = db_col_int(st, 2);
    e->actor_role = db_col_textdup(st, 3, a);
    e->action = db_col_textdup(st, 4, a);
    e->from_state = db_col_textdup(st, 5, a);
    e->to_state = db_col_textdup(st, 6, a);
    e->note = db_col_textdup(st, 7, a);
    e->data = db_col_textdup(st, 8, a);
    e->media = db_col_textdup(st, 9, a);
}

int case_timeline(db_conn *c, arena *a, int64_t id, case_event **out, size_t *n, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT id, at, actor_user_id, actor_role, action, from_state, "
                             "to_state, note, data, media FROM case_events WHERE case_id = ? "
                             "ORDER BY id",
                             err);
    size_t cap = 16;
    int rc;

    *n = 0;
    if (!st)
        return GR_EINTERNAL;
    *out = arena_alloc(a, cap * sizeof(**out));
    db_bind_int(st, 1, id);
    while ((rc = db_step(st, err)) == DB_ROW) {
        *out = grow(a, *out, *n, &cap, sizeof(**out));
        event_read(st, a, &(*out)[(*n)++]);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

/* ---- reporters, media, notifications ---- */

int case_reporter_add(db_conn *c, int64_t case_id, int64_t source_case_id, int64_t user_id,
                      const unsigned char *contact_enc, size_t enc_len, const char *hint,
                      int64_t now, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "INSERT INTO case_reporters (case_id, source_case_id, user_id, "
                             "contact_enc, contact_hint, added_at) VALUES (?, ?, ?, ?, ?, ?) "
                             "ON CONFLICT DO NOTHING",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, case_id);
    db_bind_int(st, 2, source_case_id);
    bind_id(st, 3, user_id);
    if (contact_enc)
        db_bind_blob(st, 4, contact_enc, enc_len);
    else
        db_bind_null(st, 4);
    db_bind_text(st, 5, contact_enc ? hint : NULL);
    db_bind_int(st, 6, now);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

int case_reporters_move(db_conn *c, int64_t from, int64_t into, int64_t now, gr_err *err)
{
    /* Copied, not moved: the merged case keeps its reporters too, so each of
     * them still finds it (and where it went) under "my cases". */
    db_stmt *st = db_prepare(c,
                             "INSERT INTO case_reporters (case_id, source_case_id, user_id, "
                             "contact_enc, contact_hint, added_at) SELECT ?, source_case_id, "
                             "user_id, contact_enc, contact_hint, ? FROM case_reporters "
                             "WHERE case_id = ? ON CONFLICT DO NOTHING",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, into);
    db_bind_int(st, 2, now);
    db_bind_int(st, 3, from);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

int case_is_reporter(db_conn *c, int64_t case_id, int64_t user_id)
{
    db_stmt *st;
    int rc;

    if (!c || user_id <= 0)
        return 0;
    st = db_prepare(c, "SELECT 1 FROM case_reporters WHERE case_id = ? AND user_id = ?", NULL);
    if (!st)
        return 0;
    db_bind_int(st, 1, case_id);
    db_bind_int(st, 2, user_id);
    rc = db_step(st, NULL) == DB_ROW;
    db_done(st);
    return rc;
}

int case_department_check(const case_actor *who, const case_rec *r, gr_err *err)
{
    if (!who->role || strcmp(who->role, "department_staff") != 0)
        return 0;
    if (who->department_id ? r->department_id == who->department_id : !r->department_id)
        return 0;
    return err_set(err, GR_EFORBIDDEN, "", "case %" PRId64 " is not your department's", r->id);
}

int case_media_check(const int64_t *media, size_t n, gr_err *err)
{
    size_t i, k;

    if (n > CASE_MEDIA_MAX)
        return err_set(err, GR_EINVAL, "media", "at most %d photos or videos", CASE_MEDIA_MAX);
    for (i = 0; i < n; i++) {
        if (media[i] <= 0)
            return err_set(err, GR_EINVAL, "media", "must be media ids (positive integers)");
        for (k = 0; k < i; k++)
            if (media[k] == media[i])
                return err_set(err, GR_EINVAL, "media", "names medium %" PRId64 " twice", media[i]);
    }
    return 0;
}

int case_media_link(db_conn *c, const case_rec *r, const int64_t *media, size_t n, int is_public,
                    int64_t uploader, gr_err *err)
{
    arena *a = arena_new();
    media_info mi;
    gr_err e = {0};
    size_t i;
    int rc = 0;

    for (i = 0; !rc && i < n; i++) {
        rc = media_get(c, a, media[i], &mi, &e);
        if (rc == GR_ENOTFOUND || (!rc && mi.uploaded_by != uploader))
            rc =
                err_set(err, GR_EINVAL, "media", "no medium %" PRId64 " uploaded by you", media[i]);
        else if (rc)
            *err = e;
        if (!rc)
            rc = media_link(c, media[i], "case", r->id, is_public, case_scope_unit(r), &e);
        if (rc == GR_ECONFLICT || rc == GR_ENOTFOUND)
            rc = err_set(err, GR_EINVAL, "media", "medium %" PRId64 " belongs to something else",
                         media[i]);
        else if (rc && !err->code)
            *err = e;
    }
    arena_free(a);
    return rc;
}

/* The signed-in reporters of a case (merged ones included). */
static int notice_reporters(db_conn *c, const case_rec *r, const char *kind, const char *text,
                            gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT DISTINCT user_id FROM case_reporters WHERE case_id = ? AND "
                             "user_id IS NOT NULL ORDER BY user_id",
                             err);
    int64_t users[64];
    size_t n = 0, i;
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, r->id);
    while ((rc = db_step(st, err)) == DB_ROW && n < sizeof(users) / sizeof(users[0]))
        users[n++] = db_col_int(st, 0);
    db_done(st);
    if (rc < 0)
        return rc;
    for (i = 0, rc = 0; !rc && i < n; i++)
        rc = notify_notice(c, users[i], kind, text, "case", r->id, err);
    return rc;
}

int case_notify(db_conn *c, const case_rec *r, const char *type, const char *action,
                const char *notice_text, gr_err *err)
{
    json_t *p = json_pack(
        "{s:I, s:s, s:s, s:s, s:o, s:o, s:o}", "case_id", (json_int_t)r->id, "public_code",
        r->public_code, "state", case_state_name(r->state), "action", action, "category_id",
        r->category_id ? json_integer(r->category_id) : json_null(), "department_id",
        r->department_id ? json_integer(r->department_id) : json_null(), "street_id",
        r->street_id ? json_integer(r->street_id) : json_null());
    int rc = notify_event(c, type, "case", r->id, p, err);

    json_decref(p);
    if (!rc && notice_text)
        rc = notice_reporters(c, r, type, notice_text, err);
    return rc;
}

/* ---- intake ---- */

int case_channel_for(const case_actor *who, const char *requested, const char **channel,
                     gr_err *err)
{
    const char *role = who->role ? who->role : "anonymous";

    /* Open311 is a channel only its module names (the model call takes it). */
    if (requested && strcmp(requested, "open311") == 0) {
        *channel = "open311";
        return 0;
    }
    if (strcmp(role, "acceptor") == 0 && !who->token_id) {
        if (!requested)
            return err_set(err, GR_EINVAL, "channel",
                           "is required when an acceptor enters a case: hotline or counter");
        if (strcmp(requested, "hotline") != 0 && strcmp(requested, "counter") != 0)
            return err_set(err, GR_EINVAL, "channel", "must be hotline or counter");
        *channel = requested;
        return 0;
    }
    if (requested)
        return err_set(err, GR_EINVAL, "channel",
                       "only acceptors choose a channel (hotline or counter)");
    if (who->token_id)
        *channel = "sensor";
    else if (strcmp(role, "grid_inspector") == 0)
        *channel = "inspector";
    else
        *channel = "web";
    return 0;
}

/* Trusted channels are accepted and filed by the system at intake. */
static int channel_trusted(const char *ch)
{
    return strcmp(ch, "inspector") == 0 || strcmp(ch, "sensor") == 0;
}

/* Channels where staff enter a case for a resident who is not signed in. */
static int channel_on_behalf(const char *ch)
{
    return strcmp(ch, "hotline") == 0 || strcmp(ch, "counter") == 0;
}

static int text_check(const char *s, const char *field, size_t max, int single_line, gr_err *err)
{
    size_t n = s ? jv_utf8_len(s) : 0;
    const char *p;

    if (n < 1 || n > max)
        return err_set(err, GR_EINVAL, field, "must be 1 to %zu characters long", max);
    for (p = s; *p; p++)
        if (((unsigned char)*p < 0x20 && (single_line || (*p != '\n' && *p != '\t'))) || *p == 0x7f)
            return err_set(err, GR_EINVAL, field, "must not contain control characters");
    return 0;
}

/* The field-level rules of an intake, before anything is read or written. */
static int input_check(const case_input *in, const char *channel, const case_actor *who,
                       gr_err *err)
{
    int rc = text_check(in->title, "title", CASE_TITLE_MAX, 1, err);

    if (!rc)
        rc = text_check(in->description, "description", CASE_TEXT_MAX, 0, err);
    if (!rc && in->address)
        rc = text_check(in->address, "address", CASE_ADDRESS_MAX, 1, err);
    if (!rc && in->has_point)
        rc = geo_check_latlon(in->lat, in->lon, err);
    if (!rc && !in->has_point && !in->address)
        rc = err_set(err, GR_EINVAL, "lat", "is required: where is the problem (lat and lon)?");
    if (!rc && !in->has_point && !channel_on_behalf(channel))
        rc = err_set(err, GR_EINVAL, "lat",
                     "is required: an address alone is taken only by the hotline and the counter");
    if (!rc && in->contact)
        rc = validate_mobile(in->contact, "contact", err);
    /* The counter takes people who came in person, some without a phone; the
     * hotline always has a caller to call back. */
    if (!rc && !in->contact &&
        (strcmp(channel, "hotline") == 0 || (strcmp(channel, "web") == 0 && who->user_id == 0)))
        rc = err_set(err, GR_EINVAL, "contact",
                     "is required: a mobile number to call back on (it is never shown in full)");
    if (!rc && !in->category_id && (channel_trusted(channel) || !strcmp(channel, "open311")))
        rc = err_set(err, GR_EINVAL, "category_id", "is required from the %s channel", channel);
    if (!rc && in->area_class && (in->area_class < 'A' || in->area_class > 'C'))
        rc = err_set(err, GR_EINVAL, "area_class", "must be A, B or C");
    if (!rc)
        rc = case_media_check(in->media, in->nmedia, err);
    return rc;
}

struct create_w {
    gr_ctx *ctx;
    const case_actor *who;
    const case_input *in;
    case_rec r;
    unsigned char enc[64 + CRYPTO_SEAL_OVERHEAD];
    size_t enc_len;
    char hint[16];
    char code[16];
    int64_t id;
    /* The events the write made (report, and accept and file for trusted
     * channels), for an answer built without reading them back. */
    case_event ev[3];
    size_t nev;
};

/* Notes an event of the write as case_timeline would read it. Intake's
 * events carry no data; a report's media make the caller read the case
 * back (case_create_written), so none is noted. */
static void written_event(struct create_w *w, db_conn *c, const case_event_new *e)
{
    case_event *v;

    if (w->nev == sizeof(w->ev) / sizeof(w->ev[0]))
        return;
    v = &w->ev[w->nev++];
    memset(v, 0, sizeof(*v));
    v->id = db_last_id(c);
    v->at = e->at;
    v->actor_user_id = e->who->user_id;
    v->actor_role = e->who->role;
    v->action = e->action;
    v->from_state = e->from_state >= 0 ? case_state_name((case_state)e->from_state) : NULL;
    v->to_state = case_state_name((case_state)e->to_state);
    v->note = e->note;
}

/* The next public code of the local day: GR + YYMMDD + 6 digits. */
static int public_code_next(db_conn *c, arena *a, int64_t now, const char **out, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT max(public_code) FROM cases WHERE public_code >= ?1 "
                             "AND public_code < ?1 || ':'",
                             err);
    char prefix[16], day[8];
    long seq = 1;
    int rc;

    if (!st)
        return GR_EINTERNAL;
    case_local_yymmdd(now, day);
    snprintf(prefix, sizeof(prefix), "GR%s", day);
    db_bind_text(st, 1, prefix);
    rc = db_step(st, err);
    if (rc == DB_ROW && db_col_text(st, 0))
        seq = strtol(db_col_text(st, 0) + 8, NULL, 10) + 1;
    db_done(st);
    if (rc < 0)
        return rc;
    if (seq > 999999)
        return err_set(err, GR_EUNAVAIL, "", "a million cases today: the daily codes ran out");
    *out = arena_printf(a, "%s%06ld", prefix, seq);
    return 0;
}

/* The whole row at once, in its state after intake (the writer's time is
 * everyone's: one insert, no update after it). */
static int row_insert(db_conn *c, struct create_w *w, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "INSERT INTO cases (public_code, channel, title, description, "
                             "first_unit_id, reporter_user_id, entered_by, contact_enc, "
                             "contact_hint, anonymous, created_at, " CASE_MUTABLE
                             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, " CASE_MUTABLE_QS ")",
                             err);
    const case_rec *r = &w->r;
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, r->public_code);
    db_bind_text(st, 2, r->channel);
    db_bind_text(st, 3, r->title);
    db_bind_text(st, 4, r->description);
    bind_id(st, 5, r->first_unit_id);
    bind_id(st, 6, r->reporter_user_id);
    bind_id(st, 7, r->entered_by);
    if (w->enc_len)
        db_bind_blob(st, 8, w->enc, w->enc_len);
    else
        db_bind_null(st, 8);
    db_bind_text(st, 9, r->contact_hint);
    db_bind_int(st, 10, r->anonymous);
    db_bind_int(st, 11, r->created_at);
    bind_mutable(st, 12, r);
    rc = db_run(st, err);
    db_done(st);
    w->r.id = db_last_id(c);
    return rc;
}

/* Trusted channels: the system accepts and files at once (both on the
 * timeline; the row was inserted filed). */
static int intake_auto_file(db_conn *c, struct create_w *w, int64_t now, gr_err *err)
{
    static const case_actor sys = {0, "system", 0, 0, 0};
    case_event_new e = {w->r.id,           now,  &sys, "accept", CS_REPORTED, CS_ACCEPTED,
                        "trusted channel", NULL, NULL, 0};
    int rc = case_event_add(c, &e, err);

    if (!rc) {
        written_event(w, c, &e);
        e.action = "file";
        e.from_state = CS_ACCEPTED;
        e.to_state = CS_FILED;
        rc = case_event_add(c, &e, err);
    }
    if (!rc)
        written_event(w, c, &e);
    return rc;
}

/* Where the case is: its point's units, or those of its first unit. */
static int intake_place(struct create_w *w, db_conn *c, arena *a, gr_err *err)
{
    case_rec *r = &w->r;
    int rc;

    if (r->has_point)
        rc = case_locate(w->ctx, c, r->lat, r->lon, r, err);
    else
        rc = case_locate_unit(c, r->first_unit_id, r, err);
    if (!rc && !r->first_unit_id)
        r->first_unit_id = r->street_id ? r->street_id : case_scope_unit(r);
    if (!rc && r->category_id)
        rc = case_route(c, a, r, err);
    return rc;
}

static int create_fn(db_conn *c, void *arg, gr_err *err)
{
    struct create_w *w = arg;
    case_rec *r = &w->r;
    arena *a = arena_new();
    int64_t now = r->created_at;
    case_event_new e = {0,           now,  w->who, "report",     -1,
                        CS_REPORTED, NULL, NULL,   w->in->media, w->in->nmedia};
    int rc;

    w->nev = 0;
    rc = public_code_next(c, a, now, &r->public_code, err);
    if (!rc) {
        /* The code outlives this function's arena (case_create_written). */
        snprintf(w->code, sizeof(w->code), "%s", r->public_code);
        r->public_code = w->code;
        rc = row_insert(c, w, err);
    }
    if (!rc)
        rc = case_reporter_add(c, r->id, r->id, r->reporter_user_id, w->enc_len ? w->enc : NULL,
                               w->enc_len, r->contact_hint, now, err);
    e.case_id = r->id;
    if (!rc)
        rc = case_event_add(c, &e, err);
    if (!rc)
        written_event(w, c, &e);
    if (!rc)
        rc = case_media_link(c, r, w->in->media, w->in->nmedia, r->is_public, w->who->user_id, err);
    if (!rc && r->state == CS_FILED)
        rc = intake_auto_file(c, w, now, err);
    if (!rc && r->step)
        rc = case_step_start(c, r, now, err);
    if (!rc)
        rc = case_notify(c, r, r->state == CS_FILED ? "case.filed" : "case.reported", "report",
                         NULL, err);
    if (!rc && w->in->duplicate_of)
        rc = case_merge_apply(w->ctx, c, r, w->in->duplicate_of, w->who,
                              "the reporter says it is the same problem", now, err);
    w->id = r->id;
    arena_free(a);
    return rc;
}

/* The case as the intake makes it, before the write: fields, reporter, place. */
static int intake_prepare(struct create_w *w, const char *channel, gr_err *err)
{
    const case_input *in = w->in;
    case_rec *r = &w->r;
    int rc = 0, resident;

    memset(r, 0, sizeof(*r));
    r->channel = channel;
    r->category_id = in->category_id;
    r->title = in->title;
    r->description = in->description;
    r->address = in->address;
    r->has_point = in->has_point;
    if (in->has_point)
        geo_to_wgs84(in->crs, in->lat, in->lon, &r->lat, &r->lon);
    /* A resident reports for themself, an inspector for the post; staff who
     * enter a case for someone else (or a machine's owner) only entered it. */
    resident = strcmp(w->who->role, "resident") == 0;
    r->reporter_user_id = resident || !strcmp(channel, "inspector") ? w->who->user_id : 0;
    r->entered_by = resident ? 0 : w->who->user_id;
    /* 首接: the staff member's unit; for residents and machines the street of the place. */
    if (channel_on_behalf(channel) || strcmp(channel, "inspector") == 0)
        r->first_unit_id = w->who->scope_org_id;
    r->anonymous = in->anonymous;
    r->is_public = in->is_public;
    r->urgent = in->urgent;
    r->area_class = in->area_class ? in->area_class : 'B';
    r->state = CS_REPORTED;
    r->version = 1;
    r->created_at = r->updated_at = time_now_ms();
    if (in->contact) {
        mask_text(mask_policy_default(), MASK_PHONE, in->contact, w->hint, sizeof(w->hint));
        r->contact_hint = w->hint;
        rc = crypto_seal(w->ctx->field_key, in->contact, strlen(in->contact), CASE_CONTACT_AD,
                         w->enc, sizeof(w->enc), &w->enc_len, err);
    }
    return rc;
}

/* A reporter's duplicate_of names one of the candidates intake offers
 * (within 250 m and 7 days of the report): joining makes them a reporter of
 * that case, who reads it under "my cases", confirms and rates it, so an
 * arbitrary case id is refused. Staff entering a case without a place
 * (hotline, counter) merge as they may anyway. */
static int duplicate_check(db_conn *c, arena *a, const case_rec *r, int64_t target, gr_err *err)
{
    case_rec t;
    int rc;

    if (!target || !r->has_point)
        return 0;
    rc = case_get(c, a, target, &t, err);
    if (rc == GR_ENOTFOUND ||
        (!rc && (!t.has_point || t.created_at < r->created_at - CASE_DUP_DAYS * 86400000LL ||
                 geo_distance_m(r->lat, r->lon, t.lat, t.lon) > CASE_DUP_RADIUS_M)))
        rc = err_set(err, GR_EINVAL, "duplicate_of",
                     "case %" PRId64 " is not a case reported within %d m in the last %d days",
                     target, CASE_DUP_RADIUS_M, CASE_DUP_DAYS);
    return rc;
}

static int create_run(gr_ctx *ctx, const case_actor *who, const case_input *in, struct create_w *w,
                      gr_err *err)
{
    const char *channel = NULL;
    arena *a = arena_new();
    cat_info cat;
    int rc;

    w->ctx = ctx;
    w->who = who;
    w->in = in;
    rc = case_channel_for(who, in->channel, &channel, err);
    if (!rc)
        rc = input_check(in, channel, who, err);
    if (!rc && !db_reader(ctx->db))
        rc = err_set(err, GR_EUNAVAIL, "", "the database does not answer");
    if (!rc && in->category_id)
        rc = case_category_check(db_reader(ctx->db), a, in->category_id, &cat, err);
    if (!rc)
        rc = intake_prepare(w, channel, err);
    /* Placing, routing and the first deadline only read: done before the
     * write, so that the writer (everyone's bottleneck) does not wait for
     * them. */
    if (!rc)
        rc = intake_place(w, db_reader(ctx->db), a, err);
    if (!rc) {
        w->r.state = channel_trusted(channel) ? CS_FILED : CS_REPORTED;
        rc = case_step_plan(ctx, db_reader(ctx->db), &w->r, w->r.created_at, err);
    }
    if (!rc)
        rc = duplicate_check(db_reader(ctx->db), a, &w->r, in->duplicate_of, err);
    if (!rc)
        rc = db_write(ctx->db, create_fn, w, err);
    if (!rc)
        log_obj(LOG_INFO, "case.reported",
                json_pack("{s:I, s:s}", "case_id", (json_int_t)w->id, "channel", channel));
    arena_free(a);
    return rc;
}

int case_create(gr_ctx *ctx, const case_actor *who, const case_input *in, int64_t *id, gr_err *err)
{
    struct create_w *w = calloc(1, sizeof(*w));
    int rc;

    if (!w)
        return err_set(err, GR_EINTERNAL, "", "out of memory");
    rc = create_run(ctx, who, in, w, err);
    if (!rc)
        *id = w->id;
    free(w);
    return rc;
}

int case_create_written(gr_ctx *ctx, const case_actor *who, const case_input *in, arena *a,
                        case_rec *r, case_event **ev, size_t *nev, gr_err *err)
{
    struct create_w *w = calloc(1, sizeof(*w));
    int rc;

    *nev = 0;
    *ev = NULL;
    if (!w)
        return err_set(err, GR_EINTERNAL, "", "out of memory");
    rc = create_run(ctx, who, in, w, err);
    if (rc)
        goto out;
    *r = w->r;
    r->id = w->id;
    /* What the row holds outlives the input and w. */
    r->public_code = arena_strdup(a, w->code);
    r->channel = arena_strdup(a, r->channel);
    r->title = arena_strdup(a, r->title);
    r->description = arena_strdup(a, r->description);
    r->address = r->address ? arena_strdup(a, r->address) : NULL;
    r->contact_hint = r->contact_hint ? arena_strdup(a, r->contact_hint) : NULL;
    /* Media links and a merge write more than the events noted: the caller
     * reads those cases back. */
    if (in->nmedia || in->duplicate_of)
        goto out;
    *ev = arena_alloc(a, w->nev * sizeof(**ev));
    memcpy(*ev, w->ev, w->nev * sizeof(**ev));
    *nev = w->nev;
out:
    free(w);
    return rc;
}

/* ---- reads ---- */

int case_contact(gr_ctx *ctx, db_conn *c, arena *a, int64_t id, const char **out, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT contact_enc FROM cases WHERE id = ?", err);
    unsigned char plain[64];
    const void *blob;
    size_t len = 0, plen = 0;
    int rc;

    *out = NULL;
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW && (blob = db_col_blob(st, 0, &len)) != NULL) {
        rc = crypto_open(ctx->field_key, blob, len, CASE_CONTACT_AD, plain, sizeof(plain), &plen,
                         err);
        if (rc)
            log_msg(LOG_ERROR, "case.contact", "case %" PRId64 ": the sealed contact does not open",
                    id);
        else
            *out = arena_strndup(a, (const char *)plain, plen);
        sodium_memzero(plain, sizeof(plain));
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "id", "no case with id %" PRId64, id);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

void case_cell_span_of(double min_lat, double max_lat, double min_lon, double max_lon,
                       case_cell_span *out)
{
    /* The arithmetic of migration 0010's near_cell column, so that a point
     * falls in the cell its row was indexed under. */
    out->r0 = (int64_t)((fmax(min_lat, -90.0) + 90) / CASE_CELL_DEG);
    out->r1 = (int64_t)((fmin(max_lat, 90.0) + 90) / CASE_CELL_DEG);
    out->c0 = (int64_t)((fmax(min_lon, -180.0) + 180) / CASE_CELL_DEG);
    out->c1 = (int64_t)((fmin(max_lon, 180.0) + 180) / CASE_CELL_DEG);
}

/* A candidate of the duplicate check before its row is read. */
typedef struct near_hit {
    int64_t id;
    double distance_m;
} near_hit;

static int near_hit_cmp(const void *x, const void *y)
{
    const near_hit *a = x, *b = y;

    return (a->distance_m > b->distance_m) - (a->distance_m < b->distance_m);
}

int case_find_nearby(db_conn *c, arena *a, double lat, double lon, int64_t category_id,
                     int64_t exclude, int64_t now, case_nearby **out, size_t *n, gr_err *err)
{
    /* A box a little larger than the circle; the distance decides. A seek
     * into cases_near for each cell of the box, with every column it can
     * use; the index covers them (no row is read to judge). The open
     * states are spelled out: NOT IN with four constants built an
     * ephemeral table at every run (migration 0016). */
    double dlat = CASE_DUP_RADIUS_M * 1.01 / 111320.0;
    double dlon = dlat / fmax(cos(lat * M_PI / 180.0), 0.01);
    db_stmt *st = db_prepare(
        c,
        category_id
            ? "SELECT id, lat, lon FROM cases WHERE near_cell = ?1 AND category_id = ?2 AND "
              "created_at >= ?3 AND state != 'rejected' AND state != 'closed' AND state "
              "!= 'cancelled' AND state != 'merged' AND id != ?4"
            : "SELECT id, lat, lon FROM cases WHERE near_cell = ?1 AND ?2 = 0 AND "
              "created_at >= ?3 AND state != 'rejected' AND state != 'closed' AND state "
              "!= 'cancelled' AND state != 'merged' AND id != ?4",
        err);
    size_t cap = 32, nhit = 0, i;
    case_cell_span sp;
    int64_t row, col;
    near_hit *hit;
    int rc = 0;

    *n = 0;
    if (!st)
        return GR_EINTERNAL;
    case_cell_span_of(lat - dlat, lat + dlat, lon - dlon, lon + dlon, &sp);
    hit = arena_alloc(a, cap * sizeof(*hit));
    for (row = sp.r0; row <= sp.r1 && rc >= 0; row++) {
        for (col = sp.c0; col <= sp.c1 && rc >= 0; col++) {
            db_reset(st);
            db_bind_int(st, 1, row * CASE_CELL_ROW + col);
            db_bind_int(st, 2, category_id);
            db_bind_int(st, 3, now - CASE_DUP_DAYS * 86400000LL);
            db_bind_int(st, 4, exclude);
            while ((rc = db_step(st, err)) == DB_ROW) {
                double d = geo_distance_m(lat, lon, db_col_double(st, 1), db_col_double(st, 2));
                if (d > CASE_DUP_RADIUS_M)
                    continue;
                hit = grow(a, hit, nhit, &cap, sizeof(*hit));
                hit[nhit].id = db_col_int(st, 0);
                hit[nhit++].distance_m = d;
            }
        }
    }
    db_done(st);
    if (rc < 0)
        return rc;
    rc = 0;
    qsort(hit, nhit, sizeof(*hit), near_hit_cmp);
    if (nhit > CASE_DUP_MAX)
        nhit = CASE_DUP_MAX;
    *out = arena_alloc(a, (nhit ? nhit : 1) * sizeof(**out));
    for (i = 0; i < nhit && !rc; i++) {
        rc = case_get(c, a, hit[i].id, &(*out)[i].rec, err);
        (*out)[i].distance_m = hit[i].distance_m;
    }
    *n = rc ? 0 : nhit;
    return rc;
}
