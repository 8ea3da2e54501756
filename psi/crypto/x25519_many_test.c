/*
 * psi_x25519_many (psi/curve25519.h) and its two implementations
 * (x25519_many.h): RFC 7748's vectors, and byte-for-byte agreement with
 * libsodium's crypto_scalarmult on random keys and on every kind of input a
 * caller may pass: points of the curve, of its twist, random strings with
 * the top bit set, non-canonical values (p and above), the small-order
 * points; batches of every length around the lane count, and in place.
 *
 * Where the CPU lacks AVX-512 IFMA the eight-lane implementation falls back
 * to libsodium; the test says so and the comparisons then hold trivially
 * (the package's CI machine has IFMA, see docs/performance.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto_test_util.h"
#include "psi/curve25519.h"
#include "psi/error.h"
#include "fe25519.h"
#include "x25519_many.h"

static const enum psi_x25519_impl impls[] = {PSI_X25519_IMPL_LIBSODIUM, PSI_X25519_IMPL_LANES8};

/* libsodium's answer for every point, all-zero where it refuses. */
static void expected(unsigned char *out, const unsigned char key[32], const unsigned char *points,
                     size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (crypto_scalarmult(out + 32 * i, key, points + 32 * i) != 0) {
            memset(out + 32 * i, 0, 32);
        }
    }
}

static void test_rfc7748_vectors(void **state)
{
    /* RFC 7748 section 5.2 (first vector) and section 6.1 (both public keys
     * from the base point, and the shared secret). */
    static const char *const vectors[][3] = {
        {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
         "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
        {"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
         "0900000000000000000000000000000000000000000000000000000000000000",
         "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"},
        {"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
         "0900000000000000000000000000000000000000000000000000000000000000",
         "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"},
        {"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
         "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
         "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
    };
    (void)state;
    for (size_t v = 0; v < sizeof vectors / sizeof vectors[0]; v++) {
        unsigned char key[32], u[32], want[32], batch[8 * 32], out[8 * 32];

        UNHEX_EXACT(key, 32, vectors[v][0]);
        UNHEX_EXACT(u, 32, vectors[v][1]);
        UNHEX_EXACT(want, 32, vectors[v][2]);
        for (size_t i = 0; i < 8; i++) {
            memcpy(batch + 32 * i, u, 32);
        }
        for (size_t m = 0; m < sizeof impls / sizeof impls[0]; m++) {
            for (size_t n = 1; n <= 8; n++) {
                memset(out, 0xa5, sizeof out);
                assert_int_equal(psi_x25519_many_with(impls[m], out, key, batch, n, NULL), PSI_OK);
                for (size_t i = 0; i < n; i++) {
                    assert_memory_equal(out + 32 * i, want, 32);
                }
            }
        }
    }
}

/* RFC 7748 section 5.2's iteration: k, u = X25519(k, u), k, starting from
 * k = u = 9; after 1 and 1,000 iterations. One lane of eight carries it,
 * the others random points, so the lanes are seen not to mix. */
static void test_rfc7748_iterations(void **state)
{
    const size_t lane3 = (size_t)3 * 32; /* the lane that iterates */
    unsigned char after_1[32], after_1000[32];

    (void)state;
    UNHEX_EXACT(after_1, 32, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    UNHEX_EXACT(after_1000, 32, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
    for (size_t m = 0; m < sizeof impls / sizeof impls[0]; m++) {
        unsigned char k[32] = {9}, batch[8 * 32], out[8 * 32];

        randombytes_buf(batch, sizeof batch);
        memset(batch + lane3, 0, 32);
        batch[lane3] = 9;
        for (int it = 1; it <= 1000; it++) {
            assert_int_equal(psi_x25519_many_with(impls[m], out, k, batch, 8, NULL), PSI_OK);
            memcpy(batch + lane3, k, 32); /* u = old k */
            memcpy(k, out + lane3, 32);   /* k = result */
            if (it == 1) {
                assert_memory_equal(k, after_1, 32);
            }
        }
        assert_memory_equal(k, after_1000, 32);
    }
}

/* Random keys, random 32-byte strings (top bit and all): the eight lanes
 * agree with libsodium on every batch length from 0 to 41, out of place
 * and in place. */
static void test_random_against_libsodium(void **state)
{
    enum { MAX = 41 };
    unsigned char key[32], points[MAX * 32], want[MAX * 32], out[MAX * 32];

    (void)state;
    for (size_t n = 0; n <= MAX; n++) {
        for (int round = 0; round < 3; round++) {
            randombytes_buf(key, sizeof key);
            randombytes_buf(points, n * 32);
            expected(want, key, points, n);
            for (size_t m = 0; m < sizeof impls / sizeof impls[0]; m++) {
                assert_int_equal(psi_x25519_many_with(impls[m], out, key, points, n, NULL), PSI_OK);
                if (n != 0) {
                    assert_memory_equal(out, want, n * 32);
                }
                memcpy(out, points, n * 32);
                assert_int_equal(psi_x25519_many_with(impls[m], out, key, out, n, NULL), PSI_OK);
                if (n != 0) {
                    assert_memory_equal(out, want, n * 32);
                }
            }
        }
    }
}

/* Points of the prime-order subgroup (X25519 of the base point), random u
 * below 2^255 (about half of them on the twist, whose products the ladder
 * computes like any other), and the edges of the encoding: values at and
 * above p, which X25519 reads mod p, and the top bit, which it ignores. */
static void test_edges_against_libsodium(void **state)
{
    /* p - 1 (of small order), p (read as 0, of small order), p + 1,
     * 2^255 - 1, p with the top bit set, 2, all ones (read as 18), the top
     * bit alone (read as 0). */
    static const char *const edges[] = {
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "0200000000000000000000000000000000000000000000000000000000000000",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "0000000000000000000000000000000000000000000000000000000000000080",
    };
    enum { N = 8 * 8 };
    unsigned char key[32], scalar[32], points[N * 32], want[N * 32], out[N * 32];

    (void)state;
    for (int round = 0; round < 20; round++) {
        randombytes_buf(key, sizeof key);
        for (size_t i = 0; i < N; i++) {
            if (i < sizeof edges / sizeof edges[0]) {
                UNHEX_EXACT(points + 32 * i, 32, edges[i]);
            } else if (i % 2 == 0) {
                randombytes_buf(scalar, sizeof scalar);
                assert_int_equal(crypto_scalarmult_base(points + 32 * i, scalar), 0);
            } else {
                randombytes_buf(points + 32 * i, 32);
                points[32 * i + 31] &= 0x7f;
            }
        }
        expected(want, key, points, N);
        for (size_t m = 0; m < sizeof impls / sizeof impls[0]; m++) {
            size_t zero_at = 999;
            int rc = psi_x25519_many_with(impls[m], out, key, points, N, &zero_at);

            for (size_t i = 0; i < N; i++) {
                assert_memory_equal(out + 32 * i, want + 32 * i, 32);
            }
            /* p - 1 comes first: refused at index 0, like libsodium. */
            assert_int_equal(rc, PSI_ERR_IDENTITY);
            assert_int_equal(zero_at, 0);
            assert_true(sodium_is_zero(want, 32));
        }
    }
}

/* Every small-order u (psi_curve25519_check_u's list), alone and among
 * good points, at every lane: an all-zero product, reported at the first
 * index, the others still computed. */
static void test_small_order_reported(void **state)
{
    enum { N = 11 };
    unsigned char key[32], scalar[32], points[N * 32], want[N * 32], out[N * 32];

    (void)state;
    randombytes_buf(key, sizeof key);
    for (size_t s = 0; s < X25519_SMALL_ORDER_COUNT; s++) {
        for (size_t at = 0; at < N; at++) {
            for (size_t i = 0; i < N; i++) {
                randombytes_buf(scalar, sizeof scalar);
                assert_int_equal(crypto_scalarmult_base(points + 32 * i, scalar), 0);
            }
            UNHEX_EXACT(points + 32 * at, 32, x25519_small_order_hex[s]);
            expected(want, key, points, N);
            for (size_t m = 0; m < sizeof impls / sizeof impls[0]; m++) {
                size_t zero_at = 999;

                assert_int_equal(psi_x25519_many_with(impls[m], out, key, points, N, &zero_at),
                                 PSI_ERR_IDENTITY);
                assert_int_equal(zero_at, at);
                assert_memory_equal(out, want, sizeof out);
                assert_true(sodium_is_zero(out + 32 * at, 32));
            }
        }
    }
}

/* The exponentiations of many elements (the hash's) agree with
 * fe25519_invert and fe25519_pow_p58 one by one, for every count around
 * the lane count, in place, on random elements and on 0, 1 and p - 1. */
static void test_pow_many(void **state)
{
    enum { MAX = 27 };
    fe25519 in[MAX], out[MAX], want[MAX];
    unsigned char bytes[32], a[32], b[32];

    (void)state;
    memset(in, 0, sizeof in);
    for (size_t n = 0; n <= MAX; n++) {
        for (size_t i = 0; i < n; i++) {
            randombytes_buf(bytes, sizeof bytes);
            if (i == 1) {
                memset(bytes, 0, sizeof bytes);
            } else if (i == 2) {
                memset(bytes, 0, sizeof bytes);
                bytes[0] = 1;
            } else if (i == 3) {
                UNHEX_EXACT(bytes, 32,
                            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
            }
            fe25519_from_bytes_256(&in[i], bytes);
        }
        for (int inverse = 0; inverse <= 1; inverse++) {
            for (size_t i = 0; i < n; i++) {
                if (inverse) {
                    fe25519_invert(&want[i], &in[i]);
                } else {
                    fe25519_pow_p58(&want[i], &in[i]);
                }
            }
            memcpy(out, in, sizeof out);
            if (inverse) {
                psi_fe25519_invert_many(out, out, n);
            } else {
                psi_fe25519_pow_p58_many(out, out, n);
            }
            for (size_t i = 0; i < n; i++) {
                fe25519_to_bytes(a, &out[i]);
                fe25519_to_bytes(b, &want[i]);
                assert_memory_equal(a, b, 32);
            }
        }
    }
}

static void test_arguments(void **state)
{
    unsigned char key[32] = {1}, point[32] = {9}, out[32];

    (void)state;
    assert_int_equal(psi_x25519_many(NULL, key, point, 1, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_x25519_many(out, NULL, point, 1, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_x25519_many(out, key, NULL, 1, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_x25519_many(out, key, NULL, 0, NULL), PSI_OK);
    assert_int_equal(psi_x25519_many(out, key, point, SIZE_MAX / 16, NULL), PSI_ERR_TOO_LARGE);
    assert_non_null(psi_x25519_implementation());
    /* The process's choice is one of the two, and the one this CPU allows
     * unless the environment asked for libsodium. */
    if (strcmp(psi_x25519_implementation(), "avx512ifma") == 0) {
        assert_int_equal(psi_x25519_impl_chosen(), PSI_X25519_IMPL_LANES8);
        assert_true(psi_x25519_impl_available(PSI_X25519_IMPL_LANES8));
    } else {
        assert_string_equal(psi_x25519_implementation(), "libsodium");
        assert_int_equal(psi_x25519_impl_chosen(), PSI_X25519_IMPL_LIBSODIUM);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7748_vectors),
        cmocka_unit_test(test_rfc7748_iterations),
        cmocka_unit_test(test_random_against_libsodium),
        cmocka_unit_test(test_edges_against_libsodium),
        cmocka_unit_test(test_small_order_reported),
        cmocka_unit_test(test_pow_many),
        cmocka_unit_test(test_arguments),
    };
    if (sodium_init() < 0) {
        return 1;
    }
    printf("x25519_many: eight lanes (AVX-512 IFMA) %s in this build on this CPU; the process "
           "uses %s\n",
           psi_x25519_impl_available(PSI_X25519_IMPL_LANES8) ? "available" : "NOT available",
           psi_x25519_implementation());
    return cmocka_run_group_tests(tests, NULL, NULL);
}
