/*
 * grassroots import orgs|facilities|spaces|buildings|houses|people FILE
 * --report OUT.csv [--steward ORG_CODE]: the streamed CSV import of base
 * data (bd_import.h) from the command line, run by an operator.
 */
#include "basedata/bd_import.h"

#include "base/timeutil.h"
#include "org/org.h"

#include <stdio.h>
#include <string.h>

const char bd_cli_import_help[] =
    "usage: grassroots import ENTITY FILE --report OUT.csv [--steward ORG_CODE] [--data DIR]\n"
    "Imports base data from a CSV file (UTF-8, header row first) into the base database.\n"
    "ENTITY is orgs, facilities, spaces, buildings, houses or people; the header names\n"
    "the entity's columns (docs/basedata.md \"Import and export\"), in any order.\n"
    "Rows are checked one by one: valid rows are stored, a row is never half-written;\n"
    "bad rows go to the report (CSV: line,column,reason).\n"
    "Records are matched by their natural key (credit code, facility code, ID number,\n"
    "address): importing the same file again changes nothing.\n"
    "--steward ORG_CODE names the org unit responsible for the records (专人负责);\n"
    "without it, each record's steward is the unit of its location.\n"
    "Exit status: 0 all rows stored, 1 bad rows or failure, 2 bad usage.\n";

int bd_cli_is_entity(const char *what)
{
    static const char *const all[] = {"orgs",      "facilities", "spaces",
                                      "buildings", "houses",     "people"};
    size_t i;

    for (i = 0; what && i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(all[i], what) == 0)
            return 1;
    return 0;
}

int bd_cli_import(gr_ctx *ctx, int argc, char **argv)
{
    const char *file = NULL, *report_path = NULL, *steward = NULL;
    const bd_import_entity *e;
    bd_actor who = {0, "system", 0};
    bd_import_result res = {0, 0, 0, 0};
    csv_reader *in = NULL;
    FILE *report = NULL;
    gr_err err = {0};
    int64_t t0 = time_mono_ns();
    int i, rc;

    if (argc < 2 || !bd_cli_is_entity(argv[1]))
        goto usage;
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--report") == 0 && i + 1 < argc)
            report_path = argv[++i];
        else if (strcmp(argv[i], "--steward") == 0 && i + 1 < argc)
            steward = argv[++i];
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else
            goto usage;
    }
    if (!file || !report_path)
        goto usage;
    e = bd_import_find(argv[1]);
    if (!e) {
        fprintf(stderr, "grassroots: import %s: not built into this binary yet\n", argv[1]);
        return 1;
    }
    if (steward && org_unit_find_code(db_reader(ctx->db), steward, &who.scope_org_id, &err)) {
        fprintf(stderr, "grassroots: import: --steward: no org unit with code %s\n", steward);
        return 2;
    }
    /* Two random-keyed indexes of people (ID number, name) outgrow the
     * server's 64 MiB writer cache within a million rows; a cache miss is a
     * read of the file, and a dirty page pushed out is written twice. */
    rc = db_writer_cache(ctx->db, BD_IMPORT_CACHE_MIB, &err);
    /* Each commit's pages are copied into the database beside the next
     * batch's writes, not inside the commit (a third of the import's time). */
    if (!rc)
        rc = db_checkpointer_start(ctx->db, &err);
    db_writer_wal_limit(ctx->db, BD_IMPORT_WAL_PAGES);
    if (!rc)
        rc = csv_open_file(&in, file, &err);
    if (!rc && !(report = fopen(report_path, "w")))
        rc = err_set(&err, GR_EINVAL, "report", "cannot write %s", report_path);
    if (!rc)
        rc = bd_import_run_batched(ctx, e, in, &who, report, BD_IMPORT_BULK, &res, &err);
    if (report && fclose(report) && !rc)
        rc = err_set(&err, GR_EINTERNAL, "report", "cannot write %s", report_path);
    csv_free(in);
    if (!rc || res.rows)
        printf("%s %s: %lld rows: %lld stored, %lld unchanged, %lld bad (%.1f s)%s%s\n", e->name,
               file, (long long)res.rows, (long long)res.stored, (long long)res.unchanged,
               (long long)res.bad, (double)(time_mono_ns() - t0) / 1e9, res.bad ? "; see " : "",
               res.bad ? report_path : "");
    if (rc) {
        fprintf(stderr, "grassroots: import %s: %s%s%s\n", e->name, err.field,
                err.field[0] ? ": " : "", err.msg);
        return 1;
    }
    return res.bad ? 1 : 0;
usage:
    fputs(bd_cli_import_help, stderr);
    return 2;
}
