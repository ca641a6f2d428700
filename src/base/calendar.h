/*
 * The working-day calendar: which dates are holidays and which weekend dates
 * are adjusted workdays (调休), the working hours of a day, and due times
 * computed in natural minutes, working minutes or working days, all in
 * Asia/Shanghai (UTC+8, no daylight saving). Pure computation: the catalog
 * module loads it from the calendar_days table. Owner: whoever called
 * calendar_new; read-only (and so thread-safe) once filled.
 */
#ifndef GR_BASE_CALENDAR_H
#define GR_BASE_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

typedef struct calendar calendar;

typedef enum { CAL_NATURAL_MINUTES = 0, CAL_WORKING_MINUTES, CAL_WORKING_DAYS } cal_unit;
enum { CAL_DEFAULT = 0, CAL_HOLIDAY = 1, CAL_WORKDAY = 2 };

calendar *calendar_new(void);
void calendar_free(calendar *cal);
/* Marks a date (local, Asia/Shanghai) as a holiday or an adjusted workday. */
int calendar_set_day(calendar *cal, int year, int month, int day, int kind);
/* Whether the local date containing ms is a working day. */
int calendar_is_workday(const calendar *cal, int64_t ms);
/* start + amount in unit, skipping non-working time for the working units.
 * Working minutes count only inside the working periods of working days.
 * Working days give the same local time of day N working days later; a start
 * outside working hours first moves to the start of the next working period.
 * amount <= 0 gives start; a due time beyond 100 years (or past 9999) is
 * INT64_MAX. */
int64_t calendar_add(const calendar *cal, int64_t start_ms, int64_t amount, cal_unit unit);
/* Working milliseconds between two instants (for the time spent in a step). */
int64_t calendar_working_ms(const calendar *cal, int64_t from_ms, int64_t to_ms);
/* "natural_minutes" | "working_minutes" | "working_days" <-> cal_unit; -1 if unknown. */
int calendar_unit_parse(const char *name);
const char *calendar_unit_name(cal_unit unit);

/* The override of a local date: CAL_DEFAULT, CAL_HOLIDAY or CAL_WORKDAY. */
int calendar_day_kind(const calendar *cal, int year, int month, int day);
/* Parses a strict "YYYY-MM-DD" (a real date, years 1900..9999); 0 or GR_EINVAL. */
int calendar_date_parse(const char *s, int *year, int *month, int *day);
/* The working periods of a working day, in minutes after local midnight
 * ({540, 720}, {810, 1080}: 09:00-12:00 and 13:30-18:00): fills up to max
 * pairs and returns how many periods there are. */
size_t calendar_periods(int *start_min, int *end_min, size_t max);

#endif
