/* base/csv: the RFC 4180 reader, its edge cases and its errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/csv.h"
#include "chunked_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long failing_read(void *arg, char *out, size_t n)
{
    (void)arg;
    (void)out;
    (void)n;
    return -1;
}

/* Renders every record as "line:f1|f2|...\n" (fields with their lengths
 * checked) or "ERR <code> <msg>" at the first error. */
static char *render(csv_reader *r)
{
    buf b = BUF_INIT;
    gr_err err = {0};
    int rc;

    while ((rc = csv_next(r, &err)) == 1) {
        buf_printf(&b, "%ld:", csv_line(r));
        for (size_t i = 0; i < csv_nfields(r); i++) {
            size_t len;
            const char *f = csv_field(r, i, &len);

            assert_int_equal(strlen(f), len);
            buf_printf(&b, "%s%s", i ? "|" : "", f);
        }
        buf_puts(&b, "\n");
    }
    if (rc < 0)
        buf_printf(&b, "ERR %d %s", rc, err.msg);
    buf_puts(&b, "");
    return buf_detach(&b);
}

/* Parses text from memory and through 1-, 2- and 7-byte reads: all must agree. */
static char *parse(const char *text, size_t len)
{
    csv_reader *r = csv_new_mem(text, len);
    char *want = render(r);
    static const size_t steps[] = {1, 2, 7};

    csv_free(r);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        gr_chunks s = {text, len, 0, steps[i]};
        char *got;

        r = csv_new_fn(gr_chunks_read, &s);
        got = render(r);
        assert_string_equal(got, want);
        free(got);
        csv_free(r);
    }
    return want;
}

static void check(const char *text, const char *expect)
{
    char *got = parse(text, strlen(text));

    assert_string_equal(got, expect);
    free(got);
}

static void test_plain(void **state)
{
    (void)state;
    check("a,b,c\n1,2,3\n", "1:a|b|c\n2:1|2|3\n");
    check("a,b,c", "1:a|b|c\n");   /* no final line break */
    check("a,,c,\n", "1:a||c|\n"); /* empty fields, trailing comma */
    check(",\n", "1:|\n");
    check("", "");
    check("x", "1:x\n");
    check(" a , b \n", "1: a | b \n"); /* spaces are data */
}

static void test_quotes(void **state)
{
    (void)state;
    check("\"a,b\",c\n", "1:a,b|c\n");
    check("\"he said \"\"hi\"\"\",x\n", "1:he said \"hi\"|x\n");
    check("\"\"\n", "1:\n");
    check("\"\",\"\"\n", "1:|\n");
    check("\"line1\nline2\",z\nnext,row\n", "1:line1\nline2|z\n3:next|row\n");
    check("\"a\r\nb\"\r\nc\r\n", "1:a\r\nb\n3:c\n");
    check("\"\"\"\"\n", "1:\"\n");
    check("x,\"y\"", "1:x|y\n");
    check("\"名称,含逗号\",北京\n", "1:名称,含逗号|北京\n");
}

static void test_line_endings(void **state)
{
    (void)state;
    check("a\r\nb\r\n", "1:a\n2:b\n");
    check("a\rb\rc", "1:a\n2:b\n3:c\n");
    check("a\n\n\nb\n", "1:a\n4:b\n"); /* blank lines skipped, lines still counted */
    check("\r\n\r\na\r\n", "3:a\n");
    check("a\n\r\nb", "1:a\n3:b\n");
}

static void test_bom(void **state)
{
    (void)state;
    check("\xEF\xBB\xBF"
          "code,name\n1,x\n",
          "1:code|name\n2:1|x\n");
    check("\xEF\xBB\xBF", "");
    check("\xEF\xBB\xBF\"q\"\n", "1:q\n");
    /* U+FEC0 starts with EF BB but is no byte order mark. */
    check("\xEF\xBB\x80,a\n", "1:\xEF\xBB\x80|a\n");
    /* A BOM later in the file is data. */
    check("a\n\xEF\xBB\xBF"
          "b\n",
          "1:a\n2:\xEF\xBB\xBF"
          "b\n");
}

static void check_error(const char *text, size_t len, int code, const char *prefix)
{
    char *got = parse(text, len);
    char want[128];

    snprintf(want, sizeof(want), "ERR %d %s", code, prefix);
    if (!strstr(got, want)) {
        fprintf(stderr, "got: %s\nwant: %s...\n", got, want);
        fail();
    }
    free(got);
}

static void test_errors(void **state)
{
    (void)state;
    check_error("a,b\nc,d\"e\n", 10, GR_EINVAL, "line 2: a quote inside the unquoted field 2");
    check_error("a\n\"x\"y,z\n", 9, GR_EINVAL, "line 2: unexpected character after the closing");
    check_error("a\nb\n\"open,\nmore\n", 16, GR_EINVAL,
                "line 3: the quoted field opened here is not closed");
    check_error("a\nb\0c\n", 6, GR_EINVAL, "line 2: NUL byte");
    check_error("\"a\0\"\n", 5, GR_EINVAL, "line 1: NUL byte");
    check_error("ok\n\xC3\x28\n", 5, GR_EINVAL, "line 2: invalid UTF-8");
    check_error("\xFF\n", 2, GR_EINVAL, "line 1: invalid UTF-8");
    /* Records before the error are still delivered. */
    {
        char *got = parse("a\nb\"\n", 5);

        assert_non_null(strstr(got, "1:a\nERR"));
        free(got);
    }
}

static void test_sticky_error(void **state)
{
    csv_reader *r = csv_new_mem("a\"b\nc\n", 6);
    gr_err err = {0};

    (void)state;
    assert_int_equal(csv_next(r, &err), GR_EINVAL);
    memset(&err, 0, sizeof(err));
    assert_int_equal(csv_next(r, &err), GR_EINVAL);
    assert_non_null(strstr(err.msg, "line 1"));
    csv_free(r);
}

static void test_limits(void **state)
{
    csv_reader *r;
    gr_err err = {0};

    (void)state;
    r = csv_new_mem("abcd,efgh\nabcdefghi\n", 20);
    csv_set_limits(r, 8, 0);
    assert_int_equal(csv_next(r, &err), 1); /* 8 bytes of data: at the limit */
    assert_int_equal(csv_next(r, &err), GR_ETOOBIG);
    assert_non_null(strstr(err.msg, "line 2"));
    csv_free(r);

    r = csv_new_mem("a,b,c\n", 6);
    csv_set_limits(r, 0, 2);
    assert_int_equal(csv_next(r, &err), GR_ETOOBIG);
    assert_non_null(strstr(err.msg, "more than 2 fields"));
    csv_free(r);

    /* Out-of-range fields read as empty. */
    r = csv_new_mem("a\n", 2);
    assert_int_equal(csv_next(r, &err), 1);
    assert_string_equal(csv_field(r, 5, NULL), "");
    csv_free(r);
}

static void test_read_error(void **state)
{
    csv_reader *r = csv_new_fn(failing_read, NULL);
    gr_err err = {0};

    (void)state;
    assert_int_equal(csv_next(r, &err), GR_EINTERNAL);
    assert_non_null(strstr(err.msg, "read error"));
    csv_free(r);
}

static void test_file(void **state)
{
    char path[] = "/tmp/gr-test-csv-XXXXXX";
    int fd = mkstemp(path);
    FILE *fp;
    csv_reader *r;
    gr_err err = {0};
    long n = 0;
    int rc;

    (void)state;
    assert_true(fd >= 0);
    fp = fdopen(fd, "w");
    fputs("\xEF\xBB\xBF"
          "code,name,parent\r\n",
          fp);
    for (int i = 0; i < 200000; i++)
        fprintf(fp, "%d,\"名称 %d, \"\"x\"\"\",%d\r\n", i, i, i / 10);
    fclose(fp);

    assert_int_equal(csv_open_file(&r, path, &err), 0);
    while ((rc = csv_next(r, &err)) == 1) {
        assert_int_equal(csv_nfields(r), 3);
        if (n > 0) {
            char want[64];

            snprintf(want, sizeof(want), "名称 %ld, \"x\"", n - 1);
            assert_string_equal(csv_field(r, 1, NULL), want);
            assert_int_equal(csv_line(r), n + 1);
        }
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 200001);
    csv_free(r);
    unlink(path);

    assert_int_equal(csv_open_file(&r, "/nonexistent/x.csv", &err), GR_ENOTFOUND);
    assert_null(r);
    assert_string_equal(err.field, "path");
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(csv_utf8_valid("", 0));
    assert_true(csv_utf8_valid("abc", 3));
    assert_true(csv_utf8_valid("朝阳区", strlen("朝阳区")));
    assert_true(csv_utf8_valid("\xF0\x9F\x98\x80", 4));  /* U+1F600 */
    assert_true(csv_utf8_valid("\xF4\x8F\xBF\xBF", 4));  /* U+10FFFF */
    assert_false(csv_utf8_valid("\xC0\xAF", 2));         /* overlong '/' */
    assert_false(csv_utf8_valid("\xE0\x80\xAF", 3));     /* overlong */
    assert_false(csv_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
    assert_false(csv_utf8_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(csv_utf8_valid("\xE6\x9C", 2));         /* truncated */
    assert_false(csv_utf8_valid("\x80", 1));             /* stray continuation */
}

/* The writer: quoting only where needed, quotes doubled, free text
 * defused against spreadsheet formulas; what it writes reads back. */
static void test_write(void **state)
{
    static const char *const values[] = {"plain", "a,b", "say \"hi\"", "two\nlines",   "", "=1+2",
                                         "-3",    "@x",  "+86",        "中文,\"引号\""};
    buf b = {0};
    csv_reader *r;
    gr_err err = {0};
    size_t i, len;

    (void)state;
    csv_field_to_buf(&b, "plain", 0);
    assert_string_equal(b.data, "plain");
    b.len = 0;
    csv_field_to_buf(&b, "say \"hi\", ok", 0);
    assert_string_equal(b.data, "\"say \"\"hi\"\", ok\"");
    b.len = 0;
    csv_field_to_buf(&b, "=HYPERLINK(\"x\")", 1);
    assert_string_equal(b.data, "\"'=HYPERLINK(\"\"x\"\")\"");
    b.len = 0;
    csv_field_to_buf(&b, "-3", 0);
    csv_field_to_buf(&b, NULL, 1);
    assert_string_equal(b.data, "-3");
    b.len = 0;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        if (i)
            buf_puts(&b, ",");
        csv_field_to_buf(&b, values[i], 0);
    }
    buf_puts(&b, "\r\n");
    r = csv_new_mem(b.data, b.len);
    assert_int_equal(csv_next(r, &err), 1);
    assert_int_equal(csv_nfields(r), sizeof(values) / sizeof(values[0]));
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        assert_string_equal(csv_field(r, i, &len), values[i]);
    csv_free(r);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_line_endings), cmocka_unit_test(test_bom),
        cmocka_unit_test(test_errors),       cmocka_unit_test(test_sticky_error),
        cmocka_unit_test(test_limits),       cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_file),         cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_write),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
