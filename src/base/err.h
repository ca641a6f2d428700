/*
 * Error codes and the error record every fallible function fills.
 *
 * Functions return 0 on success or one of the negative codes below and, when
 * they fail, describe the failure for people in a gr_err: the field at fault
 * (a JSON pointer-like name such as "boundary" or "parent_id", or "" when no
 * field is to blame) and the reason. The HTTP layer maps codes to status codes
 * once, in http/problem.c.
 */
#ifndef GR_BASE_ERR_H
#define GR_BASE_ERR_H

#include <stddef.h>

enum {
    GR_OK = 0,
    GR_EINVAL = -1,     /* bad input: 400 */
    GR_ENOTFOUND = -2,  /* no such thing: 404 */
    GR_EEXIST = -3,     /* already exists: 409 */
    GR_ECONFLICT = -4,  /* state or version conflict: 409 */
    GR_EFORBIDDEN = -5, /* authenticated but not allowed: 403 */
    GR_EAUTH = -6,      /* not authenticated: 401 */
    GR_ETOOBIG = -7,    /* body too large: 413 */
    GR_EMEDIA = -8,     /* unsupported media type: 415 */
    GR_ETHROTTLED = -9, /* too many attempts: 429 */
    GR_EUNAVAIL = -10,  /* shutting down or not ready: 503 */
    GR_EINTERNAL = -11, /* a bug or an I/O failure: 500, details only in the log */
    GR_ENOMETHOD = -12, /* method not allowed: 405 */
    GR_ETOONEW = -13,   /* database newer than this binary */
};

typedef struct gr_err {
    int code;
    char field[64];
    char msg[256];
} gr_err;

/* Records code, field and message in e (which may be NULL) and returns code. */
int err_set(gr_err *e, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void err_clear(gr_err *e);

/* A short stable name for a code ("invalid", "not_found" ...), used in logs and problem types. */
const char *err_name(int code);

#endif
