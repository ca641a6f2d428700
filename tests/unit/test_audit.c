/* privacy/audit: the chain verifies when untouched, and names the entry when
 * one is edited, inserted or deleted behind the application's back (the
 * triggers dropped first, as someone with the file would), when the tail is
 * cut off, and under a wrong key; the triggers refuse changes through the
 * application's connection; appends are checked and roll back with the
 * caller's write; the list filters and pages. All entries are synthetic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdb.h"
#include "tmpdir.h"

#include "base/arena.h"
#include "base/crypto.h"
#include "base/log.h"
#include "privacy/audit.h"

#include <stdio.h>
#include <string.h>

static char dir[64];
static db *D;
static unsigned char key[AUDIT_HASH_BYTES];

/* Five synthetic entries: reveals, a key operation by the system, an export. */
static const audit_entry seed[] = {
    {0, 1000, 7, "acceptor", "reveal", "case", 101, "contact", "callback", "req-1", NULL, {0}},
    {0, 2000, 7, "acceptor", "reveal", "case", 102, "contact", "callback", "req-2", NULL, {0}},
    {0, 3000, 8, "dispatcher", "reveal", "case", 101, "contact", "dispatch", "req-3", NULL, {0}},
    {0, 4000, 0, "system", "key.rotate", "keys", 0, NULL, NULL, NULL, "{\"generation\":2}", {0}},
    {0,
     5000,
     9,
     "auditor",
     "export",
     "person",
     0,
     "name,phone",
     "annual review",
     "req-5",
     NULL,
     {0}},
};
#define NSEED ((int64_t)(sizeof(seed) / sizeof(seed[0])))

struct append_arg {
    const audit_entry *e;
    int fail_after; /* return this code after appending (0: succeed) */
};

static int append_fn(db_conn *c, void *arg, gr_err *err)
{
    struct append_arg *a = arg;
    int rc = audit_append(c, key, a->e, err);

    if (!rc && a->fail_after)
        rc = err_set(err, a->fail_after, "", "the recorded action failed");
    return rc;
}

static int append(const audit_entry *e, gr_err *err)
{
    struct append_arg a = {e, 0};

    return db_write(D, append_fn, &a, err);
}

static int setup(void **state)
{
    gr_err err = {0};
    int64_t i;

    (void)state;
    log_set_level(LOG_OFF);
    assert_int_equal(crypto_init(&err), 0);
    randombytes_buf(key, sizeof(key));
    gr_testdb_open(&D, dir, sizeof(dir), "audit");
    for (i = 0; i < NSEED; i++)
        assert_int_equal(append(&seed[i], &err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    db_close(D);
    D = NULL;
    return gr_tmpdir_remove(dir);
}

static void verify(audit_report *r)
{
    gr_err err = {0};

    assert_int_equal(audit_verify(D, key, r, &err), 0);
}

/* What someone with the database file but not the keys can do. */
static void drop_triggers(void)
{
    gr_testdb_exec(D, "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; "
                      "DROP TRIGGER audit_log_next_seq");
}

static void test_intact(void **state)
{
    audit_report r;

    (void)state;
    verify(&r);
    assert_int_equal(r.fault, AUDIT_INTACT);
    assert_int_equal(r.checked, NSEED);
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.first_bad_seq, 0);
    assert_int_equal(r.head_seq, NSEED);
    /* seq 1..5, the first linked to zeros, each to the one before. */
    assert_int_equal(
        gr_testdb_int(D, "SELECT count(*) FROM audit_log WHERE seq BETWEEN 1 AND ?", NSEED), NSEED);
    assert_int_equal(
        gr_testdb_int(D, "SELECT prev_hash = zeroblob(32) FROM audit_log WHERE seq = ?", 1), 1);
    assert_int_equal(gr_testdb_int(D,
                                   "SELECT count(*) FROM audit_log a JOIN audit_log b "
                                   "ON b.seq = a.seq + 1 WHERE b.prev_hash = a.hash AND a.seq < ?",
                                   NSEED),
                     NSEED - 1);
    assert_int_equal(gr_testdb_int(D, "SELECT seq FROM audit_head WHERE id = ?", 1), NSEED);
    assert_int_equal(
        gr_testdb_int(D, "SELECT count(*) FROM audit_log WHERE action = 'audit.break' OR seq < ?",
                      1),
        0);
    /* The time given is kept; the detail is stored as given. */
    assert_int_equal(gr_testdb_int(D, "SELECT at FROM audit_log WHERE seq = ?", 4), 4000);
}

static void test_empty_log_is_intact(void **state)
{
    audit_report r;
    char d2[64];
    db *keep = D;
    gr_err err = {0};

    (void)state;
    gr_testdb_open(&D, d2, sizeof(d2), "audit-empty");
    assert_int_equal(audit_verify(D, key, &r, &err), 0);
    assert_int_equal(r.fault, AUDIT_INTACT);
    assert_int_equal(r.checked, 0);
    assert_int_equal(r.head_seq, 0);
    db_close(D);
    D = keep;
    assert_int_equal(gr_tmpdir_remove(d2), 0);
}

static void test_edited_entry(void **state)
{
    audit_report r;

    (void)state;
    drop_triggers();
    gr_testdb_exec(D, "UPDATE audit_log SET purpose = 'curiosity' WHERE seq = 3");
    verify(&r);
    assert_int_equal(r.fault, AUDIT_EDITED);
    assert_int_equal(r.first_bad_seq, 3);
    assert_int_equal(r.bad, 1);
    assert_int_equal(r.checked, NSEED);
    assert_non_null(strstr(r.reason, "edited"));
}

static void test_edited_other_columns(void **state)
{
    static const char *const edits[] = {
        "UPDATE audit_log SET at = at + 1 WHERE seq = 2",
        "UPDATE audit_log SET actor_user_id = 1 WHERE seq = 2",
        "UPDATE audit_log SET entity_id = 103 WHERE seq = 2",
        "UPDATE audit_log SET fields = '' WHERE seq = 4",   /* NULL -> "" */
        "UPDATE audit_log SET detail = NULL WHERE seq = 4", /* a value -> NULL */
        "UPDATE audit_log SET actor_role = 'admin' WHERE seq = 2",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        audit_report r;

        teardown(NULL);
        setup(NULL);
        drop_triggers();
        gr_testdb_exec(D, "%s", edits[i]);
        verify(&r);
        if (r.fault != AUDIT_EDITED || r.bad != 1)
            fail_msg("%s: fault %d, bad %lld", edits[i], (int)r.fault, (long long)r.bad);
        assert_int_equal(r.first_bad_seq, strstr(edits[i], "seq = 4") ? 4 : 2);
    }
}

static void test_inserted_entry(void **state)
{
    audit_report r;

    (void)state;
    drop_triggers();
    /* Make room at 3 and put in a copy of entry 2 about another case,
     * linked to entry 2 and carrying its hash: all that is possible without
     * the key. */
    gr_testdb_exec(D, "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3; "
                      "UPDATE audit_log SET seq = seq - 99 WHERE seq >= 103; "
                      "INSERT INTO audit_log SELECT 3, at + 1, actor_user_id, actor_role, action, "
                      "entity, 999, fields, purpose, request_id, detail, hash, hash "
                      "FROM audit_log WHERE seq = 2");
    assert_int_equal(gr_testdb_int(D, "SELECT count(*) FROM audit_log WHERE seq > ?", 0),
                     NSEED + 1);
    verify(&r);
    assert_int_not_equal(r.fault, AUDIT_INTACT);
    assert_int_equal(r.first_bad_seq, 3);
    assert_int_equal(r.checked, NSEED + 1);
}

static void test_deleted_middle_entry(void **state)
{
    audit_report r;

    (void)state;
    drop_triggers();
    gr_testdb_exec(D, "DELETE FROM audit_log WHERE seq = 3");
    verify(&r);
    assert_int_equal(r.fault, AUDIT_GAP);
    assert_int_equal(r.first_bad_seq, 4);
    assert_int_equal(r.checked, NSEED - 1);
    assert_non_null(strstr(r.reason, "deleted"));
}

static void test_deleted_middle_entry_renumbered(void **state)
{
    audit_report r;

    (void)state;
    drop_triggers();
    gr_testdb_exec(D, "DELETE FROM audit_log WHERE seq = 3; "
                      "UPDATE audit_log SET seq = seq + 100 WHERE seq > 3; "
                      "UPDATE audit_log SET seq = seq - 101 WHERE seq > 100");
    verify(&r);
    assert_int_equal(r.fault, AUDIT_LINK);
    assert_int_equal(r.first_bad_seq, 3);
}

static void test_deleted_last_entry(void **state)
{
    audit_report r;

    (void)state;
    drop_triggers();
    gr_testdb_exec(D, "DELETE FROM audit_log WHERE seq = 5");
    verify(&r);
    /* Every remaining entry is sound: only the head shows the cut. */
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.checked, NSEED - 1);
    assert_int_equal(r.fault, AUDIT_TRUNCATED);
    assert_int_equal(r.first_bad_seq, 5);
    assert_non_null(strstr(r.reason, "tail"));
}

static void test_deleted_tail_and_head_moved(void **state)
{
    audit_report r;

    (void)state;
    drop_triggers();
    /* Cut the tail and point the head at the new last entry: without the
     * key its MAC cannot follow. */
    gr_testdb_exec(D, "DELETE FROM audit_log WHERE seq >= 4; "
                      "UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_log "
                      "WHERE seq = 3)");
    verify(&r);
    assert_int_equal(r.fault, AUDIT_HEAD);
    assert_int_equal(r.bad, 0);
    assert_non_null(strstr(r.reason, "MAC"));
}

/* An append after a cut tail does not hide it by moving the head: the chain
 * records the break, and verify reports it from then on. */
static void test_append_after_cut_records_break(void **state)
{
    audit_report r;
    gr_err err = {0};

    (void)state;
    drop_triggers();
    gr_testdb_exec(D, "DELETE FROM audit_log WHERE seq = 5");
    assert_int_equal(append(&seed[0], &err), 0);
    assert_int_equal(
        gr_testdb_int(D, "SELECT seq FROM audit_log WHERE action = 'audit.break' AND seq > ?", 0),
        5);
    assert_int_equal(gr_testdb_int(D, "SELECT entity_id FROM audit_log WHERE seq = ?", 6), 101);
    assert_int_equal(gr_testdb_int(D, "SELECT seq FROM audit_head WHERE id = ?", 1), 6);
    verify(&r);
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.checked, NSEED + 1);
    assert_int_equal(r.fault, AUDIT_BREAK);
    assert_int_equal(r.first_bad_seq, 5);
    assert_non_null(strstr(r.reason, "\"head_seq\":5"));
    assert_non_null(strstr(r.reason, "\"log_seq\":4"));
}

static void test_append_after_forged_head_records_break(void **state)
{
    audit_report r;
    gr_err err = {0};

    (void)state;
    gr_testdb_exec(D, "UPDATE audit_head SET mac = zeroblob(32)");
    assert_int_equal(append(&seed[1], &err), 0);
    verify(&r);
    assert_int_equal(r.fault, AUDIT_BREAK);
    assert_int_equal(r.first_bad_seq, NSEED + 1);
    assert_non_null(strstr(r.reason, "forged"));
}

static void test_everything_deleted_leaves_head(void **state)
{
    audit_report r;

    (void)state;
    drop_triggers();
    gr_testdb_exec(D, "DELETE FROM audit_log");
    verify(&r);
    assert_int_equal(r.fault, AUDIT_TRUNCATED);
    assert_int_equal(r.first_bad_seq, 1);
    assert_int_equal(r.checked, 0);
}

static void test_triggers_refuse(void **state)
{
    static const char *const refused[] = {
        "UPDATE audit_log SET purpose = 'x' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 5",
        "DELETE FROM audit_head",
        "INSERT INTO audit_log (seq, at, actor_user_id, actor_role, action, entity, entity_id, "
        "prev_hash, hash) VALUES (9, 1, 0, 'system', 'export', 'case', 0, zeroblob(32), "
        "zeroblob(32))",
    };
    audit_report r;
    gr_err err = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char sql[512];

        snprintf(sql, sizeof(sql), "%s", refused[i]);
        err_clear(&err);
        if (db_write(D, gr_testdb_exec_fn, sql, &err) == 0)
            fail_msg("not refused: %s", refused[i]);
    }
    verify(&r);
    assert_int_equal(r.fault, AUDIT_INTACT);
    assert_int_equal(r.checked, NSEED);
    assert_int_equal(
        gr_testdb_int(D, "SELECT count(*) FROM audit_log WHERE purpose = 'x' OR seq > ?", NSEED),
        0);
}

static void test_wrong_key(void **state)
{
    unsigned char other[AUDIT_HASH_BYTES];
    audit_report r;
    gr_err err = {0};

    (void)state;
    randombytes_buf(other, sizeof(other));
    assert_int_equal(audit_verify(D, other, &r, &err), 0);
    assert_int_equal(r.fault, AUDIT_EDITED);
    assert_int_equal(r.first_bad_seq, 1);
    assert_int_equal(r.bad, NSEED);
    assert_int_equal(r.checked, NSEED);
}

static void test_key_derive(void **state)
{
    unsigned char ik[32], a[AUDIT_HASH_BYTES], b[AUDIT_HASH_BYTES];

    (void)state;
    memset(ik, 0x42, sizeof(ik));
    audit_key_derive(ik, a);
    audit_key_derive(ik, b);
    assert_memory_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, ik, sizeof(a));
    ik[0] ^= 1;
    audit_key_derive(ik, b);
    assert_memory_not_equal(a, b, sizeof(a));
}

static void test_append_checks(void **state)
{
    static const struct {
        audit_entry e;
        const char *field;
    } bad[] = {
        {{0, 0, 7, "acceptor", NULL, "case", 1, NULL, "x", NULL, NULL, {0}}, "action"},
        {{0, 0, 7, "acceptor", "reveal", "", 1, NULL, "x", NULL, NULL, {0}}, "entity"},
        {{0, 0, 7, NULL, "reveal", "case", 1, NULL, "x", NULL, NULL, {0}}, "actor_role"},
        {{0, 0, 7, "Acceptor", "reveal", "case", 1, NULL, "x", NULL, NULL, {0}}, "actor_role"},
        {{0, 0, 7, "acceptor", "reveal", "case", 1, "contact", NULL, NULL, NULL, {0}}, "purpose"},
        {{0, 0, 7, "acceptor", "reveal", "case", 1, "contact", "", NULL, NULL, {0}}, "purpose"},
        {{0, 0, 7, "acceptor", "export", "case", 1, NULL, NULL, NULL, "[1]", {0}}, "detail"},
        {{0, 0, 7, "acceptor", "export", "case", 1, NULL, NULL, NULL, "{", {0}}, "detail"},
        {{0, 0, 7, "acceptor", "export", "case", -1, NULL, NULL, NULL, NULL, {0}}, "entity_id"},
    };
    gr_err err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&err);
        assert_int_equal(append(&bad[i].e, &err), GR_EINVAL);
        if (strcmp(err.field, bad[i].field) != 0)
            fail_msg("case %zu: field '%s' (%s), expected '%s'", i, err.field, err.msg,
                     bad[i].field);
    }
    assert_int_equal(gr_testdb_int(D, "SELECT max(seq) FROM audit_log WHERE seq > ?", 0), NSEED);
}

static void test_append_rolls_back_with_caller(void **state)
{
    audit_entry e = seed[0];
    struct append_arg a = {&e, GR_ECONFLICT};
    audit_report r;
    gr_err err = {0};

    (void)state;
    e.at = 0; /* now */
    assert_int_equal(db_write(D, append_fn, &a, &err), GR_ECONFLICT);
    assert_int_equal(gr_testdb_int(D, "SELECT count(*) FROM audit_log WHERE seq > ?", 0), NSEED);
    assert_int_equal(gr_testdb_int(D, "SELECT seq FROM audit_head WHERE id = ?", 1), NSEED);
    /* The next append continues the chain from 5. */
    assert_int_equal(append(&e, &err), 0);
    assert_true(gr_testdb_int(D, "SELECT at FROM audit_log WHERE seq = ?", NSEED + 1) > 5000);
    verify(&r);
    assert_int_equal(r.fault, AUDIT_INTACT);
    assert_int_equal(r.checked, NSEED + 1);
}

static void list(const audit_filter *f, int64_t *seqs, size_t *n, int *more)
{
    arena *a = arena_new();
    audit_entry *v = NULL;
    gr_err err = {0};
    size_t i;

    assert_int_equal(audit_list(gr_testdb_reader(D), a, f, &v, n, more, &err), 0);
    for (i = 0; i < *n; i++)
        seqs[i] = v[i].seq;
    arena_free(a);
}

static void test_list_filters(void **state)
{
    int64_t s[8];
    size_t n;
    int more;
    audit_filter f;
    arena *a = arena_new();
    audit_entry *v = NULL;
    gr_err err = {0};

    (void)state;
    memset(&f, 0, sizeof(f));
    f.limit = 50;
    list(&f, s, &n, &more);
    assert_int_equal(n, NSEED);
    assert_int_equal(more, 0);

    f.entity = "case";
    f.entity_id = 101;
    list(&f, s, &n, &more);
    assert_int_equal(n, 2);
    assert_int_equal(s[0], 1);
    assert_int_equal(s[1], 3);

    memset(&f, 0, sizeof(f));
    f.limit = 50;
    f.actor_user_id = 7;
    f.action = "reveal";
    list(&f, s, &n, &more);
    assert_int_equal(n, 2);
    assert_int_equal(s[1], 2);

    memset(&f, 0, sizeof(f));
    f.limit = 50;
    f.from = 2000;
    f.to = 4000;
    list(&f, s, &n, &more);
    assert_int_equal(n, 2);
    assert_int_equal(s[0], 2);
    assert_int_equal(s[1], 3);

    /* Pages of two, by seq. */
    memset(&f, 0, sizeof(f));
    f.limit = 2;
    list(&f, s, &n, &more);
    assert_int_equal(n, 2);
    assert_int_equal(more, 1);
    f.after = s[1];
    list(&f, s, &n, &more);
    assert_int_equal(n, 2);
    assert_int_equal(s[0], 3);
    assert_int_equal(more, 1);
    f.after = s[1];
    list(&f, s, &n, &more);
    assert_int_equal(n, 1);
    assert_int_equal(s[0], 5);
    assert_int_equal(more, 0);

    /* The entry as stored, hash included. */
    memset(&f, 0, sizeof(f));
    f.limit = 1;
    f.after = 3;
    assert_int_equal(audit_list(gr_testdb_reader(D), a, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].action, "key.rotate");
    assert_null(v[0].fields);
    assert_string_equal(v[0].detail, "{\"generation\":2}");
    assert_memory_not_equal(v[0].hash, (unsigned char[AUDIT_HASH_BYTES]){0}, AUDIT_HASH_BYTES);

    memset(&f, 0, sizeof(f));
    f.limit = 10;
    f.from = 3000;
    f.to = 3000;
    assert_int_equal(audit_list(gr_testdb_reader(D), a, &f, &v, &n, &more, &err), GR_EINVAL);
    assert_string_equal(err.field, "to");
    arena_free(a);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_intact),
        T(test_empty_log_is_intact),
        T(test_edited_entry),
        T(test_edited_other_columns),
        T(test_inserted_entry),
        T(test_deleted_middle_entry),
        T(test_deleted_middle_entry_renumbered),
        T(test_deleted_last_entry),
        T(test_deleted_tail_and_head_moved),
        T(test_everything_deleted_leaves_head),
        T(test_append_after_cut_records_break),
        T(test_append_after_forged_head_records_break),
        T(test_triggers_refuse),
        T(test_wrong_key),
        T(test_key_derive),
        T(test_append_checks),
        T(test_append_rolls_back_with_caller),
        T(test_list_filters),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
