/*
 * The application/x-www-form-urlencoded body of POST requests: key=value
 * pairs split on '&', each side decoded by http_url_decode ('+' is a space).
 */
#include "open311/open311.h"

#include "base/csv.h"

#include <string.h>

static int is_list_key(const char *k)
{
    size_t n = strlen(k);

    return n > 2 && k[n - 2] == '[' && k[n - 1] == ']';
}

/* One side of a pair, decoded into a; NULL when the encoding is bad. */
static const char *decode(arena *a, const char *s, size_t n)
{
    char *out = arena_alloc(a, n + 1);
    int len = http_url_decode(s, n, out, n + 1, 1);

    if (len < 0 || !csv_utf8_valid(out, (size_t)len))
        return NULL;
    out[len] = '\0';
    return out;
}

static int pair_add(arena *a, o311_form *f, const char *p, size_t n, gr_err *err)
{
    const char *eq = memchr(p, '=', n), *key, *val;
    size_t klen = eq ? (size_t)(eq - p) : n, i;

    if (f->n == O311_FIELDS_MAX)
        return err_set(err, GR_EINVAL, "", "more than %d fields", O311_FIELDS_MAX);
    key = decode(a, p, klen);
    if (!key)
        return err_set(err, GR_EINVAL, "", "a field name is not valid URL-encoded UTF-8");
    if (!*key)
        return err_set(err, GR_EINVAL, "", "a field has an empty name");
    val = eq ? decode(a, eq + 1, n - klen - 1) : "";
    if (!val)
        return err_set(err, GR_EINVAL, key, "is not valid URL-encoded UTF-8");
    if (!is_list_key(key))
        for (i = 0; i < f->n; i++)
            if (strcmp(f->fields[i].key, key) == 0)
                return err_set(err, GR_EINVAL, key, "is given more than once");
    f->fields[f->n].key = key;
    f->fields[f->n].value = val;
    f->n++;
    return 0;
}

int open311_form_parse(arena *a, const char *body, size_t len, o311_form *out, gr_err *err)
{
    const char *p = body, *end = body + len, *amp;
    int rc = 0;

    out->n = 0;
    out->fields = arena_alloc(a, O311_FIELDS_MAX * sizeof(*out->fields));
    while (!rc && p < end) {
        amp = memchr(p, '&', (size_t)(end - p));
        if (!amp)
            amp = end;
        /* Empty pairs ("a=1&&b=2", a trailing '&') carry nothing. */
        if (amp > p)
            rc = pair_add(a, out, p, (size_t)(amp - p), err);
        p = amp + 1;
    }
    return rc;
}

const char *open311_form_get(const o311_form *f, const char *key)
{
    size_t i;

    for (i = 0; i < f->n; i++)
        if (strcmp(f->fields[i].key, key) == 0)
            return *f->fields[i].value ? f->fields[i].value : NULL;
    return NULL;
}
