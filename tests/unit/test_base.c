/* base/: arena, buffers, JSON validation, time, metrics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/jsonv.h"
#include "base/metrics.h"
#include "base/names.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

static void test_arena(void **state)
{
    arena *a = arena_new();
    char *big, *s;
    int i;

    (void)state;
    for (i = 0; i < 10000; i++) {
        char *p = arena_alloc(a, 24);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 'x', 24);
    }
    big = arena_zalloc(a, 100000);
    assert_int_equal(big[99999], 0);
    s = arena_printf(a, "%s-%d", "grid", 42);
    assert_string_equal(s, "grid-42");
    assert_string_equal(arena_strndup(a, "abcdef", 3), "abc");
    arena_reset(a);
    assert_string_equal(arena_strdup(a, "after reset"), "after reset");
    arena_free(a);
}

static void test_buf(void **state)
{
    buf b = BUF_INIT;
    char *s;
    int i;

    (void)state;
    for (i = 0; i < 1000; i++)
        buf_printf(&b, "%d,", i);
    assert_int_equal(b.len, strlen(b.data));
    assert_memory_equal(b.data, "0,1,2,", 6);
    s = buf_detach(&b);
    assert_null(b.data);
    assert_int_equal(strlen(s), 3890);
    free(s);
}

/* Every byte from 1 to 127 and some UTF-8, as a JSON string literal: a
 * JSON parser reads back exactly the text, and nothing below 0x20 is left
 * raw in it. */
static void test_buf_json_string(void **state)
{
    char text[160];
    buf b = BUF_INIT;
    json_t *v;
    size_t i, n = 0;

    (void)state;
    for (i = 1; i < 128; i++)
        text[n++] = (char)i;
    snprintf(text + n, sizeof(text) - n, "%s", "路 \xe2\x80\xa8 ok");
    buf_put_json_string(&b, text);
    for (i = 0; i < b.len; i++)
        assert_true((unsigned char)b.data[i] >= 0x20);
    v = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    assert_string_equal(json_string_value(v), text);
    json_decref(v);
    buf_free(&b);
    buf_put_json_string(&b, "");
    assert_string_equal(b.data, "\"\"");
    buf_free(&b);
}

/* buf_put_int writes what printf's %lld does, the ends of the range too. */
static void test_buf_int(void **state)
{
    static const int64_t vs[] = {
        0,   1,          -1,        9,         10,        -10,           99,
        100, 1234567890, -98765432, INT64_MAX, INT64_MIN, INT64_MIN + 1, INT64_MAX - 1};
    char want[32];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
        buf b = BUF_INIT;

        buf_puts(&b, "x");
        buf_put_int(&b, vs[i]);
        snprintf(want, sizeof(want), "x%lld", (long long)vs[i]);
        assert_string_equal(b.data, want);
        assert_int_equal(b.len, strlen(want));
        buf_free(&b);
    }
}

static const jv_field user_fields[] = {
    {"username", JV_STRING, 1, 0, 3, 8},
    {"age", JV_INT, 0, 0, 0, 150},
    {"note", JV_STRING, 0, 1, 0, 0},
};

static int check(const char *text, gr_err *err)
{
    json_t *v = json_loads(text, JSON_ALLOW_NUL, NULL);
    int rc;

    assert_non_null(v);
    rc = jv_check(v, user_fields, 3, err);
    json_decref(v);
    return rc;
}

static void test_jsonv(void **state)
{
    gr_err err;

    (void)state;
    assert_int_equal(check("{\"username\":\"网格员一\"}", &err), 0);
    assert_int_equal(check("{\"username\":\"ab\"}", &err), GR_EINVAL);
    assert_string_equal(err.field, "username");
    assert_string_equal(err.msg, "must be at least 3 characters long");
    assert_int_equal(check("{\"username\":\"abcdefghi\"}", &err), GR_EINVAL);
    assert_string_equal(err.msg, "must be at most 8 characters long");
    assert_int_equal(check("{}", &err), GR_EINVAL);
    assert_string_equal(err.field, "username");
    assert_string_equal(err.msg, "is required");
    assert_int_equal(check("{\"username\":\"abc\",\"role\":\"admin\"}", &err), GR_EINVAL);
    assert_string_equal(err.field, "role");
    assert_string_equal(err.msg, "unknown field");
    assert_int_equal(check("{\"username\":\"abc\",\"age\":\"7\"}", &err), GR_EINVAL);
    assert_string_equal(err.field, "age");
    assert_string_equal(err.msg, "must be an integer");
    assert_int_equal(check("{\"username\":\"abc\",\"age\":151}", &err), GR_EINVAL);
    assert_int_equal(check("{\"username\":\"abc\",\"note\":null}", &err), 0);
    assert_int_equal(check("{\"username\":null}", &err), GR_EINVAL);
    assert_int_equal(check("[1]", &err), GR_EINVAL);
    assert_string_equal(err.msg, "the body must be a JSON object");
    assert_int_equal(check("{\"username\":\"a\\u0000bc\"}", &err), GR_EINVAL);
    assert_string_equal(err.msg, "must not contain NUL characters");
}

static void test_time(void **state)
{
    char text[40];
    int64_t ms;

    (void)state;
    time_format_iso(0, text, sizeof(text));
    assert_string_equal(text, "1970-01-01T00:00:00.000Z");
    time_format_iso(253402300799999LL, text, sizeof(text)); /* the last of year 9999 */
    assert_string_equal(text, "9999-12-31T23:59:59.999Z");
    time_format_iso(-1, text, sizeof(text));
    assert_string_equal(text, "1969-12-31T23:59:59.999Z");
    time_format_iso(253402300800000LL, text, sizeof(text)); /* five digits of year */
    assert_string_equal(text, "10000-01-01T00:00:00.000Z");
    time_format_iso(1000, text, 11); /* truncated, as snprintf does */
    assert_string_equal(text, "1970-01-01");
    assert_int_equal(time_parse_iso("2026-11-27T14:24:04.123Z", &ms), 0);
    time_format_iso(ms, text, sizeof(text));
    assert_string_equal(text, "2026-11-27T14:24:04.123Z");
    /* Asia/Shanghai offset: 08:00 there is midnight UTC. */
    assert_int_equal(time_parse_iso("2026-10-01", &ms), 0);
    assert_int_equal(ms % 86400000, 0);
    assert_int_equal(time_parse_iso("2026-10-01T08:00:00+08:00", &ms), 0);
    time_format_iso(ms, text, sizeof(text));
    assert_string_equal(text, "2026-10-01T00:00:00.000Z");
    assert_int_equal(time_parse_iso("2026-02-29", &ms), GR_EINVAL);
    assert_int_equal(time_parse_iso("2024-02-29", &ms), 0);
    assert_int_equal(time_parse_iso("2026-13-01", &ms), GR_EINVAL);
    assert_int_equal(time_parse_iso("2026-01-01T00:00:00", &ms), GR_EINVAL);
    assert_int_equal(time_parse_iso("2026-01-01Tjunk", &ms), GR_EINVAL);
    assert_int_equal(time_parse_iso("", &ms), GR_EINVAL);
}

static void test_metrics(void **state)
{
    static const double bounds[] = {1, 10};
    metrics_hist h;
    buf b = BUF_INIT;

    (void)state;
    metrics_hist_init(&h, bounds, 2);
    metrics_hist_observe(&h, 0.5);
    metrics_hist_observe(&h, 5);
    metrics_hist_observe(&h, 50);
    metrics_hist_render(&h, "x", "", &b);
    assert_non_null(strstr(b.data, "x_bucket{le=\"1\"} 1\n"));
    assert_non_null(strstr(b.data, "x_bucket{le=\"10\"} 2\n"));
    assert_non_null(strstr(b.data, "x_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(b.data, "x_count{} 3\n"));
    buf_free(&b);
}

static void test_names(void **state)
{
    static const char *const names[] = {"reported", "accepted", "closed"};

    (void)state;
    assert_int_equal(names_find(names, 3, "reported"), 0);
    assert_int_equal(names_find(names, 3, "closed"), 2);
    assert_int_equal(names_find(names, 3, "close"), -1);
    assert_int_equal(names_find(names, 2, "closed"), -1);
    assert_int_equal(names_find(names, 3, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena),           cmocka_unit_test(test_buf),
        cmocka_unit_test(test_buf_json_string), cmocka_unit_test(test_buf_int),
        cmocka_unit_test(test_jsonv),           cmocka_unit_test(test_time),
        cmocka_unit_test(test_metrics),         cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
