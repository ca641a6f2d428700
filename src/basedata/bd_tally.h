/*
 * The tallies behind the counts of a unit area (docs/basedata.md, "Area
 * queries, the emergency view and statistics"): bd_pop_tally (unit,
 * residency, sex, birth year), bd_tag_tally (unit, care tag) and
 * bd_house_tally (unit, occupancy), each live row counted once under every
 * unit of its chain. The writers of people and houses keep them, in the
 * same transaction as the row: a row counts with delta +1 once written live,
 * and is taken out with -1 before it changes or is retired.
 */
#ifndef GR_BASEDATA_BD_TALLY_H
#define GR_BASEDATA_BD_TALLY_H

#include "base/err.h"
#include "basedata/bd_model.h"
#include "db/db.h"

#include <stddef.h>

/* The population tally keeps the city, district, street and community of a
 * chain, not the grid (migration 0021): a grid's tally held about one
 * person a row (614,000 rows for 1,000,000 people) and made two thirds of
 * an import's tally writes, while a grid's few hundred people are counted
 * from their own index as fast as its tally rows were read (bd_area.c). */
enum { BD_TALLY_POP_LEVELS = 4 };

/* A person's population key and care tags, under each unit of its chain. */
int bd_tally_person(db_conn *c, const bd_person *p, int delta, gr_err *err);

/* Whether two versions of a person count the same (chain, residency, sex,
 * birth year, care tags, live), so a write that keeps them skips the tally. */
int bd_tally_person_same(const bd_person *a, const bd_person *b);

/* A house's occupancy under each unit of its chain. */
int bd_tally_house(db_conn *c, const bd_house *h, int delta, gr_err *err);

/* Every live row under a place whose chain is about to change or has just
 * changed: entity "building" (its houses and their people) or "house" (its
 * people). Called with -1 before the cascade and +1 after it. */
int bd_tally_place(db_conn *c, const char *entity, int64_t id, int delta, gr_err *err);

/* A batch of many rows (an import's) counts them in memory and writes the
 * sums once, before its commit: five upserts a person were a fifth of an
 * import's time. On the writer thread, inside one db_write: defer(1) first;
 * mark before a savepoint and undo(mark) after rolling back to it; flush at
 * the end (it writes the sums and stops deferring), or defer(0) to drop
 * them when the write fails. */
void bd_tally_defer(int on);
size_t bd_tally_mark(void);
void bd_tally_undo(size_t mark);
int bd_tally_flush(db_conn *c, gr_err *err);

/* Recomputes all three tallies from the tables (what migration 0015 did
 * first), inside the caller's db_write: for a bulk loader that wrote rows
 * past the model, or to repair a tally. Rows of count 0 are left out. */
int bd_tally_rebuild(db_conn *c, gr_err *err);

/* grassroots tally rebuild (bd_tally_cli.c). */
extern const char bd_tally_cli_help[];
int bd_tally_cli(gr_ctx *ctx, int argc, char **argv);

#endif
