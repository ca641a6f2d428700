/* db/: migrations, the group-commit writer, savepoints, statement cache, backup. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include "db/db.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gr_tmpdir_make(dir, sizeof(dir), "db"), 0);
    snprintf(path, sizeof(path), "%s/t.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return gr_tmpdir_remove(dir);
}

static int create_table(db_conn *c, void *arg, gr_err *err)
{
    (void)arg;
    return db_exec(c, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v INT)",
                   err);
}

struct row {
    const char *k;
    int v;
    int fail_after_insert;
};

static int insert_row(db_conn *c, void *arg, gr_err *err)
{
    struct row *r = arg;
    db_stmt *st = db_prepare(c, "INSERT INTO t (k, v) VALUES (?, ?)", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, r->k);
    db_bind_int(st, 2, r->v);
    rc = db_run(st, err);
    db_done(st);
    if (!rc && r->fail_after_insert)
        return err_set(err, GR_EINVAL, "v", "refused after insert");
    return rc;
}

static int64_t count_rows(db *d, const char *where_k)
{
    int64_t n = -1;
    db_conn *c = db_reader(d);

    assert_non_null(c);
    if (where_k) {
        db_stmt *st = db_prepare(c, "SELECT count(*) FROM t WHERE k = ?", NULL);
        db_bind_text(st, 1, where_k);
        assert_int_equal(db_step(st, NULL), DB_ROW);
        n = db_col_int(st, 0);
        db_done(st);
    } else {
        assert_int_equal(db_query_int(c, "SELECT count(*) FROM t", 0, -1, &n, NULL), 0);
    }
    return n;
}

static void test_migrate_and_too_new(void **state)
{
    db *d = NULL;
    gr_err err;
    int applied = -1, have = 0, bin = 0;

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_migrate(d, &applied, &err), 0);
    assert_true(applied >= 1);
    assert_int_equal(db_migrate(d, &applied, &err), 0);
    assert_int_equal(applied, 0);
    assert_int_equal(db_schema_version(d, &have, &bin, &err), 0);
    assert_int_equal(have, bin);
    db_close(d);
}

/* Whether compiling an INSERT into the table opens an ephemeral table: what
 * SQLite does for a CHECK with an IN list of more than two values, on every
 * row (0016_check_lists.sql). */
static int insert_opens_ephemeral(db_conn *c, const char *table)
{
    char sql[4096];
    db_stmt *st;
    int found = 0;

    /* Every stored column a parameter: DEFAULT VALUES would let SQLite fold
     * a check of constants away. */
    st = db_prepare(c,
                    "SELECT group_concat('\"' || name || '\"'), group_concat('?') FROM "
                    "pragma_table_xinfo(?) WHERE hidden = 0",
                    NULL);
    assert_non_null(st);
    db_bind_text(st, 1, table);
    assert_int_equal(db_step(st, NULL), DB_ROW);
    snprintf(sql, sizeof(sql), "EXPLAIN INSERT INTO \"%s\" (%s) VALUES (%s)", table,
             db_col_text(st, 0), db_col_text(st, 1));
    db_done(st);
    st = db_prepare(c, sql, NULL);
    assert_non_null(st);
    while (db_step(st, NULL) == DB_ROW)
        found |= strcmp(db_col_text(st, 1), "OpenEphemeral") == 0;
    db_done(st);
    return found;
}

/* On the writer: a read-only connection compiles an INSERT without its checks. */
static int scan_tables(db_conn *c, void *arg, gr_err *err)
{
    int *tables = arg;
    db_stmt *st = db_prepare(c,
                             "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT "
                             "LIKE 'sqlite%' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
                             err);

    assert_non_null(st);
    while (db_step(st, NULL) == DB_ROW) {
        const char *name = db_col_text(st, 0);

        if (insert_opens_ephemeral(c, name))
            fail_msg("an INSERT into %s builds an ephemeral table (a CHECK with an IN list?)",
                     name);
        (*tables)++;
    }
    db_done(st);
    return 0;
}

static void test_no_check_builds_a_table(void **state)
{
    db *d = NULL;
    gr_err err;
    int tables = 0;

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_migrate(d, NULL, &err), 0);
    assert_int_equal(db_write(d, scan_tables, &tables, &err), 0);
    assert_true(tables > 40);
    db_close(d);
}

/* The probe itself: a CHECK with an IN list of three builds a table. */
static int in_list_table(db_conn *c, void *arg, gr_err *err)
{
    int *found = arg;
    int rc = db_exec(c, "CREATE TABLE in_list (k TEXT CHECK (k IN ('a', 'b', 'c')))", err);

    *found = insert_opens_ephemeral(c, "in_list");
    return rc;
}

static void test_ephemeral_probe(void **state)
{
    db *d = NULL;
    gr_err err;
    int found = 0;

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_write(d, in_list_table, &found, &err), 0);
    assert_true(found);
    db_close(d);
}

static int mark_newer(db_conn *c, void *arg, gr_err *err)
{
    (void)arg;
    return db_exec(c, "INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 0)", err);
}

static void test_refuses_newer(void **state)
{
    db *d = NULL;
    gr_err err;
    int have = 0;

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_migrate(d, NULL, &err), 0);
    assert_int_equal(db_write(d, mark_newer, NULL, &err), 0);
    assert_int_equal(db_migrate(d, NULL, &err), GR_ETOONEW);
    assert_non_null(strstr(err.msg, "newer than this binary"));
    assert_int_equal(db_schema_version(d, &have, NULL, &err), 0);
    assert_int_equal(have, 9999);
    db_close(d);
}

static void test_savepoint_isolation(void **state)
{
    db *d = NULL;
    gr_err err;
    struct row ok = {"a", 1, 0}, bad = {"b", 2, 1}, dup = {"a", 3, 0};

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_write(d, create_table, NULL, &err), 0);
    assert_int_equal(db_write(d, insert_row, &ok, &err), 0);
    /* The failing write's insert is rolled back, not the earlier one. */
    assert_int_equal(db_write(d, insert_row, &bad, &err), GR_EINVAL);
    assert_string_equal(err.field, "v");
    assert_int_equal(db_write(d, insert_row, &dup, &err), GR_EEXIST);
    assert_int_equal(count_rows(d, "a"), 1);
    assert_int_equal(count_rows(d, "b"), 0);
    db_close(d);
}

#define THREADS    16
#define PER_THREAD 150

struct worker {
    db *d;
    int id;
    int ok;
    int failed;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char key[32];
    int i;

    for (i = 0; i < PER_THREAD; i++) {
        struct row r = {key, i, (i % 5) == 4};
        gr_err err;
        snprintf(key, sizeof(key), "w%d-%d", w->id, i);
        if (db_write(w->d, insert_row, &r, &err) == 0)
            w->ok++;
        else
            w->failed++;
    }
    return NULL;
}

/* A commit hook that copies every new row of t into u, once a batch, and
 * fails when told to. */
struct hook_state {
    int calls;
    int fail;
};

static int copy_hook(db_conn *c, void *arg, gr_err *err)
{
    struct hook_state *h = arg;

    h->calls++;
    if (h->fail)
        return err_set(err, GR_EINTERNAL, "", "the hook failed");
    return db_exec(c, "INSERT INTO u SELECT id, k FROM t WHERE id NOT IN (SELECT id FROM u)", err);
}

static int create_u(db_conn *c, void *arg, gr_err *err)
{
    (void)arg;
    return db_exec(c, "CREATE TABLE u (id INTEGER PRIMARY KEY, k TEXT)", err);
}

static void test_commit_hook(void **state)
{
    db *d = NULL;
    gr_err err;
    struct hook_state h = {0, 0};
    struct row a = {"a", 1, 0}, b = {"b", 2, 0};
    int64_t n = -1;

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_write(d, create_table, NULL, &err), 0);
    assert_int_equal(db_write(d, create_u, NULL, &err), 0);
    assert_int_equal(db_on_commit(d, copy_hook, &h, &err), 0);
    /* Runs inside the write's transaction, after it: the row is copied. */
    assert_int_equal(db_write(d, insert_row, &a, &err), 0);
    assert_int_equal(h.calls, 1);
    assert_int_equal(db_query_int(db_reader(d), "SELECT count(*) FROM u", 0, -1, &n, &err), 0);
    assert_int_equal(n, 1);
    /* Its failure takes the whole batch with it: neither table changes. */
    h.fail = 1;
    assert_int_equal(db_write(d, insert_row, &b, &err), GR_EINTERNAL);
    assert_int_equal(count_rows(d, "b"), 0);
    assert_int_equal(db_query_int(db_reader(d), "SELECT count(*) FROM u", 0, -1, &n, &err), 0);
    assert_int_equal(n, 1);
    /* At most DB_COMMIT_HOOKS. */
    h.fail = 0;
    for (n = 1; n < DB_COMMIT_HOOKS; n++)
        assert_int_equal(db_on_commit(d, copy_hook, &h, &err), 0);
    assert_int_equal(db_on_commit(d, copy_hook, &h, &err), GR_ETOOBIG);
    db_close(d);
}

struct other_write {
    db *d;
    struct row *r;
    int rc;
};

static void *other_write_main(void *arg)
{
    struct other_write *o = arg;
    gr_err err;

    o->rc = db_write(o->d, insert_row, o->r, &err);
    db_read_end(o->d);
    return NULL;
}

/* Another thread's write while a snapshot is open on this one. */
static int write_from_other_thread(db *d, struct row *r)
{
    struct other_write o = {d, r, -1};
    pthread_t th;

    assert_int_equal(pthread_create(&th, NULL, other_write_main, &o), 0);
    pthread_join(th, NULL);
    return o.rc;
}

/* A read snapshot (a request's): the thread's reads see one state of the
 * database, other threads' commits after its first read stay unseen until
 * db_read_end, and the thread's own db_write ends it, so the writer then
 * reads what it wrote. */
static void test_read_snapshot(void **state)
{
    db *d = NULL;
    gr_err err;
    struct row a = {"a", 1, 0}, b = {"b", 2, 0}, c = {"c", 3, 0};

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_write(d, create_table, NULL, &err), 0);
    assert_int_equal(db_writer_start(d, &err), 0);
    db_read_begin(d);
    assert_int_equal(count_rows(d, NULL), 0);
    assert_int_equal(write_from_other_thread(d, &a), 0);
    assert_int_equal(count_rows(d, NULL), 0);
    db_read_end(d);
    assert_int_equal(count_rows(d, NULL), 1);
    /* Without a snapshot each read sees the latest commit. */
    assert_int_equal(write_from_other_thread(d, &b), 0);
    assert_int_equal(count_rows(d, "b"), 1);
    /* A write of its own ends the snapshot: read-your-writes. */
    db_read_begin(d);
    assert_int_equal(count_rows(d, "c"), 0);
    assert_int_equal(db_write(d, insert_row, &c, &err), 0);
    assert_int_equal(count_rows(d, "c"), 1);
    db_read_end(d);
    /* Ending it twice, or without one, does nothing. */
    db_read_end(d);
    assert_int_equal(count_rows(d, NULL), 3);
    db_close(d);
}

static int insert_blobs(db_conn *c, void *arg, gr_err *err)
{
    static const char sql[] = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                              "WHERE i < 100) INSERT INTO t (k, v) SELECT hex(randomblob(2000)), "
                              "i FROM n";
    (void)arg;
    return db_exec(c, sql, err);
}

/* With the writer running, the checkpoint thread copies the WAL into the
 * database file (which in WAL mode only a checkpoint writes) while the
 * server runs, not only at close. */
static void test_checkpoint_thread(void **state)
{
    db *d = NULL;
    gr_err err;
    struct stat sb;
    int i;

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_write(d, create_table, NULL, &err), 0);
    assert_int_equal(db_writer_start(d, &err), 0);
    /* The writer's connection is the writer thread's alone now. */
    assert_int_equal(db_writer_cache(d, 128, &err), GR_EINTERNAL);
    for (i = 0; i < 240; i++) /* 24,000 rows of 4 KB: twice CKPT_PAGES of WAL pages */
        assert_int_equal(db_write(d, insert_blobs, NULL, &err), 0);
    for (i = 0; i < 200; i++) {
        assert_int_equal(stat(path, &sb), 0);
        if (sb.st_size > 8 * 1024 * 1024)
            break;
        usleep(50000);
    }
    assert_true(sb.st_size > 8 * 1024 * 1024);
    db_close(d);
}

static int read_cache_size(db_conn *c, void *arg, gr_err *err)
{
    return db_query_int(c, "PRAGMA cache_size", 0, 0, arg, err);
}

/* The WAL's frames, as a checkpoint from another connection counts them. */
static int wal_frames(void)
{
    sqlite3 *h = NULL;
    int frames = -1, rc, tries = 0;

    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "SELECT count(*) FROM t", NULL, NULL, NULL), SQLITE_OK);
    /* BUSY while the db's own checkpointer copies: ask again. */
    while ((rc = sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, NULL)) ==
               SQLITE_BUSY &&
           tries++ < 500)
        usleep(10000);
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(h);
    return frames;
}

/* A one-shot writer with the checkpointer beside it (grassroots import):
 * a commit past the limit waits for a checkpoint, so the next one starts
 * the WAL from its beginning and the WAL holds its few pages, however many
 * came before. */
static void test_wal_settle(void **state)
{
    db *d = NULL;
    db_stmt *st;
    gr_err err;
    struct row r = {"after", 1, 0};
    int64_t cache = 0;
    int i;

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_write(d, create_table, NULL, &err), 0);
    assert_int_equal(db_writer_cache(d, 128, &err), 0);
    assert_int_equal(db_write(d, read_cache_size, &cache, &err), 0);
    assert_int_equal(cache, -128 * 1024); /* KiB, as the pragma counts them */
    db_writer_wal_limit(d, 100);
    assert_int_equal(db_checkpointer_start(d, &err), 0);
    for (i = 0; i < 50; i++) /* 5,000 rows of 4 KB: some 5,000 WAL pages */
        assert_int_equal(db_write(d, insert_blobs, NULL, &err), 0);
    assert_int_equal(db_write(d, insert_row, &r, &err), 0);
    assert_in_range(wal_frames(), 1, 10);
    st = db_prepare(db_reader(d), "SELECT count(*) FROM t", &err);
    assert_non_null(st);
    assert_int_equal(db_step(st, &err), DB_ROW);
    assert_int_equal(db_col_int(st, 0), 5001);
    db_done(st);
    db_close(d);
    /* Without a checkpointer a commit does not wait, whatever the limit. */
    assert_int_equal(db_open(&d, path, &err), 0);
    db_writer_wal_limit(d, 0);
    assert_int_equal(db_write(d, insert_blobs, NULL, &err), 0);
    db_close(d);
}

/* The writer thread settles the WAL itself (db_writer_wal_limit): under
 * writes that never pause, the WAL holds about the last write, not all of
 * them since the first. */
static void test_writer_wal_limit(void **state)
{
    db *d = NULL;
    gr_err err;
    int i;

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_write(d, create_table, NULL, &err), 0);
    db_writer_wal_limit(d, 100);
    assert_int_equal(db_writer_start(d, &err), 0);
    /* 5,000 rows of 4 KB, a key of 4 KB each: some 400 WAL pages a write,
     * 20,000 in all. The WAL holds the last write's. */
    for (i = 0; i < 50; i++)
        assert_int_equal(db_write(d, insert_blobs, NULL, &err), 0);
    assert_in_range(wal_frames(), 1, 1000);
    db_close(d);
}

static void test_group_commit(void **state)
{
    db *d = NULL;
    gr_err err;
    pthread_t th[THREADS];
    struct worker w[THREADS];
    db_stats stats;
    int i, ok = 0, failed = 0;

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_write(d, create_table, NULL, &err), 0);
    assert_int_equal(db_writer_start(d, &err), 0);
    for (i = 0; i < THREADS; i++) {
        w[i] = (struct worker){d, i, 0, 0};
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
        failed += w[i].failed;
    }
    /* Every acknowledged write is there; every refused one left nothing. */
    assert_int_equal(ok, THREADS * PER_THREAD * 4 / 5);
    assert_int_equal(failed, THREADS * PER_THREAD / 5);
    assert_int_equal(count_rows(d, NULL), ok);
    db_get_stats(d, &stats);
    assert_int_equal(stats.writes, (uint64_t)(THREADS * PER_THREAD + 1));
    assert_int_equal(stats.failed_writes, (uint64_t)failed);
    assert_true(stats.commits >= 1 && stats.commits <= stats.writes);
    db_close(d);

    /* Durable: a fresh open sees every row. */
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(count_rows(d, NULL), ok);
    db_close(d);
}

static void test_statement_cache_nested(void **state)
{
    db *d = NULL;
    gr_err err;
    db_conn *c;
    db_stmt *outer, *inner;
    struct row a = {"x", 1, 0}, b = {"y", 2, 0};
    int seen = 0;

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_write(d, create_table, NULL, &err), 0);
    assert_int_equal(db_write(d, insert_row, &a, &err), 0);
    assert_int_equal(db_write(d, insert_row, &b, &err), 0);
    c = db_reader(d);
    outer = db_prepare(c, "SELECT v FROM t WHERE v > ? ORDER BY v", &err);
    db_bind_int(outer, 1, 0);
    while (db_step(outer, &err) == DB_ROW) {
        /* The same text while the outer statement is running gets its own statement. */
        inner = db_prepare(c, "SELECT v FROM t WHERE v > ? ORDER BY v", &err);
        assert_ptr_not_equal(inner, outer);
        db_bind_int(inner, 1, db_col_int(outer, 0));
        seen += db_step(inner, &err) == DB_ROW;
        db_done(inner);
    }
    db_done(outer);
    assert_int_equal(seen, 1);
    /* A cached statement comes back reset, its bindings cleared. */
    outer = db_prepare(c, "SELECT v FROM t WHERE v > ? ORDER BY v", &err);
    assert_int_equal(db_step(outer, &err), DB_DONE); /* NULL binding: no row */
    db_done(outer);
    assert_null(db_prepare(c, "SELECT nothing FROM nowhere", &err));
    assert_int_equal(err.code, GR_EINTERNAL);
    db_close(d);
}

static void read_v(db_stmt *st, arena *a, void *out)
{
    (void)a;
    *(int64_t *)out = db_col_int(st, 0);
}

/* A page is at most limit rows, and says whether another follows. */
static void test_read_page(void **state)
{
    static const char *keys[] = {"p1", "p2", "p3", "p4", "p5"};
    db *d = NULL;
    gr_err err;
    arena *a = arena_new();
    db_stmt *st;
    void *v = NULL;
    size_t n = 0, i;
    int more = -1;
    int64_t limits[] = {3, 5, 10}, want_n[] = {3, 5, 5};
    int want_more[] = {1, 0, 0};

    (void)state;
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_write(d, create_table, NULL, &err), 0);
    for (i = 0; i < 5; i++) {
        struct row r = {keys[i], (int)i + 1, 0};
        assert_int_equal(db_write(d, insert_row, &r, &err), 0);
    }
    for (i = 0; i < 3; i++) {
        st = db_prepare(db_reader(d), "SELECT v FROM t ORDER BY v LIMIT ?", &err);
        db_bind_int(st, 1, limits[i] + 1);
        assert_int_equal(
            db_read_page(st, a, limits[i], sizeof(int64_t), read_v, &v, &n, &more, &err), 0);
        db_done(st);
        assert_int_equal(n, want_n[i]);
        assert_int_equal(more, want_more[i]);
        assert_int_equal(((int64_t *)v)[0], 1);
        assert_int_equal(((int64_t *)v)[n - 1], (int64_t)n);
    }
    arena_free(a);
    db_close(d);
}

static void test_backup(void **state)
{
    db *d = NULL, *copy = NULL;
    gr_err err;
    char dest[160];
    struct row a = {"k1", 1, 0};

    (void)state;
    snprintf(dest, sizeof(dest), "%s/backup.db", dir);
    assert_int_equal(db_open(&d, path, &err), 0);
    assert_int_equal(db_write(d, create_table, NULL, &err), 0);
    assert_int_equal(db_write(d, insert_row, &a, &err), 0);
    assert_int_equal(db_backup(d, dest, &err), 0);
    db_close(d);
    assert_int_equal(db_open(&copy, dest, &err), 0);
    assert_int_equal(count_rows(copy, "k1"), 1);
    db_close(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_and_too_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_newer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_check_builds_a_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ephemeral_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_savepoint_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_settle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_wal_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_cache_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
