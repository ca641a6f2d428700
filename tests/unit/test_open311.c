/* open311/: the form parser, the XML writer (escaping, lists, nulls), the
 * status mapping and the date-window rules of GET requests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/arena.h"
#include "open311/open311_model.h"

#include <jansson.h>
#include <string.h>

#define DAY 86400000LL

static int form(arena *a, const char *text, o311_form *f, gr_err *e)
{
    return open311_form_parse(a, text, strlen(text), f, e);
}

static void test_form_pairs(void **state)
{
    arena *a = arena_new();
    o311_form f;
    gr_err e = {0};

    (void)state;
    assert_int_equal(form(a,
                          "api_key=grt_x&service_code=E0110&lat=39.9&long=116.4"
                          "&description=a+hole%20here%26there&attribute%5Burgency%5D=urgent"
                          "&attribute[tags][]=a&attribute[tags][]=b&&email=&flag",
                          &f, &e),
                     0);
    assert_int_equal(f.n, 10);
    assert_string_equal(open311_form_get(&f, "description"), "a hole here&there");
    assert_string_equal(open311_form_get(&f, "attribute[urgency]"), "urgent");
    assert_string_equal(f.fields[6].key, "attribute[tags][]");
    assert_string_equal(f.fields[7].value, "b");
    /* Empty counts as absent, as the spec says of optional arguments. */
    assert_null(open311_form_get(&f, "email"));
    assert_null(open311_form_get(&f, "flag"));
    assert_null(open311_form_get(&f, "phone"));
    assert_int_equal(form(a, "", &f, &e), 0);
    assert_int_equal(f.n, 0);
    arena_free(a);
}

static void test_form_rejects(void **state)
{
    arena *a = arena_new();
    buf big = BUF_INIT;
    o311_form f;
    gr_err e = {0};
    int i;

    (void)state;
    assert_int_equal(form(a, "lat=1&lat=2", &f, &e), GR_EINVAL);
    assert_string_equal(e.field, "lat");
    assert_int_equal(form(a, "description=%zz", &f, &e), GR_EINVAL);
    assert_string_equal(e.field, "description");
    assert_int_equal(form(a, "description=a%00b", &f, &e), GR_EINVAL);
    assert_int_equal(form(a, "description=%ff%fe", &f, &e), GR_EINVAL);
    assert_int_equal(form(a, "=value", &f, &e), GR_EINVAL);
    assert_int_equal(form(a, "a%2", &f, &e), GR_EINVAL);
    for (i = 0; i <= O311_FIELDS_MAX; i++)
        buf_printf(&big, "k[]=%d&", i);
    assert_int_equal(open311_form_parse(a, big.data, big.len, &f, &e), GR_EINVAL);
    buf_free(&big);
    arena_free(a);
}

static void test_xml_writer(void **state)
{
    buf b = BUF_INIT;
    json_t *v =
        json_pack("[{s:s, s:s, s:o, s:b, s:f, s:i, s:[{s:s}]}]", "service_code", "E0110",
                  "description", "<a href=\"x\">Tom & Jerry's</a>\x01\t", "group", json_null(),
                  "metadata", 1, "lat", 39.5, "order", 2, "values", "key", "k");

    (void)state;
    open311_xml_write(&b, "services", v);
    assert_string_equal(b.data,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<services><service><service_code>E0110</service_code>"
                        "<description>&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;"
                        "\t</description><metadata>true</metadata><lat>39.5</lat>"
                        "<order>2</order><values><value><key>k</key></value></values>"
                        "</service></services>\n");
    buf_free(&b);
    json_decref(v);
    v = json_array();
    open311_xml_write(&b, "service_requests", v);
    assert_non_null(strstr(b.data, "<service_requests></service_requests>"));
    buf_free(&b);
    json_decref(v);
}

static void test_status_mapping(void **state)
{
    int s;

    (void)state;
    assert_string_equal(open311_status(CS_REPORTED), "open");
    assert_string_equal(open311_status(CS_HANDLED), "open");
    assert_string_equal(open311_status(CS_VERIFIED), "open");
    assert_string_equal(open311_status(CS_CLOSED), "closed");
    assert_string_equal(open311_status(CS_REJECTED), "closed");
    assert_string_equal(open311_status(CS_CANCELLED), "closed");
    assert_string_equal(open311_status(CS_MERGED), "closed");
    assert_string_equal(open311_status_ext(CS_ACCEPTED), "investigating");
    assert_string_equal(open311_status_ext(CS_DISPATCHED), "action_scheduled");
    assert_string_equal(open311_status_ext(CS_SIGNED), "in_progress");
    assert_string_equal(open311_status_ext(CS_CLOSED), "fixed");
    assert_string_equal(open311_status_ext(CS_MERGED), "duplicate");
    assert_string_equal(open311_status_ext(CS_REJECTED), "not_councils_responsibility");
    assert_string_equal(open311_status_ext(CS_CANCELLED), "no_further_action");
    for (s = 0; s < CS_NSTATES; s++) {
        assert_non_null(open311_status_notes((case_state)s));
        assert_true(strlen(open311_status_notes((case_state)s)) > 3);
    }
}

static void test_window(void **state)
{
    int64_t now = 1798761600000LL, from = 0, to = 0; /* 2027-01-01T00:00:00Z */
    gr_err e = {0};

    (void)state;
    assert_int_equal(o311_window(NULL, NULL, now, &from, &to, &e), 0);
    assert_int_equal(to, now + 1);
    assert_int_equal(from, now - 90 * DAY);
    assert_int_equal(o311_window("2026-12-01T00:00:00Z", NULL, now, &from, &to, &e), 0);
    assert_int_equal(to - 1 - from, 90 * DAY);
    assert_int_equal(o311_window(NULL, "2026-12-01T08:00:00+08:00", now, &from, &to, &e), 0);
    assert_int_equal(to - 1, now - 31 * DAY);
    assert_int_equal(
        o311_window("2026-09-01T00:00:00Z", "2026-11-30T00:00:00Z", now, &from, &to, &e), 0);
    assert_int_equal(
        o311_window("2026-09-01T00:00:00Z", "2026-11-30T00:00:01Z", now, &from, &to, &e),
        GR_EINVAL);
    assert_string_equal(e.field, "end_date");
    assert_int_equal(
        o311_window("2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z", now, &from, &to, &e),
        GR_EINVAL);
    assert_int_equal(o311_window("yesterday", NULL, now, &from, &to, &e), GR_EINVAL);
    assert_string_equal(e.field, "start_date");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_pairs), cmocka_unit_test(test_form_rejects),
        cmocka_unit_test(test_xml_writer), cmocka_unit_test(test_status_mapping),
        cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
