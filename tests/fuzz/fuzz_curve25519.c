/* Fuzz target: the X25519 suite's hash to Curve25519 and its check of
 * u-coordinates from outside (psi/curve25519.h).
 *   - Any message hashes (psi_curve25519_hash_to_curve never fails on a
 *     valid DST), deterministically, to a u that passes the check (or to 0,
 *     the identity, with negligible probability), and that X25519 with a
 *     fixed key does not send to the all-zero refusal.
 *   - The first 32 bytes as a u-coordinate: the check answers 0,
 *     PSI_ERR_ENCODING or PSI_ERR_IDENTITY; ENCODING exactly when the
 *     integer (little-endian) is 2^255 - 19 or more or the top bit is set,
 *     computed here independently; for a canonical u, IDENTITY exactly when
 *     libsodium's X25519 refuses it (an all-zero product: small order, on the
 *     curve or its twist).
 *   - Up to the first 8 x 32 bytes as points, any bytes at all (top bit,
 *     values of p and above): psi_x25519_many (eight lanes of AVX-512 IFMA
 *     where the CPU has them) gives byte for byte libsodium's
 *     crypto_scalarmult under a key taken from the input's end, and reports
 *     the first all-zero product.
 *   - The input and eight of its prefixes as indicators: psi_blind_batch
 *     (the batched hash and multiplication) gives what the one-by-one hash
 *     and crypto_scalarmult give. */
#include "fuzz.h"
#include "psi/blind.h"
#include "psi/curve25519.h"

static const unsigned char fuzz_dst[] = "psi-fuzz-HashToCurve-curve25519_XMD:SHA-512_ELL2_RO_";

/* 1 if u (little-endian, 32 bytes) is below p = 2^255 - 19 with bit 255
 * clear: compared as a 256-bit integer from the top byte down. */
static int below_p(const unsigned char u[32])
{
    static const unsigned char p_le[32] = {
        0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    };
    for (size_t i = 32; i-- > 0;) {
        if (u[i] != p_le[i])
            return u[i] < p_le[i];
    }
    return 0;
}

/* psi_x25519_many on the first n = min(8, size / 32) blocks of the input
 * under its last 32 bytes as the key, against libsodium point by point. */
static void check_many(const uint8_t *data, size_t size)
{
    unsigned char many[8 * 32], want[8 * 32], key[32];
    size_t n = size / 32, zero_at = 99, first_zero = 99;

    if (n > 8)
        n = 8;
    memcpy(key, data + size - 32, 32);
    for (size_t i = 0; i < n; i++) {
        if (crypto_scalarmult(want + 32 * i, key, data + 32 * i) != 0) {
            memset(want + 32 * i, 0, 32);
            if (first_zero == 99)
                first_zero = i;
        }
    }
    int rc = psi_x25519_many(many, key, data, n, &zero_at);
    FUZZ_CHECK(memcmp(many, want, n * 32) == 0, "psi_x25519_many agrees with libsodium");
    FUZZ_CHECK(first_zero == 99 ? rc == PSI_OK : rc == PSI_ERR_IDENTITY && zero_at == first_zero,
               "psi_x25519_many reports the first all-zero product");
}

/* psi_blind_batch of nine indicators, the input and its prefixes one to
 * eight bytes shorter (in the X25519 build: the hash of the batch, its
 * exponentiations eight at a time in lanes where the CPU has them, then
 * psi_x25519_many), against the one-by-one hash under the suite's DST and
 * libsodium's crypto_scalarmult. */
static void check_blind_batch(const uint8_t *data, size_t size)
{
    enum { N = 9 };
    static const unsigned char dst[] = PSI_MUTUAL_X25519_DST_HASH_TO_GROUP;
    static const unsigned char seed[32] = {0x5e, 0xed};
    const unsigned char *inputs[N];
    size_t lens[N];
    unsigned char batch[N * 32], key[32], u[32], want[32];

    if (psi_mutual_suite() != PSI_MUTUAL_SUITE_X25519 || size > PSI_MUTUAL_MAX_INPUT_BYTES ||
        psi_mutual_derive_key(seed, "2026-W48", key) != PSI_OK)
        return;
    for (size_t i = 0; i < N; i++) {
        inputs[i] = data;
        lens[i] = size > i ? size - i : 0;
    }
    int rc = psi_blind_batch(key, N, inputs, lens, batch, 1);
    FUZZ_CHECK(rc == PSI_OK, "every batch of indicators blinds");
    for (size_t i = 0; i < N; i++) {
        struct psi_xmd_part part = {inputs[i], lens[i]};
        FUZZ_CHECK(psi_curve25519_hash_to_curve(u, NULL, &part, 1, dst, sizeof dst - 1) == PSI_OK &&
                       crypto_scalarmult(want, key, u) == 0,
                   "the one-by-one hash and multiplication succeed");
        FUZZ_CHECK(memcmp(batch + 32 * i, want, 32) == 0,
                   "psi_blind_batch agrees with the one-by-one hash and crypto_scalarmult");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char key[32] = {0x11, 0x22, 0x33, 0x44, 0x55};
    unsigned char u[32], v[32], again[32], product[32];
    struct psi_xmd_part part = {data, size};

    if (sodium_init() < 0)
        return 0;
    FUZZ_CHECK(psi_curve25519_hash_to_curve(u, v, &part, 1, fuzz_dst, sizeof fuzz_dst - 1) ==
                   PSI_OK,
               "every message hashes to the curve");
    FUZZ_CHECK(psi_curve25519_hash_to_curve(again, NULL, &part, 1, fuzz_dst, sizeof fuzz_dst - 1) ==
                       PSI_OK &&
                   memcmp(u, again, 32) == 0,
               "the hash is deterministic, with or without v");
    if (!sodium_is_zero(u, 32)) {
        FUZZ_CHECK(psi_curve25519_check_u(u) == PSI_OK, "a hashed u is a valid element");
        FUZZ_CHECK(crypto_scalarmult(product, key, u) == 0,
                   "X25519 of a hashed u is never all-zero");
    }

    check_blind_batch(data, size);
    if (size >= 32) {
        int rc = psi_curve25519_check_u(data);

        check_many(data, size);
        FUZZ_CHECK(rc == PSI_OK || rc == PSI_ERR_ENCODING || rc == PSI_ERR_IDENTITY,
                   "the check answers as documented");
        FUZZ_CHECK((rc == PSI_ERR_ENCODING) == !below_p(data),
                   "non-canonical exactly when u >= 2^255 - 19 or the top bit is set");
        if (rc != PSI_ERR_ENCODING)
            FUZZ_CHECK((rc == PSI_ERR_IDENTITY) == (crypto_scalarmult(product, key, data) != 0),
                       "small order exactly when X25519 gives all zeros");
    }
    return 0;
}
