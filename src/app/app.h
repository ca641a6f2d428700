/*
 * The application: opens a data directory (database, migrations, keys, module
 * state), builds the router from every module's routes, and runs the server.
 * Used by main and by the tests that need a whole application.
 */
#ifndef GR_APP_APP_H
#define GR_APP_APP_H

#include "http/http.h"

/* Opens (creating if needed) the data directory dir: the database with every
 * migration applied, the keys, and the module state. */
int app_open(gr_ctx *ctx, const char *dir, gr_err *err);
void app_close(gr_ctx *ctx);

/* Every route of every module. The caller frees it with http_router_free. */
http_router *app_router(void);
/* The authentication and authorization hooks (src/auth). */
void app_hooks(http_hooks *out);

#endif
