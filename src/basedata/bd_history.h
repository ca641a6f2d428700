/*
 * The history of base-data records (专人负责, issue 4 "Stewardship and
 * history"): one append-only row per version of a building, house, person,
 * organisation, facility or underground space, saying who changed what and
 * when. Every write of a base-data record adds its row in the same db_write,
 * so a record and its history commit together.
 *
 * changes is a JSON object field → [old, new]. Sealed personal fields appear
 * as "(encrypted)"; their old ciphertext is kept in bd_history_sealed so the
 * old value can be revealed with a purpose and an audit entry.
 */
#ifndef GR_BASEDATA_BD_HISTORY_H
#define GR_BASEDATA_BD_HISTORY_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* What changes: sealed fields are shown as this in changes. */
#define BD_SEALED_MARK "(encrypted)"

/* Who acts: a user with a role and the root of their scope (0: everything,
 * as for the import command run by an operator). */
typedef struct bd_actor {
    int64_t user_id; /* 0: the system */
    const char *role;
    int64_t scope_org_id;
} bd_actor;

/* The changes of one write, field → [old, new] in the order put, kept as
 * the JSON text bd_history stores: an imported person's changes went
 * through jansson objects and back to text, a fifth of the import's time
 * (docs/benchmarks.md). Zeroed to start; bd_changes_free after. */
typedef struct bd_changes {
    buf text; /* the object so far, "{...}" (empty when n is 0) */
    size_t n; /* fields put */
} bd_changes;

typedef struct bd_change {
    const char *entity; /* "building", "house", "person", "org", "facility", "space" */
    int64_t entity_id, version, at;
    const bd_actor *who;
    const char *source;        /* collected | imported | shared */
    const char *action;        /* create | update | retire */
    const bd_changes *changes; /* NULL: none ({}) */
} bd_change;

/* Inside a write. GR_EEXIST when the version of the entity is already
 * recorded (two writers raced on one version). */
int bd_history_add(db_conn *c, const bd_change *ch, gr_err *err);

/* Oldest first, keyset by version: the versions above after_version, at most
 * limit, each an object {version, at, actor_user_id, actor_role, source,
 * action, changes}; *items is new (the caller decrefs), *more says whether
 * another page follows. a is unused today (kept for the contract). */
int bd_history_list(db_conn *c, arena *a, const char *entity, int64_t id, int64_t after_version,
                    int64_t limit, json_t **items, int *more, gr_err *err);

/* Keeps the old ciphertext of a sealed field of version `version` (inside a
 * write, next to bd_history_add), e.g. ("person", 7, 2, "name", ...). */
int bd_history_seal_keep(db_conn *c, const char *entity, int64_t id, int64_t version,
                         const char *field, const void *sealed, size_t len, gr_err *err);

/* Adds field → [old, new] to changes when they differ (NULL = JSON null). */
void bd_changes_put_text(bd_changes *ch, const char *field, const char *old, const char *new_);
/* The same for integers; null_if_zero: 0 is shown as null (an absent id). */
void bd_changes_put_int(bd_changes *ch, const char *field, int64_t old, int64_t new_,
                        int null_if_zero);
/* The same for a number with a fraction (a coordinate, an area); a value
 * that is not there (has_* 0) is null. */
void bd_changes_put_real(bd_changes *ch, const char *field, int has_old, double old, int has_new,
                         double new_);
/* Any two JSON values, NULL or JSON null for none; added when they differ. */
void bd_changes_put_json(bd_changes *ch, const char *field, const json_t *old, const json_t *new_);
/* A sealed field that changed: "(encrypted)" where it had or has a value. */
void bd_changes_put_sealed(bd_changes *ch, const char *field, int had, int has);
void bd_changes_free(bd_changes *ch);

#endif
