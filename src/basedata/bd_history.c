/* The history rows of base-data records (bd_history.h). */
#include "basedata/bd_history.h"
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether a key can be written as it is: the field names of the code. */
static int plain_key(const char *k)
{
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
            return 0;
    return 1;
}

/* One value of a change: null and integers by hand, the rest by jansson
 * into a buffer of the stack (a string through jansson's own escaping). */
static int value_text(buf *b, const json_t *v)
{
    char tmp[512];
    size_t n;

    if (json_is_null(v)) {
        buf_puts(b, "null");
        return 0;
    }
    if (json_is_integer(v))
        n = (size_t)snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
    else
        n = json_dumpb(v, tmp, sizeof(tmp), JSON_ENCODE_ANY);
    if (n == 0 || n > sizeof(tmp))
        return -1;
    buf_append(b, tmp, n);
    return 0;
}

/* The changes as compact JSON, in the order they were put. json_dumps
 * checks every array and object for loops through a hash table keyed by a
 * printed pointer, which made it half of an imported person's history row
 * (docs/benchmarks.md); changes are a flat object of [old, new] pairs, so
 * only their scalars go through jansson. Anything else is dumped whole. */
static char *changes_text(json_t *ch)
{
    const char *k;
    json_t *pair;
    buf b = {0};
    int rc = 0;

    buf_puts(&b, "{");
    json_object_foreach(ch, k, pair)
    {
        if (rc || !plain_key(k) || !json_is_array(pair) || json_array_size(pair) != 2) {
            rc = -1;
            break;
        }
        buf_puts(&b, b.len > 1 ? ",\"" : "\"");
        buf_puts(&b, k);
        buf_puts(&b, "\":[");
        rc = value_text(&b, json_array_get(pair, 0));
        buf_puts(&b, ",");
        if (!rc)
            rc = value_text(&b, json_array_get(pair, 1));
        buf_puts(&b, "]");
    }
    buf_puts(&b, "}");
    if (!rc && b.data)
        return buf_detach(&b);
    buf_free(&b);
    return json_dumps(ch, JSON_COMPACT);
}

int bd_history_add(db_conn *c, const bd_change *ch, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "INSERT INTO bd_history (entity, entity_id, version, at, "
                             "actor_user_id, actor_role, source, action, changes) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             err);
    char *changes = NULL;
    int rc;

    if (!st)
        return GR_EINTERNAL;
    changes = ch->changes ? changes_text(ch->changes) : strdup("{}");
    if (!changes) {
        rc = err_set(err, GR_EINTERNAL, "", "cannot encode the changes");
        goto out;
    }
    db_bind_text(st, 1, ch->entity);
    db_bind_int(st, 2, ch->entity_id);
    db_bind_int(st, 3, ch->version);
    db_bind_int(st, 4, ch->at);
    db_bind_int_or_null(st, 5, ch->who ? ch->who->user_id : 0);
    db_bind_text(st, 6, ch->who && ch->who->role ? ch->who->role : "system");
    db_bind_text(st, 7, ch->source);
    db_bind_text(st, 8, ch->action);
    db_bind_text(st, 9, changes);
    rc = db_run(st, err);
    if (rc == GR_EEXIST)
        rc = err_set(err, GR_ECONFLICT, "version", "version %lld of this %s is already recorded",
                     (long long)ch->version, ch->entity);
out:
    db_done(st);
    free(changes);
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

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

void bd_changes_put_text(json_t *changes, const char *field, const char *old, const char *new_)
{
    if (!changes || text_eq(old, new_))
        return;
    json_object_set_new(changes, field, json_pack("[o, o]", text_or_null(old), text_or_null(new_)));
}

static json_t *int_or_null(int64_t v, int null_if_zero)
{
    return null_if_zero && v == 0 ? json_null() : json_integer(v);
}

void bd_changes_put_int(json_t *changes, const char *field, int64_t old, int64_t new_,
                        int null_if_zero)
{
    if (!changes || old == new_)
        return;
    json_object_set_new(
        changes, field,
        json_pack("[o, o]", int_or_null(old, null_if_zero), int_or_null(new_, null_if_zero)));
}
