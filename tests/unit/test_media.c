/* media/: the type from the magic bytes, the structure checks, the metadata
 * filter on synthetic JPEG, PNG, WebP and MP4 files built here byte by byte,
 * the content-addressed store, linking and the read rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media_samples.h"
#include "tmpdir.h"

#include "base/arena.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "media/media_model.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[64];
static gr_ctx ctx;
static arena *A;

/* ---- checking the filter ---- */

/* Cleans a copy of in as kind k; returns the code, the result in out. */
static int clean(media_kind k, const gr_bytes *in, gr_bytes *out, gr_err *err)
{
    size_t len = 0;
    int rc;

    *out = *in;
    memset(err, 0, sizeof(*err));
    rc = media_clean(k, out->d, out->n, &len, err);
    out->n = rc ? 0 : len;
    return rc;
}

static void expect_clean(media_kind k, const gr_bytes *in, const gr_bytes *want)
{
    gr_bytes out, again;
    gr_err err;

    if (clean(k, in, &out, &err) != 0)
        fail_msg("%s: %s", media_kind_label(k), err.msg);
    assert_int_equal(out.n, want->n);
    assert_memory_equal(out.d, want->d, want->n);
    /* Cleaning a cleaned file changes nothing. */
    assert_int_equal(clean(k, &out, &again, &err), 0);
    assert_int_equal(again.n, out.n);
    assert_memory_equal(again.d, out.d, out.n);
}

static void expect_bad(media_kind k, const gr_bytes *in, const char *words)
{
    gr_bytes out;
    gr_err err;
    int rc = clean(k, in, &out, &err);

    if (rc != GR_EINVAL)
        fail_msg("%s of %zu bytes: expected a rejection containing '%s', got %d",
                 media_kind_label(k), in->n, words, rc);
    assert_string_equal(err.field, "file");
    if (words && !strstr(err.msg, words))
        fail_msg("'%s' does not say '%s'", err.msg, words);
}

/* Every proper prefix of a file is refused (a truncated upload is never stored). */
static void expect_prefixes_bad(media_kind k, const gr_bytes *whole)
{
    gr_bytes cut;
    size_t n;

    for (n = 0; n < whole->n; n++) {
        cut = *whole;
        cut.n = n;
        expect_bad(k, &cut, NULL);
    }
}

static int contains(const gr_bytes *b, const void *needle, size_t n)
{
    size_t i;

    for (i = 0; i + n <= b->n; i++)
        if (memcmp(b->d + i, needle, n) == 0)
            return 1;
    return 0;
}

/* ---- fixtures ---- */

static int exec_fn(db_conn *c, void *arg, gr_err *err)
{
    return db_exec(c, arg, err);
}

static void exec_sql(const char *sql)
{
    gr_err err = {0};

    if (db_write(ctx.db, exec_fn, (void *)(uintptr_t)sql, &err) != 0)
        fail_msg("%s: %s", sql, err.msg);
}

static int setup(void **state)
{
    char path[128];
    gr_err err = {0};

    (void)state;
    log_set_level(LOG_WARN);
    assert_int_equal(crypto_init(&err), 0);
    assert_int_equal(gr_tmpdir_make(dir, sizeof(dir), "media"), 0);
    snprintf(path, sizeof(path), "%s/t.db", dir);
    memset(&ctx, 0, sizeof(ctx));
    ctx.data_dir = dir;
    assert_int_equal(db_open(&ctx.db, path, &err), 0);
    assert_int_equal(db_migrate(ctx.db, NULL, &err), 0);
    /* A district with a street, another district, and two residents. */
    exec_sql("INSERT INTO org_units (id, code, name, kind, parent_id, path, source, created_at, "
             "updated_at) VALUES (1, '110105', 'A', 'district', NULL, '/1/', 'manual', 0, 0), "
             "(2, '110105001', 'A1', 'street', 1, '/1/2/', 'manual', 0, 0), "
             "(3, '110106', 'B', 'district', NULL, '/3/', 'manual', 0, 0);"
             "INSERT INTO users (id, username, display_name, role, password_hash, created_at, "
             "updated_at) VALUES (10, 'r1', 'R1', 'resident', 'x', 0, 0), "
             "(11, 'r2', 'R2', 'resident', 'x', 0, 0);");
    A = arena_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    db_close(ctx.db);
    arena_free(A);
    return gr_tmpdir_remove(dir);
}

static int64_t q_int(const char *sql, int64_t param)
{
    int64_t v = -1;
    gr_err err = {0};

    assert_int_equal(db_query_int(db_reader(ctx.db), sql, param, -1, &v, &err), 0);
    return v;
}

static int nfiles;

static int count_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_F && !strstr(path, "/media/tmp/"))
        nfiles++;
    return 0;
}

/* Stored files under DATA/media (the temporary directory aside). */
static int stored_files(void)
{
    char path[128];

    nfiles = 0;
    snprintf(path, sizeof(path), "%s/media", dir);
    nftw(path, count_file, 8, FTW_PHYS);
    return nfiles;
}

/* Entries left in DATA/media/tmp. */
static int tmp_files(void)
{
    char path[128];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "%s/media/tmp", dir);
    d = opendir(path);
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

static void read_stored(const char *sha, gr_bytes *out)
{
    char path[256];
    FILE *f;

    media_file_path(dir, sha, path, sizeof(path));
    f = fopen(path, "rb");
    assert_non_null(f);
    out->n = fread(out->d, 1, sizeof(out->d), f);
    fclose(f);
}

static void sha_hex(const gr_bytes *b, char out[65])
{
    unsigned char h[32];

    crypto_hash_sha256(h, b->d, b->n);
    sodium_bin2hex(out, 65, h, sizeof(h));
}

/* ---- types ---- */

static void test_sniff_and_types(void **state)
{
    gr_bytes j, jw, p, pw, w, ww, m;
    gr_err err = {0};

    (void)state;
    gr_jpeg_sample(&j, &jw);
    gr_png_sample(&p, &pw);
    gr_webp_sample(&w, &ww);
    gr_mp4_sample(&m, "isom");
    assert_int_equal(media_sniff(j.d, j.n), MEDIA_JPEG);
    assert_int_equal(media_sniff(p.d, p.n), MEDIA_PNG);
    assert_int_equal(media_sniff(w.d, w.n), MEDIA_WEBP);
    assert_int_equal(media_sniff(m.d, m.n), MEDIA_MP4);
    assert_int_equal(media_sniff(GR_LIT("<!DOCTYPE html><html>")), MEDIA_UNKNOWN);
    assert_int_equal(media_sniff(GR_LIT("<svg xmlns=\"http://www.w3.org/2000/svg\"/>")),
                     MEDIA_UNKNOWN);
    assert_int_equal(media_sniff(GR_LIT("GIF89a")), MEDIA_UNKNOWN);
    assert_int_equal(media_sniff(j.d, 2), MEDIA_UNKNOWN);
    assert_int_equal(media_sniff("", 0), MEDIA_UNKNOWN);

    assert_int_equal(media_kind_of_type("image/jpeg"), MEDIA_JPEG);
    assert_int_equal(media_kind_of_type(" Image/PNG; name=x.png"), MEDIA_PNG);
    assert_int_equal(media_kind_of_type("image/webp"), MEDIA_WEBP);
    assert_int_equal(media_kind_of_type("video/mp4"), MEDIA_MP4);
    assert_int_equal(media_kind_of_type("image/jpegx"), MEDIA_UNKNOWN);
    assert_int_equal(media_kind_of_type("image/svg+xml"), MEDIA_UNKNOWN);
    assert_int_equal(media_kind_of_type("text/html"), MEDIA_UNKNOWN);
    assert_int_equal(media_kind_of_type(NULL), MEDIA_UNKNOWN);
    assert_int_equal(media_kind_of_stored("video/mp4"), MEDIA_MP4);
    assert_int_equal(media_kind_limit(MEDIA_PNG), 10 * 1024 * 1024);
    assert_int_equal(media_kind_limit(MEDIA_MP4), 50 * 1024 * 1024);

    /* The declared type must agree with the content. */
    assert_int_equal(media_check_magic(MEDIA_JPEG, j.d, j.n, &err), 0);
    assert_int_equal(media_check_magic(MEDIA_PNG, j.d, j.n, &err), GR_EMEDIA);
    assert_string_equal(err.field, "Content-Type");
    assert_string_equal(err.msg, "declared image/png but the content is a JPEG");
    assert_int_equal(media_check_magic(MEDIA_JPEG, m.d, m.n, &err), GR_EMEDIA);
    assert_string_equal(err.msg, "declared image/jpeg but the content is an MP4");
    assert_int_equal(media_check_magic(MEDIA_PNG, GR_LIT("<html><script>alert(1)</script>"), &err),
                     GR_EMEDIA);
    assert_string_equal(err.msg,
                        "declared image/png but the content is not a JPEG, PNG, WebP or MP4");
}

/* ---- the filter ---- */

static void test_jpeg(void **state)
{
    static const uint8_t gps_tag[] = {0x88, 0x25};
    gr_bytes in, want, bad;

    (void)state;
    gr_jpeg_sample(&in, &want);
    expect_clean(MEDIA_JPEG, &in, &want);
    assert_false(contains(&want, "Exif", 4));
    assert_false(contains(&want, gps_tag, 2));
    assert_false(contains(&want, "xmpmeta", 7));
    assert_false(contains(&want, "8BIM", 4));
    assert_false(contains(&want, "taken at home", 13));
    assert_true(contains(&want, "ICC_PROFILE", 11));
    assert_true(contains(&want, "Adobe", 5));
    expect_prefixes_bad(MEDIA_JPEG, &want);

    /* No SOI. */
    bad = want;
    bad.d[1] = 0xD9;
    expect_bad(MEDIA_JPEG, &bad, "SOI");
    /* A segment length of 1. */
    bad = want;
    bad.d[5] = 1;
    bad.d[4] = 0;
    expect_bad(MEDIA_JPEG, &bad, "length");
    /* A segment that claims more than there is. */
    bad = want;
    bad.d[4] = 0x7F;
    expect_bad(MEDIA_JPEG, &bad, "runs past the end");
    /* Image data before any frame header. */
    memset(&bad, 0, sizeof(bad));
    gr_put(&bad, "\xFF\xD8", 2);
    gr_jseg(&bad, &bad, 0, 0xDA, "\1\1\0\0\77\0", 6);
    gr_put(&bad, "\x12\xFF\xD9", 3);
    expect_bad(MEDIA_JPEG, &bad, "SOF");
    /* EOI before any scan. */
    memset(&bad, 0, sizeof(bad));
    gr_put(&bad, "\xFF\xD8\xFF\xD9", 4);
    expect_bad(MEDIA_JPEG, &bad, "SOS");
    /* Garbage where a marker must start. */
    memset(&bad, 0, sizeof(bad));
    gr_put(&bad, "\xFF\xD8\x00\x01", 4);
    expect_bad(MEDIA_JPEG, &bad, "no marker");
    /* A restart marker outside the image data. */
    memset(&bad, 0, sizeof(bad));
    gr_put(&bad, "\xFF\xD8\xFF\xD3", 4);
    expect_bad(MEDIA_JPEG, &bad, "out of place");
}

/* Phones record portrait photos sideways and say so in Exif: the orientation
 * survives as a one-entry Exif segment of its own, nothing else of it does. */
static void test_jpeg_orientation(void **state)
{
    uint8_t exif[] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0,
                      /* IFD0, little-endian: Make, Orientation 6, GPS IFD at 50 */
                      3, 0, 0x0F, 0x01, 2, 0, 4, 0, 0, 0, 'A', 'c', 'm', 0, 0x12, 0x01, 3, 0, 1, 0,
                      0, 0, 6, 0, 0, 0, 0x25, 0x88, 4, 0, 1, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0,
                      /* the GPS IFD: GPSLatitudeRef 'N' */
                      1, 0, 1, 0, 2, 0, 2, 0, 0, 0, 'N', 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t upright[] = {0xFF, 0xE1, 0, 34, 'E', 'x', 'i', 'f', 0, 0,    'M', 'M',
                                      0,    42,   0, 0,  0,   8,   0,   1,   1, 0x12, 0,   3,
                                      0,    0,    0, 1,  0,   6,   0,   0,   0, 0,    0,   0};
    gr_bytes sample, clean_sample, in, want, junk;

    (void)state;
    gr_jpeg_sample(&sample, &clean_sample);
    memset(&in, 0, sizeof(in));
    memset(&want, 0, sizeof(want));
    gr_put(&in, "\xFF\xD8", 2);
    gr_jseg(&in, &junk, 0, 0xE1, exif, sizeof(exif));
    gr_put(&in, clean_sample.d + 2, clean_sample.n - 2);
    gr_put(&want, "\xFF\xD8", 2);
    gr_put(&want, upright, sizeof(upright));
    gr_put(&want, clean_sample.d + 2, clean_sample.n - 2);
    expect_clean(MEDIA_JPEG, &in, &want);
    /* The default orientation (1) needs no segment at all. */
    exif[36] = 1;
    memset(&in, 0, sizeof(in));
    gr_put(&in, "\xFF\xD8", 2);
    gr_jseg(&in, &junk, 0, 0xE1, exif, sizeof(exif));
    gr_put(&in, clean_sample.d + 2, clean_sample.n - 2);
    expect_clean(MEDIA_JPEG, &in, &clean_sample);
}

static int png_crcs_valid(const gr_bytes *b)
{
    size_t i = 8, len;

    while (i + 12 <= b->n) {
        len = (size_t)b->d[i] << 24 | (size_t)b->d[i + 1] << 16 | (size_t)b->d[i + 2] << 8 |
              b->d[i + 3];
        if (gr_crc32(b->d + i + 4, len + 4) !=
            ((uint32_t)b->d[i + 8 + len] << 24 | (uint32_t)b->d[i + 9 + len] << 16 |
             (uint32_t)b->d[i + 10 + len] << 8 | b->d[i + 11 + len]))
            return 0;
        i += 12 + len;
    }
    return i == b->n;
}

static void test_png(void **state)
{
    gr_bytes in, want, bad, tmp;

    (void)state;
    gr_png_sample(&in, &want);
    expect_clean(MEDIA_PNG, &in, &want);
    assert_true(png_crcs_valid(&want));
    assert_false(contains(&want, "tEXt", 4));
    assert_false(contains(&want, "eXIf", 4));
    assert_false(contains(&want, "tIME", 4));
    assert_false(contains(&want, "trailing", 8));
    assert_true(contains(&want, "sRGB", 4));
    expect_prefixes_bad(MEDIA_PNG, &want);

    /* IHDR is not first. */
    memset(&bad, 0, sizeof(bad));
    gr_put(&bad, "\x89PNG\r\n\x1a\n", 8);
    gr_png_chunk(&bad, &tmp, 0, "sRGB", "\0", 1);
    gr_put(&bad, want.d + 8, want.n - 8);
    expect_bad(MEDIA_PNG, &bad, "IHDR");
    /* No IDAT. */
    memset(&bad, 0, sizeof(bad));
    gr_put(&bad, want.d, 8 + 25);
    gr_png_chunk(&bad, &tmp, 0, "IEND", "", 0);
    expect_bad(MEDIA_PNG, &bad, "IDAT");
    /* A chunk type that is not letters. */
    bad = want;
    bad.d[8 + 25 + 4] = '1';
    expect_bad(MEDIA_PNG, &bad, "invalid type");
    /* A chunk longer than the file. */
    bad = want;
    bad.d[8 + 25] = 0x10;
    expect_bad(MEDIA_PNG, &bad, "runs past the end");
}

static void test_webp(void **state)
{
    gr_bytes in, want, bad, tmp;

    (void)state;
    gr_webp_sample(&in, &want);
    expect_clean(MEDIA_WEBP, &in, &want);
    assert_false(contains(&want, "EXIF", 4));
    assert_false(contains(&want, "XMP ", 4));
    assert_int_equal(want.d[20], 0x20);
    expect_prefixes_bad(MEDIA_WEBP, &want);

    /* A simple lossless file has nothing to drop. */
    memset(&bad, 0, sizeof(bad));
    gr_put(&bad, "RIFF\0\0\0\0WEBP", 12);
    gr_riff_chunk(&bad, &tmp, 0, "VP8L", GR_LIT("\x2f\0\0\0\0\0"));
    gr_riff_close(&bad);
    expect_clean(MEDIA_WEBP, &bad, &bad);
    /* The RIFF size disagrees with the length. */
    tmp = want;
    tmp.d[4]++;
    expect_bad(MEDIA_WEBP, &tmp, "RIFF");
    tmp = want;
    gr_put(&tmp, "\0\0", 2);
    expect_bad(MEDIA_WEBP, &tmp, "RIFF");
    /* The first chunk is no image chunk. */
    memset(&bad, 0, sizeof(bad));
    gr_put(&bad, "RIFF\0\0\0\0WEBP", 12);
    gr_riff_chunk(&bad, &tmp, 0, "EXIF", GR_LIT("MM\0*"));
    gr_riff_chunk(&bad, &tmp, 0, "VP8L", GR_LIT("\x2f\0\0\0\0\0"));
    gr_riff_close(&bad);
    expect_bad(MEDIA_WEBP, &bad, "first chunk");
    /* VP8X with no image after it. */
    memset(&bad, 0, sizeof(bad));
    gr_put(&bad, "RIFF\0\0\0\0WEBP", 12);
    gr_riff_chunk(&bad, &tmp, 0, "VP8X", "\0\0\0\0\0\0\0\0\0\0", 10);
    gr_riff_close(&bad);
    expect_bad(MEDIA_WEBP, &bad, "no image data");
}

static void test_mp4(void **state)
{
    gr_bytes m, bad;
    uint8_t big[16] = {0, 0, 0, 1, 'f', 'r', 'e', 'e', 0, 0, 0, 0, 0, 0, 0, 20};

    (void)state;
    gr_mp4_sample(&m, "isom");
    expect_clean(MEDIA_MP4, &m, &m); /* videos are kept as they are */
    expect_prefixes_bad(MEDIA_MP4, &m);
    gr_mp4_sample(&bad, "mp42");
    expect_clean(MEDIA_MP4, &bad, &bad);
    /* A 64-bit box size, and a last box that runs to the end (size 0). */
    bad = m;
    gr_put(&bad, big, 16);
    gr_put(&bad, "abcd", 4);
    gr_put(&bad, "\0\0\0\0skip+the rest", 17);
    expect_clean(MEDIA_MP4, &bad, &bad);
    /* QuickTime is not MP4. */
    gr_mp4_sample(&bad, "qt  ");
    expect_bad(MEDIA_MP4, &bad, "brand 'qt  '");
    /* No moov. */
    memset(&bad, 0, sizeof(bad));
    gr_put(&bad, m.d, 24);
    gr_box(&bad, "mdat", "xx", 2);
    expect_bad(MEDIA_MP4, &bad, "moov");
    /* A box smaller than its header. */
    bad = m;
    gr_put(&bad,
           "\0\0\0\4"
           "free",
           8);
    expect_bad(MEDIA_MP4, &bad, "smaller than its header");
    /* ftyp not first. */
    memset(&bad, 0, sizeof(bad));
    gr_box(&bad, "moov", "", 0);
    gr_put(&bad, m.d, m.n);
    expect_bad(MEDIA_MP4, &bad, "ftyp");
}

/* ---- storing ---- */

static void test_store_strips_and_dedups(void **state)
{
    gr_bytes in, want, stored;
    media_info a, b, got;
    char sha[65];
    gr_err err = {0};
    int64_t rows = q_int("SELECT count(*) + ? FROM media", 0);
    int files = stored_files();

    (void)state;
    gr_jpeg_sample(&in, &want);
    sha_hex(&want, sha);
    assert_int_equal(media_store_bytes(&ctx, MEDIA_JPEG, in.d, in.n, 10, &a, &err), 0);
    /* The hash and the size are of the stripped bytes, and so is the file. */
    assert_string_equal(a.sha256, sha);
    assert_int_equal(a.size, (int64_t)want.n);
    assert_string_equal(a.type, "image/jpeg");
    read_stored(sha, &stored);
    assert_int_equal(stored.n, want.n);
    assert_memory_equal(stored.d, want.d, want.n);
    /* The same picture without its metadata: a second row, the same file. */
    assert_int_equal(media_store_bytes(&ctx, MEDIA_JPEG, want.d, want.n, 0, &b, &err), 0);
    assert_true(b.id > a.id);
    assert_string_equal(b.sha256, a.sha256);
    assert_int_equal(q_int("SELECT count(*) + ? FROM media", 0), rows + 2);
    assert_int_equal(stored_files(), files + 1);

    /* The rows as stored: private, unlinked, the uploader or nobody. */
    assert_int_equal(media_get(db_reader(ctx.db), A, a.id, &got, &err), 0);
    assert_string_equal(got.sha256, sha);
    assert_string_equal(got.type, "image/jpeg");
    assert_int_equal(got.uploaded_by, 10);
    assert_int_equal(got.is_public, 0);
    assert_null(got.owner_kind);
    assert_int_equal(got.scope_org_id, 0);
    assert_true(got.created_at > 0);
    assert_int_equal(media_get(db_reader(ctx.db), A, b.id, &got, &err), 0);
    assert_int_equal(got.uploaded_by, 0);
    assert_int_equal(media_get(db_reader(ctx.db), A, 999999, &got, &err), GR_ENOTFOUND);
}

static void test_store_video_and_rejects(void **state)
{
    gr_bytes m, png, pngw, stored;
    media_info v;
    media_sink *s = NULL;
    gr_err err = {0};
    int64_t rows;
    int files;
    static uint8_t chunk[1024 * 1024];

    (void)state;
    gr_mp4_sample(&m, "isom");
    assert_int_equal(media_store_bytes(&ctx, MEDIA_MP4, m.d, m.n, 0, &v, &err), 0);
    assert_string_equal(v.type, "video/mp4");
    read_stored(v.sha256, &stored);
    assert_int_equal(stored.n, m.n);
    assert_memory_equal(stored.d, m.d, m.n);
    assert_int_equal(tmp_files(), 0);

    /* Refused uploads leave no row, no file and no temporary file behind. */
    rows = q_int("SELECT count(*) + ? FROM media", 0);
    files = stored_files();
    m.n -= 3;
    assert_int_equal(media_store_bytes(&ctx, MEDIA_MP4, m.d, m.n, 0, &v, &err), GR_EINVAL);
    assert_string_equal(err.field, "file");
    gr_png_sample(&png, &pngw);
    png.n = 40;
    assert_int_equal(media_store_bytes(&ctx, MEDIA_PNG, png.d, png.n, 0, &v, &err), GR_EINVAL);
    assert_int_equal(media_store_bytes(&ctx, MEDIA_PNG, png.d, 0, 0, &v, &err), GR_EINVAL);
    assert_non_null(strstr(err.msg, "empty"));
    /* The size limit holds however the bytes arrive. */
    assert_int_equal(media_sink_open(&ctx, MEDIA_WEBP, -1, &s, &err), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(media_sink_write(s, chunk, sizeof(chunk), &err), 0);
    assert_int_equal(media_sink_write(s, chunk, 1, &err), GR_ETOOBIG);
    assert_string_equal(err.field, "file");
    assert_non_null(strstr(err.msg, "10 MiB"));
    media_sink_free(s);
    assert_int_equal(media_sink_open(&ctx, MEDIA_MP4, -1, &s, &err), 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal(media_sink_write(s, chunk, sizeof(chunk), &err), 0);
    assert_int_equal(media_sink_write(s, chunk, 1, &err), GR_ETOOBIG);
    assert_non_null(strstr(err.msg, "50 MiB"));
    media_sink_free(s);
    assert_int_equal(q_int("SELECT count(*) + ? FROM media", 0), rows);
    assert_int_equal(stored_files(), files);
    assert_int_equal(tmp_files(), 0);
}

/* ---- linking and reading ---- */

struct link_arg {
    int64_t id;
    const char *kind;
    int64_t owner, scope;
    int pub;
    int visibility; /* media_set_visibility instead of media_link */
};

static int link_fn(db_conn *c, void *arg, gr_err *err)
{
    struct link_arg *l = arg;

    if (l->visibility)
        return media_set_visibility(c, l->kind, l->owner, l->pub, l->scope, err);
    return media_link(c, l->id, l->kind, l->owner, l->pub, l->scope, err);
}

static int do_link(int64_t id, const char *kind, int64_t owner, int pub, int64_t scope, gr_err *err)
{
    struct link_arg l = {id, kind, owner, scope, pub, 0};

    return db_write(ctx.db, link_fn, &l, err);
}

static int do_visibility(const char *kind, int64_t owner, int pub, int64_t scope, gr_err *err)
{
    struct link_arg l = {0, kind, owner, scope, pub, 1};

    return db_write(ctx.db, link_fn, &l, err);
}

static media_info stored_png(int64_t uploaded_by)
{
    gr_bytes in, want;
    media_info m;
    gr_err err = {0};

    gr_png_sample(&in, &want);
    assert_int_equal(media_store_bytes(&ctx, MEDIA_PNG, in.d, in.n, uploaded_by, &m, &err), 0);
    return m;
}

static void test_link(void **state)
{
    media_info a = stored_png(10), b = stored_png(0), got;
    gr_err err = {0};

    (void)state;
    assert_int_equal(do_link(999999, "case", 7, 0, 2, &err), GR_ENOTFOUND);
    assert_int_equal(do_link(a.id, "Case!", 7, 0, 2, &err), GR_EINVAL);
    assert_string_equal(err.field, "owner_kind");
    assert_int_equal(do_link(a.id, "case", 0, 0, 2, &err), GR_EINVAL);
    assert_string_equal(err.field, "owner_id");
    assert_int_equal(do_link(a.id, "case", 7, 0, 2, &err), 0);
    /* Again for the same owner: fine; for another: a conflict that changes nothing. */
    assert_int_equal(do_link(a.id, "case", 7, 0, 1, &err), 0);
    assert_int_equal(do_link(a.id, "case", 8, 1, 3, &err), GR_ECONFLICT);
    assert_int_equal(media_get(db_reader(ctx.db), A, a.id, &got, &err), 0);
    assert_string_equal(got.owner_kind, "case");
    assert_int_equal(got.owner_id, 7);
    assert_int_equal(got.scope_org_id, 1);
    assert_int_equal(got.is_public, 0);
    /* The owner's visibility changes every medium it owns, and no other. */
    assert_int_equal(do_link(b.id, "case", 7, 0, 1, &err), 0);
    assert_int_equal(do_visibility("case", 7, 1, 2, &err), 0);
    assert_int_equal(media_get(db_reader(ctx.db), A, b.id, &got, &err), 0);
    assert_int_equal(got.is_public, 1);
    assert_int_equal(got.scope_org_id, 2);
    assert_int_equal(
        q_int("SELECT count(*) FROM media WHERE is_public = 1 AND owner_id IS NOT ?", 7), 0);
    /* An unknown org unit is refused by the database. */
    assert_true(do_link(stored_png(0).id, "case", 9, 0, 424242, &err) < 0);
}

/* Who is asking: a principal on a request against the test database. */
static int may_read(const media_info *m, int64_t user, const char *role, int64_t scope,
                    int64_t token)
{
    http_req req;

    memset(&req, 0, sizeof(req));
    req.arena = A;
    req.db = ctx.db;
    req.ctx = &ctx;
    req.who.user_id = user;
    req.who.role = role;
    req.who.scope_org_id = scope;
    req.who.token_id = token;
    return media_may_read(&req, m);
}

static void test_read_rule(void **state)
{
    media_info mine = stored_png(10), anon = stored_png(0), got;
    gr_err err = {0};

    (void)state;
    /* Unlinked: its uploader only; an anonymous upload nobody. */
    assert_true(may_read(&mine, 10, "resident", 0, 0));
    assert_false(may_read(&mine, 11, "resident", 0, 0));
    assert_false(may_read(&mine, 0, "anonymous", 0, 0));
    assert_false(may_read(&mine, 20, "admin", 1, 0));
    assert_false(may_read(&anon, 0, "anonymous", 0, 0));
    assert_false(may_read(&anon, 20, "admin", 1, 0));
    assert_false(may_read(&anon, 10, "resident", 0, 0));

    /* Private, linked to the street: staff whose scope covers it. */
    assert_int_equal(do_link(mine.id, "case", 100, 0, 2, &err), 0);
    assert_int_equal(media_get(db_reader(ctx.db), A, mine.id, &got, &err), 0);
    assert_true(may_read(&got, 20, "acceptor", 1, 0));       /* the district */
    assert_true(may_read(&got, 21, "grid_inspector", 2, 0)); /* the street */
    assert_false(may_read(&got, 22, "acceptor", 3, 0));      /* another district */
    assert_false(may_read(&got, 23, "acceptor", 0, 0));      /* no scope */
    assert_false(may_read(&got, 11, "resident", 0, 0));
    assert_false(may_read(&got, 0, "anonymous", 0, 0));
    assert_true(may_read(&got, 10, "resident", 0, 0)); /* the uploader */
    /* An API token sees public media only, whoever owns it. */
    assert_false(may_read(&got, 20, "acceptor", 1, 5));
    assert_false(may_read(&got, 10, "resident", 0, 5));
    /* A street-level scope does not reach up to the district. */
    assert_int_equal(do_visibility("case", 100, 0, 1, &err), 0);
    assert_int_equal(media_get(db_reader(ctx.db), A, mine.id, &got, &err), 0);
    assert_false(may_read(&got, 21, "grid_inspector", 2, 0));
    assert_true(may_read(&got, 20, "acceptor", 1, 0));

    /* Public: everyone. */
    assert_int_equal(do_visibility("case", 100, 1, 1, &err), 0);
    assert_int_equal(media_get(db_reader(ctx.db), A, mine.id, &got, &err), 0);
    assert_true(may_read(&got, 0, "anonymous", 0, 0));
    assert_true(may_read(&got, 11, "resident", 0, 0));
    assert_true(may_read(&got, 22, "acceptor", 3, 0));
    assert_true(may_read(&got, 20, "acceptor", 1, 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff_and_types),
        cmocka_unit_test(test_jpeg),
        cmocka_unit_test(test_jpeg_orientation),
        cmocka_unit_test(test_png),
        cmocka_unit_test(test_webp),
        cmocka_unit_test(test_mp4),
        cmocka_unit_test(test_store_strips_and_dedups),
        cmocka_unit_test(test_store_video_and_rejects),
        cmocka_unit_test(test_link),
        cmocka_unit_test(test_read_rule),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
