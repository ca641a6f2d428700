/*
 * The tamper-evident audit log (docs/privacy.md): every full view of a
 * personal value, every export and every key operation is one entry, and the
 * entries form a hash chain. Each entry's hash is a keyed BLAKE2b-256 over
 * the hash of the entry before it and a canonical encoding of every column,
 * so editing, inserting or deleting an entry breaks the chain; the head (last
 * seq and hash, with a keyed MAC) is kept apart so that cutting off the tail
 * is found too. The key is derived from the deployment's index key: whoever
 * has only the database file cannot recompute the chain.
 *
 * Entries hold no personal data: ids, role, action, entity and field names,
 * the stated purpose and a short JSON detail.
 */
#ifndef GR_PRIVACY_AUDIT_H
#define GR_PRIVACY_AUDIT_H

#include "http/http.h"

#include <stdint.h>

#define AUDIT_HASH_BYTES 32
/* Longest accepted text of each kind (bytes). */
#define AUDIT_NAME_MAX   64   /* actor_role, action, entity */
#define AUDIT_TEXT_MAX   256  /* fields, purpose, request_id */
#define AUDIT_DETAIL_MAX 1024 /* detail */

typedef struct audit_entry {
    int64_t seq;           /* given by audit_append; filled by reads */
    int64_t at;            /* epoch ms; 0 in audit_append: now */
    int64_t actor_user_id; /* 0: the system */
    const char *actor_role;
    const char *action;  /* "reveal", "share.read", "export", "key.rotate" ... */
    const char *entity;  /* "person", "case" ... */
    int64_t entity_id;   /* 0: none */
    const char *fields;  /* comma-separated field names, or NULL */
    const char *purpose; /* why; required when action is "reveal" */
    const char *request_id;
    const char *detail;                   /* a JSON object (text), no personal data, or NULL */
    unsigned char hash[AUDIT_HASH_BYTES]; /* filled by reads; ignored by audit_append */
} audit_entry;

/* The audit key: crypto_kdf_derive_from_key(index_key, subkey 1, context
 * "gr-audit"). Deriving it (rather than adding a third key to DIR/keys) keeps
 * the keys file as it is; the chain follows the index key, so a rotation of
 * that key must re-anchor the log (docs/privacy.md). */
void audit_key_derive(const unsigned char index_key[32], unsigned char out[AUDIT_HASH_BYTES]);

/* Inside a db_write function, in the same transaction as the action it
 * records: appends e as the next entry (seq and, when e->at is 0, the time
 * are given here) and moves the head. The group-commit writer runs one write
 * function at a time on its one connection, so reading the last hash and
 * inserting the next cannot race with another append. When the head does
 * not match the log's last entry (altered behind the application's back),
 * an "audit.break" entry is written first, so the next append cannot hide
 * it (verify reports it). GR_EINVAL naming the field for a missing action,
 * entity or actor_role, a reveal without a purpose, an overlong text or a
 * detail that is not a JSON object. */
int audit_append(db_conn *c, const unsigned char key[AUDIT_HASH_BYTES], const audit_entry *e,
                 gr_err *err);

/* For a read that reveals a value (no write of its own to ride on): appends
 * one entry in its own write, with the actor and request id of req, and
 * returns once it is durable. Call it before the value is sent, and send
 * nothing when it fails (req->err is filled). */
int audit_record(http_req *req, const char *action, const char *entity, int64_t entity_id,
                 const char *fields, const char *purpose);

enum audit_fault {
    AUDIT_INTACT = 0,
    AUDIT_EDITED,    /* an entry's content does not match its hash */
    AUDIT_LINK,      /* prev_hash is not the hash before: inserted or deleted */
    AUDIT_GAP,       /* seq does not follow: inserted or deleted */
    AUDIT_TRUNCATED, /* the head names entries the log no longer has */
    AUDIT_HEAD,      /* the head is missing, forged, or disagrees with the log */
    AUDIT_BREAK,     /* an audit.break entry: an append found the head and log at odds */
};

typedef struct audit_report {
    int64_t checked;        /* entries walked */
    int64_t bad;            /* entries whose own hash does not match */
    int64_t first_bad_seq;  /* 0 when intact (or when only the head is at fault) */
    enum audit_fault fault; /* of the first fault found */
    char reason[256];       /* that fault, for people */
    int64_t head_seq;       /* the last entry: record it elsewhere to catch a rollback */
    unsigned char head_hash[AUDIT_HASH_BYTES];
} audit_report;

/* Walks the chain in seq order on d's reader and fills out. Returns 0 when
 * the walk ran, whatever it found (out->fault says), or a negative code when
 * the database could not be read. Finds any entry edited, inserted or
 * deleted, and a cut tail, by someone without the key; someone with the key
 * can rewrite everything consistently, and a rollback of the whole file to
 * an older copy shows only against a head recorded elsewhere. */
int audit_verify(db *d, const unsigned char key[AUDIT_HASH_BYTES], audit_report *out, gr_err *err);

typedef struct audit_filter {
    const char *entity;    /* NULL: any */
    int64_t entity_id;     /* 0: any */
    int64_t actor_user_id; /* 0: any */
    const char *action;    /* NULL: any */
    int64_t from, to;      /* epoch ms, from inclusive, to exclusive; 0: open */
    int64_t after;         /* seq cursor: entries after it, oldest first */
    int64_t limit;
} audit_filter;

/* A page of entries matching f in seq order (strings in a); *more when
 * another page follows. GR_EINVAL naming "to" when to is not after from. */
int audit_list(db_conn *c, arena *a, const audit_filter *f, audit_entry **out, size_t *n, int *more,
               gr_err *err);

/* GET /api/v1/audit (action audit.read). */
void audit_api_register(http_router *r);

/* `grassroots audit verify`: the help text and the command (main's with_ctx
 * gives it the opened data directory). Exit 0 intact, 1 not, 2 bad usage. */
extern const char audit_cli_help[];
int audit_cli(gr_ctx *ctx, int argc, char **argv);

#endif
