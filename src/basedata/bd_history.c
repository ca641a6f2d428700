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
    db_bind_text(st, 1, ch->entity);
    db_bind_int(st, 2, ch->entity_id);
    db_bind_int(st, 3, ch->version);
    db_bind_int(st, 4, ch->at);
    db_bind_int_or_null(st, 5, ch->who ? ch->who->user_id : 0);
    db_bind_text(st, 6, ch->who && ch->who->role ? ch->who->role : "system");
    db_bind_text(st, 7, ch->source);
    db_bind_text(st, 8, ch->action);
    if (text)
        db_bind_textn(st, 9, text->data, text->len);
    else
        db_bind_text(st, 9, "{}");
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

/* "field":[ in place of the closing brace, with the comma before it; each
 * put ends with "]}", so the text is always a whole object. */
static void put_key(bd_changes *ch, const char *field)
{
    if (ch->n++) {
        ch->text.len--;
        buf_puts(&ch->text, ",\"");
    } else {
        buf_puts(&ch->text, "{\"");
    }
    buf_puts(&ch->text, field);
    buf_puts(&ch->text, "\":[");
}

static void put_text_or_null(buf *b, const char *s)
{
    if (s)
        buf_put_json_string(b, s);
    else
        buf_puts(b, "null");
}

void bd_changes_put_text(bd_changes *ch, const char *field, const char *old, const char *new_)
{
    if (text_eq(old, new_))
        return;
    put_key(ch, field);
    put_text_or_null(&ch->text, old);
    buf_puts(&ch->text, ",");
    put_text_or_null(&ch->text, new_);
    buf_puts(&ch->text, "]}");
}

static void put_int_or_null(buf *b, int64_t v, int null_if_zero)
{
    if (null_if_zero && v == 0)
        buf_puts(b, "null");
    else
        buf_printf(b, "%lld", (long long)v);
}

void bd_changes_put_int(bd_changes *ch, const char *field, int64_t old, int64_t new_,
                        int null_if_zero)
{
    if (old == new_)
        return;
    put_key(ch, field);
    put_int_or_null(&ch->text, old, null_if_zero);
    buf_puts(&ch->text, ",");
    put_int_or_null(&ch->text, new_, null_if_zero);
    buf_puts(&ch->text, "]}");
}

/* As jansson writes a real: 17 digits, and ".0" when they look whole. */
static void put_real_or_null(buf *b, int has, double v)
{
    char tmp[40];

    if (!has) {
        buf_puts(b, "null");
        return;
    }
    snprintf(tmp, sizeof(tmp), "%.17g", v);
    buf_puts(b, tmp);
    if (!strpbrk(tmp, ".eEni"))
        buf_puts(b, ".0");
}

void bd_changes_put_real(bd_changes *ch, const char *field, int has_old, double old, int has_new,
                         double new_)
{
    if (has_old == has_new && (!has_old || old == new_))
        return;
    put_key(ch, field);
    put_real_or_null(&ch->text, has_old, old);
    buf_puts(&ch->text, ",");
    put_real_or_null(&ch->text, has_new, new_);
    buf_puts(&ch->text, "]}");
}

static void put_json_or_null(buf *b, const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    buf_puts(b, s ? s : "null");
    free(s);
}

void bd_changes_put_json(bd_changes *ch, const char *field, const json_t *old, const json_t *new_)
{
    if (old && json_is_null(old))
        old = NULL;
    if (new_ && json_is_null(new_))
        new_ = NULL;
    if ((!old && !new_) || (old && new_ && json_equal(old, new_)))
        return;
    put_key(ch, field);
    put_json_or_null(&ch->text, old);
    buf_puts(&ch->text, ",");
    put_json_or_null(&ch->text, new_);
    buf_puts(&ch->text, "]}");
}

void bd_changes_put_sealed(bd_changes *ch, const char *field, int had, int has)
{
    put_key(ch, field);
    buf_puts(&ch->text, had ? "\"" BD_SEALED_MARK "\"," : "null,");
    buf_puts(&ch->text, has ? "\"" BD_SEALED_MARK "\"]}" : "null]}");
}

void bd_changes_free(bd_changes *ch)
{
    buf_free(&ch->text);
    ch->n = 0;
}
