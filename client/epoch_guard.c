/* Epoch labels checked against the clock and the state (see epoch_guard.h). */
#include "epoch_guard.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "psi.pb-c.h"
#include "psi/error.h"

#define DAY_MS ((int64_t)86400 * 1000)

static int say(char *why, size_t whylen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int say(char *why, size_t whylen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return code;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). The
 * year is shifted to start in March, so the leap day is the year's last. */
static int64_t days_of(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The date of a day count (the inverse of days_of). */
static void date_of(int64_t days, int64_t *y, int *m, int *d)
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

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Monday = 0 .. Sunday = 6; day 0 (1970-01-01) was a Thursday. */
static int weekday(int64_t days)
{
    return (int)(((days + 3) % 7 + 7) % 7);
}

int psi_epoch_guard_label_at(int day, int64_t unix_ms, char *out, size_t outlen)
{
    int64_t days = floor_div(unix_ms, DAY_MS);
    int64_t y;
    int m, d;
    if (!day) {
        /* The ISO week belongs to the year of its Thursday. */
        int64_t thursday = days - weekday(days) + 3;
        date_of(thursday, &y, &m, &d);
        int64_t week = (thursday - days_of(y, 1, 1)) / 7 + 1;
        if (y < 1 || y > 9999)
            return PSI_ERR_INVALID;
        snprintf(out, outlen, "%04" PRId64 "-W%02" PRId64, y, week);
        return 0;
    }
    date_of(days, &y, &m, &d);
    if (y < 1 || y > 9999)
        return PSI_ERR_INVALID;
    snprintf(out, outlen, "%04" PRId64 "-%02d-%02d", y, m, d);
    return 0;
}

/* n decimal digits at s, nothing else. */
static int digits(const char *s, int n, int *out)
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

int psi_epoch_guard_parse(int day, const char *label, int64_t *start_ms)
{
    int y, a, b = 1;
    int64_t days;
    if (!day) {
        if (strlen(label) != 8 || !digits(label, 4, &y) || label[4] != '-' || label[5] != 'W' ||
            !digits(label + 6, 2, &a) || a < 1 || a > 53)
            return 0;
        /* 4 January is always in week 1. */
        int64_t jan4 = days_of(y, 1, 4);
        days = jan4 - weekday(jan4) + (int64_t)(a - 1) * 7;
    } else {
        if (strlen(label) != 10 || !digits(label, 4, &y) || label[4] != '-' ||
            !digits(label + 5, 2, &a) || label[7] != '-' || !digits(label + 8, 2, &b) || a < 1 ||
            a > 12 || b < 1 || b > 31)
            return 0;
        days = days_of(y, a, b);
    }
    if (y < 1)
        return 0;
    /* Only a label the calendar really has: week 53 of a 52-week year, or
     * 31 February, would not come back the same. */
    char again[16];
    if (psi_epoch_guard_label_at(day, days * DAY_MS, again, sizeof again) != 0 ||
        strcmp(again, label) != 0)
        return 0;
    *start_ms = days * DAY_MS;
    return 1;
}

/* The clock check of a week or day label. */
static int clock_admits(int day, const char *label, int64_t now_ms, char *why, size_t whylen)
{
    char now_label[16], before[16], after[16];
    if (psi_epoch_guard_label_at(day, now_ms, now_label, sizeof now_label) != 0 ||
        psi_epoch_guard_label_at(day, now_ms - PSI_EPOCH_GUARD_TOLERANCE_MS, before,
                                 sizeof before) != 0 ||
        psi_epoch_guard_label_at(day, now_ms + PSI_EPOCH_GUARD_TOLERANCE_MS, after,
                                 sizeof after) != 0)
        return say(why, whylen, PSI_ERR_EPOCH, "this machine's clock is out of range");
    if (strcmp(label, now_label) == 0 || strcmp(label, before) == 0 || strcmp(label, after) == 0)
        return 0;
    return say(why, whylen, PSI_ERR_EPOCH,
               "the hub's epoch %s is not the current %s by this machine's clock (%s); refused",
               label, day ? "day" : "week", now_label);
}

int psi_epoch_guard_admit(struct psi_state *st, const char *hub_mode, const char *label,
                          int64_t now_ms, char *why, size_t whylen)
{
    if (!label || !label[0] || strlen(label) > PSI_STATE_EPOCH_MAX)
        return say(why, whylen, PSI_ERR_INVALID, "the hub announced an invalid epoch label");
    int week = hub_mode && strcmp(hub_mode, PSI_EPOCH_MODE_WEEK) == 0;
    int day = hub_mode && strcmp(hub_mode, PSI_EPOCH_MODE_DAY) == 0;
    enum psi_state_epoch_kind kind = PSI_STATE_EPOCH_MANUAL;
    int64_t start_ms = 0;
    int rc;

    if (week || day) {
        kind = day ? PSI_STATE_EPOCH_DAY : PSI_STATE_EPOCH_WEEK;
        if (!psi_epoch_guard_parse(day, label, &start_ms))
            return say(why, whylen, PSI_ERR_EPOCH,
                       "the hub says its epochs are %s but announced '%s'; refused",
                       day ? "days (YYYY-MM-DD)" : "ISO weeks (YYYY-Www)", label);
        rc = clock_admits(day, label, now_ms, why, whylen);
        if (rc)
            return rc;
        struct psi_state_epoch latest;
        rc = psi_state_epoch_latest_clock(st, &latest);
        if (rc == 0 && latest.start_ms > start_ms)
            return say(why, whylen, PSI_ERR_EPOCH,
                       "the hub's epoch %s is older than epoch %s used before; never going "
                       "back",
                       label, latest.label);
        if (rc && rc != PSI_ERR_NOT_FOUND)
            return say(why, whylen, rc, "%s", psi_state_error(st));
    } else {
        struct psi_state_epoch e;
        rc = psi_state_epoch_get(st, label, &e);
        if (rc && rc != PSI_ERR_NOT_FOUND)
            return say(why, whylen, rc, "%s", psi_state_error(st));
        if (rc == PSI_ERR_NOT_FOUND || !e.accepted)
            return say(why, whylen, PSI_ERR_EPOCH,
                       "the hub's epoch '%s' is set by its operator, not by the calendar; "
                       "refused until you accept it with 'psi epoch --accept %s'",
                       label, label);
    }
    rc = psi_state_epoch_use(st, label, kind, start_ms);
    if (rc == PSI_ERR_EPOCH)
        return say(why, whylen, rc, "the hub's %s", psi_state_error(st));
    if (rc)
        return say(why, whylen, rc, "%s", psi_state_error(st));
    return 0;
}

int64_t psi_epoch_guard_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int psi_epoch_guard_admit_hub(struct psi_cli_session *s, struct psi_hub_client *hub,
                              const char *label, char *why, size_t whylen)
{
    struct psi_hub_failure f;
    Psi__HubInfo *info = NULL;
    if (psi_hub_client_call(hub, "info", NULL, NULL, &psi__hub_info__descriptor,
                            (ProtobufCMessage **)&info, &f))
        return say(why, whylen, f.code, "%s", f.text);
    int rc = psi_epoch_guard_admit(s->state, info->epoch_mode, label, psi_epoch_guard_now_ms(),
                                   why, whylen);
    protobuf_c_message_free_unpacked(&info->base, NULL);
    return rc;
}
