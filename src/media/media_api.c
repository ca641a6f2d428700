/*
 * The HTTP routes of media: the raw upload (read in chunks, never trusting
 * Content-Length alone) and the download under the access rule. The rules
 * live in media_model.c and media_detect.c.
 */
#include "media/media_model.h"

#include <civetweb.h>
#include <stdio.h>
#include <strings.h>

enum { CHUNK = 64 * 1024 };

#define MEDIA_TYPES "image/jpeg, image/png, image/webp or video/mp4"

/* Fills out with up to want bytes of the body (fewer at its end): the
 * number read, or -1 when the connection failed. */
static long read_some(http_req *req, char *out, size_t want)
{
    size_t have = 0;
    int n;

    while (have < want) {
        n = mg_read(req->conn, out + have, want - have);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        have += (size_t)n;
    }
    return (long)have;
}

static int read_failed(http_req *req)
{
    return err_set(&req->err, GR_EINVAL, "file", "the upload was cut off before its end");
}

/* The body into the sink, the first `have` bytes of it already in chunk. */
static int pump_body(http_req *req, media_sink *s, char *chunk, long have)
{
    const struct mg_request_info *ri = mg_get_request_info(req->conn);
    int64_t total = 0;
    int rc = 0;

    while (!rc && have > 0) {
        total += have;
        rc = media_sink_write(s, chunk, (size_t)have, &req->err);
        if (!rc)
            have = read_some(req, chunk, CHUNK);
    }
    if (!rc && (have < 0 || (ri->content_length >= 0 && total != ri->content_length)))
        rc = read_failed(req);
    return rc;
}

/* A client that waits for a go-ahead before sending the body (Expect:
 * 100-continue, as curl does above 1 MiB) gets it once the headers passed:
 * a refused type or size costs it no upload. */
static void send_continue(http_req *req)
{
    const char *expect = http_header(req, "Expect");

    if (expect && strcasecmp(expect, "100-continue") == 0)
        mg_printf(req->conn, "HTTP/1.1 100 Continue\r\n\r\n");
}

static int handle_upload(http_req *req)
{
    const struct mg_request_info *ri = mg_get_request_info(req->conn);
    media_kind kind = media_kind_of_type(http_header(req, "Content-Type"));
    media_sink *s = NULL;
    media_info m;
    char url[64];
    char *chunk;
    long have;
    int rc;

    if (!kind)
        return err_set(&req->err, GR_EMEDIA, "Content-Type",
                       "must be " MEDIA_TYPES ", with the file itself as the body");
    if (ri->content_length > media_kind_limit(kind))
        return media_err_too_big(kind, &req->err);
    send_continue(req);
    /* The first bytes decide: a forged type is refused before the rest is read. */
    chunk = arena_alloc(req->arena, CHUNK);
    have = read_some(req, chunk, MEDIA_SNIFF_BYTES);
    if (have < 0)
        return read_failed(req);
    if (have == 0)
        return err_set(&req->err, GR_EINVAL, "file", "is empty: send the file as the body");
    rc = media_check_magic(kind, chunk, (size_t)have, &req->err);
    if (!rc)
        rc = media_sink_open(req->ctx, kind, ri->content_length, &s, &req->err);
    if (!rc)
        rc = pump_body(req, s, chunk, have);
    if (!rc)
        rc = media_sink_commit(s, req->who.user_id, &m, &req->err);
    media_sink_free(s);
    if (rc)
        return rc;
    snprintf(url, sizeof(url), "/api/v1/media/%lld", (long long)m.id);
    http_add_header(req, "Location", url);
    return http_send_json(req, 201,
                          json_pack("{s:I, s:s, s:s, s:I, s:s}", "id", (json_int_t)m.id, "sha256",
                                    m.sha256, "type", m.type, "size", (json_int_t)m.size, "url",
                                    url));
}

static int handle_get(http_req *req)
{
    int64_t id = http_param_int(req, "id");
    db_conn *c = db_reader(req->db);
    char path[4096];
    media_info m;
    int rc;

    if (!c)
        return err_set(&req->err, GR_EUNAVAIL, "", "the database does not answer");
    rc = media_get(c, req->arena, id, &m, &req->err);
    /* One answer for "no such medium" and "not yours to see": a private
     * medium's existence is not revealed. */
    if (rc == GR_ENOTFOUND || (!rc && !media_may_read(req, &m)))
        return err_set(&req->err, GR_ENOTFOUND, "id", "no medium with id %lld", (long long)id);
    if (rc)
        return rc;
    media_file_path(req->ctx->data_dir, m.sha256, path, sizeof(path));
    rc = http_send_file(req, 200, m.type, path,
                        m.is_public ? "public, max-age=86400" : "private, max-age=86400", m.sha256);
    if (rc == GR_ENOTFOUND)
        return err_set(&req->err, GR_EINTERNAL, "", "the file of medium %lld is missing",
                       (long long)id);
    return rc;
}

void media_api_register(http_router *r)
{
    http_route(r, "POST", "/api/v1/media", handle_upload, "media.upload");
    http_route(r, "GET", "/api/v1/media/{id:int}", handle_get, "public");
}
