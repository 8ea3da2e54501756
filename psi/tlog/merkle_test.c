/* RFC 6962 / 9162 Merkle trees: every vector of spec/tlog.md sections 1-4
 * (hasher, the 8 standard leaves with all node and root hashes, inclusion
 * and consistency proofs), the probe mutations of transparency-dev's
 * testdata (each bit of each proof hash flipped, truncated and extended
 * proofs, wrong index and sizes, swapped and wrong roots, size 0), a property
 * test over every size 1..64 and every index and size pair, the frontier and
 * subtree sinks, the cost of proofs with stored subtrees, and every error
 * path of merkle.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "psi/error.h"
#include "psi/merkle.h"
#include "tlog_test_util.h"

/* ---- spec/tlog.md section 2: the 8 standard leaves ---------------------- */

static const char *const leaf_inputs_hex[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

static const char *const node_hashes_hex[4][8] = {
    {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    },
    {
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    },
    {
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    },
    {
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    },
};

static const char *const root_hashes_hex[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* The 8-leaf tree as a store (leaf hashes from the real inputs). */
struct std_tree {
    unsigned char leaves[8][32];
    uint64_t size;
    int fail;
};

static int std_leaf(void *ctx, uint64_t index, unsigned char hash[32])
{
    struct std_tree *t = ctx;
    assert_true(index < t->size);
    if (t->fail)
        return PSI_ERR_STORE;
    memcpy(hash, t->leaves[index], 32);
    return PSI_OK;
}

static void std_tree_init(struct std_tree *t, uint64_t size)
{
    memset(t, 0, sizeof *t);
    t->size = size;
    for (int i = 0; i < 8; i++) {
        unsigned char input[16];
        size_t len = strlen(leaf_inputs_hex[i]) / 2;
        tlog_unhex(input, len, leaf_inputs_hex[i]);
        psi_merkle_leaf_hash(t->leaves[i], len ? input : NULL, len);
    }
}

static struct psi_merkle_reader std_reader(struct std_tree *t)
{
    struct psi_merkle_reader r = {t, std_leaf, NULL};
    return r;
}

static void assert_hash_hex(const unsigned char h[32], const char *hex)
{
    unsigned char want[32];
    tlog_unhex(want, 32, hex);
    assert_memory_equal(h, want, 32);
}

/* ---- section 1: the hasher ---------------------------------------------- */

static void test_hasher_vectors(void **state)
{
    unsigned char h[32], l[32], r[32];
    unsigned char buf[1 + 64];
    (void)state;

    psi_merkle_empty_root(h);
    assert_hash_hex(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    psi_merkle_leaf_hash(h, NULL, 0);
    assert_hash_hex(h, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    psi_merkle_leaf_hash(h, (const unsigned char *)"L123456", 7);
    assert_hash_hex(h, "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");

    /* node("N123","N456") hashes raw 4-byte children, which our node hash
     * (32-byte children only) cannot take: the vector pins the 0x01 prefix
     * layout, and the node hash must be exactly that layout. */
    crypto_hash_sha256(h, (const unsigned char *)"\x01N123N456", 9);
    assert_hash_hex(h, "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb");
    for (int i = 0; i < 32; i++) {
        l[i] = (unsigned char)i;
        r[i] = (unsigned char)(0xA0 + i);
    }
    buf[0] = 0x01;
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    crypto_hash_sha256(h, buf, sizeof buf);
    {
        unsigned char got[32];
        psi_merkle_node_hash(got, l, r);
        assert_memory_equal(got, h, 32);
        /* The output may alias an input. */
        memcpy(got, l, 32);
        psi_merkle_node_hash(got, got, r);
        assert_memory_equal(got, h, 32);
    }
    /* Leaf and node of the same bytes differ (domain separation). */
    psi_merkle_leaf_hash(h, buf + 1, 64);
    psi_merkle_node_hash(l, buf + 1, buf + 33);
    assert_memory_not_equal(h, l, 32);
}

/* ---- section 2: node and root hashes ------------------------------------ */

static void test_standard_tree(void **state)
{
    struct std_tree t;
    struct psi_merkle_reader r;
    unsigned char h[32];
    (void)state;

    std_tree_init(&t, 8);
    r = std_reader(&t);
    for (unsigned level = 0; level < 4; level++) {
        for (uint64_t i = 0; i < (8U >> level); i++) {
            assert_int_equal(psi_merkle_subtree_hash(h, &r, level, i), 0);
            assert_hash_hex(h, node_hashes_hex[level][i]);
        }
    }
    for (uint64_t n = 0; n <= 8; n++) {
        t.size = n;
        assert_int_equal(psi_merkle_root(h, &r, n), 0);
        assert_hash_hex(h, root_hashes_hex[n]);
    }
}

static void test_frontier_roots_and_sink(void **state)
{
    struct std_tree t;
    struct psi_merkle_frontier f, g;
    struct tlog_store s; /* used only as a sink of the 8-leaf tree */
    unsigned char h[32];
    (void)state;

    std_tree_init(&t, 8);
    memset(&s, 0, sizeof s);
    for (unsigned l = 1; l < 4; l++)
        s.subtrees[l] = calloc(8U >> l, 32);
    psi_merkle_frontier_init(&f);
    psi_merkle_frontier_root(h, &f);
    assert_hash_hex(h, root_hashes_hex[0]);
    assert_int_equal(psi_merkle_frontier_count(&f), 0);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(psi_merkle_frontier_append(&f, t.leaves[i], tlog_store_sink, &s), 0);
        assert_int_equal(f.size, (uint64_t)i + 1);
        psi_merkle_frontier_root(h, &f);
        assert_hash_hex(h, root_hashes_hex[i + 1]);
        /* What the hub persists restores the same frontier. */
        assert_int_equal(psi_merkle_frontier_load(&g, f.size, (const unsigned char(*)[32])f.hashes,
                                                  psi_merkle_frontier_count(&f)),
                         0);
        psi_merkle_frontier_root(h, &g);
        assert_hash_hex(h, root_hashes_hex[i + 1]);
    }
    /* The sink saw every interior node of the 8-leaf tree. */
    for (unsigned level = 1; level < 4; level++)
        for (unsigned i = 0; i < (8U >> level); i++)
            assert_hash_hex(s.subtrees[level][i], node_hashes_hex[level][i]);
    for (unsigned l = 1; l < 4; l++)
        free(s.subtrees[l]);
}

/* ---- sections 3 and 4: proof vectors ------------------------------------ */

struct inclusion_vector {
    uint64_t index, size;
    const char *leaf, *root;
    size_t count;
    const char *proof[3];
};

static const struct inclusion_vector inclusion_vectors[] = {
    {0,
     1,
     "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     0,
     {NULL}},
    {0,
     8,
     "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
     3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

struct consistency_vector {
    uint64_t size1, size2;
    const char *root1, *root2;
    size_t count;
    const char *proof[3];
};

static const struct consistency_vector consistency_vectors[] = {
    {1,
     1,
     "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     0,
     {NULL}},
    {1,
     8,
     "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
     "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

#define NVEC(a) (sizeof(a) / sizeof((a)[0]))

static void test_inclusion_vectors(void **state)
{
    struct std_tree t;
    struct psi_merkle_reader r;
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], want[3][32], leaf[32], root[32];
    size_t count = 99;
    (void)state;

    for (size_t v = 0; v < NVEC(inclusion_vectors); v++) {
        const struct inclusion_vector *iv = &inclusion_vectors[v];
        std_tree_init(&t, iv->size);
        r = std_reader(&t);
        tlog_unhex(leaf, 32, iv->leaf);
        tlog_unhex(root, 32, iv->root);
        for (size_t i = 0; i < iv->count; i++)
            tlog_unhex(want[i], 32, iv->proof[i]);
        assert_memory_equal(t.leaves[iv->index], leaf, 32);
        assert_int_equal(psi_merkle_inclusion_proof(proof, &count, &r, iv->index, iv->size), 0);
        assert_int_equal(count, iv->count);
        if (count > 0)
            assert_memory_equal(proof, want, count * 32);
        assert_int_equal(psi_merkle_verify_inclusion(leaf, iv->index, iv->size,
                                                     (const unsigned char(*)[32])want, iv->count,
                                                     root),
                         0);
    }
}

static void test_consistency_vectors(void **state)
{
    struct std_tree t;
    struct psi_merkle_reader r;
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], want[3][32], root1[32], root2[32];
    size_t count = 99;
    (void)state;

    for (size_t v = 0; v < NVEC(consistency_vectors); v++) {
        const struct consistency_vector *cv = &consistency_vectors[v];
        std_tree_init(&t, cv->size2);
        r = std_reader(&t);
        tlog_unhex(root1, 32, cv->root1);
        tlog_unhex(root2, 32, cv->root2);
        for (size_t i = 0; i < cv->count; i++)
            tlog_unhex(want[i], 32, cv->proof[i]);
        assert_int_equal(psi_merkle_consistency_proof(proof, &count, &r, cv->size1, cv->size2), 0);
        assert_int_equal(count, cv->count);
        if (count > 0)
            assert_memory_equal(proof, want, count * 32);
        assert_int_equal(psi_merkle_verify_consistency(cv->size1, cv->size2,
                                                       (const unsigned char(*)[32])want, cv->count,
                                                       root1, root2),
                         0);
    }
}

/* ---- probe mutations (the shapes of transparency-dev's testdata) -------- */

static int incl(const unsigned char leaf[32], uint64_t index, uint64_t size,
                unsigned char (*proof)[32], size_t count, const unsigned char root[32])
{
    return psi_merkle_verify_inclusion(leaf, index, size, (const unsigned char(*)[32])proof, count,
                                       root);
}

static int cons(uint64_t size1, uint64_t size2, unsigned char (*proof)[32], size_t count,
                const unsigned char root1[32], const unsigned char root2[32])
{
    return psi_merkle_verify_consistency(size1, size2, (const unsigned char(*)[32])proof, count,
                                         root1, root2);
}

static void test_inclusion_probes(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVEC(inclusion_vectors); v++) {
        const struct inclusion_vector *iv = &inclusion_vectors[v];
        unsigned char proof[8][32], work[8][32], leaf[32], root[32], other[32], empty[32];
        size_t n = iv->count;

        memset(proof, 0, sizeof proof);
        const uint64_t idx = iv->index, size = iv->size;

        tlog_unhex(leaf, 32, iv->leaf);
        tlog_unhex(root, 32, iv->root);
        for (size_t i = 0; i < n; i++)
            tlog_unhex(proof[i], 32, iv->proof[i]);
        psi_merkle_empty_root(empty);
        assert_int_equal(incl(leaf, idx, size, proof, n, root), 0);

        /* Every bit of every proof hash, of the leaf and of the root. */
        for (size_t i = 0; i < n; i++)
            for (unsigned bit = 0; bit < 256; bit++) {
                memcpy(work, proof, sizeof proof);
                work[i][bit / 8] ^= (unsigned char)(1U << (bit % 8));
                assert_int_equal(incl(leaf, idx, size, work, n, root), PSI_ERR_VERIFY);
            }
        for (unsigned bit = 0; bit < 256; bit++) {
            memcpy(other, leaf, 32);
            other[bit / 8] ^= (unsigned char)(1U << (bit % 8));
            assert_int_equal(incl(other, idx, size, proof, n, root), PSI_ERR_VERIFY);
            memcpy(other, root, 32);
            other[bit / 8] ^= (unsigned char)(1U << (bit % 8));
            assert_int_equal(incl(leaf, idx, size, proof, n, other), PSI_ERR_VERIFY);
        }
        /* Truncated, and extended at either end with garbage, the leaf, the
         * root, or a repeated hash. */
        if (n > 0) {
            assert_int_equal(incl(leaf, idx, size, proof, n - 1, root), PSI_ERR_VERIFY);
            assert_int_equal(incl(leaf, idx, size, proof + 1, n - 1, root), PSI_ERR_VERIFY);
            assert_int_equal(incl(leaf, idx, size, proof, 0, root), PSI_ERR_VERIFY);
        }
        {
            const unsigned char *extras[4] = {empty, leaf, root, proof[0]};
            for (int e = 0; e < 4; e++) {
                memcpy(work, proof, n * 32);
                memcpy(work[n], extras[e], 32);
                assert_int_equal(incl(leaf, idx, size, work, n + 1, root), PSI_ERR_VERIFY);
                memcpy(work[0], extras[e], 32);
                memcpy(work + 1, proof, n * 32);
                assert_int_equal(incl(leaf, idx, size, work, n + 1, root), PSI_ERR_VERIFY);
            }
        }
        /* Wrong index and sizes, as the probes change them (index +1, -1, ^2;
         * size *2, /2) and beyond the tree. Not size +-1: a size is bound by
         * the proof's shape only, and neighbouring sizes can share a shape
         * (the proof then claims a tree with that root, which no signed
         * checkpoint of an honest log has); see the property test. */
        {
            const uint64_t indices[] = {idx + 1, idx - 1, idx ^ 2, size, size + 1, UINT64_MAX};
            const uint64_t sizes[] = {size * 2, size / 2, 0, idx};
            for (size_t i = 0; i < NVEC(indices); i++)
                if (indices[i] != idx)
                    assert_int_equal(incl(leaf, indices[i], size, proof, n, root), PSI_ERR_VERIFY);
            for (size_t i = 0; i < NVEC(sizes); i++)
                if (sizes[i] != size)
                    assert_int_equal(incl(leaf, idx, sizes[i], proof, n, root), PSI_ERR_VERIFY);
        }
        /* Swapped leaf and root; the empty root. */
        if (memcmp(leaf, root, 32) != 0)
            assert_int_equal(incl(root, idx, size, proof, n, leaf), PSI_ERR_VERIFY);
        assert_int_equal(incl(leaf, idx, size, proof, n, empty), PSI_ERR_VERIFY);
    }
    /* testdata/inclusion/additional: size 0 has no leaves at all. */
    {
        unsigned char empty[32], leaf[32];
        psi_merkle_empty_root(empty);
        psi_merkle_leaf_hash(leaf, NULL, 0);
        assert_int_equal(psi_merkle_verify_inclusion(leaf, 0, 0, NULL, 0, empty), PSI_ERR_VERIFY);
        assert_int_equal(psi_merkle_verify_inclusion(empty, 0, 0, NULL, 0, empty), PSI_ERR_VERIFY);
    }
}

static void test_consistency_probes(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVEC(consistency_vectors); v++) {
        const struct consistency_vector *cv = &consistency_vectors[v];
        unsigned char proof[8][32], work[8][32], root1[32], root2[32], other[32], empty[32];
        size_t n = cv->count;

        memset(proof, 0, sizeof proof);
        const uint64_t s1 = cv->size1, s2 = cv->size2;

        tlog_unhex(root1, 32, cv->root1);
        tlog_unhex(root2, 32, cv->root2);
        for (size_t i = 0; i < n; i++)
            tlog_unhex(proof[i], 32, cv->proof[i]);
        psi_merkle_empty_root(empty);
        assert_int_equal(cons(s1, s2, proof, n, root1, root2), 0);

        for (size_t i = 0; i < n; i++)
            for (unsigned bit = 0; bit < 256; bit++) {
                memcpy(work, proof, sizeof proof);
                work[i][bit / 8] ^= (unsigned char)(1U << (bit % 8));
                assert_int_equal(cons(s1, s2, work, n, root1, root2), PSI_ERR_VERIFY);
            }
        for (unsigned bit = 0; bit < 256; bit++) {
            memcpy(other, root1, 32);
            other[bit / 8] ^= (unsigned char)(1U << (bit % 8));
            assert_int_equal(cons(s1, s2, proof, n, other, root2), PSI_ERR_VERIFY);
            memcpy(other, root2, 32);
            other[bit / 8] ^= (unsigned char)(1U << (bit % 8));
            assert_int_equal(cons(s1, s2, proof, n, root1, other), PSI_ERR_VERIFY);
        }
        if (n > 0) {
            assert_int_equal(cons(s1, s2, proof, n - 1, root1, root2), PSI_ERR_VERIFY);
            assert_int_equal(cons(s1, s2, proof + 1, n - 1, root1, root2), PSI_ERR_VERIFY);
            assert_int_equal(cons(s1, s2, proof, 0, root1, root2), PSI_ERR_VERIFY);
        }
        {
            const unsigned char *extras[4] = {empty, root1, root2, proof[0]};
            for (int e = 0; e < 4; e++) {
                memcpy(work, proof, n * 32);
                memcpy(work[n], extras[e], 32);
                assert_int_equal(cons(s1, s2, work, n + 1, root1, root2), PSI_ERR_VERIFY);
                memcpy(work[0], extras[e], 32);
                memcpy(work + 1, proof, n * 32);
                assert_int_equal(cons(s1, s2, work, n + 1, root1, root2), PSI_ERR_VERIFY);
            }
        }
        /* The probes' size changes: size1 +1, -1, ^2; size2 *2, /2. */
        {
            const uint64_t sizes1[] = {s1 + 1, s1 - 1, s1 ^ 2, 0, s2 + 1};
            const uint64_t sizes2[] = {s2 * 2, s2 / 2, 0};
            for (size_t i = 0; i < NVEC(sizes1); i++)
                if (sizes1[i] != s1)
                    assert_int_equal(cons(sizes1[i], s2, proof, n, root1, root2), PSI_ERR_VERIFY);
            for (size_t i = 0; i < NVEC(sizes2); i++)
                if (sizes2[i] != s2)
                    assert_int_equal(cons(s1, sizes2[i], proof, n, root1, root2), PSI_ERR_VERIFY);
            /* Sizes swapped. */
            if (s1 != s2)
                assert_int_equal(cons(s2, s1, proof, n, root1, root2), PSI_ERR_VERIFY);
        }
        if (memcmp(root1, root2, 32) != 0)
            assert_int_equal(cons(s1, s2, proof, n, root2, root1), PSI_ERR_VERIFY);
    }
}

/* Consistency from the empty tree: the documented policy. */
static void test_consistency_from_size_zero(void **state)
{
    unsigned char empty[32], root[32], proof[PSI_MERKLE_MAX_PROOF_HASHES][32];
    struct std_tree t;
    struct psi_merkle_reader r;
    size_t count = 9;
    (void)state;

    psi_merkle_empty_root(empty);
    tlog_unhex(root, 32, root_hashes_hex[8]);
    memcpy(proof[0], empty, 32);
    /* 0 -> 0: empty proof, both roots the empty root. */
    assert_int_equal(psi_merkle_verify_consistency(0, 0, NULL, 0, empty, empty), 0);
    assert_int_equal(psi_merkle_verify_consistency(0, 0, NULL, 0, root, root), PSI_ERR_VERIFY);
    assert_int_equal(psi_merkle_verify_consistency(0, 0, NULL, 0, empty, root), PSI_ERR_VERIFY);
    assert_int_equal(psi_merkle_verify_consistency(0, 0, NULL, 0, root, empty), PSI_ERR_VERIFY);
    assert_int_equal(cons(0, 0, proof, 1, empty, empty), PSI_ERR_VERIFY);
    /* 0 -> n: empty proof and the empty old root; nothing else. */
    assert_int_equal(psi_merkle_verify_consistency(0, 8, NULL, 0, empty, root), 0);
    assert_int_equal(psi_merkle_verify_consistency(0, 1, NULL, 0, empty, root), 0);
    assert_int_equal(psi_merkle_verify_consistency(0, 8, NULL, 0, root, root), PSI_ERR_VERIFY);
    assert_int_equal(cons(0, 1, proof, 1, empty, empty), PSI_ERR_VERIFY);
    /* Larger old size than new, and equal sizes with a proof. */
    assert_int_equal(psi_merkle_verify_consistency(8, 0, NULL, 0, root, empty), PSI_ERR_VERIFY);
    assert_int_equal(cons(8, 8, proof, 1, root, root), PSI_ERR_VERIFY);
    assert_int_equal(psi_merkle_verify_consistency(8, 8, NULL, 0, root, empty), PSI_ERR_VERIFY);
    /* The generator agrees: an empty proof from size 0. */
    std_tree_init(&t, 8);
    r = std_reader(&t);
    assert_int_equal(psi_merkle_consistency_proof(proof, &count, &r, 0, 8), 0);
    assert_int_equal(count, 0);
}

/* ---- property test: all sizes 1..64 ------------------------------------- */

static void test_all_proofs_up_to_64(void **state)
{
    struct tlog_store s;
    struct psi_merkle_reader plain, stored;
    unsigned char roots[65][32];
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], proof2[PSI_MERKLE_MAX_PROOF_HASHES][32];
    size_t count, count2;
    unsigned long checked = 0;
    (void)state;

    memset(proof, 0, sizeof proof);

    tlog_store_init(&s, 64);
    plain = tlog_store_reader(&s, 0);
    stored = tlog_store_reader(&s, 1);
    for (uint64_t n = 0; n <= 64; n++) {
        struct psi_merkle_frontier f;
        unsigned char froot[32];
        assert_int_equal(psi_merkle_root(roots[n], &plain, n), 0);
        assert_int_equal(psi_merkle_root(froot, &stored, n), 0);
        assert_memory_equal(froot, roots[n], 32);
        assert_int_equal(psi_merkle_frontier_from_reader(&f, &stored, n), 0);
        psi_merkle_frontier_root(froot, &f);
        assert_memory_equal(froot, roots[n], 32);
    }
    for (uint64_t n = 1; n <= 64; n++) {
        for (uint64_t i = 0; i < n; i++) {
            assert_int_equal(psi_merkle_inclusion_proof(proof, &count, &plain, i, n), 0);
            assert_int_equal(psi_merkle_inclusion_proof(proof2, &count2, &stored, i, n), 0);
            assert_int_equal(count, count2);
            if (count > 0)
                assert_memory_equal(proof, proof2, count * 32);
            assert_int_equal(incl(s.leaves[i], i, n, proof, count, roots[n]), 0);
            for (size_t k = 0; k < count; k++) {
                unsigned bit = (unsigned)((i * 31U + k * 7U + n) % 256U);
                proof[k][bit / 8] ^= (unsigned char)(1U << (bit % 8));
                assert_int_equal(incl(s.leaves[i], i, n, proof, count, roots[n]), PSI_ERR_VERIFY);
                proof[k][bit / 8] ^= (unsigned char)(1U << (bit % 8));
            }
            if (count > 0)
                assert_int_equal(incl(s.leaves[i], i, n, proof, count - 1, roots[n]),
                                 PSI_ERR_VERIFY);
            assert_int_equal(incl(s.leaves[i], i, n, proof, count + 1, roots[n]), PSI_ERR_VERIFY);
            if (i + 1 < n)
                assert_int_equal(incl(s.leaves[i], i + 1, n, proof, count, roots[n]),
                                 PSI_ERR_VERIFY);
            /* Another size, with that tree's own root. */
            {
                const uint64_t others[] = {n - 1, n + 1, n * 2, n / 2};
                for (size_t o = 0; o < NVEC(others); o++)
                    if (others[o] > i && others[o] <= 64 && others[o] != n)
                        assert_int_equal(
                            incl(s.leaves[i], i, others[o], proof, count, roots[others[o]]),
                            PSI_ERR_VERIFY);
            }
            checked++;
        }
        for (uint64_t m = 0; m <= n; m++) {
            assert_int_equal(psi_merkle_consistency_proof(proof, &count, &plain, m, n), 0);
            assert_int_equal(psi_merkle_consistency_proof(proof2, &count2, &stored, m, n), 0);
            assert_int_equal(count, count2);
            if (count > 0)
                assert_memory_equal(proof, proof2, count * 32);
            assert_int_equal(cons(m, n, proof, count, roots[m], roots[n]), 0);
            for (size_t k = 0; k < count; k++) {
                unsigned bit = (unsigned)((m * 13U + k * 5U + n) % 256U);
                proof[k][bit / 8] ^= (unsigned char)(1U << (bit % 8));
                assert_int_equal(cons(m, n, proof, count, roots[m], roots[n]), PSI_ERR_VERIFY);
                proof[k][bit / 8] ^= (unsigned char)(1U << (bit % 8));
            }
            if (m < n) {
                assert_int_equal(cons(m, n, proof, count, roots[n], roots[m]), PSI_ERR_VERIFY);
                assert_int_equal(cons(m, n, proof, count + 1, roots[m], roots[n]), PSI_ERR_VERIFY);
                if (count > 0)
                    assert_int_equal(cons(m, n, proof, count - 1, roots[m], roots[n]),
                                     PSI_ERR_VERIFY);
            }
            /* Other sizes, with those trees' own roots. From size 0 nothing
             * is claimed about the new tree (policy), so those are skipped. */
            if (m > 0) {
                const uint64_t others[] = {m - 1, m + 1, m ^ 2, n - 1, n + 1, n * 2, n / 2};
                for (size_t o = 0; o < 3; o++)
                    if (others[o] > 0 && others[o] <= n && others[o] != m)
                        assert_int_equal(
                            cons(others[o], n, proof, count, roots[others[o]], roots[n]),
                            PSI_ERR_VERIFY);
                for (size_t o = 3; o < NVEC(others); o++)
                    if (others[o] >= m && others[o] <= 64 && others[o] != n)
                        assert_int_equal(
                            cons(m, others[o], proof, count, roots[m], roots[others[o]]),
                            PSI_ERR_VERIFY);
            }
            checked++;
        }
    }
    assert_int_equal(checked, 2080 + 2144);
    tlog_store_free(&s);
}

/* ---- cost with stored subtrees ------------------------------------------ */

static void test_proof_cost_with_stored_subtrees(void **state)
{
    const uint64_t n = 100003;
    struct tlog_store s;
    struct psi_merkle_reader plain, stored;
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], root[32], old_root[32];
    struct psi_merkle_frontier f;
    size_t count;
    (void)state;

    tlog_store_init(&s, n);
    plain = tlog_store_reader(&s, 0);
    stored = tlog_store_reader(&s, 1);

    /* The root through stored subtrees: one read per set bit of n. */
    s.leaf_reads = s.subtree_reads = 0;
    assert_int_equal(psi_merkle_root(root, &stored, n), 0);
    assert_true(s.leaf_reads + s.subtree_reads <= 64);
    /* ... and the same root the hard way. */
    s.leaf_reads = 0;
    assert_int_equal(psi_merkle_root(old_root, &plain, n), 0);
    assert_int_equal(s.leaf_reads, n);
    assert_memory_equal(root, old_root, 32);

    for (uint64_t i = 0; i < n; i += 9973) {
        s.leaf_reads = s.subtree_reads = s.subtree_misses = 0;
        assert_int_equal(psi_merkle_inclusion_proof(proof, &count, &stored, i, n), 0);
        assert_true(s.leaf_reads + s.subtree_reads <= (uint64_t)64 * 64);
        assert_int_equal(s.subtree_misses, 0);
        assert_int_equal(incl(s.leaves[i], i, n, proof, count, root), 0);
    }
    assert_int_equal(psi_merkle_frontier_from_reader(&f, &stored, 77777), 0);
    psi_merkle_frontier_root(old_root, &f);
    s.leaf_reads = s.subtree_reads = 0;
    assert_int_equal(psi_merkle_consistency_proof(proof, &count, &stored, 77777, n), 0);
    assert_true(s.leaf_reads + s.subtree_reads <= (uint64_t)64 * 64);
    assert_int_equal(cons(77777, n, proof, count, old_root, root), 0);

    /* A store that lacks a level falls back on the children. */
    free(s.subtrees[3]);
    s.subtrees[3] = NULL;
    assert_int_equal(psi_merkle_root(old_root, &stored, n), 0);
    assert_memory_equal(root, old_root, 32);
    tlog_store_free(&s);
}

/* ---- range subtrees ----------------------------------------------------- */

struct collected {
    unsigned level[4096];
    uint64_t index[4096];
    unsigned char hash[4096][32];
    size_t n;
    size_t fail_after; /* 0: never */
};

static int collect(void *ctx, unsigned level, uint64_t index, const unsigned char hash[32])
{
    struct collected *c = ctx;
    if (c->fail_after != 0 && c->n == c->fail_after)
        return PSI_ERR_STORE;
    assert_true(c->n < 4096);
    c->level[c->n] = level;
    c->index[c->n] = index;
    memcpy(c->hash[c->n], hash, 32);
    c->n++;
    return PSI_OK;
}

static void test_range_subtrees(void **state)
{
    static struct collected c;
    struct std_tree t;
    struct tlog_store s;
    struct psi_merkle_reader r;
    unsigned char h[32];
    (void)state;

    /* The whole 8-leaf tree: all 7 interior nodes, children first. */
    std_tree_init(&t, 8);
    memset(&c, 0, sizeof c);
    assert_int_equal(
        psi_merkle_range_subtrees(0, (const unsigned char(*)[32])t.leaves, 8, collect, &c), 0);
    assert_int_equal(c.n, 7);
    for (size_t k = 0; k < c.n; k++)
        assert_hash_hex(c.hash[k], node_hashes_hex[c.level[k]][c.index[k]]);
    assert_int_equal(c.level[6], 3);
    /* Leaves [3, 8): only the subtrees wholly inside. */
    memset(&c, 0, sizeof c);
    assert_int_equal(
        psi_merkle_range_subtrees(3, (const unsigned char(*)[32])t.leaves + 3, 5, collect, &c), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.level[0], 1);
    assert_int_equal(c.index[0], 2);
    assert_int_equal(c.level[1], 1);
    assert_int_equal(c.index[1], 3);
    assert_int_equal(c.level[2], 2);
    assert_int_equal(c.index[2], 1);
    for (size_t k = 0; k < c.n; k++)
        assert_hash_hex(c.hash[k], node_hashes_hex[c.level[k]][c.index[k]]);

    /* An odd range of a bigger tree agrees with the stored subtrees. */
    tlog_store_init(&s, 1000);
    r = tlog_store_reader(&s, 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(
        psi_merkle_range_subtrees(37, (const unsigned char(*)[32])s.leaves + 37, 900, collect, &c),
        0);
    {
        size_t expected = 0;
        for (unsigned l = 1; l < 10; l++)
            for (uint64_t i = 0; ((i + 1) << l) <= 937; i++)
                if ((i << l) >= 37)
                    expected++;
        assert_int_equal(c.n, expected);
    }
    for (size_t k = 0; k < c.n; k++) {
        assert_true((c.index[k] << c.level[k]) >= 37);
        assert_true(((c.index[k] + 1) << c.level[k]) <= 937);
        assert_memory_equal(c.hash[k], s.subtrees[c.level[k]][c.index[k]], 32);
        assert_int_equal(psi_merkle_subtree_hash(h, &r, c.level[k], c.index[k]), 0);
        assert_memory_equal(c.hash[k], h, 32);
    }
    /* A failing sink stops the walk with its error. */
    memset(&c, 0, sizeof c);
    c.fail_after = 3;
    assert_int_equal(
        psi_merkle_range_subtrees(0, (const unsigned char(*)[32])s.leaves, 1000, collect, &c),
        PSI_ERR_STORE);
    assert_int_equal(psi_merkle_range_subtrees(0, NULL, 0, collect, &c), 0);
    assert_int_equal(psi_merkle_range_subtrees(0, NULL, 1, collect, &c), PSI_ERR_INVALID);
    assert_int_equal(
        psi_merkle_range_subtrees(0, (const unsigned char(*)[32])s.leaves, 1, NULL, NULL),
        PSI_ERR_INVALID);
    assert_int_equal(
        psi_merkle_range_subtrees(UINT64_MAX, (const unsigned char(*)[32])s.leaves, 2, collect, &c),
        PSI_ERR_INVALID);
    tlog_store_free(&s);
}

/* ---- frontier edge cases and error paths -------------------------------- */

static int failing_sink(void *ctx, unsigned level, uint64_t index, const unsigned char hash[32])
{
    (void)ctx;
    (void)index;
    (void)hash;
    return level >= 2 ? PSI_ERR_STORE : PSI_OK;
}

static void test_frontier_errors(void **state)
{
    struct psi_merkle_frontier f, before;
    struct std_tree t;
    struct psi_merkle_reader r;
    unsigned char hashes[64][32], h[32];
    (void)state;

    std_tree_init(&t, 8);
    r = std_reader(&t);
    memset(hashes, 0x5a, sizeof hashes);
    assert_int_equal(psi_merkle_frontier_load(&f, 7, (const unsigned char(*)[32])hashes, 2),
                     PSI_ERR_INVALID);
    assert_int_equal(f.size, 0);
    assert_int_equal(psi_merkle_frontier_load(&f, 7, NULL, 3), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_frontier_load(NULL, 0, NULL, 0), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_frontier_load(&f, 0, NULL, 0), 0);
    /* The largest size: 64 hashes, and no room for another leaf. */
    assert_int_equal(
        psi_merkle_frontier_load(&f, UINT64_MAX, (const unsigned char(*)[32])hashes, 64), 0);
    assert_int_equal(psi_merkle_frontier_count(&f), 64);
    assert_int_equal(psi_merkle_frontier_append(&f, t.leaves[0], NULL, NULL), PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_merkle_frontier_append(NULL, t.leaves[0], NULL, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_frontier_append(&f, NULL, NULL, NULL), PSI_ERR_INVALID);
    /* A failing sink leaves the frontier as it was. */
    psi_merkle_frontier_init(&f);
    for (int i = 0; i < 3; i++)
        assert_int_equal(psi_merkle_frontier_append(&f, t.leaves[i], failing_sink, NULL), 0);
    before = f;
    assert_int_equal(psi_merkle_frontier_append(&f, t.leaves[3], failing_sink, NULL),
                     PSI_ERR_STORE);
    assert_memory_equal(&f, &before, sizeof f);
    assert_int_equal(psi_merkle_frontier_append(&f, t.leaves[3], NULL, NULL), 0);
    psi_merkle_frontier_root(h, &f);
    assert_hash_hex(h, root_hashes_hex[4]);
    /* from_reader: errors of the reader come back. */
    t.fail = 1;
    assert_int_equal(psi_merkle_frontier_from_reader(&f, &r, 5), PSI_ERR_STORE);
    assert_int_equal(psi_merkle_frontier_from_reader(&f, NULL, 5), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_frontier_from_reader(NULL, &r, 5), PSI_ERR_INVALID);
}

static void test_reader_errors(void **state)
{
    struct std_tree t;
    struct psi_merkle_reader r, no_leaf = {NULL, NULL, NULL};
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], h[32];
    size_t count = 7;
    struct tlog_store s;
    struct psi_merkle_reader sr;
    (void)state;

    std_tree_init(&t, 8);
    r = std_reader(&t);
    assert_int_equal(psi_merkle_root(h, &no_leaf, 3), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_root(h, NULL, 3), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_root(NULL, &r, 3), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_inclusion_proof(proof, &count, &r, 8, 8), PSI_ERR_INVALID);
    assert_int_equal(count, 0);
    assert_int_equal(psi_merkle_inclusion_proof(proof, &count, &r, 0, 0), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_inclusion_proof(proof, NULL, &r, 0, 8), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_inclusion_proof(NULL, &count, &r, 0, 8), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_inclusion_proof(proof, &count, &no_leaf, 0, 8), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_consistency_proof(proof, &count, &r, 5, 4), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_consistency_proof(proof, NULL, &r, 1, 4), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_consistency_proof(NULL, &count, &r, 1, 4), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_consistency_proof(proof, &count, &no_leaf, 1, 4), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_subtree_hash(h, &r, 64, 0), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_subtree_hash(h, &r, 1, UINT64_MAX), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_subtree_hash(NULL, &r, 1, 0), PSI_ERR_INVALID);
    /* A store failure comes back unchanged from every reading call. */
    t.fail = 1;
    assert_int_equal(psi_merkle_root(h, &r, 8), PSI_ERR_STORE);
    assert_int_equal(psi_merkle_inclusion_proof(proof, &count, &r, 3, 8), PSI_ERR_STORE);
    assert_int_equal(count, 0);
    assert_int_equal(psi_merkle_consistency_proof(proof, &count, &r, 3, 8), PSI_ERR_STORE);
    assert_int_equal(psi_merkle_consistency_proof(proof, &count, &r, 4, 8), PSI_ERR_STORE);
    assert_int_equal(psi_merkle_subtree_hash(h, &r, 2, 1), PSI_ERR_STORE);
    /* ... also when it happens deep in a fallback from a missing subtree, or
     * in the last step of a consistency proof. */
    tlog_store_init(&s, 16);
    sr = tlog_store_reader(&s, 1);
    for (unsigned l = 1; l <= 2; l++) {
        free(s.subtrees[l]);
        s.subtrees[l] = NULL;
    }
    s.fail_leaf_at = 13;
    assert_int_equal(psi_merkle_root(h, &sr, 16), 0); /* level 4 is stored */
    assert_int_equal(psi_merkle_root(h, &sr, 11), 0); /* never reads leaf 13 */
    assert_int_equal(psi_merkle_root(h, &sr, 14), PSI_ERR_STORE);
    assert_int_equal(psi_merkle_consistency_proof(proof, &count, &sr, 10, 16), PSI_ERR_STORE);
    tlog_store_free(&s);
    /* Verifiers: NULL arguments. */
    psi_merkle_empty_root(h);
    assert_int_equal(psi_merkle_verify_inclusion(NULL, 0, 1, NULL, 0, h), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_verify_inclusion(h, 0, 1, NULL, 0, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_verify_inclusion(h, 0, 2, NULL, 1, h), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_verify_consistency(1, 2, NULL, 1, h, h), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_verify_consistency(1, 2, NULL, 0, NULL, h), PSI_ERR_INVALID);
    assert_int_equal(psi_merkle_verify_consistency(1, 2, NULL, 0, h, NULL), PSI_ERR_INVALID);
}

/* Proof lengths at the top of the uint64_t range. With every leaf equal, the
 * hash of a complete subtree depends only on its level, so a reader can
 * serve a tree of 2^64-1 leaves from a table of 64 hashes. */
static unsigned char uniform_levels[64][32];

static int uniform_leaf(void *ctx, uint64_t index, unsigned char hash[32])
{
    (void)ctx;
    (void)index;
    memcpy(hash, uniform_levels[0], 32);
    return PSI_OK;
}

static int uniform_subtree(void *ctx, unsigned level, uint64_t index, unsigned char hash[32])
{
    (void)ctx;
    (void)index;
    assert_true(level >= 1 && level < 64);
    memcpy(hash, uniform_levels[level], 32);
    return PSI_OK;
}

static void test_huge_sizes(void **state)
{
    struct psi_merkle_reader r = {NULL, uniform_leaf, uniform_subtree};
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], root[32], old_root[32];
    size_t count = 0;
    const uint64_t top = UINT64_MAX;
    (void)state;

    psi_merkle_leaf_hash(uniform_levels[0], (const unsigned char *)"same", 4);
    for (unsigned l = 1; l < 64; l++)
        psi_merkle_node_hash(uniform_levels[l], uniform_levels[l - 1], uniform_levels[l - 1]);
    assert_int_equal(psi_merkle_root(root, &r, top), 0);

    /* A leaf of the left half of the largest tree has a 64-hash path; the
     * last leaf (right edge, 2^63-1 leaves to its side) a 63-hash one. */
    assert_int_equal(psi_merkle_inclusion_proof(proof, &count, &r, 12345, top), 0);
    assert_int_equal(count, PSI_MERKLE_MAX_INCLUSION_HASHES);
    assert_int_equal(incl(uniform_levels[0], 12345, top, proof, count, root), 0);
    assert_int_equal(incl(uniform_levels[0], 12345, top, proof, count - 1, root), PSI_ERR_VERIFY);
    proof[63][0] ^= 1;
    assert_int_equal(incl(uniform_levels[0], 12345, top, proof, count, root), PSI_ERR_VERIFY);
    assert_int_equal(psi_merkle_inclusion_proof(proof, &count, &r, top - 1, top), 0);
    assert_int_equal(count, 63);
    assert_int_equal(incl(uniform_levels[0], top - 1, top, proof, count, root), 0);

    /* 3 -> 2^64-1 needs the 65 hashes the header announces. */
    assert_int_equal(psi_merkle_root(old_root, &r, 3), 0);
    assert_int_equal(psi_merkle_consistency_proof(proof, &count, &r, 3, top), 0);
    assert_int_equal(count, PSI_MERKLE_MAX_CONSISTENCY_HASHES);
    assert_int_equal(cons(3, top, proof, count, old_root, root), 0);
    assert_int_equal(cons(3, top, proof, count - 1, old_root, root), PSI_ERR_VERIFY);
    proof[64][31] ^= 0x80;
    assert_int_equal(cons(3, top, proof, count, old_root, root), PSI_ERR_VERIFY);

    /* Nothing longer is ever generated: scan old sizes near the extremes. */
    for (uint64_t m = 1; m < 200; m++) {
        assert_int_equal(psi_merkle_consistency_proof(proof, &count, &r, m, top), 0);
        assert_true(count <= PSI_MERKLE_MAX_CONSISTENCY_HASHES);
        assert_int_equal(psi_merkle_consistency_proof(proof, &count, &r, top - m, top), 0);
        assert_true(count <= PSI_MERKLE_MAX_CONSISTENCY_HASHES);
        assert_int_equal(psi_merkle_consistency_proof(proof, &count, &r, m, (uint64_t)1 << 63), 0);
        assert_true(count <= 64);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hasher_vectors),
        cmocka_unit_test(test_standard_tree),
        cmocka_unit_test(test_frontier_roots_and_sink),
        cmocka_unit_test(test_inclusion_vectors),
        cmocka_unit_test(test_consistency_vectors),
        cmocka_unit_test(test_inclusion_probes),
        cmocka_unit_test(test_consistency_probes),
        cmocka_unit_test(test_consistency_from_size_zero),
        cmocka_unit_test(test_all_proofs_up_to_64),
        cmocka_unit_test(test_proof_cost_with_stored_subtrees),
        cmocka_unit_test(test_range_subtrees),
        cmocka_unit_test(test_frontier_errors),
        cmocka_unit_test(test_reader_errors),
        cmocka_unit_test(test_huge_sizes),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
