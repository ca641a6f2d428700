/*
 * Validators for the national identifiers of the base data (一库): the
 * citizen ID number, the unified social credit code, the 16-digit facility
 * (部件) code and phone numbers. No domain knowledge beyond the code formats
 * of /work/shared/reference/china_standards.md: 4.1 (GB 11643-1999),
 * 4.2 (GB 32100-2015), 4.3 (GB/T 2260 division codes) and 1.3 (部件 codes).
 *
 * Every validator takes the caller's field name ("id_number",
 * "rows[3].id_number" ...) and, on refusal, returns GR_EINVAL with err naming
 * that field and exactly what failed (length, character, region, date,
 * checksum with the expected character ...). Input is taken as it is: no
 * spaces are trimmed; callers trim what they read from forms or files.
 */
#ifndef GR_BASE_VALIDATE_H
#define GR_BASE_VALIDATE_H

#include "base/err.h"

/* What an accepted citizen ID number says. */
typedef struct validate_id_info {
    char normalized[19];  /* the 18 characters; a lower-case check 'x' becomes 'X' */
    int year, month, day; /* the birth date */
    char sex;             /* 'M' when the 17th digit is odd, else 'F' */
    char region[7];       /* the 6-digit address code (county when issued) */
} validate_id_info;

/* GB 11643-1999 公民身份号码 (reference 4.1): 17 digits and a check
 * character (a digit or X) by ISO 7064 MOD 11-2. A lower-case x is accepted
 * and normalised to X in out->normalized (people type it; the number is the
 * same). The first two digits must be a province-level prefix (11-15, 21-23,
 * 31-37, 41-46, 50-54, 61-65, 71, 81, 82, 83); the rest of the address code
 * is not checked against a current list because codes change with divisions
 * and old numbers stay valid. The birth date must be a real calendar date,
 * not before 1900-01-01 and not after today_yyyymmdd (e.g. 20261127; 0 means
 * today in Asia/Shanghai; tests pass a fixed day). 15-digit numbers are
 * refused. out may be NULL. */
int validate_id_number(const char *s, int today_yyyymmdd, validate_id_info *out, const char *field,
                       gr_err *err);

/* What an accepted unified social credit code says. */
typedef struct validate_uscc_info {
    char normalized[19]; /* upper-case; 15 digits and the NUL for a legacy number */
    int legacy;          /* 1: a 15-digit 工商注册号 from before 2015 */
    char authority;      /* 登记管理部门代码 (1st character); 0 when legacy */
    char org_type;       /* 机构类别代码 (2nd character); 0 when legacy */
    char division[7];    /* characters 3-8 (legacy: 1-6), a GB/T 2260 code */
    char body[10];       /* 主体标识码, characters 9-17; "" when legacy */
    int org_code_valid;  /* 1 when body also passes the GB 11714 check */
} validate_uscc_info;

/* GB 32100-2015 统一社会信用代码 (reference 4.2): 18 characters from
 * 0-9 A-H J-N P-R T-U W-Y (no I, O, S, V, Z); lower-case letters are accepted
 * and normalised to upper case. The check character is 31 - (sum of value *
 * 3^(i-1) mod 31 over characters 1-17) mod 31. The authority and org-type
 * pair must be one of the table in 4.2 (⚠️ secondary in the reference);
 * characters 3-8 must be digits (any 6 digits: national authorities use
 * 100000). The GB 11714 check of characters 9-17 is reported in
 * out->org_code_valid but not enforced (the reference confirms it only for
 * its example). A 15-digit legacy registration number (GS 15-2006) is
 * accepted with out->legacy = 1; the reference gives no check rule for it,
 * so it is checked to be 15 digits only. out may be NULL. */
int validate_uscc(const char *s, validate_uscc_info *out, const char *field, gr_err *err);

/* The parts of an accepted facility (部件) code. */
typedef struct validate_facility_info {
    char county[7]; /* GB/T 2260 county-level division code */
    int major;      /* 大类 01-99 */
    int minor;      /* 小类 01-99 */
    char serial[7]; /* 流水号, 6 digits */
} validate_facility_info;

/* The 16-digit 部件 code (reference 1.3): 6-digit county division code +
 * 2-digit major class + 2-digit minor class + 6-digit serial, all digits.
 * Major and minor must not be 00, and the county code must start with a
 * province-level prefix (as for ID numbers). Whether the classes exist is a
 * question for the class tables, not for this format check. out may be NULL. */
int validate_facility_code(const char *s, validate_facility_info *out, const char *field,
                           gr_err *err);

/* A mainland phone number: a mobile (11 digits, 1[3-9]...) or a landline:
 * area code (010 or 02x, else 0 + three digits with the second digit 3-9), an
 * optional '-', then a 7- or 8-digit local number that starts with 2-9.
 * No spaces, no +86, no extension. */
int validate_phone(const char *s, const char *field, gr_err *err);

/* Only a mobile number (11 digits, 1[3-9]...): for numbers that must receive
 * text messages or are masked as 3 + 4 digits (users' phones, case contacts). */
int validate_mobile(const char *s, const char *field, gr_err *err);

#endif
