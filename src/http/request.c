/* Request helpers: headers, query strings, pagination and JSON bodies. */
#include "http/http.h"

#include <civetweb.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *http_header(const http_req *req, const char *name)
{
    return mg_get_header(req->conn, name);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int http_url_decode(const char *src, size_t len, char *dst, size_t dst_len, int is_form)
{
    size_t i, j = 0;
    int hi, lo;

    for (i = 0; i < len; i++) {
        char c = src[i];
        if (j + 1 >= dst_len)
            return -1;
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            hi = hexval(src[i + 1]);
            lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && is_form) {
            c = ' ';
        }
        if (c == '\0')
            return -1; /* an embedded NUL would cut the value short downstream */
        dst[j++] = c;
    }
    dst[j] = '\0';
    return (int)j;
}

const char *http_query(http_req *req, const char *name)
{
    const char *p = req->query, *end, *eq;
    size_t nlen = strlen(name), klen, vlen;
    char *out;

    while (p && *p) {
        end = strchr(p, '&');
        if (!end)
            end = p + strlen(p);
        eq = memchr(p, '=', (size_t)(end - p));
        klen = eq ? (size_t)(eq - p) : (size_t)(end - p);
        if (klen == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq ? eq + 1 : end;
            vlen = (size_t)(end - v);
            out = arena_alloc(req->arena, vlen + 1);
            if (http_url_decode(v, vlen, out, vlen + 1, 1) < 0)
                return NULL;
            return out;
        }
        p = *end ? end + 1 : end;
    }
    return NULL;
}

int http_query_int(http_req *req, const char *name, int64_t min, int64_t max, int64_t def,
                   int64_t *out)
{
    const char *v = http_query(req, name);
    char *end;
    long long x;

    if (!v) {
        *out = def;
        return 0;
    }
    errno = 0;
    x = strtoll(v, &end, 10);
    if (errno || end == v || *end != '\0')
        return err_set(&req->err, GR_EINVAL, name, "must be an integer");
    if (x < min || x > max)
        return err_set(&req->err, GR_EINVAL, name, "must be between %lld and %lld", (long long)min,
                       (long long)max);
    *out = x;
    return 0;
}

int http_query_number(http_req *req, const char *name, double *out)
{
    const char *v = http_query(req, name);
    char *end;

    if (!v || !*v)
        return err_set(&req->err, GR_EINVAL, name, "is required");
    /* Plain decimals only: strtod would also take " 1", "0x1p4" and "inf". */
    if (strspn(v, "0123456789+-.eE") != strlen(v))
        return err_set(&req->err, GR_EINVAL, name, "must be a decimal number");
    errno = 0;
    *out = strtod(v, &end);
    if (errno || *end || !isfinite(*out))
        return err_set(&req->err, GR_EINVAL, name, "must be a decimal number");
    return 0;
}

int http_page(http_req *req, int64_t def, int64_t max, int64_t *limit, int64_t *after)
{
    int rc = http_query_int(req, "limit", 1, max, def, limit);

    if (!rc)
        rc = http_query_int(req, "after", 0, INT64_MAX, 0, after);
    return rc;
}

int http_read_json(http_req *req, json_t **out)
{
    const char *ct = mg_get_header(req->conn, "Content-Type");
    const struct mg_request_info *ri = mg_get_request_info(req->conn);
    size_t cap = req->body_limit, len = 0;
    json_error_t jerr;
    char *body;
    int n;

    *out = NULL;
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' '))
        return err_set(&req->err, GR_EMEDIA, "Content-Type", "must be application/json");
    if (ri->content_length > 0 && (size_t)ri->content_length > cap)
        return err_set(&req->err, GR_ETOOBIG, "", "the body is larger than %zu bytes", cap);
    body = arena_alloc(req->arena, cap + 1);
    while (len <= cap) {
        n = mg_read(req->conn, body + len, cap + 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (len > cap)
        return err_set(&req->err, GR_ETOOBIG, "", "the body is larger than %zu bytes", cap);
    *out = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*out)
        return err_set(&req->err, GR_EINVAL, "", "malformed JSON at line %d, column %d: %s",
                       jerr.line, jerr.column, jerr.text);
    return 0;
}

int http_read_body(http_req *req, const jv_field *fields, size_t nfields, json_t **out)
{
    int rc = http_read_json(req, out);

    if (!rc)
        rc = jv_check(*out, fields, nfields, &req->err);
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}
