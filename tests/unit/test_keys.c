/* privacy/keys: the field-key rotation re-encrypts every registered sealed
 * column (values open with the new key, not the old, with the same
 * plaintext), switches the keys file (0600, new field key, same index key),
 * records a key.rotate audit entry, resumes after a crash, stops at a value
 * that opens with neither key (naming table, column and row) and refuses a
 * database that another process has open. The registry's additional data are
 * checked against the modules' own. All values are synthetic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdb.h"
#include "tmpdir.h"

#include "app/app.h"
#include "auth/auth_model.h"
#include "base/crypto.h"
#include "base/log.h"
#include "basedata/bd_model.h"
#include "basedata/bd_units.h"
#include "cases/case_model.h"
#include "notify/notify_model.h"
#include "privacy/audit.h"
#include "privacy/keys.h"
#include "privacy/sealed.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    gr_ctx ctx;
    gr_err err = {0};

    (void)state;
    log_set_level(LOG_OFF);
    if (gr_tmpdir_make(dir, sizeof(dir), "keys") != 0)
        return -1;
    /* The keys and the migrated database, as on a first start. */
    if (app_open(&ctx, dir, &err) != 0)
        return -1;
    app_close(&ctx);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return gr_tmpdir_remove(dir);
}

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static void read_keys(const char *name, unsigned char field[32], unsigned char index[32])
{
    char p[128];
    gr_err err = {0};

    path_of(p, sizeof(p), name);
    assert_int_equal(crypto_keys_read(p, field, index, &err), 0);
}

static db *open_db(void)
{
    char p[128];
    gr_err err = {0};
    db *d = NULL;

    path_of(p, sizeof(p), "grassroots.db");
    assert_int_equal(db_open(&d, p, &err), 0);
    return d;
}

struct insert {
    const char *sql; /* ?1: the blob, ?2: text (or unbound) */
    const char *text;
    const unsigned char *blob;
    size_t len;
};

static int insert_fn(db_conn *c, void *arg, gr_err *err)
{
    struct insert *a = arg;
    db_stmt *st = db_prepare(c, a->sql, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_blob(st, 1, a->blob, a->len);
    if (a->text)
        db_bind_text(st, 2, a->text);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

/* Runs sql with ?1 = plain sealed with key and ad, ?2 = text. */
static void insert_sealed(db *d, const char *sql, const unsigned char key[32], const char *plain,
                          const char *ad, const char *text)
{
    unsigned char blob[256];
    struct insert a = {sql, text, blob, 0};
    gr_err err = {0};

    assert_int_equal(crypto_seal(key, plain, strlen(plain), ad, blob, sizeof(blob), &a.len, &err),
                     0);
    assert_int_equal(db_write(d, insert_fn, &a, &err), 0);
}

/* The blob of sql's first row (?1 = id) opened with key and ad into out:
 * 0, or nonzero when it does not open. */
static int open_row(db *d, const char *sql, int64_t id, const unsigned char key[32], const char *ad,
                    char *out, size_t cap)
{
    gr_err err = {0};
    db_stmt *st = db_prepare(gr_testdb_reader(d), sql, &err);
    const void *blob;
    size_t len = 0, n = 0;
    int rc;

    assert_non_null(st);
    db_bind_int(st, 1, id);
    assert_int_equal(db_step(st, &err), DB_ROW);
    blob = db_col_blob(st, 0, &len);
    rc = crypto_open(key, blob, len, ad, (unsigned char *)out, cap, &n, &err);
    db_done(st);
    return rc;
}

static const sealed_column *entry(const char *name)
{
    size_t i;

    for (i = 0; i < sealed_ncolumns; i++)
        if (strcmp(sealed_columns[i].name, name) == 0)
            return &sealed_columns[i];
    fail_msg("no registry entry %s", name);
    return NULL;
}

/* ---- the registry ---- */

static void test_registry_matches_modules(void **state)
{
    db *d = open_db();
    char sql[512];
    size_t i;

    (void)state;
    assert_string_equal(entry("cases.contact_enc")->ad, CASE_CONTACT_AD);
    assert_string_equal(entry("case_reporters.contact_enc")->ad, CASE_CONTACT_AD);
    assert_string_equal(entry("webhooks.secret_enc")->ad, NOTIFY_SECRET_AD);
    assert_string_equal(entry("bd_people.name_enc")->ad, BD_AD_NAME);
    assert_string_equal(entry("bd_people.id_number_enc")->ad, BD_AD_ID_NUMBER);
    assert_string_equal(entry("bd_people.phone_enc")->ad, BD_AD_PHONE);
    assert_string_equal(entry("bd_orgs.legal_rep_enc")->ad, BD_AD_LEGAL_REP);
    assert_string_equal(entry("bd_history_sealed.old_enc[person.name]")->ad, BD_AD_NAME);
    assert_string_equal(entry("bd_history_sealed.old_enc[person.id_number]")->ad, BD_AD_ID_NUMBER);
    assert_string_equal(entry("bd_history_sealed.old_enc[person.phone]")->ad, BD_AD_PHONE);
    assert_string_equal(entry("bd_history_sealed.old_enc[org.legal_rep]")->ad, BD_AD_LEGAL_REP);
    /* users.phone's ad is private to auth: test_rotate_whole_registry opens a
     * phone auth sealed. Every entry names a table and columns that exist. */
    for (i = 0; i < sealed_ncolumns; i++) {
        const sealed_column *c = &sealed_columns[i];

        snprintf(sql, sizeof(sql), "SELECT count(%s) FROM %s WHERE %s > ?1 AND (%s)", c->blob_col,
                 c->table, c->id_col, c->where ? c->where : "1");
        assert_int_equal(gr_testdb_int(d, sql, -1), 0);
    }
    db_close(d);
}

/* A sealed column added to the schema without a registry entry would keep
 * its values under the old key: every *_enc column must be registered. */
static void test_every_enc_column_registered(void **state)
{
    db *d = open_db();
    gr_err err = {0};
    db_stmt *st =
        db_prepare(gr_testdb_reader(d),
                   "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
                   "WHERE m.type = 'table' AND p.name LIKE '%!_enc' ESCAPE '!' "
                   "ORDER BY 1, 2",
                   &err);
    size_t i;
    int found = 0, rows = 0;

    (void)state;
    assert_non_null(st);
    while (db_step(st, &err) == DB_ROW) {
        const char *t = db_col_text(st, 0), *c = db_col_text(st, 1);

        rows++;
        found = 0;
        for (i = 0; i < sealed_ncolumns; i++)
            if (strcmp(sealed_columns[i].table, t) == 0 &&
                strcmp(sealed_columns[i].blob_col, c) == 0)
                found = 1;
        if (!found)
            fail_msg("%s.%s is not in src/privacy/sealed.c", t, c);
    }
    db_done(st);
    assert_true(rows >= 8);
    db_close(d);
}

/* ---- the whole registry, on a real database ---- */

#define HIST_SQL                                                                                   \
    "INSERT INTO bd_history_sealed (entity, entity_id, version, field, old_enc) "                  \
    "VALUES ('%s', 1, %d, '%s', ?1)"

static void test_rotate_whole_registry(void **state)
{
    static const struct {
        const char *entity, *field, *ad, *plain;
    } hist[] = {
        {"person", "name", BD_AD_NAME, "测试甲"},
        {"person", "id_number", BD_AD_ID_NUMBER, "11010519491231002X"},
        {"person", "phone", BD_AD_PHONE, "13800000002"},
        {"org", "legal_rep", BD_AD_LEGAL_REP, "测试乙"},
    };
    unsigned char f0[32], i0[32], f1[32], i1[32];
    auth_user_new u = {
        "keys-user", "Keys User", "correct horse battery", "resident", "13800000001", 0, 0};
    char p[128], sql[256], out[128];
    gr_ctx ctx;
    gr_err err = {0};
    keys_rotate_report rep;
    keys_rotate_opts o = {0};
    audit_entry *v = NULL;
    audit_filter f = {0};
    audit_report ar;
    unsigned char akey[AUDIT_HASH_BYTES];
    struct stat st;
    char guard_probe[] = "UPDATE bd_history_sealed SET old_enc = NULL";
    int64_t uid = 0;
    size_t i, n = 0;
    int more = 0;
    arena *a;
    db *d;

    (void)state;
    assert_int_equal(app_open(&ctx, dir, &err), 0);
    if (auth_user_create(&ctx, &u, &uid, &err) != 0)
        fail_msg("create the user: %s: %s", err.field, err.msg);
    app_close(&ctx);
    read_keys("keys", f0, i0);
    d = open_db();
    insert_sealed(d,
                  "INSERT INTO webhooks (url, secret_enc, event_types, created_at, updated_at) "
                  "VALUES (?2, ?1, '*', 1, 1)",
                  f0, "synthetic-secret", NOTIFY_SECRET_AD, "https://example.invalid/hook");
    for (i = 0; i < 4; i++) {
        snprintf(sql, sizeof(sql), HIST_SQL, hist[i].entity, (int)i + 2, hist[i].field);
        insert_sealed(d, sql, f0, hist[i].plain, hist[i].ad, NULL);
    }
    gr_testdb_exec(d, "INSERT INTO bd_history_sealed (entity, entity_id, version, field, old_enc) "
                      "VALUES ('person', 1, 9, 'phone', NULL)");
    db_close(d);

    assert_int_equal(keys_rotate(dir, &o, &rep, &err), 0);
    assert_int_equal(rep.resumed, 0);
    assert_int_equal(rep.ncols, sealed_ncolumns);
    assert_int_equal(rep.total[0], 1); /* users.phone_enc */
    assert_int_equal(rep.resealed[0], 1);

    /* The keys file: 0600, a new field key, the same index key; no keys.next. */
    path_of(p, sizeof(p), "keys");
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 64);
    read_keys("keys", f1, i1);
    assert_false(crypto_equal(f0, f1, 32));
    assert_true(crypto_equal(i0, i1, 32));
    path_of(p, sizeof(p), "keys.next");
    assert_int_not_equal(access(p, F_OK), 0);

    /* Every value opens with the new key only, unchanged. */
    assert_int_equal(app_open(&ctx, dir, &err), 0);
    assert_int_equal(auth_user_phone(&ctx, uid, out, sizeof(out), &err), 0);
    assert_string_equal(out, "13800000001");
    app_close(&ctx);
    d = open_db();
    assert_int_equal(open_row(d, "SELECT secret_enc FROM webhooks WHERE id = ?1", 1, f1,
                              NOTIFY_SECRET_AD, out, sizeof(out)),
                     0);
    assert_string_equal(out, "synthetic-secret");
    assert_int_not_equal(open_row(d, "SELECT secret_enc FROM webhooks WHERE id = ?1", 1, f0,
                                  NOTIFY_SECRET_AD, out, sizeof(out)),
                         0);
    assert_int_not_equal(open_row(d, "SELECT phone_enc FROM users WHERE id = ?1", uid, f0,
                                  "users.phone", out, sizeof(out)),
                         0);
    for (i = 0; i < 4; i++) {
        const char *q = "SELECT old_enc FROM bd_history_sealed WHERE version = ?1";

        assert_int_equal(open_row(d, q, (int64_t)i + 2, f1, hist[i].ad, out, sizeof(out)), 0);
        assert_string_equal(out, hist[i].plain);
        assert_int_not_equal(open_row(d, q, (int64_t)i + 2, f0, hist[i].ad, out, sizeof(out)), 0);
    }
    /* The append-only guard is back. */
    assert_int_equal(db_write(d, gr_testdb_exec_fn, guard_probe, &err), GR_ECONFLICT);

    /* The audit entry, and the chain (same index key) still intact. */
    a = arena_new();
    f.action = "key.rotate";
    f.limit = 10;
    assert_int_equal(audit_list(gr_testdb_reader(d), a, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].actor_role, "system");
    assert_string_equal(v[0].entity, "keys");
    assert_non_null(strstr(v[0].detail, "\"users.phone_enc\":1"));
    assert_non_null(strstr(v[0].detail, "\"webhooks.secret_enc\":1"));
    assert_non_null(strstr(v[0].detail, "\"bd_history_sealed.old_enc[org.legal_rep]\":1"));
    assert_non_null(strstr(v[0].detail, "\"resealed\":6"));
    audit_key_derive(i1, akey);
    assert_int_equal(audit_verify(d, akey, &ar, &err), 0);
    assert_int_equal(ar.fault, AUDIT_INTACT);
    arena_free(a);
    db_close(d);
}

/* ---- crash, resume, a wrong ad: on a table of the test's own ---- */

static const sealed_column test_cols[] = {
    {"t_sealed.v", "t_sealed", "id", "v", "t_sealed.v", NULL, NULL},
};

static void make_rows(int n, const unsigned char key[32], int bad_row)
{
    db *d = open_db();
    char plain[32];
    int i;

    gr_testdb_exec(d, "CREATE TABLE t_sealed (id INTEGER PRIMARY KEY, v BLOB)");
    for (i = 1; i <= n; i++) {
        snprintf(plain, sizeof(plain), "value %d", i);
        insert_sealed(d, "INSERT INTO t_sealed (v) VALUES (?1)", key, plain,
                      i == bad_row ? "t_sealed.other" : "t_sealed.v", NULL);
    }
    gr_testdb_exec(d, "INSERT INTO t_sealed (v) VALUES (NULL)");
    db_close(d);
}

/* How many of the first n rows open with key (each with its plaintext). */
static int count_open(int n, const unsigned char key[32])
{
    db *d = open_db();
    char out[64], want[32];
    int i, k = 0;

    for (i = 1; i <= n; i++)
        if (open_row(d, "SELECT v FROM t_sealed WHERE id = ?1", i, key, "t_sealed.v", out,
                     sizeof(out)) == 0) {
            snprintf(want, sizeof(want), "value %d", i);
            assert_string_equal(out, want);
            k++;
        }
    db_close(d);
    return k;
}

static void test_crash_then_resume(void **state)
{
    unsigned char f0[32], i0[32], fn[32], in[32], f1[32], i1[32];
    keys_rotate_opts o = {0, 3, test_cols, 1, 5};
    keys_rotate_report rep;
    gr_ctx ctx;
    gr_err err = {0};
    char p[128];
    struct stat st;

    (void)state;
    read_keys("keys", f0, i0);
    make_rows(10, f0, 0);
    assert_int_equal(keys_rotate(dir, &o, &rep, &err), GR_EUNAVAIL);
    /* keys.next is whole and private; half the rows are under its key. */
    path_of(p, sizeof(p), "keys.next");
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    read_keys("keys.next", fn, in);
    assert_true(crypto_equal(i0, in, 32));
    assert_int_equal(count_open(10, fn), 5);
    assert_int_equal(count_open(10, f0), 5);
    /* The server refuses to start, and says how to finish. */
    assert_int_equal(app_open(&ctx, dir, &err), GR_EINVAL);
    assert_string_equal(err.field, "keys");
    assert_non_null(strstr(err.msg, "--resume"));
    /* A plain rotate refuses too: it would make a third key. */
    o.stop_after = 0;
    assert_int_equal(keys_rotate(dir, &o, &rep, &err), GR_EINVAL);
    assert_non_null(strstr(err.msg, "--resume"));
    o.resume = 1;
    assert_int_equal(keys_rotate(dir, &o, &rep, &err), 0);
    assert_int_equal(rep.resumed, 1);
    assert_int_equal(rep.total[0], 10);
    assert_int_equal(rep.resealed[0], 5);
    read_keys("keys", f1, i1);
    assert_true(crypto_equal(f1, fn, 32));
    assert_true(crypto_equal(i1, i0, 32));
    assert_int_not_equal(access(p, F_OK), 0);
    assert_int_equal(count_open(10, f1), 10);
    assert_int_equal(count_open(10, f0), 0);
    /* Nothing left to resume. */
    assert_int_equal(keys_rotate(dir, &o, &rep, &err), GR_EINVAL);
    assert_non_null(strstr(err.msg, "nothing to resume"));
}

static void test_wrong_ad_stops(void **state)
{
    unsigned char f0[32], i0[32], fn[32], in[32];
    keys_rotate_opts o = {0, 2, test_cols, 1, 0};
    keys_rotate_report rep;
    gr_err err = {0};
    char p[128];
    db *d;

    (void)state;
    read_keys("keys", f0, i0);
    make_rows(6, f0, 4);
    assert_int_equal(keys_rotate(dir, &o, &rep, &err), GR_EINVAL);
    assert_string_equal(err.field, "t_sealed.v");
    assert_non_null(strstr(err.msg, "t_sealed row 4"));
    assert_non_null(strstr(err.msg, "sealed v"));
    /* Rows 1-2 (the batch before) are done; 3 (its own batch) and 5-6 are not. */
    read_keys("keys.next", fn, in);
    assert_int_equal(count_open(2, fn), 2);
    assert_int_equal(count_open(6, f0), 3);
    assert_int_equal(count_open(6, fn), 2);
    /* The fix (here: the value sealed again with the ad), then --resume. */
    d = open_db();
    gr_testdb_exec(d, "DELETE FROM t_sealed WHERE id = 4");
    insert_sealed(d, "INSERT INTO t_sealed (id, v) VALUES (4, ?1)", f0, "value 4", "t_sealed.v",
                  NULL);
    db_close(d);
    o.resume = 1;
    assert_int_equal(keys_rotate(dir, &o, &rep, &err), 0);
    assert_int_equal(count_open(6, fn), 6);
    path_of(p, sizeof(p), "keys.next");
    assert_int_not_equal(access(p, F_OK), 0);
}

static void test_uncovered_history_row_refused(void **state)
{
    unsigned char f0[32], i0[32], f1[32], i1[32];
    keys_rotate_opts o = {0};
    gr_err err = {0};
    char p[128];
    db *d = open_db();

    (void)state;
    read_keys("keys", f0, i0);
    insert_sealed(d,
                  "INSERT INTO bd_history_sealed (entity, entity_id, version, field, old_enc) "
                  "VALUES ('person', 1, 2, 'nickname', ?1)",
                  f0, "x", "bd_people.nickname", NULL);
    db_close(d);
    assert_int_equal(keys_rotate(dir, &o, NULL, &err), GR_EINVAL);
    assert_non_null(strstr(err.field, "bd_history_sealed"));
    assert_non_null(strstr(err.msg, "row 1 "));
    /* Refused before anything: no keys.next, the same keys. */
    path_of(p, sizeof(p), "keys.next");
    assert_int_not_equal(access(p, F_OK), 0);
    read_keys("keys", f1, i1);
    assert_true(crypto_equal(f0, f1, 32));
}

static void test_refused_while_open_elsewhere(void **state)
{
    int ready[2], hold[2];
    keys_rotate_opts o = {0};
    gr_err err = {0};
    char c = 0, p[128];
    pid_t pid;
    int status = 0;

    (void)state;
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        db *d = NULL;

        close(ready[0]);
        close(hold[1]);
        path_of(p, sizeof(p), "grassroots.db");
        if (db_open(&d, p, &err) != 0 || db_ping(d) != 1)
            _exit(1);
        if (write(ready[1], "r", 1) != 1)
            _exit(1);
        while (read(hold[0], &c, 1) > 0)
            ;
        _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(keys_rotate(dir, &o, NULL, &err), GR_EUNAVAIL);
    assert_string_equal(err.field, "data");
    close(hold[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(ready[0]);
    path_of(p, sizeof(p), "keys.next");
    assert_int_not_equal(access(p, F_OK), 0);
    /* Once it is closed, the rotation runs. */
    assert_int_equal(keys_rotate(dir, &o, NULL, &err), 0);
}

static void test_cli(void **state)
{
    char a0[] = "keys", a1[] = "rotate", a2[] = "--data", a3[] = "--resume", a4[] = "spin";
    char *ok[] = {a0, a1, a2, dir, NULL};
    char *resume[] = {a0, a1, a3, a2, dir, NULL};
    char *bad[] = {a0, a4, a2, dir, NULL};
    unsigned char f0[32], i0[32], f1[32], i1[32];
    FILE *saved;

    (void)state;
    read_keys("keys", f0, i0);
    saved = stdout;
    stdout = fopen("/dev/null", "w");
    assert_int_equal(keys_cli(4, ok), 0);
    fclose(stdout);
    stdout = saved;
    read_keys("keys", f1, i1);
    assert_false(crypto_equal(f0, f1, 32));
    assert_true(crypto_equal(i0, i1, 32));
    saved = stderr;
    stderr = fopen("/dev/null", "w");
    assert_int_equal(keys_cli(5, resume), 1); /* nothing to resume */
    assert_int_equal(keys_cli(4, bad), 2);
    fclose(stderr);
    stderr = saved;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_registry_matches_modules),
        T(test_every_enc_column_registered),
        T(test_rotate_whole_registry),
        T(test_crash_then_resume),
        T(test_wrong_ad_stops),
        T(test_uncovered_history_row_refused),
        T(test_refused_while_open_elsewhere),
        T(test_cli),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
