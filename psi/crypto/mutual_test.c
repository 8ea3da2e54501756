/* Commutative blinding of the mutual protocol, for the suite of the build
 * (X25519 by default, ristretto255 with -DPSI_MUTUAL_SUITE=ristretto255):
 * results recomputed directly with libsodium under the documented DSTs,
 * commutativity on fixed and random inputs, tags, the project's own vectors
 * (X25519), refusal of bad points with the right index, independence from
 * the thread count, n = 0, and every error path of blind.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto_test_util.h"
#include "psi/blind.h"
#include "psi/curve25519.h"
#include "psi/error.h"
#include "psi/oprf.h"
#include "psi/xmd.h"

#define N_INDICATORS 100

static const char group_order_hex[] =
    "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

struct indicators {
    char text[N_INDICATORS][40];
    const unsigned char *inputs[N_INDICATORS];
    size_t lens[N_INDICATORS];
};

/* "ipv4:203.0.113.<i>" and friends, with `offset` shifting the values so
 * that two parties can share some. */
static void make_indicators(struct indicators *set, unsigned offset)
{
    size_t i;

    for (i = 0; i < N_INDICATORS; i++) {
        int len = snprintf(set->text[i], sizeof set->text[i], "ipv4:198.51.%u.%u",
                           (unsigned)((i + offset) / 256), (unsigned)((i + offset) % 256));
        assert_true(len > 0 && (size_t)len < sizeof set->text[i]);
        set->inputs[i] = (const unsigned char *)set->text[i];
        set->lens[i] = (size_t)len;
    }
}

static void make_key(unsigned char key[32], const char *epoch, unsigned char seed_byte)
{
    unsigned char seed[32];

    memset(seed, seed_byte, sizeof seed);
    assert_int_equal(psi_mutual_derive_key(seed, epoch, key), PSI_OK);
}

static int suite_is_x25519(void)
{
    return psi_mutual_suite() == PSI_MUTUAL_SUITE_X25519;
}

static const char *suite_dst_hash(void)
{
    return suite_is_x25519() ? PSI_MUTUAL_X25519_DST_HASH_TO_GROUP : PSI_MUTUAL_DST_HASH_TO_GROUP;
}

static const char *suite_dst_key(void)
{
    return suite_is_x25519() ? PSI_MUTUAL_X25519_DST_DERIVE_KEY : PSI_MUTUAL_DST_DERIVE_KEY;
}

static const char *suite_dst_tag(void)
{
    return suite_is_x25519() ? PSI_MUTUAL_X25519_DST_TAG : PSI_MUTUAL_DST_TAG;
}

/* H(x) recomputed from the documented DST, outside the module. */
static void reference_hash(unsigned char point[32], const unsigned char *input, size_t len)
{
    const char *dst = suite_dst_hash();
    unsigned char uniform[64];

    if (suite_is_x25519()) {
        struct psi_xmd_part part = {input, len};

        assert_int_equal(psi_curve25519_hash_to_curve(point, NULL, &part, 1,
                                                      (const unsigned char *)dst, strlen(dst)),
                         PSI_OK);
        return;
    }
    assert_int_equal(psi_expand_message_xmd_sha512(uniform, 64, input, len,
                                                   (const unsigned char *)dst, strlen(dst)),
                     PSI_OK);
    assert_int_equal(crypto_core_ristretto255_from_hash(point, uniform), 0);
}

/* key * point recomputed with libsodium alone. */
static void reference_mult(unsigned char out[32], const unsigned char key[32],
                           const unsigned char point[32])
{
    if (suite_is_x25519()) {
        assert_int_equal(crypto_scalarmult(out, key, point), 0);
    } else {
        assert_int_equal(crypto_scalarmult_ristretto255(out, key, point), 0);
    }
}

static void test_derive_key(void **state)
{
    const char *dst = suite_dst_key();
    unsigned char seed[32], key[32], again[32], other[32], uniform[64], want[32];
    unsigned char msg[32 + 2 + 8 + 1];
    char long_epoch[PSI_MUTUAL_MAX_EPOCH_BYTES + 2];

    (void)state;
    memset(seed, 0x42, sizeof seed);
    assert_int_equal(psi_mutual_derive_key(seed, "2026-W48", key), PSI_OK);
    assert_int_equal(psi_mutual_derive_key(seed, "2026-W48", again), PSI_OK);
    assert_memory_equal(key, again, 32);
    /* recomputed: HashToScalar(seed || I2OSP(8, 2) || "2026-W48" || 0x00) */
    memcpy(msg, seed, 32);
    msg[32] = 0;
    msg[33] = 8;
    memcpy(msg + 34, "2026-W48", 8);
    msg[42] = 0;
    assert_int_equal(psi_expand_message_xmd_sha512(uniform, 64, msg, sizeof msg,
                                                   (const unsigned char *)dst, strlen(dst)),
                     PSI_OK);
    crypto_core_ristretto255_scalar_reduce(want, uniform);
    assert_memory_equal(key, want, 32);

    assert_int_equal(psi_mutual_derive_key(seed, "2026-W49", other), PSI_OK);
    assert_memory_not_equal(key, other, 32);
    seed[0] ^= 1;
    assert_int_equal(psi_mutual_derive_key(seed, "2026-W48", other), PSI_OK);
    assert_memory_not_equal(key, other, 32);

    /* epoch labels by the rule of psi/ident.h */
    memset(long_epoch, 'e', sizeof long_epoch - 1);
    long_epoch[sizeof long_epoch - 1] = '\0'; /* PSI_EPOCH_LABEL_MAX + 1 bytes */
    assert_int_equal(psi_mutual_derive_key(seed, long_epoch, key), PSI_ERR_TOO_LARGE);
    long_epoch[PSI_MUTUAL_MAX_EPOCH_BYTES] = '\0'; /* PSI_EPOCH_LABEL_MAX bytes */
    assert_int_equal(psi_mutual_derive_key(seed, long_epoch, key), PSI_OK);
    assert_int_equal(psi_mutual_derive_key(seed, "", key), PSI_ERR_INVALID);
    assert_int_equal(psi_mutual_derive_key(seed, "2026 W48", key), PSI_ERR_INVALID);
    assert_int_equal(psi_mutual_derive_key(seed, "a/b", key), PSI_ERR_INVALID);
    assert_int_equal(psi_mutual_derive_key(seed, "manual:x.y_z-1", key), PSI_OK);
    assert_int_equal(psi_mutual_derive_key(NULL, "e", key), PSI_ERR_INVALID);
    assert_int_equal(psi_mutual_derive_key(seed, NULL, key), PSI_ERR_INVALID);
    assert_int_equal(psi_mutual_derive_key(seed, "e", NULL), PSI_ERR_INVALID);
}

static void test_hash_to_group(void **state)
{
    static const unsigned char x[] = "domain:example.org";
    unsigned char point[32], want[32], one[32] = {1}, blind[32], oprf_point[32];
    unsigned char *big = calloc(PSI_MUTUAL_MAX_INPUT_BYTES + 1, 1);

    (void)state;
    assert_non_null(big);
    assert_int_equal(psi_mutual_hash_to_group(x, sizeof x - 1, point), PSI_OK);
    reference_hash(want, x, sizeof x - 1);
    assert_memory_equal(point, want, 32);
    /* domain separation from the OPRF: Blind with blind 1 yields its H(x) */
    assert_int_equal(psi_oprf_blind(PSI_OPRF_MODE_OPRF, x, sizeof x - 1, one, blind, oprf_point),
                     PSI_OK);
    assert_memory_not_equal(point, oprf_point, 32);

    assert_int_equal(psi_mutual_hash_to_group(NULL, 0, point), PSI_OK);
    assert_int_equal(psi_mutual_hash_to_group(big, PSI_MUTUAL_MAX_INPUT_BYTES, point), PSI_OK);
    assert_int_equal(psi_mutual_hash_to_group(big, PSI_MUTUAL_MAX_INPUT_BYTES + 1, point),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_mutual_hash_to_group(NULL, 1, point), PSI_ERR_INVALID);
    assert_int_equal(psi_mutual_hash_to_group(x, 1, NULL), PSI_ERR_INVALID);
    free(big);
}

/* out[i] = key * H(x_i), and unblinding gives H(x_i) back (ristretto255;
 * the X25519 suite has no unblinding and says so). */
static void test_blind_and_unblind(void **state)
{
    struct indicators set;
    unsigned char key[32], out[N_INDICATORS * 32], hashed[32], want[32], back[32];
    size_t i;

    (void)state;
    make_indicators(&set, 0);
    make_key(key, "2026-W48", 1);
    assert_int_equal(psi_blind_batch(key, N_INDICATORS, set.inputs, set.lens, out, 0), PSI_OK);
    for (i = 0; i < N_INDICATORS; i++) {
        reference_hash(hashed, set.inputs[i], set.lens[i]);
        reference_mult(want, key, hashed);
        assert_memory_equal(out + 32 * i, want, 32);
        if (suite_is_x25519()) {
            assert_int_equal(psi_unblind(key, out + 32 * i, back), PSI_ERR_UNSUPPORTED);
            continue;
        }
        assert_int_equal(psi_unblind(key, out + 32 * i, back), PSI_OK);
        assert_memory_equal(back, hashed, 32);
    }
}

/* k1 * (k2 * H(x)) = k2 * (k1 * H(x)); tags agree across the two orders,
 * match a direct computation, and differ with the context. */
static void test_commutative_tags(void **state)
{
    static const unsigned char context[] = "\x08"
                                           "2026-W48"
                                           "\x0b"
                                           "agency-a|b";
    static const unsigned char other_context[] = "\x08"
                                                 "2026-W49"
                                                 "\x0b"
                                                 "agency-a|b";
    const char *tag_dst = suite_dst_tag();
    struct indicators a, b;
    unsigned char k1[32], k2[32];
    unsigned char a1[N_INDICATORS * 32], b2[N_INDICATORS * 32];
    unsigned char a12[N_INDICATORS * 32], b21[N_INDICATORS * 32];
    unsigned char tags_a[N_INDICATORS * 16], tags_b[N_INDICATORS * 16];
    unsigned char tags_other[N_INDICATORS * 16], digest[64];
    crypto_hash_sha512_state st;
    size_t i, j, common = 0;

    (void)state;
    make_indicators(&a, 0);
    make_indicators(&b, 60); /* a[60..99] = b[0..39] */
    make_key(k1, "2026-W48", 1);
    make_key(k2, "2026-W48", 2);
    assert_int_equal(psi_blind_batch(k1, N_INDICATORS, a.inputs, a.lens, a1, 0), PSI_OK);
    assert_int_equal(psi_blind_batch(k2, N_INDICATORS, b.inputs, b.lens, b2, 0), PSI_OK);
    assert_int_equal(psi_reblind_batch(k2, N_INDICATORS, a1, a12, NULL, 0), PSI_OK);
    assert_int_equal(psi_reblind_batch(k1, N_INDICATORS, b2, b21, NULL, 0), PSI_OK);
    for (i = 60; i < N_INDICATORS; i++) {
        assert_memory_equal(a12 + 32 * i, b21 + 32 * (i - 60), 32);
    }
    assert_memory_not_equal(a12, b21, 32);

    assert_int_equal(
        psi_tag_batch(k2, N_INDICATORS, a1, context, sizeof context - 1, tags_a, NULL, 0), PSI_OK);
    assert_int_equal(
        psi_tag_batch(k1, N_INDICATORS, b2, context, sizeof context - 1, tags_b, NULL, 0), PSI_OK);
    for (i = 0; i < N_INDICATORS; i++) {
        /* the tag is Trunc16(SHA-512(DST || context || k2 * k1 * H(x))) */
        crypto_hash_sha512_init(&st);
        crypto_hash_sha512_update(&st, (const unsigned char *)tag_dst, strlen(tag_dst));
        crypto_hash_sha512_update(&st, context, sizeof context - 1);
        crypto_hash_sha512_update(&st, a12 + 32 * i, 32);
        crypto_hash_sha512_final(&st, digest);
        assert_memory_equal(tags_a + 16 * i, digest, 16);
        for (j = 0; j < N_INDICATORS; j++) {
            if (memcmp(tags_a + 16 * i, tags_b + 16 * j, 16) == 0) {
                assert_int_equal(i, j + 60);
                common++;
            }
        }
    }
    assert_int_equal(common, 40);

    assert_int_equal(psi_tag_batch(k2, N_INDICATORS, a1, other_context, sizeof other_context - 1,
                                   tags_other, NULL, 0),
                     PSI_OK);
    for (i = 0; i < N_INDICATORS; i++) {
        assert_memory_not_equal(tags_a + 16 * i, tags_other + 16 * i, 16);
    }
    /* an empty context is allowed, and differs too */
    assert_int_equal(psi_tag_batch(k2, N_INDICATORS, a1, NULL, 0, tags_other, NULL, 0), PSI_OK);
    assert_memory_not_equal(tags_a, tags_other, 16);
}

/* Points from outside: the lowest bad index is reported with its reason,
 * whatever the thread count, and the output is zeroed. */
static void test_bad_points_refused(void **state)
{
    static const unsigned threads[] = {1, 2, 4, 0};
    struct indicators set;
    unsigned char key[32], points[N_INDICATORS * 32], out[N_INDICATORS * 32];
    unsigned char tags[N_INDICATORS * 16], zeros[N_INDICATORS * 32] = {0};
    size_t t;

    (void)state;
    make_indicators(&set, 0);
    make_key(key, "2026-W48", 3);
    for (t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        size_t bad = 999;

        assert_int_equal(psi_blind_batch(key, N_INDICATORS, set.inputs, set.lens, points, 1),
                         PSI_OK);
        memset(points + (size_t)32 * 90, 0, 32);    /* identity at 90 */
        memset(points + (size_t)32 * 61, 0xff, 32); /* no encoding at 61 */
        memset(out, 0x55, sizeof out);
        assert_int_equal(psi_reblind_batch(key, N_INDICATORS, points, out, &bad, threads[t]),
                         PSI_ERR_ENCODING);
        assert_int_equal(bad, 61);
        assert_memory_equal(out, zeros, sizeof out);
        bad = 999;
        assert_int_equal(psi_tag_batch(key, N_INDICATORS, points, NULL, 0, tags, &bad, threads[t]),
                         PSI_ERR_ENCODING);
        assert_int_equal(bad, 61);
        assert_memory_equal(tags, zeros, sizeof tags);

        /* with 61 repaired, the identity at 90 is next */
        assert_int_equal(
            psi_blind_batch(key, 1, set.inputs + 61, set.lens + 61, points + (size_t)32 * 61, 1),
            PSI_OK);
        bad = 999;
        assert_int_equal(psi_reblind_batch(key, N_INDICATORS, points, out, &bad, threads[t]),
                         PSI_ERR_IDENTITY);
        assert_int_equal(bad, 90);
        bad = 999;
        assert_int_equal(psi_tag_batch(key, N_INDICATORS, points, NULL, 0, tags, &bad, threads[t]),
                         PSI_ERR_IDENTITY);
        assert_int_equal(bad, 90);
        /* a non-canonical field encoding (A.2, first) at index 0 */
        assert_int_equal(
            unhex(points, 32, "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
            32);
        assert_int_equal(psi_reblind_batch(key, N_INDICATORS, points, out, &bad, threads[t]),
                         PSI_ERR_ENCODING);
        assert_int_equal(bad, 0);
        /* bad_index may be NULL */
        assert_int_equal(psi_reblind_batch(key, N_INDICATORS, points, out, NULL, threads[t]),
                         PSI_ERR_ENCODING);
    }
}

/* Identical results with 1 thread and with many. */
static void test_thread_count_independent(void **state)
{
    static const unsigned threads[] = {2, 3, 7, 64, 0};
    struct indicators set;
    unsigned char key[32], key2[32];
    unsigned char base_blind[N_INDICATORS * 32], base_reblind[N_INDICATORS * 32];
    unsigned char base_tags[N_INDICATORS * 16];
    unsigned char blind_out[N_INDICATORS * 32], reblind_out[N_INDICATORS * 32];
    unsigned char tags[N_INDICATORS * 16];
    size_t t;

    (void)state;
    make_indicators(&set, 1000);
    make_key(key, "2026-W50", 4);
    make_key(key2, "2026-W50", 5);
    assert_int_equal(psi_blind_batch(key, N_INDICATORS, set.inputs, set.lens, base_blind, 1),
                     PSI_OK);
    assert_int_equal(psi_reblind_batch(key2, N_INDICATORS, base_blind, base_reblind, NULL, 1),
                     PSI_OK);
    assert_int_equal(psi_tag_batch(key2, N_INDICATORS, base_blind, (const unsigned char *)"c", 1,
                                   base_tags, NULL, 1),
                     PSI_OK);
    for (t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        assert_int_equal(
            psi_blind_batch(key, N_INDICATORS, set.inputs, set.lens, blind_out, threads[t]),
            PSI_OK);
        assert_memory_equal(blind_out, base_blind, sizeof blind_out);
        assert_int_equal(
            psi_reblind_batch(key2, N_INDICATORS, base_blind, reblind_out, NULL, threads[t]),
            PSI_OK);
        assert_memory_equal(reblind_out, base_reblind, sizeof reblind_out);
        assert_int_equal(psi_tag_batch(key2, N_INDICATORS, base_blind, (const unsigned char *)"c",
                                       1, tags, NULL, threads[t]),
                         PSI_OK);
        assert_memory_equal(tags, base_tags, sizeof tags);
    }
    /* in place gives the same as out of place */
    memcpy(reblind_out, base_blind, sizeof reblind_out);
    assert_int_equal(psi_reblind_batch(key2, N_INDICATORS, reblind_out, reblind_out, NULL, 0),
                     PSI_OK);
    assert_memory_equal(reblind_out, base_reblind, sizeof reblind_out);
}

static void test_empty_batches(void **state)
{
    unsigned char key[32];
    size_t bad = 7;

    (void)state;
    make_key(key, "2026-W48", 6);
    assert_int_equal(psi_blind_batch(key, 0, NULL, NULL, NULL, 0), PSI_OK);
    assert_int_equal(psi_reblind_batch(key, 0, NULL, NULL, &bad, 0), PSI_OK);
    assert_int_equal(psi_tag_batch(key, 0, NULL, NULL, 0, NULL, &bad, 0), PSI_OK);
    assert_int_equal(bad, 7);
}

/* Keys must be canonical and non-zero everywhere. */
static void test_key_checks(void **state)
{
    struct indicators set;
    unsigned char keys[3][32], points[32], out[32], tags[16];
    size_t k;

    (void)state;
    make_indicators(&set, 0);
    memset(keys[0], 0, 32);
    UNHEX_EXACT(keys[1], 32, group_order_hex);
    memset(keys[2], 0, 32);
    keys[2][0] = 1;
    keys[2][31] = 0x80; /* 1 + 2^255: libsodium alone would take it as 1 */
    make_key(out, "2026-W48", 1);
    assert_int_equal(psi_blind_batch(out, 1, set.inputs, set.lens, points, 1), PSI_OK);
    for (k = 0; k < 3; k++) {
        int want = k == 0 ? PSI_ERR_INVALID : PSI_ERR_ENCODING;

        assert_int_equal(psi_blind_batch(keys[k], 1, set.inputs, set.lens, out, 1), want);
        assert_int_equal(psi_reblind_batch(keys[k], 1, points, out, NULL, 1), want);
        assert_int_equal(psi_tag_batch(keys[k], 1, points, NULL, 0, tags, NULL, 1), want);
        assert_int_equal(psi_unblind(keys[k], points, out), want);
    }
    assert_int_equal(psi_blind_batch(NULL, 1, set.inputs, set.lens, out, 1), PSI_ERR_INVALID);
    assert_int_equal(psi_reblind_batch(NULL, 1, points, out, NULL, 1), PSI_ERR_INVALID);
    assert_int_equal(psi_tag_batch(NULL, 1, points, NULL, 0, tags, NULL, 1), PSI_ERR_INVALID);
    assert_int_equal(psi_unblind(NULL, points, out), PSI_ERR_INVALID);
}

static void test_argument_checks(void **state)
{
    struct indicators set;
    unsigned char key[32], points[64], out[64], tags[32];
    const unsigned char *inputs[2];
    size_t lens[2];
    unsigned char *big = calloc(PSI_MUTUAL_MAX_CONTEXT_BYTES + 1, 1);

    (void)state;
    assert_non_null(big);
    make_indicators(&set, 0);
    make_key(key, "2026-W48", 1);
    assert_int_equal(psi_blind_batch(key, 2, set.inputs, set.lens, points, 1), PSI_OK);

    /* blind_batch */
    assert_int_equal(psi_blind_batch(key, 2, NULL, set.lens, out, 1), PSI_ERR_INVALID);
    assert_int_equal(psi_blind_batch(key, 2, set.inputs, NULL, out, 1), PSI_ERR_INVALID);
    assert_int_equal(psi_blind_batch(key, 2, set.inputs, set.lens, NULL, 1), PSI_ERR_INVALID);
    inputs[0] = set.inputs[0];
    inputs[1] = NULL;
    lens[0] = set.lens[0];
    lens[1] = 1;
    assert_int_equal(psi_blind_batch(key, 2, inputs, lens, out, 1), PSI_ERR_INVALID);
    lens[1] = 0; /* an empty indicator given as NULL is fine */
    assert_int_equal(psi_blind_batch(key, 2, inputs, lens, out, 1), PSI_OK);
    inputs[1] = big;
    lens[1] = PSI_MUTUAL_MAX_INPUT_BYTES + 1;
    assert_int_equal(psi_blind_batch(key, 2, inputs, lens, out, 1), PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_blind_batch(key, SIZE_MAX / 16, set.inputs, set.lens, out, 1),
                     PSI_ERR_TOO_LARGE);

    /* reblind_batch */
    assert_int_equal(psi_reblind_batch(key, 2, NULL, out, NULL, 1), PSI_ERR_INVALID);
    assert_int_equal(psi_reblind_batch(key, 2, points, NULL, NULL, 1), PSI_ERR_INVALID);
    assert_int_equal(psi_reblind_batch(key, 2, points, points + 32, NULL, 1), PSI_ERR_INVALID);
    memcpy(out, points, 64);
    assert_int_equal(psi_reblind_batch(key, 2, out + 32, out, NULL, 1), PSI_ERR_INVALID);
    assert_int_equal(psi_reblind_batch(key, SIZE_MAX / 16, points, out, NULL, 1),
                     PSI_ERR_TOO_LARGE);

    /* tag_batch */
    assert_int_equal(psi_tag_batch(key, 2, NULL, NULL, 0, tags, NULL, 1), PSI_ERR_INVALID);
    assert_int_equal(psi_tag_batch(key, 2, points, NULL, 0, NULL, NULL, 1), PSI_ERR_INVALID);
    assert_int_equal(psi_tag_batch(key, 2, points, NULL, 3, tags, NULL, 1), PSI_ERR_INVALID);
    assert_int_equal(
        psi_tag_batch(key, 2, points, big, PSI_MUTUAL_MAX_CONTEXT_BYTES + 1, tags, NULL, 1),
        PSI_ERR_TOO_LARGE);
    assert_int_equal(
        psi_tag_batch(key, 2, points, big, PSI_MUTUAL_MAX_CONTEXT_BYTES, tags, NULL, 1), PSI_OK);

    /* unblind */
    memset(out, 0, 32);
    assert_int_equal(psi_unblind(key, out, tags),
                     suite_is_x25519() ? PSI_ERR_UNSUPPORTED : PSI_ERR_IDENTITY);
    memset(out, 0xff, 32);
    assert_int_equal(psi_unblind(key, out, tags),
                     suite_is_x25519() ? PSI_ERR_UNSUPPORTED : PSI_ERR_ENCODING);
    assert_int_equal(psi_unblind(key, NULL, tags), PSI_ERR_INVALID);
    assert_int_equal(psi_unblind(key, points, NULL), PSI_ERR_INVALID);
    free(big);
}

/* The project's own vectors of the X25519 suite (computed by this
 * implementation when the suite was made, pinned so that it cannot drift:
 * its parts are pinned on their own by RFC 9380's vectors
 * (curve25519_test.c) and RFC 7748's X25519 in libsodium). Seeds 32 x 0x01
 * and 32 x 0x02, epoch "2026-W48". */
static void test_project_vectors(void **state)
{
    static const char *const inputs_text[2] = {"ipv4:203.0.113.7", "domain:example.org"};
    static const char *const hashed_hex[2] = {
        "e4ad4926cd85900e2eef44279a9b5586874a1ffb80ce57c5ea9615e3849f785f",
        "1e74f8b5823dcfdd129d16ef8df94c8f735934727ca5e60c434b87a5227cfa1f",
    };
    static const char *const blinded_hex[2] = {
        "afb67478294e0a14ddd0e1b03ffa57c4efe1cf38d5854aa42a6bbe9f7a6e1d49",
        "9626495e0645c70ca9de299e417fc34d8552d992ca3bb6a128eade1fa6382241",
    };
    static const char *const cross_hex[2] = {
        "0bf9cbd6859ab754642c5ce02ac221a1a9c38c72fd012d907957bf416c9c6d1b",
        "51edfe2f9967515e38d91be85e4b709b4fc1a4c3248b29b5a3a0d50fed8f0409",
    };
    static const char *const tag_hex[2] = {
        "c940ca09119df91b44a1b78934c5e2c6",
        "754e635f33bfdf2517a64c48bb75ac2e",
    };
    static const unsigned char context[] = "\x08"
                                           "2026-W48"
                                           "\x08"
                                           "agency-a"
                                           "\x08"
                                           "agency-b";
    const unsigned char *inputs[2];
    size_t lens[2];
    unsigned char k1[32], k2[32], want[32], hashed[32], blinded[64], cross[64], tags[32];

    (void)state;
    if (!suite_is_x25519()) {
        skip(); /* the vectors are the X25519 suite's */
    }
    make_key(k1, "2026-W48", 1);
    make_key(k2, "2026-W48", 2);
    UNHEX_EXACT(want, 32, "700093857c940f84094e70b6e01a69a26bef911a47a75b8e7027c999d70fa502");
    assert_memory_equal(k1, want, 32);
    UNHEX_EXACT(want, 32, "2df35d849ff2849b74483fbce3209336e8039eef248d10af8d08a1631ef71406");
    assert_memory_equal(k2, want, 32);
    for (size_t i = 0; i < 2; i++) {
        inputs[i] = (const unsigned char *)inputs_text[i];
        lens[i] = strlen(inputs_text[i]);
        assert_int_equal(psi_mutual_hash_to_group(inputs[i], lens[i], hashed), PSI_OK);
        UNHEX_EXACT(want, 32, hashed_hex[i]);
        assert_memory_equal(hashed, want, 32);
    }
    assert_int_equal(psi_blind_batch(k1, 2, inputs, lens, blinded, 1), PSI_OK);
    assert_int_equal(psi_reblind_batch(k2, 2, blinded, cross, NULL, 1), PSI_OK);
    assert_int_equal(psi_tag_batch(k2, 2, blinded, context, sizeof context - 1, tags, NULL, 1),
                     PSI_OK);
    for (size_t i = 0; i < 2; i++) {
        UNHEX_EXACT(want, 32, blinded_hex[i]);
        assert_memory_equal(blinded + 32 * i, want, 32);
        UNHEX_EXACT(want, 32, cross_hex[i]);
        assert_memory_equal(cross + 32 * i, want, 32);
        UNHEX_EXACT(want, 16, tag_hex[i]);
        assert_memory_equal(tags + 16 * i, want, 16);
    }
}

/* Three parties with random keys and random indicators, some shared by all,
 * some by two: whichever order the keys are applied in, the doubly and
 * triply blinded elements agree exactly on the shared indicators. */
static void test_random_commutativity(void **state)
{
    enum { N = 64, SHARED = 20 };
    unsigned char raw[3][N][24];
    const unsigned char *inputs[3][N];
    size_t lens[3][N];
    unsigned char keys[3][32], seed[32];
    unsigned char blinded[3][N * 32], ab[N * 32], ba[N * 32], abc[N * 32], bac[N * 32];
    unsigned char cba[N * 32];

    (void)state;
    for (int round = 0; round < 4; round++) {
        for (size_t p = 0; p < 3; p++) {
            randombytes_buf(seed, sizeof seed);
            assert_int_equal(psi_mutual_derive_key(seed, "2026-W48", keys[p]), PSI_OK);
            for (size_t i = 0; i < N; i++) {
                if (i < SHARED && p > 0) {
                    memcpy(raw[p][i], raw[0][i], sizeof raw[p][i]);
                } else {
                    /* random, but never equal across parties: byte 1
                     * names the party and every input keeps it (a
                     * one-byte input collided with another party's
                     * about once in 30 runs) */
                    randombytes_buf(raw[p][i], sizeof raw[p][i]);
                    raw[p][i][1] = (unsigned char)p;
                }
                inputs[p][i] = raw[p][i];
                lens[p][i] = 2 + (size_t)raw[p][i][0] % (sizeof raw[p][i] - 1);
            }
            assert_int_equal(psi_blind_batch(keys[p], N, inputs[p], lens[p], blinded[p], 0),
                             PSI_OK);
        }
        /* a then b, b then a */
        assert_int_equal(psi_reblind_batch(keys[1], N, blinded[0], ab, NULL, 0), PSI_OK);
        assert_int_equal(psi_reblind_batch(keys[0], N, blinded[1], ba, NULL, 0), PSI_OK);
        assert_memory_equal(ab, ba, (size_t)SHARED * 32);
        for (size_t i = SHARED; i < N; i++) {
            assert_memory_not_equal(ab + 32 * i, ba + 32 * i, 32);
        }
        /* all three keys, in three orders */
        assert_int_equal(psi_reblind_batch(keys[2], N, ab, abc, NULL, 0), PSI_OK);
        assert_int_equal(psi_reblind_batch(keys[2], N, ba, bac, NULL, 0), PSI_OK);
        assert_int_equal(psi_reblind_batch(keys[1], N, blinded[2], cba, NULL, 0), PSI_OK);
        assert_int_equal(psi_reblind_batch(keys[0], N, cba, cba, NULL, 0), PSI_OK);
        assert_memory_equal(abc, bac, (size_t)SHARED * 32);
        assert_memory_equal(abc, cba, (size_t)SHARED * 32);
    }
}

/* X25519: every small-order u and every non-canonical encoding is refused
 * at its index, before any multiplication could leak or mislead. */
static void test_x25519_bad_u_refused(void **state)
{
    static const char *const non_canonical[] = {
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p */
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1 */
        "0900000000000000000000000000000000000000000000000000000000000080", /* 9, top bit */
    };
    struct indicators set;
    unsigned char key[32], points[N_INDICATORS * 32], out[N_INDICATORS * 32];
    unsigned char tags[N_INDICATORS * 16];
    size_t bad;

    (void)state;
    if (!suite_is_x25519()) {
        skip(); /* ristretto255's refusals are test_bad_points_refused's */
    }
    make_indicators(&set, 0);
    make_key(key, "2026-W48", 3);
    assert_int_equal(psi_blind_batch(key, N_INDICATORS, set.inputs, set.lens, points, 0), PSI_OK);
    for (size_t i = 0; i < X25519_SMALL_ORDER_COUNT; i++) {
        unsigned char saved[32];

        memcpy(saved, points + 32 * (40 + i), 32);
        UNHEX_EXACT(points + 32 * (40 + i), 32, x25519_small_order_hex[i]);
        bad = 999;
        assert_int_equal(psi_reblind_batch(key, N_INDICATORS, points, out, &bad, 0),
                         PSI_ERR_IDENTITY);
        assert_int_equal(bad, 40 + i);
        bad = 999;
        assert_int_equal(psi_tag_batch(key, N_INDICATORS, points, NULL, 0, tags, &bad, 0),
                         PSI_ERR_IDENTITY);
        assert_int_equal(bad, 40 + i);
        memcpy(points + 32 * (40 + i), saved, 32);
    }
    for (size_t i = 0; i < sizeof non_canonical / sizeof non_canonical[0]; i++) {
        unsigned char saved[32];

        memcpy(saved, points + 32 * (70 + i), 32);
        UNHEX_EXACT(points + 32 * (70 + i), 32, non_canonical[i]);
        bad = 999;
        assert_int_equal(psi_reblind_batch(key, N_INDICATORS, points, out, &bad, 0),
                         PSI_ERR_ENCODING);
        assert_int_equal(bad, 70 + i);
        bad = 999;
        assert_int_equal(psi_tag_batch(key, N_INDICATORS, points, NULL, 0, tags, &bad, 0),
                         PSI_ERR_ENCODING);
        assert_int_equal(bad, 70 + i);
        memcpy(points + 32 * (70 + i), saved, 32);
    }
    /* A u on the twist (2 is not the u of a curve point) is an element to
     * X25519 and is multiplied: it gives a submitter nothing (docs). */
    memset(points, 0, 32);
    points[0] = 2;
    assert_int_equal(psi_reblind_batch(key, 1, points, out, NULL, 0), PSI_OK);
    assert_int_equal(psi_mutual_suite_name(PSI_MUTUAL_SUITE_X25519)[0], 'X');
    assert_string_equal(psi_mutual_suite_name(PSI_MUTUAL_SUITE_RISTRETTO255), "ristretto255");
    assert_string_equal(psi_mutual_suite_name(0), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive_key),
        cmocka_unit_test(test_hash_to_group),
        cmocka_unit_test(test_blind_and_unblind),
        cmocka_unit_test(test_commutative_tags),
        cmocka_unit_test(test_bad_points_refused),
        cmocka_unit_test(test_thread_count_independent),
        cmocka_unit_test(test_empty_batches),
        cmocka_unit_test(test_key_checks),
        cmocka_unit_test(test_argument_checks),
        cmocka_unit_test(test_project_vectors),
        cmocka_unit_test(test_random_commutativity),
        cmocka_unit_test(test_x25519_bad_u_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
