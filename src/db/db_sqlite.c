/*
 * The SQLite driver behind db.h: connections, the statement cache, the
 * group-commit writer, migrations and online backup.
 */
#include "db/db.h"
#include "db/migrations.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CACHE_SLOTS 256 /* per connection; a power of two */
#define WRITER_MAX_BATCH 1024
/* The WAL pages past which a commit waits for a checkpoint before the next
 * (64 MiB). Under a steady stream of writes a PASSIVE checkpoint is
 * always a batch behind, so SQLite never starts the WAL over: it grew to
 * 700 MB in 8 s of intake, every commit wrote into new file blocks the
 * kernel first zeroed, and every reader searched a WAL index of 170,000
 * frames. Waiting every hundred commits or so keeps it near this size; the
 * checkpointer copies while the writer works, so the wait is short. */
#define WRITER_WAL_PAGES 16384

struct db_stmt {
    sqlite3_stmt *st;
    db_conn *conn;
    char *sql;
    size_t len;
    uint64_t hash;
    int in_use;
    int cached;
};

struct db_conn {
    sqlite3 *h;
    db_stmt *cache[STMT_CACHE_SLOTS];
    db_conn *next; /* in db->readers */
};

struct wreq {
    db_write_fn fn;
    void *arg;
    gr_err *err;
    int rc;
    /* Posted by the writer once the request's batch is committed: each
     * caller is woken alone, not every caller at each commit (a broadcast
     * woke the callers queued for the next batch too, to sleep again after
     * a fight for the queue's lock). */
    sem_t done;
    struct wreq *next;
};

struct db {
    char *path;
    db_conn *wconn;
    pthread_key_t reader_key;
    pthread_mutex_t readers_lock;
    db_conn *readers;

    /* The writer: a queue of requests, a thread, and a condition that wakes
     * it when a request arrives (each request brings its own semaphore). */
    pthread_mutex_t wlock;
    pthread_cond_t wqueue_cond;
    struct wreq *qhead, *qtail;
    pthread_t writer;
    int writer_running;
    int writer_stop;

    /* The checkpointer: copies the WAL back into the database beside the
     * writer rather than inside one of its commits (db_writer_start). */
    pthread_mutex_t ckpt_lock;
    pthread_cond_t ckpt_cond;
    pthread_cond_t ckpt_done_cond;
    pthread_t ckpt;
    db_conn *cconn;
    int ckpt_running, ckpt_stop, ckpt_due;
    /* Checkpoints asked for and finished, counted (wal_settle waits for one
     * that began after it asked); the WAL's pages at the last commit. */
    uint64_t ckpt_asked, ckpt_finished;
    int wal_pages;
    /* A commit settles the WAL past this many pages (db_writer_wal_limit). */
    int wal_limit;

    /* Run before every COMMIT (db_on_commit). */
    struct {
        db_write_fn fn;
        void *arg;
    } hooks[DB_COMMIT_HOOKS];
    int nhooks;

    _Atomic uint64_t commits, writes, failed_writes;
    metrics_hist batch_size;
    metrics_hist commit_seconds;
};

static const double batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
static const double commit_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                       0.05,   0.1,   0.25,   0.5,   1};

/* The statement cache's hash, eight bytes a step: a byte at a time, the
 * hash of the text was a tenth of an import's time on the writer (its
 * statements are long and run a dozen times a row). The text itself is
 * compared on a match. */
static uint64_t hash_sql(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ n, w;
    size_t i;

    for (i = 0; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 1099511628211ULL;
        h ^= h >> 31;
    }
    w = 0;
    memcpy(&w, s + i, n - i);
    h = (h ^ w) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static int sqlite_to_err(sqlite3 *h, int rc, gr_err *err)
{
    int ext = h ? sqlite3_extended_errcode(h) : rc;
    const char *msg = h ? sqlite3_errmsg(h) : sqlite3_errstr(rc);

    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return err_set(err, GR_EEXIST, "", "already exists");
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return err_set(err, GR_ECONFLICT, "", "conflicts with existing data");
    /* Details go to the log only; people get a generic message. */
    log_msg(LOG_ERROR, "db.error", "sqlite error %d: %s", ext, msg);
    return err_set(err, GR_EINTERNAL, "", "storage error");
}

static int conn_open(const char *path, int readonly, db_conn **out, gr_err *err)
{
    int flags = SQLITE_OPEN_NOMUTEX |
                (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    db_conn *c = calloc(1, sizeof(*c));
    int rc;

    if (!c)
        abort();
    rc = sqlite3_open_v2(path, &c->h, flags, NULL);
    if (rc != SQLITE_OK) {
        err_set(err, GR_EINTERNAL, "", "cannot open database %s: %s", path, sqlite3_errstr(rc));
        sqlite3_close(c->h);
        free(c);
        return GR_EINTERNAL;
    }
    sqlite3_extended_result_codes(c->h, 1);
    sqlite3_busy_timeout(c->h, 10000);
    /* Readers read through the OS page cache, not a memory map: each
     * connection maps the file on its own, so with one reader a thread the
     * server's RSS counted the same database pages once a mapping (1.2 GB
     * over 5,000,000 people against a 300 MB target) for some 10% more
     * reads a second (docs/benchmarks.md). */
    rc = db_exec(c,
                 readonly ? "PRAGMA foreign_keys=ON; PRAGMA mmap_size=0;"
                          : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                            "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=4000; "
                            /* One writer for everyone: its page cache holds the
                             * interior pages of every index a write touches
                             * (2 MiB by default read them again and again). */
                            "PRAGMA cache_size=-65536; "
                            /* Statement journals of the nested savepoints
                             * (an import's rows run again in groups) in
                             * memory, not in a temporary file. */
                            "PRAGMA temp_store=MEMORY;",
                 err);
    if (rc) {
        sqlite3_close(c->h);
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void conn_close(db_conn *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < STMT_CACHE_SLOTS; i++) {
        if (c->cache[i]) {
            sqlite3_finalize(c->cache[i]->st);
            free(c->cache[i]->sql);
            free(c->cache[i]);
        }
    }
    sqlite3_close(c->h);
    free(c);
}

/* SQLite counts every allocation under one global mutex unless told not
 * to: with a reader per thread that lock was a fifth of the intake's time. */
static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

int db_open(db **out, const char *path, gr_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    db *d = calloc(1, sizeof(*d));
    int rc;

    if (!d)
        abort();
    pthread_once(&once, sqlite_setup);
    d->path = strdup(path);
    pthread_key_create(&d->reader_key, NULL);
    pthread_mutex_init(&d->readers_lock, NULL);
    pthread_mutex_init(&d->wlock, NULL);
    pthread_cond_init(&d->wqueue_cond, NULL);
    pthread_mutex_init(&d->ckpt_lock, NULL);
    d->wal_limit = WRITER_WAL_PAGES;
    pthread_cond_init(&d->ckpt_cond, NULL);
    pthread_cond_init(&d->ckpt_done_cond, NULL);
    metrics_hist_init(&d->batch_size, batch_bounds, sizeof(batch_bounds) / sizeof(double));
    metrics_hist_init(&d->commit_seconds, commit_bounds, sizeof(commit_bounds) / sizeof(double));
    rc = conn_open(path, 0, &d->wconn, err);
    if (rc)
        goto out;
    *out = d;
out:
    if (rc) {
        pthread_key_delete(d->reader_key);
        free(d->path);
        free(d);
    }
    return rc;
}

db_conn *db_reader(db *d)
{
    db_conn *c = pthread_getspecific(d->reader_key);
    gr_err err;

    if (c)
        return c;
    if (conn_open(d->path, 1, &c, &err)) {
        log_msg(LOG_ERROR, "db.reader", "%s", err.msg);
        return NULL;
    }
    pthread_mutex_lock(&d->readers_lock);
    c->next = d->readers;
    d->readers = c;
    pthread_mutex_unlock(&d->readers_lock);
    pthread_setspecific(d->reader_key, c);
    return c;
}

void db_read_begin(db *d)
{
    db_conn *c = db_reader(d);

    /* Deferred: the snapshot is taken by the first read. On failure the
     * reads run as before, a transaction each. */
    if (c && sqlite3_get_autocommit(c->h))
        db_exec_one(c, "BEGIN", NULL);
}

void db_read_end(db *d)
{
    db_conn *c = pthread_getspecific(d->reader_key);

    /* A statement still stepping keeps its own snapshot until it is done;
     * COMMIT ends the transaction around it all the same. */
    if (c && !sqlite3_get_autocommit(c->h) && db_exec_one(c, "COMMIT", NULL))
        db_exec_one(c, "ROLLBACK", NULL);
}

/* ---- statements ---- */

db_stmt *db_prepare(db_conn *c, const char *sql, gr_err *err)
{
    size_t len = strlen(sql);
    uint64_t h = hash_sql(sql, len);
    size_t slot = h & (STMT_CACHE_SLOTS - 1);
    size_t i;
    db_stmt *st;
    int rc;

    for (i = 0; i < STMT_CACHE_SLOTS; i++) {
        st = c->cache[(slot + i) & (STMT_CACHE_SLOTS - 1)];
        if (!st)
            break;
        if (st->hash == h && !st->in_use && st->len == len && memcmp(st->sql, sql, len) == 0) {
            st->in_use = 1;
            return st;
        }
    }
    st = calloc(1, sizeof(*st));
    if (!st)
        abort();
    rc = sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->st, NULL);
    if (rc != SQLITE_OK) {
        sqlite_to_err(c->h, rc, err);
        free(st);
        return NULL;
    }
    st->conn = c;
    st->sql = strdup(sql);
    if (!st->sql)
        abort();
    st->len = len;
    st->hash = h;
    st->in_use = 1;
    /* Cache it in a free slot; a statement already in use (a nested query with
     * the same text) or a full cache gets a private one, finalized in db_done. */
    for (i = 0; i < STMT_CACHE_SLOTS; i++) {
        size_t k = (slot + i) & (STMT_CACHE_SLOTS - 1);
        if (!c->cache[k]) {
            c->cache[k] = st;
            st->cached = 1;
            break;
        }
    }
    return st;
}

void db_done(db_stmt *st)
{
    if (!st)
        return;
    sqlite3_reset(st->st);
    sqlite3_clear_bindings(st->st);
    st->in_use = 0;
    if (!st->cached) {
        sqlite3_finalize(st->st);
        free(st->sql);
        free(st);
    }
}

void db_reset(db_stmt *st)
{
    sqlite3_reset(st->st);
    sqlite3_clear_bindings(st->st);
}

int db_step(db_stmt *st, gr_err *err)
{
    int rc = sqlite3_step(st->st);

    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc == SQLITE_DONE)
        return DB_DONE;
    return sqlite_to_err(st->conn->h, rc, err);
}

int db_run(db_stmt *st, gr_err *err)
{
    int rc;

    while ((rc = db_step(st, err)) == DB_ROW)
        ;
    return rc;
}

void db_bind_int(db_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(st->st, i, v);
}

void db_bind_double(db_stmt *st, int i, double v)
{
    sqlite3_bind_double(st->st, i, v);
}

/* Text (NULL binds NULL), copied (SQLITE_TRANSIENT) or not (SQLITE_STATIC). */
static void bind_text(db_stmt *st, int i, const char *s, size_t n, sqlite3_destructor_type how)
{
    if (s)
        sqlite3_bind_text64(st->st, i, s, n, how, SQLITE_UTF8);
    else
        sqlite3_bind_null(st->st, i);
}

void db_bind_text(db_stmt *st, int i, const char *s)
{
    bind_text(st, i, s, s ? strlen(s) : 0, SQLITE_TRANSIENT);
}

void db_bind_textn(db_stmt *st, int i, const char *s, size_t n)
{
    bind_text(st, i, s, n, SQLITE_TRANSIENT);
}

void db_bind_blob(db_stmt *st, int i, const void *p, size_t n)
{
    sqlite3_bind_blob64(st->st, i, p, n, SQLITE_TRANSIENT);
}

void db_bind_text_ref(db_stmt *st, int i, const char *s)
{
    bind_text(st, i, s, s ? strlen(s) : 0, SQLITE_STATIC);
}

void db_bind_textn_ref(db_stmt *st, int i, const char *s, size_t n)
{
    bind_text(st, i, s, n, SQLITE_STATIC);
}

void db_bind_blob_ref(db_stmt *st, int i, const void *p, size_t n)
{
    sqlite3_bind_blob64(st->st, i, p, n, SQLITE_STATIC);
}

void db_bind_null(db_stmt *st, int i)
{
    sqlite3_bind_null(st->st, i);
}

void db_bind_int_or_null(db_stmt *st, int i, int64_t v)
{
    if (v > 0)
        db_bind_int(st, i, v);
    else
        db_bind_null(st, i);
}

int64_t db_col_int(db_stmt *st, int i)
{
    return sqlite3_column_int64(st->st, i);
}

double db_col_double(db_stmt *st, int i)
{
    return sqlite3_column_double(st->st, i);
}

const char *db_col_text(db_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st->st, i);
}

const char *db_col_textdup(db_stmt *st, int i, arena *a)
{
    return arena_strdup(a, db_col_text(st, i));
}

const void *db_col_blob(db_stmt *st, int i, size_t *len)
{
    const void *p = sqlite3_column_blob(st->st, i);

    *len = (size_t)sqlite3_column_bytes(st->st, i);
    return p;
}

int db_col_is_null(db_stmt *st, int i)
{
    return sqlite3_column_type(st->st, i) == SQLITE_NULL;
}

int db_col_count(db_stmt *st)
{
    return sqlite3_column_count(st->st);
}

const char *db_col_name(db_stmt *st, int i)
{
    return sqlite3_column_name(st->st, i);
}

int db_read_page(db_stmt *st, arena *a, int64_t limit, size_t size, db_row_reader read, void **out,
                 size_t *n, int *more, gr_err *err)
{
    size_t cap = limit > 0 ? (size_t)limit : 0, k = 0;
    char *v = arena_alloc(a, (cap + 1) * size);
    int rc;

    *out = v;
    *more = 0;
    while ((rc = db_step(st, err)) == DB_ROW) {
        if (k == cap) {
            *more = 1;
            continue;
        }
        read(st, a, v + k++ * size);
    }
    *n = k;
    return rc < 0 ? rc : 0;
}

int db_read_one(db_stmt *st, arena *a, db_row_reader read, void *out, gr_err *err)
{
    int rc = db_step(st, err);

    if (rc == DB_ROW) {
        read(st, a, out);
        return 0;
    }
    return rc == DB_DONE ? err_set(err, GR_ENOTFOUND, "", "not found") : rc;
}

int db_exec(db_conn *c, const char *sql, gr_err *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->h, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        rc = sqlite_to_err(c->h, rc, err);
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

int64_t db_last_id(db_conn *c)
{
    return sqlite3_last_insert_rowid(c->h);
}

int db_changes(db_conn *c)
{
    return sqlite3_changes(c->h);
}

int64_t db_total_changes(db_conn *c)
{
    return sqlite3_total_changes64(c->h);
}

int db_query_int(db_conn *c, const char *sql, int64_t param, int64_t def, int64_t *out, gr_err *err)
{
    db_stmt *st = db_prepare(c, sql, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    if (sqlite3_bind_parameter_count(st->st) > 0)
        db_bind_int(st, 1, param);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *out = db_col_is_null(st, 0) ? def : db_col_int(st, 0);
        rc = 0;
    } else if (rc == DB_DONE) {
        *out = def;
    }
    db_done(st);
    return rc;
}

int db_ping(db *d)
{
    db_conn *c = db_reader(d);
    int64_t v = 0;

    return c && db_query_int(c, "SELECT 1", 0, 0, &v, NULL) == 0 && v == 1;
}

/* ---- the group-commit writer ---- */

int db_exec_one(db_conn *c, const char *sql, gr_err *err)
{
    db_stmt *st = db_prepare(c, sql, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

static int run_one(db_conn *c, struct wreq *r, int *tx_lost)
{
    int rc;

    if (db_exec_one(c, "SAVEPOINT w", r->err))
        return GR_EINTERNAL;
    rc = r->fn(c, r->arg, r->err);
    if (rc < 0) {
        /* Some errors (SQLITE_FULL, IOERR) end the whole transaction. */
        if (sqlite3_get_autocommit(c->h)) {
            *tx_lost = 1;
            return rc;
        }
        db_exec_one(c, "ROLLBACK TO w", NULL);
    }
    db_exec_one(c, "RELEASE w", NULL);
    return rc;
}

/* Runs a batch in one transaction and commits it once. */
static void run_batch(db *d, struct wreq *batch, size_t n)
{
    db_conn *c = d->wconn;
    int64_t t0 = time_mono_ns();
    int tx_lost = 0, rc, i;
    gr_err cerr;
    struct wreq *r;

    rc = db_exec_one(c, "BEGIN IMMEDIATE", &cerr);
    for (r = batch; r; r = r->next) {
        if (rc || tx_lost) {
            r->rc = err_set(r->err, GR_EINTERNAL, "", "storage error");
            continue;
        }
        r->rc = run_one(c, r, &tx_lost);
    }
    for (i = 0; i < d->nhooks && !rc && !tx_lost; i++) {
        rc = d->hooks[i].fn(c, d->hooks[i].arg, &cerr);
        if (rc)
            log_msg(LOG_ERROR, "db.commit_hook", "a commit hook failed: %s", cerr.msg);
    }
    if (!rc && !tx_lost)
        rc = db_exec_one(c, "COMMIT", &cerr);
    if (rc || tx_lost) {
        if (!sqlite3_get_autocommit(c->h))
            db_exec(c, "ROLLBACK", NULL);
        for (r = batch; r; r = r->next)
            if (r->rc >= 0)
                r->rc = err_set(r->err, GR_EINTERNAL, "", "storage error");
    }
    for (r = batch; r; r = r->next) {
        atomic_fetch_add(&d->writes, 1);
        if (r->rc < 0)
            atomic_fetch_add(&d->failed_writes, 1);
    }
    atomic_fetch_add(&d->commits, 1);
    metrics_hist_observe(&d->batch_size, (double)n);
    metrics_hist_observe(&d->commit_seconds, (double)(time_mono_ns() - t0) / 1e9);
}

/* After a commit: when the WAL held more than the limit (db_writer_wal_limit)
 * at it, waits for a checkpoint begun after this call, so that the next
 * write starts the WAL from its beginning again. Without a checkpointer it
 * returns at once. */
static void wal_settle(db *d)
{
    uint64_t want;

    pthread_mutex_lock(&d->ckpt_lock);
    if (d->ckpt_running && d->wal_pages > d->wal_limit) {
        want = ++d->ckpt_asked;
        d->ckpt_due = 1;
        pthread_cond_signal(&d->ckpt_cond);
        while (d->ckpt_finished < want)
            pthread_cond_wait(&d->ckpt_done_cond, &d->ckpt_lock);
    }
    pthread_mutex_unlock(&d->ckpt_lock);
}

static void *writer_main(void *arg)
{
    db *d = arg;
    struct wreq *batch, *r, *last, *next;
    size_t n;

    pthread_mutex_lock(&d->wlock);
    for (;;) {
        while (!d->qhead && !d->writer_stop)
            pthread_cond_wait(&d->wqueue_cond, &d->wlock);
        if (!d->qhead && d->writer_stop)
            break;
        /* Take up to WRITER_MAX_BATCH requests: everything that arrived while
         * the previous commit was being made durable. */
        batch = d->qhead;
        n = 1;
        last = batch;
        while (last->next && n < WRITER_MAX_BATCH) {
            last = last->next;
            n++;
        }
        d->qhead = last->next;
        if (!d->qhead)
            d->qtail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&d->wlock);

        run_batch(d, batch, n);

        /* A request is its caller's (on its stack) once posted. */
        for (r = batch; r; r = next) {
            next = r->next;
            sem_post(&r->done);
        }
        wal_settle(d);
        pthread_mutex_lock(&d->wlock);
    }
    pthread_mutex_unlock(&d->wlock);
    return NULL;
}

/* The WAL pages after which the checkpointer is woken (about 47 MiB,
 * below WRITER_WAL_PAGES so that the copy mostly runs beside the writer).
 * A page written by many commits in between is copied once: the index
 * leaves and table ends intake writes again and again. At 4,000 pages
 * (SQLite's own automatic checkpoint here before) the checkpointer spent
 * 63-67 us of CPU a case; at 12,000, 39-43. */
#define CKPT_PAGES 12000

/* After each commit, in the writer: wakes the checkpointer when the WAL has
 * grown. Replaces SQLite's automatic checkpoint, which ran in the commit. */
static int wal_hook(void *arg, sqlite3 *h, const char *name, int pages)
{
    db *d = arg;

    (void)h;
    (void)name;
    pthread_mutex_lock(&d->ckpt_lock);
    d->wal_pages = pages;
    if (pages >= CKPT_PAGES) {
        d->ckpt_due = 1;
        pthread_cond_signal(&d->ckpt_cond);
    }
    pthread_mutex_unlock(&d->ckpt_lock);
    return SQLITE_OK;
}

/* PASSIVE: copies what no reader still needs and never blocks the writer
 * or a reader; the writer restarts the WAL once all of it is copied. */
static void *ckpt_main(void *arg)
{
    db *d = arg;
    int rc;

    pthread_mutex_lock(&d->ckpt_lock);
    for (;;) {
        uint64_t asked;

        while (!d->ckpt_due && !d->ckpt_stop)
            pthread_cond_wait(&d->ckpt_cond, &d->ckpt_lock);
        if (d->ckpt_stop)
            break;
        d->ckpt_due = 0;
        asked = d->ckpt_asked;
        pthread_mutex_unlock(&d->ckpt_lock);
        rc = sqlite3_wal_checkpoint_v2(d->cconn->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        /* BUSY: another process's checkpointer (an import beside the
         * server) is copying the same WAL; it will do, or the next one. */
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log_msg(LOG_WARN, "db.checkpoint", "checkpoint: %s", sqlite3_errmsg(d->cconn->h));
        pthread_mutex_lock(&d->ckpt_lock);
        d->ckpt_finished = asked;
        pthread_cond_broadcast(&d->ckpt_done_cond);
    }
    /* Nobody waits for a checkpoint that will not come. */
    d->ckpt_finished = d->ckpt_asked;
    pthread_cond_broadcast(&d->ckpt_done_cond);
    pthread_mutex_unlock(&d->ckpt_lock);
    return NULL;
}

static int ckpt_start(db *d, gr_err *err)
{
    int rc = conn_open(d->path, 0, &d->cconn, err);

    if (rc)
        return rc;
    d->ckpt_stop = 0;
    if (pthread_create(&d->ckpt, NULL, ckpt_main, d) != 0) {
        conn_close(d->cconn);
        d->cconn = NULL;
        return err_set(err, GR_EINTERNAL, "", "cannot start the checkpoint thread");
    }
    d->ckpt_running = 1;
    sqlite3_wal_hook(d->wconn->h, wal_hook, d);
    return 0;
}

static void ckpt_stop(db *d)
{
    if (!d->ckpt_running)
        return;
    sqlite3_wal_hook(d->wconn->h, NULL, NULL);
    sqlite3_wal_autocheckpoint(d->wconn->h, CKPT_PAGES);
    pthread_mutex_lock(&d->ckpt_lock);
    d->ckpt_stop = 1;
    pthread_cond_signal(&d->ckpt_cond);
    pthread_mutex_unlock(&d->ckpt_lock);
    pthread_join(d->ckpt, NULL);
    d->ckpt_running = 0;
    conn_close(d->cconn);
    d->cconn = NULL;
}

int db_checkpointer_start(db *d, gr_err *err)
{
    return d->ckpt_running ? 0 : ckpt_start(d, err);
}

int db_writer_start(db *d, gr_err *err)
{
    int rc;

    if (d->writer_running)
        return 0;
    rc = db_checkpointer_start(d, err);
    if (rc)
        return rc;
    d->writer_stop = 0;
    if (pthread_create(&d->writer, NULL, writer_main, d) != 0) {
        ckpt_stop(d);
        return err_set(err, GR_EINTERNAL, "", "cannot start the writer thread");
    }
    d->writer_running = 1;
    return 0;
}

int db_on_commit(db *d, db_write_fn fn, void *arg, gr_err *err)
{
    if (d->nhooks == DB_COMMIT_HOOKS)
        return err_set(err, GR_ETOOBIG, "", "no room for another commit hook");
    d->hooks[d->nhooks].fn = fn;
    d->hooks[d->nhooks++].arg = arg;
    return 0;
}

void db_writer_wal_limit(db *d, int pages)
{
    pthread_mutex_lock(&d->ckpt_lock);
    d->wal_limit = pages;
    pthread_mutex_unlock(&d->ckpt_lock);
}

int db_writer_cache(db *d, int mib, gr_err *err)
{
    char sql[64];
    int rc;

    /* The writer thread alone may use its connection once it runs. */
    if (d->writer_running)
        return err_set(err, GR_EINTERNAL, "", "the writer's cache is set before it starts");
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", mib * 1024);
    pthread_mutex_lock(&d->wlock);
    rc = db_exec(d->wconn, sql, err);
    pthread_mutex_unlock(&d->wlock);
    return rc;
}

int db_write(db *d, db_write_fn fn, void *arg, gr_err *err)
{
    struct wreq r = {fn, arg, err, 0, {{0}}, NULL};
    int rc;

    db_read_end(d);

    if (!d->writer_running) {
        /* One-shot commands: the same semantics, a batch of one. */
        pthread_mutex_lock(&d->wlock);
        run_batch(d, &r, 1);
        pthread_mutex_unlock(&d->wlock);
        wal_settle(d);
        return r.rc;
    }
    if (sem_init(&r.done, 0, 0) != 0)
        return err_set(err, GR_EINTERNAL, "", "cannot wait for the writer");
    pthread_mutex_lock(&d->wlock);
    if (d->writer_stop) {
        pthread_mutex_unlock(&d->wlock);
        sem_destroy(&r.done);
        return err_set(err, GR_EUNAVAIL, "", "the server is shutting down");
    }
    if (d->qtail)
        d->qtail->next = &r;
    else
        d->qhead = &r;
    d->qtail = &r;
    pthread_cond_signal(&d->wqueue_cond);
    pthread_mutex_unlock(&d->wlock);
    while (sem_wait(&r.done) != 0)
        ; /* EINTR: a signal handler ran; the writer has not posted yet */
    rc = r.rc;
    sem_destroy(&r.done);
    return rc;
}

void db_get_stats(db *d, db_stats *out)
{
    out->commits = atomic_load(&d->commits);
    out->writes = atomic_load(&d->writes);
    out->failed_writes = atomic_load(&d->failed_writes);
    out->batch_size = &d->batch_size;
    out->commit_seconds = &d->commit_seconds;
}

void db_close(db *d)
{
    db_conn *c, *next;

    if (!d)
        return;
    if (d->writer_running) {
        /* The writer drains the queue before it sees the stop flag. */
        pthread_mutex_lock(&d->wlock);
        d->writer_stop = 1;
        pthread_cond_signal(&d->wqueue_cond);
        pthread_mutex_unlock(&d->wlock);
        pthread_join(d->writer, NULL);
        d->writer_running = 0;
    }
    ckpt_stop(d);
    for (c = d->readers; c; c = next) {
        next = c->next;
        conn_close(c);
    }
    conn_close(d->wconn);
    pthread_key_delete(d->reader_key);
    pthread_mutex_destroy(&d->readers_lock);
    pthread_mutex_destroy(&d->wlock);
    pthread_cond_destroy(&d->wqueue_cond);
    pthread_mutex_destroy(&d->ckpt_lock);
    pthread_cond_destroy(&d->ckpt_cond);
    pthread_cond_destroy(&d->ckpt_done_cond);
    free(d->path);
    free(d);
}

/* ---- migrations ---- */

static int binary_version(void)
{
    int i, v = 0;

    for (i = 0; i < db_migrations_count; i++)
        if (db_migrations[i].version > v)
            v = db_migrations[i].version;
    return v;
}

int db_schema_version(db *d, int *db_version, int *bin_version, gr_err *err)
{
    int64_t v = 0;
    int rc;

    rc = db_exec(d->wconn,
                 "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                 "name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                 err);
    if (!rc)
        rc = db_query_int(d->wconn, "SELECT max(version) FROM schema_migrations", 0, 0, &v, err);
    if (db_version)
        *db_version = (int)v;
    if (bin_version)
        *bin_version = binary_version();
    return rc;
}

/* After a migration that left writable_schema on, having edited
 * sqlite_schema (the procedure of
 * https://sqlite.org/lang_altertable.html#otheralter, for changes that leave
 * the stored rows as they are, such as rewriting a CHECK constraint): the
 * schema cookie is raised, or connections keep the old parsed schema, and
 * the new text is parsed at once, so a malformed edit rolls back. */
static int schema_edited(db_conn *c, gr_err *err)
{
    int64_t on = 0, v = 0;
    char sql[64];
    int rc = db_query_int(c, "PRAGMA writable_schema", 0, 0, &on, err);

    if (rc || !on)
        return rc;
    rc = db_query_int(c, "PRAGMA schema_version", 0, 0, &v, err);
    if (!rc) {
        snprintf(sql, sizeof(sql), "PRAGMA schema_version = %lld", (long long)v + 1);
        rc = db_exec(c, sql, err);
    }
    if (!rc)
        rc = db_exec(c, "PRAGMA writable_schema = OFF", err);
    if (!rc)
        rc = db_query_int(c, "SELECT count(*) FROM sqlite_schema", 0, 0, &v, err);
    return rc;
}

int db_migrate(db *d, int *applied, gr_err *err)
{
    int have, bin, i, rc, n = 0;
    db_conn *c = d->wconn;
    db_stmt *st;

    rc = db_schema_version(d, &have, &bin, err);
    if (rc)
        goto out;
    if (have > bin) {
        rc = err_set(err, GR_ETOONEW, "",
                     "the database has schema version %d, newer than this binary's %d: "
                     "run a newer grassroots",
                     have, bin);
        goto out;
    }
    for (i = 0; i < db_migrations_count; i++) {
        const struct db_migration *m = &db_migrations[i];
        if (m->version <= have)
            continue;
        rc = db_exec(c, "BEGIN IMMEDIATE", err);
        if (!rc)
            rc = db_exec(c, m->sql, err);
        if (!rc)
            rc = schema_edited(c, err);
        if (!rc) {
            st = db_prepare(c,
                            "INSERT INTO schema_migrations(version, name, applied_at) "
                            "VALUES (?, ?, ?)",
                            err);
            if (!st) {
                rc = GR_EINTERNAL;
            } else {
                db_bind_int(st, 1, m->version);
                db_bind_text(st, 2, m->name);
                db_bind_int(st, 3, time_now_ms());
                rc = db_run(st, err);
                db_done(st);
            }
        }
        if (!rc)
            rc = db_exec(c, "COMMIT", err);
        if (rc) {
            db_exec(c, "ROLLBACK", NULL);
            err_set(err, rc, "", "migration %s failed: %s", m->name, err ? err->msg : "");
            goto out;
        }
        log_msg(LOG_INFO, "db.migrated", "applied %s", m->name);
        n++;
    }
out:
    if (applied)
        *applied = n;
    return rc;
}

/* ---- backup ---- */

int db_backup(db *d, const char *dest, gr_err *err)
{
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_backup *b;
    int rc;

    rc = sqlite3_open_v2(d->path, &src, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        rc = err_set(err, GR_EINTERNAL, "", "cannot open %s", d->path);
        goto out;
    }
    rc = sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        rc = err_set(err, GR_EINVAL, "dest", "cannot create %s: %s", dest, sqlite3_errstr(rc));
        goto out;
    }
    /* One step copies everything from one read snapshot, so the copy is
     * consistent even while the server keeps writing. */
    b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        rc = err_set(err, GR_EINTERNAL, "", "backup failed: %s", sqlite3_errmsg(dst));
        goto out;
    }
    rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        rc = err_set(err, GR_EINTERNAL, "", "backup failed: %s", sqlite3_errstr(rc));
        goto out;
    }
    rc = 0;
out:
    sqlite3_close(src);
    sqlite3_close(dst);
    return rc;
}
