/*
 * The indicators a command reads and sends (client/indicators.c): a file is
 * read canonical and de-duplicated, a file that cannot be read leaves one
 * line naming it, and the "type:value" bytes of an indicator are the same
 * whether they come from a set just read (psi feed) or from a submission
 * recorded in the state (psi submit): both are what psi_ioc_encode gives.
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

#include "cli.h"
#include "indicators.h"
#include "scratch.h"
#include "psi/error.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void test_read_files(void **state)
{
    (void)state;
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/psi-indicators-a.XXXXXX", test_tmpdir());
    snprintf(b, sizeof b, "%s/psi-indicators-b.XXXXXX", test_tmpdir());
    close(mkstemp(a));
    close(mkstemp(b));
    write_file(a, "203.0.113.7\nexample[.]org\n");
    write_file(b, "EXAMPLE.org\n# a comment\n");
    struct psi_ioc_set *set = NULL;
    char err[256];
    char *files[] = {a, b};
    assert_int_equal(psi_ioc_set_new(&set), 0);
    assert_int_equal(psi_indicators_read_files(set, files, 2, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(psi_ioc_set_count(set), 2);
    struct psi_ioc_ref ref;
    assert_int_equal(psi_ioc_set_get(set, 1, &ref), 0);
    assert_string_equal(psi_ioc_type_name(ref.type), "domain");
    assert_string_equal(ref.value, "example.org");
    psi_ioc_set_free(set);
    unlink(a);
    unlink(b);
}

static void test_unreadable_file_is_named(void **state)
{
    (void)state;
    struct psi_ioc_set *set = NULL;
    char err[256], missing[] = "/nonexistent/psi-indicators-test.txt";
    char *files[] = {missing};
    assert_int_equal(psi_ioc_set_new(&set), 0);
    assert_int_not_equal(psi_indicators_read_files(set, files, 1, NULL, NULL, err, sizeof err), 0);
    assert_non_null(strstr(err, missing));
    assert_null(strchr(err, '\n'));
    psi_ioc_set_free(set);
}

static void test_format_option(void **state)
{
    (void)state;
    enum psi_ioc_format format = PSI_IOC_FORMAT_CSV;
    assert_int_equal(psi_indicators_format_option("submit", NULL, &format), 0);
    assert_int_equal(format, PSI_IOC_FORMAT_AUTO);
    assert_int_equal(psi_indicators_format_option("submit", "misp", &format), 0);
    assert_int_equal(format, PSI_IOC_FORMAT_MISP);
}

/* The same indicators, from a set and from a recorded list: equal bytes. */
static void test_batch_from_set_equals_from_list(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/psi-indicators-c.XXXXXX", test_tmpdir());
    close(mkstemp(path));
    write_file(path, "203.0.113.7\nhxxps://Example.org/Path\n"
                     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n");
    struct psi_ioc_set *set = NULL;
    char err[256];
    assert_int_equal(psi_ioc_set_new(&set), 0);
    struct psi_indicators_input text = {.format = PSI_IOC_FORMAT_TEXT};
    assert_int_equal(psi_indicators_read_file(set, path, &text, NULL, err, sizeof err), 0);
    size_t n = psi_ioc_set_count(set);
    assert_int_equal(n, 3);
    struct psi_state_indicator items[3];
    for (size_t i = 0; i < n; i++) {
        struct psi_ioc_ref ref;
        assert_int_equal(psi_ioc_set_get(set, i, &ref), 0);
        items[i].type = (char *)psi_ioc_type_name(ref.type);
        items[i].value = (char *)ref.value;
    }
    struct psi_indicator_batch from_set, from_list;
    assert_int_equal(psi_indicator_batch_from_set(&from_set, set, 1, 2), 0);
    assert_int_equal(psi_indicator_batch_from_list(&from_list, items + 1, 2), 0);
    assert_int_equal(from_set.count, 2);
    assert_int_equal(from_list.count, 2);
    for (size_t i = 0; i < 2; i++) {
        unsigned char expected[PSI_IOC_ENCODED_MAX];
        size_t len = 0;
        struct psi_ioc_ref ref;
        assert_int_equal(psi_ioc_set_get(set, 1 + i, &ref), 0);
        assert_int_equal(
            psi_ioc_encode(ref.type, ref.value, ref.len, expected, sizeof expected, &len), 0);
        assert_int_equal(from_set.lens[i], len);
        assert_int_equal(from_list.lens[i], len);
        assert_memory_equal(from_set.inputs[i], expected, len);
        assert_memory_equal(from_list.inputs[i], expected, len);
    }
    psi_indicator_batch_clear(&from_set);
    psi_indicator_batch_clear(&from_list);
    psi_ioc_set_free(set);
    unlink(path);
}

static void test_unknown_type_in_list(void **state)
{
    (void)state;
    struct psi_state_indicator item = {.type = (char *)"ipv5", .value = (char *)"1.2.3.4"};
    struct psi_indicator_batch batch;
    assert_int_equal(psi_indicator_batch_from_list(&batch, &item, 1), PSI_ERR_PARSE);
    psi_indicator_batch_clear(&batch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_files),
        cmocka_unit_test(test_unreadable_file_is_named),
        cmocka_unit_test(test_format_option),
        cmocka_unit_test(test_batch_from_set_equals_from_list),
        cmocka_unit_test(test_unknown_type_in_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
