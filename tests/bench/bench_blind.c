/*
 * bench_blind: how close psi_blind_batch comes to perfect scaling.
 *
 * Measures, in one run on this machine,
 *   raw   - one thread doing, per element, what blinding costs at minimum
 *           in the build's mutual suite (psi/blind.h): for X25519 the hash to
 *           Curve25519 then psi_x25519_many (eight lanes where the CPU has
 *           AVX-512 IFMA, else crypto_scalarmult); for ristretto255
 *           expand_message_xmd(SHA-512), crypto_core_ristretto255_from_hash,
 *           then crypto_scalarmult_ristretto255;
 *   batch - psi_blind_batch over the same elements on every online core (or
 *           --threads T),
 *   raw_parallel - the raw loop run on `threads` plain pthreads at once, each
 *           on its own contiguous share (no libpsi pool),
 * checks that all produce the same points, and prints elements per second,
 * the core count and ratio = batch / (threads x raw); 1.0 is perfect scaling,
 * the target is >= 0.9. Two things besides libpsi lower that ratio: other load
 * on the machine (the 1-minute load average before the run is printed), and
 * CPUs that clock one busy core higher than all busy cores (turbo). The
 * second ratio, batch / raw_parallel, compares against the same work with
 * every core busy and so isolates libpsi's own overhead from both.
 *
 * Usage: bench_blind [--n N] [--threads T]   (N default 200000, T default 0 =
 * all online cores). The last line is machine-readable key=value pairs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "psi/blind.h"
#include "psi/curve25519.h"
#include "psi/error.h"
#include "psi/pool.h"
#include "psi/xmd.h"

#include "bench_util.h"

static const char usage[] = "usage: bench_blind [--n N] [--threads T]\n";

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_count(const char *text, unsigned long long max, unsigned long long *value)
{
    char *end;
    unsigned long long v;

    if (text == NULL || *text == '\0' || *text == '-') {
        return -1;
    }
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return -1;
    }
    *value = v;
    return 0;
}

/* The raw single-thread loop: nothing of libpsi but the hash of the build's
 * suite. X25519: psi_curve25519_hash_to_curve (RFC 9380, the project's field
 * code) then psi_x25519_many; ristretto255: the expander,
 * crypto_core_ristretto255_from_hash, crypto_scalarmult_ristretto255. */
static int raw_blind(const unsigned char key[32], size_t n, const unsigned char *const *inputs,
                     const size_t *lens, unsigned char *out)
{
    static const unsigned char dst_r255[] = PSI_MUTUAL_DST_HASH_TO_GROUP;
    static const unsigned char dst_x25519[] = PSI_MUTUAL_X25519_DST_HASH_TO_GROUP;
    int x25519 = psi_mutual_suite() == PSI_MUTUAL_SUITE_X25519;
    unsigned char uniform[64], hashed[32];
    size_t i;

    if (x25519) {
        /* Hashed into out, then multiplied in place 64 at a time by
         * psi_x25519_many, as psi/crypto/mutual.c does. */
        for (i = 0; i < n; i++) {
            struct psi_xmd_part part = {inputs[i], lens[i]};
            if (psi_curve25519_hash_to_curve(out + 32 * i, NULL, &part, 1, dst_x25519,
                                             sizeof dst_x25519 - 1) != PSI_OK) {
                return -1;
            }
            if ((i + 1) % 64 == 0 || i + 1 == n) {
                size_t first = i - i % 64;
                if (psi_x25519_many(out + 32 * first, key, out + 32 * first, i + 1 - first, NULL) !=
                    PSI_OK) {
                    return -1;
                }
            }
        }
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (psi_expand_message_xmd_sha512(uniform, sizeof uniform, inputs[i], lens[i], dst_r255,
                                          sizeof dst_r255 - 1) != PSI_OK ||
            crypto_core_ristretto255_from_hash(hashed, uniform) != 0 ||
            crypto_scalarmult_ristretto255(out + 32 * i, key, hashed) != 0) {
            return -1;
        }
    }
    return 0;
}

struct raw_share {
    const unsigned char *key;
    size_t begin, end;
    const unsigned char *const *inputs;
    const size_t *lens;
    unsigned char *out;
    int rc;
};

static void *raw_share_thread(void *arg)
{
    struct raw_share *share = arg;

    share->rc = raw_blind(share->key, share->end - share->begin, share->inputs + share->begin,
                          share->lens + share->begin, share->out + 32 * share->begin);
    return NULL;
}

/* The raw loop on `threads` plain threads over contiguous shares. */
static int raw_blind_parallel(const unsigned char key[32], size_t n,
                              const unsigned char *const *inputs, const size_t *lens,
                              unsigned char *out, unsigned threads)
{
    struct raw_share shares[PSI_POOL_MAX_THREADS];
    pthread_t ids[PSI_POOL_MAX_THREADS];
    unsigned t;
    int rc = 0;

    for (t = 0; t < threads; t++) {
        shares[t].key = key;
        shares[t].begin = n * t / threads;
        shares[t].end = n * (t + 1) / threads;
        shares[t].inputs = inputs;
        shares[t].lens = lens;
        shares[t].out = out;
        shares[t].rc = 0;
        if (pthread_create(&ids[t], NULL, raw_share_thread, &shares[t]) != 0) {
            rc = -1;
            break; /* join the threads already started */
        }
    }
    threads = t;
    for (t = 0; t < threads; t++) {
        (void)pthread_join(ids[t], NULL);
        rc |= shares[t].rc;
    }
    return rc;
}

int main(int argc, char **argv)
{
    unsigned long long n_arg = 200000, threads_arg = 0;
    unsigned char seed[32], key[32];
    const unsigned char **inputs;
    size_t *lens;
    char *text;
    unsigned char *raw_out, *batch_out, *parallel_out;
    size_t n, i, warmup;
    unsigned threads, cores;
    double t0, raw_seconds, batch_seconds, parallel_seconds;
    double raw_eps, batch_eps, parallel_eps, ratio, parallel_ratio, load;
    int a, rc, status = 1;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--n") == 0 && a + 1 < argc) {
            if (parse_count(argv[++a], 100000000ULL, &n_arg) != 0 || n_arg == 0) {
                fprintf(stderr, "bench_blind: --n wants a count from 1 to 100000000\n");
                return 2;
            }
        } else if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc) {
            if (parse_count(argv[++a], PSI_POOL_MAX_THREADS, &threads_arg) != 0) {
                fprintf(stderr, "bench_blind: --threads wants 0 to %u\n", PSI_POOL_MAX_THREADS);
                return 2;
            }
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "bench_blind: libsodium failed to initialise\n");
        return 1;
    }
    n = (size_t)n_arg;
    cores = psi_online_cores();
    threads = threads_arg == 0 ? cores : (unsigned)threads_arg;

    /* Indicators like the ones agencies hold: "ipv4:10.x.y.z". */
    text = malloc(n * 24);
    inputs = malloc(n * sizeof *inputs);
    lens = malloc(n * sizeof *lens);
    raw_out = malloc(n * 32);
    batch_out = malloc(n * 32);
    parallel_out = malloc(n * 32);
    if (text == NULL || inputs == NULL || lens == NULL || raw_out == NULL || batch_out == NULL ||
        parallel_out == NULL) {
        fprintf(stderr, "bench_blind: out of memory for %zu elements\n", n);
        goto done;
    }
    for (i = 0; i < n; i++) {
        int len = snprintf(text + 24 * i, 24, "ipv4:10.%u.%u.%u", (unsigned)((i >> 16) & 0xff),
                           (unsigned)((i >> 8) & 0xff), (unsigned)(i & 0xff));
        inputs[i] = (const unsigned char *)(text + 24 * i);
        lens[i] = (size_t)len;
    }
    randombytes_buf(seed, sizeof seed);
    if (psi_mutual_derive_key(seed, "bench", key) != PSI_OK) {
        fprintf(stderr, "bench_blind: key derivation failed\n");
        goto done;
    }
    load = bench_load_average();

    /* Warm caches and the CPU clock on both paths. */
    warmup = n < 2000 ? n : 2000;
    if (raw_blind(key, warmup, inputs, lens, raw_out) != 0 ||
        psi_blind_batch(key, warmup, inputs, lens, batch_out, threads) != PSI_OK) {
        fprintf(stderr, "bench_blind: warm-up failed\n");
        goto done;
    }

    t0 = now_seconds();
    if (raw_blind(key, n, inputs, lens, raw_out) != 0) {
        fprintf(stderr, "bench_blind: raw blinding failed\n");
        goto done;
    }
    raw_seconds = now_seconds() - t0;

    t0 = now_seconds();
    rc = psi_blind_batch(key, n, inputs, lens, batch_out, threads);
    batch_seconds = now_seconds() - t0;
    if (rc != PSI_OK) {
        fprintf(stderr, "bench_blind: psi_blind_batch: %s\n", psi_strerror(rc));
        goto done;
    }

    t0 = now_seconds();
    if (raw_blind_parallel(key, n, inputs, lens, parallel_out, threads) != 0) {
        fprintf(stderr, "bench_blind: parallel raw blinding failed\n");
        goto done;
    }
    parallel_seconds = now_seconds() - t0;

    if (memcmp(raw_out, batch_out, n * 32) != 0 || memcmp(raw_out, parallel_out, n * 32) != 0) {
        fprintf(stderr, "bench_blind: batch and raw results differ\n");
        goto done;
    }

    raw_eps = (double)n / raw_seconds;
    batch_eps = (double)n / batch_seconds;
    parallel_eps = (double)n / parallel_seconds;
    ratio = batch_eps / ((double)threads * raw_eps);
    parallel_ratio = batch_eps / parallel_eps;
    printf("elements:                     %zu\n", n);
    printf("online cores:                 %u (batch threads: %u)\n", cores, threads);
    printf("load average before run:      %.2f\n", load);
    printf("raw libsodium, 1 thread:      %.0f elements/s (%.2f s)\n", raw_eps, raw_seconds);
    printf("psi_blind_batch, %u threads:   %.0f elements/s (%.2f s)\n", threads, batch_eps,
           batch_seconds);
    printf("raw libsodium, %u threads:     %.0f elements/s (%.2f s)\n", threads, parallel_eps,
           parallel_seconds);
    printf("ratio batch/(threads*raw):    %.3f (target >= 0.9)\n", ratio);
    printf("ratio batch/raw on %u threads: %.3f\n", threads, parallel_ratio);
    printf("bench_blind n=%zu cores=%u threads=%u raw_eps=%.1f batch_eps=%.1f ratio=%.4f "
           "raw_parallel_eps=%.1f parallel_ratio=%.4f load1=%.2f\n",
           n, cores, threads, raw_eps, batch_eps, ratio, parallel_eps, parallel_ratio, load);

    status = 0;

done:
    sodium_memzero(key, sizeof key);
    sodium_memzero(seed, sizeof seed);
    free(text);
    free(inputs);
    free(lens);
    free(raw_out);
    free(batch_out);
    free(parallel_out);
    return status;
}
