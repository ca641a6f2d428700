/*
 * The working-day calendar. A day is a local date in Asia/Shanghai (UTC+8 all
 * year: China has had no daylight saving since 1991), numbered from
 * 1970-01-01. Monday to Friday are working days and weekends are not, unless
 * the override table says otherwise: a holiday (节假日) on a weekday, or an
 * adjusted workday (调休上班) on a weekend. Working time is the working periods
 * of working days; the periods are the one constant below.
 *
 * Every walk is bounded by CAL_HORIZON_DAYS, so an absurd amount or a
 * calendar of nothing but holidays ends in INT64_MAX ("never") instead of a
 * loop without end.
 */
#include "base/calendar.h"
#include "base/names.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MINUTE_MS        60000LL
#define DAY_MS           86400000LL
#define TZ_OFFSET_MS     (8 * 3600000LL)    /* Asia/Shanghai */
#define CAL_HORIZON_DAYS 36525LL            /* 100 years */
#define CAL_MIN_MS       (-2208988800000LL) /* 1900-01-01T00:00:00Z */
#define CAL_MAX_MS       253402300800000LL  /* 10000-01-01T00:00:00Z */

/* The working hours of a working day, minutes after local midnight:
 * 09:00-12:00 and 13:30-18:00 (7.5 hours), the usual office hours of Chinese
 * government bodies. The only place they are written. */
static const struct {
    int start, end;
} periods[] = {{9 * 60, 12 * 60}, {13 * 60 + 30, 18 * 60}};
#define NPERIODS (sizeof(periods) / sizeof(periods[0]))

struct cal_day {
    int64_t day;
    int kind;
};

struct calendar {
    struct cal_day *v; /* sorted by day, no duplicates */
    size_t n, cap;
};

calendar *calendar_new(void)
{
    calendar *cal = calloc(1, sizeof(*cal));

    if (!cal)
        abort();
    return cal;
}

void calendar_free(calendar *cal)
{
    if (!cal)
        return;
    free(cal->v);
    free(cal);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Instants are clamped to the years 1900..9999 (the dates the calendar can
 * hold) before any walk, so no day arithmetic can overflow. */
static int64_t clamp_ms(int64_t ms)
{
    return ms < CAL_MIN_MS ? CAL_MIN_MS : ms > CAL_MAX_MS ? CAL_MAX_MS : ms;
}

static int64_t local_day(int64_t ms)
{
    return floor_div(clamp_ms(ms) + TZ_OFFSET_MS, DAY_MS);
}

static int64_t day_start_ms(int64_t day)
{
    return day * DAY_MS - TZ_OFFSET_MS;
}

/* Days since 1970-01-01 of a valid date; -1 in *ok when the date is not one. */
static int64_t date_to_day(int year, int month, int mday, int *ok)
{
    struct tm tm, back;
    time_t t;

    *ok = 0;
    if (year < 1900 || year > 9999 || month < 1 || month > 12 || mday < 1 || mday > 31)
        return 0;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = mday;
    t = timegm(&tm);
    /* timegm normalises 02-30 to 03-02: a date that does not come back is not one. */
    if (!gmtime_r(&t, &back) || back.tm_year != tm.tm_year || back.tm_mon != tm.tm_mon ||
        back.tm_mday != mday)
        return 0;
    *ok = 1;
    return floor_div((int64_t)t, 86400);
}

static size_t find(const calendar *cal, int64_t day, int *found)
{
    size_t lo = 0, hi = cal->n, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (cal->v[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < cal->n && cal->v[lo].day == day;
    return lo;
}

int calendar_set_day(calendar *cal, int year, int month, int day, int kind)
{
    int ok, found;
    int64_t d = date_to_day(year, month, day, &ok);
    size_t i;

    if (!ok)
        return GR_EINVAL;
    if (kind != CAL_DEFAULT && kind != CAL_HOLIDAY && kind != CAL_WORKDAY)
        return GR_EINVAL;
    i = find(cal, d, &found);
    if (found) {
        if (kind == CAL_DEFAULT) {
            memmove(&cal->v[i], &cal->v[i + 1], (cal->n - i - 1) * sizeof(cal->v[0]));
            cal->n--;
        } else {
            cal->v[i].kind = kind;
        }
        return 0;
    }
    if (kind == CAL_DEFAULT)
        return 0;
    if (cal->n == cal->cap) {
        cal->cap = cal->cap ? cal->cap * 2 : 64;
        cal->v = realloc(cal->v, cal->cap * sizeof(cal->v[0]));
        if (!cal->v)
            abort();
    }
    memmove(&cal->v[i + 1], &cal->v[i], (cal->n - i) * sizeof(cal->v[0]));
    cal->v[i].day = d;
    cal->v[i].kind = kind;
    cal->n++;
    return 0;
}

int calendar_day_kind(const calendar *cal, int year, int month, int day)
{
    int ok, found;
    int64_t d = date_to_day(year, month, day, &ok);
    size_t i;

    if (!ok)
        return CAL_DEFAULT;
    i = find(cal, d, &found);
    return found ? cal->v[i].kind : CAL_DEFAULT;
}

static int day_is_work(const calendar *cal, int64_t day)
{
    int found;
    size_t i = find(cal, day, &found);
    int64_t wday = ((day % 7) + 7 + 4) % 7; /* 1970-01-01 was a Thursday; 0 = Sunday */

    if (found)
        return cal->v[i].kind == CAL_WORKDAY;
    return wday >= 1 && wday <= 5;
}

int calendar_is_workday(const calendar *cal, int64_t ms)
{
    return day_is_work(cal, local_day(ms));
}

/* A walk over the working periods of the days first..last. */
struct period_walk {
    int64_t day, last;
    size_t i; /* the next period of day */
};

/* The next working period [*ps, *pe) of the walk; 0 when it is over. */
static int period_next(const calendar *cal, struct period_walk *w, int64_t *ps, int64_t *pe)
{
    int64_t base;

    for (; w->day <= w->last; w->day++, w->i = 0) {
        if (w->i < NPERIODS && day_is_work(cal, w->day)) {
            base = day_start_ms(w->day);
            *ps = base + periods[w->i].start * MINUTE_MS;
            *pe = base + periods[w->i].end * MINUTE_MS;
            w->i++;
            return 1;
        }
    }
    return 0;
}

/* t + remaining ms of working time. With remaining 0: t itself when it is
 * inside a working period, else the start of the next one. */
static int64_t add_working_ms(const calendar *cal, int64_t t, int64_t remaining)
{
    struct period_walk w = {local_day(t), local_day(t) + CAL_HORIZON_DAYS, 0};
    int64_t ps, pe, s;

    while (period_next(cal, &w, &ps, &pe)) {
        if (t >= pe)
            continue;
        s = t > ps ? t : ps;
        /* Work that ends exactly at the end of a period is due then, not at
         * the start of the next one. */
        if (remaining <= pe - s)
            return s + remaining;
        remaining -= pe - s;
    }
    return INT64_MAX;
}

/* t itself when it is inside a working period, else the start of the next
 * one; INT64_MAX when there is none within the horizon. */
static int64_t next_working_moment(const calendar *cal, int64_t t)
{
    return add_working_ms(cal, t, 0);
}

static int64_t add_working_days(const calendar *cal, int64_t t, int64_t n)
{
    int64_t s = next_working_moment(cal, t), day, tod, last;

    if (s == INT64_MAX || n > CAL_HORIZON_DAYS)
        return INT64_MAX;
    day = local_day(s);
    tod = s - day_start_ms(day);
    last = day + CAL_HORIZON_DAYS;
    while (n > 0 && day < last)
        if (day_is_work(cal, ++day))
            n--;
    return n > 0 ? INT64_MAX : day_start_ms(day) + tod;
}

int64_t calendar_add(const calendar *cal, int64_t start_ms, int64_t amount, cal_unit unit)
{
    if (amount <= 0)
        return start_ms;
    if (unit != CAL_NATURAL_MINUTES && start_ms >= CAL_MAX_MS)
        return INT64_MAX;
    switch (unit) {
    case CAL_NATURAL_MINUTES:
        if (amount > (INT64_MAX - (start_ms > 0 ? start_ms : 0)) / MINUTE_MS)
            return INT64_MAX;
        return start_ms + amount * MINUTE_MS;
    case CAL_WORKING_MINUTES:
        if (amount > CAL_HORIZON_DAYS * 24 * 60)
            return INT64_MAX;
        return add_working_ms(cal, start_ms, amount * MINUTE_MS);
    case CAL_WORKING_DAYS:
        return add_working_days(cal, start_ms, amount);
    }
    return INT64_MAX;
}

int64_t calendar_working_ms(const calendar *cal, int64_t from_ms, int64_t to_ms)
{
    struct period_walk w = {0, 0, 0};
    int64_t ps, pe, total = 0;

    from_ms = clamp_ms(from_ms);
    to_ms = clamp_ms(to_ms);
    if (to_ms <= from_ms)
        return 0;
    w.day = local_day(from_ms);
    w.last = local_day(to_ms);
    if (w.last - w.day > CAL_HORIZON_DAYS)
        w.last = w.day + CAL_HORIZON_DAYS;
    while (period_next(cal, &w, &ps, &pe)) {
        if (ps < from_ms)
            ps = from_ms;
        if (pe > to_ms)
            pe = to_ms;
        if (pe > ps)
            total += pe - ps;
    }
    return total;
}

static const char *const unit_names[] = {"natural_minutes", "working_minutes", "working_days"};

int calendar_unit_parse(const char *name)
{
    return names_find(unit_names, sizeof(unit_names) / sizeof(unit_names[0]), name);
}

const char *calendar_unit_name(cal_unit unit)
{
    return (unsigned)unit < sizeof(unit_names) / sizeof(unit_names[0]) ? unit_names[unit]
                                                                       : "unknown";
}

int calendar_date_parse(const char *s, int *year, int *month, int *day)
{
    size_t i;
    int ok;

    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return GR_EINVAL;
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return GR_EINVAL;
    *year = atoi(s);
    *month = atoi(s + 5);
    *day = atoi(s + 8);
    date_to_day(*year, *month, *day, &ok);
    return ok ? 0 : GR_EINVAL;
}

size_t calendar_periods(int *start_min, int *end_min, size_t max)
{
    size_t i;

    for (i = 0; i < NPERIODS && i < max; i++) {
        start_min[i] = periods[i].start;
        end_min[i] = periods[i].end;
    }
    return NPERIODS;
}
