/*
 * Epochs follow the clock (client/epoch_guard.c): week and day labels are
 * computed right (ISO weeks across year ends, real calendar dates only);
 * in week or day mode the hub's label must be this machine's current one,
 * the neighbouring label taken only within the tolerance of the boundary;
 * never back, by time for week and day labels and by order of first use for
 * any label; a manual label (whatever it looks like) only after the party
 * accepted it, and that acceptance kept across a reopen of the state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "client_state_fixture.h"
#include "epoch_guard.h"
#include "psi/epoch.h"
#include "psi/error.h"
#include "state.h"

#define HOUR_MS ((int64_t)3600 * 1000)

static int setup(void **state)
{
    return state_fixture_setup(state, "client-epoch");
}

static int teardown(void **state)
{
    return state_fixture_teardown(state);
}

/* Whether label is a week (day = 0) or day (day = 1) label, and its start. */
static int parses_as(int day, const char *label, int64_t *start_ms)
{
    struct psi_epoch_period p;
    assert_int_equal(psi_epoch_label_parse(label, &p), 0);
    if (p.kind != (day ? PSI_EPOCH_KIND_DAY : PSI_EPOCH_KIND_WEEK))
        return 0;
    *start_ms = p.start_ms;
    return 1;
}

/* The start of a day label, in unix ms. */
static int64_t day_ms(const char *date)
{
    int64_t t = 0;
    assert_true(parses_as(1, date, &t));
    return t;
}

static char why[512];

static int admit(struct fixture *f, const char *mode, const char *label, int64_t now)
{
    why[0] = '\0';
    int rc = psi_epoch_guard_admit(f->st, mode, label, now, why, sizeof why);
    if (rc)
        assert_non_null(strchr(why, ' ')); /* a sentence, one line */
    assert_null(strchr(why, '\n'));
    return rc;
}

static void expect_label(int day, int64_t ms, const char *want)
{
    char out[PSI_EPOCH_CALENDAR_LABEL_SIZE];
    assert_int_equal(psi_epoch_label_of_time(day ? PSI_EPOCH_KIND_DAY : PSI_EPOCH_KIND_WEEK, ms,
                                             out, sizeof out),
                     0);
    assert_string_equal(out, want);
}

static void test_labels(void **state)
{
    (void)state;
    expect_label(0, day_ms("2026-11-27"), "2026-W48");
    expect_label(1, day_ms("2026-11-27") + 23 * HOUR_MS, "2026-11-27");
    /* ISO weeks belong to the year of their Thursday */
    expect_label(0, day_ms("2021-01-03"), "2020-W53");
    expect_label(0, day_ms("2024-12-30"), "2025-W01");
    expect_label(0, day_ms("2026-01-01"), "2026-W01");
    expect_label(0, 0, "1970-W01");
    int64_t t = 0;
    assert_true(parses_as(0, "2020-W53", &t));
    assert_true(t == day_ms("2020-12-28"));
    assert_true(parses_as(0, "2026-W48", &t));
    assert_true(t == day_ms("2026-11-23"));
    /* only labels the calendar has */
    assert_false(parses_as(0, "2021-W53", &t));
    assert_false(parses_as(0, "2026-W00", &t));
    assert_false(parses_as(0, "2026-W4", &t));
    assert_false(parses_as(0, "2026-w48", &t));
    assert_false(parses_as(1, "2026-02-29", &t));
    assert_true(parses_as(1, "2024-02-29", &t));
    assert_false(parses_as(1, "2026-13-01", &t));
    assert_false(parses_as(1, "2026-11-27x", &t));
    assert_false(parses_as(1, "2026-W48", &t));
}

static void test_clock(void **state)
{
    struct fixture *f = *state;
    int64_t wednesday = day_ms("2026-11-25") + 12 * HOUR_MS;
    assert_int_equal(admit(f, "week", "2026-W47", wednesday), PSI_ERR_EPOCH);
    assert_non_null(strstr(why, "not the current week by this machine's clock (2026-W48)"));
    assert_int_equal(admit(f, "week", "2026-W49", wednesday), PSI_ERR_EPOCH);
    assert_int_equal(admit(f, "week", "2026-W48", wednesday), 0);
    assert_int_equal(admit(f, "week", "2026-W48", wednesday + HOUR_MS), 0); /* again: fine */
    /* a mode the label does not fit */
    assert_int_equal(admit(f, "week", "2026-11-25", wednesday), PSI_ERR_EPOCH);
    assert_non_null(strstr(why, "ISO weeks"));
    assert_int_equal(admit(f, "week", "op-1", wednesday), PSI_ERR_EPOCH);
    assert_int_equal(admit(f, "day", "2026-W48", wednesday), PSI_ERR_EPOCH);
}

static void test_tolerance_at_a_boundary(void **state)
{
    struct fixture *f = *state;
    int64_t monday = day_ms("2026-11-30"); /* 2026-W49 begins */
    /* the week ended an hour ago: still taken */
    assert_int_equal(admit(f, "week", "2026-W48", monday + 1 * HOUR_MS), 0);
    /* the next week an hour early (our clock is behind the hub's): taken */
    assert_int_equal(admit(f, "week", "2026-W49", monday - 1 * HOUR_MS), 0);
    /* three hours after the boundary, the old week is over for good */
    assert_int_equal(admit(f, "week", "2026-W48", monday + 3 * HOUR_MS), PSI_ERR_EPOCH);
    assert_non_null(strstr(why, "not the current week"));
    /* exactly at the tolerance, and one ms beyond */
    assert_int_equal(admit(f, "week", "2026-W49", monday - PSI_EPOCH_GUARD_TOLERANCE_MS), 0);
    assert_int_equal(admit(f, "week", "2026-W49", monday - PSI_EPOCH_GUARD_TOLERANCE_MS - 1),
                     PSI_ERR_EPOCH);
    /* days too (after the week used: never back) */
    int64_t midnight = day_ms("2026-12-01");
    assert_int_equal(admit(f, "day", "2026-12-01", midnight - HOUR_MS), 0);
}

static void test_never_back(void **state)
{
    struct fixture *f = *state;
    int64_t monday = day_ms("2026-11-30");
    assert_int_equal(admit(f, "week", "2026-W49", monday + HOUR_MS), 0);
    /* in the tolerance window by the clock, but older than what was used */
    assert_int_equal(admit(f, "week", "2026-W48", monday + HOUR_MS), PSI_ERR_EPOCH);
    assert_non_null(strstr(why, "older than epoch 2026-W49 used before; never going back"));
    /* a day label of an earlier time than the week used: back too */
    assert_int_equal(admit(f, "day", "2026-11-29", monday + HOUR_MS), PSI_ERR_EPOCH);
    assert_int_equal(admit(f, "day", "2026-11-30", monday + HOUR_MS), 0);
    /* manual labels: by order of first use */
    assert_int_equal(psi_state_epoch_accept(f->st, "op-a"), 0);
    assert_int_equal(psi_state_epoch_accept(f->st, "op-b"), 0);
    assert_int_equal(admit(f, "manual", "op-a", monday), 0);
    assert_int_equal(admit(f, "manual", "op-b", monday), 0);
    assert_int_equal(admit(f, "manual", "op-b", monday), 0);
    assert_int_equal(admit(f, "manual", "op-a", monday), PSI_ERR_EPOCH);
    assert_non_null(strstr(why, "op-a was used before and op-b since; never going back"));
    /* and a week used before a manual label is left behind too */
    assert_int_equal(admit(f, "day", "2026-11-30", monday + HOUR_MS), PSI_ERR_EPOCH);
}

static void test_manual_needs_accept(void **state)
{
    struct fixture *f = *state;
    int64_t wednesday = day_ms("2026-11-25") + 12 * HOUR_MS;
    assert_int_equal(admit(f, "manual", "op-1", wednesday), PSI_ERR_EPOCH);
    assert_non_null(strstr(why, "psi epoch --accept op-1"));
    /* a hub that states no mode is taken as manual */
    assert_int_equal(admit(f, NULL, "op-1", wednesday), PSI_ERR_EPOCH);
    assert_int_equal(admit(f, "", "op-1", wednesday), PSI_ERR_EPOCH);
    /* a manual label that reads like the current week is still the operator's */
    assert_int_equal(admit(f, "manual", "2026-W48", wednesday), PSI_ERR_EPOCH);
    assert_non_null(strstr(why, "set by its operator"));
    assert_int_equal(psi_state_epoch_accept(f->st, "2026-W48"), 0);
    assert_int_equal(admit(f, "manual", "2026-W48", wednesday), 0);
    /* nothing was used by the refusals */
    struct psi_state_epoch e;
    assert_int_equal(psi_state_epoch_get(f->st, "op-1", &e), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_state_epoch_newest(f->st, &e), 0);
    assert_string_equal(e.label, "2026-W48");
    assert_int_equal(e.kind, PSI_STATE_EPOCH_MANUAL);
}

static void test_accept_persists(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(psi_state_epoch_accept(f->st, "op-7"), 0);
    assert_int_equal(psi_state_epoch_accept(f->st, "op-7"), 0); /* idempotent */
    psi_state_close(f->st);
    f->st = NULL;
    assert_int_equal(psi_state_open(&f->st, f->dir), 0);
    assert_int_equal(admit(f, "manual", "op-7", 0), 0);
    struct psi_state_epoch e;
    assert_int_equal(psi_state_epoch_get(f->st, "op-7", &e), 0);
    assert_true(e.accepted);
    assert_true(e.seq == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels),
        cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tolerance_at_a_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manual_needs_accept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_persists, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
