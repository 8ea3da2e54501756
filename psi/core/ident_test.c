/* Identifiers (psi/ident.h): each rule at its edges (empty, the limit, one
 * past it, an unterminated field), every byte value against the rule's
 * alphabet, the leading characters an id may not start with, calendar labels
 * as epoch labels, and the roles' names and log numbers both ways. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "psi/epoch.h"
#include "psi/ident.h"
#include "psi/logentry.h"

/* The alphabets, spelled out independently of ident.c. */
static const char ID_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
static const char EPOCH_CHARS[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-:";
static const char METHOD_CHARS[] = "abcdefghijklmnopqrstuvwxyz0123456789._-";

static int in(const char *set, int c)
{
    return c != 0 && strchr(set, c) != NULL;
}

/* s = n copies of c, NUL-terminated (s has room for n + 1). */
static char *fill(char *s, size_t n, char c)
{
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Every byte 1..255 in the middle and at the start of a short string. */
static void check_alphabet(int (*rule)(const char *), const char *chars, const char *no_start)
{
    for (int c = 1; c <= UCHAR_MAX; c++) {
        char mid[4] = {'a', (char)c, 'a', '\0'};
        char first[3] = {(char)c, 'a', '\0'};
        assert_int_equal(rule(mid), in(chars, c));
        assert_int_equal(rule(first), in(chars, c) && !in(no_start, c));
    }
}

/* Lengths 0, 1, max, max + 1, and a field of max + 1 bytes without a NUL
 * (refused after reading no further: the sanitizers watch the last byte). */
static void check_lengths(int (*rule)(const char *), size_t max)
{
    char s[256 + 2];
    char unterminated[256 + 1];
    assert_true(max + 1U <= sizeof unterminated);
    assert_false(rule(NULL));
    assert_false(rule(""));
    assert_true(rule(fill(s, 1, 'a')));
    assert_true(rule(fill(s, max, 'a')));
    assert_false(rule(fill(s, max + 1U, 'a')));
    char *field = unterminated + sizeof unterminated - (max + 1U);
    memset(field, 'a', max + 1U);
    assert_false(rule(field));
}

static void test_limits(void **state)
{
    (void)state;
    /* The log and the feed filter encode each with a u8 length. */
    assert_true(PSI_ID_MAX == 64U && PSI_ID_MAX <= UINT8_MAX);
    assert_true(PSI_EPOCH_LABEL_MAX == 64U && PSI_EPOCH_LABEL_MAX <= UINT8_MAX);
    assert_true(PSI_METHOD_MAX == 32U && PSI_METHOD_MAX <= UINT8_MAX);
    /* The log's names are the same limits. */
    assert_true(PSI_LOGENTRY_ID_MAX == PSI_ID_MAX);
    assert_true(PSI_LOGENTRY_EPOCH_MAX == PSI_EPOCH_LABEL_MAX);
    assert_true(PSI_LOGENTRY_METHOD_MAX == PSI_METHOD_MAX);
}

static void test_participant_ids(void **state)
{
    (void)state;
    check_lengths(psi_id_is_valid, PSI_ID_MAX);
    check_alphabet(psi_id_is_valid, ID_CHARS, ".-");
    assert_true(psi_id_is_valid("agency-a"));
    assert_true(psi_id_is_valid("A.b_c-9"));
    assert_true(psi_id_is_valid("_x"));
    assert_true(psi_id_is_valid("9"));
    assert_true(psi_id_is_valid("a.")); /* only the start is special */
    assert_true(psi_id_is_valid("a-"));
    assert_false(psi_id_is_valid(".hidden"));
    assert_false(psi_id_is_valid(".."));
    assert_false(psi_id_is_valid("."));
    assert_false(psi_id_is_valid("-flag"));
    assert_false(psi_id_is_valid("-"));
    assert_false(psi_id_is_valid("a b"));
    assert_false(psi_id_is_valid("a:b")); /* an epoch character, not an id's */
    assert_false(psi_id_is_valid("a/b"));
    assert_false(psi_id_is_valid("caf\xc3\xa9"));
    assert_false(psi_id_is_valid("agency\n"));
}

static void test_epoch_labels(void **state)
{
    (void)state;
    check_lengths(psi_epoch_label_is_valid, PSI_EPOCH_LABEL_MAX);
    check_alphabet(psi_epoch_label_is_valid, EPOCH_CHARS, "");
    assert_true(psi_epoch_label_is_valid("2026-W48"));
    assert_true(psi_epoch_label_is_valid("2026-11-27"));
    assert_true(psi_epoch_label_is_valid("op:synergia.1_b"));
    assert_true(psi_epoch_label_is_valid(".x")); /* labels are no file names */
    assert_true(psi_epoch_label_is_valid("-x"));
    assert_false(psi_epoch_label_is_valid("2026 W48"));
    assert_false(psi_epoch_label_is_valid("a/b"));
    assert_false(psi_epoch_label_is_valid("caf\xc3\xa9"));
}

/* The calendar (psi/epoch.h) names its periods with valid epoch labels. */
static void test_calendar_labels_are_epoch_labels(void **state)
{
    (void)state;
    const int64_t times[] = {0, 1609632000000 /* 2021-01-03 */, 1764201600000 /* 2025-11-27 */,
                             253402300799000 /* 9999-12-31 */};
    char label[PSI_EPOCH_CALENDAR_LABEL_SIZE];
    assert_true(PSI_EPOCH_LABEL_MAX >= PSI_EPOCH_DAY_LABEL_LEN &&
                PSI_EPOCH_LABEL_MAX >= PSI_EPOCH_WEEK_LABEL_LEN);
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        assert_int_equal(
            psi_epoch_label_of_time(PSI_EPOCH_KIND_WEEK, times[i], label, sizeof label), 0);
        assert_true(psi_epoch_label_is_valid(label));
        assert_int_equal(psi_epoch_label_of_time(PSI_EPOCH_KIND_DAY, times[i], label, sizeof label),
                         0);
        assert_true(psi_epoch_label_is_valid(label));
    }
}

static void test_method_names(void **state)
{
    (void)state;
    check_lengths(psi_method_name_is_valid, PSI_METHOD_MAX);
    check_alphabet(psi_method_name_is_valid, METHOD_CHARS, "");
    assert_true(psi_method_name_is_valid("info"));
    assert_true(psi_method_name_is_valid("submit.commit"));
    assert_true(psi_method_name_is_valid("log.entries"));
    assert_true(psi_method_name_is_valid("a1_b-c"));
    assert_false(psi_method_name_is_valid("Info"));
    assert_false(psi_method_name_is_valid("info "));
    assert_false(psi_method_name_is_valid("a:b"));
    assert_false(psi_method_name_is_valid("a/b"));
}

static void test_roles(void **state)
{
    (void)state;
    static const struct {
        enum psi_role role;
        unsigned number; /* as the log encodes it */
        const char *name;
    } roles[] = {
        {PSI_ROLE_AGENCY, 1, "agency"},
        {PSI_ROLE_VENDOR, 2, "vendor"},
        {PSI_ROLE_AUDITOR, 3, "auditor"},
    };
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        assert_int_equal((unsigned)roles[i].role, roles[i].number);
        assert_true(psi_role_is_valid(roles[i].number));
        assert_string_equal(psi_role_name(roles[i].number), roles[i].name);
        assert_int_equal(psi_role_parse(roles[i].name), roles[i].role);
        assert_int_equal(psi_role_parse(psi_role_name(roles[i].number)), roles[i].role);
    }
    assert_int_equal(PSI_ROLE_NONE, 0);
    assert_int_equal(PSI_ROLE_MAX, 3);
    const unsigned not_roles[] = {0, 4, 255, UINT_MAX};
    for (size_t i = 0; i < sizeof not_roles / sizeof not_roles[0]; i++) {
        assert_false(psi_role_is_valid(not_roles[i]));
        assert_string_equal(psi_role_name(not_roles[i]), "unknown");
    }
    const char *not_names[] = {"",         "Agency", "AGENCY",  "agency ", " agency",
                               "agencies", "audit",  "unknown", "admin"};
    for (size_t i = 0; i < sizeof not_names / sizeof not_names[0]; i++)
        assert_int_equal(psi_role_parse(not_names[i]), PSI_ROLE_NONE);
    assert_int_equal(psi_role_parse(NULL), PSI_ROLE_NONE);

    /* The log's older names are the same roles and functions. */
    assert_int_equal(PSI_LOGENTRY_ROLE_AGENCY, PSI_ROLE_AGENCY);
    assert_int_equal(PSI_LOGENTRY_ROLE_VENDOR, PSI_ROLE_VENDOR);
    assert_int_equal(PSI_LOGENTRY_ROLE_AUDITOR, PSI_ROLE_AUDITOR);
    assert_string_equal(psi_logentry_role_name(PSI_LOGENTRY_ROLE_VENDOR), "vendor");
    assert_int_equal(psi_logentry_role_parse("auditor"), PSI_ROLE_AUDITOR);
    assert_true(psi_logentry_id_is_valid("sg-csa"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_participant_ids),
        cmocka_unit_test(test_epoch_labels),
        cmocka_unit_test(test_calendar_labels_are_epoch_labels),
        cmocka_unit_test(test_method_names),
        cmocka_unit_test(test_roles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
