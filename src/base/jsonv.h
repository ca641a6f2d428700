/*
 * Validation of JSON request bodies at the edge: the body must be an object,
 * every field has a type, required fields must be present, and unknown fields
 * are refused rather than silently ignored. The first problem found is
 * reported in err with the field's name and the reason.
 */
#ifndef GR_BASE_JSONV_H
#define GR_BASE_JSONV_H

#include "base/err.h"

#include <jansson.h>
#include <stddef.h>

enum jv_type { JV_STRING, JV_INT, JV_NUMBER, JV_BOOL, JV_OBJECT, JV_ARRAY, JV_ANY };

typedef struct jv_field {
    const char *name;
    enum jv_type type;
    int required;
    int nullable;
    /* Strings: length in characters; integers and numbers: value. min == max == 0: no limit. */
    double min, max;
} jv_field;

int jv_check(json_t *obj, const jv_field *fields, size_t nfields, gr_err *err);

/* Number of Unicode characters in a valid UTF-8 string (jansson guarantees validity). */
size_t jv_utf8_len(const char *s);

/* Field getters that tolerate absence: NULL / def when missing or null. */
const char *jv_str(const json_t *obj, const char *name);
long long jv_int(const json_t *obj, const char *name, long long def);

#endif
