#include "psi/merkle.h"

#include <string.h>

#include <sodium.h>

#include "psi/error.h"

void psi_merkle_leaf_hash(unsigned char hash[32], const unsigned char *entry, size_t entry_len)
{
    static const unsigned char leaf_prefix = 0x00;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &leaf_prefix, 1);
    if (entry_len > 0)
        crypto_hash_sha256_update(&st, entry, entry_len);
    crypto_hash_sha256_final(&st, hash);
}

void psi_merkle_node_hash(unsigned char hash[32], const unsigned char left[32],
                          const unsigned char right[32])
{
    unsigned char buf[1 + 64];
    buf[0] = 0x01;
    memcpy(buf + 1, left, 32);
    memcpy(buf + 33, right, 32);
    /* hash may alias left or right: the input is copied first. */
    crypto_hash_sha256(hash, buf, sizeof buf);
}

void psi_merkle_empty_root(unsigned char root[32])
{
    crypto_hash_sha256(root, NULL, 0);
}

/* The largest power of two strictly below n (n >= 2): RFC 6962's split k. */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k <= (n - 1U) / 2U)
        k <<= 1;
    return k;
}

static int is_pow2(uint64_t n)
{
    return n != 0 && (n & (n - 1U)) == 0;
}

static unsigned log2_pow2(uint64_t n)
{
    unsigned l = 0;
    while (n > 1U) {
        n >>= 1;
        l++;
    }
    return l;
}

static int subtree(const struct psi_merkle_reader *r, unsigned level, uint64_t index,
                   unsigned char out[32])
{
    unsigned char left[32], right[32];
    int rc;

    if (level == 0)
        return r->leaf_hash(r->ctx, index, out);
    if (r->subtree_hash != NULL) {
        rc = r->subtree_hash(r->ctx, level, index, out);
        if (rc != PSI_ERR_NOT_FOUND)
            return rc;
    }
    if ((rc = subtree(r, level - 1U, index * 2U, left)) != 0)
        return rc;
    if ((rc = subtree(r, level - 1U, index * 2U + 1U, right)) != 0)
        return rc;
    psi_merkle_node_hash(out, left, right);
    return PSI_OK;
}

/* MTH(D[lo:hi]), lo < hi, by the RFC recursion, reading any aligned complete
 * subtree in one step. */
static int range_hash(const struct psi_merkle_reader *r, uint64_t lo, uint64_t hi,
                      unsigned char out[32])
{
    uint64_t n = hi - lo;
    uint64_t k;
    unsigned char left[32], right[32];
    int rc;

    if (is_pow2(n) && (lo & (n - 1U)) == 0) {
        unsigned level = log2_pow2(n);
        return subtree(r, level, lo >> level, out);
    }
    k = split_point(n);
    if ((rc = range_hash(r, lo, lo + k, left)) != 0)
        return rc;
    if ((rc = range_hash(r, lo + k, hi, right)) != 0)
        return rc;
    psi_merkle_node_hash(out, left, right);
    return PSI_OK;
}

static int reader_ok(const struct psi_merkle_reader *r)
{
    return r != NULL && r->leaf_hash != NULL;
}

int psi_merkle_subtree_hash(unsigned char hash[32], const struct psi_merkle_reader *reader,
                            unsigned level, uint64_t index)
{
    if (!reader_ok(reader) || hash == NULL || level > 63U || index > (UINT64_MAX >> level))
        return PSI_ERR_INVALID;
    return subtree(reader, level, index, hash);
}

int psi_merkle_root(unsigned char root[32], const struct psi_merkle_reader *reader, uint64_t size)
{
    if (root == NULL || !reader_ok(reader))
        return PSI_ERR_INVALID;
    if (size == 0) {
        psi_merkle_empty_root(root);
        return PSI_OK;
    }
    return range_hash(reader, 0, size, root);
}

/* Proof hashes are found root first; proofs list them leaf first. */
static void reverse_hashes(unsigned char (*h)[32], size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char t[32];
        memcpy(t, h[i], 32);
        memcpy(h[i], h[n - 1 - i], 32);
        memcpy(h[n - 1 - i], t, 32);
    }
}

int psi_merkle_inclusion_proof(unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], size_t *count,
                               const struct psi_merkle_reader *reader, uint64_t index,
                               uint64_t size)
{
    uint64_t lo = 0, hi = size;
    size_t n = 0;
    int rc;

    if (count == NULL)
        return PSI_ERR_INVALID;
    *count = 0;
    if (proof == NULL || !reader_ok(reader) || index >= size)
        return PSI_ERR_INVALID;
    while (hi - lo > 1U) {
        uint64_t k = split_point(hi - lo);
        if (index < lo + k) {
            rc = range_hash(reader, lo + k, hi, proof[n]);
            hi = lo + k;
        } else {
            rc = range_hash(reader, lo, lo + k, proof[n]);
            lo += k;
        }
        if (rc != 0)
            return rc;
        n++; /* at most 64: each step at least halves hi - lo */
    }
    reverse_hashes(proof, n);
    *count = n;
    return PSI_OK;
}

int psi_merkle_consistency_proof(unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32],
                                 size_t *count, const struct psi_merkle_reader *reader,
                                 uint64_t old_size, uint64_t new_size)
{
    uint64_t lo = 0, hi = new_size;
    int whole_old_tree = 1; /* the RFC's flag b: still on the old tree's left edge */
    size_t n = 0;
    int rc;

    if (count == NULL)
        return PSI_ERR_INVALID;
    *count = 0;
    if (proof == NULL || !reader_ok(reader) || old_size > new_size)
        return PSI_ERR_INVALID;
    if (old_size == 0 || old_size == new_size)
        return PSI_OK;
    /* Invariant: lo < old_size <= hi. */
    while (old_size != hi) {
        uint64_t k = split_point(hi - lo);
        if (old_size <= lo + k) {
            rc = range_hash(reader, lo + k, hi, proof[n]);
            hi = lo + k;
        } else {
            rc = range_hash(reader, lo, lo + k, proof[n]);
            lo += k;
            whole_old_tree = 0;
        }
        if (rc != 0)
            return rc;
        n++;
    }
    if (!whole_old_tree) {
        if ((rc = range_hash(reader, lo, hi, proof[n])) != 0)
            return rc;
        n++;
    }
    reverse_hashes(proof, n);
    *count = n;
    return PSI_OK;
}

static int roots_equal(const unsigned char a[32], const unsigned char b[32])
{
    return sodium_memcmp(a, b, 32) == 0;
}

int psi_merkle_verify_inclusion(const unsigned char leaf_hash[32], uint64_t index, uint64_t size,
                                const unsigned char (*proof)[32], size_t proof_count,
                                const unsigned char root[32])
{
    uint64_t fn, sn;
    unsigned char r[32];

    if (leaf_hash == NULL || root == NULL || (proof == NULL && proof_count > 0))
        return PSI_ERR_INVALID;
    if (index >= size)
        return PSI_ERR_VERIFY;
    fn = index;
    sn = size - 1U;
    memcpy(r, leaf_hash, 32);
    for (size_t i = 0; i < proof_count; i++) {
        if (sn == 0)
            return PSI_ERR_VERIFY;
        if ((fn & 1U) != 0 || fn == sn) {
            psi_merkle_node_hash(r, proof[i], r);
            if ((fn & 1U) == 0) {
                while ((fn & 1U) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            psi_merkle_node_hash(r, r, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || !roots_equal(r, root))
        return PSI_ERR_VERIFY;
    return PSI_OK;
}

int psi_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                  const unsigned char (*proof)[32], size_t proof_count,
                                  const unsigned char old_root[32],
                                  const unsigned char new_root[32])
{
    const unsigned char *first;
    size_t next;
    uint64_t fn, sn;
    unsigned char fr[32], sr[32];

    if (old_root == NULL || new_root == NULL || (proof == NULL && proof_count > 0))
        return PSI_ERR_INVALID;
    if (old_size > new_size)
        return PSI_ERR_VERIFY;
    if (old_size == 0) {
        /* The empty tree is a prefix of every tree; all there is to check is
         * that the old root really is the empty tree's (policy: header). */
        unsigned char empty[32];
        psi_merkle_empty_root(empty);
        if (proof_count != 0 || !roots_equal(old_root, empty))
            return PSI_ERR_VERIFY;
        if (new_size == 0 && !roots_equal(new_root, empty))
            return PSI_ERR_VERIFY;
        return PSI_OK;
    }
    if (old_size == new_size) {
        if (proof_count != 0 || !roots_equal(old_root, new_root))
            return PSI_ERR_VERIFY;
        return PSI_OK;
    }
    if (proof_count == 0)
        return PSI_ERR_VERIFY;
    /* For a power-of-two old size the old root is the proof's implicit first
     * element; it is not copied in, just read from old_root. */
    if (is_pow2(old_size)) {
        first = old_root;
        next = 0;
    } else {
        first = proof[0];
        next = 1;
    }
    fn = old_size - 1U;
    sn = new_size - 1U;
    while ((fn & 1U) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    memcpy(fr, first, 32);
    memcpy(sr, first, 32);
    for (size_t i = next; i < proof_count; i++) {
        if (sn == 0)
            return PSI_ERR_VERIFY;
        if ((fn & 1U) != 0 || fn == sn) {
            psi_merkle_node_hash(fr, proof[i], fr);
            psi_merkle_node_hash(sr, proof[i], sr);
            if ((fn & 1U) == 0) {
                while ((fn & 1U) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            psi_merkle_node_hash(sr, sr, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || !roots_equal(fr, old_root) || !roots_equal(sr, new_root))
        return PSI_ERR_VERIFY;
    return PSI_OK;
}

static size_t popcount64(uint64_t v)
{
    size_t n = 0;
    while (v != 0) {
        v &= v - 1U;
        n++;
    }
    return n;
}

void psi_merkle_frontier_init(struct psi_merkle_frontier *frontier)
{
    memset(frontier, 0, sizeof *frontier);
}

size_t psi_merkle_frontier_count(const struct psi_merkle_frontier *frontier)
{
    return popcount64(frontier->size);
}

int psi_merkle_frontier_load(struct psi_merkle_frontier *frontier, uint64_t size,
                             const unsigned char (*hashes)[32], size_t count)
{
    if (frontier == NULL)
        return PSI_ERR_INVALID;
    psi_merkle_frontier_init(frontier);
    if (count != popcount64(size) || (hashes == NULL && count > 0))
        return PSI_ERR_INVALID;
    if (count > 0)
        memcpy(frontier->hashes, hashes, count * 32U);
    frontier->size = size;
    return PSI_OK;
}

int psi_merkle_frontier_from_reader(struct psi_merkle_frontier *frontier,
                                    const struct psi_merkle_reader *reader, uint64_t size)
{
    uint64_t start = 0;
    size_t n = 0;
    struct psi_merkle_frontier f;

    if (frontier == NULL || !reader_ok(reader))
        return PSI_ERR_INVALID;
    psi_merkle_frontier_init(&f);
    for (unsigned level = 64; level-- > 0;) {
        uint64_t bit = (uint64_t)1 << level;
        if ((size & bit) == 0)
            continue;
        int rc = subtree(reader, level, start >> level, f.hashes[n]);
        if (rc != 0)
            return rc;
        n++;
        start += bit;
    }
    f.size = size;
    *frontier = f;
    return PSI_OK;
}

int psi_merkle_frontier_append(struct psi_merkle_frontier *frontier,
                               const unsigned char leaf_hash[32], psi_merkle_subtree_sink sink,
                               void *sink_ctx)
{
    unsigned char node[32];
    uint64_t new_size, s;
    size_t n;
    unsigned level = 0;

    if (frontier == NULL || leaf_hash == NULL)
        return PSI_ERR_INVALID;
    if (frontier->size == UINT64_MAX)
        return PSI_ERR_TOO_LARGE;
    new_size = frontier->size + 1U;
    n = popcount64(frontier->size);
    memcpy(node, leaf_hash, 32);
    /* Each trailing one bit of the old size is a subtree of the same level
     * waiting for a right sibling: the new leaf completes them in turn. The
     * frontier is only read here, so a failing sink leaves it untouched. */
    for (s = frontier->size; (s & 1U) != 0; s >>= 1) {
        psi_merkle_node_hash(node, frontier->hashes[n - 1], node);
        n--;
        level++;
        if (sink != NULL) {
            int rc = sink(sink_ctx, level, (new_size >> level) - 1U, node);
            if (rc != 0)
                return rc;
        }
    }
    memcpy(frontier->hashes[n], node, 32);
    frontier->size = new_size;
    return PSI_OK;
}

void psi_merkle_frontier_root(unsigned char root[32], const struct psi_merkle_frontier *frontier)
{
    size_t n = popcount64(frontier->size);
    if (n == 0) {
        psi_merkle_empty_root(root);
        return;
    }
    memcpy(root, frontier->hashes[n - 1], 32);
    while (n-- > 1)
        psi_merkle_node_hash(root, frontier->hashes[n - 1], root);
}

int psi_merkle_range_subtrees(uint64_t first_index, const unsigned char (*leaf_hashes)[32],
                              size_t count, psi_merkle_subtree_sink sink, void *sink_ctx)
{
    /* Left children waiting for their right sibling: even indices only, with
     * strictly decreasing levels, so 64 entries suffice. */
    struct pending {
        unsigned level;
        uint64_t index;
        unsigned char hash[32];
    } stack[64];
    size_t depth = 0;

    if ((leaf_hashes == NULL && count > 0) || sink == NULL)
        return PSI_ERR_INVALID;
    if (count > 0 && (uint64_t)(count - 1U) > UINT64_MAX - first_index)
        return PSI_ERR_INVALID;
    for (size_t i = 0; i < count; i++) {
        struct pending cur;
        cur.level = 0;
        cur.index = first_index + i;
        memcpy(cur.hash, leaf_hashes[i], 32);
        for (;;) {
            if ((cur.index & 1U) == 0) {
                if (depth == sizeof stack / sizeof stack[0])
                    return PSI_ERR_INVALID; /* unreachable: levels decrease */
                stack[depth++] = cur;
                break;
            }
            /* A right child: its parent lies in the range only if the left
             * sibling does, which is then on top of the stack. */
            if (depth == 0 || stack[depth - 1].level != cur.level ||
                stack[depth - 1].index != cur.index - 1U)
                break;
            depth--;
            psi_merkle_node_hash(cur.hash, stack[depth].hash, cur.hash);
            cur.level++;
            cur.index >>= 1;
            int rc = sink(sink_ctx, cur.level, cur.index, cur.hash);
            if (rc != 0)
                return rc;
            if (cur.level == 64)
                break;
        }
    }
    return PSI_OK;
}
