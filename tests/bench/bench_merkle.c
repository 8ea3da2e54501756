/*
 * bench_merkle: what the audit log's Merkle tree costs at hub scale.
 *
 * Builds a log of N leaves in memory the way the hub would (a frontier that
 * hands every completed subtree hash to the store), then measures, with the
 * stored subtree hashes: the root, inclusion proofs of random leaves and
 * consistency proofs between random sizes (time and store reads per proof),
 * and, for comparison, one inclusion proof from leaf hashes alone. Every
 * proof is verified. The last line is machine-readable key=value pairs.
 *
 * Usage: bench_merkle [--n N] [--proofs P]   (N default 1000000, P 10000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "psi/error.h"
#include "psi/merkle.h"

struct store {
    uint64_t size;
    unsigned char (*leaves)[32];
    unsigned char (*levels[64])[32];
    uint64_t reads;
};

static int store_leaf(void *ctx, uint64_t index, unsigned char hash[32])
{
    struct store *s = ctx;
    s->reads++;
    memcpy(hash, s->leaves[index], 32);
    return PSI_OK;
}

static int store_subtree(void *ctx, unsigned level, uint64_t index, unsigned char hash[32])
{
    struct store *s = ctx;
    s->reads++;
    if (s->levels[level] == NULL)
        return PSI_ERR_NOT_FOUND;
    memcpy(hash, s->levels[level][index], 32);
    return PSI_OK;
}

static int store_sink(void *ctx, unsigned level, uint64_t index, const unsigned char hash[32])
{
    struct store *s = ctx;
    memcpy(s->levels[level][index], hash, 32);
    return PSI_OK;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000, proofs = 10000;
    struct store s;
    struct psi_merkle_frontier f;
    struct psi_merkle_reader stored, plain;
    unsigned char root[32], froot[32], old_root[32];
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32];
    size_t count = 0;
    uint64_t incl_reads = 0, cons_reads = 0, plain_reads;
    double t0, t_build, t_root, t_incl, t_cons, t_plain;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--n") == 0)
            n = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--proofs") == 0)
            proofs = strtoull(argv[i + 1], NULL, 10);
    }
    if (n < 2 || sodium_init() < 0)
        return 2;
    memset(&s, 0, sizeof s);
    s.size = n;
    s.leaves = malloc(n * 32);
    int status = 1, out_of_memory = s.leaves == NULL;
    for (unsigned l = 1; l < 64 && (n >> l) > 0; l++) {
        s.levels[l] = malloc((n >> l) * 32);
        out_of_memory |= s.levels[l] == NULL;
    }
    if (out_of_memory) {
        fprintf(stderr, "bench_merkle: out of memory for %llu leaves\n", (unsigned long long)n);
        status = 2;
        goto done;
    }

    t0 = now();
    psi_merkle_frontier_init(&f);
    for (uint64_t i = 0; i < n; i++) {
        psi_merkle_leaf_hash(s.leaves[i], (const unsigned char *)&i, sizeof i);
        if (psi_merkle_frontier_append(&f, s.leaves[i], store_sink, &s) != 0)
            goto done;
    }
    t_build = now() - t0;
    psi_merkle_frontier_root(froot, &f);

    stored.ctx = plain.ctx = &s;
    stored.leaf_hash = plain.leaf_hash = store_leaf;
    stored.subtree_hash = store_subtree;
    plain.subtree_hash = NULL;

    t0 = now();
    if (psi_merkle_root(root, &stored, n) != 0 || memcmp(root, froot, 32) != 0)
        goto done;
    t_root = now() - t0;

    t0 = now();
    for (uint64_t p = 0; p < proofs; p++) {
        uint64_t i = randombytes_uniform((uint32_t)(n < UINT32_MAX ? n : UINT32_MAX));
        s.reads = 0;
        if (psi_merkle_inclusion_proof(proof, &count, &stored, i, n) != 0 ||
            psi_merkle_verify_inclusion(s.leaves[i], i, n, (const unsigned char(*)[32])proof, count,
                                        root) != 0)
            goto done;
        incl_reads += s.reads;
    }
    t_incl = now() - t0;

    t0 = now();
    for (uint64_t p = 0; p < proofs; p++) {
        uint64_t m = 1 + randombytes_uniform((uint32_t)(n - 1 < UINT32_MAX ? n - 1 : UINT32_MAX));
        if (psi_merkle_root(old_root, &stored, m) != 0)
            goto done;
        s.reads = 0;
        if (psi_merkle_consistency_proof(proof, &count, &stored, m, n) != 0 ||
            psi_merkle_verify_consistency(m, n, (const unsigned char(*)[32])proof, count, old_root,
                                          root) != 0)
            goto done;
        cons_reads += s.reads;
    }
    t_cons = now() - t0;

    t0 = now();
    s.reads = 0;
    if (psi_merkle_inclusion_proof(proof, &count, &plain, n / 3, n) != 0 ||
        psi_merkle_verify_inclusion(s.leaves[n / 3], n / 3, n, (const unsigned char(*)[32])proof,
                                    count, root) != 0)
        goto done;
    plain_reads = s.reads;
    t_plain = now() - t0;

    printf("leaves %llu: build %.3f s (%.0f appends/s)\n", (unsigned long long)n, t_build,
           (double)n / t_build);
    printf("root with stored subtrees: %.1f us\n", t_root * 1e6);
    printf("inclusion proof + verify: %.1f us, %.1f store reads on average\n",
           t_incl / (double)proofs * 1e6, (double)incl_reads / (double)proofs);
    printf("consistency proof + verify: %.1f us, %.1f store reads on average\n",
           t_cons / (double)proofs * 1e6, (double)cons_reads / (double)proofs);
    printf("one inclusion proof from leaf hashes only: %.3f s, %llu reads\n", t_plain,
           (unsigned long long)plain_reads);
    printf("n=%llu build_s=%.3f root_us=%.1f incl_us=%.1f incl_reads=%.1f cons_us=%.1f "
           "cons_reads=%.1f plain_incl_s=%.3f\n",
           (unsigned long long)n, t_build, t_root * 1e6, t_incl / (double)proofs * 1e6,
           (double)incl_reads / (double)proofs, t_cons / (double)proofs * 1e6,
           (double)cons_reads / (double)proofs, t_plain);
    status = 0;

done:
    free(s.leaves);
    for (unsigned l = 0; l < 64; l++)
        free(s.levels[l]);
    return status;
}
