#include "base/jsonv.h"

#include <math.h>
#include <string.h>

static const char *type_names[] = {"a string",  "an integer", "a number", "a boolean",
                                   "an object", "an array",   "anything"};

size_t jv_utf8_len(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static int type_ok(const json_t *v, enum jv_type t)
{
    switch (t) {
    case JV_STRING:
        return json_is_string(v);
    case JV_INT:
        return json_is_integer(v);
    case JV_NUMBER:
        return json_is_number(v);
    case JV_BOOL:
        return json_is_boolean(v);
    case JV_OBJECT:
        return json_is_object(v);
    case JV_ARRAY:
        return json_is_array(v);
    case JV_ANY:
        return 1;
    }
    return 0;
}

static int check_range(const jv_field *f, const json_t *v, gr_err *err)
{
    double x;

    /* jansson refuses \u0000 unless asked; checked anyway, since C strings stop there. */
    if (f->type == JV_STRING && strlen(json_string_value(v)) != json_string_length(v))
        return err_set(err, GR_EINVAL, f->name, "must not contain NUL characters");
    if (f->min == 0 && f->max == 0)
        return 0;
    if (f->type == JV_STRING) {
        size_t len = jv_utf8_len(json_string_value(v));
        if ((double)len < f->min)
            return err_set(err, GR_EINVAL, f->name, "must be at least %.0f characters long",
                           f->min);
        if ((double)len > f->max)
            return err_set(err, GR_EINVAL, f->name, "must be at most %.0f characters long", f->max);
        return 0;
    }
    if (f->type == JV_INT || f->type == JV_NUMBER) {
        x = json_number_value(v);
        if (!isfinite(x) || x < f->min || x > f->max)
            return err_set(err, GR_EINVAL, f->name, "must be between %.15g and %.15g", f->min,
                           f->max);
    }
    return 0;
}

int jv_check(json_t *obj, const jv_field *fields, size_t nfields, gr_err *err)
{
    const char *key;
    json_t *v;
    size_t i;
    int rc;

    if (!json_is_object(obj))
        return err_set(err, GR_EINVAL, "", "the body must be a JSON object");
    json_object_foreach(obj, key, v)
    {
        for (i = 0; i < nfields; i++)
            if (strcmp(fields[i].name, key) == 0)
                break;
        if (i == nfields)
            return err_set(err, GR_EINVAL, key, "unknown field");
    }
    for (i = 0; i < nfields; i++) {
        const jv_field *f = &fields[i];
        v = json_object_get(obj, f->name);
        if (!v) {
            if (f->required)
                return err_set(err, GR_EINVAL, f->name, "is required");
            continue;
        }
        if (json_is_null(v)) {
            if (!f->nullable)
                return err_set(err, GR_EINVAL, f->name,
                               f->required ? "is required" : "must not be null");
            continue;
        }
        if (!type_ok(v, f->type))
            return err_set(err, GR_EINVAL, f->name, "must be %s", type_names[f->type]);
        rc = check_range(f, v, err);
        if (rc)
            return rc;
    }
    return 0;
}

const char *jv_str(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

long long jv_int(const json_t *obj, const char *name, long long def)
{
    json_t *v = json_object_get(obj, name);

    return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}
