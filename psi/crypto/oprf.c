#include "psi/oprf.h"

#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "psi/error.h"
#include "psi/group.h"
#include "psi/pool.h"
#include "psi/xmd.h"

/* "OPRFV1-" || I2OSP(mode, 1) || "-" || "ristretto255-SHA512" */
#define CONTEXT_STRING_BYTES 28U
/* Longest label: "HashToScalar-" or "DeriveKeyPair" (13) || context string. */
#define LABEL_MAX_BYTES (13U + CONTEXT_STRING_BYTES)

static const char context_prefix[] = "OPRFV1-";
static const char suite_identifier[] = "ristretto255-SHA512";
static const unsigned char finalize_label[] = "Finalize";
static const unsigned char composite_label[] = "Composite";
static const unsigned char challenge_label[] = "Challenge";
/* I2OSP(Ne, 2) and I2OSP(Nh, 2): the fixed length prefixes of transcripts. */
static const unsigned char element_len_prefix[2] = {0x00, PSI_OPRF_ELEMENT_BYTES};
static const unsigned char seed_len_prefix[2] = {0x00, crypto_hash_sha512_BYTES};

struct label {
    unsigned char bytes[LABEL_MAX_BYTES];
    size_t len;
};

/* prefix || contextString(mode) */
static void make_label(struct label *label, const char *prefix, int mode)
{
    size_t prefix_len = strlen(prefix);
    unsigned char *p = label->bytes;

    memcpy(p, prefix, prefix_len);
    p += prefix_len;
    memcpy(p, context_prefix, sizeof context_prefix - 1);
    p += sizeof context_prefix - 1;
    *p++ = (unsigned char)mode;
    *p++ = '-';
    memcpy(p, suite_identifier, sizeof suite_identifier - 1);
    p += sizeof suite_identifier - 1;
    label->len = (size_t)(p - label->bytes);
}

static int check_mode(int mode)
{
    return mode == PSI_OPRF_MODE_OPRF || mode == PSI_OPRF_MODE_VOPRF ? PSI_OK : PSI_ERR_INVALID;
}

static int check_input(const unsigned char *input, size_t input_len)
{
    if (input == NULL && input_len != 0) {
        return PSI_ERR_INVALID;
    }
    return input_len > PSI_OPRF_MAX_INPUT_BYTES ? PSI_ERR_TOO_LARGE : PSI_OK;
}

static void put_u16(unsigned char out[2], size_t value)
{
    out[0] = (unsigned char)((value >> 8) & 0xffU);
    out[1] = (unsigned char)(value & 0xffU);
}

/* A caller-given blind or nonce, or a fresh one. */
static int take_scalar(unsigned char out[32], const unsigned char *given)
{
    int rc;

    if (given == NULL) {
        crypto_core_ristretto255_scalar_random(out);
        return PSI_OK;
    }
    rc = psi_group_check_nonzero_scalar(given);
    if (rc == PSI_OK) {
        memcpy(out, given, PSI_OPRF_SCALAR_BYTES);
    }
    return rc;
}

/* HashToGroup(input) under "HashToGroup-" || contextString(mode); refuses
 * the identity as RFC 9497 Blind and Evaluate do. */
static int hash_input_to_group(unsigned char element[32], int mode, const unsigned char *input,
                               size_t input_len)
{
    struct label dst;
    struct psi_xmd_part part = {input, input_len};
    int rc;

    make_label(&dst, "HashToGroup-", mode);
    rc = psi_group_hash_to_group(element, &part, 1, dst.bytes, dst.len);
    if (rc == PSI_OK && sodium_is_zero(element, PSI_OPRF_ELEMENT_BYTES)) {
        rc = PSI_ERR_IDENTITY;
    }
    return rc;
}

/* Hash(I2OSP(len(input), 2) || input || I2OSP(Ne, 2) || element || "Finalize") */
static void finalize_hash(unsigned char output[64], const unsigned char *input, size_t input_len,
                          const unsigned char element[32])
{
    crypto_hash_sha512_state st;
    unsigned char len_prefix[2];

    put_u16(len_prefix, input_len);
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, len_prefix, sizeof len_prefix);
    if (input_len != 0) {
        crypto_hash_sha512_update(&st, input, input_len);
    }
    crypto_hash_sha512_update(&st, element_len_prefix, sizeof element_len_prefix);
    crypto_hash_sha512_update(&st, element, PSI_OPRF_ELEMENT_BYTES);
    crypto_hash_sha512_update(&st, finalize_label, sizeof finalize_label - 1);
    crypto_hash_sha512_final(&st, output);
    sodium_memzero(&st, sizeof st);
}

int psi_oprf_derive_keypair(int mode, const unsigned char seed[32], const unsigned char *info,
                            size_t info_len, unsigned char sk[32], unsigned char pk[32])
{
    struct label dst;
    unsigned char info_len_prefix[2];
    unsigned char counter_byte;
    unsigned char secret[PSI_OPRF_SCALAR_BYTES];
    struct psi_xmd_part parts[4];
    unsigned counter;
    int rc;

    if ((rc = psi_group_ready()) != PSI_OK || (rc = check_mode(mode)) != PSI_OK) {
        return rc;
    }
    if (seed == NULL || sk == NULL || pk == NULL) {
        return PSI_ERR_INVALID;
    }
    if ((rc = check_input(info, info_len)) != PSI_OK) {
        return rc;
    }
    make_label(&dst, "DeriveKeyPair", mode);
    put_u16(info_len_prefix, info_len);
    parts[0].bytes = seed;
    parts[0].len = PSI_OPRF_SEED_BYTES;
    parts[1].bytes = info_len_prefix;
    parts[1].len = sizeof info_len_prefix;
    parts[2].bytes = info;
    parts[2].len = info_len;
    parts[3].bytes = &counter_byte;
    parts[3].len = 1;

    rc = PSI_ERR_CRYPTO; /* DeriveKeyPairError unless a counter succeeds */
    for (counter = 0; counter <= 255; counter++) {
        int hrc;

        counter_byte = (unsigned char)counter;
        hrc = psi_group_hash_to_scalar(secret, parts, 4, dst.bytes, dst.len);
        if (hrc != PSI_OK) {
            rc = hrc;
            break;
        }
        if (!sodium_is_zero(secret, sizeof secret)) {
            rc = psi_group_mult_base(pk, secret);
            break;
        }
    }
    if (rc == PSI_OK) {
        memcpy(sk, secret, sizeof secret);
    }
    sodium_memzero(secret, sizeof secret);
    return rc;
}

int psi_oprf_blind(int mode, const unsigned char *input, size_t input_len,
                   const unsigned char *blind_or_null, unsigned char blind[32],
                   unsigned char blinded[32])
{
    unsigned char r[PSI_OPRF_SCALAR_BYTES];
    unsigned char input_element[PSI_OPRF_ELEMENT_BYTES];
    int rc;

    if ((rc = psi_group_ready()) != PSI_OK || (rc = check_mode(mode)) != PSI_OK) {
        return rc;
    }
    if (blind == NULL || blinded == NULL) {
        return PSI_ERR_INVALID;
    }
    if ((rc = check_input(input, input_len)) != PSI_OK) {
        return rc;
    }
    if ((rc = take_scalar(r, blind_or_null)) != PSI_OK) {
        return rc;
    }
    rc = hash_input_to_group(input_element, mode, input, input_len);
    if (rc == PSI_OK) {
        rc = psi_group_mult(blinded, r, input_element);
    }
    if (rc == PSI_OK) {
        memcpy(blind, r, sizeof r);
    }
    sodium_memzero(r, sizeof r);
    sodium_memzero(input_element, sizeof input_element);
    return rc;
}

int psi_oprf_blind_evaluate(const unsigned char sk[32], const unsigned char blinded[32],
                            unsigned char evaluated[32])
{
    int rc;

    if ((rc = psi_group_ready()) != PSI_OK) {
        return rc;
    }
    if (sk == NULL || blinded == NULL || evaluated == NULL) {
        return PSI_ERR_INVALID;
    }
    if ((rc = psi_group_check_nonzero_scalar(sk)) != PSI_OK ||
        (rc = psi_group_check_element(blinded)) != PSI_OK) {
        return rc;
    }
    return psi_group_mult(evaluated, sk, blinded);
}

int psi_oprf_finalize(int mode, const unsigned char *input, size_t input_len,
                      const unsigned char blind[32], const unsigned char evaluated[32],
                      unsigned char output[64])
{
    unsigned char inverse[PSI_OPRF_SCALAR_BYTES];
    unsigned char unblinded[PSI_OPRF_ELEMENT_BYTES];
    int rc;

    if ((rc = psi_group_ready()) != PSI_OK || (rc = check_mode(mode)) != PSI_OK) {
        return rc;
    }
    if (blind == NULL || evaluated == NULL || output == NULL) {
        return PSI_ERR_INVALID;
    }
    if ((rc = check_input(input, input_len)) != PSI_OK ||
        (rc = psi_group_check_nonzero_scalar(blind)) != PSI_OK ||
        (rc = psi_group_check_element(evaluated)) != PSI_OK) {
        return rc;
    }
    if (crypto_core_ristretto255_scalar_invert(inverse, blind) != 0) {
        rc = PSI_ERR_CRYPTO;
    } else {
        rc = psi_group_mult(unblinded, inverse, evaluated);
    }
    if (rc == PSI_OK) {
        finalize_hash(output, input, input_len, unblinded);
    }
    sodium_memzero(inverse, sizeof inverse);
    sodium_memzero(unblinded, sizeof unblinded);
    return rc;
}

int psi_oprf_evaluate(int mode, const unsigned char sk[32], const unsigned char *input,
                      size_t input_len, unsigned char output[64])
{
    unsigned char input_element[PSI_OPRF_ELEMENT_BYTES];
    unsigned char issued[PSI_OPRF_ELEMENT_BYTES];
    int rc;

    if ((rc = psi_group_ready()) != PSI_OK || (rc = check_mode(mode)) != PSI_OK) {
        return rc;
    }
    if (sk == NULL || output == NULL) {
        return PSI_ERR_INVALID;
    }
    if ((rc = check_input(input, input_len)) != PSI_OK ||
        (rc = psi_group_check_nonzero_scalar(sk)) != PSI_OK) {
        return rc;
    }
    rc = hash_input_to_group(input_element, mode, input, input_len);
    if (rc == PSI_OK) {
        rc = psi_group_mult(issued, sk, input_element);
    }
    if (rc == PSI_OK) {
        finalize_hash(output, input, input_len, issued);
    }
    sodium_memzero(input_element, sizeof input_element);
    sodium_memzero(issued, sizeof issued);
    return rc;
}

/* ---- DLEQ proofs (RFC 9497, section 2.2), always in VOPRF mode ---- */

/*
 * Shared state of a composite computation: the per-element work (decode,
 * d_i = HashToScalar(compositeTranscript_i), d_i * C[i] and d_i * D[i]) runs
 * in parallel ranges; each range sums into its own accumulators and adds them
 * to the shared ones under the lock (the group is commutative, so the result
 * does not depend on the order).
 */
struct composites {
    const unsigned char *blinded;                            /* C */
    const unsigned char *evaluated;                          /* D */
    unsigned char seed_prefix[2 + crypto_hash_sha512_BYTES]; /* I2OSP(64, 2) || seed */
    struct label hash_to_scalar_dst;
    int with_z; /* ComputeComposites (verifier) rather than ...Fast (prover) */
    pthread_mutex_t lock;
    unsigned char m[PSI_OPRF_ELEMENT_BYTES];
    unsigned char z[PSI_OPRF_ELEMENT_BYTES];
};

static int composite_range(void *ctx, size_t begin, size_t end, size_t *failed_at)
{
    struct composites *job = ctx;
    unsigned char m[PSI_OPRF_ELEMENT_BYTES] = {0};
    unsigned char z[PSI_OPRF_ELEMENT_BYTES] = {0};
    unsigned char d_i[PSI_OPRF_SCALAR_BYTES];
    unsigned char term[PSI_OPRF_ELEMENT_BYTES];
    unsigned char index[2];
    struct psi_xmd_part parts[7];
    size_t i;
    int rc = PSI_OK;

    /* compositeTranscript = I2OSP(64, 2) || seed || I2OSP(i, 2) || I2OSP(32, 2)
     * || Ci || I2OSP(32, 2) || Di || "Composite" */
    parts[0].bytes = job->seed_prefix;
    parts[0].len = sizeof job->seed_prefix;
    parts[1].bytes = index;
    parts[1].len = sizeof index;
    parts[2].bytes = element_len_prefix;
    parts[2].len = sizeof element_len_prefix;
    parts[4].bytes = element_len_prefix;
    parts[4].len = sizeof element_len_prefix;
    parts[6].bytes = composite_label;
    parts[6].len = sizeof composite_label - 1;
    for (i = begin; i < end; i++) {
        const unsigned char *c_i = job->blinded + i * PSI_OPRF_ELEMENT_BYTES;
        const unsigned char *d_elem = job->evaluated + i * PSI_OPRF_ELEMENT_BYTES;

        if ((rc = psi_group_check_element(c_i)) != PSI_OK ||
            (rc = psi_group_check_element(d_elem)) != PSI_OK) {
            break;
        }
        put_u16(index, i);
        parts[3].bytes = c_i;
        parts[3].len = PSI_OPRF_ELEMENT_BYTES;
        parts[5].bytes = d_elem;
        parts[5].len = PSI_OPRF_ELEMENT_BYTES;
        if ((rc = psi_group_hash_to_scalar(d_i, parts, 7, job->hash_to_scalar_dst.bytes,
                                           job->hash_to_scalar_dst.len)) != PSI_OK ||
            (rc = psi_group_mult(term, d_i, c_i)) != PSI_OK ||
            (rc = psi_group_add(m, m, term)) != PSI_OK) {
            break;
        }
        if (job->with_z && ((rc = psi_group_mult(term, d_i, d_elem)) != PSI_OK ||
                            (rc = psi_group_add(z, z, term)) != PSI_OK)) {
            break;
        }
    }
    if (rc != PSI_OK) {
        *failed_at = i;
        return rc;
    }
    if (pthread_mutex_lock(&job->lock) != 0) {
        return PSI_ERR_CRYPTO;
    }
    rc = psi_group_add(job->m, job->m, m);
    if (rc == PSI_OK && job->with_z) {
        rc = psi_group_add(job->z, job->z, z);
    }
    (void)pthread_mutex_unlock(&job->lock);
    return rc;
}

/* M (and, for the verifier, Z) over C = blinded, D = evaluated, B = pk. */
static int compute_composites(struct composites *job, const unsigned char pk[32], size_t n,
                              const unsigned char *blinded, const unsigned char *evaluated,
                              int with_z)
{
    static const unsigned char seed_dst_len_prefix[2] = {0x00, 5U + CONTEXT_STRING_BYTES};
    struct label seed_dst;
    crypto_hash_sha512_state st;
    size_t failed_at = 0;
    int rc;

    job->blinded = blinded;
    job->evaluated = evaluated;
    job->with_z = with_z;
    memset(job->m, 0, sizeof job->m);
    memset(job->z, 0, sizeof job->z);
    make_label(&job->hash_to_scalar_dst, "HashToScalar-", PSI_OPRF_MODE_VOPRF);

    /* seed = Hash(I2OSP(len(Bm), 2) || Bm || I2OSP(len(seedDST), 2) || seedDST) */
    make_label(&seed_dst, "Seed-", PSI_OPRF_MODE_VOPRF);
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, element_len_prefix, sizeof element_len_prefix);
    crypto_hash_sha512_update(&st, pk, PSI_OPRF_ELEMENT_BYTES);
    crypto_hash_sha512_update(&st, seed_dst_len_prefix, sizeof seed_dst_len_prefix);
    crypto_hash_sha512_update(&st, seed_dst.bytes, seed_dst.len);
    memcpy(job->seed_prefix, seed_len_prefix, sizeof seed_len_prefix);
    crypto_hash_sha512_final(&st, job->seed_prefix + sizeof seed_len_prefix);

    if (pthread_mutex_init(&job->lock, NULL) != 0) {
        return PSI_ERR_NOMEM;
    }
    rc = psi_parallel_for(n, 0, composite_range, job, &failed_at);
    (void)pthread_mutex_destroy(&job->lock);
    return rc;
}

static int check_batch(size_t n, const unsigned char *blinded, const unsigned char *evaluated)
{
    if (blinded == NULL || evaluated == NULL || n == 0) {
        return PSI_ERR_INVALID;
    }
    return n > PSI_VOPRF_MAX_BATCH ? PSI_ERR_TOO_LARGE : PSI_OK;
}

/* c = HashToScalar(I2OSP(32, 2) || Bm || ... || I2OSP(32, 2) || a3 || "Challenge") */
static int challenge(unsigned char c[32], const unsigned char pk[32], const unsigned char m[32],
                     const unsigned char z[32], const unsigned char t2[32],
                     const unsigned char t3[32])
{
    const unsigned char *elements[5] = {pk, m, z, t2, t3};
    struct psi_xmd_part parts[11];
    struct label dst;
    size_t i;

    for (i = 0; i < 5; i++) {
        parts[2 * i].bytes = element_len_prefix;
        parts[2 * i].len = sizeof element_len_prefix;
        parts[2 * i + 1].bytes = elements[i];
        parts[2 * i + 1].len = PSI_OPRF_ELEMENT_BYTES;
    }
    parts[10].bytes = challenge_label;
    parts[10].len = sizeof challenge_label - 1;
    make_label(&dst, "HashToScalar-", PSI_OPRF_MODE_VOPRF);
    return psi_group_hash_to_scalar(c, parts, 11, dst.bytes, dst.len);
}

int psi_voprf_prove(const unsigned char sk[32], const unsigned char pk[32], size_t n,
                    const unsigned char *blinded, const unsigned char *evaluated,
                    const unsigned char *r_or_null, unsigned char proof[64])
{
    struct composites job;
    unsigned char expected_pk[PSI_OPRF_ELEMENT_BYTES];
    unsigned char r[PSI_OPRF_SCALAR_BYTES];
    unsigned char ck[PSI_OPRF_SCALAR_BYTES];
    unsigned char c[PSI_OPRF_SCALAR_BYTES];
    unsigned char t2[PSI_OPRF_ELEMENT_BYTES];
    unsigned char t3[PSI_OPRF_ELEMENT_BYTES];
    int rc;

    if ((rc = psi_group_ready()) != PSI_OK) {
        return rc;
    }
    if (sk == NULL || pk == NULL || proof == NULL) {
        return PSI_ERR_INVALID;
    }
    if ((rc = check_batch(n, blinded, evaluated)) != PSI_OK ||
        (rc = psi_group_check_nonzero_scalar(sk)) != PSI_OK ||
        (rc = psi_group_check_element(pk)) != PSI_OK) {
        return rc;
    }
    if ((rc = psi_group_mult_base(expected_pk, sk)) != PSI_OK) {
        return rc;
    }
    if (sodium_memcmp(expected_pk, pk, sizeof expected_pk) != 0) {
        return PSI_ERR_INVALID;
    }
    if ((rc = take_scalar(r, r_or_null)) != PSI_OK) {
        return rc;
    }
    /* ComputeCompositesFast: M from the elements, Z = k * M. */
    rc = compute_composites(&job, pk, n, blinded, evaluated, 0);
    if (rc == PSI_OK) {
        rc = psi_group_mult(job.z, sk, job.m);
    }
    if (rc == PSI_OK && (rc = psi_group_mult_base(t2, r)) == PSI_OK &&
        (rc = psi_group_mult(t3, r, job.m)) == PSI_OK &&
        (rc = challenge(c, pk, job.m, job.z, t2, t3)) == PSI_OK) {
        /* s = r - c * k */
        crypto_core_ristretto255_scalar_mul(ck, c, sk);
        memcpy(proof, c, sizeof c);
        crypto_core_ristretto255_scalar_sub(proof + PSI_OPRF_SCALAR_BYTES, r, ck);
    }
    sodium_memzero(r, sizeof r);
    sodium_memzero(ck, sizeof ck);
    sodium_memzero(&job, sizeof job);
    return rc;
}

int psi_voprf_verify(const unsigned char pk[32], size_t n, const unsigned char *blinded,
                     const unsigned char *evaluated, const unsigned char proof[64])
{
    struct composites job;
    const unsigned char *c;
    const unsigned char *s;
    unsigned char expected_c[PSI_OPRF_SCALAR_BYTES];
    unsigned char t2[PSI_OPRF_ELEMENT_BYTES];
    unsigned char t3[PSI_OPRF_ELEMENT_BYTES];
    unsigned char term[PSI_OPRF_ELEMENT_BYTES];
    int rc;

    if ((rc = psi_group_ready()) != PSI_OK) {
        return rc;
    }
    if (pk == NULL || proof == NULL) {
        return PSI_ERR_INVALID;
    }
    c = proof;
    s = proof + PSI_OPRF_SCALAR_BYTES;
    if ((rc = check_batch(n, blinded, evaluated)) != PSI_OK ||
        (rc = psi_group_check_element(pk)) != PSI_OK ||
        (rc = psi_group_check_scalar(c)) != PSI_OK || (rc = psi_group_check_scalar(s)) != PSI_OK) {
        return rc;
    }
    if ((rc = compute_composites(&job, pk, n, blinded, evaluated, 1)) != PSI_OK) {
        return rc;
    }
    /* t2 = s * A + c * B; t3 = s * M + c * Z */
    if ((rc = psi_group_mult_base(t2, s)) != PSI_OK ||
        (rc = psi_group_mult(term, c, pk)) != PSI_OK ||
        (rc = psi_group_add(t2, t2, term)) != PSI_OK ||
        (rc = psi_group_mult(t3, s, job.m)) != PSI_OK ||
        (rc = psi_group_mult(term, c, job.z)) != PSI_OK ||
        (rc = psi_group_add(t3, t3, term)) != PSI_OK ||
        (rc = challenge(expected_c, pk, job.m, job.z, t2, t3)) != PSI_OK) {
        return rc;
    }
    return sodium_memcmp(expected_c, c, sizeof expected_c) == 0 ? PSI_OK : PSI_ERR_VERIFY;
}
