/*
 * bench_crossblind: the cryptographic floor of cross-blinding, for
 * bench_mutual.sh, and the two mutual suites side by side (psi/blind.h).
 *
 * Cross-blinding an element costs, at minimum, one scalar multiplication of
 * a received element and one SHA-512 over the tag input (domain tag, epoch,
 * pair, element). This measures exactly that, without the library's pool or
 * checks, for both suites in the same run:
 *   ristretto255      - crypto_scalarmult_ristretto255 (decoding and
 *                       validating the point included);
 *   X25519 scalarmult - libsodium's crypto_scalarmult, point by point (its
 *                       small-order and all-zero checks included);
 *   X25519 many       - psi_x25519_many, 64 points a call, as the library's
 *                       X25519 suite multiplies (eight ladders side by side
 *                       where the CPU has AVX-512 IFMA, else the above);
 * first on one thread (the rate per core, and the ratios to ristretto255),
 * then on T threads at once, each on its own share of the elements; and
 * psi_tag_batch, the library's cross-blinding (element checks, pool, tags),
 * over the same elements on T threads, against the raw all-threads
 * crypto_scalarmult rate of the build's suite (issue #15's target: >= 0.9)
 * and against the build's floor (X25519 many, or ristretto255). Three
 * rounds alternate all of these and the best rate of each counts. And the
 * hash of one indicator to each group on one thread (expand_message_xmd
 * included): psi_curve25519_hash_to_curve for X25519 (RFC 9380, the
 * project's field code), psi_group_hash_to_group for ristretto255, the
 * X25519 hash of many at once (psi_h2c_curve25519_hash_many), and
 * psi_blind_batch on one thread (the build's suite: the X25519 hash is
 * batched there, its exponentiations in lanes). Nothing
 * of the store or the wire is in any figure. The load average before the
 * run is printed: the machine is shared.
 *
 * Usage: bench_crossblind [--n N] [--threads T]   (N default 100000; T default
 * 0 = all online cores). The one-thread runs take N / 4 elements. The last
 * line is machine-readable key=value pairs; crossblind_eps is the build's
 * floor on all threads (bench_mutual.sh's).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench_util.h"
#include "psi/blind.h"
#include "psi/curve25519.h"
#include "psi/error.h"
#include "psi/group.h"

#include "h2c_curve25519.h"

#define MAX_THREADS 256
#define HASH_COUNT 4000
#define ROUNDS 3
/* About the size of the real tag input: tag, epoch label, the pair's ids. */
#define TAG_CONTEXT "psi-mutual-v2-Tag\0002026-W48\000agency-a\000agency-b"

/* The floors measured: ristretto255's multiplication, X25519 point by
 * point (crypto_scalarmult) and X25519 by batches (psi_x25519_many, what
 * the library's X25519 suite uses: eight ladders side by side where the CPU
 * has AVX-512 IFMA, else crypto_scalarmult). */
enum suite_kind { SUITE_RISTRETTO255, SUITE_X25519, SUITE_X25519_MANY };
#define MANY_STEP 64 /* points per psi_x25519_many call, as psi/crypto/mutual.c */

struct share {
    const unsigned char *points;
    size_t count;
    const unsigned char *key;
    unsigned char digest[crypto_hash_sha512_BYTES];
    enum suite_kind suite;
    int failed;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_count(const char *text, unsigned long long max, unsigned long long *value)
{
    char *end = NULL;
    if (text == NULL || *text == '\0' || *text == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == NULL || *end != '\0' || v > max)
        return -1;
    *value = v;
    return 0;
}

/* The points of the step at `at` of a share of `count`. */
static size_t share_step(size_t count, size_t at)
{
    return count - at > MANY_STEP ? MANY_STEP : count - at;
}

static void *cross_blind_share(void *arg)
{
    struct share *s = arg;
    unsigned char points[MANY_STEP * 32];
    unsigned char hash[crypto_hash_sha512_BYTES];
    crypto_hash_sha512_state all;
    /* Folds every tag into one digest so that no work can be optimised away. */
    crypto_hash_sha512_init(&all);
    for (size_t at = 0; at < s->count; at += MANY_STEP) {
        size_t count = share_step(s->count, at);
        const unsigned char *in = s->points + at * 32;
        int rc = 0;
        if (s->suite == SUITE_X25519_MANY) {
            rc = psi_x25519_many(points, s->key, in, count, NULL) == PSI_OK ? 0 : -1;
        } else {
            for (size_t i = 0; i < count && rc == 0; i++) {
                rc = s->suite == SUITE_X25519
                         ? crypto_scalarmult(points + i * 32, s->key, in + i * 32)
                         : crypto_scalarmult_ristretto255(points + i * 32, s->key, in + i * 32);
            }
        }
        if (rc != 0) {
            s->failed = 1;
            return NULL;
        }
        for (size_t i = 0; i < count; i++) {
            crypto_hash_sha512_state st;
            crypto_hash_sha512_init(&st);
            crypto_hash_sha512_update(&st, (const unsigned char *)TAG_CONTEXT,
                                      sizeof TAG_CONTEXT - 1);
            crypto_hash_sha512_update(&st, points + i * 32, 32);
            crypto_hash_sha512_final(&st, hash);
            crypto_hash_sha512_update(&all, hash, 16);
        }
    }
    crypto_hash_sha512_final(&all, s->digest);
    return NULL;
}

/* Elements per second of the raw floor of one suite over n elements on
 * `threads` threads; -1 on a failure (reported). */
static double raw_rate(enum suite_kind suite, const unsigned char *points, size_t n,
                       const unsigned char *key, unsigned threads)
{
    struct share shares[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    unsigned started = 0;
    size_t done = 0;
    int failed = 0;
    memset(shares, 0, sizeof shares);
    double start = now_seconds();
    for (unsigned t = 0; t < threads; t++) {
        size_t count = n / threads + (t < n % threads ? 1 : 0);
        shares[t].suite = suite;
        shares[t].points = points + done * 32;
        shares[t].count = count;
        shares[t].key = key;
        done += count;
        if (pthread_create(&ids[t], NULL, cross_blind_share, &shares[t]) != 0) {
            fprintf(stderr, "bench_crossblind: cannot start thread %u\n", t);
            failed = 1;
            break;
        }
        started++;
    }
    for (unsigned t = 0; t < started; t++) {
        pthread_join(ids[t], NULL);
        failed |= shares[t].failed;
    }
    double seconds = now_seconds() - start;
    if (failed) {
        fprintf(stderr, "bench_crossblind: a scalar multiplication failed\n");
        return -1;
    }
    return seconds > 0 ? (double)n / seconds : 0;
}

/* The indicators the hash and blind costs are measured on, made once. */
static struct {
    char text[HASH_COUNT][32];
    const unsigned char *inputs[HASH_COUNT];
    size_t lens[HASH_COUNT];
    unsigned char out[HASH_COUNT * 32];
} ind;

static void make_indicators(void)
{
    for (unsigned i = 0; i < HASH_COUNT; i++) {
        int len = snprintf(ind.text[i], sizeof ind.text[i], "ipv4:10.%u.%u.%u", (i >> 16) & 0xffU,
                           (i >> 8) & 0xffU, i & 0xffU);
        ind.inputs[i] = (const unsigned char *)ind.text[i];
        ind.lens[i] = (size_t)len;
    }
}

/* Microseconds per hashed indicator on one thread, one by one, for one
 * suite; -1 on a failure. */
static double hash_cost_us(enum suite_kind suite)
{
    static const unsigned char dst_x25519[] = PSI_MUTUAL_X25519_DST_HASH_TO_GROUP;
    static const unsigned char dst_r255[] = PSI_MUTUAL_DST_HASH_TO_GROUP;
    double start = now_seconds();
    for (unsigned i = 0; i < HASH_COUNT; i++) {
        struct psi_xmd_part part = {ind.inputs[i], ind.lens[i]};
        int rc = suite == SUITE_X25519
                     ? psi_curve25519_hash_to_curve(ind.out, NULL, &part, 1, dst_x25519,
                                                    sizeof dst_x25519 - 1)
                     : psi_group_hash_to_group(ind.out, &part, 1, dst_r255, sizeof dst_r255 - 1);
        if (rc != PSI_OK)
            return -1;
    }
    return (now_seconds() - start) * 1e6 / HASH_COUNT;
}

/* Microseconds per indicator of the X25519 hash of HASH_COUNT indicators at
 * once (psi_h2c_curve25519_hash_many, as psi_blind_batch calls it); -1 on a
 * failure. */
static double hash_many_cost_us(void)
{
    static const unsigned char dst[] = PSI_MUTUAL_X25519_DST_HASH_TO_GROUP;
    size_t failed_at = 0;
    double start = now_seconds();
    if (psi_h2c_curve25519_hash_many(ind.out, ind.inputs, ind.lens, HASH_COUNT, dst, sizeof dst - 1,
                                     &failed_at) != PSI_OK)
        return -1;
    return (now_seconds() - start) * 1e6 / HASH_COUNT;
}

/* Microseconds per indicator of psi_blind_batch on one thread, the build's
 * suite: the library's submission work (the hash, batched for X25519, and
 * the multiplication). -1 on a failure. */
static double blind_cost_us(const unsigned char key[32])
{
    double start = now_seconds();
    if (psi_blind_batch(key, HASH_COUNT, ind.inputs, ind.lens, ind.out, 1) != PSI_OK)
        return -1;
    return (now_seconds() - start) * 1e6 / HASH_COUNT;
}

int main(int argc, char **argv)
{
    unsigned long long n_arg = 100000, threads_arg = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--n") == 0 && a + 1 < argc) {
            if (parse_count(argv[++a], 100000000ULL, &n_arg) != 0 || n_arg < 4) {
                fprintf(stderr, "bench_crossblind: --n wants a count from 4 to 100000000\n");
                return 2;
            }
        } else if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc) {
            if (parse_count(argv[++a], MAX_THREADS, &threads_arg) != 0) {
                fprintf(stderr, "bench_crossblind: --threads wants 0 to %d\n", MAX_THREADS);
                return 2;
            }
        } else {
            fputs("usage: bench_crossblind [--n N] [--threads T]\n", stderr);
            return 2;
        }
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "bench_crossblind: libsodium failed to initialise\n");
        return 1;
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned cores = online > 0 ? (unsigned)online : 1u;
    unsigned threads = threads_arg ? (unsigned)threads_arg : cores;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    size_t n = (size_t)n_arg, n_one = n / 4;
    double load = bench_load_average();
    int x25519_build = psi_mutual_suite() == PSI_MUTUAL_SUITE_X25519;

    /* Elements as a submission holds them: valid, random elements. */
    unsigned char key[32], seed[32];
    int status = 1;
    unsigned char *r255_points = malloc(n * 32);
    unsigned char *x_points = malloc(n * 32);
    unsigned char *tags = malloc(n * PSI_TAG_BYTES);
    if (r255_points == NULL || x_points == NULL || tags == NULL) {
        fprintf(stderr, "bench_crossblind: out of memory for %zu elements\n", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char scalar[32];
        crypto_core_ristretto255_random(r255_points + i * 32);
        randombytes_buf(scalar, sizeof scalar);
        if (crypto_scalarmult_base(x_points + i * 32, scalar) != 0) {
            fprintf(stderr, "bench_crossblind: cannot make an X25519 element\n");
            goto out;
        }
    }
    /* A per-epoch key as the parties derive it: valid in both suites. */
    randombytes_buf(seed, sizeof seed);
    if (psi_mutual_derive_key(seed, "2026-W48", key) != PSI_OK) {
        fprintf(stderr, "bench_crossblind: key derivation failed\n");
        goto out;
    }

    /* Rounds alternate the suites and the library and the best of each
     * counts: other load on the machine only ever lowers a rate, and
     * alternating spreads it over all of them alike. */
    const unsigned char *suite_points = x25519_build ? x_points : r255_points;
    static const unsigned char context[] = "\x08"
                                           "2026-W48"
                                           "\x08"
                                           "agency-a"
                                           "\x08"
                                           "agency-b";
    double r255_core = 0, x_core = 0, many_core = 0, r255_all = 0, x_all = 0, many_all = 0;
    double lib_all = 0;
    double hash_x = -1, hash_r255 = -1, hash_many = -1, blind_us = -1;
    make_indicators();
    for (int round = 0; round < ROUNDS; round++) {
        /* The one-thread costs of hashing first: after the all-thread runs
         * this machine's cores run slower for a while. */
        double hx = hash_cost_us(SUITE_X25519), hr = hash_cost_us(SUITE_RISTRETTO255);
        double hm = hash_many_cost_us(), bu = blind_cost_us(key);
        if (hx < 0 || hr < 0 || hm < 0 || bu < 0) {
            fprintf(stderr, "bench_crossblind: hashing failed\n");
            goto out;
        }
        hash_x = hash_x < 0 || hx < hash_x ? hx : hash_x;
        hash_r255 = hash_r255 < 0 || hr < hash_r255 ? hr : hash_r255;
        hash_many = hash_many < 0 || hm < hash_many ? hm : hash_many;
        blind_us = blind_us < 0 || bu < blind_us ? bu : blind_us;
        double r = raw_rate(SUITE_RISTRETTO255, r255_points, n_one, key, 1);
        double x = raw_rate(SUITE_X25519, x_points, n_one, key, 1);
        double m = raw_rate(SUITE_X25519_MANY, x_points, n_one, key, 1);
        double ra = raw_rate(SUITE_RISTRETTO255, r255_points, n, key, threads);
        double xa = raw_rate(SUITE_X25519, x_points, n, key, threads);
        double ma = raw_rate(SUITE_X25519_MANY, x_points, n, key, threads);
        if (r < 0 || x < 0 || m < 0 || ra < 0 || xa < 0 || ma < 0)
            goto out;
        /* The library's cross-blinding of the build's suite, all threads. */
        double start = now_seconds();
        int rc =
            psi_tag_batch(key, n, suite_points, context, sizeof context - 1, tags, NULL, threads);
        double lib_seconds = now_seconds() - start;
        if (rc != PSI_OK) {
            fprintf(stderr, "bench_crossblind: psi_tag_batch: %s\n", psi_strerror(rc));
            goto out;
        }
        double lib = lib_seconds > 0 ? (double)n / lib_seconds : 0;
        r255_core = r > r255_core ? r : r255_core;
        x_core = x > x_core ? x : x_core;
        many_core = m > many_core ? m : many_core;
        r255_all = ra > r255_all ? ra : r255_all;
        x_all = xa > x_all ? xa : x_all;
        many_all = ma > many_all ? ma : many_all;
        lib_all = lib > lib_all ? lib : lib_all;
    }
    /* The build's floor: what its suite's cross-blinding can reach at best. */
    double suite_all = x25519_build ? many_all : r255_all;
    double scalarmult_all = x25519_build ? x_all : r255_all;

    printf("elements:                     %zu (one-thread runs: %zu)\n", n, n_one);
    printf("threads:                      %u (online cores %u)\n", threads, cores);
    printf("load average before run:      %.2f\n", load);
    printf("psi_x25519_many:              %s\n", psi_x25519_implementation());
    printf("per core, ristretto255:       %.0f elements/s (%.1f us each)\n", r255_core,
           1e6 / r255_core);
    printf("per core, X25519 scalarmult:  %.0f elements/s (%.1f us each)\n", x_core, 1e6 / x_core);
    printf("per core, X25519 many:        %.0f elements/s (%.1f us each)\n", many_core,
           1e6 / many_core);
    printf("per core, X25519/ristretto255: %.2fx by psi_x25519_many (target >= 1.9), %.2fx by "
           "crypto_scalarmult\n",
           many_core / r255_core, x_core / r255_core);
    printf("%u threads, ristretto255:      %.0f elements/s\n", threads, r255_all);
    printf("%u threads, X25519 scalarmult: %.0f elements/s\n", threads, x_all);
    printf("%u threads, X25519 many:       %.0f elements/s\n", threads, many_all);
    printf("psi_tag_batch (%s), %u threads: %.0f elements/s = %.3f x raw %s (target >= 0.9), "
           "%.3f x the build's floor\n",
           psi_mutual_suite_name(psi_mutual_suite()), threads, lib_all, lib_all / scalarmult_all,
           x25519_build ? "crypto_scalarmult" : "crypto_scalarmult_ristretto255",
           lib_all / suite_all);
    printf("hash per element, 1 thread:   X25519 %.1f us, ristretto255 %.1f us (one by one); "
           "X25519 batched %.1f us\n",
           hash_x, hash_r255, hash_many);
    printf("psi_blind_batch (%s), 1 thread: %.1f us an indicator (hash and multiplication)\n",
           psi_mutual_suite_name(psi_mutual_suite()), blind_us);
    printf("bench_crossblind n=%zu cores=%u threads=%u load1=%.2f suite=%s x25519_impl=%s "
           "crossblind_eps=%.1f r255_core_eps=%.1f x25519_core_eps=%.1f many_core_eps=%.1f "
           "core_speedup=%.3f scalarmult_core_speedup=%.3f r255_eps=%.1f x25519_eps=%.1f "
           "many_eps=%.1f lib_eps=%.1f lib_ratio=%.3f lib_floor_ratio=%.3f hash_x25519_us=%.2f "
           "hash_r255_us=%.2f hash_x25519_many_us=%.2f blind_us=%.2f\n",
           n, cores, threads, load, psi_mutual_suite_name(psi_mutual_suite()),
           psi_x25519_implementation(), suite_all, r255_core, x_core, many_core,
           many_core / r255_core, x_core / r255_core, r255_all, x_all, many_all, lib_all,
           lib_all / scalarmult_all, lib_all / suite_all, hash_x, hash_r255, hash_many, blind_us);
    status = 0;
out:
    sodium_memzero(key, sizeof key);
    sodium_memzero(seed, sizeof seed);
    free(r255_points);
    free(x_points);
    free(tags);
    return status;
}
