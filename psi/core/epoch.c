/* Epoch labels of the calendar: ISO weeks and UTC days (see psi/epoch.h). */
#include "psi/epoch.h"

#include <string.h>

#include "psi/error.h"

/* Labels have four-digit years; year 0 would be 1 BC, which no clock reads. */
#define YEAR_MIN 1
#define YEAR_MAX 9999

/* Rounds towards minus infinity: a time before 1970 still falls in the day
 * that contains it, not in the next one. */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1..12). The
 * year is counted from March, so the leap day is the last day of a year and
 * the month lengths follow one formula; 400-year eras repeat exactly. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The date of a day count from 1970-01-01 (the inverse of days_from_civil). */
static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Monday = 0 .. Sunday = 6; day 0 (1970-01-01) was a Thursday. */
static int weekday(int64_t days)
{
    return (int)(((days % 7) + 7 + 3) % 7);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const unsigned char len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* Monday of ISO week 1 of year y: the week that holds 4 January (and so the
 * year's first Thursday). */
static int64_t iso_week1_monday(int64_t y)
{
    int64_t jan4 = days_from_civil(y, 1, 4);
    return jan4 - weekday(jan4);
}

/* 52 or 53: the weeks between one week 1 and the next. */
static int64_t iso_weeks_in_year(int64_t y)
{
    return (iso_week1_monday(y + 1) - iso_week1_monday(y)) / 7;
}

/* v (0 <= v < 10^width) as exactly width decimal digits. */
static void put_digits(char *out, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

int psi_epoch_label_of_time(enum psi_epoch_kind kind, int64_t unix_ms, char *out, size_t outlen)
{
    if (!out || (kind != PSI_EPOCH_KIND_WEEK && kind != PSI_EPOCH_KIND_DAY))
        return PSI_ERR_INVALID;
    if (outlen > 0)
        out[0] = '\0';
    int64_t days = floor_div(unix_ms, PSI_EPOCH_DAY_MS);
    int64_t y;
    int m, d;
    if (kind == PSI_EPOCH_KIND_WEEK) {
        /* The week's Thursday names its year, and counting Thursdays from
         * that year's first day gives the week number. */
        int64_t thursday = days - weekday(days) + 3;
        civil_from_days(thursday, &y, &m, &d);
        if (y < YEAR_MIN || y > YEAR_MAX)
            return PSI_ERR_INVALID;
        if (outlen < PSI_EPOCH_WEEK_LABEL_LEN + 1)
            return PSI_ERR_TOO_LARGE;
        int64_t week = (thursday - days_from_civil(y, 1, 1)) / 7 + 1;
        put_digits(out, y, 4);
        out[4] = '-';
        out[5] = 'W';
        put_digits(out + 6, week, 2);
        out[PSI_EPOCH_WEEK_LABEL_LEN] = '\0';
        return 0;
    }
    civil_from_days(days, &y, &m, &d);
    if (y < YEAR_MIN || y > YEAR_MAX)
        return PSI_ERR_INVALID;
    if (outlen < PSI_EPOCH_DAY_LABEL_LEN + 1)
        return PSI_ERR_TOO_LARGE;
    put_digits(out, y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[PSI_EPOCH_DAY_LABEL_LEN] = '\0';
    return 0;
}

/* Exactly n ASCII decimal digits at s (no sign, no space), as a number. */
static int read_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* "YYYY-Www" of a week the ISO calendar has: 1 and the day count of its
 * Monday, or 0. */
static int parse_week(const char *label, int64_t *days)
{
    int y, w;
    if (!read_digits(label, 4, &y) || label[4] != '-' || label[5] != 'W' ||
        !read_digits(label + 6, 2, &w))
        return 0;
    if (y < YEAR_MIN || y > YEAR_MAX || w < 1 || w > iso_weeks_in_year(y))
        return 0;
    *days = iso_week1_monday(y) + (int64_t)(w - 1) * 7;
    return 1;
}

/* "YYYY-MM-DD" of a date the calendar has: 1 and its day count, or 0. */
static int parse_day(const char *label, int64_t *days)
{
    int y, m, d;
    if (!read_digits(label, 4, &y) || label[4] != '-' || !read_digits(label + 5, 2, &m) ||
        label[7] != '-' || !read_digits(label + 8, 2, &d))
        return 0;
    if (y < YEAR_MIN || y > YEAR_MAX || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return 0;
    *days = days_from_civil(y, m, d);
    return 1;
}

int psi_epoch_label_parse(const char *label, struct psi_epoch_period *period)
{
    if (!label || !period)
        return PSI_ERR_INVALID;
    period->kind = PSI_EPOCH_KIND_MANUAL;
    period->start_ms = 0;
    period->length_ms = 0;
    /* The length decides which form to read; a longer string is never cut
     * short into a label ("2026-11-27x" is manual). */
    size_t n = strnlen(label, PSI_EPOCH_DAY_LABEL_LEN + 1);
    int64_t days;
    if (n == PSI_EPOCH_WEEK_LABEL_LEN && parse_week(label, &days)) {
        period->kind = PSI_EPOCH_KIND_WEEK;
        period->length_ms = PSI_EPOCH_WEEK_MS;
    } else if (n == PSI_EPOCH_DAY_LABEL_LEN && parse_day(label, &days)) {
        period->kind = PSI_EPOCH_KIND_DAY;
        period->length_ms = PSI_EPOCH_DAY_MS;
    } else {
        return 0;
    }
    period->start_ms = days * PSI_EPOCH_DAY_MS;
    return 0;
}
