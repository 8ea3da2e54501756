/* Fuzz target: verification of inclusion and consistency proofs, whose sizes,
 * index, hashes and proof come from a hub or a mirror. Input: a mode byte,
 * two big-endian u64 (a, b), then 32-byte hashes.
 *   mode 0  verify inclusion of hash 0 at index a in size b, root hash 1,
 *           proof = the hashes after;
 *   mode 1  verify consistency from size a (root hash 0) to b (root hash 1);
 *   mode 2  in a tree of b % 600 + 1 made-up leaves, prove leaf a % size:
 *           the true proof must verify and the proof with one bit flipped
 *           (chosen by the next byte) must not;
 *   mode 3  the same for consistency from a % (size + 1) to size. */
#include "fuzz.h"
#include "psi/error.h"

static uint64_t u64be(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char hashes[2 + PSI_MERKLE_MAX_PROOF_HASHES + 1][32];
    if (size < 17)
        return 0;
    unsigned mode = data[0] & 3;
    uint64_t a = u64be(data + 1), b = u64be(data + 9);
    size_t n = (size - 17) / 32;
    if (n > sizeof hashes / 32)
        n = sizeof hashes / 32;
    memset(hashes, 0, sizeof hashes);
    memcpy(hashes, data + 17, n * 32);
    size_t proof_n = n > 2 ? n - 2 : 0;
    const unsigned char(*proof)[32] = (const unsigned char(*)[32])hashes + 2;
    if (mode == 0) {
        int rc = psi_merkle_verify_inclusion(hashes[0], a, b, proof, proof_n, hashes[1]);
        FUZZ_CHECK(rc == 0 || rc == PSI_ERR_VERIFY, "inclusion verifies or PSI_ERR_VERIFY");
        return 0;
    }
    if (mode == 1) {
        int rc = psi_merkle_verify_consistency(a, b, proof, proof_n, hashes[0], hashes[1]);
        FUZZ_CHECK(rc == 0 || rc == PSI_ERR_VERIFY, "consistency verifies or PSI_ERR_VERIFY");
        return 0;
    }
    const struct psi_merkle_reader reader = {NULL, fuzz_merkle_leaf, NULL};
    uint64_t tree = b % 600 + 1;
    unsigned flip = size > 17 ? data[17] : 0;
    unsigned char root[32], old_root[32], path[PSI_MERKLE_MAX_PROOF_HASHES][32];
    size_t count = 0;
    FUZZ_CHECK(psi_merkle_root(root, &reader, tree) == 0, "a root of a small tree");
    if (mode == 2) {
        uint64_t index = a % tree;
        unsigned char leaf_hash[32];
        (void)fuzz_merkle_leaf(NULL, index, leaf_hash);
        FUZZ_CHECK(psi_merkle_inclusion_proof(path, &count, &reader, index, tree) == 0, "a proof");
        FUZZ_CHECK(psi_merkle_verify_inclusion(leaf_hash, index, tree,
                                               (const unsigned char(*)[32])path, count, root) == 0,
                   "a true inclusion proof verifies");
        unsigned char *bit =
            count > 0 && flip % (count + 1) < count ? path[flip % (count + 1)] : root;
        bit[(flip >> 3) % 32] ^= (unsigned char)(1u << (flip & 7));
        FUZZ_CHECK(psi_merkle_verify_inclusion(leaf_hash, index, tree,
                                               (const unsigned char(*)[32])path, count,
                                               root) == PSI_ERR_VERIFY,
                   "an inclusion proof with a bit flipped does not verify");
        return 0;
    }
    uint64_t old_size = a % (tree + 1);
    FUZZ_CHECK(psi_merkle_root(old_root, &reader, old_size) == 0, "a root of the old tree");
    FUZZ_CHECK(psi_merkle_consistency_proof(path, &count, &reader, old_size, tree) == 0, "a proof");
    FUZZ_CHECK(psi_merkle_verify_consistency(old_size, tree, (const unsigned char(*)[32])path,
                                             count, old_root, root) == 0,
               "a true consistency proof verifies");
    unsigned char *bit =
        count > 0 && flip % (count + 1) < count ? path[flip % (count + 1)] : old_root;
    bit[(flip >> 3) % 32] ^= (unsigned char)(1u << (flip & 7));
    FUZZ_CHECK(psi_merkle_verify_consistency(old_size, tree, (const unsigned char(*)[32])path,
                                             count, old_root, root) == PSI_ERR_VERIFY,
               "a consistency proof with a bit flipped does not verify");
    return 0;
}
