/* Data-sharing applications over HTTP on the demo: filing with its checks,
 * four eyes and scope on the decision, refusal needing a reason, and share
 * tokens limited to their fields, their area and their period, refused at
 * once when revoked, refused on every other route, and every read audited.
 * Credit codes are the public example of china_standards.md §4.2. */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#define APPS "/api/v1/share/applications"
#define USCC "91350100M000100Y43"

static int64_t community, district;
static double ilat, ilon, olat, olon;

/* A day in Asia/Shanghai, days from today, as YYYY-MM-DD. */
static const char *day(int days, char *out)
{
    time_t t = time(NULL) + 8 * 3600 + (time_t)days * 86400;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
    return out;
}

static int64_t apply(gr_client *c, const char *entity, const char *fields, int64_t area, int from,
                     int to)
{
    char body[1024], f[11], t[11];
    json_t *o;
    int64_t id;

    snprintf(body, sizeof(body),
             "{\"org_name\":\"某某研究院\",\"org_uscc\":\"%s\",\"entity\":\"%s\",\"fields\":%s,"
             "\"area_id\":%lld,\"purpose\":\"城市更新规划研究\",\"period_from\":\"%s\","
             "\"period_to\":\"%s\"}",
             USCC, entity, fields, (long long)area, day(from, f), day(to, t));
    o = gr_post(c, APPS, body, 201);
    assert_string_equal(gr_jstr(o, "state"), "pending");
    id = gr_jint(o, "id");
    json_decref(o);
    return id;
}

/* Approves app as c and copies the share token into tok. */
static void approve(gr_client *c, int64_t app, char *tok, size_t len)
{
    char path[128];
    json_t *o;

    snprintf(path, sizeof(path), APPS "/%lld/approve", (long long)app);
    o = gr_post(c, path, "{}", 200);
    assert_string_equal(gr_jstr(o, "state"), "approved");
    assert_non_null(gr_jstr(o, "token"));
    assert_int_equal(strncmp(gr_jstr(o, "token"), "grs_", 4), 0);
    snprintf(tok, len, "%s", gr_jstr(o, "token"));
    json_decref(o);
}

static void token_client(gr_client *c, const char *tok)
{
    gr_client_init(c, &gr_srv);
    snprintf(c->bearer, sizeof(c->bearer), "%s", tok);
}

/* Reads the first person through a new token of app (approved by c with
 * approve_body) and returns it (a new reference). */
static json_t *person_through(gr_client *c, int64_t app, const char *approve_body)
{
    char path[128];
    gr_client tc;
    gr_resp r;
    json_t *o, *p;

    snprintf(path, sizeof(path), APPS "/%lld/approve", (long long)app);
    o = gr_post(c, path, approve_body, 200);
    token_client(&tc, gr_jstr(o, "token"));
    json_decref(o);
    assert_int_equal(gr_get(&tc, "/api/v1/share/people", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    p = json_incref(json_array_get(json_object_get(r.json, "items"), 0));
    gr_resp_free(&r);
    gr_client_free(&tc);
    return p;
}

static void test_share_flow(void **state)
{
    gr_client admin, ds, s2, aud, tc, anon;
    int64_t bin, bout, app, app_d, app_future, app_past;
    char body[1024], path[256], tok[128], tok2[128], tok3[128], f[11], t[11];
    gr_resp r;
    json_t *o, *it;
    size_t i;
    int seen_in = 0, reads = 0;

    (void)state;
    community = gr_scope_of("community_worker");
    district = gr_scope_of("data_steward");
    gr_login_demo(&admin, "admin");
    gr_login_demo(&ds, "data_steward");
    gr_login_demo(&aud, "auditor");
    gr_grid_point(&ds, community, 1, &ilat, &ilon);
    gr_grid_point(&ds, community, 0, &olat, &olon);

    /* A second steward, of the community only. */
    snprintf(body, sizeof(body),
             "{\"username\":\"steward2\",\"display_name\":\"社区数据管理员\","
             "\"password\":\"share-steward-2026\",\"role\":\"data_steward\",\"scope_org_id\":%lld}",
             (long long)community);
    json_decref(gr_post(&admin, "/api/v1/users", body, 201));
    gr_client_init(&s2, &gr_srv);
    assert_int_equal(gr_login(&s2, "steward2", "share-steward-2026"), 200);

    snprintf(body, sizeof(body),
             "{\"district\":\"朝阳区\",\"street\":\"建外街道\",\"road\":\"建国路\","
             "\"house_number\":\"501号\",\"lat\":%.7f,\"lon\":%.7f,\"floors\":6,"
             "\"use\":\"residential\"}",
             ilat, ilon);
    o = gr_post(&ds, "/api/v1/basedata/buildings", body, 201);
    bin = gr_jint(o, "id");
    json_decref(o);
    snprintf(body, sizeof(body),
             "{\"district\":\"朝阳区\",\"street\":\"建外街道\",\"road\":\"建国路\","
             "\"house_number\":\"502号\",\"lat\":%.7f,\"lon\":%.7f,\"floors\":6,"
             "\"use\":\"office\"}",
             olat, olon);
    o = gr_post(&ds, "/api/v1/basedata/buildings", body, 201);
    bout = gr_jint(o, "id");
    json_decref(o);

    /* Filing: the checks name the field. */
    snprintf(body, sizeof(body),
             "{\"org_name\":\"某某研究院\",\"org_uscc\":\"%s\",\"entity\":\"buildings\","
             "\"fields\":[\"road\",\"owner_secret\"],\"area_id\":%lld,\"purpose\":\"研究\","
             "\"period_from\":\"%s\",\"period_to\":\"%s\"}",
             USCC, (long long)community, day(0, f), day(10, t));
    gr_expect_problem(&s2, "POST", APPS, body, 400, "fields");
    snprintf(body, sizeof(body),
             "{\"org_name\":\"某某研究院\",\"org_uscc\":\"91350100M000100Y44\","
             "\"entity\":\"buildings\",\"fields\":[\"road\"],\"area_id\":%lld,"
             "\"purpose\":\"研究\",\"period_from\":\"%s\",\"period_to\":\"%s\"}",
             (long long)community, day(0, f), day(10, t));
    gr_expect_problem(&s2, "POST", APPS, body, 400, "org_uscc");
    snprintf(body, sizeof(body),
             "{\"org_name\":\"某某研究院\",\"org_uscc\":\"%s\",\"entity\":\"people\","
             "\"fields\":[\"name\",\"sex\"],\"personal\":\"full\",\"area_id\":%lld,"
             "\"purpose\":\"研究\",\"period_from\":\"%s\",\"period_to\":\"%s\"}",
             USCC, (long long)community, day(0, f), day(10, t));
    gr_expect_problem(&s2, "POST", APPS, body, 400, "legal_basis");
    snprintf(body, sizeof(body),
             "{\"org_name\":\"某某研究院\",\"org_uscc\":\"%s\",\"entity\":\"buildings\","
             "\"fields\":[\"road\"],\"area_id\":%lld,\"purpose\":\"研究\","
             "\"period_from\":\"%s\",\"period_to\":\"%s\"}",
             USCC, (long long)community, day(0, f), day(400, t));
    gr_expect_problem(&s2, "POST", APPS, body, 400, "period_to");
    snprintf(body, sizeof(body),
             "{\"org_name\":\"某某研究院\",\"org_uscc\":\"%s\",\"entity\":\"buildings\","
             "\"fields\":[\"road\"],\"area_id\":%lld,\"period_from\":\"%s\","
             "\"period_to\":\"%s\"}",
             USCC, (long long)community, day(0, f), day(10, t));
    gr_expect_problem(&s2, "POST", APPS, body, 400, "purpose");
    /* The community steward cannot file for the whole district. */
    snprintf(body, sizeof(body),
             "{\"org_name\":\"某某研究院\",\"org_uscc\":\"%s\",\"entity\":\"buildings\","
             "\"fields\":[\"road\"],\"area_id\":%lld,\"purpose\":\"研究\","
             "\"period_from\":\"%s\",\"period_to\":\"%s\"}",
             USCC, (long long)district, day(0, f), day(10, t));
    gr_expect_problem(&s2, "POST", APPS, body, 403, "area_id");

    app = apply(&s2, "buildings", "[\"use\",\"road\"]", community, -1, 30);
    snprintf(path, sizeof(path), APPS "/%lld/approve", (long long)app);
    /* Four eyes: who filed cannot decide. */
    gr_expect_problem(&s2, "POST", path, "{}", 403, "id");
    /* A refusal needs a reason. */
    snprintf(path, sizeof(path), APPS "/%lld/refuse", (long long)app);
    gr_expect_problem(&ds, "POST", path, "{}", 400, "reason");
    gr_expect_problem(&ds, "POST", path, "{\"reason\":\"\"}", 400, "reason");
    /* A steward whose scope does not cover the area cannot approve. */
    app_d = apply(&ds, "buildings", "[\"road\"]", district, 0, 30);
    snprintf(path, sizeof(path), APPS "/%lld/approve", (long long)app_d);
    gr_expect_problem(&s2, "POST", path, "{}", 403, "area_id");
    snprintf(path, sizeof(path), APPS "/%lld/refuse", (long long)app_d);
    /* An admin does not decide (share.decide is the stewards'). */
    gr_expect_problem(&admin, "POST", path, "{\"reason\":\"x\"}", 403, NULL);
    gr_expect_problem(&s2, "POST", path, "{\"reason\":\"范围过大\"}", 403, "area_id");

    approve(&ds, app, tok, sizeof(tok));

    /* Reads: only the granted fields, only inside the area. */
    token_client(&tc, tok);
    assert_int_equal(gr_get(&tc, "/api/v1/share/buildings?limit=500", &r), 200);
    reads++;
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        const char *k;
        json_t *v;

        assert_int_not_equal(gr_jint(it, "id"), bout);
        if (gr_jint(it, "id") == bin) {
            seen_in = 1;
            assert_string_equal(gr_jstr(it, "road"), "建国路");
            assert_string_equal(gr_jstr(it, "use"), "residential");
        }
        json_object_foreach(it, k, v)
        {
            (void)v;
            if (strcmp(k, "id") != 0 && strcmp(k, "road") != 0 && strcmp(k, "use") != 0)
                fail_msg("an ungranted field was delivered: %s", k);
        }
    }
    assert_true(seen_in);
    gr_resp_free(&r);
    /* Keyset paging. */
    assert_int_equal(gr_get(&tc, "/api/v1/share/buildings?limit=1", &r), 200);
    reads++;
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    gr_resp_free(&r);
    /* Another entity than granted. */
    assert_int_equal(gr_get(&tc, "/api/v1/share/people", &r), 403);
    gr_assert_problem(&r, 403, "entity");
    gr_resp_free(&r);
    /* A share token is refused everywhere else. */
    assert_int_equal(gr_get(&tc, "/api/v1/basedata/buildings", &r), 401);
    gr_resp_free(&r);
    /* A signed-in user (no share token) is refused on the share route. */
    assert_int_equal(gr_get(&ds, "/api/v1/share/buildings", &r), 403);
    gr_resp_free(&r);
    /* A made-up share token. */
    token_client(&anon, "grs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_int_equal(gr_get(&anon, "/api/v1/share/buildings", &r), 401);
    gr_resp_free(&r);
    gr_client_free(&anon);

    /* Every read is in the audit log, with the application and the fields. */
    snprintf(path, sizeof(path), "/api/v1/audit?action=share.read&limit=100");
    assert_int_equal(gr_get(&aud, path, &r), 200);
    {
        int n = 0;

        json_array_foreach(json_object_get(r.json, "items"), i, it)
        {
            if (gr_jint(it, "entity_id") != app)
                continue;
            n++;
            assert_string_equal(gr_jstr(it, "entity"), "share_application");
            /* The fields delivered, in the allow-list's order. */
            assert_int_equal(json_array_size(json_object_get(it, "fields")), 2);
            assert_string_equal(json_string_value(json_array_get(json_object_get(it, "fields"), 0)),
                                "road");
            assert_string_equal(json_string_value(json_array_get(json_object_get(it, "fields"), 1)),
                                "use");
            assert_string_equal(gr_jstr(it, "actor_role"), "share_token");
            assert_int_equal(gr_jint(json_object_get(it, "detail"), "application_id"), app);
        }
        assert_int_equal(n, reads);
    }
    gr_resp_free(&r);

    /* Revoked: refused at once, with the reason. */
    snprintf(path, sizeof(path), APPS "/%lld/revoke", (long long)app);
    gr_expect_problem(&s2, "POST", path, "{}", 400, "reason");
    json_decref(gr_post(&s2, path, "{\"reason\":\"研究已结束\"}", 200));
    assert_int_equal(gr_get(&tc, "/api/v1/share/buildings", &r), 401);
    assert_non_null(strstr(r.body, "研究已结束"));
    gr_resp_free(&r);
    gr_client_free(&tc);

    /* The history of the application: apply, approve, revoke. */
    snprintf(path, sizeof(path), APPS "/%lld", (long long)app);
    assert_int_equal(gr_get(&aud, path, &r), 200);
    assert_string_equal(gr_jstr(r.json, "state"), "revoked");
    assert_null(json_object_get(r.json, "token"));
    assert_int_equal(json_array_size(json_object_get(r.json, "history")), 3);
    assert_string_equal(gr_jstr(json_array_get(json_object_get(r.json, "history"), 2), "reason"),
                        "研究已结束");
    gr_resp_free(&r);

    /* The period: before it begins and after it is over, refused. */
    app_future = apply(&s2, "buildings", "[\"road\"]", community, 5, 20);
    approve(&ds, app_future, tok2, sizeof(tok2));
    token_client(&tc, tok2);
    assert_int_equal(gr_get(&tc, "/api/v1/share/buildings", &r), 403);
    gr_assert_problem(&r, 403, "period");
    gr_resp_free(&r);
    gr_client_free(&tc);
    app_past = apply(&s2, "buildings", "[\"road\"]", community, 0, 5);
    approve(&ds, app_past, tok3, sizeof(tok3));
    snprintf(body, sizeof(body),
             "UPDATE bd_share_apps SET valid_from = 0, valid_until = 1000 WHERE id = %lld; "
             "SELECT changes();",
             (long long)app_past);
    assert_int_equal(gr_sql_int(&gr_srv, body), 1);
    token_client(&tc, tok3);
    assert_int_equal(gr_get(&tc, "/api/v1/share/buildings", &r), 403);
    gr_assert_problem(&r, 403, "period");
    gr_resp_free(&r);
    gr_client_free(&tc);

    /* Personal fields: masked unless asked in full with a legal basis and granted so. */
    {
        int64_t h, pm, pf;
        json_t *p;

        snprintf(body, sizeof(body),
                 "{\"building_id\":%lld,\"unit\":\"1单元\",\"floor\":2,\"room\":\"201\","
                 "\"area_m2\":75.5,\"ownership\":\"private\"}",
                 (long long)bin);
        o = gr_post(&ds, "/api/v1/basedata/houses", body, 201);
        h = gr_jint(o, "id");
        json_decref(o);
        snprintf(body, sizeof(body),
                 "{\"name\":\"张三\",\"id_number\":\"11010519491231002X\","
                 "\"phone\":\"13800138000\",\"residency\":\"registered\",\"house_id\":%lld}",
                 (long long)h);
        json_decref(gr_post(&ds, "/api/v1/basedata/people", body, 201));
        pm = apply(&s2, "people", "[\"name\",\"id_number\",\"sex\"]", community, 0, 30);
        /* Full values were not asked for: they cannot be granted. */
        snprintf(path, sizeof(path), APPS "/%lld/approve", (long long)pm);
        gr_expect_problem(&ds, "POST", path, "{\"personal\":\"full\"}", 400, "personal");
        p = person_through(&ds, pm, "{}");
        assert_string_equal(gr_jstr(p, "name"), "张*");
        assert_string_equal(gr_jstr(p, "id_number"), "110105********002X");
        assert_string_equal(gr_jstr(p, "sex"), "F");
        assert_null(json_object_get(p, "phone"));
        assert_null(json_object_get(p, "birth_date"));
        json_decref(p);
        snprintf(body, sizeof(body),
                 "{\"org_name\":\"某某研究院\",\"org_uscc\":\"%s\",\"entity\":\"people\","
                 "\"fields\":[\"name\"],\"personal\":\"full\","
                 "\"legal_basis\":\"《某某条例》第十条\",\"area_id\":%lld,"
                 "\"purpose\":\"核对\",\"period_from\":\"%s\",\"period_to\":\"%s\"}",
                 USCC, (long long)community, day(0, f), day(10, t));
        o = gr_post(&s2, APPS, body, 201);
        pf = gr_jint(o, "id");
        json_decref(o);
        p = person_through(&ds, pf, "{\"personal\":\"full\"}");
        assert_string_equal(gr_jstr(p, "name"), "张三");
        assert_int_equal(json_object_size(p), 2);
        json_decref(p);
    }

    /* Lists: the auditor sees them; the community steward only its area's. */
    assert_int_equal(gr_get(&s2, APPS "?limit=100", &r), 200);
    json_array_foreach(json_object_get(r.json, "items"), i, it)
        assert_int_not_equal(gr_jint(it, "id"), app_d);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&aud, APPS "?state=pending", &r), 200);
    assert_true(json_array_size(json_object_get(r.json, "items")) >= 1);
    gr_resp_free(&r);

    gr_client_free(&admin);
    gr_client_free(&ds);
    gr_client_free(&s2);
    gr_client_free(&aud);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share_flow),
    };

    return cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server);
}
