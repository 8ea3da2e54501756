/*
 * bench_crossblind: the cryptographic floor of cross-blinding, for
 * bench_mutual.sh.
 *
 * Cross-blinding an element costs, at minimum, one ristretto255 scalar
 * multiplication of a received point (decoding and validating it included)
 * and one SHA-512 over the tag input (domain tag, epoch, pair, point). This
 * measures exactly that with plain libsodium on T threads at once, each on
 * its own share of the elements, so nothing of libpsi, the store or the wire
 * is in the figure. Submission's floor (hash-to-group and a multiplication)
 * is bench_blind's raw rate.
 *
 * Usage: bench_crossblind [--n N] [--threads T]   (N default 100000; T default
 * 0 = all online cores). The last line is machine-readable key=value pairs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#define MAX_THREADS 256
/* About the size of the real tag input: tag, epoch label, the pair's ids. */
#define TAG_CONTEXT "psi/mutual-tag/v1\0002026-W48\000agency-a\000agency-b"

struct share {
    const unsigned char *points;
    size_t count;
    const unsigned char *key;
    unsigned char digest[crypto_hash_sha512_BYTES];
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

static void *cross_blind_share(void *arg)
{
    struct share *s = arg;
    unsigned char point[crypto_core_ristretto255_BYTES];
    unsigned char hash[crypto_hash_sha512_BYTES];
    crypto_hash_sha512_state all;
    /* Folds every tag into one digest so that no work can be optimised away. */
    crypto_hash_sha512_init(&all);
    for (size_t i = 0; i < s->count; i++) {
        crypto_hash_sha512_state st;
        if (crypto_scalarmult_ristretto255(point, s->key,
                                           s->points + i * crypto_core_ristretto255_BYTES) != 0) {
            s->failed = 1;
            return NULL;
        }
        crypto_hash_sha512_init(&st);
        crypto_hash_sha512_update(&st, (const unsigned char *)TAG_CONTEXT, sizeof TAG_CONTEXT - 1);
        crypto_hash_sha512_update(&st, point, sizeof point);
        crypto_hash_sha512_final(&st, hash);
        crypto_hash_sha512_update(&all, hash, 16);
    }
    crypto_hash_sha512_final(&all, s->digest);
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned long long n_arg = 100000, threads_arg = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--n") == 0 && a + 1 < argc) {
            if (parse_count(argv[++a], 100000000ULL, &n_arg) != 0 || n_arg == 0) {
                fprintf(stderr, "bench_crossblind: --n wants a count from 1 to 100000000\n");
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
    size_t n = (size_t)n_arg;

    /* Elements as a submission holds them: valid, random group points. */
    unsigned char key[crypto_core_ristretto255_SCALARBYTES];
    int status = 1;
    unsigned started = 0;
    unsigned char *points = malloc(n * crypto_core_ristretto255_BYTES);
    struct share *shares = calloc(threads, sizeof *shares);
    pthread_t *ids = calloc(threads, sizeof *ids);
    if (points == NULL || shares == NULL || ids == NULL) {
        fprintf(stderr, "bench_crossblind: out of memory for %zu elements\n", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        crypto_core_ristretto255_random(points + i * crypto_core_ristretto255_BYTES);
    crypto_core_ristretto255_scalar_random(key);

    double start = now_seconds();
    size_t done = 0;
    for (unsigned t = 0; t < threads; t++) {
        size_t count = n / threads + (t < n % threads ? 1 : 0);
        shares[t].points = points + done * crypto_core_ristretto255_BYTES;
        shares[t].count = count;
        shares[t].key = key;
        done += count;
        if (pthread_create(&ids[t], NULL, cross_blind_share, &shares[t]) != 0) {
            fprintf(stderr, "bench_crossblind: cannot start thread %u\n", t);
            break;
        }
        started++;
    }
    int failed = 0;
    for (unsigned t = 0; t < started; t++) {
        pthread_join(ids[t], NULL);
        failed |= shares[t].failed;
    }
    double seconds = now_seconds() - start;
    if (started < threads)
        goto out;
    if (failed) {
        fprintf(stderr, "bench_crossblind: a scalar multiplication failed\n");
        goto out;
    }
    double eps = seconds > 0 ? (double)n / seconds : 0;
    printf("elements:                 %zu\n", n);
    printf("threads:                  %u (online cores %u)\n", threads, cores);
    printf("cross-blind floor:        %.0f elements/s (%.2f s)\n", eps, seconds);
    printf(
        "bench_crossblind n=%zu cores=%u threads=%u crossblind_eps=%.1f digest=%02x%02x%02x%02x\n",
        n, cores, threads, eps, shares[0].digest[0], shares[0].digest[1], shares[0].digest[2],
        shares[0].digest[3]);
    status = 0;
out:
    sodium_memzero(key, sizeof key);
    free(points);
    free(shares);
    free(ids);
    return status;
}
