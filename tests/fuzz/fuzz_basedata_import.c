/* CSV files of base data from outside (grassroots import, POST
 * /api/v1/basedata/import/...): any bytes through the import framework and
 * the row functions into a real, migrated database. The first byte picks
 * the entity. It must never crash, and the counts must add up: every data
 * row read is stored, unchanged or bad. */
#include "base/crypto.h"
#include "base/csv.h"
#include "basedata/bd_import.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gr_ctx ctx;
static FILE *sink;

static int seed_fn(db_conn *c, void *arg, gr_err *err)
{
    (void)arg;
    return db_exec(c,
                   "INSERT INTO org_units (id, code, name, kind, parent_id, path, source, "
                   "created_at, updated_at) VALUES "
                   "(1, '110105', 'district', 'district', NULL, '/1/', 'manual', 0, 0), "
                   "(2, '110105001', 'street', 'street', 1, '/1/2/', 'manual', 0, 0), "
                   "(3, '110105001001', 'community', 'community', 2, '/1/2/3/', 'manual', 0, 0)",
                   err);
}

static char dir[] = "/tmp/fuzz_basedata_XXXXXX";

/* At the end of the run: the database and its directory go. */
static void remove_dir(void)
{
    static const char *const files[] = {"fuzz.db", "fuzz.db-wal", "fuzz.db-shm"};
    char path[64];
    size_t i;

    db_close(ctx.db);
    ctx.db = NULL;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* One database for the whole run, in a temporary directory. */
static void open_once(void)
{
    char path[64];
    gr_err err = {0};

    if (ctx.db)
        return;
    if (!mkdtemp(dir) || crypto_init(&err))
        abort();
    atexit(remove_dir);
    snprintf(path, sizeof(path), "%s/fuzz.db", dir);
    if (db_open(&ctx.db, path, &err) || db_migrate(ctx.db, NULL, &err) ||
        db_write(ctx.db, seed_fn, NULL, &err))
        abort();
    randombytes_buf(ctx.field_key, sizeof(ctx.field_key));
    randombytes_buf(ctx.index_key, sizeof(ctx.index_key));
    sink = fopen("/dev/null", "w");
    if (!sink)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"orgs",      "facilities", "spaces",
                                        "buildings", "houses",     "people"};
    const bd_import_entity *e;
    bd_actor who = {0, "system", 3};
    bd_import_result res;
    csv_reader *r;
    gr_err err = {0};
    int rc;

    if (size < 1)
        return 0;
    open_once();
    e = bd_import_find(names[data[0] % 6]);
    if (!e)
        e = bd_import_find("orgs");
    who.scope_org_id = data[0] & 0x80 ? 0 : 3;
    r = csv_new_mem((const char *)data + 1, size - 1);
    csv_set_limits(r, 1 << 16, 64);
    rc = bd_import_run(&ctx, e, r, &who, sink, &res, &err);
    csv_free(r);
    if (rc != 0 && rc != GR_EINVAL && rc != GR_ETOOBIG)
        __builtin_trap();
    if (res.rows != res.stored + res.unchanged + res.bad)
        __builtin_trap();
    return 0;
}
