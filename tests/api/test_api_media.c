/* Media over HTTP against the demo: raw uploads of each type with the
 * metadata gone from what is served, forged and unknown types (415), broken
 * files (400), the size limits (413) with nothing stored, deduplication by
 * content, the read rule (404 for whoever may not see a private medium), the
 * headers of a served file and ETag revalidation. Links to owners are made in
 * the database itself (the cases module makes them through media_link). */
#include "harness.h"
#include "media_samples.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MIB (1024 * 1024)

/* ---- helpers ---- */

static long upload(gr_client *c, const char *type, const void *p, size_t n, gr_resp *r)
{
    return gr_request_bin(c, "POST", "/api/v1/media", type, p, n, r);
}

/* Uploads and expects 201; returns the new id (and its sha256 in sha). */
static int64_t upload_ok(gr_client *c, const char *type, const void *p, size_t n, char sha[65])
{
    gr_resp r;
    int64_t id;
    char loc[128], url[128];

    if (upload(c, type, p, n, &r) != 201)
        fail_msg("upload of %s: %ld %s", type, r.status, r.body);
    id = (int64_t)json_integer_value(json_object_get(r.json, "id"));
    assert_true(id > 0);
    assert_int_equal(
        strncmp(json_string_value(json_object_get(r.json, "type")), type, strcspn(type, ";")), 0);
    snprintf(url, sizeof(url), "/api/v1/media/%lld", (long long)id);
    assert_string_equal(json_string_value(json_object_get(r.json, "url")), url);
    assert_non_null(gr_resp_header(&r, "Location", loc, sizeof(loc)));
    assert_string_equal(loc, url);
    if (sha)
        snprintf(sha, 65, "%s", json_string_value(json_object_get(r.json, "sha256")));
    gr_resp_free(&r);
    return id;
}

static void sha_hex(const void *p, size_t n, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, p, n);
    sodium_bin2hex(out, 65, h, sizeof(h));
}

static int nfiles;

static int count_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)path;
    (void)sb;
    (void)ftw;
    if (flag == FTW_F)
        nfiles++;
    return 0;
}

/* Files under DATA/media, temporary ones included: a refused upload leaves none. */
static int media_files(void)
{
    char path[512];

    nfiles = 0;
    snprintf(path, sizeof(path), "%s/media", gr_srv.dir);
    nftw(path, count_file, 8, FTW_PHYS);
    return nfiles;
}

/* What a refused upload must leave as it was. */
static int64_t state_print(void)
{
    return gr_sql_int(&gr_srv, "SELECT count(*) FROM media") * 100000 + media_files();
}

static void expect_refused(gr_client *c, const char *type, const void *p, size_t n, long status,
                           const char *field, const char *words)
{
    int64_t before = state_print();
    gr_resp r;

    upload(c, type, p, n, &r);
    gr_assert_problem(&r, status, field);
    if (words && !strstr(r.body, words))
        fail_msg("expected '%s' in %s", words, r.body);
    gr_resp_free(&r);
    assert_int_equal(state_print(), before);
}

/* ---- uploads ---- */

static void test_upload_each_type(void **state)
{
    gr_bytes in, want, m;
    gr_client res, anon;
    gr_resp r;
    char sha[65], path[96], h[256];
    int64_t id;

    (void)state;
    gr_login_demo(&res, "resident");
    gr_client_init(&anon, &gr_srv);

    /* A JPEG full of metadata: what is stored and served is the stripped file. */
    gr_jpeg_sample(&in, &want);
    id = upload_ok(&res, "image/jpeg", in.d, in.n, sha);
    snprintf(path, sizeof(path), "/api/v1/media/%lld", (long long)id);
    assert_int_equal(gr_get(&res, path, &r), 200);
    assert_int_equal(r.body_len, want.n);
    assert_memory_equal(r.body, want.d, want.n);
    assert_null(memmem(r.body, r.body_len, "Exif", 4));
    sha_hex(want.d, want.n, path);
    assert_string_equal(sha, path);
    assert_string_equal(gr_resp_header(&r, "Content-Type", h, sizeof(h)), "image/jpeg");
    assert_string_equal(gr_resp_header(&r, "X-Content-Type-Options", h, sizeof(h)), "nosniff");
    assert_string_equal(gr_resp_header(&r, "Cache-Control", h, sizeof(h)),
                        "private, max-age=86400");
    gr_resp_free(&r);

    /* The others; an anonymous upload is fine too (anonymous reporting). */
    gr_png_sample(&in, &want);
    upload_ok(&anon, "image/png", in.d, in.n, sha);
    sha_hex(want.d, want.n, path);
    assert_string_equal(sha, path);
    gr_webp_sample(&in, &want);
    upload_ok(&res, "image/webp; name=x.webp", in.d, in.n, NULL);
    gr_mp4_sample(&m, "isom");
    id = upload_ok(&res, "video/mp4", m.d, m.n, NULL);
    snprintf(path, sizeof(path), "/api/v1/media/%lld", (long long)id);
    assert_int_equal(gr_get(&res, path, &r), 200);
    assert_int_equal(r.body_len, m.n);
    assert_memory_equal(r.body, m.d, m.n); /* videos are stored as they are */
    assert_string_equal(gr_resp_header(&r, "Content-Type", h, sizeof(h)), "video/mp4");
    gr_resp_free(&r);
    gr_client_free(&res);
    gr_client_free(&anon);
}

static void test_bad_uploads(void **state)
{
    gr_bytes in, want, m;
    gr_client res;
    gr_resp r;
    static const char html[] = "<!DOCTYPE html><html><script>alert(document.cookie)</script>";
    static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>x()</script>";

    (void)state;
    gr_login_demo(&res, "resident");
    gr_jpeg_sample(&in, &want);
    gr_png_sample(&m, &want);

    /* The declared type must agree with the bytes. */
    expect_refused(&res, "image/jpeg", m.d, m.n, 415, "Content-Type",
                   "declared image/jpeg but the content is a PNG");
    expect_refused(&res, "image/png", in.d, in.n, 415, "Content-Type",
                   "declared image/png but the content is a JPEG");
    expect_refused(&res, "image/png", html, sizeof(html) - 1, 415, "Content-Type",
                   "not a JPEG, PNG, WebP or MP4");
    expect_refused(&res, "image/png", svg, sizeof(svg) - 1, 415, "Content-Type",
                   "not a JPEG, PNG, WebP or MP4");
    /* Types not stored here at all. */
    expect_refused(&res, "image/svg+xml", svg, sizeof(svg) - 1, 415, "Content-Type",
                   "image/jpeg, image/png, image/webp or video/mp4");
    expect_refused(&res, "text/html", html, sizeof(html) - 1, 415, "Content-Type", NULL);
    expect_refused(&res, "image/gif", "GIF89a\1\0\1\0", 10, 415, "Content-Type", NULL);
    expect_refused(&res, NULL, in.d, in.n, 415, "Content-Type", NULL);
    /* Broken files of the right type. */
    expect_refused(&res, "image/jpeg", in.d, in.n / 2, 400, "file", "truncated");
    expect_refused(&res, "image/png", m.d, 60, 400, "file", "truncated");
    gr_mp4_sample(&m, "qt  ");
    expect_refused(&res, "video/mp4", m.d, m.n, 400, "file", "brand");
    expect_refused(&res, "image/jpeg", "", 0, 400, "file", "empty");

    /* A cookie session without its CSRF token may not upload. */
    res.csrf[0] = '\0';
    upload(&res, "image/jpeg", in.d, in.n, &r);
    gr_assert_problem(&r, 403, "X-CSRF-Token");
    gr_resp_free(&r);
    gr_client_free(&res);
}

/* A JPEG of exactly n bytes: the sample (stripped) with comments filling it up. */
static uint8_t *jpeg_of_size(size_t n)
{
    gr_bytes in, want;
    uint8_t *p = malloc(n);
    size_t at = 2, fill, len;

    assert_non_null(p);
    gr_jpeg_sample(&in, &want);
    memcpy(p, want.d, 2);
    for (fill = n - want.n; fill > 0; fill -= len, at += len) {
        /* A COM segment is 4 to 65537 bytes long: leave no remainder under 4. */
        len = fill > 65537 ? 65537 : fill;
        if (fill - len > 0 && fill - len < 4)
            len -= 4;
        p[at] = 0xFF;
        p[at + 1] = 0xFE;
        p[at + 2] = (uint8_t)((len - 2) >> 8);
        p[at + 3] = (uint8_t)(len - 2);
        memset(p + at + 4, 'x', len - 4);
    }
    memcpy(p + at, want.d + 2, want.n - 2);
    return p;
}

static void test_size_limits(void **state)
{
    gr_client res;
    gr_resp r;
    gr_bytes m;
    uint8_t *big = jpeg_of_size(10 * MIB), *over = jpeg_of_size(10 * MIB + 1);
    uint8_t *video = calloc(1, 50 * MIB + 1);

    (void)state;
    gr_login_demo(&res, "resident");
    /* Exactly the limit is fine (and the comments are stripped). */
    assert_int_equal(upload(&res, "image/jpeg", big, 10 * MIB, &r), 201);
    assert_true(json_integer_value(json_object_get(r.json, "size")) < 1024);
    gr_resp_free(&r);
    expect_refused(&res, "image/jpeg", over, 10 * MIB + 1, 413, "file", "10 MiB");
    /* Without a Content-Length (chunked), the limit holds as the bytes come. */
    snprintf(res.extra, sizeof(res.extra), "Transfer-Encoding: chunked");
    expect_refused(&res, "image/jpeg", over, 10 * MIB + 1, 413, "file", "10 MiB");
    assert_int_equal(upload(&res, "image/jpeg", big, 10 * MIB, &r), 201);
    gr_resp_free(&r);
    res.extra[0] = '\0';
    /* Videos: 50 MiB. */
    gr_mp4_sample(&m, "isom");
    memcpy(video, m.d, m.n);
    expect_refused(&res, "video/mp4", video, 50 * MIB + 1, 413, "file", "50 MiB");
    free(big);
    free(over);
    free(video);
    gr_client_free(&res);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A client that asks before sending the body (Expect: 100-continue) is told
 * to go on: it waits a minute for that here, so an answer within seconds
 * means the server said so. */
static void test_expect_continue(void **state)
{
    gr_client res;
    gr_resp r;
    uint8_t *p = jpeg_of_size(2 * MIB);
    double t0;

    (void)state;
    gr_login_demo(&res, "resident");
    curl_easy_setopt(res.curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 60000L);
    snprintf(res.extra, sizeof(res.extra), "Expect: 100-continue");
    t0 = now_s();
    assert_int_equal(upload(&res, "image/jpeg", p, 2 * MIB, &r), 201);
    gr_resp_free(&r);
    assert_true(now_s() - t0 < 30);
    /* A refusal on the headers alone comes before any go-ahead. */
    t0 = now_s();
    assert_int_equal(upload(&res, "image/svg+xml", p, 2 * MIB, &r), 415);
    gr_resp_free(&r);
    assert_true(now_s() - t0 < 30);
    free(p);
    gr_client_free(&res);
}

static void test_dedup(void **state)
{
    gr_bytes in, want;
    gr_client res, anon;
    char sha1[65], sha2[65];
    int64_t a, b;
    int files;

    (void)state;
    gr_login_demo(&res, "resident");
    gr_client_init(&anon, &gr_srv);
    gr_webp_sample(&in, &want);
    a = upload_ok(&res, "image/webp", in.d, in.n, sha1);
    files = media_files();
    /* The same picture without its metadata, by someone else: its own row, the same file. */
    b = upload_ok(&anon, "image/webp", want.d, want.n, sha2);
    assert_true(b != a);
    assert_string_equal(sha1, sha2);
    assert_int_equal(media_files(), files);
    gr_client_free(&res);
    gr_client_free(&anon);
}

/* ---- reading ---- */

static long status_of(gr_client *c, int64_t id)
{
    char path[64];
    gr_resp r;
    long st;

    snprintf(path, sizeof(path), "/api/v1/media/%lld", (long long)id);
    st = gr_get(c, path, &r);
    if (st == 404)
        gr_assert_problem(&r, 404, "id");
    gr_resp_free(&r);
    return st;
}

/* The id of the org unit with code (the demo's 朝阳区 tree). */
static int64_t unit_id(const char *code)
{
    char sql[128];
    int64_t id;

    snprintf(sql, sizeof(sql), "SELECT id FROM org_units WHERE code = '%s'", code);
    id = gr_sql_int(&gr_srv, sql);
    assert_true(id > 0);
    return id;
}

static void link_to(int64_t id, int64_t scope, int pub)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "UPDATE media SET owner_kind = 'case', owner_id = %lld, scope_org_id = %lld, "
             "is_public = %d WHERE id = %lld",
             (long long)id, (long long)scope, pub, (long long)id);
    gr_sql_int(&gr_srv, sql);
}

static void test_read_rule(void **state)
{
    gr_bytes in, want;
    gr_client res, anon, admin, acceptor, cw;
    gr_resp r;
    char path[64], h[128];
    int64_t mine, theirs, street;

    (void)state;
    gr_login_demo(&res, "resident");
    gr_login_demo(&admin, "admin");
    gr_login_demo(&acceptor, "acceptor");
    gr_login_demo(&cw, "community_worker");
    gr_client_init(&anon, &gr_srv);
    gr_png_sample(&in, &want);
    mine = upload_ok(&res, "image/png", in.d, in.n, NULL);
    theirs = upload_ok(&anon, "image/png", in.d, in.n, NULL);

    /* Unlinked: the uploader only; an anonymous upload: nobody. */
    assert_int_equal(status_of(&res, mine), 200);
    assert_int_equal(status_of(&anon, mine), 404);
    assert_int_equal(status_of(&admin, mine), 404);
    assert_int_equal(status_of(&anon, theirs), 404);
    assert_int_equal(status_of(&res, theirs), 404);
    assert_int_equal(status_of(&admin, theirs), 404);
    assert_int_equal(status_of(&res, 99999999), 404);

    /* Private, linked to a street (朝阳区 110105001): staff whose scope covers it. */
    street = unit_id("110105001");
    link_to(mine, street, 0);
    link_to(theirs, street, 0);
    assert_int_equal(status_of(&acceptor, mine), 200); /* the district */
    assert_int_equal(status_of(&admin, theirs), 200);
    assert_int_equal(status_of(&cw, mine), 404); /* a community below the street */
    assert_int_equal(status_of(&res, theirs), 404);
    assert_int_equal(status_of(&anon, theirs), 404);
    assert_int_equal(status_of(&res, mine), 200); /* the uploader */
    /* Linked to the community worker's own community. */
    link_to(theirs, unit_id("110105001024"), 0);
    assert_int_equal(status_of(&cw, theirs), 200);

    /* Public: anyone, and shared caches may keep it. */
    link_to(theirs, street, 1);
    snprintf(path, sizeof(path), "/api/v1/media/%lld", (long long)theirs);
    assert_int_equal(gr_get(&anon, path, &r), 200);
    assert_int_equal(r.body_len, want.n);
    assert_memory_equal(r.body, want.d, want.n);
    assert_string_equal(gr_resp_header(&r, "Cache-Control", h, sizeof(h)), "public, max-age=86400");
    gr_resp_free(&r);
    gr_client_free(&res);
    gr_client_free(&anon);
    gr_client_free(&admin);
    gr_client_free(&acceptor);
    gr_client_free(&cw);
}

static void test_etag(void **state)
{
    gr_bytes in, want;
    gr_client res;
    gr_resp r;
    char sha[65], path[64], h[128];
    int64_t id;

    (void)state;
    gr_login_demo(&res, "resident");
    gr_jpeg_sample(&in, &want);
    id = upload_ok(&res, "image/jpeg", in.d, in.n, sha);
    snprintf(path, sizeof(path), "/api/v1/media/%lld", (long long)id);
    assert_int_equal(gr_get(&res, path, &r), 200);
    assert_non_null(gr_resp_header(&r, "ETag", h, sizeof(h)));
    assert_true(strlen(h) == 66 && h[0] == '"' && strncmp(h + 1, sha, 64) == 0);
    gr_resp_free(&r);

    /* Revalidation: 304 without a body for the same tag (weak or strong, or in a list). */
    snprintf(res.extra, sizeof(res.extra), "If-None-Match: \"%s\"", sha);
    assert_int_equal(gr_get(&res, path, &r), 304);
    assert_int_equal(r.body_len, 0);
    assert_non_null(gr_resp_header(&r, "ETag", h, sizeof(h)));
    assert_string_equal(gr_resp_header(&r, "Cache-Control", h, sizeof(h)),
                        "private, max-age=86400");
    gr_resp_free(&r);
    snprintf(res.extra, sizeof(res.extra), "If-None-Match: \"abc\", W/\"%s\"", sha);
    assert_int_equal(gr_get(&res, path, &r), 304);
    gr_resp_free(&r);
    snprintf(res.extra, sizeof(res.extra), "If-None-Match: \"%.63s%c\"", sha,
             sha[63] == '0' ? '1' : '0');
    assert_int_equal(gr_get(&res, path, &r), 200);
    assert_int_equal(r.body_len, want.n);
    gr_resp_free(&r);
    res.extra[0] = '\0';
    /* HEAD: the headers, no body. */
    assert_int_equal(gr_request(&res, "HEAD", path, NULL, NULL, &r), 200);
    assert_int_equal(r.body_len, 0);
    assert_int_equal(atoi(gr_resp_header(&r, "Content-Length", h, sizeof(h))), (int)want.n);
    gr_resp_free(&r);
    /* Someone who may not read it learns nothing from a tag either. */
    gr_client_free(&res);
    gr_client_init(&res, &gr_srv);
    snprintf(res.extra, sizeof(res.extra), "If-None-Match: \"%s\"", sha);
    assert_int_equal(gr_get(&res, path, &r), 404);
    gr_resp_free(&r);
    gr_client_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_each_type),
        cmocka_unit_test(test_bad_uploads),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_read_rule),
        cmocka_unit_test(test_etag),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server);
}
