/* Protocol 2 end to end at the byte level: the vendor's evaluated feed, an
 * agency's blinded queries, the vendor's proven answer and the agency's
 * finished outputs agree and find exactly the members in the filter; an
 * answer under another key or with a changed element or proof is refused
 * and releases nothing; the signed statements are byte-exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "psi/error.h"
#include "psi/feed.h"
#include "psi/feedfilter.h"
#include "psi/oprf.h"

#define EPOCH "2026-W48"

struct items {
    size_t n;
    char (*text)[48];
    const unsigned char **inputs;
    size_t *lens;
};

static void items_make(struct items *it, size_t n, const char *prefix, size_t start)
{
    size_t i;

    it->n = n;
    it->text = calloc(n, sizeof *it->text);
    it->inputs = calloc(n, sizeof *it->inputs);
    it->lens = calloc(n, sizeof *it->lens);
    assert_non_null(it->text);
    assert_non_null(it->inputs);
    assert_non_null(it->lens);
    for (i = 0; i < n; i++) {
        int len =
            snprintf(it->text[i], sizeof it->text[i], "domain:%s-%zu.example", prefix, start + i);
        assert_true(len > 0);
        it->inputs[i] = (const unsigned char *)it->text[i];
        it->lens[i] = (size_t)len;
    }
}

static void items_free(struct items *it)
{
    free(it->text);
    free(it->inputs);
    free(it->lens);
}

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static void test_derive_key(void **state)
{
    unsigned char seed[32], sk[32], pk[32], sk2[32], pk2[32], g[32];

    (void)state;
    memset(seed, 7, sizeof seed);
    assert_int_equal(psi_feed_derive_key(seed, EPOCH, sk, pk), PSI_OK);
    assert_int_equal(psi_oprf_derive_keypair(PSI_OPRF_MODE_VOPRF, seed,
                                             (const unsigned char *)EPOCH, strlen(EPOCH), sk2, pk2),
                     PSI_OK);
    assert_memory_equal(sk, sk2, 32);
    assert_memory_equal(pk, pk2, 32);
    assert_int_equal(crypto_scalarmult_ristretto255_base(g, sk), 0);
    assert_memory_equal(g, pk, 32);
    /* Another epoch, another key. */
    assert_int_equal(psi_feed_derive_key(seed, "2026-W49", sk2, pk2), PSI_OK);
    assert_memory_not_equal(pk, pk2, 32);
    assert_int_equal(psi_feed_derive_key(seed, "", sk, pk), PSI_ERR_INVALID);
    assert_int_equal(psi_feed_derive_key(seed, "week 48", sk, pk), PSI_ERR_INVALID);
    assert_int_equal(psi_feed_derive_key(seed, NULL, sk, pk), PSI_ERR_INVALID);
    assert_int_equal(psi_feed_derive_key(NULL, EPOCH, sk, pk), PSI_ERR_INVALID);
}

/* The whole protocol: a 3000-item feed, a 1000-query batch of which every
 * third is a member; threads 1 and all give the same outputs. */
static void test_round_trip(void **state)
{
    unsigned char seed[32], sk[32], pk[32], proof[64];
    enum { FEED_ITEMS = 3000, QUERY_ITEMS = 1000 };
    struct items feed, query;
    unsigned char *outputs, *outputs1, *blinds, *blinded, *evaluated, *finals, *direct;
    struct psi_feed_filter_params params;
    struct psi_feed_filter *filter = NULL;
    size_t i, found = 0;
    char err[256];

    (void)state;
    randombytes_buf(seed, sizeof seed);
    assert_int_equal(psi_feed_derive_key(seed, EPOCH, sk, pk), PSI_OK);
    items_make(&feed, FEED_ITEMS, "feed", 0);
    items_make(&query, QUERY_ITEMS, "feed", 0);
    for (i = 0; i < query.n; i++) {
        if (i % 3 != 0) { /* not in the feed */
            int len = snprintf(query.text[i], sizeof query.text[i], "domain:other-%zu.example", i);
            query.lens[i] = (size_t)len;
        } else {
            int len = snprintf(query.text[i], sizeof query.text[i], "domain:feed-%zu.example", i);
            query.lens[i] = (size_t)len;
        }
    }
    outputs = malloc((size_t)FEED_ITEMS * 64);
    outputs1 = malloc((size_t)FEED_ITEMS * 64);
    blinds = malloc((size_t)QUERY_ITEMS * 32);
    blinded = malloc((size_t)QUERY_ITEMS * 32);
    evaluated = malloc((size_t)QUERY_ITEMS * 32);
    finals = malloc((size_t)QUERY_ITEMS * 64);
    direct = malloc(64);
    assert_true(outputs && outputs1 && blinds && blinded && evaluated && finals && direct);

    assert_int_equal(psi_feed_evaluate_batch(sk, feed.n, feed.inputs, feed.lens, outputs, NULL, 0),
                     PSI_OK);
    assert_int_equal(psi_feed_evaluate_batch(sk, feed.n, feed.inputs, feed.lens, outputs1, NULL, 1),
                     PSI_OK);
    assert_memory_equal(outputs, outputs1, feed.n * 64);
    assert_int_equal(
        psi_oprf_evaluate(PSI_OPRF_MODE_VOPRF, sk, feed.inputs[17], feed.lens[17], direct), PSI_OK);
    assert_memory_equal(direct, outputs + (size_t)17 * 64, 64);

    params.epoch = EPOCH;
    params.vendor = "vendor-a";
    params.vendor_key = pk;
    params.rate = 0;
    params.target_shard_bits = 0;
    assert_int_equal(psi_feed_filter_build(&filter, &params, outputs, feed.n, err, sizeof err),
                     PSI_OK);

    assert_int_equal(psi_feed_blind_batch(query.n, query.inputs, query.lens, blinds, blinded, 0),
                     PSI_OK);
    assert_int_equal(psi_feed_answer_batch(sk, pk, query.n, blinded, evaluated, proof, NULL, 0),
                     PSI_OK);
    assert_int_equal(psi_feed_finish_batch(pk, query.n, query.inputs, query.lens, blinds, blinded,
                                           evaluated, proof, finals, 0),
                     PSI_OK);
    for (i = 0; i < query.n; i++) {
        int member = psi_feed_filter_contains(filter, finals + i * 64);
        assert_int_equal(
            psi_oprf_evaluate(PSI_OPRF_MODE_VOPRF, sk, query.inputs[i], query.lens[i], direct),
            PSI_OK);
        assert_memory_equal(direct, finals + i * 64, 64);
        if (i % 3 == 0) {
            assert_int_equal(member, 1);
            found++;
        } else {
            assert_int_equal(member, 0); /* a false positive here has odds ~1e-6 */
        }
    }
    assert_int_equal(found, 334);
    psi_feed_filter_free(filter);
    items_free(&feed);
    items_free(&query);
    free(outputs);
    free(outputs1);
    free(blinds);
    free(blinded);
    free(evaluated);
    free(finals);
    free(direct);
}

/* A vendor answering under another key, a hub changing an element or the
 * proof, or an answer for other blinded elements: refused, nothing out. */
static void test_bad_answers_refused(void **state)
{
    unsigned char seed[32], sk[32], pk[32], sk2[32], pk2[32], proof[64], proof2[64];
    unsigned char blinds[32 * 20], blinded[32 * 20], evaluated[32 * 20], evaluated2[32 * 20];
    unsigned char finals[64 * 20], zeros[64 * 20];
    struct items q;

    (void)state;
    memset(zeros, 0, sizeof zeros);
    randombytes_buf(seed, sizeof seed);
    assert_int_equal(psi_feed_derive_key(seed, EPOCH, sk, pk), PSI_OK);
    assert_int_equal(psi_feed_derive_key(seed, "2026-W49", sk2, pk2), PSI_OK);
    items_make(&q, 20, "q", 0);
    assert_int_equal(psi_feed_blind_batch(q.n, q.inputs, q.lens, blinds, blinded, 0), PSI_OK);

    /* Evaluated and proven under the other key: verifies against pk2 only. */
    assert_int_equal(psi_feed_answer_batch(sk2, pk2, q.n, blinded, evaluated2, proof2, NULL, 0),
                     PSI_OK);
    memset(finals, 0xaa, sizeof finals);
    assert_int_equal(psi_feed_finish_batch(pk, q.n, q.inputs, q.lens, blinds, blinded, evaluated2,
                                           proof2, finals, 0),
                     PSI_ERR_VERIFY);
    assert_memory_equal(finals, zeros, sizeof finals);
    /* Evaluated with the other key but "proven" with the announced pair. */
    assert_int_equal(psi_feed_answer_batch(sk, pk, q.n, blinded, evaluated, proof, NULL, 0),
                     PSI_OK);
    assert_int_equal(psi_feed_finish_batch(pk, q.n, q.inputs, q.lens, blinds, blinded, evaluated2,
                                           proof, finals, 0),
                     PSI_ERR_VERIFY);
    /* One element swapped for another valid one. */
    memcpy(evaluated2, evaluated, sizeof evaluated);
    memcpy(evaluated2 + (size_t)32 * 3, evaluated + (size_t)32 * 4, 32);
    assert_int_equal(psi_feed_finish_batch(pk, q.n, q.inputs, q.lens, blinds, blinded, evaluated2,
                                           proof, finals, 0),
                     PSI_ERR_VERIFY);
    /* The proof changed. */
    memcpy(proof2, proof, 64);
    proof2[5] ^= 1;
    assert_int_equal(psi_feed_finish_batch(pk, q.n, q.inputs, q.lens, blinds, blinded, evaluated,
                                           proof2, finals, 0),
                     PSI_ERR_VERIFY);
    assert_memory_equal(finals, zeros, sizeof finals);
    /* The genuine answer passes. */
    assert_int_equal(psi_feed_finish_batch(pk, q.n, q.inputs, q.lens, blinds, blinded, evaluated,
                                           proof, finals, 0),
                     PSI_OK);
    assert_memory_not_equal(finals, zeros, 64);
    items_free(&q);
}

static void test_argument_checks(void **state)
{
    unsigned char seed[32], sk[32], pk[32], proof[64];
    unsigned char blinds[64], blinded[64], evaluated[64], outputs[128];
    const unsigned char *inputs[2] = {(const unsigned char *)"domain:a.example", NULL};
    size_t lens[2] = {16, 0};
    size_t bad = 99;

    (void)state;
    memset(seed, 3, sizeof seed);
    assert_int_equal(psi_feed_derive_key(seed, EPOCH, sk, pk), PSI_OK);
    /* n == 0, NULLs, an empty input, an input too long, a batch too large */
    assert_int_equal(psi_feed_evaluate_batch(sk, 0, inputs, lens, outputs, NULL, 0),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_feed_evaluate_batch(sk, 2, inputs, lens, outputs, NULL, 0),
                     PSI_ERR_INVALID);
    lens[1] = 70000;
    inputs[1] = inputs[0];
    assert_int_equal(psi_feed_evaluate_batch(sk, 2, inputs, lens, outputs, NULL, 0),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_feed_blind_batch(2, inputs, lens, blinds, blinded, 0), PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_feed_blind_batch(0, inputs, lens, blinds, blinded, 0), PSI_ERR_INVALID);
    assert_int_equal(
        psi_feed_blind_batch(PSI_VOPRF_MAX_BATCH + 1U, inputs, lens, blinds, blinded, 0),
        PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_feed_blind_batch(1, NULL, lens, blinds, blinded, 0), PSI_ERR_INVALID);
    assert_int_equal(
        psi_feed_answer_batch(sk, pk, PSI_VOPRF_MAX_BATCH + 1U, blinded, evaluated, proof, NULL, 0),
        PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_feed_answer_batch(sk, pk, 0, blinded, evaluated, proof, NULL, 0),
                     PSI_ERR_INVALID);
    assert_int_equal(
        psi_feed_finish_batch(pk, 0, inputs, lens, blinds, blinded, evaluated, proof, outputs, 0),
        PSI_ERR_INVALID);
    assert_int_equal(psi_feed_finish_batch(pk, PSI_VOPRF_MAX_BATCH + 1U, inputs, lens, blinds,
                                           blinded, evaluated, proof, outputs, 0),
                     PSI_ERR_TOO_LARGE);

    /* Blinded elements from outside that do not decode, or the identity:
     * refused, the index named, nothing answered. */
    lens[1] = 16;
    assert_int_equal(psi_feed_blind_batch(2, inputs, lens, blinds, blinded, 0), PSI_OK);
    memset(blinded + 32, 0xff, 32);
    assert_int_equal(psi_feed_answer_batch(sk, pk, 2, blinded, evaluated, proof, &bad, 0),
                     PSI_ERR_ENCODING);
    assert_int_equal(bad, 1);
    memset(blinded, 0, 32);
    bad = 99;
    assert_int_equal(psi_feed_answer_batch(sk, pk, 2, blinded, evaluated, proof, &bad, 0),
                     PSI_ERR_IDENTITY);
    assert_int_equal(bad, 0);
    /* A key pair that does not match. */
    assert_int_equal(psi_feed_blind_batch(2, inputs, lens, blinds, blinded, 0), PSI_OK);
    pk[0] ^= 1;
    assert_int_equal(psi_feed_answer_batch(sk, pk, 2, blinded, evaluated, proof, NULL, 0) < 0, 1);
}

static void test_statements(void **state)
{
    unsigned char hub[32], pk[32], digest[32], out[PSI_FEED_STATEMENT_MAX];
    unsigned char want[300];
    size_t len = 0, n = 0;
    char long_epoch[70];

    (void)state;
    memset(hub, 0x11, sizeof hub);
    memset(pk, 0x22, sizeof pk);
    memset(digest, 0x33, sizeof digest);
    assert_int_equal(psi_feed_key_statement(out, sizeof out, &len, hub, EPOCH, pk), PSI_OK);
    memcpy(want, "psi/feed-key-sig/v1", 19);
    n = 19;
    want[n++] = 0;
    memcpy(want + n, hub, 32);
    n += 32;
    memcpy(want + n, EPOCH, 8);
    n += 8;
    want[n++] = 0;
    memcpy(want + n, pk, 32);
    n += 32;
    assert_int_equal(len, n);
    assert_memory_equal(out, want, n);

    assert_int_equal(psi_feed_commit_statement(out, sizeof out, &len, hub, EPOCH,
                                               0x0102030405060708ULL, 0x1112131415161718ULL,
                                               digest),
                     PSI_OK);
    memcpy(want, "psi/feed-sig/v1", 15);
    n = 15;
    want[n++] = 0;
    memcpy(want + n, hub, 32);
    n += 32;
    memcpy(want + n, EPOCH, 8);
    n += 8;
    want[n++] = 0;
    memcpy(want + n, "\x01\x02\x03\x04\x05\x06\x07\x08\x11\x12\x13\x14\x15\x16\x17\x18", 16);
    n += 16;
    memcpy(want + n, digest, 32);
    n += 32;
    assert_int_equal(len, n);
    assert_memory_equal(out, want, n);

    /* The longest epoch fits PSI_FEED_STATEMENT_MAX; one more byte is not an
     * epoch; a short buffer is TOO_LARGE. */
    memset(long_epoch, 'e', 64);
    long_epoch[64] = '\0';
    assert_int_equal(psi_feed_key_statement(out, sizeof out, &len, hub, long_epoch, pk), PSI_OK);
    assert_int_equal(
        psi_feed_commit_statement(out, sizeof out, &len, hub, long_epoch, 1, 1, digest), PSI_OK);
    long_epoch[64] = 'e';
    long_epoch[65] = '\0';
    assert_int_equal(psi_feed_key_statement(out, sizeof out, &len, hub, long_epoch, pk),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_feed_key_statement(out, 60, &len, hub, EPOCH, pk), PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_feed_commit_statement(out, 60, &len, hub, EPOCH, 1, 1, digest),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_feed_key_statement(out, sizeof out, &len, hub, "a b", pk),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_feed_key_statement(NULL, sizeof out, &len, hub, EPOCH, pk),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_feed_commit_statement(out, sizeof out, &len, hub, EPOCH, 1, 1, NULL),
                     PSI_ERR_INVALID);

    /* The query's digest and statement. */
    unsigned char elements[64], qd[32], want_digest[32];
    memset(elements, 0x5e, sizeof elements);
    assert_int_equal(psi_feed_query_digest(elements, 2, qd), PSI_OK);
    memcpy(want, "psi/query/v1", 12);
    want[12] = 0;
    memcpy(want + 13, elements, 64);
    crypto_hash_sha256(want_digest, want, 13 + 64);
    assert_memory_equal(qd, want_digest, 32);
    assert_int_equal(psi_feed_query_digest(NULL, 1, qd), PSI_ERR_INVALID);
    assert_int_equal(
        psi_feed_query_statement(out, sizeof out, &len, hub, "vendor-a", EPOCH, 258, qd), PSI_OK);
    memcpy(want, "psi/query-sig/v1", 16);
    n = 16;
    want[n++] = 0;
    memcpy(want + n, hub, 32);
    n += 32;
    memcpy(want + n, "vendor-a", 8);
    n += 8;
    want[n++] = 0;
    memcpy(want + n, EPOCH, 8);
    n += 8;
    want[n++] = 0;
    memcpy(want + n, "\x00\x00\x00\x00\x00\x00\x01\x02", 8);
    n += 8;
    memcpy(want + n, qd, 32);
    n += 32;
    assert_int_equal(len, n);
    assert_memory_equal(out, want, n);
    /* The longest vendor id and epoch fit PSI_FEED_STATEMENT_MAX. */
    char long_vendor[65];
    memset(long_vendor, 'v', 64);
    long_vendor[64] = '\0';
    long_epoch[64] = '\0';
    assert_int_equal(
        psi_feed_query_statement(out, sizeof out, &len, hub, long_vendor, long_epoch, 1, qd),
        PSI_OK);
    assert_int_equal(len, PSI_FEED_STATEMENT_MAX);
    assert_int_equal(psi_feed_query_statement(out, sizeof out, &len, hub, "-vendor", EPOCH, 1, qd),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_feed_query_statement(out, 100, &len, hub, "vendor-a", EPOCH, 1, qd),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_feed_query_statement(out, sizeof out, &len, hub, "vendor-a", "", 1, qd),
                     PSI_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive_key),          cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_answers_refused), cmocka_unit_test(test_argument_checks),
        cmocka_unit_test(test_statements),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
