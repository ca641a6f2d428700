/* JSON request bodies: jansson's parser as the server calls it, then the edge
 * validation every handler runs. */
#include "base/jsonv.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const jv_field fields[] = {
    {"username", JV_STRING, 1, 0, 1, 64},    {"password", JV_STRING, 0, 0, 10, 256},
    {"scope_org_id", JV_INT, 0, 1, 1, 1e15}, {"lat", JV_NUMBER, 0, 0, -90, 90},
    {"tags", JV_ARRAY, 0, 0, 0, 0},          {"active", JV_BOOL, 0, 0, 0, 0},
    {"boundary", JV_OBJECT, 0, 1, 0, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    gr_err err;
    json_t *v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);

    if (!v)
        return 0;
    if (jv_check(v, fields, sizeof(fields) / sizeof(fields[0]), &err) == 0) {
        /* A body that passed must have what it promised. */
        if (!jv_str(v, "username"))
            __builtin_trap();
    }
    json_decref(v);
    return 0;
}
