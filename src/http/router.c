/*
 * The router: a list of (method, pattern) → handler. Patterns are split into
 * segments once at registration; matching walks the segments of the path.
 * A path that matches some pattern with another method gives 405 with Allow.
 */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SEGS 12

enum seg_kind { SEG_LIT, SEG_INT, SEG_STR };

struct seg {
    enum seg_kind kind;
    char *text; /* the literal, or the parameter's name */
};

struct route {
    char *method;
    char *pattern;
    char *action;
    http_handler fn;
    int nsegs;
    struct seg segs[MAX_SEGS];
};

struct http_router {
    struct route *routes;
    size_t n, cap;
};

http_router *http_router_new(void)
{
    http_router *r = calloc(1, sizeof(*r));

    if (!r)
        abort();
    return r;
}

void http_router_free(http_router *r)
{
    size_t i;
    int k;

    if (!r)
        return;
    for (i = 0; i < r->n; i++) {
        for (k = 0; k < r->routes[i].nsegs; k++)
            free(r->routes[i].segs[k].text);
        free(r->routes[i].method);
        free(r->routes[i].pattern);
        free(r->routes[i].action);
    }
    free(r->routes);
    free(r);
}

void http_route(http_router *r, const char *method, const char *pattern, http_handler fn,
                const char *action)
{
    struct route *rt;
    const char *p = pattern, *end;
    size_t len;

    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 32;
        r->routes = realloc(r->routes, r->cap * sizeof(*r->routes));
        if (!r->routes)
            abort();
    }
    rt = &r->routes[r->n++];
    memset(rt, 0, sizeof(*rt));
    rt->method = strdup(method);
    rt->pattern = strdup(pattern);
    rt->action = strdup(action);
    rt->fn = fn;
    while (*p == '/') {
        p++;
        end = strchr(p, '/');
        len = end ? (size_t)(end - p) : strlen(p);
        if (rt->nsegs == MAX_SEGS)
            abort(); /* a programming error, found at startup */
        if (len > 2 && p[0] == '{' && p[len - 1] == '}') {
            const char *colon = memchr(p, ':', len);
            if (!colon)
                abort();
            rt->segs[rt->nsegs].kind = strncmp(colon + 1, "int}", 4) == 0 ? SEG_INT : SEG_STR;
            rt->segs[rt->nsegs].text = strndup(p + 1, (size_t)(colon - p - 1));
        } else {
            rt->segs[rt->nsegs].kind = SEG_LIT;
            rt->segs[rt->nsegs].text = strndup(p, len);
        }
        rt->nsegs++;
        p += len;
    }
}

size_t http_router_count(const http_router *r)
{
    return r->n;
}

size_t http_router_list(const http_router *r, http_route_info *out, size_t max)
{
    size_t i;

    for (i = 0; i < r->n && i < max; i++) {
        out[i].method = r->routes[i].method;
        out[i].pattern = r->routes[i].pattern;
        out[i].action = r->routes[i].action;
    }
    return r->n;
}

/* Splits path into segments in place-free form: start/length pairs. */
static int split_path(const char *path, const char **starts, size_t *lens)
{
    const char *p = path;
    int n = 0;

    if (*p != '/')
        return -1;
    while (*p == '/') {
        p++;
        if (n == MAX_SEGS)
            return -1;
        starts[n] = p;
        while (*p && *p != '/')
            p++;
        lens[n] = (size_t)(p - starts[n]);
        n++;
    }
    if (*p)
        return -1;
    /* A trailing slash makes an empty last segment: "/a/" is not "/a". */
    return n;
}

static int parse_id(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    size_t i;

    if (len == 0 || len > 18 || s[0] == '0')
        return -1;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int route_matches(const struct route *rt, const char **starts, const size_t *lens, int n,
                         http_req *req)
{
    int k, np = 0;
    int64_t id;

    if (rt->nsegs != n)
        return 0;
    for (k = 0; k < n; k++) {
        const struct seg *s = &rt->segs[k];
        switch (s->kind) {
        case SEG_LIT:
            if (strlen(s->text) != lens[k] || memcmp(s->text, starts[k], lens[k]) != 0)
                return 0;
            break;
        case SEG_INT:
            if (parse_id(starts[k], lens[k], &id))
                return 0;
            if (req) {
                req->param_names[np] = s->text;
                req->param_values[np] = arena_strndup(req->arena, starts[k], lens[k]);
                req->param_ints[np++] = id;
            }
            break;
        case SEG_STR:
            if (lens[k] == 0 || lens[k] > 128)
                return 0;
            if (req) {
                req->param_names[np] = s->text;
                req->param_values[np] = arena_strndup(req->arena, starts[k], lens[k]);
                req->param_ints[np++] = 0;
            }
            break;
        }
    }
    if (req)
        req->nparams = np;
    return 1;
}

int http_router_match(const http_router *r, http_req *req, http_handler *fn, char *allow,
                      size_t allow_len)
{
    const char *starts[MAX_SEGS];
    size_t lens[MAX_SEGS];
    size_t i, used = 0;
    int n = split_path(req->path, starts, lens);
    int path_known = 0;

    if (allow_len)
        allow[0] = '\0';
    if (n < 0)
        return HTTP_NO_ROUTE;
    for (i = 0; i < r->n; i++) {
        const struct route *rt = &r->routes[i];
        if (!route_matches(rt, starts, lens, n, NULL))
            continue;
        if (strcmp(rt->method, req->method) == 0 ||
            (strcmp(req->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
            route_matches(rt, starts, lens, n, req);
            req->route = rt->pattern;
            req->route_index = (int)i;
            req->action = rt->action;
            *fn = rt->fn;
            return HTTP_MATCH;
        }
        path_known = 1;
        if (allow_len && used + strlen(rt->method) + 3 < allow_len && !strstr(allow, rt->method)) {
            used += (size_t)snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "",
                                     rt->method);
        }
    }
    return path_known ? HTTP_NO_METHOD : HTTP_NO_ROUTE;
}

const char *http_param(const http_req *req, const char *name)
{
    int i;

    for (i = 0; i < req->nparams; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_values[i];
    return NULL;
}

int64_t http_param_int(const http_req *req, const char *name)
{
    int i;

    for (i = 0; i < req->nparams; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_ints[i];
    return 0;
}
