/* basedata/bd_import: 100,000 generated organisations with 1% bad rows (a
 * wrong check character, a bad length, an unknown type, an empty required
 * cell) store the good 99% and the report names each bad row's line, column
 * and reason; importing the same file again stores nothing and adds no
 * history; a row that fails after writing leaves nothing of itself; a header
 * that does not fit is refused naming the column; a CSV syntax error keeps
 * the rows before it. All codes are synthetic (valid GB 32100 check
 * characters computed here, independently of src/base/validate.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tally_check.h"
#include "id_number.h"
#include "testdb.h"

#include "base/crypto.h"
#include "base/csv.h"
#include "base/validate.h"
#include "basedata/bd_import.h"
#include "basedata/bd_model.h"
#include "basedata/bd_units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NROWS = 100000, BAD_EVERY = 100 };

static char dir[64];
static db *D;
static gr_ctx ctx;
/* The steward: community 3 of street 2 of district 1. */
static const bd_actor operator_ = {0, "system", 3};

static const char USCC_CHARS[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* A valid code for serial i: 91 (enterprise) 350100, a 9-digit body, the check. */
static void uscc_make(long i, char out[19])
{
    int sum = 0, w = 1, k;

    snprintf(out, 19, "91350100%09ld", i);
    for (k = 0; k < 17; k++, w = w * 3 % 31)
        sum += (int)(strchr(USCC_CHARS, out[k]) - USCC_CHARS) * w;
    out[17] = USCC_CHARS[(31 - sum % 31) % 31];
    out[18] = '\0';
}

/* What the report must say about line `line` (0: the row is good). */
struct expect {
    const char *column;
    char reason[256];
};

static void expect_for(long i, char uscc[19], const char **type, const char **name,
                       struct expect *e)
{
    gr_err err = {0};

    uscc_make(i, uscc);
    *type = i % 3 == 0 ? "企业" : i % 3 == 1 ? "social" : "个体工商户";
    *name = "某某科技有限公司";
    e->column = NULL;
    e->reason[0] = '\0';
    if (i % BAD_EVERY != 7)
        return;
    switch ((i / BAD_EVERY) % 4) {
    case 0: /* a wrong check character */
        uscc[17] = uscc[17] == '0' ? '1' : '0';
        validate_uscc(uscc, NULL, "uscc", &err);
        e->column = "uscc";
        snprintf(e->reason, sizeof(e->reason), "%s", err.msg);
        break;
    case 1: /* a bad length */
        uscc[16] = '\0';
        validate_uscc(uscc, NULL, "uscc", &err);
        e->column = "uscc";
        snprintf(e->reason, sizeof(e->reason), "%s", err.msg);
        break;
    case 2:
        *type = "合伙企业";
        e->column = "type";
        snprintf(e->reason, sizeof(e->reason),
                 "must be one of enterprise, social, individual, public");
        break;
    default:
        *name = "";
        e->column = "name";
        snprintf(e->reason, sizeof(e->reason), "is required");
    }
}

static void write_file(const char *path)
{
    FILE *f = fopen(path, "w");
    long i;

    assert_non_null(f);
    fputs("uscc,name,type,legal_rep,industry,employees\n", f);
    for (i = 0; i < NROWS; i++) {
        char uscc[19];
        const char *type, *name;
        struct expect e;

        expect_for(i, uscc, &type, &name, &e);
        fprintf(f, "%s,%s,%s,张三,软件和信息技术服务业,%ld\n", uscc, name, type, i % 500);
    }
    assert_int_equal(fclose(f), 0);
}

static int run_file(const bd_import_entity *e, const char *path, const char *report,
                    bd_import_result *res, gr_err *err)
{
    csv_reader *r = NULL;
    FILE *rep = fopen(report, "w");
    int rc;

    assert_non_null(rep);
    rc = csv_open_file(&r, path, err);
    assert_int_equal(rc, 0);
    rc = bd_import_run(&ctx, e, r, &operator_, rep, res, err);
    csv_free(r);
    fclose(rep);
    return rc;
}

static int run_mem(const bd_import_entity *e, const char *text, FILE *rep, bd_import_result *res,
                   gr_err *err)
{
    csv_reader *r = csv_new_mem(text, strlen(text));
    int rc = bd_import_run(&ctx, e, r, &operator_, rep, res, err);

    csv_free(r);
    return rc;
}

/* Checks the report line by line against the generator. */
static void check_report(const char *report)
{
    csv_reader *r = NULL;
    gr_err err = {0};
    long i = 0, seen = 0;

    assert_int_equal(csv_open_file(&r, report, &err), 0);
    assert_int_equal(csv_next(r, &err), 1);
    assert_string_equal(csv_field(r, 0, NULL), "line");
    assert_string_equal(csv_field(r, 1, NULL), "column");
    assert_string_equal(csv_field(r, 2, NULL), "reason");
    while (csv_next(r, &err) == 1) {
        long line = atol(csv_field(r, 0, NULL));
        char uscc[19];
        const char *type, *name;
        struct expect e;

        /* The next bad row of the generator. */
        do {
            expect_for(i++, uscc, &type, &name, &e);
        } while (!e.column && i < NROWS);
        assert_non_null(e.column);
        assert_int_equal(line, i - 1 + 2); /* the header is line 1 */
        assert_string_equal(csv_field(r, 1, NULL), e.column);
        assert_string_equal(csv_field(r, 2, NULL), e.reason);
        seen++;
    }
    csv_free(r);
    assert_int_equal(seen, NROWS / BAD_EVERY);
}

static void test_import_100k(void **state)
{
    char path[128], report[128];
    bd_import_result res;
    gr_err err = {0};
    int64_t history;

    (void)state;
    snprintf(path, sizeof(path), "%s/orgs.csv", dir);
    snprintf(report, sizeof(report), "%s/report.csv", dir);
    write_file(path);

    assert_int_equal(run_file(&bd_import_orgs, path, report, &res, &err), 0);
    assert_int_equal(res.rows, NROWS);
    assert_int_equal(res.bad, NROWS / BAD_EVERY);
    assert_int_equal(res.stored, NROWS - NROWS / BAD_EVERY);
    assert_int_equal(res.unchanged, 0);
    assert_int_equal(gr_testdb_int(D, "SELECT count(*) FROM bd_orgs WHERE ?1 = ?1", 0),
                     NROWS - NROWS / BAD_EVERY);
    history =
        gr_testdb_int(D, "SELECT count(*) FROM bd_history WHERE entity = 'org' AND ?1 = ?1", 0);
    assert_int_equal(history, NROWS - NROWS / BAD_EVERY);
    check_report(report);
    /* Stored as the import says: imported, steward and chain from --steward,
     * the legal representative sealed with a masked hint. */
    assert_int_equal(gr_testdb_int(D,
                                   "SELECT count(*) FROM bd_orgs WHERE source = 'imported' AND "
                                   "steward_org_id = 3 AND community_id = 3 AND street_id = 2 "
                                   "AND legal_rep_hint = '张*' AND instr(legal_rep_enc, "
                                   "CAST('张三' AS BLOB)) = 0 AND ?1 = ?1",
                                   0),
                     NROWS - NROWS / BAD_EVERY);
    assert_int_equal(gr_testdb_int(D, "SELECT type = 'enterprise' FROM bd_orgs WHERE id = ?1", 1),
                     1);

    /* Again: nothing changes, no history row is added. */
    assert_int_equal(run_file(&bd_import_orgs, path, report, &res, &err), 0);
    assert_int_equal(res.rows, NROWS);
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.unchanged, NROWS - NROWS / BAD_EVERY);
    assert_int_equal(res.bad, NROWS / BAD_EVERY);
    assert_int_equal(
        gr_testdb_int(D, "SELECT count(*) FROM bd_history WHERE entity = 'org' AND ?1 = ?1", 0),
        history);
    assert_int_equal(gr_testdb_int(D, "SELECT max(version) FROM bd_orgs WHERE ?1 = ?1", 0), 1);
    check_report(report);
}

/* A row function that writes its organisation and then fails when the row
 * says so: the framework's SAVEPOINT must take the write back. */
static const char *const fail_columns[] = {"uscc", "name", "fail"};
static const char *const fail_required[] = {"uscc"};

static int fail_row(gr_ctx *cx, db_conn *c, const bd_actor *who, const bd_import_row *row,
                    const int *col, int *changed, gr_err *err)
{
    bd_unit_op op = {BD_UNIT_UPSERT, 0, 1, "imported"};
    json_t *in = json_pack("{s:s, s:s, s:s, s:s}", "uscc", bd_import_value(row, col, 0), "name",
                           bd_import_value(row, col, 1), "type", "enterprise", "legal_rep", "李四");
    const char *fail = bd_import_value(row, col, 2);
    int64_t id = 0;
    int rc = bd_unit_write(cx, c, &bd_unit_orgs, who, &op, in, &id, changed, err);

    json_decref(in);
    if (!rc && fail && strcmp(fail, "1") == 0)
        rc = err_set(err, GR_EINVAL, "fail", "asked to fail after writing");
    return rc;
}

static const bd_import_entity fail_entity = {"orgs-failing", fail_columns, 3, fail_required, 1,
                                             fail_row,       NULL};

static void test_row_never_half_written(void **state)
{
    char a[19], b[19], d[19], text[256];
    bd_import_result res;
    gr_err err = {0};
    char *rep = NULL;
    size_t replen = 0;
    FILE *f = open_memstream(&rep, &replen);

    (void)state;
    uscc_make(900001, a);
    uscc_make(900002, b);
    uscc_make(900004, d);
    /* Line 4 is refused before it writes (a straight run goes on past it);
     * line 3 fails after writing (the batch runs again in groups). */
    snprintf(text, sizeof(text),
             "uscc,name,fail\n%s,甲公司,0\n%s,乙公司,1\n91110000BADBADBAD0,丙公司,0\n%s,丁公司,0\n",
             a, b, d);
    assert_int_equal(run_mem(&fail_entity, text, f, &res, &err), 0);
    fclose(f);
    assert_int_equal(res.rows, 4);
    assert_int_equal(res.stored, 2);
    assert_int_equal(res.bad, 2);
    assert_non_null(strstr(rep, "3,fail,asked to fail after writing"));
    assert_non_null(strstr(rep, "\n4,uscc,"));
    assert_int_equal(
        gr_testdb_int(D, "SELECT count(*) FROM bd_orgs WHERE name = '丁公司' AND ?1", 1), 1);
    free(rep);
    /* Row 2 is there with its history; row 3 left nothing: no record, no history. */
    assert_int_equal(
        gr_testdb_int(D, "SELECT count(*) FROM bd_orgs WHERE name = '甲公司' AND ?1", 1), 1);
    assert_int_equal(
        gr_testdb_int(D, "SELECT count(*) FROM bd_orgs WHERE name = '乙公司' AND ?1", 1), 0);
    assert_int_equal(gr_testdb_int(D,
                                   "SELECT count(*) FROM bd_history WHERE entity = 'org' AND "
                                   "entity_id NOT IN (SELECT id FROM bd_orgs) AND ?1",
                                   1),
                     0);
}

/* People written and then failed: their area tallies are undone with them
 * (bd_tally_defer), whether the row failed in its group or alone. */
static const char *const fail_person_columns[] = {"id_number", "fail"};

static int fail_person_row(gr_ctx *cx, db_conn *c, const bd_actor *who, const bd_import_row *row,
                           const int *col, int *changed, gr_err *err)
{
    bd_person_input in;
    const char *fail = bd_import_value(row, col, 1);
    int64_t id = 0;
    int rc;

    memset(&in, 0, sizeof(in));
    in.name = "测试";
    in.id_number = bd_import_value(row, col, 0);
    in.residency = "registered";
    in.source = "imported";
    in.care_tags[0] = "disabled";
    in.ncare_tags = 1;
    rc = bd_person_write(cx, c, who, &in, &id, 0, changed, err);
    if (!rc && fail && strcmp(fail, "1") == 0)
        rc = err_set(err, GR_EINVAL, "fail", "asked to fail after writing");
    return rc;
}

static const bd_import_entity fail_person_entity = {
    "people-failing", fail_person_columns, 2, fail_person_columns, 1, fail_person_row, NULL};

static void test_failed_rows_leave_no_count(void **state)
{
    char a[19], b[19], c[19], text[256];
    const char *sql;
    bd_import_result res;
    gr_err err = {0};
    int k;

    (void)state;
    gr_test_id_number("11010519550505101", a);
    gr_test_id_number("11010519550505102", b);
    gr_test_id_number("11010519550505103", c);
    snprintf(text, sizeof(text), "id_number,fail\n%s,0\n%s,1\n%s,0\n", a, b, c);
    assert_int_equal(run_mem(&fail_person_entity, text, NULL, &res, &err), 0);
    assert_int_equal(res.stored, 2);
    assert_int_equal(res.bad, 1);
    assert_int_equal(gr_testdb_int(D,
                                   "SELECT count(*) FROM bd_tag_tally WHERE unit_id = ? AND tag = "
                                   "'disabled' AND n = 2",
                                   operator_.scope_org_id),
                     1);
    for (k = 0; (sql = gr_tally_check_sql(k)) != NULL; k++)
        assert_int_equal(gr_testdb_int(D, sql, 0), 0);
}

static void test_header_refused(void **state)
{
    bd_import_result res;
    gr_err err = {0};

    (void)state;
    assert_int_equal(run_mem(&bd_import_orgs, "uscc,name,type,colour\n", NULL, &res, &err),
                     GR_EINVAL);
    assert_string_equal(err.field, "file");
    assert_non_null(strstr(err.msg, "unknown column 'colour'"));
    assert_int_equal(run_mem(&bd_import_orgs, "uscc,name\n", NULL, &res, &err), GR_EINVAL);
    assert_non_null(strstr(err.msg, "lacks the required column type"));
    assert_int_equal(run_mem(&bd_import_orgs, "uscc,name,name,type\n", NULL, &res, &err),
                     GR_EINVAL);
    assert_non_null(strstr(err.msg, "'name' appears twice"));
    assert_int_equal(run_mem(&bd_import_orgs, "", NULL, &res, &err), GR_EINVAL);
    assert_non_null(strstr(err.msg, "empty"));
}

static void test_rows_and_syntax(void **state)
{
    char a[19], b[19], text[512];
    bd_import_result res;
    gr_err err = {0};
    char *rep = NULL;
    size_t replen = 0;
    FILE *f = open_memstream(&rep, &replen);

    (void)state;
    uscc_make(910001, a);
    uscc_make(910002, b);
    /* A legacy 15-digit number is accepted as such; a short row is bad; a
     * stray quote stops the file at its line, after what came before is stored. */
    snprintf(text, sizeof(text),
             "type,name,uscc\n"
             "enterprise,丙公司,%s\n"
             "social,丁协会\n"
             "public,戊局,110105000012345\n"
             "individual,己店,%s\"x\n"
             "enterprise,庚公司,%s\n",
             a, b, b);
    assert_int_equal(run_mem(&bd_import_orgs, text, f, &res, &err), GR_EINVAL);
    fclose(f);
    assert_int_equal(res.stored, 2);
    assert_int_equal(res.bad, 2);
    assert_non_null(strstr(rep, "3,,has 2 fields; the header has 3\n"));
    assert_non_null(strstr(rep, "5,,line 5:"));
    assert_non_null(strstr(err.msg, "line 5"));
    free(rep);
    assert_int_equal(gr_testdb_int(D,
                                   "SELECT uscc_legacy FROM bd_orgs WHERE uscc = "
                                   "'110105000012345' AND ?1",
                                   1),
                     1);
    assert_int_equal(
        gr_testdb_int(D, "SELECT count(*) FROM bd_orgs WHERE name = '庚公司' AND ?1", 1), 0);
}

/* Two rows a batch: each batch is read and prepared (people's fields
 * checked and sealed) while the one before is stored. Rows refused before
 * the write are reported in line order with the batches stored between
 * them; a later row with a known ID number updates that person. */
static void test_people_prepared_in_batches(void **state)
{
    char a[19], b[19], c[19], d[19], text[512];
    bd_import_result res;
    gr_err err = {0};
    char *rep = NULL;
    size_t replen = 0;
    FILE *f = open_memstream(&rep, &replen);
    csv_reader *r;
    const char *l3, *l4, *l7;
    int64_t id = 0;

    (void)state;
    gr_test_id_number("11010519800101301", a);
    gr_test_id_number("11010519800101302", b);
    gr_test_id_number("11010519800101303", c);
    gr_test_id_number("11010519800101304", d);
    b[17] = b[17] == '0' ? '1' : '0'; /* a wrong check digit */
    snprintf(text, sizeof(text),
             "name,id_number,residency\n"
             "甲,%s,registered\n"
             "乙,%s,registered\n"
             "丙,%s\n"
             "丁,%s,registered\n"
             "戊,%s,permanent\n"
             "己,%s,nomad\n",
             a, b, c, c, a, d);
    r = csv_new_mem(text, strlen(text));
    assert_int_equal(
        bd_import_run_batched(&ctx, &bd_import_people, r, &operator_, f, 2, &res, &err), 0);
    csv_free(r);
    fclose(f);
    assert_int_equal(res.rows, 6);
    assert_int_equal(res.stored, 3);
    assert_int_equal(res.bad, 3);
    l3 = strstr(rep, "\n3,id_number,");
    l4 = strstr(rep, "\n4,,has 2 fields; the header has 3\n");
    l7 = strstr(rep, "\n7,residency,");
    assert_non_null(l3);
    assert_non_null(l4);
    assert_non_null(l7);
    assert_true(l3 < l4 && l4 < l7);
    free(rep);
    /* 甲 and 戊 are one person (one ID number), now at version 2; 丁 is
     * there, the refused rows are not. */
    assert_int_equal(bd_person_find_id_number(&ctx, gr_testdb_reader(D), a, &id, &err), 0);
    assert_int_equal(gr_testdb_int(D, "SELECT version FROM bd_people WHERE id = ?1", id), 2);
    assert_int_equal(bd_person_find_id_number(&ctx, gr_testdb_reader(D), c, &id, &err), 0);
    /* 丁's history (the changes of a create are made in the reading thread,
     * the house and steward added by the write): each field once, sealed
     * ones masked. */
    assert_int_equal(
        gr_testdb_int(D,
                      "SELECT count(*) FROM bd_history WHERE entity = 'person' AND "
                      "entity_id = ?1 AND action = 'create' AND "
                      "json_extract(changes, '$.name') = json('[null, \"(encrypted)\"]') "
                      "AND json_extract(changes, '$.id_number[1]') = '(encrypted)' AND "
                      "json_extract(changes, '$.residency[1]') = 'registered' AND "
                      "json_extract(changes, '$.sex[1]') IS NOT NULL AND "
                      "json_extract(changes, '$.source[1]') = 'imported' AND "
                      "json_extract(changes, '$.steward_org_id[1]') = 3 AND "
                      "json_extract(changes, '$.care_tags[1]') = '' AND "
                      "(SELECT count(*) FROM json_each(changes)) = 8",
                      id),
        1);
    assert_int_equal(bd_person_find_id_number(&ctx, gr_testdb_reader(D), b, &id, &err),
                     GR_ENOTFOUND);
    assert_int_equal(bd_person_find_id_number(&ctx, gr_testdb_reader(D), d, &id, &err),
                     GR_ENOTFOUND);
    assert_int_equal(gr_testdb_int(D,
                                   "SELECT count(*) FROM bd_people WHERE residency = "
                                   "'permanent' AND version = 2 AND ?1",
                                   1),
                     1);
    assert_int_equal(gr_testdb_int(D,
                                   "SELECT count(*) FROM bd_history WHERE entity = 'person' AND "
                                   "action = 'update' AND changes LIKE '%%\"name\":[%%' AND ?1",
                                   1),
                     1);
}

static int setup(void **state)
{
    (void)state;
    gr_testdb_open(&D, dir, sizeof(dir), "basedata_import");
    gr_testdb_exec(D, "INSERT INTO org_units (id, code, name, kind, parent_id, path, source, "
                      "created_at, updated_at) VALUES "
                      "(1, '110105', '朝阳区', 'district', NULL, '/1/', 'manual', 0, 0), "
                      "(2, '110105001', '建外街道', 'street', 1, '/1/2/', 'manual', 0, 0), "
                      "(3, '110105001001', '一社区', 'community', 2, '/1/2/3/', 'manual', 0, 0)");
    memset(&ctx, 0, sizeof(ctx));
    ctx.db = D;
    assert_int_equal(crypto_init(NULL), 0);
    randombytes_buf(ctx.field_key, sizeof(ctx.field_key));
    randombytes_buf(ctx.index_key, sizeof(ctx.index_key));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    db_close(D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_100k),
        cmocka_unit_test(test_row_never_half_written),
        cmocka_unit_test(test_failed_rows_leave_no_count),
        cmocka_unit_test(test_header_refused),
        cmocka_unit_test(test_rows_and_syntax),
        cmocka_unit_test(test_people_prepared_in_batches),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
