/* base/calendar: working days and hours in Asia/Shanghai across the 2025
 * and 2026 Spring Festivals, 清明 and their adjusted workdays (调休). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/calendar.h"
#include "base/err.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

#define MIN_MS 60000LL

static calendar *cal;

/* A local (UTC+8) time as epoch ms. */
static int64_t at(int y, int mo, int d, int h, int mi)
{
    char s[40];
    int64_t ms = 0;

    snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:00+08:00", y, mo, d, h, mi);
    assert_int_equal(time_parse_iso(s, &ms), 0);
    return ms;
}

static void range(int y, int mo, int d0, int d1, int kind)
{
    for (int d = d0; d <= d1; d++)
        assert_int_equal(calendar_set_day(cal, y, mo, d, kind), 0);
}

/* The State Council's days that the tests walk through. */
static int setup(void **state)
{
    (void)state;
    cal = calendar_new();
    range(2025, 1, 28, 31, CAL_HOLIDAY); /* 春节 2025-01-28 .. 02-04 */
    range(2025, 2, 1, 4, CAL_HOLIDAY);
    range(2025, 1, 26, 26, CAL_WORKDAY); /* Sunday */
    range(2025, 2, 8, 8, CAL_WORKDAY);   /* Saturday */
    range(2026, 2, 15, 23, CAL_HOLIDAY); /* 春节 2026 */
    range(2026, 2, 14, 14, CAL_WORKDAY); /* Saturday */
    range(2026, 2, 28, 28, CAL_WORKDAY); /* Saturday */
    range(2026, 4, 4, 6, CAL_HOLIDAY);   /* 清明 2026: Saturday to Monday */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    calendar_free(cal);
    cal = NULL;
    return 0;
}

static void test_days(void **state)
{
    (void)state;
    /* Weekdays and weekends by the local date, not the UTC one: Saturday
     * 00:30 in Shanghai is still Friday in UTC. */
    assert_true(calendar_is_workday(cal, at(2025, 3, 7, 23, 59)));  /* Friday */
    assert_false(calendar_is_workday(cal, at(2025, 3, 8, 0, 30)));  /* Saturday */
    assert_false(calendar_is_workday(cal, at(2025, 3, 9, 12, 0)));  /* Sunday */
    assert_true(calendar_is_workday(cal, at(2025, 3, 10, 0, 0)));   /* Monday */
    assert_false(calendar_is_workday(cal, at(2025, 1, 29, 10, 0))); /* 春节, a Wednesday */
    assert_true(calendar_is_workday(cal, at(2025, 1, 26, 10, 0)));  /* 调休 Sunday */
    assert_true(calendar_is_workday(cal, at(2025, 2, 8, 10, 0)));   /* 调休 Saturday */
    assert_false(calendar_is_workday(cal, at(2026, 4, 6, 10, 0)));  /* 清明 Monday */

    assert_int_equal(calendar_day_kind(cal, 2025, 2, 8), CAL_WORKDAY);
    assert_int_equal(calendar_day_kind(cal, 2025, 2, 1), CAL_HOLIDAY);
    assert_int_equal(calendar_day_kind(cal, 2025, 2, 9), CAL_DEFAULT);
    /* Overrides replace and go away. */
    assert_int_equal(calendar_set_day(cal, 2025, 3, 10, CAL_HOLIDAY), 0);
    assert_false(calendar_is_workday(cal, at(2025, 3, 10, 10, 0)));
    assert_int_equal(calendar_set_day(cal, 2025, 3, 10, CAL_WORKDAY), 0);
    assert_int_equal(calendar_day_kind(cal, 2025, 3, 10), CAL_WORKDAY);
    assert_int_equal(calendar_set_day(cal, 2025, 3, 10, CAL_DEFAULT), 0);
    assert_int_equal(calendar_day_kind(cal, 2025, 3, 10), CAL_DEFAULT);
    assert_true(calendar_is_workday(cal, at(2025, 3, 10, 10, 0)));
    assert_int_equal(calendar_set_day(cal, 2025, 3, 10, CAL_DEFAULT), 0);

    /* Not dates, not kinds. */
    assert_int_equal(calendar_set_day(cal, 2025, 2, 29, CAL_HOLIDAY), GR_EINVAL);
    assert_int_equal(calendar_set_day(cal, 2024, 2, 29, CAL_HOLIDAY), 0);
    assert_int_equal(calendar_set_day(cal, 2024, 2, 29, CAL_DEFAULT), 0);
    assert_int_equal(calendar_set_day(cal, 2025, 13, 1, CAL_HOLIDAY), GR_EINVAL);
    assert_int_equal(calendar_set_day(cal, 2025, 4, 31, CAL_HOLIDAY), GR_EINVAL);
    assert_int_equal(calendar_set_day(cal, 1899, 12, 31, CAL_HOLIDAY), GR_EINVAL);
    assert_int_equal(calendar_set_day(cal, 2025, 4, 1, 7), GR_EINVAL);
}

static void test_date_parse(void **state)
{
    int y = 0, m = 0, d = 0;

    (void)state;
    assert_int_equal(calendar_date_parse("2026-02-14", &y, &m, &d), 0);
    assert_int_equal(y * 10000 + m * 100 + d, 20260214);
    assert_int_equal(calendar_date_parse("2026-02-30", &y, &m, &d), GR_EINVAL);
    assert_int_equal(calendar_date_parse("2026-2-14", &y, &m, &d), GR_EINVAL);
    assert_int_equal(calendar_date_parse("2026-02-14 ", &y, &m, &d), GR_EINVAL);
    assert_int_equal(calendar_date_parse("2026/02/14", &y, &m, &d), GR_EINVAL);
    assert_int_equal(calendar_date_parse("+026-02-14", &y, &m, &d), GR_EINVAL);
    assert_int_equal(calendar_date_parse("", &y, &m, &d), GR_EINVAL);
    assert_int_equal(calendar_date_parse(NULL, &y, &m, &d), GR_EINVAL);
}

static void test_working_minutes(void **state)
{
    (void)state;
    /* Friday 17:00 before 清明 2026 (Saturday to Monday): one hour on
     * Friday, none over the weekend or the holiday Monday, one on Tuesday. */
    assert_int_equal(calendar_add(cal, at(2026, 4, 3, 17, 0), 120, CAL_WORKING_MINUTES),
                     at(2026, 4, 7, 10, 0));
    /* Friday 17:00 before the 2025 Spring Festival: the Sunday is worked. */
    assert_int_equal(calendar_add(cal, at(2025, 1, 24, 17, 0), 120, CAL_WORKING_MINUTES),
                     at(2025, 1, 26, 10, 0));
    /* The lunch break does not count. */
    assert_int_equal(calendar_add(cal, at(2025, 3, 12, 11, 30), 60, CAL_WORKING_MINUTES),
                     at(2025, 3, 12, 14, 0));
    /* Started in the lunch break: from 13:30. */
    assert_int_equal(calendar_add(cal, at(2025, 3, 12, 12, 30), 30, CAL_WORKING_MINUTES),
                     at(2025, 3, 12, 14, 0));
    /* Work that ends with the day is due at 18:00, not the next morning. */
    assert_int_equal(calendar_add(cal, at(2025, 3, 12, 17, 0), 60, CAL_WORKING_MINUTES),
                     at(2025, 3, 12, 18, 0));
    assert_int_equal(calendar_add(cal, at(2025, 3, 12, 18, 0), 1, CAL_WORKING_MINUTES),
                     at(2025, 3, 13, 9, 1));
    /* Half a working day (12319 acceptance) from Monday 9:00 is 12:00 + 45 min. */
    assert_int_equal(calendar_add(cal, at(2025, 3, 10, 9, 0), 225, CAL_WORKING_MINUTES),
                     at(2025, 3, 10, 14, 15));
    /* Through the whole 2025 Spring Festival: Monday 1-27 17:00 + 2 working
     * hours skips eight days of holiday. */
    assert_int_equal(calendar_add(cal, at(2025, 1, 27, 17, 0), 120, CAL_WORKING_MINUTES),
                     at(2025, 2, 5, 10, 0));
}

static void test_working_days(void **state)
{
    (void)state;
    /* Monday 2025-01-27 10:00, the last working day before the holiday. */
    assert_int_equal(calendar_add(cal, at(2025, 1, 27, 10, 0), 1, CAL_WORKING_DAYS),
                     at(2025, 2, 5, 10, 0));
    assert_int_equal(calendar_add(cal, at(2025, 1, 27, 10, 0), 3, CAL_WORKING_DAYS),
                     at(2025, 2, 7, 10, 0));
    /* The fourth is the adjusted Saturday 02-08. */
    assert_int_equal(calendar_add(cal, at(2025, 1, 27, 10, 0), 4, CAL_WORKING_DAYS),
                     at(2025, 2, 8, 10, 0));
    assert_int_equal(calendar_add(cal, at(2025, 1, 27, 10, 0), 5, CAL_WORKING_DAYS),
                     at(2025, 2, 10, 10, 0));
    /* 2026: Friday 02-13 17:00 -> the adjusted Saturday, then after the
     * nine days of holiday. */
    assert_int_equal(calendar_add(cal, at(2026, 2, 13, 17, 0), 1, CAL_WORKING_DAYS),
                     at(2026, 2, 14, 17, 0));
    assert_int_equal(calendar_add(cal, at(2026, 2, 13, 17, 0), 2, CAL_WORKING_DAYS),
                     at(2026, 2, 24, 17, 0));
    /* Started on a holiday: from the first working morning after it. */
    assert_int_equal(calendar_add(cal, at(2026, 2, 18, 15, 0), 1, CAL_WORKING_DAYS),
                     at(2026, 2, 25, 9, 0));
}

static void test_outside_hours(void **state)
{
    (void)state;
    /* Saturday 10:00 -> Monday 09:00 -> Tuesday 09:00. */
    assert_int_equal(calendar_add(cal, at(2025, 3, 8, 10, 0), 1, CAL_WORKING_DAYS),
                     at(2025, 3, 11, 9, 0));
    /* Wednesday 20:00 -> Thursday 09:00 -> Friday 09:00. */
    assert_int_equal(calendar_add(cal, at(2025, 3, 12, 20, 0), 1, CAL_WORKING_DAYS),
                     at(2025, 3, 14, 9, 0));
    /* Before opening on Wednesday: Wednesday 09:00 -> Thursday 09:00. */
    assert_int_equal(calendar_add(cal, at(2025, 3, 12, 7, 45), 1, CAL_WORKING_DAYS),
                     at(2025, 3, 13, 9, 0));
    /* The lunch break -> 13:30. */
    assert_int_equal(calendar_add(cal, at(2025, 3, 12, 12, 10), 1, CAL_WORKING_DAYS),
                     at(2025, 3, 13, 13, 30));
    /* Saturday 22:00 with working minutes: Monday from 09:00. */
    assert_int_equal(calendar_add(cal, at(2025, 3, 8, 22, 0), 30, CAL_WORKING_MINUTES),
                     at(2025, 3, 10, 9, 30));
}

static void test_working_ms(void **state)
{
    int64_t start, due;
    int i, m;

    (void)state;
    /* Across the lunch break: 11:00-12:00 and 13:30-14:00. */
    assert_int_equal(calendar_working_ms(cal, at(2025, 3, 12, 11, 0), at(2025, 3, 12, 14, 0)),
                     90 * MIN_MS);
    /* Across a weekend: Friday 17:00-18:00 and Monday 09:00-10:00. */
    assert_int_equal(calendar_working_ms(cal, at(2025, 3, 7, 17, 0), at(2025, 3, 10, 10, 0)),
                     120 * MIN_MS);
    /* Across a weekend whose Sunday is worked (2025-01-26): + 7.5 h. */
    assert_int_equal(calendar_working_ms(cal, at(2025, 1, 24, 17, 0), at(2025, 1, 27, 10, 0)),
                     (60 + 450 + 60) * MIN_MS);
    /* The whole Spring Festival 2025 holiday counts nothing. */
    assert_int_equal(calendar_working_ms(cal, at(2025, 1, 28, 0, 0), at(2025, 2, 5, 0, 0)), 0);
    /* Backwards or empty: nothing. */
    assert_int_equal(calendar_working_ms(cal, at(2025, 3, 12, 14, 0), at(2025, 3, 12, 11, 0)), 0);
    assert_int_equal(calendar_working_ms(cal, at(2025, 3, 12, 14, 0), at(2025, 3, 12, 14, 0)), 0);
    /* Adding working minutes and measuring them back agree, from any start. */
    for (i = 0; i < 24 * 30; i++) {
        start = at(2025, 1, 20, 0, 0) + (int64_t)i * 53 * MIN_MS;
        for (m = 1; m <= 2000; m += 331) {
            due = calendar_add(cal, start, m, CAL_WORKING_MINUTES);
            assert_int_equal(calendar_working_ms(cal, start, due), m * MIN_MS);
        }
    }
}

static void test_units(void **state)
{
    int s[4], e[4];
    calendar *holidays;
    int64_t t = at(2025, 3, 12, 10, 0);

    (void)state;
    assert_int_equal(calendar_add(cal, t, 90, CAL_NATURAL_MINUTES), t + 90 * MIN_MS);
    assert_int_equal(calendar_add(cal, t, 0, CAL_WORKING_DAYS), t);
    assert_int_equal(calendar_add(cal, t, -5, CAL_WORKING_MINUTES), t);
    assert_int_equal(calendar_add(cal, t, INT64_MAX, CAL_NATURAL_MINUTES), INT64_MAX);
    assert_int_equal(calendar_add(cal, t, INT64_MAX, CAL_WORKING_MINUTES), INT64_MAX);
    assert_int_equal(calendar_add(cal, t, INT64_MAX, CAL_WORKING_DAYS), INT64_MAX);
    assert_int_equal(calendar_add(cal, INT64_MAX - 5, 1, CAL_WORKING_DAYS), INT64_MAX);
    assert_true(calendar_working_ms(cal, INT64_MIN, INT64_MAX) > 0);
    assert_int_equal(calendar_unit_parse("natural_minutes"), CAL_NATURAL_MINUTES);
    assert_int_equal(calendar_unit_parse("working_minutes"), CAL_WORKING_MINUTES);
    assert_int_equal(calendar_unit_parse("working_days"), CAL_WORKING_DAYS);
    assert_int_equal(calendar_unit_parse("days"), -1);
    assert_int_equal(calendar_unit_parse(NULL), -1);
    assert_string_equal(calendar_unit_name(CAL_WORKING_DAYS), "working_days");
    assert_string_equal(calendar_unit_name((cal_unit)9), "unknown");
    assert_int_equal(calendar_periods(s, e, 4), 2);
    assert_int_equal(s[0], 9 * 60);
    assert_int_equal(e[0], 12 * 60);
    assert_int_equal(s[1], 13 * 60 + 30);
    assert_int_equal(e[1], 18 * 60);

    /* A calendar with nothing but holidays for two years ends the walk. */
    holidays = calendar_new();
    for (int y = 2025; y <= 2026; y++)
        for (int mo = 1; mo <= 12; mo++)
            for (int d = 1; d <= 31; d++)
                calendar_set_day(holidays, y, mo, d, CAL_HOLIDAY);
    assert_int_equal(calendar_add(holidays, t, 1, CAL_WORKING_DAYS), at(2027, 1, 4, 9, 0));
    assert_int_equal(calendar_add(holidays, t, 30, CAL_WORKING_MINUTES), at(2027, 1, 1, 9, 30));
    calendar_free(holidays);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_date_parse),
        cmocka_unit_test(test_working_minutes),
        cmocka_unit_test(test_working_days),
        cmocka_unit_test(test_outside_hours),
        cmocka_unit_test(test_working_ms),
        cmocka_unit_test(test_units),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
