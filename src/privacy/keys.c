/* Rotating the field key (keys.h). */
#include "privacy/keys.h"

#include "base/crypto.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "db/db.h"
#include "privacy/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* SQLite's unix VFS holds a shared lock on this byte of DB-shm for as long
 * as a connection has a WAL database open (UNIX_SHM_DMS in os_unix.c). */
#define SHM_DMS_BYTE 128

typedef struct rotation {
    const sealed_column *cols;
    size_t ncols;
    unsigned char old_key[32], new_key[32], index_key[32];
    keys_rotate_report rep;
    int64_t stop_after, resealed_all;
} rotation;

/* Any other process with the database open holds SQLite's lock on the
 * shared memory. F_GETLK never reports the caller's own locks, and closing
 * the descriptor drops them: call this before this process opens the
 * database. */
static int check_unused(const char *dir, gr_err *err)
{
    struct flock fl = {0};
    char path[4096];
    int fd, rc = 0;

    if ((size_t)snprintf(path, sizeof(path), "%s/grassroots.db-shm", dir) >= sizeof(path))
        return err_set(err, GR_EINVAL, "data", "the data directory's path is too long");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT
                   ? 0
                   : err_set(err, GR_EINVAL, "data", "cannot open %s: %s", path, strerror(errno));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = SHM_DMS_BYTE;
    fl.l_len = 1;
    if (fcntl(fd, F_GETLK, &fl) != 0)
        rc = err_set(err, GR_EINVAL, "data", "cannot check the locks of %s: %s", path,
                     strerror(errno));
    else if (fl.l_type != F_UNLCK)
        rc = err_set(err, GR_EUNAVAIL, "data",
                     "the database in %s is open in process %ld (the server?): stop it first", dir,
                     (long)fl.l_pid);
    close(fd);
    return rc;
}

static char *select_sql(const sealed_column *col, int limited)
{
    char *sql = NULL;

    if (asprintf(&sql, "SELECT %s, %s FROM %s WHERE %s > ?1 AND %s IS NOT NULL%s%s%s ORDER BY %s%s",
                 col->id_col, col->blob_col, col->table, col->id_col, col->blob_col,
                 col->where ? " AND (" : "", col->where ? col->where : "", col->where ? ")" : "",
                 col->id_col, limited ? " LIMIT ?2" : "") < 0)
        return NULL;
    return sql;
}

/* Every sealed row of a table whose entries have conditions must match one. */
static int check_cover_fn(db_conn *c, void *arg, gr_err *err)
{
    rotation *r = arg;
    char cond[2048], *sql = NULL;
    size_t i, j, n;
    int64_t id = 0;
    int rc = 0;

    for (i = 0; i < r->ncols && !rc; i++) {
        const sealed_column *a = &r->cols[i];
        int first = 1;

        if (!a->where)
            continue;
        for (j = 0; j < i; j++)
            if (strcmp(r->cols[j].table, a->table) == 0 &&
                strcmp(r->cols[j].blob_col, a->blob_col) == 0)
                break;
        if (j < i)
            continue; /* this table and column was checked with its first entry */
        n = 0;
        for (j = i; j < r->ncols; j++) {
            const sealed_column *b = &r->cols[j];

            if (strcmp(b->table, a->table) != 0 || strcmp(b->blob_col, a->blob_col) != 0)
                continue;
            n += (size_t)snprintf(cond + n, n < sizeof(cond) ? sizeof(cond) - n : 0, "%s(%s)",
                                  first ? "" : " OR ", b->where ? b->where : "1");
            first = 0;
        }
        if (n >= sizeof(cond))
            return err_set(err, GR_EINTERNAL, a->name, "the registry's conditions are too long");
        free(sql);
        sql = NULL;
        if (asprintf(&sql,
                     "SELECT %s FROM %s WHERE %s IS NOT NULL AND NOT (%s) ORDER BY %s LIMIT 1",
                     a->id_col, a->table, a->blob_col, cond, a->id_col) < 0)
            return err_set(err, GR_EINTERNAL, "", "out of memory");
        rc = db_query_int(c, sql, 0, 0, &id, err);
        if (!rc && id)
            rc = err_set(err, GR_EINVAL, a->name,
                         "row %lld of %s has a sealed %s that no registry entry covers "
                         "(src/privacy/sealed.c): its additional data is unknown",
                         (long long)id, a->table, a->blob_col);
    }
    free(sql);
    return rc;
}

typedef struct pending {
    int64_t id;
    unsigned char *blob;
    size_t len;
} pending;

typedef struct batch {
    rotation *r;
    size_t col;
    int64_t after, limit;
    int done;
} batch;

static int open_with(const unsigned char key[32], const void *blob, size_t len, const char *ad,
                     unsigned char *plain, size_t cap, size_t *plen)
{
    gr_err ignore = {0};

    return crypto_open(key, blob, len, ad, plain, cap, plen, &ignore);
}

/* Drops the append-only guard, runs the updates, puts the guard back with
 * the SQL it had: all in this write, so no other write sees it missing. */
static int apply(db_conn *c, const sealed_column *col, const pending *p, size_t n, gr_err *err)
{
    db_stmt *st;
    char *guard_sql = NULL, *sql = NULL;
    size_t i;
    int rc = 0;

    if (n == 0)
        return 0;
    if (col->guard) {
        st = db_prepare(c, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                        err);
        if (!st)
            return GR_EINTERNAL;
        db_bind_text(st, 1, col->guard);
        rc = db_step(st, err);
        if (rc == DB_ROW && db_col_text(st, 0))
            guard_sql = strdup(db_col_text(st, 0));
        db_done(st);
        if (rc < 0)
            return rc;
        rc = 0;
        if (!guard_sql)
            return err_set(err, GR_EINTERNAL, col->name, "the trigger %s is missing", col->guard);
        if (asprintf(&sql, "DROP TRIGGER \"%s\"", col->guard) < 0) {
            rc = err_set(err, GR_EINTERNAL, "", "out of memory");
            goto out;
        }
        rc = db_exec(c, sql, err);
        if (rc)
            goto out;
        free(sql);
        sql = NULL;
    }
    if (asprintf(&sql, "UPDATE %s SET %s = ?1 WHERE %s = ?2", col->table, col->blob_col,
                 col->id_col) < 0) {
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
        goto out;
    }
    for (i = 0; i < n && !rc; i++) {
        st = db_prepare(c, sql, err);
        if (!st) {
            rc = GR_EINTERNAL;
            break;
        }
        db_bind_blob(st, 1, p[i].blob, p[i].len);
        db_bind_int(st, 2, p[i].id);
        rc = db_run(st, err);
        db_done(st);
    }
    if (!rc && guard_sql)
        rc = db_exec(c, guard_sql, err);
out:
    free(sql);
    free(guard_sql);
    return rc;
}

static int batch_fn(db_conn *c, void *arg, gr_err *err)
{
    batch *b = arg;
    rotation *r = b->r;
    const sealed_column *col = &r->cols[b->col];
    pending *p = NULL;
    unsigned char *plain = NULL;
    char *sql = select_sql(col, 1);
    db_stmt *st = NULL;
    size_t n = 0, rows = 0, len, plen = 0, cap = 0;
    const void *blob;
    int64_t id, last = b->after;
    int rc = 0;

    p = calloc((size_t)b->limit, sizeof(*p));
    if (!sql || !p) {
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
        goto out;
    }
    st = db_prepare(c, sql, err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_int(st, 1, b->after);
    db_bind_int(st, 2, b->limit);
    while ((rc = db_step(st, err)) == DB_ROW) {
        rows++;
        id = db_col_int(st, 0);
        blob = db_col_blob(st, 1, &len);
        last = id;
        if (plain)
            sodium_memzero(plain, cap);
        free(plain);
        cap = len + 1;
        plain = malloc(cap);
        if (!plain) {
            rc = err_set(err, GR_EINTERNAL, "", "out of memory");
            break;
        }
        if (open_with(r->new_key, blob, len, col->ad, plain, len + 1, &plen) == 0)
            continue; /* done by an earlier, interrupted run */
        if (open_with(r->old_key, blob, len, col->ad, plain, len + 1, &plen) != 0) {
            rc = err_set(err, GR_EINVAL, col->name,
                         "%s row %lld: the sealed %s opens with neither the old nor the new "
                         "field key (is \"%s\" the additional data its module seals with?); "
                         "nothing more was changed, fix it and run with --resume",
                         col->table, (long long)id, col->blob_col, col->ad);
            break;
        }
        p[n].id = id;
        p[n].len = plen + CRYPTO_SEAL_OVERHEAD;
        p[n].blob = malloc(p[n].len);
        if (!p[n].blob) {
            rc = err_set(err, GR_EINTERNAL, "", "out of memory");
            break;
        }
        rc = crypto_seal(r->new_key, plain, plen, col->ad, p[n].blob, p[n].len, &p[n].len, err);
        n++;
        if (rc)
            break;
        if (r->stop_after && r->resealed_all + (int64_t)n >= r->stop_after)
            break;
    }
    db_done(st);
    st = NULL;
    if (rc < 0)
        goto out;
    rc = apply(c, col, p, n, err);
    if (rc)
        goto out;
    b->after = last;
    b->done = rows < (size_t)b->limit;
    r->rep.resealed[b->col] += (int64_t)n;
    r->resealed_all += (int64_t)n;
out:
    if (plain)
        sodium_memzero(plain, cap);
    free(plain);
    while (p && n > 0)
        free(p[--n].blob);
    free(p);
    free(sql);
    return rc;
}

/* Every value opens with the new key; the audit entry rides on this write. */
static int finish_fn(db_conn *c, void *arg, gr_err *err)
{
    rotation *r = arg;
    unsigned char akey[AUDIT_HASH_BYTES], *plain = NULL;
    json_t *cols = json_object(), *detail = NULL;
    char *sql = NULL, *text = NULL;
    const void *blob;
    size_t i, len, plen;
    db_stmt *st;
    audit_entry e = {0};
    int rc = 0;

    for (i = 0; i < r->ncols && !rc; i++) {
        const sealed_column *col = &r->cols[i];

        r->rep.total[i] = 0;
        free(sql);
        sql = select_sql(col, 0);
        st = sql ? db_prepare(c, sql, err) : NULL;
        if (!st) {
            rc = err_set(err, GR_EINTERNAL, "", "cannot read %s", col->name);
            break;
        }
        db_bind_int(st, 1, INT64_MIN);
        while ((rc = db_step(st, err)) == DB_ROW) {
            blob = db_col_blob(st, 1, &len);
            free(plain);
            plain = malloc(len + 1);
            if (!plain) {
                rc = err_set(err, GR_EINTERNAL, "", "out of memory");
                break;
            }
            if (open_with(r->new_key, blob, len, col->ad, plain, len + 1, &plen) != 0) {
                rc = err_set(err, GR_EINVAL, col->name,
                             "%s row %lld: the sealed %s does not open with the new key "
                             "(written during the rotation?); run with --resume",
                             col->table, (long long)db_col_int(st, 0), col->blob_col);
                break;
            }
            sodium_memzero(plain, plen);
            r->rep.total[i]++;
        }
        db_done(st);
        if (rc == DB_DONE)
            rc = 0;
        if (!rc)
            json_object_set_new(cols, col->name, json_integer(r->rep.total[i]));
    }
    if (rc)
        goto out;
    detail = json_pack("{s:s, s:O, s:I, s:b}", "key", "field", "columns", cols, "resealed",
                       (json_int_t)r->resealed_all, "resumed", r->rep.resumed);
    text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    if (!text) {
        rc = err_set(err, GR_EINTERNAL, "", "cannot encode the audit detail");
        goto out;
    }
    e.actor_role = "system";
    e.action = "key.rotate";
    e.entity = "keys";
    e.fields = "field_key";
    e.detail = text;
    audit_key_derive(r->index_key, akey);
    rc = audit_append(c, akey, &e, err);
    sodium_memzero(akey, sizeof(akey));
out:
    free(plain);
    free(sql);
    free(text);
    json_decref(detail);
    json_decref(cols);
    return rc;
}

static int sync_dir(const char *dir, gr_err *err)
{
    if (fs_sync_dir(dir) == 0)
        return 0;
    return err_set(err, GR_EINVAL, "keys", "cannot sync the directory %s: %s", dir,
                   strerror(errno));
}

int keys_rotate(const char *dir, const keys_rotate_opts *o, keys_rotate_report *out, gr_err *err)
{
    char keys[4096], next[4096], dbpath[4096];
    unsigned char next_index[32];
    rotation *r = NULL;
    batch b;
    db *d = NULL;
    size_t i;
    int rc, have_next;

    if ((size_t)snprintf(dbpath, sizeof(dbpath), "%s/grassroots.db", dir) >= sizeof(dbpath))
        return err_set(err, GR_EINVAL, "data", "the data directory's path is too long");
    snprintf(keys, sizeof(keys), "%s/keys", dir);
    snprintf(next, sizeof(next), "%s/keys.next", dir);
    rc = crypto_init(err);
    if (rc)
        return rc;
    r = sodium_malloc(sizeof(*r));
    if (!r)
        return err_set(err, GR_EINTERNAL, "", "out of memory");
    memset(r, 0, sizeof(*r));
    r->cols = o->cols ? o->cols : sealed_columns;
    r->ncols = o->cols ? o->ncols : sealed_ncolumns;
    r->stop_after = o->stop_after;
    r->rep.ncols = r->ncols;
    if (r->ncols > KEYS_MAX_COLUMNS) {
        rc = err_set(err, GR_EINTERNAL, "", "more than %d sealed columns", KEYS_MAX_COLUMNS);
        goto out;
    }
    rc = check_unused(dir, err);
    if (rc)
        goto out;
    rc = crypto_keys_read(keys, r->old_key, r->index_key, err);
    if (rc)
        goto out;
    have_next = access(next, F_OK) == 0;
    if (have_next && !o->resume) {
        rc = err_set(err, GR_EINVAL, "keys",
                     "%s exists: an earlier rotation was interrupted; run "
                     "'grassroots keys rotate --resume' to finish it",
                     next);
        goto out;
    }
    if (!have_next && o->resume) {
        rc = err_set(err, GR_EINVAL, "keys", "nothing to resume: %s does not exist", next);
        goto out;
    }
    rc = db_open(&d, dbpath, err);
    if (!rc)
        rc = db_migrate(d, NULL, err);
    if (!rc)
        rc = db_write(d, check_cover_fn, r, err);
    if (rc)
        goto out;
    if (have_next) {
        rc = crypto_keys_read(next, r->new_key, next_index, err);
        if (!rc && !crypto_equal(next_index, r->index_key, 32))
            rc = err_set(err, GR_EINVAL, "keys",
                         "%s and %s hold different index keys: they are not from one "
                         "rotation; restore the keys file from the backup",
                         next, keys);
        sodium_memzero(next_index, sizeof(next_index));
        r->rep.resumed = 1;
    } else {
        /* Durable before any value is sealed with it. */
        crypto_aead_xchacha20poly1305_ietf_keygen(r->new_key);
        rc = crypto_keys_write(next, r->new_key, r->index_key, err);
    }
    if (rc)
        goto out;
    log_msg(LOG_INFO, "keys.rotate", "re-encrypting %zu sealed columns%s", r->ncols,
            r->rep.resumed ? " (resumed)" : "");
    for (i = 0; i < r->ncols && !rc; i++) {
        memset(&b, 0, sizeof(b));
        b.r = r;
        b.col = i;
        b.after = INT64_MIN;
        b.limit = o->batch > 0 ? o->batch : 256;
        while (!rc && !b.done) {
            rc = db_write(d, batch_fn, &b, err);
            if (!rc && r->stop_after && r->resealed_all >= r->stop_after)
                rc = err_set(err, GR_EUNAVAIL, "", "stopped after %lld values, as asked",
                             (long long)r->resealed_all);
        }
    }
    if (!rc)
        rc = db_write(d, finish_fn, r, err);
    db_close(d);
    d = NULL;
    if (rc)
        goto out;
    if (rename(next, keys) != 0) {
        rc = err_set(err, GR_EINVAL, "keys", "cannot rename %s to %s: %s", next, keys,
                     strerror(errno));
        goto out;
    }
    rc = sync_dir(dir, err);
    if (!rc)
        log_msg(LOG_INFO, "keys.rotate", "the field key is rotated");
out:
    db_close(d);
    if (out && r)
        *out = r->rep;
    if (r)
        sodium_free(r);
    return rc;
}
