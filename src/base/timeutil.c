#include "base/timeutil.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t time_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* v's last n decimal digits into p (v >= 0). */
static void put_digits(char *p, int v, int n)
{
    while (n-- > 0) {
        p[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

void time_format_iso(int64_t ms, char *buf, size_t len)
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)secs * 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    if (len < sizeof("0000-00-00T00:00:00.000Z") || tm.tm_year < -1900 || tm.tm_year > 8099) {
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
        return;
    }
    /* Every response carries a few of these: the digits by hand cost a
     * tenth of snprintf's format parsing. */
    memcpy(buf, "0000-00-00T00:00:00.000Z", sizeof("0000-00-00T00:00:00.000Z"));
    put_digits(buf, tm.tm_year + 1900, 4);
    put_digits(buf + 5, tm.tm_mon + 1, 2);
    put_digits(buf + 8, tm.tm_mday, 2);
    put_digits(buf + 11, tm.tm_hour, 2);
    put_digits(buf + 14, tm.tm_min, 2);
    put_digits(buf + 17, tm.tm_sec, 2);
    put_digits(buf + 20, frac, 3);
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 ? 28 + leap : d[m - 1];
}

int time_parse_iso(const char *s, int64_t *out_ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, n = 0, tzh = 0, tzm = 0, sign = 1;
    const char *p;
    struct tm tm;
    int64_t t;

    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return GR_EINVAL;
    p = s + n;
    if (*p == 'T' || *p == ' ') {
        if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
            return GR_EINVAL;
        p += 1 + n;
        if (*p == '.') {
            int digits = 0;
            p++;
            while (*p >= '0' && *p <= '9') {
                if (digits < 3) {
                    ms = ms * 10 + (*p - '0');
                    digits++;
                }
                p++;
            }
            if (digits == 0)
                return GR_EINVAL;
            while (digits++ < 3)
                ms *= 10;
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            sign = *p == '-' ? -1 : 1;
            if (sscanf(p + 1, "%2d:%2d%n", &tzh, &tzm, &n) != 2 || n != 5 || tzh > 23 || tzm > 59)
                return GR_EINVAL;
            p += 1 + n;
        } else {
            return GR_EINVAL;
        }
    }
    if (*p != '\0')
        return GR_EINVAL;
    if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 60)
        return GR_EINVAL;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = (int64_t)timegm(&tm);
    *out_ms = (t - sign * (tzh * 3600 + tzm * 60)) * 1000 + ms;
    return 0;
}
