/* RFC 9497 ristretto255-SHA512: every OPRF and VOPRF vector of the spec file
 * and of the RFC appendix (VOPRF test vectors 2 and 3, the batch of two),
 * the properties a proof must have, and every error path of oprf.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto_test_util.h"
#include "psi/error.h"
#include "psi/oprf.h"

static const char seed_hex[] = "a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3";
static const char key_info[] = "test key";
static const char oprf_sk_hex[] =
    "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e";
static const char voprf_sk_hex[] =
    "e6f73f344b79b379f1a0dd37e07ff62e38d9f71345ce62ae3a9bc60b04ccd909";
static const char voprf_pk_hex[] =
    "c803e2cc6b05fc15064549b5920659ca4a77b2cca6f04f6b357009335476ad4e";
static const char group_order_hex[] =
    "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
static const char generator_hex[] =
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76";
static const char input_short[] = "00";
static const char input_long[] = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
static const char blind_1[] = "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706";
static const char blind_2[] = "222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e";

/* One element of a test vector: Input, Blind, BlindedElement,
 * EvaluationElement, Output. */
struct element_vector {
    int mode;
    const char *input;
    const char *blind;
    const char *blinded;
    const char *evaluated;
    const char *output;
};

static const struct element_vector element_vectors[] = {
    /* OPRF test vector 1 */
    {PSI_OPRF_MODE_OPRF, input_short, blind_1,
     "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
     "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
     "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3"
     "ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6"},
    /* OPRF test vector 2 */
    {PSI_OPRF_MODE_OPRF, input_long, blind_1,
     "da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418",
     "b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25",
     "f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4"
     "f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73"},
    /* VOPRF test vector 1 (and first element of test vector 3) */
    {PSI_OPRF_MODE_VOPRF, input_short, blind_1,
     "863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945",
     "aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e",
     "b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7d"
     "a4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c"},
    /* VOPRF test vector 2 */
    {PSI_OPRF_MODE_VOPRF, input_long, blind_1,
     "cc0b2a350101881d8a4cba4c80241d74fb7dcbfde4a61fde2f91443c2bf9ef0c",
     "60a59a57208d48aca71e9e850d22674b611f752bed48b36f7a91b372bd7ad468",
     "8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60"
     "356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6"},
    /* VOPRF test vector 3, second element (other blind) */
    {PSI_OPRF_MODE_VOPRF, input_long, blind_2,
     "90a0145ea9da29254c3a56be4fe185465ebb3bf2a1801f7124bbbadac751e654",
     "cc5ac221950a49ceaa73c8db41b82c20372a4c8d63e5dded2db920b7eee36a2a",
     "8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60"
     "356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6"},
};

/* A VOPRF proof vector: indices into element_vectors, r, proof. */
struct proof_vector {
    size_t n;
    size_t elements[2];
    const char *r;
    const char *proof;
};

static const struct proof_vector proof_vectors[] = {
    {1,
     {2, 0},
     blind_2,
     "ddef93772692e535d1a53903db24367355cc2cc78de93b3be5a8ffcc6985dd06"
     "6d4346421d17bf5117a2a1ff0fcb2a759f58a539dfbe857a40bce4cf49ec600d"},
    {1,
     {3, 0},
     blind_2,
     "401a0da6264f8cf45bb2f5264bc31e109155600babb3cd4e5af7d181a2c9dc0a"
     "67154fabf031fd936051dec80b0b6ae29c9503493dde7393b722eafdf5a50b02"},
    {2,
     {2, 4},
     "419c4f4f5052c53c45f3da494d2b67b220d02118e0857cdbcf037f9ea84bbe0c",
     "cc203910175d786927eeb44ea847328047892ddf8590e723c37205cb74600b0a"
     "5ab5337c8eb4ceae0494c2cf89529dcf94572ed267473d567aeed6ab873dee08"},
};

static void load_key(int mode, unsigned char sk[32], unsigned char pk[32])
{
    unsigned char seed[32];

    UNHEX_EXACT(seed, 32, seed_hex);
    assert_int_equal(psi_oprf_derive_keypair(mode, seed, (const unsigned char *)key_info,
                                             strlen(key_info), sk, pk),
                     PSI_OK);
}

static void test_derive_keypair_vectors(void **state)
{
    unsigned char sk[32], pk[32], want[32], base[32];

    (void)state;
    load_key(PSI_OPRF_MODE_OPRF, sk, pk);
    UNHEX_EXACT(want, 32, oprf_sk_hex);
    assert_memory_equal(sk, want, 32);
    assert_int_equal(crypto_scalarmult_ristretto255_base(base, sk), 0);
    assert_memory_equal(pk, base, 32);

    load_key(PSI_OPRF_MODE_VOPRF, sk, pk);
    UNHEX_EXACT(want, 32, voprf_sk_hex);
    assert_memory_equal(sk, want, 32);
    UNHEX_EXACT(want, 32, voprf_pk_hex);
    assert_memory_equal(pk, want, 32);
}

/* Blind, BlindEvaluate, Finalize and Evaluate of every element vector. */
static void test_element_vectors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof element_vectors / sizeof element_vectors[0]; i++) {
        const struct element_vector *v = &element_vectors[i];
        unsigned char sk[32], pk[32], input[32], given_blind[32], blind[32], blinded[32];
        unsigned char evaluated[32], output[64], want32[32], want64[64];
        size_t input_len = unhex(input, sizeof input, v->input);

        assert_true(input_len == 1 || input_len == 17);
        load_key(v->mode, sk, pk);
        UNHEX_EXACT(given_blind, 32, v->blind);

        assert_int_equal(psi_oprf_blind(v->mode, input, input_len, given_blind, blind, blinded),
                         PSI_OK);
        assert_memory_equal(blind, given_blind, 32);
        UNHEX_EXACT(want32, 32, v->blinded);
        assert_memory_equal(blinded, want32, 32);

        assert_int_equal(psi_oprf_blind_evaluate(sk, blinded, evaluated), PSI_OK);
        UNHEX_EXACT(want32, 32, v->evaluated);
        assert_memory_equal(evaluated, want32, 32);

        assert_int_equal(psi_oprf_finalize(v->mode, input, input_len, blind, evaluated, output),
                         PSI_OK);
        UNHEX_EXACT(want64, 64, v->output);
        assert_memory_equal(output, want64, 64);

        memset(output, 0, sizeof output);
        assert_int_equal(psi_oprf_evaluate(v->mode, sk, input, input_len, output), PSI_OK);
        assert_memory_equal(output, want64, 64);
    }
}

static void load_proof_batch(const struct proof_vector *v, unsigned char *blinded,
                             unsigned char *evaluated)
{
    size_t j;

    for (j = 0; j < v->n; j++) {
        UNHEX_EXACT(blinded + 32 * j, 32, element_vectors[v->elements[j]].blinded);
        UNHEX_EXACT(evaluated + 32 * j, 32, element_vectors[v->elements[j]].evaluated);
    }
}

/* GenerateProof with the vector's r gives the vector's proof, which
 * verifies; the batch of two is test vector 3. */
static void test_proof_vectors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof proof_vectors / sizeof proof_vectors[0]; i++) {
        const struct proof_vector *v = &proof_vectors[i];
        unsigned char sk[32], pk[32], r[32], blinded[64], evaluated[64], proof[64], want[64];

        load_key(PSI_OPRF_MODE_VOPRF, sk, pk);
        load_proof_batch(v, blinded, evaluated);
        UNHEX_EXACT(r, 32, v->r);
        UNHEX_EXACT(want, 64, v->proof);
        assert_int_equal(psi_voprf_prove(sk, pk, v->n, blinded, evaluated, r, proof), PSI_OK);
        assert_memory_equal(proof, want, 64);
        assert_int_equal(psi_voprf_verify(pk, v->n, blinded, evaluated, want), PSI_OK);
    }
}

/* The batch proof of test vector 3 fails for anything it does not cover. */
static void test_proof_binds_everything(void **state)
{
    const struct proof_vector *v = &proof_vectors[2];
    unsigned char sk[32], pk[32], blinded[64], evaluated[64], proof[64], changed[64];
    unsigned char other[32], swapped_b[64], swapped_e[64];

    (void)state;
    load_key(PSI_OPRF_MODE_VOPRF, sk, pk);
    load_proof_batch(v, blinded, evaluated);
    UNHEX_EXACT(proof, 64, v->proof);
    UNHEX_EXACT(other, 32, element_vectors[3].blinded); /* a valid element not in the batch */

    /* a changed blinded element */
    memcpy(changed, blinded, 64);
    memcpy(changed + 32, other, 32);
    assert_int_equal(psi_voprf_verify(pk, 2, changed, evaluated, proof), PSI_ERR_VERIFY);
    /* a changed evaluated element */
    memcpy(changed, evaluated, 64);
    memcpy(changed, other, 32);
    assert_int_equal(psi_voprf_verify(pk, 2, blinded, changed, proof), PSI_ERR_VERIFY);
    /* a different key */
    UNHEX_EXACT(other, 32, generator_hex);
    assert_int_equal(psi_voprf_verify(other, 2, blinded, evaluated, proof), PSI_ERR_VERIFY);
    /* the elements in another order */
    memcpy(swapped_b, blinded + 32, 32);
    memcpy(swapped_b + 32, blinded, 32);
    memcpy(swapped_e, evaluated + 32, 32);
    memcpy(swapped_e + 32, evaluated, 32);
    assert_int_equal(psi_voprf_verify(pk, 2, swapped_b, swapped_e, proof), PSI_ERR_VERIFY);
    /* part of the batch */
    assert_int_equal(psi_voprf_verify(pk, 1, blinded, evaluated, proof), PSI_ERR_VERIFY);
    /* a changed c, a changed s (both still canonical) */
    memcpy(changed, proof, 64);
    changed[0] ^= 1;
    assert_int_equal(psi_voprf_verify(pk, 2, blinded, evaluated, changed), PSI_ERR_VERIFY);
    memcpy(changed, proof, 64);
    changed[32] ^= 1;
    assert_int_equal(psi_voprf_verify(pk, 2, blinded, evaluated, changed), PSI_ERR_VERIFY);
    /* and the untouched proof still verifies */
    assert_int_equal(psi_voprf_verify(pk, 2, blinded, evaluated, proof), PSI_OK);
}

/* Proof scalars must be canonical: c or s >= L, or with top bits set, are
 * refused as encodings before any work. */
static void test_proof_noncanonical_refused(void **state)
{
    const struct proof_vector *v = &proof_vectors[0];
    unsigned char sk[32], pk[32], blinded[32], evaluated[32], proof[64], bad[64], l[32];

    (void)state;
    load_key(PSI_OPRF_MODE_VOPRF, sk, pk);
    load_proof_batch(v, blinded, evaluated);
    UNHEX_EXACT(proof, 64, v->proof);
    UNHEX_EXACT(l, 32, group_order_hex);

    memcpy(bad, proof, 64);
    memcpy(bad, l, 32); /* c = L */
    assert_int_equal(psi_voprf_verify(pk, 1, blinded, evaluated, bad), PSI_ERR_ENCODING);
    memcpy(bad, proof, 64);
    memcpy(bad + 32, l, 32); /* s = L */
    assert_int_equal(psi_voprf_verify(pk, 1, blinded, evaluated, bad), PSI_ERR_ENCODING);
    memcpy(bad, proof, 64);
    bad[31] |= 0x80; /* c + 2^255: libsodium alone would ignore this bit */
    assert_int_equal(psi_voprf_verify(pk, 1, blinded, evaluated, bad), PSI_ERR_ENCODING);
    memcpy(bad, proof, 64);
    bad[63] |= 0x20;
    assert_int_equal(psi_voprf_verify(pk, 1, blinded, evaluated, bad), PSI_ERR_ENCODING);
    /* c = s = 0 is canonical but does not verify */
    memset(bad, 0, 64);
    assert_int_equal(psi_voprf_verify(pk, 1, blinded, evaluated, bad), PSI_ERR_VERIFY);
}

/* Bad elements in a proof batch, and bad batch sizes. */
static void test_proof_batch_errors(void **state)
{
    unsigned char sk[32], pk[32], blinded[64], evaluated[64], proof[64], saved[32];
    unsigned char *big;
    const size_t big_n = (size_t)PSI_VOPRF_MAX_BATCH + 1;

    (void)state;
    load_key(PSI_OPRF_MODE_VOPRF, sk, pk);
    load_proof_batch(&proof_vectors[2], blinded, evaluated);
    UNHEX_EXACT(proof, 64, proof_vectors[2].proof);

    memcpy(saved, blinded + 32, 32);
    memset(blinded + 32, 0, 32);
    assert_int_equal(psi_voprf_verify(pk, 2, blinded, evaluated, proof), PSI_ERR_IDENTITY);
    assert_int_equal(psi_voprf_prove(sk, pk, 2, blinded, evaluated, NULL, proof), PSI_ERR_IDENTITY);
    memset(blinded + 32, 0xff, 32);
    assert_int_equal(psi_voprf_verify(pk, 2, blinded, evaluated, proof), PSI_ERR_ENCODING);
    assert_int_equal(psi_voprf_prove(sk, pk, 2, blinded, evaluated, NULL, proof), PSI_ERR_ENCODING);
    memcpy(blinded + 32, saved, 32);
    evaluated[0] ^= 0xff; /* an evaluated element that does not decode */
    assert_int_equal(psi_voprf_verify(pk, 2, blinded, evaluated, proof), PSI_ERR_ENCODING);
    assert_int_equal(psi_voprf_prove(sk, pk, 2, blinded, evaluated, NULL, proof), PSI_ERR_ENCODING);
    evaluated[0] ^= 0xff;

    /* the public key must decode and not be the identity */
    memset(saved, 0, 32);
    assert_int_equal(psi_voprf_verify(saved, 2, blinded, evaluated, proof), PSI_ERR_IDENTITY);
    memset(saved, 0xff, 32);
    assert_int_equal(psi_voprf_verify(saved, 2, blinded, evaluated, proof), PSI_ERR_ENCODING);
    assert_int_equal(psi_voprf_prove(sk, saved, 2, blinded, evaluated, NULL, proof),
                     PSI_ERR_ENCODING);

    /* empty and oversized batches (I2OSP(i, 2) would overflow) */
    assert_int_equal(psi_voprf_prove(sk, pk, 0, blinded, evaluated, NULL, proof), PSI_ERR_INVALID);
    assert_int_equal(psi_voprf_verify(pk, 0, blinded, evaluated, proof), PSI_ERR_INVALID);
    big = calloc(big_n, 32);
    assert_non_null(big);
    assert_int_equal(psi_voprf_prove(sk, pk, big_n, big, big, NULL, proof), PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_voprf_verify(pk, big_n, big, big, proof), PSI_ERR_TOO_LARGE);
    free(big);

    /* NULL arguments */
    assert_int_equal(psi_voprf_prove(NULL, pk, 2, blinded, evaluated, NULL, proof),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_voprf_prove(sk, NULL, 2, blinded, evaluated, NULL, proof),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_voprf_prove(sk, pk, 2, NULL, evaluated, NULL, proof), PSI_ERR_INVALID);
    assert_int_equal(psi_voprf_prove(sk, pk, 2, blinded, NULL, NULL, proof), PSI_ERR_INVALID);
    assert_int_equal(psi_voprf_prove(sk, pk, 2, blinded, evaluated, NULL, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_voprf_verify(NULL, 2, blinded, evaluated, proof), PSI_ERR_INVALID);
    assert_int_equal(psi_voprf_verify(pk, 2, NULL, evaluated, proof), PSI_ERR_INVALID);
    assert_int_equal(psi_voprf_verify(pk, 2, blinded, NULL, proof), PSI_ERR_INVALID);
    assert_int_equal(psi_voprf_verify(pk, 2, blinded, evaluated, NULL), PSI_ERR_INVALID);
}

/* The prover's own inputs: its key pair must match, its nonce must be a
 * canonical non-zero scalar. */
static void test_prove_argument_checks(void **state)
{
    unsigned char sk[32], pk[32], blinded[32], evaluated[32], proof[64], r[32], other_pk[32];

    (void)state;
    load_key(PSI_OPRF_MODE_VOPRF, sk, pk);
    load_proof_batch(&proof_vectors[0], blinded, evaluated);

    UNHEX_EXACT(other_pk, 32, generator_hex);
    assert_int_equal(psi_voprf_prove(sk, other_pk, 1, blinded, evaluated, NULL, proof),
                     PSI_ERR_INVALID);

    UNHEX_EXACT(r, 32, group_order_hex);
    assert_int_equal(psi_voprf_prove(sk, pk, 1, blinded, evaluated, r, proof), PSI_ERR_ENCODING);
    UNHEX_EXACT(r, 32, blind_2);
    r[31] |= 0x80;
    assert_int_equal(psi_voprf_prove(sk, pk, 1, blinded, evaluated, r, proof), PSI_ERR_ENCODING);
    memset(r, 0, 32);
    assert_int_equal(psi_voprf_prove(sk, pk, 1, blinded, evaluated, r, proof), PSI_ERR_INVALID);

    memset(r, 0, 32);
    assert_int_equal(psi_voprf_prove(r, pk, 1, blinded, evaluated, NULL, proof),
                     PSI_ERR_INVALID); /* zero key */
    UNHEX_EXACT(r, 32, group_order_hex);
    assert_int_equal(psi_voprf_prove(r, pk, 1, blinded, evaluated, NULL, proof),
                     PSI_ERR_ENCODING); /* non-canonical key */
}

/* The whole VOPRF flow with fresh randomness over a batch large enough to be
 * split across threads; tampering with any one element is caught. */
static void test_random_batch_round_trip(void **state)
{
    enum { N = 67 };
    unsigned char sk[32], pk[32], seed[32], other_sk[32], other_pk[32];
    unsigned char *blinds = malloc((size_t)N * 32), *blinded = malloc((size_t)N * 32),
                  *evaluated = malloc((size_t)N * 32);
    unsigned char proof[64], proof2[64], output[64], direct[64], saved[32];
    unsigned char input[24];
    size_t i;

    (void)state;
    assert_non_null(blinds);
    assert_non_null(blinded);
    assert_non_null(evaluated);
    randombytes_buf(seed, sizeof seed);
    assert_int_equal(psi_oprf_derive_keypair(PSI_OPRF_MODE_VOPRF, seed, NULL, 0, sk, pk), PSI_OK);
    for (i = 0; i < N; i++) {
        memset(input, (int)i, sizeof input);
        assert_int_equal(psi_oprf_blind(PSI_OPRF_MODE_VOPRF, input, sizeof input, NULL,
                                        blinds + 32 * i, blinded + 32 * i),
                         PSI_OK);
        assert_int_equal(psi_oprf_blind_evaluate(sk, blinded + 32 * i, evaluated + 32 * i), PSI_OK);
    }
    assert_int_equal(psi_voprf_prove(sk, pk, N, blinded, evaluated, NULL, proof), PSI_OK);
    assert_int_equal(psi_voprf_verify(pk, N, blinded, evaluated, proof), PSI_OK);
    /* a fresh nonce gives another proof of the same statement */
    assert_int_equal(psi_voprf_prove(sk, pk, N, blinded, evaluated, NULL, proof2), PSI_OK);
    assert_memory_not_equal(proof, proof2, 64);
    assert_int_equal(psi_voprf_verify(pk, N, blinded, evaluated, proof2), PSI_OK);

    for (i = 0; i < N; i++) {
        memset(input, (int)i, sizeof input);
        assert_int_equal(psi_oprf_finalize(PSI_OPRF_MODE_VOPRF, input, sizeof input,
                                           blinds + 32 * i, evaluated + 32 * i, output),
                         PSI_OK);
        assert_int_equal(psi_oprf_evaluate(PSI_OPRF_MODE_VOPRF, sk, input, sizeof input, direct),
                         PSI_OK);
        assert_memory_equal(output, direct, 64);
    }
    /* an evaluation under another key, at the last position */
    memcpy(saved, evaluated + (size_t)32 * (N - 1), 32);
    seed[0] ^= 1;
    assert_int_equal(
        psi_oprf_derive_keypair(PSI_OPRF_MODE_VOPRF, seed, NULL, 0, other_sk, other_pk), PSI_OK);
    assert_int_equal(psi_oprf_blind_evaluate(other_sk, blinded + (size_t)32 * (N - 1),
                                             evaluated + (size_t)32 * (N - 1)),
                     PSI_OK);
    assert_int_equal(psi_voprf_verify(pk, N, blinded, evaluated, proof), PSI_ERR_VERIFY);
    /* nor can the other key prove the mixed batch */
    assert_int_equal(psi_voprf_prove(other_sk, other_pk, N, blinded, evaluated, NULL, proof2),
                     PSI_OK);
    assert_int_equal(psi_voprf_verify(other_pk, N, blinded, evaluated, proof2), PSI_ERR_VERIFY);
    /* the last element alone is really other_sk's */
    assert_int_equal(psi_voprf_prove(other_sk, other_pk, 1, blinded + (size_t)32 * (N - 1),
                                     evaluated + (size_t)32 * (N - 1), NULL, proof2),
                     PSI_OK);
    assert_int_equal(psi_voprf_verify(other_pk, 1, blinded + (size_t)32 * (N - 1),
                                      evaluated + (size_t)32 * (N - 1), proof2),
                     PSI_OK);
    assert_int_equal(psi_voprf_verify(pk, 1, blinded + (size_t)32 * (N - 1),
                                      evaluated + (size_t)32 * (N - 1), proof2),
                     PSI_ERR_VERIFY);
    memcpy(evaluated + (size_t)32 * (N - 1), saved, 32);
    assert_int_equal(psi_voprf_verify(pk, N, blinded, evaluated, proof), PSI_OK);
    free(blinds);
    free(blinded);
    free(evaluated);
}

/* Blind refuses a non-canonical or zero blind; a fresh blind differs each
 * time and is canonical. */
static void test_blind_checks(void **state)
{
    unsigned char given[32], blind[32], blinded[32], blind2[32], blinded2[32];
    const unsigned char input[1] = {0};

    (void)state;
    UNHEX_EXACT(given, 32, group_order_hex);
    assert_int_equal(psi_oprf_blind(0, input, 1, given, blind, blinded), PSI_ERR_ENCODING);
    UNHEX_EXACT(given, 32, blind_1);
    given[31] |= 0x80;
    assert_int_equal(psi_oprf_blind(0, input, 1, given, blind, blinded), PSI_ERR_ENCODING);
    memset(given, 0xff, 32);
    assert_int_equal(psi_oprf_blind(0, input, 1, given, blind, blinded), PSI_ERR_ENCODING);
    memset(given, 0, 32);
    assert_int_equal(psi_oprf_blind(0, input, 1, given, blind, blinded), PSI_ERR_INVALID);

    assert_int_equal(psi_oprf_blind(0, input, 1, NULL, blind, blinded), PSI_OK);
    assert_int_equal(psi_oprf_blind(0, input, 1, NULL, blind2, blinded2), PSI_OK);
    assert_memory_not_equal(blind, blind2, 32);
    assert_memory_not_equal(blinded, blinded2, 32);
    assert_false(sodium_is_zero(blind, 32));
    /* the blind given back is the one used */
    assert_int_equal(psi_oprf_blind(0, input, 1, blind, blind2, blinded2), PSI_OK);
    assert_memory_equal(blinded, blinded2, 32);
    /* in place: blind_or_null and blind may be the same buffer */
    memcpy(blind2, blind, 32);
    assert_int_equal(psi_oprf_blind(0, input, 1, blind2, blind2, blinded2), PSI_OK);
    assert_memory_equal(blind2, blind, 32);
    assert_memory_equal(blinded2, blinded, 32);

    assert_int_equal(psi_oprf_blind(0, input, 1, NULL, NULL, blinded), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_blind(0, input, 1, NULL, blind, NULL), PSI_ERR_INVALID);
}

/* Only modes 0 and 1 exist here. */
static void test_mode_checks(void **state)
{
    static const int bad_modes[] = {2, 3, -1, 255, 256};
    unsigned char sk[32], pk[32], seed[32] = {1}, blind[32], blinded[32], output[64];
    const unsigned char input[1] = {0};
    size_t i;

    (void)state;
    load_key(PSI_OPRF_MODE_OPRF, sk, pk);
    assert_int_equal(psi_oprf_blind(0, input, 1, NULL, blind, blinded), PSI_OK);
    for (i = 0; i < sizeof bad_modes / sizeof bad_modes[0]; i++) {
        int m = bad_modes[i];

        assert_int_equal(psi_oprf_derive_keypair(m, seed, NULL, 0, sk, pk), PSI_ERR_INVALID);
        assert_int_equal(psi_oprf_blind(m, input, 1, NULL, blind, blinded), PSI_ERR_INVALID);
        assert_int_equal(psi_oprf_finalize(m, input, 1, blind, blinded, output), PSI_ERR_INVALID);
        assert_int_equal(psi_oprf_evaluate(m, sk, input, 1, output), PSI_ERR_INVALID);
    }
}

/* Inputs and key info are at most 65535 bytes; NULL only when empty. */
static void test_input_lengths(void **state)
{
    unsigned char sk[32], pk[32], seed[32] = {7}, blind[32], blinded[32], evaluated[32];
    unsigned char output[64], direct[64];
    unsigned char *big = calloc(PSI_OPRF_MAX_INPUT_BYTES + 1, 1);

    (void)state;
    assert_non_null(big);
    load_key(PSI_OPRF_MODE_OPRF, sk, pk);
    /* the longest input works end to end */
    assert_int_equal(psi_oprf_blind(0, big, PSI_OPRF_MAX_INPUT_BYTES, NULL, blind, blinded),
                     PSI_OK);
    assert_int_equal(psi_oprf_blind_evaluate(sk, blinded, evaluated), PSI_OK);
    assert_int_equal(psi_oprf_finalize(0, big, PSI_OPRF_MAX_INPUT_BYTES, blind, evaluated, output),
                     PSI_OK);
    assert_int_equal(psi_oprf_evaluate(0, sk, big, PSI_OPRF_MAX_INPUT_BYTES, direct), PSI_OK);
    assert_memory_equal(output, direct, 64);
    /* one more byte is refused everywhere */
    assert_int_equal(psi_oprf_blind(0, big, PSI_OPRF_MAX_INPUT_BYTES + 1, NULL, blind, blinded),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(
        psi_oprf_finalize(0, big, PSI_OPRF_MAX_INPUT_BYTES + 1, blind, evaluated, output),
        PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_oprf_evaluate(0, sk, big, PSI_OPRF_MAX_INPUT_BYTES + 1, output),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_oprf_derive_keypair(0, seed, big, PSI_OPRF_MAX_INPUT_BYTES + 1, sk, pk),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_oprf_derive_keypair(0, seed, big, PSI_OPRF_MAX_INPUT_BYTES, sk, pk),
                     PSI_OK);
    /* NULL with a length */
    assert_int_equal(psi_oprf_blind(0, NULL, 1, NULL, blind, blinded), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_finalize(0, NULL, 1, blind, evaluated, output), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_evaluate(0, sk, NULL, 1, output), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_derive_keypair(0, seed, NULL, 1, sk, pk), PSI_ERR_INVALID);
    /* the empty input is an input like any other */
    assert_int_equal(psi_oprf_blind(0, NULL, 0, NULL, blind, blinded), PSI_OK);
    assert_int_equal(psi_oprf_blind_evaluate(sk, blinded, evaluated), PSI_OK);
    assert_int_equal(psi_oprf_finalize(0, NULL, 0, blind, evaluated, output), PSI_OK);
    assert_int_equal(psi_oprf_evaluate(0, sk, NULL, 0, direct), PSI_OK);
    assert_memory_equal(output, direct, 64);
    free(big);
}

/* Keys, elements and blinds from outside are checked. */
static void test_server_and_finalize_checks(void **state)
{
    unsigned char sk[32], pk[32], seed[32] = {0}, blinded[32], evaluated[32], output[64];
    unsigned char bad[32], blind[32];
    const unsigned char input[1] = {0};

    (void)state;
    load_key(PSI_OPRF_MODE_OPRF, sk, pk);
    UNHEX_EXACT(blinded, 32, element_vectors[0].blinded);
    UNHEX_EXACT(evaluated, 32, element_vectors[0].evaluated);
    UNHEX_EXACT(blind, 32, blind_1);

    /* BlindEvaluate: element must decode and not be the identity */
    memset(bad, 0, 32);
    assert_int_equal(psi_oprf_blind_evaluate(sk, bad, output), PSI_ERR_IDENTITY);
    UNHEX_EXACT(bad, 32, "01000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000");
    assert_int_equal(psi_oprf_blind_evaluate(sk, bad, output), PSI_ERR_ENCODING);
    /* ... and the key must be canonical and non-zero */
    memset(bad, 0, 32);
    assert_int_equal(psi_oprf_blind_evaluate(bad, blinded, output), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_evaluate(0, bad, input, 1, output), PSI_ERR_INVALID);
    UNHEX_EXACT(bad, 32, group_order_hex);
    assert_int_equal(psi_oprf_blind_evaluate(bad, blinded, output), PSI_ERR_ENCODING);
    assert_int_equal(psi_oprf_evaluate(0, bad, input, 1, output), PSI_ERR_ENCODING);
    assert_int_equal(psi_oprf_blind_evaluate(NULL, blinded, output), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_blind_evaluate(sk, NULL, output), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_blind_evaluate(sk, blinded, NULL), PSI_ERR_INVALID);

    /* Finalize: same checks on the evaluated element and the blind */
    memset(bad, 0, 32);
    assert_int_equal(psi_oprf_finalize(0, input, 1, blind, bad, output), PSI_ERR_IDENTITY);
    assert_int_equal(psi_oprf_finalize(0, input, 1, bad, evaluated, output), PSI_ERR_INVALID);
    memset(bad, 0xff, 32);
    assert_int_equal(psi_oprf_finalize(0, input, 1, blind, bad, output), PSI_ERR_ENCODING);
    assert_int_equal(psi_oprf_finalize(0, input, 1, bad, evaluated, output), PSI_ERR_ENCODING);
    assert_int_equal(psi_oprf_finalize(0, input, 1, NULL, evaluated, output), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_finalize(0, input, 1, blind, NULL, output), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_finalize(0, input, 1, blind, evaluated, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_evaluate(0, NULL, input, 1, output), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_evaluate(0, sk, input, 1, NULL), PSI_ERR_INVALID);

    /* DeriveKeyPair arguments */
    assert_int_equal(psi_oprf_derive_keypair(0, NULL, NULL, 0, sk, pk), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_derive_keypair(0, seed, NULL, 0, NULL, pk), PSI_ERR_INVALID);
    assert_int_equal(psi_oprf_derive_keypair(0, seed, NULL, 0, sk, NULL), PSI_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive_keypair_vectors),
        cmocka_unit_test(test_element_vectors),
        cmocka_unit_test(test_proof_vectors),
        cmocka_unit_test(test_proof_binds_everything),
        cmocka_unit_test(test_proof_noncanonical_refused),
        cmocka_unit_test(test_proof_batch_errors),
        cmocka_unit_test(test_prove_argument_checks),
        cmocka_unit_test(test_random_batch_round_trip),
        cmocka_unit_test(test_blind_checks),
        cmocka_unit_test(test_mode_checks),
        cmocka_unit_test(test_input_lengths),
        cmocka_unit_test(test_server_and_finalize_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
