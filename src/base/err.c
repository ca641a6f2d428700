#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(gr_err *e, int code, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return code;
    e->code = code;
    snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return code;
}

void err_clear(gr_err *e)
{
    if (e)
        memset(e, 0, sizeof(*e));
}

const char *err_name(int code)
{
    switch (code) {
    case GR_OK:
        return "ok";
    case GR_EINVAL:
        return "invalid";
    case GR_ENOTFOUND:
        return "not-found";
    case GR_EEXIST:
        return "exists";
    case GR_ECONFLICT:
        return "conflict";
    case GR_EFORBIDDEN:
        return "forbidden";
    case GR_EAUTH:
        return "unauthenticated";
    case GR_ETOOBIG:
        return "too-large";
    case GR_EMEDIA:
        return "unsupported-media-type";
    case GR_ETHROTTLED:
        return "throttled";
    case GR_EUNAVAIL:
        return "unavailable";
    case GR_ENOMETHOD:
        return "method-not-allowed";
    case GR_ETOONEW:
        return "database-too-new";
    default:
        return "internal";
    }
}
