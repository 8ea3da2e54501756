/*
 * bench_feed: what protocol 2 (blinded vendor feeds) costs, in one run.
 *
 *   publish   - the vendor's work for an N-item feed: psi_oprf_evaluate
 *               (VOPRF mode) of every item over all online cores, then
 *               psi_feed_filter_build; compared with the raw evaluation floor
 *               measured in the same run: one thread's psi_oprf_evaluate per
 *               item (timed on a sample) x N / cores. ratio = publish / floor;
 *               1.0 would be perfect scaling with a free filter.
 *   size      - the filter's bits per item against log2(1/rate) (the
 *               information-theoretic bound) and 1.44 x log2(1/rate) (an
 *               optimal Bloom filter), and its file size.
 *   query     - per indicator of a batch of B: the agency's psi_oprf_blind,
 *               its share of one psi_voprf_verify, psi_oprf_finalize and the
 *               filter check; the vendor's psi_oprf_blind_evaluate and its
 *               share of one psi_voprf_prove. prove and verify spread over
 *               the cores (psi/oprf.h); the rest is one thread. Every planted
 *               member must be found.
 *   fp        - false positives of the filter over M fresh non-members, at
 *               the stated rate and at 1e-6 (same items, so the count is
 *               meaningful: ~M x 1e-6 expected).
 *
 * Usage: bench_feed [--n N] [--rate R] [--batch B] [--fp-queries M]
 *   (defaults 1000000, 1e-9, 1000, 10000000). Prints a table and a last line
 *   of key=value pairs. Not a test: ctest never runs it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "psi/error.h"
#include "psi/feedfilter.h"
#include "psi/oprf.h"
#include "psi/pool.h"

#include "bench_util.h"

#define EPOCH "2026-W48"
#define VENDOR "bench-vendor"
#define ITEM_MAX 64

static const char usage[] = "usage: bench_feed [--n N] [--rate R] [--batch B] [--fp-queries M]\n";

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Item i of the feed (or, with `query` set, an indicator no feed holds). */
static size_t item_text(char out[ITEM_MAX], size_t i, int query)
{
    int n = snprintf(out, ITEM_MAX, "domain:%s-%zu.example.net", query ? "q" : "feed", i);
    return n < 0 ? 0 : (size_t)n;
}

struct evaluate_job {
    const unsigned char *sk;
    unsigned char *outputs;
};

static int evaluate_range(void *ctx, size_t begin, size_t end, size_t *failed_at)
{
    struct evaluate_job *job = ctx;
    char text[ITEM_MAX];
    size_t i;
    int rc;

    for (i = begin; i < end; i++) {
        size_t len = item_text(text, i, 0);
        rc = psi_oprf_evaluate(PSI_OPRF_MODE_VOPRF, job->sk, (const unsigned char *)text, len,
                               job->outputs + i * PSI_OPRF_OUTPUT_BYTES);
        if (rc != PSI_OK) {
            *failed_at = i;
            return rc;
        }
    }
    return PSI_OK;
}

static int parse_size(const char *text, size_t *value)
{
    char *end;
    unsigned long long v;

    if (text == NULL || *text == '\0' || *text == '-') {
        return -1;
    }
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > (1ULL << 32)) {
        return -1;
    }
    *value = (size_t)v;
    return 0;
}

static int parse_rate(const char *text, double *value)
{
    char *end;
    double v;

    if (text == NULL || *text == '\0') {
        return -1;
    }
    errno = 0;
    v = strtod(text, &end);
    if (errno != 0 || *end != '\0' || !(v > 0.0)) {
        return -1;
    }
    *value = v;
    return 0;
}

static size_t count_false_positives(const struct psi_feed_filter *filter, size_t queries)
{
    unsigned char seed[randombytes_SEEDBYTES];
    unsigned char block[1024 * PSI_FEED_FILTER_ITEM_BYTES];
    size_t done = 0;
    size_t positives = 0;
    uint64_t round = 0;

    while (done < queries) {
        size_t n = queries - done < 1024 ? queries - done : 1024;
        size_t i;

        memset(seed, 0x5a, sizeof seed);
        memcpy(seed, &round, sizeof round);
        randombytes_buf_deterministic(block, n * PSI_FEED_FILTER_ITEM_BYTES, seed);
        for (i = 0; i < n; i++) {
            positives +=
                psi_feed_filter_contains(filter, block + i * PSI_FEED_FILTER_ITEM_BYTES) == 1;
        }
        done += n;
        round++;
    }
    return positives;
}

int main(int argc, char **argv)
{
    size_t n = 1000000, batch = 1000, fp_queries = 10000000;
    double rate = PSI_FEED_FILTER_DEFAULT_RATE;
    unsigned char seed[PSI_OPRF_SEED_BYTES], sk[32], pk[32];
    unsigned char *outputs, *blinds, *blinded, *evaluated, *finals;
    unsigned char proof[PSI_OPRF_PROOF_BYTES];
    char text[ITEM_MAX];
    struct evaluate_job job;
    struct psi_feed_filter_params params;
    struct psi_feed_filter *filter = NULL, *filter6 = NULL;
    struct psi_feed_filter_info info, info6;
    char err[256];
    unsigned cores;
    size_t sample, i, found = 0, planted, fp, fp6, members_checked;
    double t0, t_single, t_eval, t_build, floor_s, publish_s;
    double t_blind, t_verify, t_finalize, t_check, t_beval, t_prove, t_check_miss;
    double bits_per_item, lg, load_before;
    int rc, status = 1;

    for (i = 1; i < (size_t)argc; i += 2) {
        const char *value = i + 1 < (size_t)argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--n") == 0 && parse_size(value, &n) == 0) {
            continue;
        }
        if (strcmp(argv[i], "--batch") == 0 && parse_size(value, &batch) == 0 &&
            batch <= PSI_VOPRF_MAX_BATCH) {
            continue;
        }
        if (strcmp(argv[i], "--fp-queries") == 0 && parse_size(value, &fp_queries) == 0) {
            continue;
        }
        if (strcmp(argv[i], "--rate") == 0 && parse_rate(value, &rate) == 0) {
            continue;
        }
        fputs(usage, stderr);
        return 2;
    }
    if (sodium_init() < 0) {
        fputs("bench_feed: libsodium failed to initialise\n", stderr);
        return 1;
    }
    cores = psi_online_cores();
    load_before = bench_load_average();
    randombytes_buf(seed, sizeof seed);
    rc = psi_oprf_derive_keypair(PSI_OPRF_MODE_VOPRF, seed, (const unsigned char *)EPOCH,
                                 strlen(EPOCH), sk, pk);
    if (rc != PSI_OK) {
        fprintf(stderr, "bench_feed: key derivation: %s\n", psi_strerror(rc));
        return 1;
    }
    outputs = malloc(n * PSI_OPRF_OUTPUT_BYTES);
    blinds = malloc(batch * 32);
    blinded = malloc(batch * 32);
    evaluated = malloc(batch * 32);
    finals = malloc(batch * PSI_OPRF_OUTPUT_BYTES);
    if (outputs == NULL || blinds == NULL || blinded == NULL || evaluated == NULL ||
        finals == NULL) {
        fputs("bench_feed: out of memory\n", stderr);
        goto done;
    }
    job.sk = sk;
    job.outputs = outputs;

    /* The floor: one thread, psi_oprf_evaluate alone, on a sample. */
    sample = n < 20000 ? n : 20000;
    t0 = now_seconds();
    if ((rc = evaluate_range(&job, 0, sample, &i)) != PSI_OK) {
        fprintf(stderr, "bench_feed: evaluate: %s\n", psi_strerror(rc));
        goto done;
    }
    t_single = (now_seconds() - t0) / (double)sample;
    floor_s = t_single * (double)n / (double)cores;

    /* Publish: every item over all cores, then the filter. */
    t0 = now_seconds();
    if ((rc = psi_parallel_for(n, 0, evaluate_range, &job, &i)) != PSI_OK) {
        fprintf(stderr, "bench_feed: evaluate item %zu: %s\n", i, psi_strerror(rc));
        goto done;
    }
    t_eval = now_seconds() - t0;
    params.epoch = EPOCH;
    params.vendor = VENDOR;
    params.vendor_key = pk;
    params.rate = rate;
    params.target_shard_bits = 0;
    t0 = now_seconds();
    rc = psi_feed_filter_build(&filter, &params, outputs, n, err, sizeof err);
    t_build = now_seconds() - t0;
    if (rc != PSI_OK || psi_feed_filter_get_info(filter, &info) != PSI_OK) {
        fprintf(stderr, "bench_feed: filter: %s\n", err);
        goto done;
    }
    publish_s = t_eval + t_build;

    /* One query batch: half planted members (items 0, 2, 4, ...), half not. */
    planted = (batch + 1) / 2;
    t0 = now_seconds();
    for (i = 0; i < batch; i++) {
        size_t len = i < planted ? item_text(text, 2 * i, 0) : item_text(text, i, 1);
        rc = psi_oprf_blind(PSI_OPRF_MODE_VOPRF, (const unsigned char *)text, len, NULL,
                            blinds + 32 * i, blinded + 32 * i);
        if (rc != PSI_OK) {
            fprintf(stderr, "bench_feed: blind: %s\n", psi_strerror(rc));
            goto done;
        }
    }
    t_blind = now_seconds() - t0;
    t0 = now_seconds();
    for (i = 0; i < batch; i++) {
        if (psi_oprf_blind_evaluate(sk, blinded + 32 * i, evaluated + 32 * i) != PSI_OK) {
            fputs("bench_feed: blind evaluate failed\n", stderr);
            goto done;
        }
    }
    t_beval = now_seconds() - t0;
    t0 = now_seconds();
    if (psi_voprf_prove(sk, pk, batch, blinded, evaluated, NULL, proof) != PSI_OK) {
        fputs("bench_feed: prove failed\n", stderr);
        goto done;
    }
    t_prove = now_seconds() - t0;
    t0 = now_seconds();
    if (psi_voprf_verify(pk, batch, blinded, evaluated, proof) != PSI_OK) {
        fputs("bench_feed: the batch proof does not verify\n", stderr);
        goto done;
    }
    t_verify = now_seconds() - t0;
    t0 = now_seconds();
    for (i = 0; i < batch; i++) {
        size_t len = i < planted ? item_text(text, 2 * i, 0) : item_text(text, i, 1);
        if (psi_oprf_finalize(PSI_OPRF_MODE_VOPRF, (const unsigned char *)text, len,
                              blinds + 32 * i, evaluated + 32 * i,
                              finals + PSI_OPRF_OUTPUT_BYTES * i) != PSI_OK) {
            fputs("bench_feed: finalize failed\n", stderr);
            goto done;
        }
    }
    t_finalize = now_seconds() - t0;
    sodium_memzero(blinds, batch * 32);
    for (i = 0; i < batch; i++) {
        found += psi_feed_filter_contains(filter, finals + PSI_OPRF_OUTPUT_BYTES * i) == 1;
    }
    if (found < planted) {
        fprintf(stderr, "bench_feed: only %zu of %zu planted members found\n", found, planted);
        goto done;
    }
    /* Filter checks alone, members (all probes) and non-members (early exit). */
    members_checked = n < 1000000 ? n : 1000000;
    t0 = now_seconds();
    /* cppcheck 2.10 wrongly calls the loop condition always false */
    // cppcheck-suppress knownConditionTrueFalse
    for (i = 0; i < members_checked; i++) {
        if (psi_feed_filter_contains(filter, outputs + PSI_OPRF_OUTPUT_BYTES * i) != 1) {
            fprintf(stderr, "bench_feed: false negative at item %zu\n", i);
            goto done;
        }
    }
    t_check = (now_seconds() - t0) / (double)members_checked;
    t0 = now_seconds();
    fp = count_false_positives(filter, fp_queries);
    t_check_miss = (now_seconds() - t0) / (double)fp_queries;

    params.rate = 1e-6;
    rc = psi_feed_filter_build(&filter6, &params, outputs, n, err, sizeof err);
    if (rc != PSI_OK || psi_feed_filter_get_info(filter6, &info6) != PSI_OK) {
        fprintf(stderr, "bench_feed: filter at 1e-6: %s\n", err);
        goto done;
    }
    fp6 = count_false_positives(filter6, fp_queries);

    lg = log2(1.0 / info.rate);
    bits_per_item = (double)info.total_bits / (double)n;
    printf("bench_feed: %zu items, stated rate %g, %u cores, load average before %.2f\n", n,
           info.rate, cores, load_before);
    printf("%-44s %14s\n", "measure", "value");
    printf("%-44s %14.2f\n", "evaluate, 1 thread (us/item)", t_single * 1e6);
    printf("%-44s %14.2f\n", "raw floor: 1 thread x N / cores (s)", floor_s);
    printf("%-44s %14.2f\n", "publish: evaluate all cores (s)", t_eval);
    printf("%-44s %14.3f\n", "publish: filter build (s)", t_build);
    printf("%-44s %14.2f\n", "publish total (s)", publish_s);
    printf("%-44s %14.3f\n", "ratio publish / floor", publish_s / floor_s);
    printf("%-44s %14u\n", "shards", info.shard_count);
    printf("%-44s %14.2f\n", "filter bits per item", bits_per_item);
    printf("%-44s %14.2f\n", "log2(1/rate)", lg);
    printf("%-44s %14.2f\n", "1.44 x log2(1/rate)", 1.4427 * lg);
    printf("%-44s %14.3f\n", "bits per item / log2(1/rate)", bits_per_item / lg);
    printf("%-44s %14.2f\n", "filter file (MiB)", (double)info.encoded_bytes / 1048576.0);
    printf("%-44s %14u\n", "bit probes per positive query", info.max_probes);
    printf("%-44s %14.3g\n", "formula rate at libbloom's parameters", info.formula_rate);
    printf("%-44s %14zu\n", "query batch size", batch);
    printf("%-44s %14.2f\n", "agency: blind (us/indicator)", t_blind / (double)batch * 1e6);
    printf("%-44s %14.2f\n", "agency: verify share (us/indicator)", t_verify / (double)batch * 1e6);
    printf("%-44s %14.2f\n", "agency: finalize (us/indicator)", t_finalize / (double)batch * 1e6);
    printf("%-44s %14.3f\n", "agency: filter check, member (us)", t_check * 1e6);
    printf("%-44s %14.3f\n", "agency: filter check, non-member (us)", t_check_miss * 1e6);
    printf("%-44s %14.2f\n", "agency total (us/indicator)",
           (t_blind + t_verify + t_finalize) / (double)batch * 1e6 + t_check * 1e6);
    printf("%-44s %14.2f\n", "vendor: blind evaluate (us/indicator)",
           t_beval / (double)batch * 1e6);
    printf("%-44s %14.2f\n", "vendor: prove share (us/indicator)", t_prove / (double)batch * 1e6);
    printf("%-44s %14.2f\n", "vendor total (us/indicator)",
           (t_beval + t_prove) / (double)batch * 1e6);
    printf("%-44s %14zu\n", "planted members found", found);
    printf("%-44s %14zu\n", "false-positive queries (non-members)", fp_queries);
    printf("%-44s %9zu (exp %.3g)\n", "false positives at stated rate", fp,
           (double)fp_queries * info.rate);
    printf("%-44s %9zu (exp %.3g)\n", "false positives, same items at 1e-6", fp6,
           (double)fp_queries * info6.formula_rate);
    printf("n=%zu rate=%g cores=%u load=%.2f eval_us_1t=%.3f floor_s=%.3f eval_s=%.3f "
           "build_s=%.3f publish_s=%.3f ratio=%.3f bits_per_item=%.3f log2_inv_rate=%.3f "
           "file_bytes=%llu agency_us=%.3f vendor_us=%.3f fp=%zu fp6=%zu fp_queries=%zu\n",
           n, info.rate, cores, load_before, t_single * 1e6, floor_s, t_eval, t_build, publish_s,
           publish_s / floor_s, bits_per_item, lg, (unsigned long long)info.encoded_bytes,
           (t_blind + t_verify + t_finalize) / (double)batch * 1e6 + t_check * 1e6,
           (t_beval + t_prove) / (double)batch * 1e6, fp, fp6, fp_queries);
    status = 0;

done:
    psi_feed_filter_free(filter);
    psi_feed_filter_free(filter6);
    free(outputs);
    free(blinds);
    free(blinded);
    free(evaluated);
    free(finals);
    return status;
}
