/* Epoch labels: ISO 8601 weeks and days of the UTC calendar. */
#include <string.h>

#include "epoch.h"
#include "psi/error.h"

int psi_epoch_label_is_valid(const char *label)
{
    size_t n = strnlen(label, PSI_EPOCH_LABEL_MAX + 1);
    if (n == 0 || n > PSI_EPOCH_LABEL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = label[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

int psi_epoch_mode_parse(const char *text, enum psi_epoch_mode *mode,
                         char label[PSI_EPOCH_LABEL_MAX + 1])
{
    label[0] = '\0';
    if (strcmp(text, "week") == 0) {
        *mode = PSI_EPOCH_WEEK;
        return 0;
    }
    if (strcmp(text, "day") == 0) {
        *mode = PSI_EPOCH_DAY;
        return 0;
    }
    if (strncmp(text, "manual:", 7) == 0 && psi_epoch_label_is_valid(text + 7)) {
        *mode = PSI_EPOCH_MANUAL;
        memcpy(label, text + 7, strlen(text + 7) + 1);
        return 0;
    }
    return PSI_ERR_INVALID;
}

const char *psi_epoch_mode_name(enum psi_epoch_mode mode)
{
    switch (mode) {
    case PSI_EPOCH_WEEK: return "week";
    case PSI_EPOCH_DAY: return "day";
    case PSI_EPOCH_MANUAL: return "manual";
    }
    return "?";
}

/* Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The civil date of a day count from 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

/* Monday of ISO week 1 of year y: the week that holds 4 January. */
static int64_t iso_week1_monday(int64_t y)
{
    int64_t jan4 = days_from_civil(y, 1, 4);
    int64_t weekday = ((jan4 % 7) + 7 + 3) % 7; /* 1970-01-01 was a Thursday; 0 = Monday */
    return jan4 - weekday;
}

static void put_number(char *out, size_t *at, int64_t v, int width)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && n < (int)sizeof digits);
    while (n < width && n < (int)sizeof digits)
        digits[n++] = '0';
    while (n > 0)
        out[(*at)++] = digits[--n];
}

int psi_epoch_label_at(enum psi_epoch_mode mode, int64_t unix_seconds,
                       char out[PSI_EPOCH_LABEL_MAX + 1])
{
    if (unix_seconds < 0)
        return PSI_ERR_INVALID;
    int64_t days = unix_seconds / 86400;
    int64_t y, m, d;
    civil_from_days(days, &y, &m, &d);
    if (y > 9999)
        return PSI_ERR_INVALID;
    size_t at = 0;
    if (mode == PSI_EPOCH_DAY) {
        put_number(out, &at, y, 4);
        out[at++] = '-';
        put_number(out, &at, m, 2);
        out[at++] = '-';
        put_number(out, &at, d, 2);
        out[at] = '\0';
        return 0;
    }
    if (mode != PSI_EPOCH_WEEK)
        return PSI_ERR_INVALID;
    /* The ISO year is the calendar year of the week's Thursday. */
    int64_t iso_year = y;
    if (days >= iso_week1_monday(y + 1))
        iso_year = y + 1;
    else if (days < iso_week1_monday(y))
        iso_year = y - 1;
    int64_t week = (days - iso_week1_monday(iso_year)) / 7 + 1;
    put_number(out, &at, iso_year, 4);
    out[at++] = '-';
    out[at++] = 'W';
    put_number(out, &at, week, 2);
    out[at] = '\0';
    return 0;
}
