/* Tests of epoch labels: ISO weeks across year boundaries, days, modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "epoch.h"
#include "psi/error.h"

static void check_label(enum psi_epoch_mode mode, int64_t t, const char *want)
{
    char out[PSI_EPOCH_LABEL_MAX + 1];
    assert_int_equal(psi_epoch_label_at(mode, t, out), 0);
    assert_string_equal(out, want);
}

static void iso_weeks(void **state)
{
    (void)state;
    /* The last second of each day; Python's isocalendar() agrees. */
    check_label(PSI_EPOCH_WEEK, 1795823999, "2026-W48"); /* Fri 2026-11-27 */
    check_label(PSI_EPOCH_WEEK, 1609718399, "2020-W53"); /* Sun 2021-01-03 */
    check_label(PSI_EPOCH_WEEK, 1735603199, "2025-W01"); /* Mon 2024-12-30 */
    check_label(PSI_EPOCH_WEEK, 1451606399, "2015-W53"); /* Thu 2015-12-31 */
    check_label(PSI_EPOCH_WEEK, 1798847999, "2026-W53"); /* Fri 2027-01-01 */
    check_label(PSI_EPOCH_WEEK, 86399, "1970-W01");      /* Thu 1970-01-01 */
    check_label(PSI_EPOCH_WEEK, 1230595199, "2009-W01"); /* Mon 2008-12-29 */
    check_label(PSI_EPOCH_WEEK, 1262563199, "2009-W53"); /* Sun 2010-01-03 */
    check_label(PSI_EPOCH_WEEK, 951868799, "2000-W09");  /* Tue 2000-02-29 */
    /* A week turns at Monday 00:00 UTC, not a second before. */
    check_label(PSI_EPOCH_WEEK, 1795996800 - 1, "2026-W48"); /* Sun 2026-11-29 23:59:59 */
    check_label(PSI_EPOCH_WEEK, 1795996800, "2026-W49");     /* Mon 2026-11-30 00:00:00 */
}

static void days(void **state)
{
    (void)state;
    check_label(PSI_EPOCH_DAY, 1795823999, "2026-11-27");
    check_label(PSI_EPOCH_DAY, 951868799, "2000-02-29");
    check_label(PSI_EPOCH_DAY, 0, "1970-01-01");
    char out[PSI_EPOCH_LABEL_MAX + 1];
    assert_int_equal(psi_epoch_label_at(PSI_EPOCH_DAY, -1, out), PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_label_at(PSI_EPOCH_MANUAL, 0, out), PSI_ERR_INVALID);
}

static void modes_and_labels(void **state)
{
    (void)state;
    enum psi_epoch_mode mode;
    char label[PSI_EPOCH_LABEL_MAX + 1];
    assert_int_equal(psi_epoch_mode_parse("week", &mode, label), 0);
    assert_int_equal(mode, PSI_EPOCH_WEEK);
    assert_int_equal(psi_epoch_mode_parse("day", &mode, label), 0);
    assert_int_equal(mode, PSI_EPOCH_DAY);
    assert_int_equal(psi_epoch_mode_parse("manual:op-synergia.1", &mode, label), 0);
    assert_int_equal(mode, PSI_EPOCH_MANUAL);
    assert_string_equal(label, "op-synergia.1");
    assert_int_equal(psi_epoch_mode_parse("manual:", &mode, label), PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_mode_parse("manual:a b", &mode, label), PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_mode_parse("month", &mode, label), PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_mode_parse("Week", &mode, label), PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_mode_parse("manual:a/b", &mode, label), PSI_ERR_INVALID);
    assert_int_equal(psi_epoch_mode_parse("manual:caf\xc3\xa9", &mode, label), PSI_ERR_INVALID);

    /* A manual label is any epoch label of psi/ident.h, up to its limit. */
    char text[7 + PSI_EPOCH_LABEL_MAX + 2];
    memcpy(text, "manual:", 7);
    memset(text + 7, 'x', PSI_EPOCH_LABEL_MAX);
    text[7 + PSI_EPOCH_LABEL_MAX] = '\0';
    assert_int_equal(psi_epoch_mode_parse(text, &mode, label), 0);
    assert_int_equal(strlen(label), PSI_EPOCH_LABEL_MAX);
    text[7 + PSI_EPOCH_LABEL_MAX] = 'x';
    text[7 + PSI_EPOCH_LABEL_MAX + 1] = '\0';
    assert_int_equal(psi_epoch_mode_parse(text, &mode, label), PSI_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(iso_weeks),
        cmocka_unit_test(days),
        cmocka_unit_test(modes_and_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
