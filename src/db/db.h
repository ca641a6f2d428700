/*
 * The storage API. Nothing outside src/db/ includes sqlite3.h: modules speak
 * to storage through these calls, so a PostgreSQL driver can sit behind the
 * same API later.
 *
 * Reads: db_reader() gives the calling thread its own read-only connection
 * (opened on first use, closed by db_close). Statements are prepared once per
 * connection and cached by SQL text: db_prepare() returns a reset statement,
 * db_done() gives it back.
 *
 * Writes: a caller never opens a transaction. It hands a function to the
 * group-commit writer with db_write(); the writer thread runs many submitted
 * functions in one transaction, each inside its own SAVEPOINT (a failing
 * function rolls back only its own work), commits once with synchronous=FULL,
 * and only then wakes every caller of that batch.
 */
#ifndef GR_DB_DB_H
#define GR_DB_DB_H

#include "base/arena.h"
#include "base/err.h"
#include "base/metrics.h"

#include <stddef.h>
#include <stdint.h>

typedef struct db db;           /* owner: whoever called db_open */
typedef struct db_conn db_conn; /* owned by the db */
typedef struct db_stmt db_stmt; /* owned by its connection's cache */

enum { DB_DONE = 0, DB_ROW = 1 };

/* Opens (creating if needed) the database file at path and its writer connection. */
int db_open(db **out, const char *path, gr_err *err);
/* Flushes the writer queue, stops the writer, closes every connection. NULL is fine. */
void db_close(db *d);

/* Applies the compiled-in migrations that are missing, each in its own
 * transaction. Refuses (GR_ETOONEW) a database whose schema is newer than this
 * binary. *applied (may be NULL) receives the number applied. */
int db_migrate(db *d, int *applied, gr_err *err);
/* The schema version of the database and the newest this binary knows. */
int db_schema_version(db *d, int *db_version, int *binary_version, gr_err *err);

/* Starts the writer thread. Until then db_write() runs the function inline
 * in its own transaction (used by one-shot commands). */
int db_writer_start(db *d, gr_err *err);

/* Sets the page cache of the writer connection to mib MiB (64 by default),
 * before db_writer_start (GR_EINTERNAL after). For a one-shot command that
 * writes far more than the server does in a commit: `grassroots import` of
 * a million people (docs/benchmarks.md). */
int db_writer_cache(db *d, int mib, gr_err *err);

/* The checkpointer copies the WAL back into the database in a thread of its
 * own, beside the writer, instead of inside a commit. db_writer_start starts
 * it; a one-shot command that writes in many commits (`grassroots import`)
 * starts it alone. */
int db_checkpointer_start(db *d, gr_err *err);

/* With the checkpointer running, a commit that leaves more than pages in
 * the WAL waits for a checkpoint begun after it, so that the next write
 * starts the WAL from its beginning again: the writer thread between two
 * batches, a one-shot command's db_write before it returns. A writer that
 * never pauses still keeps its WAL bounded. 16,384 (64 MiB) unless set,
 * before db_writer_start. */
void db_writer_wal_limit(db *d, int pages);

typedef int (*db_write_fn)(db_conn *c, void *arg, gr_err *err);
/* Runs fn inside the writer's transaction and returns its result once the
 * transaction is durable (or the commit's failure). */
int db_write(db *d, db_write_fn fn, void *arg, gr_err *err);

/* Adds fn to what every write transaction runs after its batch's writes and
 * before its COMMIT, outside their savepoints: work that is cheaper once a
 * batch than once a write (the full-text index flushes a segment at every
 * savepoint). Its failure rolls the whole batch back, so it must only fail
 * when storage does. At most DB_COMMIT_HOOKS; register before
 * db_writer_start. GR_ETOOBIG when full. */
enum { DB_COMMIT_HOOKS = 4 };
int db_on_commit(db *d, db_write_fn fn, void *arg, gr_err *err);

/* The calling thread's read connection; NULL (with a log line) if it cannot be opened. */
db_conn *db_reader(db *d);
/* A read snapshot for the calling thread's reads until db_read_end or its
 * next db_write (which ends it first, so that the caller then reads what it
 * wrote): one read transaction instead of one a statement. Every new read
 * transaction looks at the WAL, and when the writer has committed since the
 * connection's last one (under steady writes, nearly always) SQLite empties
 * the connection's page cache; within one snapshot the pages a request
 * reads twice are read once. For a request's handler, not for loops that
 * run long. */
void db_read_begin(db *d);
/* Ends the calling thread's read snapshot, if it has one. */
void db_read_end(db *d);

/* Statements. Parameters are 1-based, columns 0-based, as in SQLite. */
db_stmt *db_prepare(db_conn *c, const char *sql, gr_err *err);
void db_done(db_stmt *st);
/* Readies st to run again with new bindings (a statement run in a loop). */
void db_reset(db_stmt *st);
/* DB_ROW, DB_DONE, or a negative code: GR_EEXIST for a UNIQUE violation,
 * GR_ECONFLICT for another constraint, GR_EINTERNAL otherwise (logged). */
int db_step(db_stmt *st, gr_err *err);
/* Steps until done; 0 or a negative code. Does not call db_done. */
int db_run(db_stmt *st, gr_err *err);

void db_bind_int(db_stmt *st, int i, int64_t v);
void db_bind_double(db_stmt *st, int i, double v);
void db_bind_text(db_stmt *st, int i, const char *s); /* NULL binds NULL; copied */
void db_bind_textn(db_stmt *st, int i, const char *s, size_t n);
void db_bind_blob(db_stmt *st, int i, const void *p, size_t n);
void db_bind_null(db_stmt *st, int i);
/* As db_bind_text and db_bind_blob, without the copy: s (p) must stay as it
 * is until db_done. For the statements an import runs once a row, where the
 * copies and their frees were some 5% of the writer's work. */
void db_bind_text_ref(db_stmt *st, int i, const char *s);
void db_bind_textn_ref(db_stmt *st, int i, const char *s, size_t n);
void db_bind_blob_ref(db_stmt *st, int i, const void *p, size_t n);
/* Binds v, or NULL when v <= 0 (an absent id, time or status). */
void db_bind_int_or_null(db_stmt *st, int i, int64_t v);

int64_t db_col_int(db_stmt *st, int i);
double db_col_double(db_stmt *st, int i);
const char *db_col_text(db_stmt *st, int i); /* NULL for NULL; valid until the next step */
/* A copy of text column i in a that outlives the step; NULL for NULL. */
const char *db_col_textdup(db_stmt *st, int i, arena *a);
const void *db_col_blob(db_stmt *st, int i, size_t *len);
int db_col_is_null(db_stmt *st, int i);
int db_col_count(db_stmt *st);
const char *db_col_name(db_stmt *st, int i);

/* Fills one element of a page from the current row (strings into a). */
typedef void (*db_row_reader)(db_stmt *st, arena *a, void *out);
/* Reads a page from st, a query for limit + 1 rows: at most limit rows into a
 * new array of size-byte elements (*out, in a), and *more when one more row
 * came, so another page follows. Does not call db_done. */
int db_read_page(db_stmt *st, arena *a, int64_t limit, size_t size, db_row_reader read, void **out,
                 size_t *n, int *more, gr_err *err);

/* Steps st for one row and reads it into out: 0, GR_ENOTFOUND (a generic
 * message: callers name what was missing) when there is no row, or the
 * step's error. Does not call db_done. */
int db_read_one(db_stmt *st, arena *a, db_row_reader read, void *out, gr_err *err);

/* Runs SQL text without parameters (several statements allowed). */
int db_exec(db_conn *c, const char *sql, gr_err *err);
/* Runs one statement without parameters, prepared once per connection (the
 * statement cache): for what runs often, e.g. SAVEPOINT and RELEASE. */
int db_exec_one(db_conn *c, const char *sql, gr_err *err);
int64_t db_last_id(db_conn *c);
int db_changes(db_conn *c);
/* Rows written by the connection's finished statements since it opened
 * (triggers' too; a statement that failed and was undone adds nothing):
 * equal before and after a piece of work means it wrote nothing. */
int64_t db_total_changes(db_conn *c);

/* One-shot helper: the first column of the first row as an integer (def if no row). */
int db_query_int(db_conn *c, const char *sql, int64_t param, int64_t def, int64_t *out,
                 gr_err *err);

/* Online backup of the live database into dest (a new file); consistent while
 * the server runs. */
int db_backup(db *d, const char *dest, gr_err *err);

/* Whether the database answers (a trivial read on this thread's connection). */
int db_ping(db *d);

/* Writer statistics for /metrics. */
typedef struct db_stats {
    uint64_t commits;
    uint64_t writes;
    uint64_t failed_writes;
    const metrics_hist *batch_size;
    const metrics_hist *commit_seconds;
} db_stats;
void db_get_stats(db *d, db_stats *out);

#endif
