/* Router paths: every route of the application against arbitrary paths. */
#include "app/app.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static http_router *router;
    static const char *methods[] = {"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"};
    http_req req;
    http_handler fn = NULL;
    char allow[128];
    char *path;
    int rc, i;

    if (!router)
        router = app_router();
    if (size < 1)
        return 0;
    path = malloc(size);
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';
    memset(&req, 0, sizeof(req));
    req.arena = arena_new();
    req.method = methods[data[0] % 6];
    req.path = path;
    req.route_index = -1;
    rc = http_router_match(router, &req, &fn, allow, sizeof(allow));
    if (rc == HTTP_MATCH && (!fn || !req.route || req.route_index < 0))
        __builtin_trap();
    if (rc == HTTP_NO_METHOD && allow[0] == '\0')
        __builtin_trap();
    for (i = 0; i < req.nparams; i++)
        if (!req.param_values[i] || strchr(req.param_values[i], '/'))
            __builtin_trap();
    arena_free(req.arena);
    free(path);
    return 0;
}
