/* Identifiers and masking policies from outside (forms, imports, the
 * deployment's config): every validator, mask_policy_parse and mask_text
 * over any bytes. The first byte picks the output size of mask_text; the
 * rest up to the first newline is a policy text, and the rest after it (or
 * all of it when there is no newline) the text validated and masked.
 * Accepted input must really have the promised form, and masked output must
 * fit, stay valid UTF-8 and never show a non-empty text whole. */
#include "base/csv.h"
#include "base/mask.h"
#include "base/validate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        __builtin_trap();
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static void check_id(const char *s)
{
    validate_id_info info;
    gr_err err;
    int sum = 0, w = 1;

    if (validate_id_number(s, 20261127, &info, "id_number", &err) != 0) {
        check(err.code == GR_EINVAL && strcmp(err.field, "id_number") == 0 && err.msg[0]);
        return;
    }
    check(strlen(s) == 18 && strlen(info.normalized) == 18 && digits(info.normalized, 17));
    for (int i = 16; i >= 0; i--) {
        w = w * 2 % 11;
        sum += (info.normalized[i] - '0') * w;
    }
    check(info.normalized[17] == "10X98765432"[sum % 11]);
    check(info.year >= 1900 && info.month >= 1 && info.month <= 12 && info.day >= 1 &&
          info.day <= 31);
    check(info.sex == ((info.normalized[16] - '0') % 2 ? 'M' : 'F'));
    check(memcmp(info.region, s, 6) == 0 && info.region[6] == '\0');
}

static void check_uscc(const char *s)
{
    static const char chars[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    validate_uscc_info info;
    gr_err err;
    int sum = 0, w = 1;

    if (validate_uscc(s, &info, "credit_code", &err) != 0) {
        check(err.code == GR_EINVAL && strcmp(err.field, "credit_code") == 0);
        return;
    }
    if (info.legacy) {
        check(strlen(s) == 15 && digits(info.normalized, 15));
        return;
    }
    check(strlen(s) == 18 && strlen(info.normalized) == 18 && digits(info.division, 6));
    for (int i = 0; i < 17; i++, w = w * 3 % 31) {
        const char *p = strchr(chars, info.normalized[i]);

        check(p != NULL);
        sum += (int)(p - chars) * w;
    }
    check(info.normalized[17] == chars[(31 - sum % 31) % 31]);
}

static void check_other(const char *s)
{
    validate_facility_info fac;
    gr_err err;
    size_t n = strlen(s), dashes = 0;

    if (validate_facility_code(s, &fac, "code", &err) == 0)
        check(n == 16 && digits(s, 16) && fac.major >= 1 && fac.major <= 99 && fac.minor >= 1 &&
              fac.minor <= 99);
    if (validate_phone(s, "phone", &err) == 0) {
        for (size_t i = 0; i < n; i++)
            dashes += s[i] == '-';
        check(n >= 10 && n <= 13 && dashes <= 1 && (s[0] == '0' || s[0] == '1'));
    }
    if (validate_mobile(s, "phone", &err) == 0)
        check(n == 11 && digits(s, 11) && validate_phone(s, "phone", &err) == 0);
}

static size_t code_points(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void check_mask(const mask_policy *p, const char *s, size_t cap)
{
    char full[1024], *cut = malloc(cap ? cap : 1);
    size_t n = strlen(s), total, total2;
    int valid = csv_utf8_valid(s, n);

    for (int k = 0; k <= MASK_KIND_COUNT; k++) {
        total = mask_text(p, (mask_kind)k, s, full, sizeof(full));
        check(strlen(full) < sizeof(full));
        if (total < sizeof(full)) {
            check(strlen(full) == total);
            if (n)
                check(strchr(full, '*') != NULL);
            if (valid) {
                check(csv_utf8_valid(full, total));
                check(code_points(full) == code_points(s));
            } else {
                check(total == n);
            }
        }
        total2 = mask_text(p, (mask_kind)k, s, cut, cap);
        check(total2 == total);
        if (cap) {
            check(strlen(cut) < cap);
            if (valid)
                check(csv_utf8_valid(cut, strlen(cut)));
            /* A cut text is the start of the whole one. */
            check(strncmp(cut, full, strlen(cut)) == 0);
        }
    }
    free(cut);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *spec, *text, *nl;
    mask_policy p;
    gr_err err;
    size_t cap;

    if (size < 1 || size > 512)
        return 0;
    cap = data[0] % 40;
    buf = malloc(size);
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    nl = strchr(buf, '\n');
    spec = buf;
    text = buf;
    if (nl) {
        *nl = '\0';
        text = nl + 1;
    }

    check_id(text);
    check_uscc(text);
    check_other(text);
    check_mask(NULL, text, cap);
    if (mask_policy_parse(spec, &p, &err) == 0) {
        for (int k = 0; k < MASK_KIND_COUNT; k++)
            check(p.rule[k].keep_head >= -MASK_KEEP_MAX && p.rule[k].keep_head <= MASK_KEEP_MAX &&
                  p.rule[k].keep_tail >= 0 && p.rule[k].keep_tail <= MASK_KEEP_MAX &&
                  (p.rule[k].keep_head >= 0 || p.rule[k].keep_tail == 0));
        check_mask(&p, text, cap);
    } else {
        check(err.code == GR_EINVAL && strcmp(err.field, "mask_policy") == 0);
    }
    free(buf);
    return 0;
}
