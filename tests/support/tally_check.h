/* The area tallies (src/basedata/bd_tally.h) against the tables they count:
 * SQL that unit and HTTP tests run with their own query function. */
#ifndef GR_TEST_TALLY_CHECK_H
#define GR_TEST_TALLY_CHECK_H

/* Tally k (0 population, 1 care tags, 2 houses): a query of one integer,
 * the rows where the tally and a fresh count over the tables disagree (both
 * ways round, rows of 0 aside) plus the counts below 0; 0 when exact. NULL
 * past the last tally. */
const char *gr_tally_check_sql(int k);

/* The name of tally k, for a failure message. */
const char *gr_tally_name(int k);

#endif
