/* Database fixtures the unit tests share: a migrated database in a temporary
 * directory, reads that fail the test instead of returning codes, and
 * test-only writes behind the models' backs. */
#ifndef GR_TESTS_TESTDB_H
#define GR_TESTS_TESTDB_H

#include "cases/cases.h"
#include "db/db.h"
#include "http/http.h"

#include <stddef.h>
#include <stdint.h>

/* The source tree (GR_SOURCE_DIR, set by CTest; "." otherwise). */
const char *gr_source_dir(void);
/* Makes a temporary directory named after name (path in dir) and opens a
 * migrated database t.db in it; fails the test when it cannot. */
void gr_testdb_open(db **d, char *dir, size_t len, const char *name);
/* The reader connection of d; fails the test when there is none. */
db_conn *gr_testdb_reader(db *d);
/* The integer sql yields with ?1 = param (-1 when no row); fails the test on
 * an error. */
int64_t gr_testdb_int(db *d, const char *sql, int64_t param);
/* A db_write function running the SQL text arg (for writes expected to fail). */
int gr_testdb_exec_fn(db_conn *c, void *arg, gr_err *err);
/* Runs the SQL text fmt makes in a write; fails the test on an error. */
void gr_testdb_exec(db *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the application in a new temporary directory named after name (path
 * in dir) with the demo district, catalogue and accounts loaded; fails the
 * test when it cannot. Close with app_close and gr_tmpdir_remove. */
void gr_testdb_demo_app(gr_ctx *ctx, char *dir, size_t len, const char *name);
/* The principal of demo account username, as the auth hook makes it (fails
 * the test when there is none); strings in a. */
http_principal gr_testdb_principal(db *d, arena *a, const char *username);
/* The demo accounts names[0 .. n) as principals and as case actors (their
 * strings in a). */
void gr_testdb_case_actors(db *d, arena *a, const char *const *names, size_t n,
                           http_principal *principals, case_actor *actors);
/* The demo places the case tests work in: the district 110105, the grid
 * inspector's grid 110105001024001, the departments 城管 and 市政 of the
 * district, and a point (lat, lon) inside that grid; an out may be NULL.
 * Fails the test when one is missing. */
void gr_testdb_demo_places(gr_ctx *ctx, int64_t *district, int64_t *grid, int64_t *cgw,
                           int64_t *szsr, double *lat, double *lon);
/* The id of the catalogue category with code (fails the test when none). */
int64_t gr_testdb_category(db *d, const char *code);

/* Whether a lattice point in grid will do. */
typedef int (*gr_point_ok)(gr_ctx *ctx, int64_t grid, void *arg);
/* The first centre of a cells x cells lattice over the demo district, from
 * row from_row on, that lies in a grid ok accepts, and that grid (grid may be
 * NULL); -1 when there is none. */
int gr_testdb_lattice_point(gr_ctx *ctx, int cells, int from_row, gr_point_ok ok, void *arg,
                            double *lat, double *lon, int64_t *grid);
/* The first centre of a 400 x 400 lattice over the demo district that lies
 * in grid; or, from row from_row + 1 on, in a grid other than grid. */
int gr_testdb_point_in(gr_ctx *ctx, int64_t grid, double *lat, double *lon);
int gr_testdb_point_outside(gr_ctx *ctx, int64_t grid, int from_row, double *lat, double *lon);
/* The first centre of a cells x cells lattice over the demo district that
 * lies in a grid inside (want_in) or outside unit's subtree, and that grid
 * (grid may be NULL); -1 when there is none. */
int gr_testdb_demo_point(gr_ctx *ctx, int64_t unit, int want_in, int cells, double *lat,
                         double *lon, int64_t *grid);

#endif
