/* The history rows of base-data records (bd_history.h). */
#include "basedata/bd_history.h"
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bd_history_add(db_conn *c, const bd_change *ch, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "INSERT INTO bd_history (entity, entity_id, version, at, "
                             "actor_user_id, actor_role, source, action, changes) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             err);
    const buf *text = ch->changes && ch->changes->n ? &ch->changes->text : NULL;
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text_ref(st, 1, ch->entity);
    db_bind_int(st, 2, ch->entity_id);
    db_bind_int(st, 3, ch->version);
    db_bind_int(st, 4, ch->at);
    db_bind_int_or_null(st, 5, ch->who ? ch->who->user_id : 0);
    db_bind_text_ref(st, 6, ch->who && ch->who->role ? ch->who->role : "system");
    db_bind_text_ref(st, 7, ch->source);
    db_bind_text_ref(st, 8, ch->action);
    if (text)
        db_bind_textn_ref(st, 9, text->data, text->len);
    else
        db_bind_text_ref(st, 9, "{}");
    rc = db_run(st, err);
    if (rc == GR_EEXIST)
        rc = err_set(err, GR_ECONFLICT, "version", "version %lld of this %s is already recorded",
                     (long long)ch->version, ch->entity);
    db_done(st);
    return rc;
}

int bd_history_seal_keep(db_conn *c, const char *entity, int64_t id, int64_t version,
                         const char *field, const void *sealed, size_t len, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "INSERT INTO bd_history_sealed (entity, entity_id, version, field, "
                             "old_enc) VALUES (?, ?, ?, ?, ?)",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, entity);
    db_bind_int(st, 2, id);
    db_bind_int(st, 3, version);
    db_bind_text(st, 4, field);
    if (sealed)
        db_bind_blob(st, 5, sealed, len);
    else
        db_bind_null(st, 5);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

static json_t *history_row(db_stmt *st)
{
    const char *changes = db_col_text(st, 6);
    json_t *ch = changes ? json_loads(changes, 0, NULL) : NULL;

    return json_pack("{s:I, s:I, s:o, s:s, s:s, s:s, s:o}", "version",
                     (json_int_t)db_col_int(st, 0), "at", (json_int_t)db_col_int(st, 1),
                     "actor_user_id",
                     db_col_is_null(st, 2) ? json_null() : json_integer(db_col_int(st, 2)),
                     "actor_role", db_col_text(st, 3), "source", db_col_text(st, 4), "action",
                     db_col_text(st, 5), "changes", ch ? ch : json_object());
}

int bd_history_list(db_conn *c, arena *a, const char *entity, int64_t id, int64_t after_version,
                    int64_t limit, json_t **items, int *more, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT version, at, actor_user_id, actor_role, source, action, "
                             "changes FROM bd_history WHERE entity = ? AND entity_id = ? "
                             "AND version > ? ORDER BY version LIMIT ?",
                             err);
    json_t *out = json_array();
    int64_t n = 0;
    int rc;

    (void)a;
    *items = NULL;
    *more = 0;
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_text(st, 1, entity);
    db_bind_int(st, 2, id);
    db_bind_int(st, 3, after_version);
    db_bind_int(st, 4, limit + 1);
    while ((rc = db_step(st, err)) == DB_ROW) {
        if (n++ == limit) {
            *more = 1;
            continue;
        }
        json_array_append_new(out, history_row(st));
    }
    db_done(st);
out:
    if (rc < 0) {
        json_decref(out);
        return rc;
    }
    *items = out;
    return 0;
}

static int text_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* One value of a change, as it is written. */
typedef struct value {
    enum { V_NULL, V_TEXT, V_INT, V_REAL, V_JSON, V_SEALED } kind;
    const char *s;
    int64_t i;
    double d;
    const json_t *j;
} value;

static void put_value(buf *b, const value *v)
{
    char tmp[40];
    char *dump;

    switch (v->kind) {
    case V_TEXT:
        buf_put_json_string(b, v->s);
        break;
    case V_INT:
        buf_put_int(b, v->i);
        break;
    case V_REAL:
        /* As jansson writes a real: 17 digits, and ".0" when they look whole. */
        snprintf(tmp, sizeof(tmp), "%.17g", v->d);
        buf_puts(b, tmp);
        if (!strpbrk(tmp, ".eEni"))
            buf_puts(b, ".0");
        break;
    case V_JSON:
        dump = json_dumps(v->j, JSON_COMPACT | JSON_ENCODE_ANY);
        buf_puts(b, dump ? dump : "null");
        free(dump);
        break;
    case V_SEALED:
        buf_puts(b, "\"" BD_SEALED_MARK "\"");
        break;
    default:
        buf_puts(b, "null");
    }
}

/* "field":[old,new] in place of the closing brace, with the comma before
 * it, and the brace again: the text is always a whole object. */
static void put_pair(bd_changes *ch, const char *field, value old, value new_)
{
    if (ch->n++) {
        ch->text.len--;
        buf_puts(&ch->text, ",\"");
    } else {
        buf_puts(&ch->text, "{\"");
    }
    buf_puts(&ch->text, field);
    buf_puts(&ch->text, "\":[");
    put_value(&ch->text, &old);
    buf_puts(&ch->text, ",");
    put_value(&ch->text, &new_);
    buf_puts(&ch->text, "]}");
}

static value text_value(const char *s)
{
    value v = {s ? V_TEXT : V_NULL, s, 0, 0, NULL};

    return v;
}

void bd_changes_put_text(bd_changes *ch, const char *field, const char *old, const char *new_)
{
    if (!text_eq(old, new_))
        put_pair(ch, field, text_value(old), text_value(new_));
}

static value int_value(int64_t i, int null_if_zero)
{
    value v = {null_if_zero && i == 0 ? V_NULL : V_INT, NULL, i, 0, NULL};

    return v;
}

void bd_changes_put_int(bd_changes *ch, const char *field, int64_t old, int64_t new_,
                        int null_if_zero)
{
    if (old != new_)
        put_pair(ch, field, int_value(old, null_if_zero), int_value(new_, null_if_zero));
}

static value real_value(int has, double d)
{
    value v = {has ? V_REAL : V_NULL, NULL, 0, d, NULL};

    return v;
}

void bd_changes_put_real(bd_changes *ch, const char *field, int has_old, double old, int has_new,
                         double new_)
{
    if (has_old != has_new || (has_old && old != new_))
        put_pair(ch, field, real_value(has_old, old), real_value(has_new, new_));
}

static value json_value(const json_t *j)
{
    value v = {j && !json_is_null(j) ? V_JSON : V_NULL, NULL, 0, 0, j};

    return v;
}

void bd_changes_put_json(bd_changes *ch, const char *field, const json_t *old, const json_t *new_)
{
    value a = json_value(old), b = json_value(new_);

    if (a.kind != b.kind || (a.kind == V_JSON && !json_equal(old, new_)))
        put_pair(ch, field, a, b);
}

void bd_changes_put_sealed(bd_changes *ch, const char *field, int had, int has)
{
    value a = {had ? V_SEALED : V_NULL, NULL, 0, 0, NULL},
          b = {has ? V_SEALED : V_NULL, NULL, 0, 0, NULL};

    put_pair(ch, field, a, b);
}

void bd_changes_free(bd_changes *ch)
{
    buf_free(&ch->text);
    ch->n = 0;
}
