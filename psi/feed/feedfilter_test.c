/* The feed filter: round trips through bytes and files, no false negatives,
 * a false-positive count that agrees with the stated rate, the byte layout of
 * docs/feeds.md, and a refusal with its own message for every corruption,
 * truncation, parameter mismatch and foreign epoch, vendor or key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "psi/error.h"
#include "psi/feedfilter.h"
#include "scratch.h"

#define EPOCH "2026-W48"
#define VENDOR "vendor-a"
/* Offsets in a filter of EPOCH and VENDOR (8 bytes each), docs/feeds.md. */
#define OFF_VERSION 8U
#define OFF_FLAGS 10U
#define OFF_EPOCH_LEN 12U
#define OFF_VENDOR_LEN 21U
#define OFF_KEY 30U
#define OFF_RATE 62U
#define OFF_COUNT 70U
#define OFF_SHARDS 78U
#define OFF_TABLE 82U

struct fixture {
    unsigned char key[32];
    unsigned char other_key[32];
    char dir[256];
};

static unsigned char *make_outputs(size_t count, unsigned char tag)
{
    unsigned char seed[randombytes_SEEDBYTES];
    unsigned char *out = malloc(count * PSI_FEED_FILTER_ITEM_BYTES);

    assert_non_null(out);
    memset(seed, tag, sizeof seed);
    randombytes_buf_deterministic(out, count * PSI_FEED_FILTER_ITEM_BYTES, seed);
    return out;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);

    if (fx == NULL || sodium_init() < 0) {
        free(fx);
        return -1;
    }
    crypto_core_ristretto255_random(fx->key);
    crypto_core_ristretto255_random(fx->other_key);
    if (test_scratch_dir(fx->dir, sizeof fx->dir, "feedfilter") != 0) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    (void)test_remove_tree(fx->dir);
    free(fx);
    return 0;
}

static struct psi_feed_filter *build(const struct fixture *fx, const unsigned char *outputs,
                                     size_t count, double rate, uint32_t target)
{
    struct psi_feed_filter_params p = {EPOCH, VENDOR, fx->key, rate, target};
    struct psi_feed_filter *f = NULL;
    char err[256];

    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, count, err, sizeof err), PSI_OK);
    assert_non_null(f);
    return f;
}

static unsigned char *encode(const struct psi_feed_filter *f, size_t *len)
{
    uint64_t size;
    unsigned char *bytes;

    assert_int_equal(psi_feed_filter_encoded_size(f, &size), PSI_OK);
    bytes = malloc((size_t)size);
    assert_non_null(bytes);
    assert_int_equal(psi_feed_filter_encode(f, bytes, (size_t)size, len), PSI_OK);
    assert_int_equal(*len, (size_t)size);
    return bytes;
}

static int decode(const struct fixture *fx, const unsigned char *bytes, size_t len, char *err,
                  size_t errlen)
{
    struct psi_feed_filter_expect expect = {EPOCH, VENDOR, fx->key};
    struct psi_feed_filter *f = (struct psi_feed_filter *)&expect; /* must be reset */
    int rc = psi_feed_filter_decode(&f, bytes, len, &expect, err, errlen);

    if (rc == PSI_OK) {
        assert_non_null(f);
        psi_feed_filter_free(f);
    } else {
        assert_null(f);
    }
    return rc;
}

static void redigest(unsigned char *bytes, size_t len)
{
    crypto_hash_sha256(bytes + len - 32, bytes, (unsigned long long)(len - 32));
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void assert_all_members(const struct psi_feed_filter *f, const unsigned char *outputs,
                               size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        if (psi_feed_filter_contains(f, outputs + i * PSI_FEED_FILTER_ITEM_BYTES) != 1) {
            fail_msg("false negative for item %zu of %zu", i, count);
        }
    }
}

/* 200,000 items at the default 1e-9: every one found, before and after a
 * round trip through bytes and through a file; the round trip is byte-exact
 * and keeps the header. 43.13 bits per item: 1.4427 * log2(1e9) = 43.13. */
static void test_round_trip_no_false_negatives(void **state)
{
    const struct fixture *fx = *state;
    const size_t count = 200000;
    unsigned char *outputs = make_outputs(count, 1);
    struct psi_feed_filter *f = build(fx, outputs, count, 0, 0);
    struct psi_feed_filter *g = NULL;
    struct psi_feed_filter *h = NULL;
    struct psi_feed_filter_expect expect = {EPOCH, VENDOR, fx->key};
    struct psi_feed_filter_info a, b, c;
    unsigned char *bytes, *again;
    size_t len, len2;
    char path[320];
    char err[256];
    double bits_per_item;

    assert_all_members(f, outputs, count);
    assert_int_equal(psi_feed_filter_get_info(f, &a), PSI_OK);
    assert_string_equal(a.epoch, EPOCH);
    assert_string_equal(a.vendor, VENDOR);
    assert_memory_equal(a.vendor_key, fx->key, 32);
    assert_true(a.rate == PSI_FEED_FILTER_DEFAULT_RATE);
    assert_int_equal(a.item_count, count);
    assert_int_equal(a.shard_count, 1);
    assert_int_equal(a.max_probes, 30);
    bits_per_item = (double)a.total_bits / (double)count;
    assert_true(bits_per_item > 43.0 && bits_per_item < 43.3);
    /* libbloom rounds k up (15 instead of 14.95 per half): a hair above. */
    assert_true(a.formula_rate >= 1e-9 && a.formula_rate < 1.01e-9);

    bytes = encode(f, &len);
    assert_int_equal(len, a.encoded_bytes);
    assert_memory_equal(bytes + len - 32, a.digest, 32);
    assert_int_equal(psi_feed_filter_decode(&g, bytes, len, &expect, err, sizeof err), PSI_OK);
    assert_all_members(g, outputs, count);
    assert_int_equal(psi_feed_filter_get_info(g, &b), PSI_OK);
    assert_memory_equal(&a, &b, sizeof a);
    again = encode(g, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(again, bytes, len);

    snprintf(path, sizeof path, "%s/feed.bin", fx->dir);
    assert_int_equal(psi_feed_filter_save(f, path, err, sizeof err), PSI_OK);
    assert_int_equal(psi_feed_filter_load(&h, path, &expect, err, sizeof err), PSI_OK);
    assert_int_equal(psi_feed_filter_get_info(h, &c), PSI_OK);
    assert_memory_equal(&a, &c, sizeof a);
    assert_all_members(h, outputs, count);

    psi_feed_filter_free(f);
    psi_feed_filter_free(g);
    psi_feed_filter_free(h);
    free(bytes);
    free(again);
    free(outputs);
}

/* Many shards: the prefix routes every output to the shard that holds it,
 * through a round trip too. 200,000 items at 1e-9 aiming at 2^20-bit shards:
 * 8.6 Mbit / 2^20 = 8.2, so 16 shards. */
static void test_sharded_round_trip(void **state)
{
    const struct fixture *fx = *state;
    const size_t count = 200000;
    unsigned char *outputs = make_outputs(count, 2);
    struct psi_feed_filter *f = build(fx, outputs, count, 1e-9, 1U << 20);
    struct psi_feed_filter *g = NULL;
    struct psi_feed_filter_expect expect = {EPOCH, VENDOR, fx->key};
    struct psi_feed_filter_info a;
    unsigned char *bytes;
    size_t len;
    size_t s;
    uint64_t held = 0;
    char err[256];

    assert_int_equal(psi_feed_filter_get_info(f, &a), PSI_OK);
    assert_int_equal(a.shard_count, 16);
    bytes = encode(f, &len);
    assert_int_equal(get_be32(bytes + OFF_SHARDS), 16);
    for (s = 0; s < 16; s++) {
        uint32_t entries = get_be32(bytes + OFF_TABLE + 12 * s);
        uint32_t bits = get_be32(bytes + OFF_TABLE + 12 * s + 4);
        assert_int_equal(get_be32(bytes + OFF_TABLE + 12 * s + 8), 15);
        assert_true(bits <= (1U << 20) + (1U << 17)); /* the spread is about 1% */
        held += entries / 2;
    }
    assert_int_equal(held, count); /* every shard sized for exactly its items */
    assert_int_equal(psi_feed_filter_decode(&g, bytes, len, &expect, err, sizeof err), PSI_OK);
    assert_all_members(f, outputs, count);
    assert_all_members(g, outputs, count);
    psi_feed_filter_free(f);
    psi_feed_filter_free(g);
    free(bytes);
    free(outputs);
}

/*
 * The false-positive count over 1,000,000 non-members of a 100,000-item
 * filter stated at 1e-3 (32 shards, so routing is exercised too). Each query
 * is a positive with probability p, independently (the queries are fresh
 * random outputs and the filter is fixed), so the count X is binomial with
 * mean Q p and standard deviation sqrt(Q p (1 - p)) ~ sqrt(1000) = 31.6. The
 * p to compare with is the Bloom formula at libbloom's rounded parameters
 * (info.formula_rate), which must itself be within 1% of the stated rate.
 * Accepting |X - Q p| <= 6 sigma leaves a chance below 1e-8 of failing a
 * correct filter, while a filter twice as leaky (X ~ 2000) or half (X ~ 500)
 * is far outside (a filter checking one half only would give ~31,600). The
 * members must all be found.
 */
static void test_false_positive_rate(void **state)
{
    const struct fixture *fx = *state;
    const size_t count = 100000;
    const size_t queries = 1000000;
    unsigned char *outputs = make_outputs(count, 3);
    unsigned char *others = make_outputs(queries, 4);
    struct psi_feed_filter *f = build(fx, outputs, count, 1e-3, 1U << 16);
    struct psi_feed_filter_info info;
    double expected, variance, deviation;
    size_t positives = 0;
    size_t i;

    assert_int_equal(psi_feed_filter_get_info(f, &info), PSI_OK);
    assert_int_equal(info.shard_count, 32);
    assert_true(info.formula_rate > 1e-3 - 1e-5 && info.formula_rate < 1e-3 + 1e-5);
    for (i = 0; i < queries; i++) {
        int rc = psi_feed_filter_contains(f, others + i * PSI_FEED_FILTER_ITEM_BYTES);
        assert_true(rc == 0 || rc == 1);
        positives += (size_t)rc;
    }
    expected = (double)queries * info.formula_rate;
    variance = expected * (1.0 - info.formula_rate);
    deviation = (double)positives - expected;
    print_message("false positives: %zu of %zu (expected %.1f, variance %.1f)\n", positives,
                  queries, expected, variance);
    /* |X - Q p| <= 6 sigma, squared (the tests do not link libm) */
    assert_true(deviation * deviation <= 36.0 * variance);
    assert_all_members(f, outputs, count);
    psi_feed_filter_free(f);
    free(outputs);
    free(others);
}

/* The header is laid out byte for byte as docs/feeds.md says. */
static void test_byte_layout(void **state)
{
    const struct fixture *fx = *state;
    unsigned char *outputs = make_outputs(3, 5);
    struct psi_feed_filter *f = build(fx, outputs, 3, 1e-6, 0);
    unsigned char *bytes;
    unsigned char digest[32];
    uint64_t rate_bits = 0;
    double rate;
    size_t len;
    uint32_t bits;
    unsigned i;

    bytes = encode(f, &len);
    assert_memory_equal(bytes, "PSI-FEED", 8);
    assert_int_equal(bytes[OFF_VERSION], 0);
    assert_int_equal(bytes[OFF_VERSION + 1], 1);
    assert_int_equal(bytes[OFF_FLAGS], 0);
    assert_int_equal(bytes[OFF_FLAGS + 1], 0);
    assert_int_equal(bytes[OFF_EPOCH_LEN], 8);
    assert_memory_equal(bytes + OFF_EPOCH_LEN + 1, EPOCH, 8);
    assert_int_equal(bytes[OFF_VENDOR_LEN], 8);
    assert_memory_equal(bytes + OFF_VENDOR_LEN + 1, VENDOR, 8);
    assert_memory_equal(bytes + OFF_KEY, fx->key, 32);
    for (i = 0; i < 8; i++) {
        rate_bits = rate_bits << 8 | bytes[OFF_RATE + i];
    }
    memcpy(&rate, &rate_bits, sizeof rate);
    assert_true(rate == 1e-6);
    assert_int_equal(get_be32(bytes + OFF_COUNT), 0);
    assert_int_equal(get_be32(bytes + OFF_COUNT + 4), 3);
    assert_int_equal(get_be32(bytes + OFF_SHARDS), 1);
    /* Three outputs are below the floor: 64 / (10 * 1e-3) = 6400 bits,
     * 6400 / 14.38 bits per entry -> 446 entries -> libbloom's 1000. */
    assert_int_equal(get_be32(bytes + OFF_TABLE), 1000);
    bits = get_be32(bytes + OFF_TABLE + 4);
    assert_int_equal(bits, 14377);
    assert_int_equal(get_be32(bytes + OFF_TABLE + 8), 10);
    assert_int_equal(len, OFF_TABLE + 12 + (bits + 7) / 8 + 32);
    crypto_hash_sha256(digest, bytes, len - 32);
    assert_memory_equal(digest, bytes + len - 32, 32);
    psi_feed_filter_free(f);
    free(bytes);
    free(outputs);
}

/* Every single flipped byte is refused: in the header (each byte), in the
 * shards' bit arrays (a sample across all shards) and in the digest. */
static void test_every_flip_refused(void **state)
{
    const struct fixture *fx = *state;
    const size_t count = 20000;
    unsigned char *outputs = make_outputs(count, 6);
    struct psi_feed_filter *f = build(fx, outputs, count, 1e-3, 1U << 16);
    struct psi_feed_filter_info info;
    unsigned char *bytes;
    size_t len, i, header_len;
    char err[256];

    assert_int_equal(psi_feed_filter_get_info(f, &info), PSI_OK);
    assert_true(info.shard_count >= 4);
    bytes = encode(f, &len);
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_OK);
    header_len = OFF_TABLE + 12U * info.shard_count;
    for (i = 0; i < len; i += (i < header_len || i >= len - 32) ? 1U : 61U) {
        int rc;
        bytes[i] ^= 0x01;
        rc = decode(fx, bytes, len, err, sizeof err);
        bytes[i] ^= 0x01;
        if (rc == PSI_OK) {
            fail_msg("a flip of byte %zu of %zu was accepted", i, len);
        }
        if (i >= header_len) {
            /* bit arrays and digest: only the digest can tell */
            assert_int_equal(rc, PSI_ERR_VERIFY);
            assert_non_null(strstr(err, "corrupted"));
        }
    }
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_OK);
    psi_feed_filter_free(f);
    free(bytes);
    free(outputs);
}

/* Specific header corruptions get their own message. */
static void test_header_corruptions(void **state)
{
    const struct fixture *fx = *state;
    unsigned char *outputs = make_outputs(5000, 7);
    struct psi_feed_filter *f = build(fx, outputs, 5000, 1e-3, 0);
    unsigned char *bytes;
    size_t len;
    char err[256];

    bytes = encode(f, &len);
    bytes[0] = 'X';
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "not a psi feed filter"));
    bytes[0] = 'P';
    bytes[OFF_VERSION + 1] = 2;
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "version 2"));
    bytes[OFF_VERSION + 1] = 1;
    bytes[OFF_FLAGS + 1] = 4;
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "flags"));
    bytes[OFF_FLAGS + 1] = 0;
    bytes[OFF_EPOCH_LEN] = 0;
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "epoch length 0"));
    bytes[OFF_EPOCH_LEN] = 8;
    bytes[OFF_SHARDS + 3] = 3;
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "power of two"));
    bytes[OFF_SHARDS + 3] = 1;
    put_be32(bytes + OFF_TABLE, 999); /* entries below libbloom's 1000 */
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "outside libbloom's ranges"));
    psi_feed_filter_free(f);
    free(bytes);
    free(outputs);
}

/* Cut anywhere, or with a byte too many: refused as truncated or trailing. */
static void test_truncated_refused(void **state)
{
    const struct fixture *fx = *state;
    unsigned char *outputs = make_outputs(5000, 8);
    struct psi_feed_filter *f = build(fx, outputs, 5000, 1e-3, 0);
    unsigned char *bytes, *longer;
    size_t len, cut;
    char err[256];

    bytes = encode(f, &len);
    for (cut = 0; cut < len; cut += (cut < OFF_TABLE + 40U || cut > len - 40U) ? 1U : 97U) {
        int rc = decode(fx, bytes, cut, err, sizeof err);
        if (rc != PSI_ERR_PARSE || strstr(err, "truncated") == NULL) {
            fail_msg("cut at %zu of %zu: rc %d, \"%s\"", cut, len, rc, err);
        }
    }
    longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, bytes, len);
    longer[len] = 0;
    assert_int_equal(decode(fx, longer, len + 1, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "1 trailing bytes"));
    psi_feed_filter_free(f);
    free(bytes);
    free(longer);
    free(outputs);
}

/* A well-formed filter of another epoch, vendor or key is refused as such. */
static void test_foreign_filter_refused(void **state)
{
    const struct fixture *fx = *state;
    unsigned char *outputs = make_outputs(5000, 9);
    struct psi_feed_filter *f = build(fx, outputs, 5000, 1e-3, 0);
    struct psi_feed_filter *g = NULL;
    struct psi_feed_filter_expect other_epoch = {"2026-W49", VENDOR, fx->key};
    struct psi_feed_filter_expect other_vendor = {EPOCH, "vendor-b", fx->key};
    struct psi_feed_filter_expect other_key = {EPOCH, VENDOR, fx->other_key};
    unsigned char *bytes;
    size_t len;
    char err[256];

    bytes = encode(f, &len);
    assert_int_equal(psi_feed_filter_decode(&g, bytes, len, &other_epoch, err, sizeof err),
                     PSI_ERR_EPOCH);
    assert_null(g);
    assert_non_null(strstr(err, "epoch \"2026-W48\", expected \"2026-W49\""));
    assert_int_equal(psi_feed_filter_decode(&g, bytes, len, &other_vendor, err, sizeof err),
                     PSI_ERR_VERIFY);
    assert_non_null(strstr(err, "vendor \"vendor-a\", expected \"vendor-b\""));
    assert_int_equal(psi_feed_filter_decode(&g, bytes, len, &other_key, err, sizeof err),
                     PSI_ERR_VERIFY);
    assert_non_null(strstr(err, "vendor key"));
    assert_null(g);
    psi_feed_filter_free(f);
    free(bytes);
    free(outputs);
}

/* With a valid digest (a writer that is wrong, not a damaged file), the
 * parameters must still be the ones libbloom reproduces, the shards must hold
 * the items, padding must be clear, and header values must keep their
 * rules. */
static void test_parameter_mismatch_refused(void **state)
{
    const struct fixture *fx = *state;
    unsigned char *outputs = make_outputs(5001, 10);
    struct psi_feed_filter *f = build(fx, outputs, 5001, 1e-3, 0);
    unsigned char *bytes, *orig;
    size_t len;
    uint32_t entries, bits, hashes;
    char err[256];
    double rate;
    uint64_t rate_bits;
    unsigned i;

    orig = encode(f, &len);
    bytes = malloc(len);
    assert_non_null(bytes);
    entries = get_be32(orig + OFF_TABLE);
    bits = get_be32(orig + OFF_TABLE + 4);
    hashes = get_be32(orig + OFF_TABLE + 8);
    assert_int_equal(entries, 10002);
    assert_int_equal(hashes, 5);
    assert_true(bits % 8 != 0 && bits % 8 != 7); /* so bits + 1 keeps the length */

    memcpy(bytes, orig, len);
    put_be32(bytes + OFF_TABLE + 8, hashes + 1);
    redigest(bytes, len);
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "libbloom gives bits"));
    assert_non_null(strstr(err, "hashes 6"));

    memcpy(bytes, orig, len);
    put_be32(bytes + OFF_TABLE + 4, bits + 1);
    redigest(bytes, len);
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "give"));

    memcpy(bytes, orig, len);
    put_be32(bytes + OFF_TABLE, entries + 1);
    redigest(bytes, len);
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "10003 entries"));

    /* A rate whose sizes differ: 1e-4 for the same table. */
    memcpy(bytes, orig, len);
    rate = 1e-4;
    memcpy(&rate_bits, &rate, sizeof rate);
    for (i = 0; i < 8; i++) {
        bytes[OFF_RATE + i] = (unsigned char)(rate_bits >> (56 - 8 * i));
    }
    redigest(bytes, len);
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "libbloom"));

    /* A rate outside the range. */
    rate = 0.5;
    memcpy(&rate_bits, &rate, sizeof rate);
    for (i = 0; i < 8; i++) {
        bytes[OFF_RATE + i] = (unsigned char)(rate_bits >> (56 - 8 * i));
    }
    redigest(bytes, len);
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "rate 0.5 outside"));

    /* More items than the shards were sized for. */
    memcpy(bytes, orig, len);
    put_be32(bytes + OFF_COUNT + 4, 5002);
    redigest(bytes, len);
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "cannot hold the 5002 items"));

    /* Zero items. */
    memcpy(bytes, orig, len);
    put_be32(bytes + OFF_COUNT + 4, 0);
    redigest(bytes, len);
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "zero items"));

    /* A padding bit set after the last bit. */
    memcpy(bytes, orig, len);
    bytes[len - 33] |= 0x80;
    redigest(bytes, len);
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "padding"));

    /* An epoch with a byte outside its alphabet; a vendor id that is not one. */
    memcpy(bytes, orig, len);
    bytes[OFF_EPOCH_LEN + 1] = '/';
    redigest(bytes, len);
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "epoch label"));
    memcpy(bytes, orig, len);
    bytes[OFF_VENDOR_LEN + 1] = '-';
    redigest(bytes, len);
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "not a valid participant id"));

    /* A key that is not a point. */
    memcpy(bytes, orig, len);
    memset(bytes + OFF_KEY, 0xff, 32);
    redigest(bytes, len);
    assert_int_equal(decode(fx, bytes, len, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "not a valid ristretto255 point"));

    /* And the untouched original still decodes. */
    assert_int_equal(decode(fx, orig, len, err, sizeof err), PSI_OK);
    psi_feed_filter_free(f);
    free(bytes);
    free(orig);
    free(outputs);
}

static void test_build_checks(void **state)
{
    const struct fixture *fx = *state;
    unsigned char *outputs = make_outputs(10, 11);
    unsigned char zero[32] = {0};
    unsigned char bad[32];
    struct psi_feed_filter_params p = {EPOCH, VENDOR, fx->key, 0, 0};
    struct psi_feed_filter *f = NULL;
    char err[256];

    memset(bad, 0xff, sizeof bad);
    assert_int_equal(psi_feed_filter_build(NULL, &p, outputs, 10, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_feed_filter_build(&f, NULL, outputs, 10, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_feed_filter_build(&f, &p, NULL, 10, err, sizeof err), PSI_ERR_INVALID);
    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, 0, err, sizeof err), PSI_ERR_INVALID);
    assert_non_null(strstr(err, "at least one item"));
    p.epoch = "";
    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, 10, err, sizeof err), PSI_ERR_INVALID);
    p.epoch = "week 48";
    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, 10, err, sizeof err), PSI_ERR_INVALID);
    assert_non_null(strstr(err, "epoch"));
    p.epoch = EPOCH;
    p.vendor = "-vendor";
    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, 10, err, sizeof err), PSI_ERR_INVALID);
    assert_non_null(strstr(err, "vendor"));
    p.vendor = VENDOR;
    p.vendor_key = zero;
    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, 10, err, sizeof err), PSI_ERR_IDENTITY);
    p.vendor_key = bad;
    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, 10, err, sizeof err), PSI_ERR_ENCODING);
    p.vendor_key = fx->key;
    p.rate = 1e-13;
    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, 10, err, sizeof err), PSI_ERR_INVALID);
    assert_non_null(strstr(err, "rate"));
    p.rate = 0.2;
    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, 10, err, sizeof err), PSI_ERR_INVALID);
    p.rate = NAN;
    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, 10, err, sizeof err), PSI_ERR_INVALID);
    p.rate = 0;
    p.target_shard_bits = 1000;
    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, 10, err, sizeof err), PSI_ERR_INVALID);
    assert_non_null(strstr(err, "shard size target"));
    p.target_shard_bits = (1U << 30) + 1;
    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, 10, err, sizeof err), PSI_ERR_INVALID);
    assert_null(f);
    /* NULL err is allowed. */
    assert_int_equal(psi_feed_filter_build(&f, &p, outputs, 10, NULL, 0), PSI_ERR_INVALID);
    free(outputs);
}

static void test_use_checks(void **state)
{
    const struct fixture *fx = *state;
    unsigned char *outputs = make_outputs(10, 12);
    struct psi_feed_filter *f = build(fx, outputs, 10, 0, 0);
    struct psi_feed_filter *g = NULL;
    struct psi_feed_filter_expect expect = {EPOCH, VENDOR, fx->key};
    struct psi_feed_filter_expect partial = {EPOCH, NULL, fx->key};
    struct psi_feed_filter_info info;
    unsigned char small[16];
    uint64_t size;
    size_t len;
    char path[320];
    char err[256];

    assert_int_equal(psi_feed_filter_contains(NULL, outputs), PSI_ERR_INVALID);
    assert_int_equal(psi_feed_filter_contains(f, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_feed_filter_get_info(NULL, &info), PSI_ERR_INVALID);
    assert_int_equal(psi_feed_filter_get_info(f, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_feed_filter_encoded_size(NULL, &size), PSI_ERR_INVALID);
    assert_int_equal(psi_feed_filter_encode(f, small, sizeof small, &len), PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_feed_filter_encode(f, NULL, 0, &len), PSI_ERR_INVALID);
    assert_int_equal(psi_feed_filter_decode(NULL, small, sizeof small, &expect, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_feed_filter_decode(&g, NULL, 0, &expect, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_feed_filter_decode(&g, small, sizeof small, &partial, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_feed_filter_decode(&g, small, sizeof small, NULL, err, sizeof err),
                     PSI_ERR_INVALID);

    snprintf(path, sizeof path, "%s/missing.bin", fx->dir);
    assert_int_equal(psi_feed_filter_load(&g, path, &expect, err, sizeof err), PSI_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "missing.bin"));
    assert_int_equal(psi_feed_filter_load(&g, fx->dir, &expect, err, sizeof err), PSI_ERR_IO);
    assert_non_null(strstr(err, "not a regular file"));
    snprintf(path, sizeof path, "%s/no-such-dir/feed.bin", fx->dir);
    assert_int_equal(psi_feed_filter_save(f, path, err, sizeof err), PSI_ERR_IO);
    assert_non_null(strstr(err, "no-such-dir"));
    assert_int_equal(psi_feed_filter_save(NULL, path, err, sizeof err), PSI_ERR_INVALID);
    assert_null(g);
    /* A file cut short on disk is refused as truncated. */
    snprintf(path, sizeof path, "%s/feed.bin", fx->dir);
    assert_int_equal(psi_feed_filter_save(f, path, err, sizeof err), PSI_OK);
    assert_int_equal(truncate(path, 100), 0);
    assert_int_equal(psi_feed_filter_load(&g, path, &expect, err, sizeof err), PSI_ERR_PARSE);
    assert_non_null(strstr(err, "truncated"));
    assert_null(g);
    psi_feed_filter_free(NULL);
    psi_feed_filter_free(f);
    free(outputs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_no_false_negatives),
        cmocka_unit_test(test_sharded_round_trip),
        cmocka_unit_test(test_false_positive_rate),
        cmocka_unit_test(test_byte_layout),
        cmocka_unit_test(test_every_flip_refused),
        cmocka_unit_test(test_header_corruptions),
        cmocka_unit_test(test_truncated_refused),
        cmocka_unit_test(test_foreign_filter_refused),
        cmocka_unit_test(test_parameter_mismatch_refused),
        cmocka_unit_test(test_build_checks),
        cmocka_unit_test(test_use_checks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
