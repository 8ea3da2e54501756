/* Helpers shared by the transparency-log tests (merkle, note, checkpoint,
 * tiles): hex vectors and an in-memory store behind a psi_merkle_reader. */
#ifndef PSI_TLOG_TEST_UTIL_H
#define PSI_TLOG_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "psi/error.h"
#include "psi/merkle.h"

static inline int tlog_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes exactly out_len bytes of hex; aborts the test on bad input so that
 * a typo in a vector cannot pass silently. */
static inline void tlog_unhex(unsigned char *out, size_t out_len, const char *hex)
{
    if (strlen(hex) != out_len * 2U)
        abort();
    for (size_t i = 0; i < out_len; i++) {
        int hi = tlog_hexval(hex[2 * i]), lo = tlog_hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            abort();
        out[i] = (unsigned char)(hi * 16 + lo);
    }
}

/* An in-memory log: leaf hashes, and optionally every complete subtree hash
 * (level l index i at subtrees[l][i]), filled through the frontier sink.
 * Counts reads so tests can check what a proof costs. */
struct tlog_store {
    uint64_t size;
    unsigned char (*leaves)[32];
    unsigned char (*subtrees[64])[32];
    int serve_subtrees;
    uint64_t leaf_reads, subtree_reads, subtree_misses;
    int fail_leaf_at; /* leaf index whose read fails with PSI_ERR_STORE, or -1 */
};

static inline int tlog_store_leaf(void *ctx, uint64_t index, unsigned char hash[32])
{
    struct tlog_store *s = ctx;
    s->leaf_reads++;
    if (index >= s->size)
        abort(); /* the module must never ask beyond the tree */
    if (s->fail_leaf_at >= 0 && index == (uint64_t)s->fail_leaf_at)
        return PSI_ERR_STORE;
    memcpy(hash, s->leaves[index], 32);
    return PSI_OK;
}

static inline int tlog_store_subtree(void *ctx, unsigned level, uint64_t index,
                                     unsigned char hash[32])
{
    struct tlog_store *s = ctx;
    s->subtree_reads++;
    if (level == 0 || level > 63 || ((index + 1U) << level) > s->size)
        abort(); /* only complete subtrees inside the tree, never leaves */
    if (!s->serve_subtrees || s->subtrees[level] == NULL) {
        s->subtree_misses++;
        return PSI_ERR_NOT_FOUND;
    }
    memcpy(hash, s->subtrees[level][index], 32);
    return PSI_OK;
}

static inline int tlog_store_sink(void *ctx, unsigned level, uint64_t index,
                                  const unsigned char hash[32])
{
    struct tlog_store *s = ctx;
    if (s->subtrees[level] == NULL)
        return PSI_ERR_NOMEM;
    memcpy(s->subtrees[level][index], hash, 32);
    return PSI_OK;
}

/* A store of n leaves whose entries are the 8-byte big-endian index, built
 * through a frontier so that all subtree hashes get recorded. */
static inline void tlog_store_init(struct tlog_store *s, uint64_t n)
{
    struct psi_merkle_frontier f;
    memset(s, 0, sizeof *s);
    s->fail_leaf_at = -1;
    s->size = n;
    s->leaves = calloc(n ? n : 1, 32);
    if (s->leaves == NULL)
        abort();
    for (unsigned l = 1; l < 64 && (n >> l) > 0; l++) {
        s->subtrees[l] = calloc(n >> l, 32);
        if (s->subtrees[l] == NULL)
            abort();
    }
    psi_merkle_frontier_init(&f);
    for (uint64_t i = 0; i < n; i++) {
        unsigned char entry[8];
        for (int b = 0; b < 8; b++)
            entry[b] = (unsigned char)(i >> (56 - 8 * b));
        psi_merkle_leaf_hash(s->leaves[i], entry, sizeof entry);
        if (psi_merkle_frontier_append(&f, s->leaves[i], tlog_store_sink, s) != 0)
            abort();
    }
    s->serve_subtrees = 1;
}

static inline void tlog_store_free(struct tlog_store *s)
{
    free(s->leaves);
    for (unsigned l = 0; l < 64; l++)
        free(s->subtrees[l]);
    memset(s, 0, sizeof *s);
}

static inline struct psi_merkle_reader tlog_store_reader(struct tlog_store *s, int with_subtrees)
{
    struct psi_merkle_reader r;
    r.ctx = s;
    r.leaf_hash = tlog_store_leaf;
    r.subtree_hash = with_subtrees ? tlog_store_subtree : NULL;
    return r;
}

#endif
