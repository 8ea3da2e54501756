#include "psi/feed.h"

#include <string.h>

#include <sodium.h>

#include "psi/error.h"
#include "psi/ident.h"
#include "psi/oprf.h"
#include "psi/pool.h"

/* The length of a valid epoch label (psi/ident.h), or PSI_ERR_INVALID. */
static int epoch_length(const char *epoch, size_t *len)
{
    if (!psi_epoch_label_is_valid(epoch)) {
        return PSI_ERR_INVALID;
    }
    *len = strlen(epoch);
    return PSI_OK;
}

int psi_feed_derive_key(const unsigned char seed[32], const char *epoch, unsigned char sk[32],
                        unsigned char pk[32])
{
    size_t len;
    int rc;

    if (seed == NULL || sk == NULL || pk == NULL) {
        return PSI_ERR_INVALID;
    }
    if ((rc = epoch_length(epoch, &len)) != PSI_OK) {
        return rc;
    }
    return psi_oprf_derive_keypair(PSI_OPRF_MODE_VOPRF, seed, (const unsigned char *)epoch, len, sk,
                                   pk);
}

/* One job type for the four batch loops; each uses the fields it needs. */
struct feed_job {
    const unsigned char *sk;
    const unsigned char *const *inputs;
    const size_t *lens;
    const unsigned char *blinds;
    const unsigned char *blinded;
    const unsigned char *evaluated;
    unsigned char *out_blinds;
    unsigned char *out_points;
    unsigned char *outputs;
};

static int check_inputs(size_t n, const unsigned char *const *inputs, const size_t *lens)
{
    size_t i;

    if (inputs == NULL || lens == NULL) {
        return PSI_ERR_INVALID;
    }
    for (i = 0; i < n; i++) {
        if (lens[i] == 0 || inputs[i] == NULL) {
            return PSI_ERR_INVALID;
        }
        if (lens[i] > PSI_OPRF_MAX_INPUT_BYTES) {
            return PSI_ERR_TOO_LARGE;
        }
    }
    return PSI_OK;
}

static int evaluate_range(void *ctx, size_t begin, size_t end, size_t *failed_at)
{
    const struct feed_job *job = ctx;
    size_t i;
    int rc;

    for (i = begin; i < end; i++) {
        rc = psi_oprf_evaluate(PSI_OPRF_MODE_VOPRF, job->sk, job->inputs[i], job->lens[i],
                               job->outputs + i * PSI_OPRF_OUTPUT_BYTES);
        if (rc != PSI_OK) {
            *failed_at = i;
            return rc;
        }
    }
    return PSI_OK;
}

int psi_feed_evaluate_batch(const unsigned char sk[32], size_t n,
                            const unsigned char *const *inputs, const size_t *lens,
                            unsigned char *outputs, size_t *bad_index, unsigned threads)
{
    struct feed_job job;
    size_t failed_at = 0;
    int rc;

    if (sk == NULL || outputs == NULL || n == 0) {
        return PSI_ERR_INVALID;
    }
    if ((rc = check_inputs(n, inputs, lens)) != PSI_OK) {
        return rc;
    }
    memset(&job, 0, sizeof job);
    job.sk = sk;
    job.inputs = inputs;
    job.lens = lens;
    job.outputs = outputs;
    rc = psi_parallel_for(n, threads, evaluate_range, &job, &failed_at);
    if (rc != PSI_OK) {
        sodium_memzero(outputs, n * PSI_OPRF_OUTPUT_BYTES);
        if (bad_index != NULL) {
            *bad_index = failed_at;
        }
    }
    return rc;
}

static int blind_range(void *ctx, size_t begin, size_t end, size_t *failed_at)
{
    const struct feed_job *job = ctx;
    size_t i;
    int rc;

    for (i = begin; i < end; i++) {
        rc = psi_oprf_blind(PSI_OPRF_MODE_VOPRF, job->inputs[i], job->lens[i], NULL,
                            job->out_blinds + i * PSI_OPRF_SCALAR_BYTES,
                            job->out_points + i * PSI_OPRF_ELEMENT_BYTES);
        if (rc != PSI_OK) {
            *failed_at = i;
            return rc;
        }
    }
    return PSI_OK;
}

int psi_feed_blind_batch(size_t n, const unsigned char *const *inputs, const size_t *lens,
                         unsigned char *blinds, unsigned char *blinded, unsigned threads)
{
    struct feed_job job;
    int rc;

    if (blinds == NULL || blinded == NULL || n == 0) {
        return PSI_ERR_INVALID;
    }
    if (n > PSI_VOPRF_MAX_BATCH) {
        return PSI_ERR_TOO_LARGE;
    }
    if ((rc = check_inputs(n, inputs, lens)) != PSI_OK) {
        return rc;
    }
    memset(&job, 0, sizeof job);
    job.inputs = inputs;
    job.lens = lens;
    job.out_blinds = blinds;
    job.out_points = blinded;
    rc = psi_parallel_for(n, threads, blind_range, &job, NULL);
    if (rc != PSI_OK) {
        sodium_memzero(blinds, n * PSI_OPRF_SCALAR_BYTES);
        sodium_memzero(blinded, n * PSI_OPRF_ELEMENT_BYTES);
    }
    return rc;
}

static int blind_evaluate_range(void *ctx, size_t begin, size_t end, size_t *failed_at)
{
    const struct feed_job *job = ctx;
    size_t i;
    int rc;

    for (i = begin; i < end; i++) {
        rc = psi_oprf_blind_evaluate(job->sk, job->blinded + i * PSI_OPRF_ELEMENT_BYTES,
                                     job->out_points + i * PSI_OPRF_ELEMENT_BYTES);
        if (rc != PSI_OK) {
            *failed_at = i;
            return rc;
        }
    }
    return PSI_OK;
}

int psi_feed_answer_batch(const unsigned char sk[32], const unsigned char pk[32], size_t n,
                          const unsigned char *blinded, unsigned char *evaluated,
                          unsigned char proof[64], size_t *bad_index, unsigned threads)
{
    struct feed_job job;
    size_t failed_at = 0;
    int rc;

    if (sk == NULL || pk == NULL || blinded == NULL || evaluated == NULL || proof == NULL ||
        n == 0) {
        return PSI_ERR_INVALID;
    }
    if (n > PSI_VOPRF_MAX_BATCH) {
        return PSI_ERR_TOO_LARGE;
    }
    memset(&job, 0, sizeof job);
    job.sk = sk;
    job.blinded = blinded;
    job.out_points = evaluated;
    rc = psi_parallel_for(n, threads, blind_evaluate_range, &job, &failed_at);
    if (rc != PSI_OK) {
        if (bad_index != NULL) {
            *bad_index = failed_at;
        }
    } else {
        rc = psi_voprf_prove(sk, pk, n, blinded, evaluated, NULL, proof);
    }
    if (rc != PSI_OK) {
        sodium_memzero(evaluated, n * PSI_OPRF_ELEMENT_BYTES);
        sodium_memzero(proof, PSI_OPRF_PROOF_BYTES);
    }
    return rc;
}

static int finalize_range(void *ctx, size_t begin, size_t end, size_t *failed_at)
{
    const struct feed_job *job = ctx;
    size_t i;
    int rc;

    for (i = begin; i < end; i++) {
        rc = psi_oprf_finalize(PSI_OPRF_MODE_VOPRF, job->inputs[i], job->lens[i],
                               job->blinds + i * PSI_OPRF_SCALAR_BYTES,
                               job->evaluated + i * PSI_OPRF_ELEMENT_BYTES,
                               job->outputs + i * PSI_OPRF_OUTPUT_BYTES);
        if (rc != PSI_OK) {
            *failed_at = i;
            return rc;
        }
    }
    return PSI_OK;
}

int psi_feed_finish_batch(const unsigned char pk[32], size_t n, const unsigned char *const *inputs,
                          const size_t *lens, const unsigned char *blinds,
                          const unsigned char *blinded, const unsigned char *evaluated,
                          const unsigned char proof[64], unsigned char *outputs, unsigned threads)
{
    struct feed_job job;
    int rc;

    if (pk == NULL || blinds == NULL || blinded == NULL || evaluated == NULL || proof == NULL ||
        outputs == NULL || n == 0) {
        return PSI_ERR_INVALID;
    }
    if (n > PSI_VOPRF_MAX_BATCH) {
        return PSI_ERR_TOO_LARGE;
    }
    if ((rc = check_inputs(n, inputs, lens)) != PSI_OK) {
        return rc;
    }
    /* RFC 9497 VOPRF: finalise only what the proof covers. */
    rc = psi_voprf_verify(pk, n, blinded, evaluated, proof);
    if (rc == PSI_OK) {
        memset(&job, 0, sizeof job);
        job.inputs = inputs;
        job.lens = lens;
        job.blinds = blinds;
        job.evaluated = evaluated;
        job.outputs = outputs;
        rc = psi_parallel_for(n, threads, finalize_range, &job, NULL);
    }
    if (rc != PSI_OK) {
        sodium_memzero(outputs, n * PSI_OPRF_OUTPUT_BYTES);
    }
    return rc;
}

static void put_u64be(unsigned char *p, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

/* DST || 0x00 || hub_key || epoch || 0x00, the common head of both
 * statements; returns its length or 0 on error (*rc set). */
static size_t statement_head(unsigned char *out, size_t cap, const char *dst,
                             const unsigned char hub_key[32], const char *epoch, size_t tail,
                             int *rc)
{
    size_t dst_len = strlen(dst);
    size_t epoch_len;
    size_t n = 0;

    if ((*rc = epoch_length(epoch, &epoch_len)) != PSI_OK) {
        return 0;
    }
    if (dst_len + 1U + 32U + epoch_len + 1U + tail > cap) {
        *rc = PSI_ERR_TOO_LARGE;
        return 0;
    }
    memcpy(out, dst, dst_len);
    n = dst_len;
    out[n++] = 0;
    memcpy(out + n, hub_key, 32);
    n += 32;
    memcpy(out + n, epoch, epoch_len);
    n += epoch_len;
    out[n++] = 0;
    return n;
}

int psi_feed_key_statement(unsigned char *out, size_t cap, size_t *len,
                           const unsigned char hub_key[32], const char *epoch,
                           const unsigned char public_key[32])
{
    size_t n;
    int rc;

    if (out == NULL || len == NULL || hub_key == NULL || public_key == NULL) {
        return PSI_ERR_INVALID;
    }
    n = statement_head(out, cap, PSI_FEED_KEY_SIG_DST, hub_key, epoch, 32U, &rc);
    if (n == 0) {
        return rc;
    }
    memcpy(out + n, public_key, 32);
    *len = n + 32U;
    return PSI_OK;
}

int psi_feed_commit_statement(unsigned char *out, size_t cap, size_t *len,
                              const unsigned char hub_key[32], const char *epoch, uint64_t count,
                              uint64_t size, const unsigned char digest[32])
{
    size_t n;
    int rc;

    if (out == NULL || len == NULL || hub_key == NULL || digest == NULL) {
        return PSI_ERR_INVALID;
    }
    n = statement_head(out, cap, PSI_FEED_SIG_DST, hub_key, epoch, 48U, &rc);
    if (n == 0) {
        return rc;
    }
    put_u64be(out + n, count);
    put_u64be(out + n + 8, size);
    memcpy(out + n + 16, digest, 32);
    *len = n + 48U;
    return PSI_OK;
}

int psi_feed_query_digest(const unsigned char *elements, size_t n, unsigned char digest[32])
{
    static const unsigned char zero = 0;
    crypto_hash_sha256_state h;

    if (digest == NULL || (elements == NULL && n > 0) || n > SIZE_MAX / 32U) {
        return PSI_ERR_INVALID;
    }
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)PSI_FEED_QUERY_DST,
                              sizeof PSI_FEED_QUERY_DST - 1U);
    crypto_hash_sha256_update(&h, &zero, 1);
    if (n > 0) {
        crypto_hash_sha256_update(&h, elements, (unsigned long long)n * 32U);
    }
    crypto_hash_sha256_final(&h, digest);
    return PSI_OK;
}

int psi_feed_query_statement(unsigned char *out, size_t cap, size_t *len,
                             const unsigned char hub_key[32], const char *vendor, const char *epoch,
                             uint64_t count, const unsigned char digest[32])
{
    static const char dst[] = PSI_FEED_QUERY_SIG_DST;
    size_t vendor_len, epoch_len, n = 0;
    int rc;

    if (out == NULL || len == NULL || hub_key == NULL || vendor == NULL || digest == NULL ||
        !psi_id_is_valid(vendor)) {
        return PSI_ERR_INVALID;
    }
    if ((rc = epoch_length(epoch, &epoch_len)) != PSI_OK) {
        return rc;
    }
    vendor_len = strlen(vendor);
    if (sizeof dst + 32U + vendor_len + 1U + epoch_len + 1U + 40U > cap) {
        return PSI_ERR_TOO_LARGE;
    }
    memcpy(out, dst, sizeof dst); /* with its 0x00 */
    n = sizeof dst;
    memcpy(out + n, hub_key, 32);
    n += 32;
    memcpy(out + n, vendor, vendor_len);
    n += vendor_len;
    out[n++] = 0;
    memcpy(out + n, epoch, epoch_len);
    n += epoch_len;
    out[n++] = 0;
    put_u64be(out + n, count);
    memcpy(out + n + 8, digest, 32);
    *len = n + 40U;
    return PSI_OK;
}
