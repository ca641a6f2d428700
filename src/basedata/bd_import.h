/*
 * The streamed CSV import of base data (issue 4 "Import and export"), the
 * same for every entity: the header row names the entity's columns (any
 * order; an unknown or repeated name, or a missing required one, refuses
 * the file), then every row is checked and stored by the entity's row
 * function. Rows go through db_write in batches (BD_IMPORT_BATCH rows or
 * BD_IMPORT_BATCH_BYTES of field data, whichever comes first), so memory
 * stays flat for a file of any size. A row that fails midway is rolled back
 * whole, never half-written (bd_import.c says how without a savepoint per
 * row). Bad rows go to the error report, a CSV file with the header
 * line,column,reason.
 *
 * Re-importing the same file changes nothing: row functions find the stored
 * record by its natural key (ID number, credit code, facility code, address)
 * and report *changed = 0 when the row says what is stored.
 */
#ifndef GR_BASEDATA_BD_IMPORT_H
#define GR_BASEDATA_BD_IMPORT_H

#include "base/csv.h"
#include "basedata/bd_history.h"
#include "http/http.h"

#include <stdint.h>
#include <stdio.h>

/* A batch is one db_write: the server's writer is busy with it for its
 * whole length (some 0.4 s for 10,000 people), so imports through the API
 * keep it short; the import command, run by an operator, writes ten times
 * as many rows a commit, for fewer pages written again and again (50,000
 * made a million people's import 15% faster than 10,000 did, 100,000 a few
 * per cent more; docs/benchmarks.md). Batches start at a 64th of the size
 * and double (bd_import_run_batched). */
enum {
    BD_IMPORT_BATCH = 10000,
    BD_IMPORT_BULK = 100000,
    BD_IMPORT_CACHE_MIB = 256, /* the command's writer cache (db_writer_cache) */
    /* The WAL a batch of the command's may leave before the next waits for
     * the checkpointer (db_writer_wal_limit): 256 MiB, two to four batches. */
    BD_IMPORT_WAL_PAGES = 65536,
    BD_IMPORT_BATCH_BYTES = 16 << 20 /* for BD_IMPORT_BATCH rows; as many more for more */
};

/* What a row function may leave for the rows after it in the same write:
 * cleared when a batch's write starts and when a group of its rows is
 * rolled back, so it never names what the database does not hold. The
 * members of a household follow each other in a file, and each finds the
 * house the row before it found (bd_rows.c). */
typedef struct bd_import_memo {
    const struct bd_import_row *row; /* the row that left it; NULL: nothing */
    int64_t id;
    int64_t building; /* the building of a person's house (id is the house) */
    int64_t chain[5];
} bd_import_memo;

/* One data row: its fields in header order (leading and trailing spaces and
 * tabs trimmed), the line of the file on which it starts, its batch's memo,
 * and what was found before the write: the entity's prep of the row, or why
 * the row is bad (a wrong field count, an empty required cell, prep's own
 * checks; bad->code is the error). */
typedef struct bd_import_row {
    const char *const *field;
    size_t nfield;
    long line;
    bd_import_memo *memo;
    void *prep;
    const gr_err *bad;
} bd_import_row;

/* A per-entity row function, run inside a write (the framework rolls a
 * failing row back whole). Returns 0
 * (stored or unchanged), or GR_EINVAL (GR_EEXIST, GR_ECONFLICT, GR_ENOTFOUND,
 * GR_EFORBIDDEN likewise make the row bad) with err->field naming the CSV
 * column and err->msg the reason; GR_EINTERNAL stops the import. col holds
 * the header index of each of the entity's columns (-1 when absent).
 * *changed = 0 when the row equals what is stored. */
typedef int (*bd_import_fn)(gr_ctx *ctx, db_conn *c, const bd_actor *who, const bd_import_row *row,
                            const int *col, int *changed, gr_err *err);

/* An entity's optional work on a row that needs no database (checks,
 * sealing personal fields), done in the reading thread while the writer
 * stores the batch before, so that less of a row is left for the one
 * writer. 0 with *out set (allocated from a, which lives as long as the
 * batch), or the row's error as for bd_import_fn; the row function then
 * finds it in row->prep. */
typedef int (*bd_import_prep_fn)(gr_ctx *ctx, const bd_import_row *row, const int *col, arena *a,
                                 void **out, gr_err *err);

typedef struct bd_import_entity {
    const char *name; /* "orgs", "facilities" ... as in the command and the URL */
    const char *const *columns;
    size_t ncolumns;
    const char *const *required; /* columns the header must have and every row must fill */
    size_t nrequired;
    bd_import_fn row;
    bd_import_prep_fn prep; /* NULL: none */
} bd_import_entity;

typedef struct bd_import_result {
    int64_t rows, stored, unchanged, bad;
} bd_import_result;

/* Streams the CSV (header row first, names as in e->columns) through db_write
 * in batches, reading (and preparing) the next batch while the writer
 * stores one; invalid rows go to report (may be NULL). 0 when the file was
 * read to its end (bad rows are counted in out, not errors). GR_EINVAL
 * (field "file") for a header that does not fit e, or for a CSV syntax error
 * (the rows before it are stored and the error is also in the report);
 * GR_EINTERNAL for a storage failure (the batch in flight is not stored). */
int bd_import_run(gr_ctx *ctx, const bd_import_entity *e, csv_reader *in, const bd_actor *who,
                  FILE *report, bd_import_result *out, gr_err *err);
/* The same with batch_rows rows a batch (BD_IMPORT_BULK for the command). */
int bd_import_run_batched(gr_ctx *ctx, const bd_import_entity *e, csv_reader *in,
                          const bd_actor *who, FILE *report, size_t batch_rows,
                          bd_import_result *out, gr_err *err);

/* The value of the entity's column k in row, or NULL when the header has no
 * such column or the cell is empty. For row functions. */
const char *bd_import_value(const bd_import_row *row, const int *col, size_t k);

/* Finds an entity by its name: B's (orgs, facilities, spaces) and, when they
 * are built in, A's (buildings, houses, people). NULL when unknown. */
const bd_import_entity *bd_import_find(const char *name);
/* The names bd_import_find knows, space-separated (for help and errors). */
const char *bd_import_names(void);

/* grassroots import orgs|facilities|spaces|buildings|houses|people FILE
 * --report OUT.csv [--steward ORG_CODE] (bd_import_cli.c). */
extern const char bd_cli_import_help[];
/* 1 when what names a base-data entity the command imports. */
int bd_cli_is_entity(const char *what);
int bd_cli_import(gr_ctx *ctx, int argc, char **argv);

#endif
