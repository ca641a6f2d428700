/* The streamed CSV import framework (bd_import.h). */
#include "basedata/bd_import.h"
#include "basedata/bd_tally.h"
#include "base/arena.h"
#include "base/csv.h"
#include "base/buf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* One batch: the rows read by the caller's thread, stored by the writer. */
struct batch {
    gr_ctx *ctx;
    const bd_import_entity *e;
    const bd_actor *who;
    const int *col;
    size_t nheader;
    bd_import_row *rows;
    size_t n, bytes;
    size_t max_rows, max_bytes;
    arena *a;
    buf report;             /* this batch's report lines, written once it commits */
    bd_import_result count; /* this batch's counts, added once it commits */
    int in_groups;          /* a row failed after writing: run again in groups */
    bd_import_memo memo;
};

static void report_line(buf *b, long line, const char *column, const char *reason)
{
    buf_printf(b, "%ld,", line);
    csv_field_to_buf(b, column ? column : "", 0);
    buf_puts(b, ",");
    csv_field_to_buf(b, reason && reason[0] ? reason : "invalid", 0);
    buf_puts(b, "\n");
}

static int report_flush(FILE *report, buf *b, gr_err *err)
{
    if (report && b->len && fwrite(b->data, 1, b->len, report) != b->len)
        return err_set(err, GR_EINTERNAL, "report", "cannot write the error report");
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
    return 0;
}

const char *bd_import_value(const bd_import_row *row, const int *col, size_t k)
{
    const char *v;

    if (col[k] < 0 || (size_t)col[k] >= row->nfield)
        return NULL;
    v = row->field[col[k]];
    return v && v[0] ? v : NULL;
}

/* Checks what the framework can check before the row function: the field
 * count and the required cells. */
static int row_precheck(const struct batch *b, const bd_import_row *row, gr_err *bad)
{
    size_t k, j;

    if (row->nfield != b->nheader)
        return err_set(bad, GR_EINVAL, "", "has %zu fields; the header has %zu", row->nfield,
                       b->nheader);
    for (k = 0; k < b->e->nrequired; k++)
        for (j = 0; j < b->e->ncolumns; j++)
            if (strcmp(b->e->columns[j], b->e->required[k]) == 0 &&
                !bd_import_value(row, b->col, j))
                return err_set(bad, GR_EINVAL, b->e->required[k], "is required");
    return 0;
}

/* A batch runs its rows straight, without a savepoint of their own: a bad
 * row is nearly always refused before it writes anything (a checksum, an
 * unknown house, a duplicate key), and is then just reported. Only a row
 * that fails after writing sends the batch back (the writer undoes it), to
 * run again GROUP rows at a time inside one savepoint, a group with a
 * failing row again a row at a time, each in a savepoint of its own. A
 * savepoint inside the writer's transaction copies every page it touches
 * into the statement journal once more: a savepoint per row was 85% of an
 * import's time, and one per 64 rows still 27% (docs/basedata.md). */
enum { GROUP = 64 };

/* Row i: the error found before the write, or its row function, in a
 * savepoint of its own when alone. 0 (counted), a row's own error
 * (reported, counted bad: 0 returned), or a storage error. *failed: the
 * row function failed. */
static int row_run(struct batch *b, db_conn *c, size_t i, int alone, int *failed, gr_err *err)
{
    const bd_import_row *row = &b->rows[i];
    gr_err bad = {0};
    int changed = 0, rc;

    b->count.rows++;
    if (row->bad) {
        bad = *row->bad;
        rc = bad.code < 0 ? bad.code : GR_EINVAL;
    } else {
        size_t mark = bd_tally_mark();

        if (alone && db_exec_one(c, "SAVEPOINT bd_row", err))
            return GR_EINTERNAL;
        rc = b->e->row(b->ctx, c, b->who, row, b->col, &changed, &bad);
        *failed = rc < 0;
        if (alone && rc < 0) {
            db_exec_one(c, "ROLLBACK TO bd_row", NULL);
            bd_tally_undo(mark);
        }
        if (alone)
            db_exec_one(c, "RELEASE bd_row", NULL);
    }
    if (rc == GR_EINTERNAL || rc == GR_EUNAVAIL) {
        *err = bad;
        if (!err->msg[0])
            err_set(err, rc, "", "line %ld: storage error", row->line);
        return rc;
    }
    if (rc < 0) {
        report_line(&b->report, row->line, bad.field, bad.msg[0] ? bad.msg : err_name(rc));
        b->count.bad++;
    } else if (changed) {
        b->count.stored++;
    } else {
        b->count.unchanged++;
    }
    return 0;
}

/* Rows [from, to): together, or, when one of them fails after writing, one
 * at a time (the group's writes, counts and report lines undone first). */
static int group_run(struct batch *b, db_conn *c, size_t from, size_t to, gr_err *err)
{
    bd_import_result count = b->count;
    size_t report_len = b->report.len, mark = bd_tally_mark(), i;
    int failed = 0, alone_failed = 0, rc = 0;

    if (db_exec_one(c, "SAVEPOINT bd_group", err))
        return GR_EINTERNAL;
    for (i = from; i < to && !rc && !failed; i++)
        rc = row_run(b, c, i, 0, &failed, err);
    if (failed) {
        db_exec_one(c, "ROLLBACK TO bd_group", NULL);
        memset(&b->memo, 0, sizeof(b->memo));
        bd_tally_undo(mark);
        b->count = count;
        b->report.len = report_len;
    }
    db_exec_one(c, "RELEASE bd_group", NULL);
    for (i = from; failed && i < to && !rc; i++)
        rc = row_run(b, c, i, 1, &alone_failed, err);
    return rc;
}

/* All rows, no savepoint; GR_ECONFLICT with b->in_groups set when a row
 * failed after it had written (so the writer undoes the batch). */
static int straight_run(struct batch *b, db_conn *c, gr_err *err)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < b->n && !rc; i++) {
        int64_t before = db_total_changes(c);
        size_t mark = bd_tally_mark();
        int failed = 0;

        rc = row_run(b, c, i, 0, &failed, err);
        if (rc || !failed)
            continue;
        bd_tally_undo(mark);
        if (db_total_changes(c) != before) {
            b->in_groups = 1;
            rc = err_set(err, GR_ECONFLICT, "", "line %ld failed after writing", b->rows[i].line);
        }
    }
    return rc;
}

static int batch_fn(db_conn *c, void *arg, gr_err *err)
{
    struct batch *b = arg;
    size_t i;
    int rc = 0;

    memset(&b->count, 0, sizeof(b->count));
    memset(&b->memo, 0, sizeof(b->memo));
    b->report.len = 0;
    bd_tally_defer(1);
    if (!b->in_groups)
        rc = straight_run(b, c, err);
    else
        for (i = 0; i < b->n && !rc; i += GROUP)
            rc = group_run(b, c, i, i + GROUP < b->n ? i + GROUP : b->n, err);
    if (!rc)
        return bd_tally_flush(c, err);
    bd_tally_defer(0);
    return rc;
}

/* Writes the rows read so far, then adds their counts and report. */
static int batch_commit(struct batch *b, FILE *report, bd_import_result *out, gr_err *err)
{
    int rc = 0;

    if (b->n)
        rc = db_write(b->ctx->db, batch_fn, b, err);
    if (rc == GR_ECONFLICT && b->in_groups)
        rc = db_write(b->ctx->db, batch_fn, b, err);
    b->in_groups = 0;
    if (!rc) {
        out->rows += b->count.rows;
        out->stored += b->count.stored;
        out->unchanged += b->count.unchanged;
        out->bad += b->count.bad;
        rc = report_flush(report, &b->report, err);
    }
    memset(&b->count, 0, sizeof(b->count));
    b->n = 0;
    b->bytes = 0;
    arena_reset(b->a);
    return rc;
}

static char *trimdup(arena *a, const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return arena_strndup(a, s, len);
}

/* Maps the header row to the entity's columns. */
static int header_map(const bd_import_entity *e, csv_reader *in, arena *a, int *col, gr_err *err)
{
    size_t i, k, n = csv_nfields(in);

    for (k = 0; k < e->ncolumns; k++)
        col[k] = -1;
    for (i = 0; i < n; i++) {
        size_t len;
        const char *f = csv_field(in, i, &len);
        const char *h = trimdup(a, f, len);

        for (k = 0; k < e->ncolumns && strcmp(e->columns[k], h) != 0; k++)
            ;
        if (k == e->ncolumns)
            return err_set(err, GR_EINVAL, "file", "line %ld: unknown column '%.60s' for %s",
                           csv_line(in), h, e->name);
        if (col[k] >= 0)
            return err_set(err, GR_EINVAL, "file", "line %ld: column '%s' appears twice",
                           csv_line(in), h);
        col[k] = (int)i;
    }
    for (i = 0; i < e->nrequired; i++) {
        for (k = 0; k < e->ncolumns && strcmp(e->columns[k], e->required[i]) != 0; k++)
            ;
        if (k == e->ncolumns || col[k] < 0)
            return err_set(err, GR_EINVAL, "file", "the header lacks the required column %s",
                           e->required[i]);
    }
    return 0;
}

/* Copies the reader's current record into the batch, with what can be
 * found out about it before the write. */
static void batch_add(struct batch *b, csv_reader *in)
{
    bd_import_row *row = &b->rows[b->n++];
    gr_err bad = {0};
    size_t i, n = csv_nfields(in);
    const char **f = arena_alloc(b->a, (n ? n : 1) * sizeof(*f));

    for (i = 0; i < n; i++) {
        size_t len;
        const char *s = csv_field(in, i, &len);

        f[i] = trimdup(b->a, s, len);
        b->bytes += len + sizeof(*f);
    }
    row->field = f;
    row->nfield = n;
    row->line = csv_line(in);
    row->memo = &b->memo;
    row->prep = NULL;
    row->bad = NULL;
    if (row_precheck(b, row, &bad) < 0 ||
        (b->e->prep && b->e->prep(b->ctx, row, b->col, b->a, &row->prep, &bad) < 0)) {
        gr_err *keep = arena_alloc(b->a, sizeof(*keep));

        *keep = bad;
        row->bad = keep;
    }
}

/* The line of a CSV syntax error ("line N: ..."), or 0. */
static long error_line(const gr_err *e)
{
    return strncmp(e->msg, "line ", 5) == 0 ? strtol(e->msg + 5, NULL, 10) : 0;
}

int bd_import_run(gr_ctx *ctx, const bd_import_entity *e, csv_reader *in, const bd_actor *who,
                  FILE *report, bd_import_result *out, gr_err *err)
{
    return bd_import_run_batched(ctx, e, in, who, report, BD_IMPORT_BATCH, out, err);
}

/* The batch being stored, in a thread of its own while the caller's
 * thread reads and prepares the next one into the other batch. Commits
 * stay in file order: a batch is handed over only once the one before it
 * has committed. */
struct commit {
    pthread_t thread;
    int running;
    struct batch *b;
    FILE *report;
    bd_import_result *out;
    gr_err err;
    int rc;
};

static void *commit_main(void *arg)
{
    struct commit *k = arg;

    k->rc = batch_commit(k->b, k->report, k->out, &k->err);
    return NULL;
}

/* Waits for the batch in flight; its error goes to err. */
static int commit_wait(struct commit *k, gr_err *err)
{
    if (!k->running)
        return 0;
    pthread_join(k->thread, NULL);
    k->running = 0;
    if (k->rc)
        *err = k->err;
    return k->rc;
}

/* Hands b to the committing thread (the one before must have committed). */
static int commit_start(struct commit *k, struct batch *b, gr_err *err)
{
    k->b = b;
    k->rc = 0;
    memset(&k->err, 0, sizeof(k->err));
    if (pthread_create(&k->thread, NULL, commit_main, k) != 0)
        return batch_commit(b, k->report, k->out, err);
    k->running = 1;
    return 0;
}

static int batch_init(struct batch *b, gr_ctx *ctx, const bd_import_entity *e, const bd_actor *who,
                      const int *col, size_t batch_rows)
{
    memset(b, 0, sizeof(*b));
    b->ctx = ctx;
    b->e = e;
    b->who = who;
    b->col = col;
    b->a = arena_new();
    b->max_rows = batch_rows ? batch_rows : BD_IMPORT_BATCH;
    b->max_bytes = (size_t)BD_IMPORT_BATCH_BYTES / BD_IMPORT_BATCH * b->max_rows;
    b->rows = calloc(b->max_rows, sizeof(*b->rows));
    return b->a && b->rows ? 0 : -1;
}

static void batch_free(struct batch *b)
{
    buf_free(&b->report);
    arena_free(b->a);
    free(b->rows);
}

int bd_import_run_batched(gr_ctx *ctx, const bd_import_entity *e, csv_reader *in,
                          const bd_actor *who, FILE *report, size_t batch_rows,
                          bd_import_result *out, gr_err *err)
{
    struct batch two[2], *b = &two[0];
    struct commit k;
    int *col = calloc(e->ncolumns ? e->ncolumns : 1, sizeof(*col));
    int rc, syntax = 0;
    /* The rows of the batch being read. The writer waits for the first
     * batch, so batches start small and double up to the full size: each is
     * read while the one before (half its size) is written, and reading a
     * row takes a quarter of the time that writing it does. */
    size_t ramp;

    memset(out, 0, sizeof(*out));
    memset(&k, 0, sizeof(k));
    k.report = report;
    k.out = out;
    rc = batch_init(&two[0], ctx, e, who, col, batch_rows);
    ramp = two[0].max_rows / 64 ? two[0].max_rows / 64 : 1;
    if (batch_init(&two[1], ctx, e, who, col, batch_rows) || rc || !col) {
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
        goto out;
    }
    if (report && fputs("line,column,reason\n", report) == EOF) {
        rc = err_set(err, GR_EINTERNAL, "report", "cannot write the error report");
        goto out;
    }
    rc = csv_next(in, err);
    if (rc == 0)
        rc = err_set(err, GR_EINVAL, "file", "the file is empty: a header row was expected");
    if (rc < 0)
        goto out;
    two[0].nheader = two[1].nheader = csv_nfields(in);
    rc = header_map(e, in, b->a, col, err);
    arena_reset(b->a);
    while (!rc) {
        int more = csv_next(in, err);

        if (more == 0)
            break;
        if (more < 0) {
            syntax = 1;
            rc = more;
            break;
        }
        batch_add(b, in);
        if (b->n >= ramp || b->bytes >= b->max_bytes) {
            rc = commit_wait(&k, err);
            if (!rc)
                rc = commit_start(&k, b, err);
            b = b == &two[0] ? &two[1] : &two[0];
            ramp = ramp < b->max_rows / 2 ? 2 * ramp : b->max_rows;
        }
    }
    if (rc == 0) {
        rc = commit_wait(&k, err);
        if (!rc)
            rc = batch_commit(b, report, out, err);
    } else if (syntax) {
        /* A syntax error ends the file here: what came before is stored,
         * and the error is reported like a bad row. */
        gr_err syn = *err;
        int crc = commit_wait(&k, err);

        if (!crc)
            crc = batch_commit(b, report, out, err);
        if (crc) {
            rc = crc;
            goto out;
        }
        *err = syn;
        if (!err->field[0])
            snprintf(err->field, sizeof(err->field), "file");
        report_line(&b->report, error_line(&syn), "", syn.msg);
        out->bad++;
        out->rows++;
        report_flush(report, &b->report, NULL);
    }
out:
    if (k.running) {
        gr_err late;

        commit_wait(&k, &late);
    }
    if (report)
        fflush(report);
    batch_free(&two[0]);
    batch_free(&two[1]);
    free(col);
    return rc;
}

/* ---- the entities ---- */

#include "basedata/bd_model.h"
#include "basedata/bd_units.h"

static const bd_import_entity *const entities[] = {
    &bd_import_orgs,      &bd_import_facilities, &bd_import_spaces,
    &bd_import_buildings, &bd_import_houses,     &bd_import_people,
};

const bd_import_entity *bd_import_find(const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof(entities) / sizeof(entities[0]); i++)
        if (strcmp(entities[i]->name, name) == 0)
            return entities[i];
    return NULL;
}

const char *bd_import_names(void)
{
    return "orgs facilities spaces buildings houses people";
}
