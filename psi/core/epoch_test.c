/* Epoch labels of the calendar: ISO weeks at the year ends where the ISO year
 * is not the calendar year, leap days, strict refusal of labels the calendar
 * does not have, the limits, and round trips of every week and day of
 * 1990..2100. Expected dates and times were computed with Python's datetime
 * (date.isocalendar, date.fromisocalendar), an independent implementation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "psi/epoch.h"
#include "psi/error.h"

#define HOUR_MS ((int64_t)3600 * 1000)

static void expect_label(enum psi_epoch_kind kind, int64_t unix_ms, const char *want)
{
    char out[PSI_EPOCH_CALENDAR_LABEL_SIZE];
    assert_int_equal(psi_epoch_label_of_time(kind, unix_ms, out, sizeof out), 0);
    assert_string_equal(out, want);
}

static void expect_period(const char *label, enum psi_epoch_kind kind, int64_t start_ms)
{
    struct psi_epoch_period p;
    assert_int_equal(psi_epoch_label_parse(label, &p), 0);
    assert_int_equal(p.kind, kind);
    assert_true(p.start_ms == start_ms);
    assert_true(p.length_ms ==
                (kind == PSI_EPOCH_KIND_WEEK ? PSI_EPOCH_WEEK_MS : PSI_EPOCH_DAY_MS));
}

static void expect_manual(const char *label)
{
    struct psi_epoch_period p = {PSI_EPOCH_KIND_WEEK, 1, 1};
    assert_int_equal(psi_epoch_label_parse(label, &p), 0);
    assert_int_equal(p.kind, PSI_EPOCH_KIND_MANUAL);
    assert_true(p.start_ms == 0);
    assert_true(p.length_ms == 0);
}

/* A day at midnight UTC, its day label and its week label; every instant of
 * the day has both. */
struct known_day {
    int64_t midnight_ms;
    const char *day;
    const char *week;
};

static const struct known_day known[] = {
    /* ISO year before the calendar year: the days after a Thursday 31 Dec */
    {1609372800000, "2020-12-31", "2020-W53"},
    {1609632000000, "2021-01-03", "2020-W53"},
    {1609718400000, "2021-01-04", "2021-W01"},
    {1451520000000, "2015-12-31", "2015-W53"},
    {1451779200000, "2016-01-03", "2015-W53"},
    {1262476800000, "2010-01-03", "2009-W53"},
    {-345600000, "1969-12-28", "1969-W52"},
    /* ISO year after the calendar year: a Monday 29/30/31 Dec */
    {1735430400000, "2024-12-29", "2024-W52"},
    {1735516800000, "2024-12-30", "2025-W01"},
    {1230508800000, "2008-12-29", "2009-W01"},
    {-259200000, "1969-12-29", "1970-W01"},
    {0, "1970-01-01", "1970-W01"},
    /* a 53-week year that ends on Sunday 3 January */
    {1798416000000, "2026-12-28", "2026-W53"},
    {1798934400000, "2027-01-03", "2026-W53"},
    {1799020800000, "2027-01-04", "2027-W01"},
    /* leap days, and the century year that has none */
    {951782400000, "2000-02-29", "2000-W09"},
    {1709164800000, "2024-02-29", "2024-W09"},
    {4107456000000, "2100-02-28", "2100-W08"},
    {4107542400000, "2100-03-01", "2100-W09"},
    {-2203891200000, "1900-03-01", "1900-W09"},
    /* ordinary days, the end of 32-bit time, the ends of four-digit years */
    {1795737600000, "2026-11-27", "2026-W48"},
    {2147472000000, "2038-01-19", "2038-W03"},
    {-62135596800000, "0001-01-01", "0001-W01"},
    {253402214400000, "9999-12-31", "9999-W52"},
};

static void test_known_days(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        const struct known_day *k = &known[i];
        expect_label(PSI_EPOCH_KIND_DAY, k->midnight_ms, k->day);
        expect_label(PSI_EPOCH_KIND_DAY, k->midnight_ms + PSI_EPOCH_DAY_MS - 1, k->day);
        expect_label(PSI_EPOCH_KIND_WEEK, k->midnight_ms, k->week);
        expect_label(PSI_EPOCH_KIND_WEEK, k->midnight_ms + 13 * HOUR_MS, k->week);
        expect_label(PSI_EPOCH_KIND_WEEK, k->midnight_ms + PSI_EPOCH_DAY_MS - 1, k->week);
        expect_period(k->day, PSI_EPOCH_KIND_DAY, k->midnight_ms);
    }
}

static void test_week_starts(void **state)
{
    (void)state;
    /* Weeks start on Monday 00:00 UTC, also when that is in another year. */
    expect_period("2020-W53", PSI_EPOCH_KIND_WEEK, 1609113600000); /* Mon 2020-12-28 */
    expect_period("2026-W53", PSI_EPOCH_KIND_WEEK, 1798416000000); /* Mon 2026-12-28 */
    expect_period("2025-W01", PSI_EPOCH_KIND_WEEK, 1735516800000); /* Mon 2024-12-30 */
    expect_period("2004-W53", PSI_EPOCH_KIND_WEEK, 1104105600000); /* Mon 2004-12-27 */
    expect_period("2032-W53", PSI_EPOCH_KIND_WEEK, 1987718400000); /* Mon 2032-12-27 */
    expect_period("1970-W01", PSI_EPOCH_KIND_WEEK, -259200000);    /* Mon 1969-12-29 */
    expect_period("0001-W01", PSI_EPOCH_KIND_WEEK, -62135596800000);
    /* The boundary is exact to the millisecond, before 1970 too. */
    expect_label(PSI_EPOCH_KIND_WEEK, 1609718400000 - 1, "2020-W53");
    expect_label(PSI_EPOCH_KIND_WEEK, 1609718400000, "2021-W01");
    expect_label(PSI_EPOCH_KIND_WEEK, -259200000 - 1, "1969-W52");
    expect_label(PSI_EPOCH_KIND_WEEK, -259200000, "1970-W01");
    expect_label(PSI_EPOCH_KIND_DAY, -1, "1969-12-31");
}

static void test_refused_labels(void **state)
{
    (void)state;
    /* week 53 only in the years whose ISO calendar has it */
    expect_manual("2021-W53");
    expect_manual("2024-W53");
    expect_manual("2025-W53");
    expect_manual("2026-W54");
    expect_manual("2026-W00");
    expect_manual("2026-W99");
    /* 29 February only in leap years; months have their lengths */
    expect_manual("2026-02-29");
    expect_manual("1900-02-29");
    expect_manual("2100-02-29");
    expect_manual("2024-02-30");
    expect_manual("2026-04-31");
    expect_manual("2026-13-01");
    expect_manual("2026-00-10");
    expect_manual("2026-11-00");
    expect_manual("2026-11-32");
    /* year 0000 would be 1 BC */
    expect_manual("0000-W01");
    expect_manual("0000-01-01");
    /* only the exact forms: no short fields, case, signs, spaces or tails */
    expect_manual("2026-W4");
    expect_manual("2026-w48");
    expect_manual("2026W48");
    expect_manual("2026-W48-5");
    expect_manual("2026-W48 ");
    expect_manual(" 2026-W48");
    expect_manual("+026-W48");
    expect_manual("2026-W+8");
    expect_manual("2026-11-27x");
    expect_manual("2026-11-27\n");
    expect_manual("2026-1-127");
    expect_manual("2026/11/27");
    expect_manual("20261127");
    expect_manual("2026-11-2");
    expect_manual("12026-11-27");
    expect_manual("");
    expect_manual("op-synergia.1");
    /* manual labels that merely start like a calendar label */
    expect_manual("2026-W48.rerun");
    /* and the real ones, for contrast */
    expect_period("2024-02-29", PSI_EPOCH_KIND_DAY, 1709164800000);
    expect_period("2000-02-29", PSI_EPOCH_KIND_DAY, 951782400000);
}

static void test_errors_and_limits(void **state)
{
    (void)state;
    char out[PSI_EPOCH_CALENDAR_LABEL_SIZE];
    struct psi_epoch_period p;
    assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_MANUAL, 0, out, sizeof out),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_label_of_time((enum psi_epoch_kind)7, 0, out, sizeof out),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_DAY, 0, NULL, 11), PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_label_parse(NULL, &p), PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_label_parse("2026-W48", NULL), PSI_ERR_INVALID);

    /* The buffer: exactly the label and its NUL is enough. */
    memset(out, 'x', sizeof out);
    assert_int_equal(
        psi_epoch_label_of_time(PSI_EPOCH_KIND_WEEK, 0, out, PSI_EPOCH_WEEK_LABEL_LEN + 1), 0);
    assert_string_equal(out, "1970-W01");
    memset(out, 'x', sizeof out);
    assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_WEEK, 0, out, PSI_EPOCH_WEEK_LABEL_LEN),
                     PSI_ERR_TOO_LARGE);
    assert_string_equal(out, "");
    assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_DAY, 0, out, PSI_EPOCH_DAY_LABEL_LEN),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_DAY, 0, out, 0), PSI_ERR_TOO_LARGE);

    /* Years 0001..9999 only: four digits, no year 0. */
    const int64_t first = -62135596800000;      /* 0001-01-01 */
    const int64_t after_last = 253402300800000; /* 10000-01-01 */
    assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_DAY, first - 1, out, sizeof out),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_WEEK, first - 1, out, sizeof out),
                     PSI_ERR_INVALID);
    expect_label(PSI_EPOCH_KIND_DAY, after_last - 1, "9999-12-31");
    assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_DAY, after_last, out, sizeof out),
                     PSI_ERR_INVALID);
    /* 10000-01-01 is a Saturday, still in 9999-W52; 10000-01-03 starts the
     * first week of ISO year 10000. */
    expect_label(PSI_EPOCH_KIND_WEEK, after_last, "9999-W52");
    assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_WEEK, after_last + 2 * PSI_EPOCH_DAY_MS,
                                             out, sizeof out),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_WEEK, INT64_MIN, out, sizeof out),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_DAY, INT64_MAX, out, sizeof out),
                     PSI_ERR_INVALID);
    expect_period("9999-W52", PSI_EPOCH_KIND_WEEK, 253401868800000); /* Mon 9999-12-27 */
    expect_manual("9999-W53");
}

/* Every week of 1990..2100: the label of its start parses back to that start,
 * the label holds until the next Monday, and weeks are numbered 1, 2, ... with
 * week 53 in exactly the years that have it. */
static void test_round_trip_weeks(void **state)
{
    (void)state;
    static const int long_years[] = {1992, 1998, 2004, 2009, 2015, 2020, 2026, 2032, 2037, 2043,
                                     2048, 2054, 2060, 2065, 2071, 2076, 2082, 2088, 2093, 2099};
    size_t n_long = 0;
    int weeks = 0, expect_week = 1, year = 1990;
    char label[PSI_EPOCH_CALENDAR_LABEL_SIZE], before[PSI_EPOCH_CALENDAR_LABEL_SIZE];
    /* Monday 1990-01-01 starts 1990-W01. */
    for (int64_t start = 631152000000;; start += PSI_EPOCH_WEEK_MS) {
        assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_WEEK, start, label, sizeof label),
                         0);
        int y = (label[0] - '0') * 1000 + (label[1] - '0') * 100 + (label[2] - '0') * 10 +
                (label[3] - '0');
        int w = (label[6] - '0') * 10 + (label[7] - '0');
        if (y == 2101)
            break;
        if (y != year) {
            assert_int_equal(y, year + 1);
            if (expect_week == 54) {
                assert_true(n_long < sizeof long_years / sizeof long_years[0]);
                assert_int_equal(year, long_years[n_long++]);
            } else {
                assert_int_equal(expect_week, 53);
            }
            year = y;
            expect_week = 1;
        }
        assert_int_equal(w, expect_week++);
        expect_period(label, PSI_EPOCH_KIND_WEEK, start);
        expect_label(PSI_EPOCH_KIND_WEEK, start + PSI_EPOCH_WEEK_MS - 1, label);
        assert_int_equal(
            psi_epoch_label_of_time(PSI_EPOCH_KIND_WEEK, start - 1, before, sizeof before), 0);
        assert_string_not_equal(before, label);
        weeks++;
    }
    assert_int_equal(n_long, sizeof long_years / sizeof long_years[0]);
    assert_int_equal(weeks, 5792);
}

/* Every day of 1990..2100, 29 February included exactly in leap years. */
static void test_round_trip_days(void **state)
{
    (void)state;
    int days = 0, leap_days = 0;
    char label[PSI_EPOCH_CALENDAR_LABEL_SIZE];
    for (int64_t start = 631152000000; start < 4133980800000; start += PSI_EPOCH_DAY_MS) {
        assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_DAY, start, label, sizeof label),
                         0);
        expect_period(label, PSI_EPOCH_KIND_DAY, start);
        expect_label(PSI_EPOCH_KIND_DAY, start + PSI_EPOCH_DAY_MS - 1, label);
        if (strcmp(label + 4, "-02-29") == 0)
            leap_days++;
        days++;
    }
    assert_string_equal(label, "2100-12-31");
    assert_int_equal(days, 40542);
    assert_int_equal(leap_days, 27); /* 1992..2096, every fourth year; not 2100 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_days),       cmocka_unit_test(test_week_starts),
        cmocka_unit_test(test_refused_labels),   cmocka_unit_test(test_errors_and_limits),
        cmocka_unit_test(test_round_trip_weeks), cmocka_unit_test(test_round_trip_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
