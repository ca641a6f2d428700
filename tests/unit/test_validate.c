/* base/validate and base/mask: the public examples of the reference
 * (china_standards.md 4.1, 4.2, 1.3, 5.2), their failing neighbours with the
 * reason each names, and masking by policy. All numbers are the reference's
 * public examples or synthetic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/mask.h"
#include "base/validate.h"

#include <string.h>

#define TODAY 20261127

/* The refusal names the field and contains the reason text. */
static void assert_refused(int rc, const gr_err *err, const char *field, const char *reason)
{
    assert_int_equal(rc, GR_EINVAL);
    assert_int_equal(err->code, GR_EINVAL);
    assert_string_equal(err->field, field);
    if (!strstr(err->msg, reason))
        fail_msg("message '%s' does not say '%s'", err->msg, reason);
}

/* The MOD 11-2 check of 17 digits, written out independently as the oracle. */
static void id_with_check(const char *d17, char out[19])
{
    int sum = 0, w = 1;

    for (int i = 16; i >= 0; i--) {
        w = w * 2 % 11;
        sum += (d17[i] - '0') * w;
    }
    memcpy(out, d17, 17);
    out[17] = "10X98765432"[sum % 11];
    out[18] = '\0';
}

static int id_ok(const char *s)
{
    gr_err err = {0};

    return validate_id_number(s, TODAY, NULL, "id_number", &err) == 0;
}

static void test_id_example(void **state)
{
    validate_id_info info;
    gr_err err = {0};

    (void)state;
    assert_int_equal(validate_id_number("11010519491231002X", TODAY, &info, "id_number", &err), 0);
    assert_string_equal(info.normalized, "11010519491231002X");
    assert_int_equal(info.year, 1949);
    assert_int_equal(info.month, 12);
    assert_int_equal(info.day, 31);
    assert_int_equal(info.sex, 'F');
    assert_string_equal(info.region, "110105");
    /* A lower-case x is the same number, normalised. */
    assert_int_equal(validate_id_number("11010519491231002x", TODAY, &info, "id_number", &err), 0);
    assert_string_equal(info.normalized, "11010519491231002X");
    /* An odd 17th digit is male (a synthetic number with its own check). */
    {
        char id[19];

        id_with_check("44052419800101001", id);
        assert_int_equal(validate_id_number(id, TODAY, &info, "id_number", &err), 0);
        assert_int_equal(info.sex, 'M');
    }
    /* 0 is today: a 1949 birth date is in the past on any day these tests run. */
    assert_int_equal(validate_id_number("11010519491231002X", 0, NULL, "id_number", &err), 0);
}

static void test_id_refusals(void **state)
{
    gr_err err = {0};
    char id[19];

    (void)state;
    assert_refused(validate_id_number("110105194912310021", TODAY, NULL, "id_number", &err), &err,
                   "id_number", "checksum: the check character should be X, not 1");
    assert_refused(validate_id_number("11010519490230002X", TODAY, NULL, "rows[3].id_number", &err),
                   &err, "rows[3].id_number", "birth date 19490230 is not a real calendar date");
    assert_refused(validate_id_number("99010519491231002X", TODAY, NULL, "id_number", &err), &err,
                   "id_number", "region: 99 is not a province-level code");
    assert_refused(validate_id_number("11010519491231002", TODAY, NULL, "id_number", &err), &err,
                   "id_number", "must be 18 characters long");
    assert_refused(validate_id_number("1101051949A231002X", TODAY, NULL, "id_number", &err), &err,
                   "id_number", "character 11 must be a digit");
    assert_refused(validate_id_number("11010519491231002Y", TODAY, NULL, "id_number", &err), &err,
                   "id_number", "character 18 (the check character) must be a digit or X");
    assert_refused(validate_id_number(NULL, TODAY, NULL, "id_number", &err), &err, "id_number",
                   "not 0");
    assert_refused(validate_id_number("", TODAY, NULL, "id_number", &err), &err, "id_number",
                   "must be 18 characters long");
    /* A legacy 15-digit number is not taken here. */
    assert_refused(validate_id_number("110105491231002", TODAY, NULL, "id_number", &err), &err,
                   "id_number", "not 15");
    /* The reference's second example is correct but born 1880. */
    assert_refused(validate_id_number("440524188001010014", TODAY, NULL, "id_number", &err), &err,
                   "id_number", "birth date 18800101 is before 1900-01-01");
    /* A valid number whose birth date is after "today". */
    id_with_check("11010520261128001", id);
    assert_refused(validate_id_number(id, TODAY, NULL, "id_number", &err), &err, "id_number",
                   "birth date 20261128 is in the future");
    id_with_check("11010520261127001", id);
    assert_true(id_ok(id));
    id_with_check("11010519000101001", id);
    assert_true(id_ok(id));
    id_with_check("11010518991231001", id);
    assert_false(id_ok(id));
    /* Month 00 and 13, day 00 and 32. */
    id_with_check("11010519490031001", id);
    assert_false(id_ok(id));
    id_with_check("11010519491331001", id);
    assert_false(id_ok(id));
    id_with_check("11010519491200001", id);
    assert_false(id_ok(id));
    id_with_check("11010519491232001", id);
    assert_false(id_ok(id));
}

static void test_id_leap_years_and_regions(void **state)
{
    static const struct {
        const char *d17;
        int ok;
    } cases[] = {
        {"11010520000229001", 1},                           /* 2000: divisible by 400 */
        {"11010520040229001", 1}, {"11010519000229001", 0}, /* 1900: by 100, not 400 */
        {"11010520010229001", 0}, {"11010520010228001", 1}, {"11010519490431001", 0},
        {"12010519491231001", 1}, {"15010519491231001", 1}, {"16010519491231001", 0},
        {"21010519491231001", 1}, {"23010519491231001", 1}, {"24010519491231001", 0},
        {"31010519491231001", 1}, {"37010519491231001", 1}, {"38010519491231001", 0},
        {"41010519491231001", 1}, {"46010519491231001", 1}, {"47010519491231001", 0},
        {"50010519491231001", 1}, {"54010519491231001", 1}, {"55010519491231001", 0},
        {"61010519491231001", 1}, {"65010519491231001", 1}, {"66010519491231001", 0},
        {"71010519491231001", 1}, {"72010519491231001", 0}, {"81010519491231001", 1},
        {"82010519491231001", 1}, {"83010519491231001", 1}, {"84010519491231001", 0},
        {"91010519491231001", 0}, {"00010519491231001", 0}, {"10010519491231001", 0},
    };
    char id[19];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        id_with_check(cases[i].d17, id);
        if (id_ok(id) != cases[i].ok)
            fail_msg("%s: expected %s", id, cases[i].ok ? "accepted" : "refused");
    }
}

static void test_uscc_example(void **state)
{
    validate_uscc_info info;
    gr_err err = {0};

    (void)state;
    assert_int_equal(validate_uscc("91350100M000100Y43", &info, "credit_code", &err), 0);
    assert_string_equal(info.normalized, "91350100M000100Y43");
    assert_int_equal(info.legacy, 0);
    assert_int_equal(info.authority, '9');
    assert_int_equal(info.org_type, '1');
    assert_string_equal(info.division, "350100");
    assert_string_equal(info.body, "M000100Y4");
    assert_int_equal(info.org_code_valid, 1);
    /* Lower case is the same code. */
    assert_int_equal(validate_uscc("91350100m000100y43", &info, "credit_code", &err), 0);
    assert_string_equal(info.normalized, "91350100M000100Y43");
    /* A legacy 15-digit 注册号 (synthetic), digits only. */
    assert_int_equal(validate_uscc("350100000000017", &info, "credit_code", &err), 0);
    assert_int_equal(info.legacy, 1);
    assert_string_equal(info.normalized, "350100000000017");
    assert_string_equal(info.division, "350100");
    assert_string_equal(info.body, "");
    assert_int_equal(validate_uscc("91350100M000100Y43", NULL, "credit_code", &err), 0);
}

static void test_uscc_refusals(void **state)
{
    static const char *const forbidden = "IOZSV";
    gr_err err = {0};
    char code[19];

    (void)state;
    assert_refused(validate_uscc("91350100M000100Y44", NULL, "credit_code", &err), &err,
                   "credit_code", "checksum: the check character should be 3, not 4");
    assert_refused(validate_uscc("91350100M000200Y43", NULL, "credit_code", &err), &err,
                   "credit_code", "checksum");
    assert_refused(validate_uscc("91350200M000100Y43", NULL, "credit_code", &err), &err,
                   "credit_code", "checksum");
    for (const char *f = forbidden; *f; f++) {
        memcpy(code, "91350100M000100Y43", 19);
        code[15] = *f;
        assert_refused(validate_uscc(code, NULL, "credit_code", &err), &err, "credit_code",
                       "character 16 is not allowed");
    }
    assert_refused(validate_uscc("91350100M000100Y4", NULL, "credit_code", &err), &err,
                   "credit_code", "must be 18 characters long (or a 15-digit legacy");
    assert_refused(validate_uscc("91350100M000100Y433", NULL, "credit_code", &err), &err,
                   "credit_code", "not 19");
    assert_refused(validate_uscc(NULL, NULL, "credit_code", &err), &err, "credit_code", "not 0");
    assert_refused(validate_uscc("91350100M000100Y4-", NULL, "credit_code", &err), &err,
                   "credit_code", "character 18 is not allowed");
    assert_refused(validate_uscc("B1350100M000100Y43", NULL, "credit_code", &err), &err,
                   "credit_code", "registration authority code B (character 1)");
    assert_refused(validate_uscc("94350100M000100Y43", NULL, "credit_code", &err), &err,
                   "credit_code",
                   "organisation type 4 (character 2) does not exist for authority 9");
    assert_refused(validate_uscc("Y2350100M000100Y43", NULL, "credit_code", &err), &err,
                   "credit_code", "organisation type 2");
    assert_refused(validate_uscc("913501A0M000100Y43", NULL, "credit_code", &err), &err,
                   "credit_code", "characters 3-8 must be digits");
    assert_refused(validate_uscc("35010000000001A", NULL, "credit_code", &err), &err, "credit_code",
                   "legacy registration number must be all digits");
}

static void test_facility_code(void **state)
{
    validate_facility_info info;
    gr_err err = {0};

    (void)state;
    assert_int_equal(validate_facility_code("3205080101000001", &info, "code", &err), 0);
    assert_string_equal(info.county, "320508");
    assert_int_equal(info.major, 1);
    assert_int_equal(info.minor, 1);
    assert_string_equal(info.serial, "000001");
    assert_int_equal(validate_facility_code("3205820102048188", &info, "code", &err), 0);
    assert_int_equal(info.minor, 2);
    assert_string_equal(info.serial, "048188");
    assert_int_equal(validate_facility_code("3205829999999999", NULL, "code", &err), 0);

    assert_refused(validate_facility_code("320508010100000", NULL, "code", &err), &err, "code",
                   "must be 16 digits long");
    assert_refused(validate_facility_code("32050801010000012", NULL, "code", &err), &err, "code",
                   "not 17");
    assert_refused(validate_facility_code("32050801010A0001", NULL, "code", &err), &err, "code",
                   "character 12 must be a digit");
    assert_refused(validate_facility_code("3205080001000001", NULL, "items[0].code", &err), &err,
                   "items[0].code", "major class (digits 7-8) must be 01 to 99, not 00");
    assert_refused(validate_facility_code("3205080100000001", NULL, "code", &err), &err, "code",
                   "minor class (digits 9-10) must be 01 to 99, not 00");
    assert_refused(validate_facility_code("9905080101000001", NULL, "code", &err), &err, "code",
                   "region: 99 is not a province-level code");
    assert_refused(validate_facility_code(NULL, NULL, "code", &err), &err, "code", "not 0");
}

static void test_phone(void **state)
{
    static const char *const good[] = {
        "13812345678",  "19912345678",  "010-62345678", "01062345678",  "021-5234567",
        "0571-8888888", "057188888888", "0571-2345678", "029-88888888",
    };
    static const char *const bad[] = {
        "",
        "12812345678",
        "23812345678",
        "1381234567",
        "138123456789",
        "1381234567a",
        "011-12345678",
        "001-12345678",
        "010-0123456",
        "010-1234567",
        "010--62345678",
        "010-12345678",
        "0571-888888",
        "0571-888888888",
        "+8613812345678",
        "138 1234 5678",
        "0571-",
        "0",
        "-12345678",
        "0571-8888888-1",
        "02-12345678",
    };
    gr_err err = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (validate_phone(good[i], "phone", &err) != 0)
            fail_msg("'%s' was refused: %s", good[i], err.msg);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_refused(validate_phone(bad[i], "contact", &err), &err, "contact",
                       "must be a mainland mobile number (11 digits, 1[3-9]...) or a landline");
    assert_refused(validate_phone(NULL, "phone", &err), &err, "phone", "landline");

    assert_int_equal(validate_mobile("13900001111", "phone", &err), 0);
    assert_refused(validate_mobile("010-12345678", "phone", &err), &err, "phone",
                   "must be an 11-digit mainland mobile number");
    assert_refused(validate_mobile("12345", "phone", &err), &err, "phone", "mobile");
    assert_refused(validate_mobile(NULL, "phone", &err), &err, "phone", "mobile");
}

/* mask_text with the default policy into a roomy buffer. */
static const char *masked(mask_kind kind, const char *in)
{
    static char out[256];
    size_t n = mask_text(mask_policy_default(), kind, in, out, sizeof(out));

    assert_int_equal(n, strlen(out));
    return out;
}

static void test_mask_defaults(void **state)
{
    (void)state;
    assert_string_equal(masked(MASK_ID_NUMBER, "11010519491231002X"), "110105********002X");
    assert_string_equal(masked(MASK_PHONE, "13812345678"), "138****5678");
    assert_string_equal(masked(MASK_PHONE, "0571-8888888"), "057*****8888");
    assert_string_equal(masked(MASK_NAME, "张三"), "张*");
    assert_string_equal(masked(MASK_NAME, "欧阳娜娜"), "欧***");
    assert_string_equal(masked(MASK_NAME, "张"), "*");
    assert_string_equal(masked(MASK_NAME, "Li Lei"), "L*****");
    /* 18 code points: all but the last 8 stay. */
    assert_string_equal(masked(MASK_ADDRESS, "杭州市西湖区文三路90号1幢301室"),
                        "杭州市西湖区文三路9********");
    /* Short inputs are hidden entirely, never shown whole. */
    assert_string_equal(masked(MASK_ADDRESS, "文三路90号"), "******");
    assert_string_equal(masked(MASK_PHONE, "1234567"), "*******");
    assert_string_equal(masked(MASK_PHONE, "12345678"), "123*5678");
    assert_string_equal(masked(MASK_ID_NUMBER, "1101"), "****");
    assert_string_equal(masked(MASK_NAME, ""), "");
    assert_string_equal(masked(MASK_NAME, NULL), "");
    /* Invalid UTF-8 (a stray continuation, a truncated sequence, an
     * overlong form) hides everything, one '*' per byte. */
    assert_string_equal(masked(MASK_NAME, "\x80\xe5\xbc"), "***");
    assert_string_equal(masked(MASK_NAME, "\xe5\xbc\xa0\xe4\xb8"), "*****");
    assert_string_equal(masked(MASK_PHONE, "\xc0\xaf"
                                           "12345678901"),
                        "*************");
    /* An unknown kind hides everything. */
    assert_string_equal(masked((mask_kind)99, "张三"), "**");
    assert_string_equal(mask_kind_name(MASK_ADDRESS), "address");
    assert_string_equal(mask_kind_name((mask_kind)99), "");
}

static void test_mask_cut(void **state)
{
    char out[8];

    (void)state;
    /* The total length comes back, like snprintf; cuts fall between characters. */
    assert_int_equal(mask_text(NULL, MASK_NAME, "欧阳娜娜", out, 4), 6);
    assert_string_equal(out, "欧");
    assert_int_equal(mask_text(NULL, MASK_NAME, "欧阳娜娜", out, 3), 6);
    assert_string_equal(out, "");
    assert_int_equal(mask_text(NULL, MASK_NAME, "欧阳娜娜", out, 7), 6);
    assert_string_equal(out, "欧***");
    assert_int_equal(mask_text(NULL, MASK_PHONE, "13812345678", out, sizeof(out)), 11);
    assert_string_equal(out, "138****");
    assert_int_equal(mask_text(NULL, MASK_PHONE, "13812345678", out, 1), 11);
    assert_string_equal(out, "");
    assert_int_equal(mask_text(NULL, MASK_PHONE, "13812345678", NULL, 0), 11);
}

static void test_mask_custom_policy(void **state)
{
    mask_policy p;
    gr_err err = {0};
    char out[64];

    (void)state;
    assert_int_equal(mask_policy_parse("id_number=1,2; name = 0 , 0 ;address=3,0;", &p, &err), 0);
    mask_text(&p, MASK_ID_NUMBER, "11010519491231002X", out, sizeof(out));
    assert_string_equal(out, "1***************2X");
    mask_text(&p, MASK_NAME, "张三", out, sizeof(out));
    assert_string_equal(out, "**");
    mask_text(&p, MASK_ADDRESS, "杭州市西湖区", out, sizeof(out));
    assert_string_equal(out, "杭州市***");
    /* Kinds not named keep their default. */
    mask_text(&p, MASK_PHONE, "13812345678", out, sizeof(out));
    assert_string_equal(out, "138****5678");
    /* A negative head keeps all but the end. */
    assert_int_equal(mask_policy_parse("phone=-4,0", &p, &err), 0);
    assert_int_equal(p.rule[MASK_PHONE].keep_head, -4);
    mask_text(&p, MASK_PHONE, "13812345678", out, sizeof(out));
    assert_string_equal(out, "1381234****");
    /* The empty text is the defaults. */
    assert_int_equal(mask_policy_parse("", &p, &err), 0);
    assert_memory_equal(&p, mask_policy_default(), sizeof(p));
    assert_int_equal(mask_policy_parse(NULL, &p, &err), 0);
    assert_int_equal(mask_policy_parse("id_number=6,4;phone=3,4;name=1,0;address=-8,0", &p, &err),
                     0);
    assert_memory_equal(&p, mask_policy_default(), sizeof(p));
}

static void test_mask_policy_errors(void **state)
{
    static const struct {
        const char *spec, *reason;
    } cases[] = {
        {"email=1,0", "unknown kind 'email'"},
        {"phone", "item 'phone' must be KIND=HEAD,TAIL"},
        {"phone=3", "phone must be HEAD,TAIL"},
        {"phone=3,", "phone must be HEAD,TAIL"},
        {"phone=,4", "phone must be HEAD,TAIL"},
        {"phone=a,4", "phone must be HEAD,TAIL"},
        {"phone=3,-4", "phone must be HEAD,TAIL"},
        {"phone=65,0", "0 to 64"},
        {"phone=3,4,5", "phone must be HEAD,TAIL"},
        {"phone=3,4;phone=3,4", "phone is given twice"},
        {"address=-8,2", "address: a negative HEAD (keep all but the end) needs TAIL 0"},
        {"=1,0", "unknown kind ''"},
        {"name=1,0;;bogus", "item 'bogus'"},
    };
    mask_policy p;
    gr_err err = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&p, 0x5a, sizeof(p));
        assert_refused(mask_policy_parse(cases[i].spec, &p, &err), &err, "mask_policy",
                       cases[i].reason);
        /* Unchanged on failure. */
        for (size_t k = 0; k < sizeof(p); k++)
            assert_int_equal(((unsigned char *)&p)[k], 0x5a);
    }
}

/* The deployment's policy (GR_MASK_POLICY at start) is what every caller of
 * mask_policy_default() masks with; a bad one changes nothing. */
static void test_mask_deployment_policy(void **state)
{
    char out[64];
    gr_err err = {0};

    (void)state;
    assert_int_equal(mask_policy_configure("phone=3,2;name=0,1", &err), 0);
    mask_text(mask_policy_default(), MASK_PHONE, "13812345678", out, sizeof(out));
    assert_string_equal(out, "138******78");
    mask_text(mask_policy_default(), MASK_NAME, "张三", out, sizeof(out));
    assert_string_equal(out, "*三");
    assert_int_equal(mask_policy_configure("phone=99,0", &err), GR_EINVAL);
    assert_string_equal(err.field, "mask_policy");
    mask_text(mask_policy_default(), MASK_PHONE, "13812345678", out, sizeof(out));
    assert_string_equal(out, "138******78");
    assert_int_equal(mask_policy_configure(NULL, &err), 0);
    mask_text(mask_policy_default(), MASK_PHONE, "13812345678", out, sizeof(out));
    assert_string_equal(out, "138****5678");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_example),
        cmocka_unit_test(test_id_refusals),
        cmocka_unit_test(test_id_leap_years_and_regions),
        cmocka_unit_test(test_uscc_example),
        cmocka_unit_test(test_uscc_refusals),
        cmocka_unit_test(test_facility_code),
        cmocka_unit_test(test_phone),
        cmocka_unit_test(test_mask_defaults),
        cmocka_unit_test(test_mask_cut),
        cmocka_unit_test(test_mask_custom_policy),
        cmocka_unit_test(test_mask_policy_errors),
        cmocka_unit_test(test_mask_deployment_policy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
