/* Open311's form-encoded POST bodies: the parser, its lookups, and the XML
 * writer on whatever values it lets through. */
#include "open311/open311.h"

#include "base/csv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* No control character XML 1.0 cannot carry, and every '&' opens an entity. */
static int xml_text_ok(const char *s)
{
    static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    size_t k;
    int ok;

    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
        if (*s != '&')
            continue;
        ok = 0;
        for (k = 0; k < 5; k++)
            ok |= strncmp(s, ents[k], strlen(ents[k])) == 0;
        if (!ok)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena *a = arena_new();
    o311_form f;
    gr_err err = {0};
    json_t *o;
    buf b = BUF_INIT;
    size_t i;

    if (size > O311_BODY_MAX)
        size = O311_BODY_MAX;
    if (open311_form_parse(a, (const char *)data, size, &f, &err) == 0) {
        if (f.n > O311_FIELDS_MAX)
            __builtin_trap();
        o = json_object();
        for (i = 0; i < f.n; i++) {
            /* Every key and value is non-empty-keyed valid UTF-8 without NUL. */
            if (!*f.fields[i].key || !csv_utf8_valid(f.fields[i].key, strlen(f.fields[i].key)) ||
                !csv_utf8_valid(f.fields[i].value, strlen(f.fields[i].value)))
                __builtin_trap();
            if (open311_form_get(&f, f.fields[i].key) == NULL && *f.fields[i].value &&
                !strstr(f.fields[i].key, "[]"))
                __builtin_trap();
            json_object_set_new(o, "value", json_string(f.fields[i].value));
        }
        open311_xml_write(&b, "request", o);
        if (!xml_text_ok(b.data))
            __builtin_trap();
        buf_free(&b);
        json_decref(o);
    }
    arena_free(a);
    return 0;
}
