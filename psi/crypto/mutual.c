#include "psi/blind.h"

#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "psi/curve25519.h"
#include "psi/error.h"
#include "psi/group.h"
#include "psi/pool.h"
#include "psi/xmd.h"

#include "h2c_curve25519.h"

/* The build's suite (psi/CMakeLists.txt, option PSI_MUTUAL_SUITE). Both
 * suites are compiled in every build, so neither rots; only this constant
 * differs. */
#ifndef PSI_MUTUAL_SUITE_OF_BUILD
#define PSI_MUTUAL_SUITE_OF_BUILD PSI_MUTUAL_SUITE_X25519
#endif
static const unsigned suite = PSI_MUTUAL_SUITE_OF_BUILD;

/* A suite's domain separation tags (blind.h). */
struct suite_dsts {
    const char *hash_to_group, *derive_key, *tag;
};

static const struct suite_dsts x25519_dsts = {
    .hash_to_group = PSI_MUTUAL_X25519_DST_HASH_TO_GROUP,
    .derive_key = PSI_MUTUAL_X25519_DST_DERIVE_KEY,
    .tag = PSI_MUTUAL_X25519_DST_TAG,
};
static const struct suite_dsts ristretto255_dsts = {
    .hash_to_group = PSI_MUTUAL_DST_HASH_TO_GROUP,
    .derive_key = PSI_MUTUAL_DST_DERIVE_KEY,
    .tag = PSI_MUTUAL_DST_TAG,
};

static const struct suite_dsts *dsts(void)
{
    return suite == PSI_MUTUAL_SUITE_X25519 ? &x25519_dsts : &ristretto255_dsts;
}

unsigned psi_mutual_suite(void)
{
    return suite;
}

const char *psi_mutual_suite_name(unsigned which)
{
    switch (which) {
    case PSI_MUTUAL_SUITE_X25519: return "X25519";
    case PSI_MUTUAL_SUITE_RISTRETTO255: return "ristretto255";
    default: return "unknown";
    }
}

/* The key is canonical and non-zero: a zero key would map every set to the
 * identity, a non-canonical one would be silently reduced by libsodium. */
static int check_key(const unsigned char key[32])
{
    return key == NULL ? PSI_ERR_INVALID : psi_group_check_nonzero_scalar(key);
}

/* H(x); the identity (probability about 2^-252) is refused. Constant time
 * in the input for both suites. */
static int hash_indicator(unsigned char point[32], const unsigned char *input, size_t len)
{
    const char *dst = dsts()->hash_to_group;
    struct psi_xmd_part part = {input, len};
    int rc;

    if (suite == PSI_MUTUAL_SUITE_X25519) {
        rc = psi_curve25519_hash_to_curve(point, NULL, &part, 1, (const unsigned char *)dst,
                                          strlen(dst));
    } else {
        rc = psi_group_hash_to_group(point, &part, 1, (const unsigned char *)dst, strlen(dst));
    }
    if (rc == PSI_OK && sodium_is_zero(point, PSI_ELEMENT_BYTES)) {
        rc = PSI_ERR_IDENTITY;
    }
    return rc;
}

int psi_mutual_derive_key(const unsigned char seed[32], const char *epoch, unsigned char key[32])
{
    unsigned char epoch_len_prefix[2];
    unsigned char counter_byte;
    unsigned char secret[PSI_SCALAR_BYTES];
    struct psi_xmd_part parts[4];
    size_t epoch_len;
    unsigned counter;
    int rc;

    if ((rc = psi_group_ready()) != PSI_OK) {
        return rc;
    }
    if (seed == NULL || epoch == NULL || key == NULL) {
        return PSI_ERR_INVALID;
    }
    epoch_len = strnlen(epoch, PSI_MUTUAL_MAX_EPOCH_BYTES + 1);
    if (epoch_len > PSI_MUTUAL_MAX_EPOCH_BYTES) {
        return PSI_ERR_TOO_LARGE;
    }
    if (!psi_epoch_label_is_valid(epoch)) {
        return PSI_ERR_INVALID;
    }
    epoch_len_prefix[0] = 0;
    epoch_len_prefix[1] = (unsigned char)epoch_len;
    parts[0].bytes = seed;
    parts[0].len = PSI_MUTUAL_SEED_BYTES;
    parts[1].bytes = epoch_len_prefix;
    parts[1].len = sizeof epoch_len_prefix;
    parts[2].bytes = (const unsigned char *)epoch;
    parts[2].len = epoch_len;
    parts[3].bytes = &counter_byte;
    parts[3].len = 1;

    rc = PSI_ERR_CRYPTO; /* unless a counter gives a non-zero scalar */
    for (counter = 0; counter <= 255; counter++) {
        int hrc;

        counter_byte = (unsigned char)counter;
        hrc = psi_group_hash_to_scalar(secret, parts, 4, (const unsigned char *)dsts()->derive_key,
                                       strlen(dsts()->derive_key));
        if (hrc != PSI_OK) {
            rc = hrc;
            break;
        }
        if (!sodium_is_zero(secret, sizeof secret)) {
            rc = PSI_OK;
            break;
        }
    }
    if (rc == PSI_OK) {
        memcpy(key, secret, sizeof secret);
    } else {
        sodium_memzero(key, PSI_SCALAR_BYTES);
    }
    sodium_memzero(secret, sizeof secret);
    return rc;
}

int psi_mutual_hash_to_group(const unsigned char *input, size_t len, unsigned char point[32])
{
    int rc;

    if ((rc = psi_group_ready()) != PSI_OK) {
        return rc;
    }
    if (point == NULL || (input == NULL && len != 0)) {
        return PSI_ERR_INVALID;
    }
    if (len > PSI_MUTUAL_MAX_INPUT_BYTES) {
        return PSI_ERR_TOO_LARGE;
    }
    rc = hash_indicator(point, input, len);
    if (rc != PSI_OK) {
        sodium_memzero(point, PSI_ELEMENT_BYTES);
    }
    return rc;
}

/* ---- batches ---- */

struct batch_job {
    unsigned char key[PSI_SCALAR_BYTES];
    const unsigned char *const *inputs; /* psi_blind_batch */
    const size_t *lens;
    const unsigned char *points; /* psi_reblind_batch, psi_tag_batch */
    unsigned char *out;
    crypto_hash_sha512_state tag_prefix; /* state after DST || context */
};

/* Elements per step of a range: the X25519 suite multiplies a step's
 * points together (psi_x25519_many: eight ladders side by side where the
 * CPU allows). A multiple of 8, and small enough for the stack. */
#define STEP 64

/* The elements of the step at `at` of a range ending at `end`. */
static size_t step_count(size_t at, size_t end)
{
    return end - at > STEP ? STEP : end - at;
}

/* out[i] = key * points[i] for the elements of one step (out may equal
 * points). X25519 fails only on an all-zero result (a small-order point, or
 * a key that is 0 mod the group order after clamping: never for a checked
 * element); ristretto255 on an encoding that does not decode (a non-zero
 * key times a valid non-identity point of a prime-order group is never the
 * identity). On a failure, *failed_at is the first failing index of the
 * step. */
static int mult_step(unsigned char *out, const unsigned char key[32], const unsigned char *points,
                     size_t count, size_t *failed_at)
{
    size_t i;
    int rc;

    if (suite == PSI_MUTUAL_SUITE_X25519) {
        return psi_x25519_many(out, key, points, count, failed_at);
    }
    for (i = 0; i < count; i++) {
        rc = psi_group_mult(out + i * PSI_ELEMENT_BYTES, key, points + i * PSI_ELEMENT_BYTES);
        if (rc != PSI_OK) {
            *failed_at = i;
            return rc;
        }
    }
    return PSI_OK;
}

/* The check of received elements before any multiplication: anything but
 * an element of the suite is refused (X25519: psi_curve25519_check_u;
 * ristretto255: the identity here, undecodable encodings in mult_step). */
static int check_step(const unsigned char *points, size_t count, size_t *failed_at)
{
    size_t i;
    int rc;

    for (i = 0; i < count; i++) {
        const unsigned char *point = points + i * PSI_ELEMENT_BYTES;

        if (suite == PSI_MUTUAL_SUITE_X25519) {
            rc = psi_curve25519_check_u(point);
        } else {
            rc = sodium_is_zero(point, PSI_ELEMENT_BYTES) ? PSI_ERR_IDENTITY : PSI_OK;
        }
        if (rc != PSI_OK) {
            *failed_at = i;
            return rc;
        }
    }
    return PSI_OK;
}

/* H(x) of a step's indicators into points (hash_indicator for each; the
 * X25519 suite hashes them together, psi_h2c_curve25519_hash_many). */
static int hash_step(unsigned char *points, const unsigned char *const *inputs, const size_t *lens,
                     size_t count, size_t *failed_at)
{
    const char *dst = dsts()->hash_to_group;
    size_t i;
    int rc;

    if (suite == PSI_MUTUAL_SUITE_X25519) {
        rc = psi_h2c_curve25519_hash_many(points, inputs, lens, count, (const unsigned char *)dst,
                                          strlen(dst), failed_at);
        if (rc != PSI_OK) {
            return rc;
        }
        for (i = 0; i < count; i++) {
            if (sodium_is_zero(points + i * PSI_ELEMENT_BYTES, PSI_ELEMENT_BYTES)) {
                *failed_at = i;
                return PSI_ERR_IDENTITY;
            }
        }
        return PSI_OK;
    }
    for (i = 0; i < count; i++) {
        rc = hash_indicator(points + i * PSI_ELEMENT_BYTES, inputs[i], lens[i]);
        if (rc != PSI_OK) {
            *failed_at = i;
            return rc;
        }
    }
    return PSI_OK;
}

static int blind_range(void *ctx, size_t begin, size_t end, size_t *failed_at)
{
    struct batch_job *job = ctx;
    unsigned char hashed[STEP * PSI_ELEMENT_BYTES];
    size_t at, bad = 0;
    int rc = PSI_OK;

    for (at = begin; at < end && rc == PSI_OK; at += STEP) {
        size_t count = step_count(at, end);

        rc = hash_step(hashed, job->inputs + at, job->lens + at, count, &bad);
        if (rc != PSI_OK) {
            *failed_at = at + bad;
        }
        if (rc == PSI_OK) {
            rc = mult_step(job->out + at * PSI_ELEMENT_BYTES, job->key, hashed, count, &bad);
            if (rc != PSI_OK) {
                *failed_at = at + bad;
            }
        }
    }
    sodium_memzero(hashed, sizeof hashed);
    return rc;
}

static int reblind_range(void *ctx, size_t begin, size_t end, size_t *failed_at)
{
    struct batch_job *job = ctx;
    size_t at, bad = 0;
    int rc = PSI_OK;

    for (at = begin; at < end && rc == PSI_OK; at += STEP) {
        size_t count = step_count(at, end);
        const unsigned char *points = job->points + at * PSI_ELEMENT_BYTES;

        if ((rc = check_step(points, count, &bad)) == PSI_OK) {
            rc = mult_step(job->out + at * PSI_ELEMENT_BYTES, job->key, points, count, &bad);
        }
        if (rc != PSI_OK) {
            *failed_at = at + bad;
        }
    }
    return rc;
}

static int tag_range(void *ctx, size_t begin, size_t end, size_t *failed_at)
{
    struct batch_job *job = ctx;
    unsigned char doubly_blinded[STEP * PSI_ELEMENT_BYTES];
    unsigned char digest[crypto_hash_sha512_BYTES];
    crypto_hash_sha512_state st;
    size_t at, i, bad = 0;
    int rc = PSI_OK;

    for (at = begin; at < end && rc == PSI_OK; at += STEP) {
        size_t count = step_count(at, end);
        const unsigned char *points = job->points + at * PSI_ELEMENT_BYTES;

        if ((rc = check_step(points, count, &bad)) == PSI_OK &&
            (rc = mult_step(doubly_blinded, job->key, points, count, &bad)) == PSI_OK) {
            for (i = 0; i < count; i++) {
                st = job->tag_prefix;
                crypto_hash_sha512_update(&st, doubly_blinded + i * PSI_ELEMENT_BYTES,
                                          PSI_ELEMENT_BYTES);
                crypto_hash_sha512_final(&st, digest);
                memcpy(job->out + (at + i) * PSI_TAG_BYTES, digest, PSI_TAG_BYTES);
            }
        }
        if (rc != PSI_OK) {
            *failed_at = at + bad;
        }
    }
    /* The doubly blinded points are what make tags: they must not outlive
     * them. */
    sodium_memzero(doubly_blinded, sizeof doubly_blinded);
    sodium_memzero(digest, sizeof digest);
    sodium_memzero(&st, sizeof st);
    return rc;
}

/* Common checks of the batch functions; out_size is the bytes per element
 * of the output. */
static int check_batch(const unsigned char key[32], size_t n, const void *in, const void *out,
                       size_t out_size)
{
    int rc;

    if ((rc = psi_group_ready()) != PSI_OK || (rc = check_key(key)) != PSI_OK) {
        return rc;
    }
    if (n != 0 && (in == NULL || out == NULL)) {
        return PSI_ERR_INVALID;
    }
    if (n > SIZE_MAX / PSI_ELEMENT_BYTES || n > SIZE_MAX / out_size) {
        return PSI_ERR_TOO_LARGE;
    }
    return PSI_OK;
}

static int finish(struct batch_job *job, int rc, unsigned char *out, size_t out_bytes)
{
    if (rc != PSI_OK && out != NULL) {
        sodium_memzero(out, out_bytes);
    }
    sodium_memzero(job, sizeof *job);
    return rc;
}

int psi_blind_batch(const unsigned char key[32], size_t n, const unsigned char *const *inputs,
                    const size_t *lens, unsigned char *out, unsigned threads)
{
    struct batch_job job;
    size_t failed_at = 0;
    size_t i;
    int rc;

    if ((rc = check_batch(key, n, inputs, out, PSI_ELEMENT_BYTES)) != PSI_OK) {
        return rc;
    }
    if (n != 0 && lens == NULL) {
        return PSI_ERR_INVALID;
    }
    /* Check every length before spending any scalar multiplication. */
    for (i = 0; i < n; i++) {
        if (inputs[i] == NULL && lens[i] != 0) {
            return PSI_ERR_INVALID;
        }
        if (lens[i] > PSI_MUTUAL_MAX_INPUT_BYTES) {
            return PSI_ERR_TOO_LARGE;
        }
    }
    memset(&job, 0, sizeof job);
    memcpy(job.key, key, sizeof job.key);
    job.inputs = inputs;
    job.lens = lens;
    job.out = out;
    rc = psi_parallel_for(n, threads, blind_range, &job, &failed_at);
    return finish(&job, rc, out, n * PSI_ELEMENT_BYTES);
}

int psi_reblind_batch(const unsigned char key[32], size_t n, const unsigned char *points,
                      unsigned char *out, size_t *bad_index, unsigned threads)
{
    struct batch_job job;
    size_t failed_at = 0;
    int rc;

    if ((rc = check_batch(key, n, points, out, PSI_ELEMENT_BYTES)) != PSI_OK) {
        return rc;
    }
    if (n != 0 && out != points) {
        /* Compared as integers: in place is fine, any other overlap is not. */
        uintptr_t in_at = (uintptr_t)points, out_at = (uintptr_t)out;
        size_t bytes = n * PSI_ELEMENT_BYTES;

        if (out_at - in_at < bytes || in_at - out_at < bytes) {
            return PSI_ERR_INVALID;
        }
    }
    memset(&job, 0, sizeof job);
    memcpy(job.key, key, sizeof job.key);
    job.points = points;
    job.out = out;
    rc = psi_parallel_for(n, threads, reblind_range, &job, &failed_at);
    if ((rc == PSI_ERR_ENCODING || rc == PSI_ERR_IDENTITY) && bad_index != NULL) {
        *bad_index = failed_at;
    }
    return finish(&job, rc, out, n * PSI_ELEMENT_BYTES);
}

int psi_tag_batch(const unsigned char key[32], size_t n, const unsigned char *points,
                  const unsigned char *context, size_t context_len, unsigned char *tags,
                  size_t *bad_index, unsigned threads)
{
    struct batch_job job;
    size_t failed_at = 0;
    int rc;

    if ((rc = check_batch(key, n, points, tags, PSI_TAG_BYTES)) != PSI_OK) {
        return rc;
    }
    if (context == NULL && context_len != 0) {
        return PSI_ERR_INVALID;
    }
    if (context_len > PSI_MUTUAL_MAX_CONTEXT_BYTES) {
        return PSI_ERR_TOO_LARGE;
    }
    memset(&job, 0, sizeof job);
    memcpy(job.key, key, sizeof job.key);
    job.points = points;
    job.out = tags;
    /* DST and context are the same for every tag: hash them once. */
    crypto_hash_sha512_init(&job.tag_prefix);
    crypto_hash_sha512_update(&job.tag_prefix, (const unsigned char *)dsts()->tag,
                              strlen(dsts()->tag));
    if (context_len != 0) {
        crypto_hash_sha512_update(&job.tag_prefix, context, context_len);
    }
    rc = psi_parallel_for(n, threads, tag_range, &job, &failed_at);
    if ((rc == PSI_ERR_ENCODING || rc == PSI_ERR_IDENTITY) && bad_index != NULL) {
        *bad_index = failed_at;
    }
    return finish(&job, rc, tags, n * PSI_TAG_BYTES);
}

int psi_unblind(const unsigned char key[32], const unsigned char point[32], unsigned char out[32])
{
    unsigned char inverse[PSI_SCALAR_BYTES];
    int rc;

    if ((rc = psi_group_ready()) != PSI_OK || (rc = check_key(key)) != PSI_OK) {
        return rc;
    }
    if (point == NULL || out == NULL) {
        return PSI_ERR_INVALID;
    }
    if (suite != PSI_MUTUAL_SUITE_RISTRETTO255) {
        return PSI_ERR_UNSUPPORTED;
    }
    if ((rc = psi_group_check_element(point)) != PSI_OK) {
        return rc;
    }
    if (crypto_core_ristretto255_scalar_invert(inverse, key) != 0) {
        rc = PSI_ERR_CRYPTO;
    } else {
        rc = psi_group_mult(out, inverse, point);
    }
    if (rc != PSI_OK) {
        sodium_memzero(out, PSI_ELEMENT_BYTES);
    }
    sodium_memzero(inverse, sizeof inverse);
    return rc;
}
