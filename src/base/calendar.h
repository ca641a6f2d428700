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
/* start + amount in unit, skipping non-working time for the working units. */
int64_t calendar_add(const calendar *cal, int64_t start_ms, int64_t amount, cal_unit unit);
/* Working milliseconds between two instants (for the time spent in a step). */
int64_t calendar_working_ms(const calendar *cal, int64_t from_ms, int64_t to_ms);
/* "natural_minutes" | "working_minutes" | "working_days" <-> cal_unit; -1 if unknown. */
int calendar_unit_parse(const char *name);
const char *calendar_unit_name(cal_unit unit);

#endif
