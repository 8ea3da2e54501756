/*
 * The audit log's Merkle tree: RFC 6962 / RFC 9162 (section 2.1) hashing,
 * roots, inclusion and consistency proofs, and their verification.
 *
 * Hashes are SHA-256 (libsodium): leaf = SHA-256(0x00 || entry), node =
 * SHA-256(0x01 || left || right), the empty tree's root = SHA-256(""). Tree
 * sizes and indices are uint64_t. The module never allocates and never does
 * I/O: proofs are built through a reader whose callbacks fetch leaf hashes
 * (and, optionally, stored hashes of complete subtrees) from wherever the
 * hub keeps them. With subtree hashes stored, a root or proof costs O(log n)
 * callbacks; with leaf hashes alone it costs O(n) hashing, so a store should
 * keep the subtree hashes that psi_merkle_frontier_append and
 * psi_merkle_range_subtrees hand out.
 *
 * Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 to the letter.
 * As there, a tree size only fixes the shape of a proof: a proof can also
 * verify for a neighbouring size of the same shape against the same root.
 * Sizes are bound to roots by the signed checkpoint, so callers take size
 * and root together from one verified checkpoint (psi/checkpoint.h).
 * Policy for consistency from the empty tree (public verifiers disagree; this
 * is the C2SP tlog-witness rule): from size 0 to any size n, the proof must be
 * empty and the old root must be the empty-tree root SHA-256("") (and for
 * n == 0 the new root too); nothing else is accepted from size 0.
 */
#ifndef PSI_MERKLE_H
#define PSI_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "psi/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PSI_MERKLE_HASH_BYTES 32U
/* An inclusion proof in a tree of up to 2^64-1 leaves has at most 64 hashes. */
#define PSI_MERKLE_MAX_INCLUSION_HASHES 64U
/* A consistency proof has at most 64 hashes while the new size is at most
 * 2^63, and at most 65 above (e.g. 3 -> 2^64-1). */
#define PSI_MERKLE_MAX_CONSISTENCY_HASHES 65U
/* Room for either kind of proof. */
#define PSI_MERKLE_MAX_PROOF_HASHES 65U
/* The frontier of a tree holds one hash per set bit of its size. */
#define PSI_MERKLE_FRONTIER_MAX_HASHES 64U

/* SHA-256(0x00 || entry). `entry` may be NULL when entry_len is 0. */
PSI_EXPORT void psi_merkle_leaf_hash(unsigned char hash[32], const unsigned char *entry,
                                     size_t entry_len);

/* SHA-256(0x01 || left || right). */
PSI_EXPORT void psi_merkle_node_hash(unsigned char hash[32], const unsigned char left[32],
                                     const unsigned char right[32]);

/* SHA-256(""), the root of the empty tree. */
PSI_EXPORT void psi_merkle_empty_root(unsigned char root[32]);

/*
 * Where proofs read hashes from. A "complete subtree" (level l, index i) is
 * the perfect subtree over leaves [i * 2^l, (i + 1) * 2^l); level 0 is a leaf.
 *
 * leaf_hash (required): the leaf hash at `index`; 0, or a negative psi_error
 *   that the proof function passes back unchanged.
 * subtree_hash (optional, may be NULL; only asked for level >= 1): 0 with the
 *   stored hash, PSI_ERR_NOT_FOUND if the store does not have it (it is then
 *   computed from its two children), or another negative psi_error to stop.
 * The module only asks for leaves and subtrees inside the tree size given to
 * the call, and trusts what the callbacks return.
 */
struct psi_merkle_reader {
    void *ctx;
    int (*leaf_hash)(void *ctx, uint64_t index, unsigned char hash[32]);
    int (*subtree_hash)(void *ctx, unsigned level, uint64_t index, unsigned char hash[32]);
};

/* Receives the hash of a complete subtree of level >= 1 (never the leaves
 * themselves) for the store; 0 to go on, a negative psi_error to stop. */
typedef int (*psi_merkle_subtree_sink)(void *ctx, unsigned level, uint64_t index,
                                       const unsigned char hash[32]);

/* MTH of the first `size` leaves (size 0 gives SHA-256("")). 0, PSI_ERR_INVALID
 * for a reader without leaf_hash, or a callback's error. */
PSI_EXPORT PSI_MUST_CHECK int
psi_merkle_root(unsigned char root[32], const struct psi_merkle_reader *reader, uint64_t size);

/* The hash of the complete subtree (level, index), i.e. MTH of leaves
 * [index * 2^level, (index + 1) * 2^level); level <= 63 (level 64 would be the
 * whole 2^64-leaf tree). 0, PSI_ERR_INVALID for a level above 63 or an index
 * whose leaves pass 2^64-1, or a callback's error. */
PSI_EXPORT PSI_MUST_CHECK int psi_merkle_subtree_hash(unsigned char hash[32],
                                                      const struct psi_merkle_reader *reader,
                                                      unsigned level, uint64_t index);

/* RFC 9162 PATH(index, D[0:size]), leaf to root (the leaf's sibling first).
 * *count gets the number of hashes written (at most 64). 0, PSI_ERR_INVALID if
 * index >= size, or a callback's error. */
PSI_EXPORT PSI_MUST_CHECK int
psi_merkle_inclusion_proof(unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], size_t *count,
                           const struct psi_merkle_reader *reader, uint64_t index, uint64_t size);

/* RFC 9162 PROOF(old_size, D[0:new_size]) in the RFC's order. For
 * old_size == new_size, and for old_size == 0 (see the policy above), the
 * proof is empty. 0, PSI_ERR_INVALID if old_size > new_size, or a callback's
 * error. */
PSI_EXPORT PSI_MUST_CHECK int
psi_merkle_consistency_proof(unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], size_t *count,
                             const struct psi_merkle_reader *reader, uint64_t old_size,
                             uint64_t new_size);

/* RFC 9162 section 2.1.3.2: 0 if `proof` proves that `leaf_hash` is leaf
 * `index` of the tree of `size` leaves with root `root`; PSI_ERR_VERIFY
 * otherwise (including index >= size, a proof too short or too long, and any
 * changed bit), PSI_ERR_INVALID for NULL pointers. */
PSI_EXPORT PSI_MUST_CHECK int psi_merkle_verify_inclusion(const unsigned char leaf_hash[32],
                                                          uint64_t index, uint64_t size,
                                                          const unsigned char (*proof)[32],
                                                          size_t proof_count,
                                                          const unsigned char root[32]);

/* RFC 9162 section 2.1.4.2: 0 if `proof` proves that the tree of old_size
 * leaves with root old_root is a prefix of the tree of new_size leaves with
 * root new_root; PSI_ERR_VERIFY otherwise (old_size > new_size, equal sizes
 * with a proof or with different roots, an empty proof for
 * 0 < old_size < new_size, any changed bit); PSI_ERR_INVALID for NULL
 * pointers. Size 0: see the policy above. */
PSI_EXPORT PSI_MUST_CHECK int psi_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                                            const unsigned char (*proof)[32],
                                                            size_t proof_count,
                                                            const unsigned char old_root[32],
                                                            const unsigned char new_root[32]);

/*
 * The frontier (compact range) of a tree: the roots of the complete subtrees
 * that the binary decomposition of `size` cuts the tree into, largest (left)
 * first, one per set bit of size. It is all a writer needs to append leaves
 * and compute roots in O(log n), and it is what the hub persists:
 * `size` and the first psi_merkle_frontier_count() hashes.
 */
struct psi_merkle_frontier {
    uint64_t size;
    unsigned char hashes[PSI_MERKLE_FRONTIER_MAX_HASHES][32];
};

/* The frontier of the empty tree. */
PSI_EXPORT void psi_merkle_frontier_init(struct psi_merkle_frontier *frontier);

/* Number of hashes in the frontier (the number of set bits of its size). */
PSI_EXPORT size_t psi_merkle_frontier_count(const struct psi_merkle_frontier *frontier);

/* Restores a persisted frontier. 0, or PSI_ERR_INVALID if `count` is not the
 * number of set bits of `size` (the frontier is then left empty). The hashes
 * themselves cannot be checked here: compare the root with a signed one. */
PSI_EXPORT PSI_MUST_CHECK int psi_merkle_frontier_load(struct psi_merkle_frontier *frontier,
                                                       uint64_t size,
                                                       const unsigned char (*hashes)[32],
                                                       size_t count);

/* Rebuilds the frontier of the first `size` leaves from a reader (O(log n)
 * callbacks when subtree hashes are stored). 0 or a callback's error. */
PSI_EXPORT PSI_MUST_CHECK int
psi_merkle_frontier_from_reader(struct psi_merkle_frontier *frontier,
                                const struct psi_merkle_reader *reader, uint64_t size);

/* Appends one leaf hash (leaf index = the old size). Every complete subtree
 * of level >= 1 that this append completes is handed to `sink` (if not NULL)
 * before the frontier changes; if the sink fails, the frontier is left as it
 * was and its error is returned. PSI_ERR_TOO_LARGE at size 2^64-1. */
PSI_EXPORT PSI_MUST_CHECK int psi_merkle_frontier_append(struct psi_merkle_frontier *frontier,
                                                         const unsigned char leaf_hash[32],
                                                         psi_merkle_subtree_sink sink,
                                                         void *sink_ctx);

/* The root of the tree the frontier describes (SHA-256("") when empty). */
PSI_EXPORT void psi_merkle_frontier_root(unsigned char root[32],
                                         const struct psi_merkle_frontier *frontier);

/* Given the leaf hashes of leaves [first_index, first_index + count), hands
 * to `sink` every complete subtree of level >= 1 lying wholly inside that
 * range, each exactly once, in order of completion (left to right, children
 * before parents). A range aligned to 2^8 leaves yields all the interior
 * hashes of a tile. 0, PSI_ERR_INVALID if the range passes 2^64-1 or
 * leaf_hashes is NULL with count > 0, or the sink's error. */
PSI_EXPORT PSI_MUST_CHECK int psi_merkle_range_subtrees(uint64_t first_index,
                                                        const unsigned char (*leaf_hashes)[32],
                                                        size_t count, psi_merkle_subtree_sink sink,
                                                        void *sink_ctx);

#ifdef __cplusplus
}
#endif
#endif
