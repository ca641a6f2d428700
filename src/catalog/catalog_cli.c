/*
 * grassroots import calendar FILE: holidays and adjusted workdays from CSV.
 * Every row is checked before anything is written, and then all of them go
 * in one transaction: a calendar half imported would give wrong due times
 * without anyone noticing.
 */
#include "catalog/catalog_model.h"

#include <stdio.h>
#include <string.h>

const char catalog_cli_calendar_help[] =
    "usage: grassroots import calendar FILE [--data DIR]\n"
    "Imports holidays and adjusted workdays (调休) into the working-day calendar from a\n"
    "CSV file with the header date,kind,name: date YYYY-MM-DD (local date, Asia/Shanghai),\n"
    "kind holiday or workday (a weekend day that is worked), name up to 50 characters.\n"
    "Days not in the calendar follow the rule: Monday to Friday are working days.\n"
    "A date already in the calendar takes the file's kind and name; importing the same\n"
    "file again changes nothing. Every row is checked first; bad rows are reported as\n"
    "FILE:LINE: reason, and then nothing is imported. share/calendar-2025.csv and\n"
    "share/calendar-2026.csv hold the State Council's schedules. A running server\n"
    "uses the new days from its next due-time computation.\n"
    "Exit status: 0 imported, 1 bad rows or failure, 2 bad usage.\n";

int catalog_cli_calendar(gr_ctx *ctx, int argc, char **argv)
{
    cat_import_stats st = {0, 0, 0, 0};
    csv_reader *r = NULL;
    arena *a = arena_new();
    gr_err err = {0};
    cat_day *rows = NULL;
    size_t n = 0;
    const char *path;
    int rc;

    if (argc != 3 || strcmp(argv[1], "calendar") != 0 || argv[2][0] == '-') {
        fputs(catalog_cli_calendar_help, stderr);
        rc = 2;
        goto out;
    }
    path = argv[2];
    rc = csv_open_file(&r, path, &err);
    if (!rc)
        rc = cat_days_read_csv(r, path, stderr, a, &rows, &n, &st, &err);
    if (!rc && st.bad)
        rc = err_set(&err, GR_EINVAL, "file", "%s: %ld bad row(s); nothing imported", path, st.bad);
    if (!rc)
        rc = cat_days_import(ctx, rows, n, &st, &err);
    if (rc) {
        fprintf(stderr, "grassroots: import calendar: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    printf("calendar %s: created %ld, updated %ld, unchanged %ld\n", path, st.created, st.updated,
           st.unchanged);
out:
    csv_free(r);
    arena_free(a);
    return rc;
}
