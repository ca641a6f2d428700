/*
 * Media, the model: the upload path (check, strip, hash, store the file,
 * record the row), the rows in SQL, and the read rule (see media_model.h and
 * docs/media.md).
 *
 * File I/O happens before db_write, never inside it: the file is durable
 * (fsync of the file, rename, fsync of the directory) before the row that
 * names it is inserted. A crash in between leaves a file no row names, which
 * is harmless: it takes space, and the next upload of the same bytes uses it.
 */
#include "media/media_model.h"

#include "base/crypto.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "org/org.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHA_HEX (crypto_hash_sha256_BYTES * 2 + 1)

struct media_sink {
    gr_ctx *ctx;
    media_kind kind;
    int64_t limit;
    int64_t size;
    crypto_hash_sha256_state sha; /* videos: hashed as they stream in */
    uint8_t *buf;                 /* photos */
    size_t cap;
    int fd; /* videos: the temporary file, or -1 */
    char tmp[PATH_MAX];
};

/* ---- files ---- */

void media_file_path(const char *data_dir, const char *sha256, char *out, size_t len)
{
    snprintf(out, len, "%s/media/%.2s/%.2s/%s", data_dir, sha256, sha256 + 2, sha256);
}

/* Formats a path into out; GR_EINTERNAL when it does not fit. */
static int path_printf(char *out, size_t len, gr_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int path_printf(char *out, size_t len, gr_err *err, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len)
        return err_set(err, GR_EINTERNAL, "", "media: the data directory path is too long");
    return 0;
}

static int io_fail(gr_err *err, const char *what, const char *path)
{
    return err_set(err, GR_EINTERNAL, "", "media: cannot %s %s: %s", what, path, strerror(errno));
}

static int fsync_dir(const char *path, gr_err *err)
{
    return fs_sync_dir(path) ? io_fail(err, "fsync the directory", path) : 0;
}

/* Makes the directory path (its parent exists) unless it is there; a new one
 * is made durable in its parent. */
static int make_dir(const char *path, gr_err *err)
{
    char parent[PATH_MAX];
    const char *slash;

    if (mkdir(path, 0700) != 0)
        return errno == EEXIST ? 0 : io_fail(err, "create the directory", path);
    slash = strrchr(path, '/');
    if (!slash)
        return 0;
    snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
    return fsync_dir(parent, err);
}

/* DATA/media and the directories under it down to dir_len characters of
 * path (e.g. DATA/media/ab/cd). */
static int make_dirs(const char *data_dir, const char *path, size_t dir_len, gr_err *err)
{
    char d[PATH_MAX];
    size_t i = strlen(data_dir) + 1;
    int rc = 0;

    if (dir_len >= sizeof(d))
        return err_set(err, GR_EINTERNAL, "", "media: the data directory path is too long");
    memcpy(d, path, dir_len);
    d[dir_len] = '\0';
    for (; !rc && i <= dir_len; i++) {
        if (d[i] != '/' && d[i] != '\0')
            continue;
        d[i] = '\0';
        rc = make_dir(d, err);
        if (i < dir_len)
            d[i] = '/';
    }
    return rc;
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    ssize_t k;

    while (n > 0) {
        k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Moves the complete, fsynced temporary file tmp to final (in dir) unless
 * that content is already stored, and makes the rename durable. */
static int place_file(const char *tmp, const char *final, const char *dir, gr_err *err)
{
    struct stat sb;

    if (stat(final, &sb) == 0) {
        unlink(tmp);
        return 0;
    }
    if (rename(tmp, final) != 0)
        return io_fail(err, "rename into", final);
    return fsync_dir(dir, err);
}

/* The directory of the stored file path (everything before the last '/'). */
static size_t dir_len_of(const char *path)
{
    return (size_t)(strrchr(path, '/') - path);
}

/* Stores n bytes (a cleaned photo) under their hash: a temporary file in the
 * same directory, fsync, rename. */
static int store_photo(const char *data_dir, const uint8_t *p, size_t n, const char *sha,
                       gr_err *err)
{
    char final[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX];
    struct stat sb;
    int fd = -1, rc;

    media_file_path(data_dir, sha, final, sizeof(final));
    snprintf(dir, sizeof(dir), "%.*s", (int)dir_len_of(final), final);
    if (stat(final, &sb) == 0)
        return 0; /* the same bytes are stored already */
    rc = make_dirs(data_dir, final, strlen(dir), err);
    if (!rc)
        rc = path_printf(tmp, sizeof(tmp), err, "%s/.tmp-XXXXXX", dir);
    if (rc)
        goto out;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = io_fail(err, "create a file in", dir);
        goto out;
    }
    if (write_all(fd, p, n) != 0 || fsync(fd) != 0) {
        rc = io_fail(err, "write", tmp);
        goto out;
    }
    close(fd);
    fd = -1;
    rc = place_file(tmp, final, dir, err);
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    return rc;
}

/* ---- rows ---- */

#define MEDIA_COLS                                                                                 \
    "id, sha256, type, size, uploaded_by, is_public, scope_org_id, owner_kind, owner_id, "         \
    "created_at"

static void media_read_row(db_stmt *st, arena *a, void *out)
{
    media_info *m = out;

    memset(m, 0, sizeof(*m));
    m->id = db_col_int(st, 0);
    snprintf(m->sha256, sizeof(m->sha256), "%s", db_col_text(st, 1));
    m->type = media_kind_type(media_kind_of_stored(db_col_text(st, 2)));
    m->size = db_col_int(st, 3);
    m->uploaded_by = db_col_int(st, 4); /* NULL reads as 0: anonymous */
    m->is_public = (int)db_col_int(st, 5);
    m->scope_org_id = db_col_int(st, 6);
    m->owner_kind = db_col_textdup(st, 7, a);
    m->owner_id = db_col_int(st, 8);
    m->created_at = db_col_int(st, 9);
}

int media_get(db_conn *c, arena *a, int64_t id, media_info *out, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT " MEDIA_COLS " FROM media WHERE id = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_read_one(st, a, media_read_row, out, err);
    if (rc == GR_ENOTFOUND)
        rc = err_set(err, GR_ENOTFOUND, "id", "no medium with id %" PRId64, id);
    db_done(st);
    return rc;
}

struct insert_arg {
    const char *sha;
    const char *type;
    int64_t size, uploaded_by, now;
    int64_t id;
};

static int insert_fn(db_conn *c, void *arg, gr_err *err)
{
    struct insert_arg *a = arg;
    db_stmt *st = db_prepare(c,
                             "INSERT INTO media (sha256, type, size, uploaded_by, is_public, "
                             "created_at) VALUES (?, ?, ?, ?, 0, ?)",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, a->sha);
    db_bind_text(st, 2, a->type);
    db_bind_int(st, 3, a->size);
    if (a->uploaded_by > 0)
        db_bind_int(st, 4, a->uploaded_by);
    else
        db_bind_null(st, 4);
    db_bind_int(st, 5, a->now);
    rc = db_run(st, err);
    db_done(st);
    if (!rc)
        a->id = db_last_id(c);
    return rc;
}

/* An owner kind is a short lower-case name such as "case". */
static int owner_check(const char *kind, int64_t owner_id, gr_err *err)
{
    size_t n = kind ? strlen(kind) : 0, i;

    if (n == 0 || n > 32)
        return err_set(err, GR_EINVAL, "owner_kind", "must be 1 to 32 characters");
    for (i = 0; i < n; i++)
        if (!((kind[i] >= 'a' && kind[i] <= 'z') || kind[i] == '_'))
            return err_set(err, GR_EINVAL, "owner_kind", "must be lower-case letters and _");
    if (owner_id <= 0)
        return err_set(err, GR_EINVAL, "owner_id", "must be a positive id");
    return 0;
}

int media_link(db_conn *c, int64_t media_id, const char *owner_kind, int64_t owner_id,
               int is_public, int64_t scope_org_id, gr_err *err)
{
    db_stmt *st;
    int64_t exists = 0;
    int rc = owner_check(owner_kind, owner_id, err);

    if (rc)
        return rc;
    /* Linking again to the same owner only updates who may read it. */
    st = db_prepare(c,
                    "UPDATE media SET owner_kind = ?2, owner_id = ?3, is_public = ?4, "
                    "scope_org_id = ?5 WHERE id = ?1 AND (owner_kind IS NULL OR "
                    "(owner_kind = ?2 AND owner_id = ?3))",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, media_id);
    db_bind_text(st, 2, owner_kind);
    db_bind_int(st, 3, owner_id);
    db_bind_int(st, 4, is_public ? 1 : 0);
    db_bind_int_or_null(st, 5, scope_org_id);
    rc = db_run(st, err);
    db_done(st);
    if (rc || db_changes(c) == 1)
        return rc;
    rc = db_query_int(c, "SELECT count(*) FROM media WHERE id = ?", media_id, 0, &exists, err);
    if (rc)
        return rc;
    if (!exists)
        return err_set(err, GR_ENOTFOUND, "media_id", "no medium with id %" PRId64, media_id);
    return err_set(err, GR_ECONFLICT, "media_id", "medium %" PRId64 " belongs to another owner",
                   media_id);
}

int media_set_visibility(db_conn *c, const char *owner_kind, int64_t owner_id, int is_public,
                         int64_t scope_org_id, gr_err *err)
{
    db_stmt *st;
    int rc = owner_check(owner_kind, owner_id, err);

    if (rc)
        return rc;
    st = db_prepare(c,
                    "UPDATE media SET is_public = CASE WHEN ?3 < 0 THEN is_public ELSE ?3 END, "
                    "scope_org_id = ?4 WHERE owner_kind = ?1 AND owner_id = ?2",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, owner_kind);
    db_bind_int(st, 2, owner_id);
    db_bind_int(st, 3, is_public < 0 ? -1 : is_public ? 1 : 0);
    db_bind_int_or_null(st, 4, scope_org_id);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

int media_may_read(http_req *req, const media_info *m)
{
    const http_principal *who = &req->who;
    gr_err saved = req->err;
    int ok;

    if (m->is_public)
        return 1;
    if (who->user_id <= 0 || who->token_id != 0)
        return 0;
    if (m->uploaded_by == who->user_id)
        return 1;
    if (m->scope_org_id <= 0 || !who->role || strcmp(who->role, "resident") == 0)
        return 0;
    ok = org_require_scope(req, m->scope_org_id) == 0;
    req->err = saved;
    return ok;
}

/* ---- the upload path ---- */

int media_err_too_big(media_kind k, gr_err *err)
{
    return err_set(err, GR_ETOOBIG, "file", "is larger than %d MiB, the limit for %s",
                   (int)(media_kind_limit(k) / (1024 * 1024)),
                   media_kind_is_photo(k) ? "photos" : "videos");
}

int media_sink_open(gr_ctx *ctx, media_kind k, int64_t expected, media_sink **out, gr_err *err)
{
    media_sink *s = calloc(1, sizeof(*s));
    char dir[PATH_MAX];
    int rc = 0;

    if (!s)
        abort();
    s->ctx = ctx;
    s->kind = k;
    s->limit = media_kind_limit(k);
    s->fd = -1;
    crypto_hash_sha256_init(&s->sha);
    if (!s->limit) {
        rc = err_set(err, GR_EMEDIA, "Content-Type", "is not a type of media stored here");
        goto out;
    }
    if (media_kind_is_photo(k)) {
        s->cap = expected > 0 && expected <= s->limit ? (size_t)expected : 64 * 1024;
        s->buf = malloc(s->cap);
        if (!s->buf)
            abort();
        goto out;
    }
    rc = path_printf(dir, sizeof(dir), err, "%s/media/tmp", ctx->data_dir);
    if (!rc)
        rc = make_dirs(ctx->data_dir, dir, strlen(dir), err);
    if (!rc)
        rc = path_printf(s->tmp, sizeof(s->tmp), err, "%s/upload-XXXXXX", dir);
    if (rc) {
        s->tmp[0] = '\0';
        goto out;
    }
    s->fd = mkostemp(s->tmp, O_CLOEXEC);
    if (s->fd < 0) {
        s->tmp[0] = '\0';
        rc = io_fail(err, "create a file in", dir);
    }
out:
    if (rc) {
        media_sink_free(s);
        s = NULL;
    }
    *out = s;
    return rc;
}

int media_sink_write(media_sink *s, const void *p, size_t n, gr_err *err)
{
    if ((uint64_t)n > (uint64_t)(s->limit - s->size))
        return media_err_too_big(s->kind, err);
    if (s->fd >= 0) {
        if (write_all(s->fd, p, n) != 0)
            return io_fail(err, "write", s->tmp);
        crypto_hash_sha256_update(&s->sha, p, n);
    } else {
        if ((size_t)s->size + n > s->cap) {
            while ((size_t)s->size + n > s->cap)
                s->cap *= 2;
            if (s->cap > (size_t)s->limit)
                s->cap = (size_t)s->limit;
            s->buf = realloc(s->buf, s->cap);
            if (!s->buf)
                abort();
        }
        memcpy(s->buf + s->size, p, n);
    }
    s->size += (int64_t)n;
    return 0;
}

static int file_read_at(void *arg, uint64_t off, void *out, size_t n)
{
    const media_sink *s = arg;

    return pread(s->fd, out, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

static void hex_digest(crypto_hash_sha256_state *st, char out[SHA_HEX])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256_final(st, h);
    sodium_bin2hex(out, SHA_HEX, h, sizeof(h));
}

/* A video: its structure, then the temporary file becomes the stored one. */
static int commit_video(media_sink *s, char sha[SHA_HEX], gr_err *err)
{
    char final[PATH_MAX], dir[PATH_MAX];
    int rc = media_mp4_check(file_read_at, s, (uint64_t)s->size, err);

    if (rc)
        return rc;
    hex_digest(&s->sha, sha);
    if (fsync(s->fd) != 0)
        return io_fail(err, "fsync", s->tmp);
    close(s->fd);
    s->fd = -1;
    media_file_path(s->ctx->data_dir, sha, final, sizeof(final));
    snprintf(dir, sizeof(dir), "%.*s", (int)dir_len_of(final), final);
    rc = make_dirs(s->ctx->data_dir, final, strlen(dir), err);
    if (!rc)
        rc = place_file(s->tmp, final, dir, err);
    if (!rc)
        s->tmp[0] = '\0'; /* moved or removed: nothing left to clean up */
    return rc;
}

static int commit_photo(media_sink *s, char sha[SHA_HEX], gr_err *err)
{
    size_t len = 0;
    int rc = media_clean(s->kind, s->buf, (size_t)s->size, &len, err);

    if (rc)
        return rc;
    /* The hash and the size are of the stored bytes, without the metadata. */
    s->size = (int64_t)len;
    crypto_hash_sha256_update(&s->sha, s->buf, len);
    hex_digest(&s->sha, sha);
    return store_photo(s->ctx->data_dir, s->buf, len, sha, err);
}

int media_sink_commit(media_sink *s, int64_t uploaded_by, media_info *out, gr_err *err)
{
    char sha[SHA_HEX];
    struct insert_arg ins;
    int rc;

    if (s->size == 0)
        return err_set(err, GR_EINVAL, "file", "is empty: send the file as the body");
    rc = s->fd >= 0 ? commit_video(s, sha, err) : commit_photo(s, sha, err);
    if (rc)
        return rc;
    memset(&ins, 0, sizeof(ins));
    ins.sha = sha;
    ins.type = media_kind_type(s->kind);
    ins.size = s->size;
    ins.uploaded_by = uploaded_by;
    ins.now = time_now_ms();
    rc = db_write(s->ctx->db, insert_fn, &ins, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->id = ins.id;
    memcpy(out->sha256, sha, sizeof(out->sha256));
    out->type = ins.type;
    out->size = ins.size;
    out->uploaded_by = uploaded_by > 0 ? uploaded_by : 0;
    out->created_at = ins.now;
    log_msg(LOG_INFO, "media.stored", "medium %" PRId64 ": %s, %" PRId64 " bytes", ins.id, ins.type,
            ins.size);
    return 0;
}

void media_sink_free(media_sink *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->tmp[0])
        unlink(s->tmp);
    free(s->buf);
    free(s);
}

int media_store_bytes(gr_ctx *ctx, media_kind k, const void *p, size_t n, int64_t uploaded_by,
                      media_info *out, gr_err *err)
{
    media_sink *s = NULL;
    int rc = media_sink_open(ctx, k, (int64_t)n, &s, err);

    if (!rc)
        rc = media_sink_write(s, p, n, err);
    if (!rc)
        rc = media_sink_commit(s, uploaded_by, out, err);
    media_sink_free(s);
    return rc;
}
