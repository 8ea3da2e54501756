/* psi_parallel_for: every index exactly once, whatever the thread count;
 * the lowest failing range's error and index are reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "psi/error.h"
#include "psi/pool.h"

struct visit {
    unsigned char *hits;
    size_t fail_from; /* indices >= this fail (SIZE_MAX: none) */
    size_t fail_every;
};

static int visit_range(void *ctx, size_t begin, size_t end, size_t *failed_at)
{
    struct visit *v = ctx;
    size_t i;

    for (i = begin; i < end; i++) {
        if (i >= v->fail_from && (i - v->fail_from) % v->fail_every == 0) {
            *failed_at = i;
            return PSI_ERR_ENCODING;
        }
        v->hits[i]++;
    }
    return PSI_OK;
}

static void test_every_index_once(void **state)
{
    static const size_t sizes[] = {0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 4099};
    static const unsigned threads[] = {0, 1, 2, 3, 5, 64, 300};
    size_t s, t, i;

    (void)state;
    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (t = 0; t < sizeof threads / sizeof threads[0]; t++) {
            struct visit v = {calloc(sizes[s] + 1, 1), SIZE_MAX, 1};

            assert_non_null(v.hits);
            assert_int_equal(psi_parallel_for(sizes[s], threads[t], visit_range, &v, NULL), PSI_OK);
            for (i = 0; i < sizes[s]; i++) {
                assert_int_equal(v.hits[i], 1);
            }
            assert_int_equal(v.hits[sizes[s]], 0);
            free(v.hits);
        }
    }
}

/* Failures at 37, 137, 237, ...: index 37 is reported with any thread
 * count. */
static void test_lowest_failure_wins(void **state)
{
    static const unsigned threads[] = {0, 1, 2, 3, 8, 256};
    size_t t;

    (void)state;
    for (t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        struct visit v = {calloc(1000, 1), 37, 100};
        size_t failed_at = 12345;

        assert_non_null(v.hits);
        assert_int_equal(psi_parallel_for(1000, threads[t], visit_range, &v, &failed_at),
                         PSI_ERR_ENCODING);
        assert_int_equal(failed_at, 37);
        /* without a place for the index it still fails */
        assert_int_equal(psi_parallel_for(1000, threads[t], visit_range, &v, NULL),
                         PSI_ERR_ENCODING);
        free(v.hits);
    }
}

static void test_arguments_and_cores(void **state)
{
    struct visit v = {NULL, SIZE_MAX, 1};

    (void)state;
    assert_int_equal(psi_parallel_for(10, 1, NULL, &v, NULL), PSI_ERR_INVALID);
    /* n == 0 calls nothing (hits is NULL and would crash) */
    assert_int_equal(psi_parallel_for(0, 4, visit_range, &v, NULL), PSI_OK);
    assert_true(psi_online_cores() >= 1);
    assert_true(psi_online_cores() <= PSI_POOL_MAX_THREADS);
}

/* Records the ranges it is given, touching nothing else. */
struct span_log {
    size_t calls, covered;
    size_t begin[PSI_POOL_MAX_THREADS], end[PSI_POOL_MAX_THREADS];
};

static int log_range(void *ctx, size_t begin, size_t end, size_t *failed_at)
{
    struct span_log *l = ctx;
    (void)failed_at;
    /* ranges run on several threads: claim a slot atomically */
    size_t slot = __atomic_fetch_add(&l->calls, 1, __ATOMIC_RELAXED);
    if (slot < PSI_POOL_MAX_THREADS) {
        l->begin[slot] = begin;
        l->end[slot] = end;
    }
    __atomic_fetch_add(&l->covered, end - begin, __ATOMIC_RELAXED);
    return PSI_OK;
}

/* Counts near SIZE_MAX: rounding a range up to the alignment must not wrap
 * (it once did: a range of 0 elements and a division by zero). */
static void test_huge_counts(void **state)
{
    static const size_t counts[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - PSI_POOL_RANGE_ALIGN,
                                    SIZE_MAX / 2 + 1};
    static const unsigned threads[] = {1, 2, 3, 7, PSI_POOL_MAX_THREADS};
    (void)state;
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
            struct span_log *l = calloc(1, sizeof *l);
            assert_non_null(l);
            assert_int_equal(psi_parallel_for(counts[i], threads[t], log_range, l, NULL), PSI_OK);
            assert_true(l->calls >= 1 && l->calls <= threads[t]);
            assert_true(l->covered == counts[i]);
            free(l);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_index_once),
        cmocka_unit_test(test_lowest_failure_wins),
        cmocka_unit_test(test_arguments_and_cores),
        cmocka_unit_test(test_huge_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
