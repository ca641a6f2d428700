/*
 * grassroots audit verify: walks the audit log's chain with the keys of the
 * data directory and says whether it is intact.
 */
#include "privacy/audit.h"

#include "base/crypto.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char audit_cli_help[] =
    "usage: grassroots audit verify [--data DIR]\n"
    "Walks the audit log (every full view of personal data, every export, every key\n"
    "operation) in order and checks its hash chain with the keys in DIR/keys: an entry\n"
    "edited, inserted or deleted, or entries cut off the end, are found. Prints\n"
    "'audit log intact: N entries' and the head (keep it elsewhere: a rollback of the\n"
    "whole database to an older copy shows only against a head recorded before), or\n"
    "the first bad entry and why. Stop the server first, or run it on a backup.\n"
    "Exit status: 0 intact, 1 not intact or failure, 2 bad usage.\n";

int audit_cli(gr_ctx *ctx, int argc, char **argv)
{
    unsigned char key[AUDIT_HASH_BYTES];
    char hex[2 * AUDIT_HASH_BYTES + 1];
    audit_report rep;
    gr_err err = {0};
    int rc;

    if (argc != 2 || strcmp(argv[1], "verify") != 0) {
        fputs(audit_cli_help, stderr);
        return 2;
    }
    audit_key_derive(ctx->index_key, key);
    rc = audit_verify(ctx->db, key, &rep, &err);
    sodium_memzero(key, sizeof(key));
    if (rc) {
        fprintf(stderr, "grassroots: audit verify: %s\n", err.msg);
        return 1;
    }
    sodium_bin2hex(hex, sizeof(hex), rep.head_hash, sizeof(rep.head_hash));
    if (rep.fault == AUDIT_INTACT) {
        printf("audit log intact: %" PRId64 " entries\n", rep.checked);
        if (rep.head_seq > 0)
            printf("head: seq %" PRId64 " hash %s\n", rep.head_seq, hex);
        return 0;
    }
    printf("audit log NOT intact: %s\n", rep.reason);
    printf("first bad entry: seq %" PRId64 "; %" PRId64 " entries checked, %" PRId64
           " do not match their hash\n",
           rep.first_bad_seq, rep.checked, rep.bad);
    return 1;
}
