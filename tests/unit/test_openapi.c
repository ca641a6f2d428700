/* Every route of the application is documented in docs/openapi.yaml, with its
 * method, and the document names no route that does not exist. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "app/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;
    char *s;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* "/api/v1/units/{id:int}" -> "/api/v1/units/{id}" */
static void openapi_path(const char *pattern, char *out, size_t len)
{
    size_t j = 0;
    int skip = 0;

    for (; *pattern && j + 1 < len; pattern++) {
        if (*pattern == ':' && !skip) {
            skip = 1;
            continue;
        }
        if (*pattern == '}')
            skip = 0;
        if (!skip)
            out[j++] = *pattern;
    }
    out[j] = '\0';
}

/* The block of the document under "  <path>:" up to the next path. */
static const char *path_block(const char *doc, const char *path, size_t *len)
{
    char key[600];
    const char *p, *end;

    snprintf(key, sizeof(key), "\n  %s:\n", path);
    p = strstr(doc, key);
    if (!p)
        return NULL;
    p += strlen(key);
    end = p;
    while ((end = strchr(end, '\n')) && end[1] == ' ' && end[2] == ' ' && end[3] == ' ')
        end++;
    *len = end ? (size_t)(end - p) : strlen(p);
    return p;
}

static void test_every_route_documented(void **state)
{
    char path[1024], method[16], *doc;
    http_route_info routes[512];
    http_router *r = app_router();
    size_t n = http_router_list(r, routes, 512), i, k, blen;
    const char *block, *src = getenv("GR_SOURCE_DIR");
    int missing = 0;

    (void)state;
    snprintf(path, sizeof(path), "%s/docs/openapi.yaml", src ? src : ".");
    doc = read_file(path);
    assert_true(n > 0);
    for (i = 0; i < n; i++) {
        char p[512], mkey[32];
        openapi_path(routes[i].pattern, p, sizeof(p));
        block = path_block(doc, p, &blen);
        for (k = 0; routes[i].method[k] && k + 1 < sizeof(method); k++)
            method[k] = (char)(routes[i].method[k] | 0x20);
        method[k] = '\0';
        snprintf(mkey, sizeof(mkey), "\n    %s:", method);
        if (!block || !memmem(block - 1, blen + 1, mkey, strlen(mkey))) {
            fprintf(stderr, "not in docs/openapi.yaml: %s %s\n", routes[i].method, p);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
    free(doc);
    http_router_free(r);
}

/* The other way round: every (method, path) of the document is a route. */
static void test_no_phantom_routes(void **state)
{
    static const char *methods[] = {"get", "post", "put", "patch", "delete"};
    http_route_info routes[512];
    http_router *r = app_router();
    size_t n = http_router_list(r, routes, 512), i, m;
    const char *src = getenv("GR_SOURCE_DIR");
    char file[1024], cur[512] = "", *doc, *line, *save = NULL;
    int phantom = 0;

    (void)state;
    snprintf(file, sizeof(file), "%s/docs/openapi.yaml", src ? src : ".");
    doc = read_file(file);
    for (line = strtok_r(doc, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "  /", 3) == 0 && line[strlen(line) - 1] == ':') {
            snprintf(cur, sizeof(cur), "%.*s", (int)strlen(line) - 3, line + 2);
            continue;
        }
        if (!cur[0] || strncmp(line, "    ", 4) != 0 || line[4] == ' ')
            continue;
        for (m = 0; m < 5; m++) {
            size_t ml = strlen(methods[m]);
            int found = 0;
            if (strncmp(line + 4, methods[m], ml) != 0 || line[4 + ml] != ':')
                continue;
            for (i = 0; i < n; i++) {
                char p[512];
                openapi_path(routes[i].pattern, p, sizeof(p));
                if (strcmp(p, cur) == 0 && strcasecmp(routes[i].method, methods[m]) == 0)
                    found = 1;
            }
            if (!found) {
                fprintf(stderr, "documented but not routed: %s %s\n", methods[m], cur);
                phantom++;
            }
        }
    }
    assert_int_equal(phantom, 0);
    free(doc);
    http_router_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_documented),
        cmocka_unit_test(test_no_phantom_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
