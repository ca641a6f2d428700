/* Query strings: lookup, URL decoding, integer and pagination parameters. */
#include "http/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *names[] = {"limit", "after", "q", "lat", "", "a b"};
    char *qs = malloc(size + 1);
    http_req req;
    int64_t limit, after, v;
    char out[64];
    size_t i;

    memcpy(qs, data, size);
    qs[size] = '\0';
    memset(&req, 0, sizeof(req));
    req.arena = arena_new();
    req.query = qs;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *val = http_query(&req, names[i]);
        if (val && strlen(val) > size)
            __builtin_trap();
    }
    if (http_page(&req, 50, 500, &limit, &after) == 0 && (limit < 1 || limit > 500 || after < 0))
        __builtin_trap();
    http_query_int(&req, "lat", -90, 90, 0, &v);
    http_url_decode(qs, size < 200 ? strlen(qs) : 200, out, sizeof(out), 1);
    arena_free(req.arena);
    free(qs);
    return 0;
}
