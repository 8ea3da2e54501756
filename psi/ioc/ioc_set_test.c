/* Tests of the de-duplicating set of canonical indicators (psi_ioc_set_* of
 * indicator.h): order, duplicates, typed offers, skip names, growth and
 * every error path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "psi/error.h"
#include "psi/indicator.h"

static void offer(struct psi_ioc_set *set, const char *value, int want)
{
    enum psi_ioc_skip why;
    int rc = psi_ioc_set_offer(set, PSI_IOC_NONE, value, strlen(value), &why);
    if (rc != want)
        fail_msg("offer '%s': %d, expected %d", value, rc, want);
}

static void test_set_dedup_and_order(void **state)
{
    (void)state;
    struct psi_ioc_set *set = NULL;
    assert_int_equal(psi_ioc_set_new(&set), PSI_OK);
    offer(set, "203.0.113.7", 0);
    offer(set, "203.0.113[.]7", 1); /* the defanged form is the same indicator */
    offer(set, "evil.com", 0);
    offer(set, "EVIL[.]COM.", 1);
    offer(set, "2001:DB8::1", 0);
    offer(set, "2001:db8:0:0::1", 1);
    offer(set, "hxxp://evil.com:80/a#x", 0);
    offer(set, "10.0.0.1", PSI_ERR_UNSUPPORTED);
    offer(set, "localhost", PSI_ERR_UNSUPPORTED);
    offer(set, "Cobalt", PSI_ERR_UNSUPPORTED);
    offer(set, "update.exe", PSI_ERR_UNSUPPORTED);
    assert_int_equal(psi_ioc_set_count(set), 4);

    struct psi_ioc_ref ref;
    static const struct {
        enum psi_ioc_type type;
        const char *value;
    } want[] = {{PSI_IOC_IPV4, "203.0.113.7"},
                {PSI_IOC_DOMAIN, "evil.com"},
                {PSI_IOC_IPV6, "2001:db8::1"},
                {PSI_IOC_URL, "http://evil.com/a"}};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(psi_ioc_set_get(set, i, &ref), PSI_OK);
        assert_int_equal(ref.type, want[i].type);
        assert_string_equal(ref.value, want[i].value);
        assert_int_equal(ref.len, strlen(want[i].value));
        size_t index = 99;
        assert_int_equal(
            psi_ioc_set_find(set, want[i].type, want[i].value, strlen(want[i].value), &index),
            PSI_OK);
        assert_int_equal(index, i);
    }
    assert_int_equal(psi_ioc_set_get(set, 4, &ref), PSI_ERR_NOT_FOUND);
    /* the type is part of the key */
    assert_int_equal(psi_ioc_set_find(set, PSI_IOC_DOMAIN, "203.0.113.7", 11, NULL),
                     PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_ioc_set_find(set, PSI_IOC_DOMAIN, "evil.co", 7, NULL), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_ioc_set_find(set, PSI_IOC_DOMAIN, "evil.com", 8, NULL), PSI_OK);

    const struct psi_ioc_stats *st = psi_ioc_set_stats(set);
    assert_int_equal(st->read, 11);
    assert_int_equal(st->kept, 4);
    assert_int_equal(st->duplicates, 3);
    assert_int_equal(st->skipped[PSI_IOC_SKIP_RESERVED], 1);
    assert_int_equal(st->skipped[PSI_IOC_SKIP_GENERIC], 1);
    assert_int_equal(st->skipped[PSI_IOC_SKIP_UNSUPPORTED], 1);
    assert_int_equal(st->skipped[PSI_IOC_SKIP_FILENAME], 1);
    psi_ioc_set_free(set);
}

static void test_set_typed_offer_and_skip_names(void **state)
{
    (void)state;
    struct psi_ioc_set *set = NULL;
    assert_int_equal(psi_ioc_set_new(&set), PSI_OK);
    enum psi_ioc_skip why = PSI_IOC_SKIP_COUNT;
    assert_int_equal(psi_ioc_set_offer(set, PSI_IOC_MD5, "abc", 3, &why), PSI_ERR_UNSUPPORTED);
    assert_int_equal(why, PSI_IOC_SKIP_MALFORMED);
    assert_int_equal(psi_ioc_set_offer(set, PSI_IOC_DOMAIN, "Appdata.zip", 11, NULL), 0);
    assert_int_equal(psi_ioc_set_offer(NULL, PSI_IOC_DOMAIN, "a.com", 5, NULL), PSI_ERR_INVALID);

    psi_ioc_set_skip(set, PSI_IOC_SKIP_UNSUPPORTED, "misp:text");
    psi_ioc_set_skip(set, PSI_IOC_SKIP_UNSUPPORTED, "misp:text");
    psi_ioc_set_skip(set, PSI_IOC_SKIP_UNSUPPORTED, "stix:file:name");
    psi_ioc_set_skip(set, PSI_IOC_SKIP_MALFORMED, "ignored for other reasons");
    psi_ioc_set_skip(set, (enum psi_ioc_skip)99, "out of range: not counted");
    psi_ioc_set_skip(NULL, PSI_IOC_SKIP_MALFORMED, NULL);
    /* a name longer than the limit is cut, and the cut names are equal */
    char long_name[200];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    psi_ioc_set_skip(set, PSI_IOC_SKIP_UNSUPPORTED, long_name);
    long_name[150] = '\0';
    psi_ioc_set_skip(set, PSI_IOC_SKIP_UNSUPPORTED, long_name);

    const struct psi_ioc_stats *st = psi_ioc_set_stats(set);
    assert_int_equal(st->read, 8);
    assert_int_equal(st->kept, 1);
    assert_int_equal(st->skipped[PSI_IOC_SKIP_MALFORMED], 2);
    assert_int_equal(st->skipped[PSI_IOC_SKIP_UNSUPPORTED], 5);
    assert_int_equal(psi_ioc_set_unsupported_count(set), 3);
    const char *name;
    uint64_t count;
    assert_int_equal(psi_ioc_set_unsupported(set, 0, &name, &count), PSI_OK);
    assert_string_equal(name, "misp:text");
    assert_int_equal(count, 2);
    assert_int_equal(psi_ioc_set_unsupported(set, 1, &name, &count), PSI_OK);
    assert_string_equal(name, "stix:file:name");
    assert_int_equal(count, 1);
    assert_int_equal(psi_ioc_set_unsupported(set, 2, &name, &count), PSI_OK);
    assert_int_equal(strlen(name), PSI_IOC_UNSUPPORTED_NAME_MAX);
    assert_int_equal(count, 2);
    assert_int_equal(psi_ioc_set_unsupported(set, 3, &name, &count), PSI_ERR_NOT_FOUND);

    /* past PSI_IOC_UNSUPPORTED_NAMES_MAX distinct names, "(other)" */
    for (unsigned i = 0; i < PSI_IOC_UNSUPPORTED_NAMES_MAX + 5; i++) {
        char n[32];
        (void)snprintf(n, sizeof n, "kind%u", i);
        psi_ioc_set_skip(set, PSI_IOC_SKIP_UNSUPPORTED, n);
    }
    assert_int_equal(psi_ioc_set_unsupported_count(set), PSI_IOC_UNSUPPORTED_NAMES_MAX + 1);
    assert_int_equal(psi_ioc_set_unsupported(set, PSI_IOC_UNSUPPORTED_NAMES_MAX, &name, &count),
                     PSI_OK);
    assert_string_equal(name, "(other)");
    assert_int_equal(count, 3 + 5);
    psi_ioc_set_free(set);
}

static void test_set_many(void **state)
{
    (void)state;
    struct psi_ioc_set *set = NULL;
    assert_int_equal(psi_ioc_set_new(&set), PSI_OK);
    /* 200,000 distinct addresses, each offered twice: growth and lookup */
    const uint32_t n = 200000;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < n; i++) {
            struct psi_ioc ioc;
            uint32_t a = 0x0b000000u + i; /* 11.0.0.0 and up */
            ioc.type = PSI_IOC_IPV4;
            int len = snprintf(ioc.value, sizeof ioc.value, "%u.%u.%u.%u", a >> 24,
                               (a >> 16) & 255u, (a >> 8) & 255u, a & 255u);
            ioc.len = (size_t)len;
            assert_int_equal(psi_ioc_set_add(set, &ioc), pass);
        }
    }
    assert_int_equal(psi_ioc_set_count(set), n);
    const struct psi_ioc_stats *st = psi_ioc_set_stats(set);
    assert_int_equal(st->kept, n);
    assert_int_equal(st->duplicates, n);
    size_t index;
    assert_int_equal(psi_ioc_set_find(set, PSI_IOC_IPV4, "11.3.13.63", 10, &index), PSI_OK);
    assert_int_equal(index, 3u * 65536u + 13u * 256u + 63u);
    struct psi_ioc_ref ref;
    assert_int_equal(psi_ioc_set_get(set, n - 1, &ref), PSI_OK);
    assert_string_equal(ref.value, "11.3.13.63");
    psi_ioc_set_free(set);
}

static void test_set_bad_arguments(void **state)
{
    (void)state;
    struct psi_ioc_set *set = NULL;
    assert_int_equal(psi_ioc_set_new(NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_set_new(&set), PSI_OK);
    struct psi_ioc ioc = {PSI_IOC_NONE, 1, "x"};
    assert_int_equal(psi_ioc_set_add(set, &ioc), PSI_ERR_INVALID);
    ioc.type = PSI_IOC_DOMAIN;
    ioc.len = 0;
    assert_int_equal(psi_ioc_set_add(set, &ioc), PSI_ERR_INVALID);
    ioc.len = PSI_IOC_VALUE_MAX + 1;
    assert_int_equal(psi_ioc_set_add(set, &ioc), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_set_add(NULL, &ioc), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_set_add(set, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_set_find(set, PSI_IOC_DOMAIN, "a.com", 5, NULL), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_ioc_set_find(NULL, PSI_IOC_DOMAIN, "a.com", 5, NULL), PSI_ERR_INVALID);
    struct psi_ioc_ref ref;
    assert_int_equal(psi_ioc_set_get(set, 0, &ref), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_ioc_set_get(set, 0, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_set_count(NULL), 0);
    assert_int_equal(psi_ioc_set_stats(NULL)->read, 0);
    assert_int_equal(psi_ioc_set_unsupported_count(NULL), 0);
    const char *name;
    uint64_t count;
    assert_int_equal(psi_ioc_set_unsupported(NULL, 0, &name, &count), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_set_stats(set)->read, 0); /* refused adds are not counted */
    psi_ioc_set_free(set);
    psi_ioc_set_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_dedup_and_order),
        cmocka_unit_test(test_set_typed_offer_and_skip_names),
        cmocka_unit_test(test_set_many),
        cmocka_unit_test(test_set_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
