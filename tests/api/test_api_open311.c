/* Open311 GeoReport v2 (docs/open311.md), built from the spec's own examples
 * in both formats: discovery, services, the service definition, POST
 * requests (form, api_key, attributes, the spec's errors), GET requests with
 * each filter and the 90-day rule, GET one, tokens, servicerequestupdates,
 * and no reporter data in any answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORM     "application/x-www-form-urlencoded; charset=utf-8"
#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

static gr_client admin, anon, resident;
static char token[128], token_noscope[128];
static double glat, glon;  /* the centre of a demo grid */
static char code_api[32];  /* a public case reported through the normal API */
static char code_o311[32]; /* a case created through Open311 */
static char display_name[128];

static long get(const char *path, gr_resp *r)
{
    return gr_request(&anon, "GET", path, NULL, NULL, r);
}

static long post_form(const char *path, const char *form, gr_resp *r)
{
    return gr_request(&anon, "POST", path, FORM, form, r);
}

/* The spec's error list: status, one error whose code is status. */
static void assert_errors(const gr_resp *r, long status, int json)
{
    char ct[128];
    json_t *e;

    assert_int_equal(r->status, status);
    assert_non_null(gr_resp_header(r, "Content-Type", ct, sizeof(ct)));
    if (json) {
        assert_string_equal(ct, "application/json; charset=utf-8");
        assert_true(json_is_array(r->json));
        e = json_array_get(r->json, 0);
        assert_int_equal(json_integer_value(json_object_get(e, "code")), status);
        assert_true(strlen(gr_jstr(e, "description")) > 5);
    } else {
        char want[64];
        assert_string_equal(ct, "text/xml; charset=utf-8");
        assert_true(strncmp(r->body, XML_DECL, strlen(XML_DECL)) == 0);
        snprintf(want, sizeof(want), "<errors><error><code>%ld</code><description>", status);
        assert_non_null(strstr(r->body, want));
    }
}

static void assert_xml(const gr_resp *r, const char *root)
{
    char ct[128], open_tag[64];

    assert_int_equal(r->status, 200);
    assert_non_null(gr_resp_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "text/xml; charset=utf-8");
    assert_true(strncmp(r->body, XML_DECL, strlen(XML_DECL)) == 0);
    snprintf(open_tag, sizeof(open_tag), "<%s>", root);
    assert_non_null(strstr(r->body, open_tag));
}

static void make_token(const char *scopes, char *out, size_t len)
{
    char body[256];
    gr_resp r;

    snprintf(body, sizeof(body), "{\"name\":\"open311\",\"scopes\":%s,\"expires_in_days\":30}",
             scopes);
    assert_int_equal(gr_request(&admin, "POST", "/api/v1/tokens", NULL, body, &r), 201);
    snprintf(out, len, "%s", gr_jstr(r.json, "token"));
    gr_resp_free(&r);
}

static int setup(void **state)
{
    gr_resp r;
    json_t *c;
    int rc = gr_setup_demo(state);

    gr_login_demo(&admin, "admin");
    gr_login_demo(&resident, "resident");
    gr_client_init(&anon, &gr_srv);
    make_token("[\"case.report\"]", token, sizeof(token));
    make_token("[\"case.read\"]", token_noscope, sizeof(token_noscope));
    assert_int_equal(
        gr_request(&admin, "GET", "/api/v1/org/units?code=110105001024001", NULL, NULL, &r), 200);
    c = json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "centroid");
    glat = json_real_value(json_object_get(c, "lat"));
    glon = json_real_value(json_object_get(c, "lon"));
    gr_resp_free(&r);
    assert_int_equal(gr_request(&resident, "GET", "/api/v1/auth/me", NULL, NULL, &r), 200);
    snprintf(display_name, sizeof(display_name), "%s", gr_jstr(r.json, "display_name"));
    gr_resp_free(&r);
    return rc;
}

static int teardown(void **state)
{
    gr_client_free(&admin);
    gr_client_free(&resident);
    gr_client_free(&anon);
    return gr_teardown_server(state);
}

/* ---- discovery, services, definitions, tokens ---- */

static void test_discovery(void **state)
{
    gr_resp r;
    json_t *ep;

    (void)state;
    assert_int_equal(get("/open311/discovery.json", &r), 200);
    assert_true(json_is_object(r.json));
    assert_non_null(gr_jstr(r.json, "changeset"));
    assert_non_null(gr_jstr(r.json, "contact"));
    assert_non_null(gr_jstr(r.json, "key_service"));
    ep = json_array_get(json_object_get(r.json, "endpoints"), 0);
    assert_string_equal(gr_jstr(ep, "specification"), "http://wiki.open311.org/GeoReport_v2");
    assert_string_equal(gr_jstr(ep, "type"), "production");
    assert_non_null(strstr(gr_jstr(ep, "url"), "/open311/v2"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(ep, "formats"), 0)),
                        "text/xml");
    gr_resp_free(&r);
    get("/open311/v2/discovery.xml", &r);
    assert_xml(&r, "discovery");
    assert_non_null(strstr(r.body, "<endpoints><endpoint><specification>"));
    assert_non_null(strstr(r.body, "<formats><format>text/xml</format><format>application/json"
                                   "</format></formats>"));
    gr_resp_free(&r);
    get("/open311/index.html", &r);
    assert_errors(&r, 404, 0);
    gr_resp_free(&r);
    get("/open311/v2/nothing.json", &r);
    assert_errors(&r, 404, 1);
    gr_resp_free(&r);
}

static void test_services(void **state)
{
    gr_resp r;
    json_t *s, *found = NULL;
    size_t i;

    (void)state;
    assert_int_equal(get("/open311/v2/services.json", &r), 200);
    assert_true(json_array_size(r.json) >= 40);
    json_array_foreach(r.json, i, s)
    {
        /* Codes are strings; only leaves (minor classes, demand types) are offered. */
        assert_true(json_is_string(json_object_get(s, "service_code")));
        assert_true(strlen(gr_jstr(s, "service_code")) != 3 ||
                    gr_jstr(s, "service_code")[0] == 'D');
        if (strcmp(gr_jstr(s, "service_code"), "E0110") == 0)
            found = s;
    }
    assert_non_null(found);
    assert_string_equal(gr_jstr(found, "service_name"), "暴露垃圾");
    assert_true(json_is_true(json_object_get(found, "metadata")));
    assert_string_equal(gr_jstr(found, "type"), "realtime");
    assert_string_equal(gr_jstr(found, "keywords"), "event");
    assert_non_null(gr_jstr(found, "group"));
    assert_non_null(gr_jstr(found, "description"));
    gr_resp_free(&r);
    get("/open311/v2/services.xml", &r);
    assert_xml(&r, "services");
    assert_non_null(strstr(r.body, "<service><service_code>"));
    assert_non_null(strstr(r.body, "<service_code>E0110</service_code><service_name>暴露垃圾"
                                   "</service_name>"));
    assert_non_null(strstr(r.body, "<metadata>true</metadata><type>realtime</type>"));
    gr_resp_free(&r);
    /* An unknown format is the spec's "URL request is invalid". */
    get("/open311/v2/services.csv", &r);
    assert_errors(&r, 404, 0);
    gr_resp_free(&r);
}

static void test_service_definition(void **state)
{
    gr_resp r;
    json_t *attrs, *urgency;

    (void)state;
    assert_int_equal(get("/open311/v2/services/E0110.json", &r), 200);
    assert_string_equal(gr_jstr(r.json, "service_code"), "E0110");
    attrs = json_object_get(r.json, "attributes");
    assert_int_equal(json_array_size(attrs), 2);
    urgency = json_array_get(attrs, 0);
    assert_string_equal(gr_jstr(urgency, "code"), "urgency");
    assert_string_equal(gr_jstr(urgency, "datatype"), "singlevaluelist");
    assert_true(json_is_true(json_object_get(urgency, "variable")));
    assert_true(json_is_false(json_object_get(urgency, "required")));
    assert_int_equal(json_integer_value(json_object_get(urgency, "order")), 1);
    assert_string_equal(gr_jstr(json_array_get(json_object_get(urgency, "values"), 1), "key"),
                        "urgent");
    assert_string_equal(gr_jstr(json_array_get(attrs, 1), "datatype"), "string");
    gr_resp_free(&r);
    get("/open311/v2/services/E0110.xml", &r);
    assert_xml(&r, "service_definition");
    assert_non_null(strstr(r.body, "<service_definition><service_code>E0110</service_code>"
                                   "<attributes><attribute><variable>true</variable>"
                                   "<code>urgency</code>"));
    assert_non_null(strstr(r.body, "<values><value><key>normal</key><name>normal</name></value>"));
    gr_resp_free(&r);
    /* A major class is not a service; neither is an unknown code. */
    get("/open311/v2/services/E01.json", &r);
    assert_errors(&r, 404, 1);
    gr_resp_free(&r);
    get("/open311/v2/services/X9999.xml", &r);
    assert_errors(&r, 404, 0);
    gr_resp_free(&r);
    get("/open311/v2/services/E0110", &r);
    assert_errors(&r, 400, 0);
    gr_resp_free(&r);
}

static void test_tokens(void **state)
{
    gr_resp r;

    (void)state;
    get("/open311/v2/tokens/12345.json", &r);
    assert_errors(&r, 404, 1);
    assert_non_null(strstr(r.body, "realtime"));
    gr_resp_free(&r);
    get("/open311/v2/tokens/12345.xml", &r);
    assert_errors(&r, 404, 0);
    gr_resp_free(&r);
}

/* ---- POST requests ---- */

static void post_bad(const char *form, long status, const char *words)
{
    char body[1024];
    gr_resp r;

    snprintf(body, sizeof(body), "api_key=%s&%s", token, form);
    post_form("/open311/v2/requests.json", body, &r);
    assert_errors(&r, status, 1);
    if (words && !strstr(r.body, words))
        fail_msg("expected '%s' in %s", words, r.body);
    gr_resp_free(&r);
}

static void test_post_errors(void **state)
{
    char body[512];
    gr_resp r;

    (void)state;
    snprintf(body, sizeof(body), "service_code=E0110&lat=%.7f&long=%.7f&description=x", glat, glon);
    /* The spec's example: 403 for a missing or invalid api_key, in its error format. */
    post_form("/open311/v2/requests.json", body, &r);
    assert_errors(&r, 403, 1);
    gr_resp_free(&r);
    snprintf(body, sizeof(body), "api_key=grt_nope&service_code=E0110&lat=%.7f&long=%.7f", glat,
             glon);
    post_form("/open311/v2/requests.xml", body, &r);
    assert_errors(&r, 403, 0);
    assert_non_null(strstr(r.body, "Invalid api_key"));
    gr_resp_free(&r);
    snprintf(body, sizeof(body), "api_key=%s&service_code=E0110&lat=%.7f&long=%.7f", token_noscope,
             glat, glon);
    post_form("/open311/v2/requests.json", body, &r);
    assert_errors(&r, 403, 1);
    gr_resp_free(&r);
    /* Not a form. */
    gr_request(&anon, "POST", "/open311/v2/requests.json", NULL, "{\"service_code\":\"E0110\"}",
               &r);
    assert_errors(&r, 400, 1);
    gr_resp_free(&r);
    post_bad("lat=39.9&long=116.4", 400, "service_code");
    post_bad("service_code=X9999&lat=39.9&long=116.4", 404, "service_code");
    post_bad("service_code=E01&lat=39.9&long=116.4", 404, "service_code");
    post_bad("service_code=E0110&address_string=somewhere", 400, "lat");
    post_bad("service_code=E0110&lat=39.9", 400, "long");
    post_bad("service_code=E0110&lat=abc&long=116.4", 400, "lat");
    post_bad("service_code=E0110&lat=0&long=0", 400, "outside every grid");
    snprintf(body, sizeof(body), "service_code=E0110&lat=%.7f&long=%.7f&attribute[color]=red", glat,
             glon);
    post_bad(body, 400, "attribute[color]");
    snprintf(body, sizeof(body), "service_code=E0110&lat=%.7f&long=%.7f&attribute[urgency]=very",
             glat, glon);
    post_bad(body, 400, "attribute[urgency]");
    snprintf(body, sizeof(body), "service_code=E0110&lat=%.7f&long=%.7f&phone=12345", glat, glon);
    post_bad(body, 400, "phone");
    snprintf(body, sizeof(body), "service_code=E0110&service_code=E0110&lat=%.7f&long=%.7f", glat,
             glon);
    post_bad(body, 400, "more than once");
    /* Nothing of the above was written. */
    assert_int_equal(gr_sql_int(&gr_srv, "SELECT count(*) FROM cases WHERE channel = 'open311'"),
                     0);
}

static void test_post_create(void **state)
{
    char body[1024], sql[256];
    gr_resp r;
    json_t *q;

    (void)state;
    snprintf(body, sizeof(body),
             "api_key=%s&service_code=E0110&lat=%.7f&long=%.7f"
             "&description=Garbage+bags+on+the+pavement%%2C+near+the+gate"
             "&attribute%%5Burgency%%5D=urgent&attribute[landmark]=the+north+gate"
             "&first_name=Zhang&last_name=Sanfeng&email=zsf%%40example.org&phone=13900006543"
             "&device_id=dev1&jurisdiction_id=city.example",
             token, glat, glon);
    assert_int_equal(post_form("/open311/v2/requests.json", body, &r), 200);
    q = json_array_get(r.json, 0);
    assert_true(json_is_string(json_object_get(q, "service_request_id")));
    snprintf(code_o311, sizeof(code_o311), "%s", gr_jstr(q, "service_request_id"));
    assert_true(strncmp(code_o311, "GR", 2) == 0);
    assert_null(json_object_get(q, "token"));
    gr_resp_free(&r);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM cases WHERE public_code = '%s' AND channel = 'open311' AND "
             "urgent = 1 AND is_public = 1 AND description LIKE '%%Landmark: the north gate' "
             "AND contact_enc IS NOT NULL",
             code_o311);
    assert_int_equal(gr_sql_int(&gr_srv, sql), 1);
    /* The XML form of the answer. */
    snprintf(body, sizeof(body), "api_key=%s&service_code=E0110&lat=%.7f&long=%.7f", token, glat,
             glon);
    post_form("/open311/v2/requests.xml", body, &r);
    assert_xml(&r, "service_requests");
    assert_non_null(strstr(r.body, "<service_requests><request><service_request_id>GR"));
    gr_resp_free(&r);
    assert_int_equal(gr_sql_int(&gr_srv, "SELECT count(*) FROM cases WHERE channel = 'open311'"),
                     2);
}

/* ---- GET requests ---- */

static void report_api_case(void)
{
    char body[1024];
    gr_resp r;

    snprintf(body, sizeof(body),
             "{\"title\":\"井盖松动\",\"description\":\"路口井盖松动，车辆经过有响声\","
             "\"lat\":%.9f,\"lon\":%.9f,\"contact\":\"13912340987\",\"is_public\":true}",
             glat, glon);
    assert_int_equal(gr_request(&resident, "POST", "/api/v1/cases", NULL, body, &r), 201);
    snprintf(code_api, sizeof(code_api), "%s", gr_jstr(r.json, "public_code"));
    gr_resp_free(&r);
}

/* Whether a request list holds the request code. */
static int holds(const json_t *list, const char *code)
{
    const json_t *q;
    size_t i;

    json_array_foreach(list, i,
                       q) if (strcmp(gr_jstr(q, "service_request_id"), code) == 0) return 1;
    return 0;
}

static void test_get_one(void **state)
{
    char path[128];
    gr_resp r;
    json_t *q;

    (void)state;
    snprintf(path, sizeof(path), "/open311/v2/requests/%s.json", code_o311);
    assert_int_equal(get(path, &r), 200);
    assert_int_equal(json_array_size(r.json), 1);
    q = json_array_get(r.json, 0);
    assert_string_equal(gr_jstr(q, "service_request_id"), code_o311);
    assert_string_equal(gr_jstr(q, "status"), "open");
    assert_non_null(gr_jstr(q, "status_notes"));
    assert_string_equal(gr_jstr(q, "service_code"), "E0110");
    assert_string_equal(gr_jstr(q, "service_name"), "暴露垃圾");
    assert_non_null(strstr(gr_jstr(q, "description"), "Garbage bags"));
    assert_non_null(gr_jstr(q, "requested_datetime"));
    assert_non_null(gr_jstr(q, "updated_datetime"));
    assert_true(json_is_real(json_object_get(q, "lat")));
    assert_true(json_is_real(json_object_get(q, "long")));
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/open311/v2/requests/%s.xml", code_o311);
    get(path, &r);
    assert_xml(&r, "service_requests");
    assert_non_null(strstr(r.body, "<request><service_request_id>"));
    assert_non_null(strstr(r.body, "<status>open</status><status_notes>"));
    gr_resp_free(&r);
    get("/open311/v2/requests/GR000000000000.json", &r);
    assert_errors(&r, 404, 1);
    gr_resp_free(&r);
}

static void test_get_private_hidden(void **state)
{
    char body[512], path[128], code[32];
    gr_resp r;

    (void)state;
    snprintf(body, sizeof(body),
             "{\"title\":\"私密\",\"description\":\"不公开的诉求\",\"lat\":%.9f,\"lon\":%.9f}",
             glat, glon);
    assert_int_equal(gr_request(&resident, "POST", "/api/v1/cases", NULL, body, &r), 201);
    snprintf(code, sizeof(code), "%s", gr_jstr(r.json, "public_code"));
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/open311/v2/requests/%s.xml", code);
    get(path, &r);
    assert_errors(&r, 404, 0);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/open311/v2/requests.json?service_request_id=%s", code);
    assert_int_equal(get(path, &r), 200);
    assert_int_equal(json_array_size(r.json), 0);
    gr_resp_free(&r);
}

static void test_get_filters(void **state)
{
    char path[256];
    gr_resp r;
    json_t *q;
    size_t i;

    (void)state;
    report_api_case();
    /* The default: the last 90 days. */
    assert_int_equal(get("/open311/v2/requests.json", &r), 200);
    assert_true(holds(r.json, code_o311));
    assert_true(holds(r.json, code_api));
    gr_resp_free(&r);
    get("/open311/v2/requests.xml", &r);
    assert_xml(&r, "service_requests");
    gr_resp_free(&r);
    /* service_request_id overrides everything else. */
    snprintf(path, sizeof(path),
             "/open311/v2/requests.json?service_request_id=%s,%s&status=closed&service_code=C0101",
             code_o311, code_api);
    assert_int_equal(get(path, &r), 200);
    assert_int_equal(json_array_size(r.json), 2);
    gr_resp_free(&r);
    /* service_code, one or several. */
    assert_int_equal(get("/open311/v2/requests.json?service_code=E0110", &r), 200);
    assert_true(holds(r.json, code_o311));
    assert_false(holds(r.json, code_api));
    json_array_foreach(r.json, i, q) assert_string_equal(gr_jstr(q, "service_code"), "E0110");
    gr_resp_free(&r);
    assert_int_equal(get("/open311/v2/requests.json?service_code=E0110,C0101,D01", &r), 200);
    assert_true(holds(r.json, code_o311));
    gr_resp_free(&r);
    get("/open311/v2/requests.json?service_code=X9999", &r);
    assert_errors(&r, 404, 1);
    gr_resp_free(&r);
    /* status */
    assert_int_equal(get("/open311/v2/requests.json?status=closed", &r), 200);
    assert_false(holds(r.json, code_o311));
    json_array_foreach(r.json, i, q) assert_string_equal(gr_jstr(q, "status"), "closed");
    gr_resp_free(&r);
    assert_int_equal(get("/open311/v2/requests.json?status=open,closed", &r), 200);
    assert_true(holds(r.json, code_o311));
    gr_resp_free(&r);
    get("/open311/v2/requests.json?status=pending", &r);
    assert_errors(&r, 400, 1);
    gr_resp_free(&r);
    /* Empty arguments are absent ones. */
    assert_int_equal(get("/open311/v2/requests.json?status=&service_code=&start_date=", &r), 200);
    assert_true(holds(r.json, code_o311));
    gr_resp_free(&r);
    /* Dates: a window in the past holds nothing new; more than 90 days is a 400. */
    assert_int_equal(
        get("/open311/v2/"
            "requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-03-01T00:00:00Z",
            &r),
        200);
    assert_int_equal(json_array_size(r.json), 0);
    gr_resp_free(&r);
    get("/open311/v2/requests.xml?start_date=2020-01-01T00:00:00Z&end_date=2020-04-01T00:00:01Z",
        &r);
    assert_errors(&r, 400, 0);
    assert_non_null(strstr(r.body, "90 days"));
    gr_resp_free(&r);
    get("/open311/v2/requests.json?start_date=last+week", &r);
    assert_errors(&r, 400, 1);
    gr_resp_free(&r);
    assert_int_equal(get("/open311/v2/requests.json?start_date=2020-01-01T00:00:00%2B08:00", &r),
                     200);
    assert_int_equal(json_array_size(r.json), 0);
    gr_resp_free(&r);
    /* page and page_size. */
    assert_int_equal(get("/open311/v2/requests.json?page_size=1", &r), 200);
    assert_int_equal(json_array_size(r.json), 1);
    snprintf(path, sizeof(path), "%s", gr_jstr(json_array_get(r.json, 0), "service_request_id"));
    gr_resp_free(&r);
    assert_int_equal(get("/open311/v2/requests.json?page_size=1&page=2", &r), 200);
    assert_int_equal(json_array_size(r.json), 1);
    assert_string_not_equal(gr_jstr(json_array_get(r.json, 0), "service_request_id"), path);
    gr_resp_free(&r);
    get("/open311/v2/requests.json?page_size=1001", &r);
    assert_errors(&r, 400, 1);
    gr_resp_free(&r);
    /* FixMyStreet's extended statuses. */
    snprintf(path, sizeof(path), "/open311/v2/requests/%s.json?extensions=true", code_o311);
    assert_int_equal(get(path, &r), 200);
    assert_string_equal(gr_jstr(json_array_get(r.json, 0), "status"), "open");
    assert_non_null(gr_jstr(json_array_get(r.json, 0), "title"));
    gr_resp_free(&r);
}

/* ---- servicerequestupdates ---- */

static void test_updates(void **state)
{
    gr_resp r;
    json_t *u, *found = NULL;
    size_t i;

    (void)state;
    assert_int_equal(get("/open311/v2/servicerequestupdates.json", &r), 200);
    json_array_foreach(r.json, i, u)
    {
        assert_true(json_is_string(json_object_get(u, "update_id")));
        assert_true(json_is_string(json_object_get(u, "service_request_id")));
        if (strcmp(gr_jstr(u, "service_request_id"), code_o311) == 0)
            found = u;
    }
    assert_non_null(found);
    assert_string_equal(gr_jstr(found, "status"), "OPEN");
    assert_non_null(gr_jstr(found, "updated_datetime"));
    assert_non_null(gr_jstr(found, "description"));
    gr_resp_free(&r);
    get("/open311/v2/servicerequestupdates.xml?extensions=true", &r);
    assert_xml(&r, "service_request_updates");
    assert_non_null(strstr(r.body, "<request_update><update_id>"));
    gr_resp_free(&r);
    get("/open311/v2/servicerequestupdates.xml?start_date=2020-01-01T00:00:00Z"
        "&end_date=2020-06-01T00:00:00Z",
        &r);
    assert_errors(&r, 400, 0);
    gr_resp_free(&r);
}

/* ---- no personal data anywhere ---- */

static void assert_clean(const char *path)
{
    /* Full numbers, masked hints, the names and e-mail sent with a POST. */
    static const char *const secrets[] = {"13912340987", "13900006543", "****",    "Zhang",
                                          "Sanfeng",     "zsf@",        "contact", "reporter"};
    gr_resp r;
    size_t i;

    get(path, &r);
    assert_int_equal(r.status, 200);
    for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        if (strstr(r.body, secrets[i]))
            fail_msg("%s holds '%s': %s", path, secrets[i], r.body);
    if (display_name[0] && strstr(r.body, display_name))
        fail_msg("%s holds the reporter's name", path);
    gr_resp_free(&r);
}

static void test_no_personal_data(void **state)
{
    static const char *const fmts[] = {"json", "xml"};
    char path[256];
    size_t f;

    (void)state;
    if (!code_api[0])
        report_api_case();
    for (f = 0; f < 2; f++) {
        snprintf(path, sizeof(path), "/open311/v2/requests.%s", fmts[f]);
        assert_clean(path);
        snprintf(path, sizeof(path), "/open311/v2/requests.%s?extensions=true", fmts[f]);
        assert_clean(path);
        snprintf(path, sizeof(path), "/open311/v2/requests/%s.%s?extensions=true", code_api,
                 fmts[f]);
        assert_clean(path);
        snprintf(path, sizeof(path), "/open311/v2/requests/%s.%s", code_o311, fmts[f]);
        assert_clean(path);
        snprintf(path, sizeof(path), "/open311/v2/servicerequestupdates.%s?extensions=true",
                 fmts[f]);
        assert_clean(path);
        snprintf(path, sizeof(path), "/open311/v2/services.%s", fmts[f]);
        assert_clean(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_service_definition),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_post_errors),
        cmocka_unit_test(test_post_create),
        cmocka_unit_test(test_get_one),
        cmocka_unit_test(test_get_private_hidden),
        cmocka_unit_test(test_get_filters),
        cmocka_unit_test(test_updates),
        cmocka_unit_test(test_no_personal_data),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
