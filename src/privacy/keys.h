/*
 * Rotating the field key (docs/privacy.md, "Rotating the field key"): a new
 * random field key, every sealed value (sealed.h) re-encrypted with it, and
 * the keys file switched, safely against a crash at any point. The index key
 * is kept: see the docs for why.
 *
 * The steps, and what a crash after each leaves:
 *  1. DIR/keys.next (0600) is written whole and durable (crypto_keys_write):
 *     the new field key and the unchanged index key. Before it, nothing was
 *     touched; from then on crypto_load_keys refuses to start the server.
 *  2. Each sealed column is walked in id order in batches, one db_write per
 *     batch: a value that opens with the new key is left alone (an earlier,
 *     interrupted run did it), one that opens with the old key is sealed
 *     again with the new key, one that opens with neither stops the
 *     rotation with an error naming the column and row (that batch is rolled
 *     back; committed batches stay, and --resume continues once it is
 *     fixed). So a run with resume set, after a crash, finishes the work.
 *  3. One write checks that every value opens with the new key and appends
 *     the "key.rotate" audit entry (counts per column in its detail).
 *  4. keys.next is renamed over DIR/keys and the directory is synced. A crash
 *     before the rename leaves keys.next: --resume redoes 3 (a second audit
 *     entry) and 4.
 */
#ifndef GR_PRIVACY_KEYS_H
#define GR_PRIVACY_KEYS_H

#include "base/err.h"
#include "privacy/sealed.h"

#include <stdint.h>

enum { KEYS_MAX_COLUMNS = 32 };

typedef struct keys_rotate_opts {
    int resume;    /* finish the rotation DIR/keys.next records; required when it exists */
    int64_t batch; /* rows per write; 0: 256 */
    /* The columns to walk; NULL: sealed_columns (the tests give their own). */
    const sealed_column *cols;
    size_t ncols;
    /* Tests: return GR_EUNAVAIL, as a crash would leave things, once this
     * many values have been re-encrypted (0: never). */
    int64_t stop_after;
} keys_rotate_opts;

typedef struct keys_rotate_report {
    size_t ncols;
    int64_t total[KEYS_MAX_COLUMNS];    /* values in each column (all under the new key) */
    int64_t resealed[KEYS_MAX_COLUMNS]; /* of them, re-encrypted by this run */
    int resumed;
} keys_rotate_report;

/* Rotates the field key of the data directory dir (steps above). The
 * database must not be open in any other process: GR_EUNAVAIL naming "data"
 * when it is (a server, a backup; found through SQLite's shared-memory lock,
 * so a server that starts during the rotation is not seen: keep it stopped).
 * GR_EINVAL naming "keys" when keys.next exists without o->resume, or resume
 * is asked with no keys.next, or the two files' index keys differ; naming
 * the column (its registry name) when a value opens with neither key or
 * when a table's entries do not cover all its sealed rows. out may be NULL. */
int keys_rotate(const char *dir, const keys_rotate_opts *o, keys_rotate_report *out, gr_err *err);

/* `grassroots keys rotate [--resume] [--data DIR]`: argv[0] is "keys". It
 * opens the data directory itself (not the whole application: no thread may
 * read a key while it changes). Exit 0 done, 1 failure, 2 bad usage. */
extern const char keys_cli_help[];
int keys_cli(int argc, char **argv);

#endif
