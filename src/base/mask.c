/* Masking personal data for display (see mask.h; reference 5.2). */
#include "base/mask.h"

#include <string.h>

#include "base/csv.h"

static const mask_policy defaults = {{
    [MASK_ID_NUMBER] = {6, 4},
    [MASK_PHONE] = {3, 4},
    [MASK_NAME] = {1, 0},
    [MASK_ADDRESS] = {-8, 0},
}};

static const char *const kind_names[MASK_KIND_COUNT] = {
    [MASK_ID_NUMBER] = "id_number",
    [MASK_PHONE] = "phone",
    [MASK_NAME] = "name",
    [MASK_ADDRESS] = "address",
};

static mask_policy deployment;
static int configured;

const mask_policy *mask_policy_default(void)
{
    return configured ? &deployment : &defaults;
}

int mask_policy_configure(const char *spec, gr_err *err)
{
    mask_policy p = defaults;
    int rc = mask_policy_parse(spec ? spec : "", &p, err);

    if (rc)
        return rc;
    deployment = p;
    configured = 1;
    return 0;
}

const char *mask_kind_name(mask_kind kind)
{
    return (unsigned)kind < MASK_KIND_COUNT ? kind_names[kind] : "";
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* [b, e) without the spaces around it. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && is_space(**b))
        (*b)++;
    while (*e > *b && is_space((*e)[-1]))
        (*e)--;
}

/* An integer in [b, e) (optionally negative when neg_ok) within MASK_KEEP_MAX. */
static int parse_num(const char *b, const char *e, int neg_ok, int *v)
{
    int sign = 1, n = 0;

    trim(&b, &e);
    if (b < e && *b == '-' && neg_ok) {
        sign = -1;
        b++;
    }
    if (b == e)
        return -1;
    for (; b < e; b++) {
        if (*b < '0' || *b > '9')
            return -1;
        n = n * 10 + (*b - '0');
        if (n > MASK_KEEP_MAX)
            return -1;
    }
    *v = sign * n;
    return 0;
}

/* One KIND=HEAD,TAIL item in [b, e) into p; seen marks kinds already set. */
static int parse_item(const char *b, const char *e, mask_policy *p, unsigned *seen, gr_err *err)
{
    const char *eq = memchr(b, '=', (size_t)(e - b)), *comma, *nb = b, *ne;
    int k, head, tail;

    if (!eq)
        return err_set(err, GR_EINVAL, "mask_policy", "item '%.*s' must be KIND=HEAD,TAIL",
                       (int)(e - b), b);
    ne = eq;
    trim(&nb, &ne);
    for (k = 0; k < MASK_KIND_COUNT; k++)
        if (strlen(kind_names[k]) == (size_t)(ne - nb) &&
            !memcmp(kind_names[k], nb, (size_t)(ne - nb)))
            break;
    if (k == MASK_KIND_COUNT)
        return err_set(err, GR_EINVAL, "mask_policy",
                       "unknown kind '%.*s': use id_number, phone, name or address", (int)(ne - nb),
                       nb);
    if (*seen & (1u << k))
        return err_set(err, GR_EINVAL, "mask_policy", "%s is given twice", kind_names[k]);
    comma = memchr(eq + 1, ',', (size_t)(e - eq - 1));
    if (!comma || parse_num(eq + 1, comma, 1, &head) || parse_num(comma + 1, e, 0, &tail))
        return err_set(err, GR_EINVAL, "mask_policy",
                       "%s must be HEAD,TAIL: numbers of characters kept, 0 to %d (HEAD may be "
                       "negative: keep all but that many at the end)",
                       kind_names[k], MASK_KEEP_MAX);
    if (head < 0 && tail != 0)
        return err_set(err, GR_EINVAL, "mask_policy",
                       "%s: a negative HEAD (keep all but the end) needs TAIL 0", kind_names[k]);
    *seen |= 1u << k;
    p->rule[k].keep_head = head;
    p->rule[k].keep_tail = tail;
    return 0;
}

int mask_policy_parse(const char *spec, mask_policy *out, gr_err *err)
{
    mask_policy p = defaults;
    unsigned seen = 0;
    const char *b = spec ? spec : "", *e;
    int rc = 0;

    while (*b) {
        e = strchr(b, ';');
        if (!e)
            e = b + strlen(b);
        {
            const char *tb = b, *te = e;

            trim(&tb, &te);
            /* Empty items (a trailing ';') are allowed. */
            if (tb < te) {
                rc = parse_item(tb, te, &p, &seen, err);
                if (rc)
                    goto out;
            }
        }
        b = *e ? e + 1 : e;
    }
    *out = p;
out:
    return rc;
}

/* Appends n bytes at src to out if they fit whole with the NUL; once one
 * piece did not fit nothing more is written, so the text is cut cleanly. */
static void put(char *out, size_t cap, size_t *pos, int *full, const char *src, size_t n)
{
    if (!*full && *pos + n < cap) {
        memcpy(out + *pos, src, n);
        *pos += n;
    } else {
        *full = 1;
    }
}

static size_t utf8_seq_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

size_t mask_text(const mask_policy *p, mask_kind kind, const char *in, char *out, size_t cap)
{
    size_t len = in ? strlen(in) : 0, n = 0, i, head = 0, tail = 0, pos = 0, total = 0;
    int full = 0;
    const char *s;

    if (!p)
        p = &defaults;
    if (!in)
        in = "";
    if (!csv_utf8_valid(in, len)) {
        for (i = 0; i < len; i++)
            put(out, cap, &pos, &full, "*", 1);
        total = len;
        goto out;
    }
    for (s = in; *s; s += utf8_seq_len((unsigned char)*s))
        n++;
    if ((unsigned)kind < MASK_KIND_COUNT) {
        const mask_rule *r = &p->rule[kind];

        if (r->keep_head < 0) {
            head = n > (size_t)-r->keep_head ? n - (size_t)-r->keep_head : 0;
        } else {
            head = (size_t)r->keep_head;
            tail = r->keep_tail > 0 ? (size_t)r->keep_tail : 0;
        }
        /* Never show everything: a text the kept parts would cover is hidden. */
        if (head + tail >= n)
            head = tail = 0;
    }
    for (s = in, i = 0; *s; i++) {
        size_t l = utf8_seq_len((unsigned char)*s);

        if (i < head || i >= n - tail) {
            put(out, cap, &pos, &full, s, l);
            total += l;
        } else {
            put(out, cap, &pos, &full, "*", 1);
            total++;
        }
        s += l;
    }
out:
    if (cap)
        out[pos] = '\0';
    return total;
}
