/*
 * The registry of sealed columns: every place where a value sealed with the
 * field key (crypto_seal) is stored, with the additional data it was sealed
 * with. The field-key rotation (keys.h) walks exactly this list, so a new
 * sealed column must be added here, or the rotation leaves its values under
 * the old key and they no longer open (tests/unit/test_keys.c checks each
 * entry against the module that seals it).
 *
 * The ad strings are repeated here rather than taken from the modules'
 * headers: privacy sits below cases, notify and basedata (src/CMakeLists.txt)
 * and must not include them.
 */
#ifndef GR_PRIVACY_SEALED_H
#define GR_PRIVACY_SEALED_H

#include <stddef.h>

typedef struct sealed_column {
    const char *name;     /* for messages and the audit detail: "users.phone_enc" */
    const char *table;    /* the table, */
    const char *id_col;   /* its integer key (the walk's cursor), */
    const char *blob_col; /* and the column of sealed blobs (SQL NULL: no value) */
    const char *ad;       /* the additional data the module seals with */
    /* NULL, or an SQL condition (constant text, no parameters) choosing the
     * rows sealed with this ad, for a table that keeps the values of several
     * columns (bd_history_sealed). The conditions of one table's entries
     * must cover all its sealed rows: the rotation refuses otherwise. */
    const char *where;
    /* NULL, or the name of a BEFORE UPDATE trigger that makes the table
     * append-only: the rotation drops and re-creates it (same SQL) inside
     * its own write, so no other write ever sees the table unguarded. */
    const char *guard;
} sealed_column;

extern const sealed_column sealed_columns[];
extern const size_t sealed_ncolumns;

#endif
