/* Validators of national identifiers (see validate.h; the rules are those of
 * /work/shared/reference/china_standards.md 4.1, 4.2, 4.3 and 1.3). */
#include "base/validate.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "base/timeutil.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

/* Province-level prefixes of GB/T 2260 and of ID numbers (4.1): 71 Taiwan,
 * 81/82 Hong Kong and Macao, 83 Taiwan residents' residence permits. */
static int province_valid(const char *s)
{
    int p = (s[0] - '0') * 10 + (s[1] - '0');

    return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
           (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 ||
           (p >= 81 && p <= 83);
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* Today as YYYYMMDD in Asia/Shanghai (UTC+8 all year: China has no DST). */
static int today_shanghai(void)
{
    time_t t = (time_t)(time_now_ms() / 1000) + 8 * 3600;
    struct tm tm;

    gmtime_r(&t, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* ISO 7064 MOD 11-2 over 17 digits (4.1): weights 2^(18-i) mod 11. */
static char id_check_char(const char *s)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char map[12] = "10X98765432";
    int sum = 0;

    for (int i = 0; i < 17; i++)
        sum += (s[i] - '0') * w[i];
    return map[sum % 11];
}

int validate_id_number(const char *s, int today_yyyymmdd, validate_id_info *out, const char *field,
                       gr_err *err)
{
    size_t n = s ? strlen(s) : 0;
    int y, m, d, date;
    char last, expect;

    if (n != 18)
        return err_set(err, GR_EINVAL, field,
                       "must be 18 characters long (17 digits and a check digit or X), not %zu", n);
    for (size_t i = 0; i < 17; i++)
        if (!is_digit(s[i]))
            return err_set(err, GR_EINVAL, field, "character %zu must be a digit", i + 1);
    last = s[17] == 'x' ? 'X' : s[17];
    if (!is_digit(last) && last != 'X')
        return err_set(err, GR_EINVAL, field,
                       "character 18 (the check character) must be a digit or X");
    if (!province_valid(s))
        return err_set(err, GR_EINVAL, field,
                       "region: %.2s is not a province-level code (the number starts with the "
                       "address code)",
                       s);
    y = (s[6] - '0') * 1000 + (s[7] - '0') * 100 + (s[8] - '0') * 10 + (s[9] - '0');
    m = (s[10] - '0') * 10 + (s[11] - '0');
    d = (s[12] - '0') * 10 + (s[13] - '0');
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return err_set(err, GR_EINVAL, field, "birth date %.8s is not a real calendar date", s + 6);
    date = y * 10000 + m * 100 + d;
    if (date < 19000101)
        return err_set(err, GR_EINVAL, field, "birth date %.8s is before 1900-01-01", s + 6);
    if (!today_yyyymmdd)
        today_yyyymmdd = today_shanghai();
    if (date > today_yyyymmdd)
        return err_set(err, GR_EINVAL, field, "birth date %.8s is in the future", s + 6);
    expect = id_check_char(s);
    if (last != expect)
        return err_set(err, GR_EINVAL, field,
                       "checksum: the check character should be %c, not %c (a digit is wrong)",
                       expect, s[17]);
    if (out) {
        memcpy(out->normalized, s, 17);
        out->normalized[17] = last;
        out->normalized[18] = '\0';
        out->year = y;
        out->month = m;
        out->day = d;
        out->sex = (s[16] - '0') % 2 ? 'M' : 'F';
        memcpy(out->region, s, 6);
        out->region[6] = '\0';
    }
    return 0;
}

/* The 31 characters of GB 32100 in value order (4.2). */
static const char USCC_CHARS[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int uscc_value(char c)
{
    const char *p = c ? strchr(USCC_CHARS, c) : NULL;

    return p ? (int)(p - USCC_CHARS) : -1;
}

/* The org types each authority may issue (the table of 4.2). */
static int uscc_type_valid(char authority, char type)
{
    static const struct {
        char authority;
        const char *types;
    } table[] = {{'1', "1239"}, {'2', "19"},  {'3', "123459"}, {'4', "19"},
                 {'5', "1239"}, {'6', "129"}, {'7', "129"},    {'8', "19"},
                 {'9', "123"},  {'A', "19"},  {'N', "1239"},   {'Y', "1"}};

    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].authority == authority)
            return type && strchr(table[i].types, type) != NULL;
    return -1;
}

/* GB 11714 organisation code check over 9 characters (4.2): 0-9 A-Z as 0-35,
 * weights 3 7 9 10 5 8 4 2, check 11 - sum mod 11 with 10 = X and 11 = 0. */
static int org_code_valid(const char *s)
{
    static const int w[8] = {3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0, c;

    for (int i = 0; i < 8; i++) {
        if (is_digit(s[i]))
            sum += (s[i] - '0') * w[i];
        else if (s[i] >= 'A' && s[i] <= 'Z')
            sum += (s[i] - 'A' + 10) * w[i];
        else
            return 0;
    }
    c = 11 - sum % 11;
    return s[8] == (c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c));
}

int validate_uscc(const char *s, validate_uscc_info *out, const char *field, gr_err *err)
{
    size_t n = s ? strlen(s) : 0;
    char u[19];
    int sum = 0, type_ok;

    if (n == 15) {
        if (!all_digits(s, 15))
            return err_set(err, GR_EINVAL, field,
                           "character: a 15-character legacy registration number must be all "
                           "digits");
        if (out) {
            memset(out, 0, sizeof(*out));
            memcpy(out->normalized, s, 16);
            out->legacy = 1;
            memcpy(out->division, s, 6);
        }
        return 0;
    }
    if (n != 18)
        return err_set(err, GR_EINVAL, field,
                       "must be 18 characters long (or a 15-digit legacy registration number), "
                       "not %zu",
                       n);
    for (size_t i = 0; i < 18; i++) {
        u[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
        if (uscc_value(u[i]) < 0)
            return err_set(err, GR_EINVAL, field,
                           "character %zu is not allowed: the code uses 0-9 and A-Z without I, "
                           "O, S, V, Z",
                           i + 1);
    }
    u[18] = '\0';
    type_ok = uscc_type_valid(u[0], u[1]);
    if (type_ok < 0)
        return err_set(err, GR_EINVAL, field,
                       "registration authority code %c (character 1) is not one of 1-9, A, N, Y",
                       u[0]);
    if (!type_ok)
        return err_set(err, GR_EINVAL, field,
                       "organisation type %c (character 2) does not exist for authority %c", u[1],
                       u[0]);
    if (!all_digits(u + 2, 6))
        return err_set(err, GR_EINVAL, field,
                       "characters 3-8 must be digits (the division code of the authority)");
    /* Weights 3^(i-1) mod 31, computed as we go. */
    for (int i = 0, w = 1; i < 17; i++, w = w * 3 % 31)
        sum += uscc_value(u[i]) * w;
    {
        char expect = USCC_CHARS[(31 - sum % 31) % 31];

        if (u[17] != expect)
            return err_set(err, GR_EINVAL, field,
                           "checksum: the check character should be %c, not %c (a character is "
                           "wrong)",
                           expect, u[17]);
    }
    if (out) {
        memcpy(out->normalized, u, 19);
        out->legacy = 0;
        out->authority = u[0];
        out->org_type = u[1];
        memcpy(out->division, u + 2, 6);
        out->division[6] = '\0';
        memcpy(out->body, u + 8, 9);
        out->body[9] = '\0';
        out->org_code_valid = org_code_valid(u + 8);
    }
    return 0;
}

int validate_facility_code(const char *s, validate_facility_info *out, const char *field,
                           gr_err *err)
{
    size_t n = s ? strlen(s) : 0;
    int major, minor;

    if (n != 16)
        return err_set(err, GR_EINVAL, field,
                       "must be 16 digits long (county 6 + major class 2 + minor class 2 + "
                       "serial 6), not %zu",
                       n);
    for (size_t i = 0; i < 16; i++)
        if (!is_digit(s[i]))
            return err_set(err, GR_EINVAL, field, "character %zu must be a digit", i + 1);
    if (!province_valid(s))
        return err_set(err, GR_EINVAL, field,
                       "region: %.2s is not a province-level code (the code starts with the "
                       "county division code)",
                       s);
    major = (s[6] - '0') * 10 + (s[7] - '0');
    minor = (s[8] - '0') * 10 + (s[9] - '0');
    if (major == 0)
        return err_set(err, GR_EINVAL, field, "major class (digits 7-8) must be 01 to 99, not 00");
    if (minor == 0)
        return err_set(err, GR_EINVAL, field, "minor class (digits 9-10) must be 01 to 99, not 00");
    if (out) {
        memcpy(out->county, s, 6);
        out->county[6] = '\0';
        out->major = major;
        out->minor = minor;
        memcpy(out->serial, s + 10, 6);
        out->serial[6] = '\0';
    }
    return 0;
}

static int mobile_ok(const char *s, size_t n)
{
    return n == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' && all_digits(s, 11);
}

/* 3-digit area codes are 010 and 02x; every other one is 0 + 3 digits with
 * the second digit 3-9 (the national numbering plan). */
static int landline_ok(const char *s, size_t n)
{
    size_t area, local;

    if (n < 2 || s[0] != '0' || !is_digit(s[1]))
        return 0;
    if (s[1] == '1' || s[1] == '2') {
        if (s[1] == '1' && (n < 3 || s[2] != '0'))
            return 0;
        area = 3;
    } else if (s[1] == '0') {
        return 0;
    } else {
        area = 4;
    }
    if (n <= area || !all_digits(s, area))
        return 0;
    s += area;
    n -= area;
    if (*s == '-') {
        s++;
        n--;
    }
    local = n;
    return (local == 7 || local == 8) && s[0] >= '2' && s[0] <= '9' && all_digits(s, local);
}

int validate_phone(const char *s, const char *field, gr_err *err)
{
    size_t n = s ? strlen(s) : 0;

    if (mobile_ok(s, n) || landline_ok(s, n))
        return 0;
    return err_set(err, GR_EINVAL, field,
                   "must be a mainland mobile number (11 digits, 1[3-9]...) or a landline (area "
                   "code 0xx or 0xxx, an optional '-', 7 or 8 digits)");
}

int validate_mobile(const char *s, const char *field, gr_err *err)
{
    if (s && mobile_ok(s, strlen(s)))
        return 0;
    return err_set(err, GR_EINVAL, field, "must be an 11-digit mainland mobile number (1[3-9]...)");
}
